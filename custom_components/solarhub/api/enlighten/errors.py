"""The Enlighten members of the client error family (all subclasses of :mod:`..errors`).

Over a plan limit, the clients raise the shared :class:`~..errors.RateLimitedError`: v2's 409
with ``period`` (minute or month), ``period_end`` and ``limit`` from its body; v4's 429 with
``period`` UNKNOWN (the planner infers it from its ledger) unless the body says more.
"""

from __future__ import annotations

from ..errors import (
    ApiConnectionError,
    AuthenticationError,
    PermissionDeniedError,
    SolarHubApiError,
)


class ConcurrentRequestsError(ApiConnectionError):
    """HTTP 503: too many concurrent requests on this API key (requests are serialised already)."""


class TemporarilyUnavailableError(ApiConnectionError):
    """HTTP 500 with ``errorCode`` 7, "Data temporarily unavailable": keep the last data."""


class InvalidDatesError(SolarHubApiError):
    """HTTP 422: the requested dates or times are invalid for this system."""


class UnknownUserError(AuthenticationError):
    """v2: the API key was accepted but the ``user_id`` is unknown (a 401 naming the user)."""


class KeyClientMismatchError(AuthenticationError):
    """v4: the API key belongs to another app than the OAuth2 token ("API Key -Client mismatch").

    The user must enter the key of the app they authorised: a field error, not a reauth.
    """


class PlanNotPermittedError(PermissionDeniedError):
    """v4: the key's plan does not include this endpoint (a 401 whose text names the plan)."""
