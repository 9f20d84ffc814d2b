"""The error family shared by every vendor client."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime


class SolarHubApiError(Exception):
    """Base class of every error a SolarHub client raises."""


class ApiConnectionError(SolarHubApiError):
    """The device or cloud could not be reached, timed out or reported a transient server error."""


class SessionLostError(ApiConnectionError):
    """A session or token just granted by a successful login was refused: retry next cycle.

    The login proved the credentials right, so this is not a reason to ask for them again.
    """


class MalformedResponseError(SolarHubApiError):
    """The answer could not be understood (not JSON, wrong shape, unparsable values)."""


class ResponseTooLargeError(MalformedResponseError):
    """The answer was longer than the call accepts; it was not read to its end."""


class RedirectRefusedError(SolarHubApiError):
    """The answer was a redirect (3xx); redirects are never followed."""


class AuthenticationError(SolarHubApiError):
    """The credentials were refused, or a session could not be re-established."""


class SessionRejectedError(AuthenticationError):
    """A call made with a session or token got a 401: the client logs in again once.

    Clients raise it only inside :func:`.http.with_relogin`, which never lets it out.
    """


class AccountLockedError(AuthenticationError):
    """The account is locked after too many failed logins; retrying makes it worse.

    ``retry_after`` is how long to wait, in seconds, before trying to log in again.
    """

    def __init__(self, message: str, retry_after: float = 600.0) -> None:
        """Keep how long to wait before the next login."""
        super().__init__(message)
        self.retry_after = retry_after


class InvalidServiceCodeError(AuthenticationError):
    """The Master Key was accepted but the service code was not (installer login)."""


class PermissionDeniedError(SolarHubApiError):
    """The logged-in role may not perform this action."""


class NotFoundError(SolarHubApiError):
    """The requested module, id or resource does not exist on this device or account."""


class UnsupportedDeviceError(SolarHubApiError):
    """The host answered, but it is not the kind of device this client speaks to."""


class RatePeriod(StrEnum):
    """The period of a request budget, as the vendor said it."""

    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"
    UNKNOWN = "unknown"


class RateLimitedError(SolarHubApiError):
    """The vendor asks us to slow down.

    ``retry_after``: the wait in seconds; ``period``: which budget ran out (a minute's throttle
    or a month's quota), ``UNKNOWN`` when the vendor did not say; ``period_end``: when that
    period ends (aware), ``None`` if not said; ``limit``: the budget's size, if said.
    """

    def __init__(
        self,
        message: str,
        retry_after: float,
        *,
        period: RatePeriod = RatePeriod.UNKNOWN,
        period_end: datetime | None = None,
        limit: int | None = None,
    ) -> None:
        """Keep the wait the vendor asked for and what it said of the budget."""
        if period_end is not None and period_end.tzinfo is None:
            raise ValueError("period_end must be aware")
        super().__init__(message)
        self.retry_after = retry_after
        self.period = period
        self.period_end = period_end
        self.limit = limit
