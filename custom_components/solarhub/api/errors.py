"""The error family shared by every vendor client."""

from __future__ import annotations


class SolarHubApiError(Exception):
    """Base class of every error a SolarHub client raises."""


class ApiConnectionError(SolarHubApiError):
    """The device or cloud could not be reached, timed out or reported a transient server error."""


class MalformedResponseError(SolarHubApiError):
    """The answer could not be understood (not JSON, wrong shape, unparsable values)."""


class AuthenticationError(SolarHubApiError):
    """The credentials were refused, or a session could not be re-established."""


class AccountLockedError(AuthenticationError):
    """The account is locked after too many failed logins; retrying makes it worse."""


class InvalidServiceCodeError(AuthenticationError):
    """The Master Key was accepted but the service code was not (installer login)."""


class PermissionDeniedError(SolarHubApiError):
    """The logged-in role may not perform this action."""


class NotFoundError(SolarHubApiError):
    """The requested module, id or resource does not exist on this device or account."""


class UnsupportedDeviceError(SolarHubApiError):
    """The host answered, but it is not the kind of device this client speaks to."""


class RateLimitedError(SolarHubApiError):
    """The vendor asks us to slow down; ``retry_after`` is the wait in seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        """Keep the wait the vendor asked for."""
        super().__init__(message)
        self.retry_after = retry_after
