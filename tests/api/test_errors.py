"""The error family: what RateLimitedError and AccountLockedError carry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from custom_components.solarhub.api.errors import (
    AccountLockedError,
    ApiConnectionError,
    AuthenticationError,
    RateLimitedError,
    RatePeriod,
    SessionLostError,
)


def test_rate_limited_error_says_the_period_when_the_vendor_does() -> None:
    month_end = datetime(2026, 7, 1, tzinfo=UTC)
    err = RateLimitedError(
        "quota", 3600.0, period=RatePeriod.MONTH, period_end=month_end, limit=10_000
    )
    assert (err.retry_after, err.period, err.period_end, err.limit) == (
        3600.0,
        RatePeriod.MONTH,
        month_end,
        10_000,
    )


def test_rate_limited_error_defaults_to_an_unknown_period() -> None:
    err = RateLimitedError("slow down", 60.0)
    assert (err.period, err.period_end, err.limit) == (RatePeriod.UNKNOWN, None, None)
    assert str(err) == "slow down"


def test_rate_limited_error_refuses_a_naive_period_end() -> None:
    with pytest.raises(ValueError, match="aware"):
        RateLimitedError("x", 1.0, period=RatePeriod.MINUTE, period_end=datetime(2026, 7, 1))


def test_a_lock_is_an_authentication_error_with_a_wait() -> None:
    assert AccountLockedError("locked").retry_after == 600.0
    assert AccountLockedError("locked", 30.0).retry_after == 30.0
    assert isinstance(AccountLockedError("locked"), AuthenticationError)


def test_a_lost_session_is_no_authentication_error() -> None:
    assert isinstance(SessionLostError("x"), ApiConnectionError)
    assert not isinstance(SessionLostError("x"), AuthenticationError)
