"""Client of the Enphase Enlighten cloud: Systems API v2 and Monitoring API v4.

:mod:`.client` holds the interface (:class:`~.client.EnlightenClient`) and its two transports,
:mod:`.models` the frozen dataclasses both return, :mod:`.parsers` the pure readers of every
answer, :mod:`.errors` the Enlighten members of the error family and :mod:`.transport` the GET
on the shared HTTP exchange (serialised per API key, secrets kept out of every text).
"""
