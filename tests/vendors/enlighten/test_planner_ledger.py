"""The request ledger and the plans: limits, months, refusals, persistence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json

import pytest

from custom_components.solarhub.vendors.enlighten.ledger import (
    Ledger,
    Period,
    add_month,
    month_start,
)
from custom_components.solarhub.vendors.enlighten.plans import (
    V2_KILOWATT,
    V2_WATT,
    V4_MEGAWATT,
    V4_WATT,
    ApiVersion,
    Plan,
    plan_for,
)

NOW = datetime(2026, 6, 10, 12, 0, 30, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def test_plan_limits_and_derived_cadences() -> None:
    assert (V2_WATT.per_minute, V2_WATT.per_month) == (10, 10_000)
    assert (V4_WATT.per_minute, V4_WATT.per_month) == (10, 1_000)
    assert [V2_WATT.minute_cap, V2_KILOWATT.minute_cap, V4_MEGAWATT.minute_cap] == [9, 45, 90]
    assert plan_for(ApiVersion.V2, "custom", per_minute=1, per_month=100).minute_cap == 1
    assert [V2_WATT.reserve, V4_WATT.reserve] == [300, 30]
    assert plan_for(ApiVersion.V4, "custom", per_minute=5, per_month=12).reserve == 6
    assert V4_WATT.inventory_every == timedelta(days=7)
    assert V2_WATT.inventory_every == timedelta(days=1)
    assert (V2_WATT.token_refreshes_per_day, V4_WATT.token_refreshes_per_day) == (0, 1)
    assert V2_WATT.statistics_span == timedelta(days=1)
    assert V4_WATT.statistics_span == timedelta(days=7)
    assert plan_for(ApiVersion.V4, "kilowatt").per_month == 50_000
    with pytest.raises(ValueError, match="unknown plan"):
        plan_for(ApiVersion.V2, "gigawatt")
    with pytest.raises(ValueError, match="positive"):
        Plan(name="custom", api=ApiVersion.V2, per_minute=0, per_month=10)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 1, 31, 9, tzinfo=UTC), datetime(2026, 2, 28, 9, tzinfo=UTC)),
        (datetime(2028, 1, 30, tzinfo=UTC), datetime(2028, 2, 29, tzinfo=UTC)),
        (datetime(2026, 12, 15, tzinfo=UTC), datetime(2027, 1, 15, tzinfo=UTC)),
        (datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)),
    ],
)
def test_add_month_clamps_the_day(moment: datetime, expected: datetime) -> None:
    assert add_month(moment) == expected


def test_months_are_utc_calendar_months() -> None:
    local = datetime(2026, 7, 1, 1, 0, tzinfo=UTC).astimezone(
        datetime(2026, 7, 1, tzinfo=UTC).astimezone().tzinfo
    )
    assert month_start(local) == datetime(2026, 7, 1, tzinfo=UTC)
    ledger = Ledger.new(NOW)
    assert (ledger.month_begins, ledger.month_ends) == (
        datetime(2026, 6, 1, tzinfo=UTC),
        datetime(2026, 7, 1, tzinfo=UTC),
    )


def test_records_count_this_minute_and_this_month_and_are_pruned() -> None:
    ledger = Ledger.new(NOW)
    for i in range(3):
        ledger.record(NOW + i * SECOND, "summary")
    ledger.record(NOW + 30 * SECOND, "token")
    assert ledger.minute_count(NOW + 30 * SECOND) == 4
    assert ledger.minute_count(NOW + 62 * SECOND) == 1  # a rolling minute
    assert ledger.month_count == 4
    assert ledger.by_kind == {"summary": 3, "token": 1}
    ledger.roll(NOW + 100 * SECOND)
    assert ledger.recent == []  # pruned
    assert ledger.month_remaining(V2_WATT) == 9_996


def test_a_new_month_starts_from_zero() -> None:
    ledger = Ledger.new(NOW)
    ledger.record(NOW, "summary")
    ledger.roll(datetime(2026, 7, 1, tzinfo=UTC))
    assert ledger.month_count == 0
    assert ledger.by_kind == {}
    assert ledger.month_begins == datetime(2026, 7, 1, tzinfo=UTC)
    assert ledger.month_ends == datetime(2026, 8, 1, tzinfo=UTC)


def test_never_above_the_minute_cap() -> None:
    ledger = Ledger.new(NOW)
    for i in range(9):
        assert ledger.earliest(NOW + i * SECOND, V2_WATT) == NOW + i * SECOND
        ledger.record(NOW + i * SECOND, "summary")
    assert ledger.earliest(NOW + 9 * SECOND, V2_WATT) == NOW + 60 * SECOND
    ledger.record(NOW + 60 * SECOND, "summary")
    assert ledger.earliest(NOW + 60 * SECOND, V2_WATT) == NOW + 61 * SECOND


def test_a_spent_month_waits_for_the_next() -> None:
    ledger = Ledger.new(NOW)
    ledger.month_count = V4_WATT.per_month
    assert ledger.earliest(NOW, V4_WATT) == datetime(2026, 7, 1, tzinfo=UTC)
    assert ledger.exhausted_until(NOW, V4_WATT) == datetime(2026, 7, 1, tzinfo=UTC)
    ledger.month_count = 10
    assert ledger.exhausted_until(NOW, V4_WATT) is None


def test_409_minute_stops_the_key_until_period_end_exactly() -> None:
    ledger = Ledger.new(NOW)
    end = datetime(2026, 6, 10, 12, 1, tzinfo=UTC)
    until = ledger.record_conflict(
        NOW, V2_WATT, period=Period.MINUTE, period_start=end - timedelta(minutes=1), period_end=end
    )
    assert until == end
    assert ledger.earliest(NOW, V2_WATT) == end
    assert ledger.exhausted_until(NOW, V2_WATT) is None  # a minute is not an exhausted month
    ledger.roll(end)
    assert ledger.blocked_until is None
    assert ledger.earliest(end, V2_WATT) == end


def test_409_month_adopts_the_period_of_the_server() -> None:
    ledger = Ledger.new(NOW)
    begins = datetime(2026, 5, 15, 7, tzinfo=UTC)
    ends = datetime(2026, 6, 15, 7, tzinfo=UTC)
    until = ledger.record_conflict(
        NOW, V2_WATT, period=Period.MONTH, period_start=begins, period_end=ends, limit=10_000
    )
    assert until == ends
    assert (ledger.month_begins, ledger.month_ends) == (begins, ends)
    assert ledger.month_count == 10_000
    assert ledger.exhausted_until(NOW, V2_WATT) == ends
    assert ledger.earliest(NOW, V2_WATT) == ends
    ledger.roll(ends)
    assert ledger.month_count == 0
    assert ledger.month_ends == datetime(2026, 7, 15, 7, tzinfo=UTC)  # the server's rhythm


def test_a_later_refusal_never_shortens_a_block() -> None:
    ledger = Ledger.new(NOW)
    ledger.record_conflict(NOW, V2_WATT, period=Period.MONTH, period_end=NOW + timedelta(days=2))
    ledger.record_conflict(NOW, V2_WATT, period=Period.MINUTE, period_end=NOW + 30 * SECOND)
    assert ledger.blocked_until == NOW + timedelta(days=2)
    assert ledger.blocked_period is Period.MONTH


def test_429_with_minute_left_is_the_month() -> None:
    ledger = Ledger.new(NOW)
    ledger.record(NOW, "summary")
    until = ledger.record_conflict(NOW, V4_WATT, period=None)
    assert until == datetime(2026, 7, 1, tzinfo=UTC)
    assert ledger.blocked_period is Period.MONTH
    assert ledger.month_count == V4_WATT.per_month
    assert ledger.exhausted_until(NOW, V4_WATT) == until


def test_429_with_the_minute_spent_is_the_minute() -> None:
    ledger = Ledger.new(NOW)
    for i in range(9):
        ledger.record(NOW + i * SECOND, "summary")
    until = ledger.record_conflict(NOW + 9 * SECOND, V4_WATT, period=None)
    assert ledger.blocked_period is Period.MINUTE
    assert until == NOW + 60 * SECOND  # the oldest leaves the rolling minute
    assert ledger.month_count == 9
    ledger2 = Ledger.new(NOW)
    for i in range(9):
        ledger2.record(NOW - 25 * SECOND + i * SECOND, "summary")
    # the oldest leaves at 12:01:05, after the calendar minute's end (12:01:00)
    assert ledger2.record_conflict(NOW, V4_WATT, period=None) == NOW + 35 * SECOND


def test_429_in_the_first_hours_of_the_month_is_the_servers_old_month() -> None:
    begins = datetime(2026, 7, 1, tzinfo=UTC)
    ledger = Ledger.new(begins + timedelta(hours=3))
    ledger.record(begins + timedelta(hours=3), "summary")
    until = ledger.record_conflict(begins + timedelta(hours=3), V4_WATT, period=None)
    assert until == begins + timedelta(hours=14)
    assert ledger.month_count == 1  # our month is not spent
    assert ledger.exhausted_until(begins + timedelta(hours=3), V4_WATT) == until


def test_round_trip_through_json() -> None:
    ledger = Ledger.new(NOW)
    ledger.record(NOW, "summary")
    ledger.record(NOW + SECOND, "statistics:stats")
    ledger.record_conflict(
        NOW + SECOND, V2_WATT, period=Period.MINUTE, period_end=NOW + 40 * SECOND
    )
    restored = Ledger.from_dict(json.loads(json.dumps(ledger.to_dict())), NOW + 2 * SECOND)
    assert restored == ledger


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "ledger",
        {"version": 99, "month_count": 5},
        {"version": 1, "month_begins": "x", "month_ends": None, "month_count": 7},
        {"version": 1, "month_begins": 1, "month_ends": 2, "month_count": 7},
    ],
)
def test_unusable_dicts_give_a_fresh_ledger(data: object) -> None:
    assert Ledger.from_dict(data, NOW) == Ledger.new(NOW)


def test_a_partly_corrupt_dict_keeps_what_is_valid() -> None:
    good = Ledger.new(NOW)
    data = good.to_dict() | {
        "month_count": True,
        "recent": [NOW.timestamp() - 10, "x", -5, NOW.timestamp() + 3600, None],
        "blocked_until": NOW.timestamp() + 20,
        "blocked_period": "fortnight",
        "by_kind": {"summary": 3, "bad": -1},
    }
    restored = Ledger.from_dict(data, NOW)
    assert restored.month_count == 0  # a bool is not a count
    assert restored.recent == [NOW - 10 * SECOND]  # junk and the far future dropped
    assert restored.blocked_until is None  # an unknown period is no block
    stored = good.to_dict() | {"month_count": 42, "by_kind": {"summary": 3, "bad": -1, "x": "y"}}
    restored = Ledger.from_dict(stored, NOW)
    assert restored.month_count == 42
    assert restored.by_kind == {"summary": 3}


def test_an_old_stored_month_rolls_over_and_an_old_block_lifts() -> None:
    old = Ledger.new(datetime(2026, 4, 20, tzinfo=UTC))
    old.month_count = 900
    old.record_conflict(
        datetime(2026, 4, 20, tzinfo=UTC), V4_WATT, period=Period.MONTH, period_end=old.month_ends
    )
    restored = Ledger.from_dict(old.to_dict(), NOW)
    assert restored.month_begins == datetime(2026, 6, 1, tzinfo=UTC)
    assert restored.month_count == 0
    assert restored.blocked_until is None


def test_an_absurd_stored_block_is_ignored() -> None:
    data = Ledger.new(NOW).to_dict() | {
        "blocked_until": NOW.timestamp() + 90 * 86_400,
        "blocked_period": "month",
    }
    assert Ledger.from_dict(data, NOW).blocked_until is None


def test_asking_about_a_later_moment_forgets_nothing() -> None:
    ledger = Ledger.new(datetime(2026, 6, 30, 23, 59, tzinfo=UTC))
    now = datetime(2026, 6, 30, 23, 59, tzinfo=UTC)
    for i in range(9):
        ledger.record(now + i * SECOND, "summary")
    later = datetime(2026, 7, 1, 0, 30, tzinfo=UTC)
    assert ledger.earliest(now + 9 * SECOND, V2_WATT, later) == later
    assert ledger.minute_count(now + 9 * SECOND) == 9  # nothing pruned by the look ahead
    assert ledger.month_count == 9  # and the month did not roll early
    assert ledger.earliest(now + 9 * SECOND, V2_WATT) == now + 60 * SECOND
