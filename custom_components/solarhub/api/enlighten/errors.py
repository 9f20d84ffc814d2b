"""The Enlighten members of the client error family (all subclasses of :mod:`..errors`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ..errors import (
    ApiConnectionError,
    AuthenticationError,
    PermissionDeniedError,
    RateLimitedError,
    SolarHubApiError,
)

type LimitPeriod = Literal["minute", "month"]


class EnlightenRateLimitedError(RateLimitedError):
    """Over a plan limit: v2 409 (with its period) or v4 429 (period unknown: ``None``).

    ``period_end`` is when requests may resume (v2 says it exactly; ``None`` when unknown) and
    ``retry_after`` the seconds from the answer until then (60 when unknown). ``limit`` is the
    number of requests the period allows, where the answer says it.
    """

    def __init__(
        self,
        message: str,
        retry_after: float,
        *,
        period: LimitPeriod | None,
        period_start: datetime | None = None,
        period_end: datetime | None = None,
        limit: int | None = None,
    ) -> None:
        """Keep what the answer said about the limit."""
        super().__init__(message, retry_after)
        self.period: LimitPeriod | None = period
        self.period_start = period_start
        self.period_end = period_end
        self.limit = limit


class ConcurrentRequestsError(ApiConnectionError):
    """HTTP 503: too many concurrent requests on this API key (requests are serialised already)."""


class TemporarilyUnavailableError(ApiConnectionError):
    """HTTP 500 with ``errorCode`` 7, "Data temporarily unavailable": keep the last data."""


class InvalidDatesError(SolarHubApiError):
    """HTTP 422: the requested dates or times are invalid for this system."""


class KeyClientMismatchError(AuthenticationError):
    """v4: the API key belongs to another app than the OAuth2 token ("API Key -Client mismatch").

    The user must enter the key of the app they authorised: a field error, not a reauth.
    """


class PlanNotPermittedError(PermissionDeniedError):
    """v4: the key's plan does not include this endpoint (a 401 whose text names the plan)."""
