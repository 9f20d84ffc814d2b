"""Vendor API clients for SolarHub.

Nothing in this package imports Home Assistant: each client takes an ``aiohttp.ClientSession``
from the caller, returns frozen dataclasses and raises the small error family in :mod:`.errors`.
"""
