"""The planner's rules, one at a time (the month simulation is in test_planner_simulation)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
import json

import pytest

from custom_components.solarhub.vendors.enlighten.ledger import Period
from custom_components.solarhub.vendors.enlighten.planner import (
    MARGIN,
    Action,
    Planner,
    RequestKind,
)
from custom_components.solarhub.vendors.enlighten.plans import V2_WATT, V4_WATT, Plan

DAY = datetime(2026, 6, 10, tzinfo=UTC)
RISE, SET = DAY + timedelta(hours=4), DAY + timedelta(hours=19)
Q = timedelta(minutes=15)
SECOND = timedelta(seconds=1)
INVENTORY = {V2_WATT: ("inventory", "envoys"), V4_WATT: ("devices",)}


def make(
    plan: Plan = V2_WATT,
    *,
    now: datetime = DAY + timedelta(hours=10),
    systems: tuple[int, ...] = (1,),
    statistics: tuple[str, ...] = ("stats",),
    cursor: datetime | None = None,
    settled: bool = True,
) -> Planner:
    """A planner; ``settled``: systems list and inventory already fetched."""
    planner = Planner.from_dict(None, plan, now)
    for system_id in systems:
        planner.add_system(
            system_id,
            statistics=statistics,
            inventory=INVENTORY[plan],
            statistics_from=cursor,
        )
        planner.set_sun(system_id, RISE, SET)
    if settled:
        planner.record_request(now, RequestKind.SYSTEMS)
        for system_id in systems:
            for name in INVENTORY[plan]:
                planner.record_request(
                    now, RequestKind.INVENTORY, system_id=system_id, endpoint=name
                )
    return planner


def poll(
    planner: Planner,
    at: datetime,
    report: datetime,
    interval: datetime | None = None,
    system_id: int = 1,
) -> Action | None:
    """A summary sent at ``at`` answering ``report``; returns the next action."""
    planner.record_request(at, RequestKind.SUMMARY, system_id=system_id)
    planner.record_summary(
        system_id, at, last_report_at=report, last_interval_end_at=interval or report - 60 * SECOND
    )
    return planner.next_action(at + SECOND)


def learned(planner: Planner, last: datetime, system_id: int = 1) -> None:
    """Teach a 15-minute cadence ending with an upload at ``last``."""
    for k in range(4, -1, -1):
        report = last - Q * k
        poll(planner, report + MARGIN, report, system_id=system_id)


def test_setup_asks_for_the_list_then_inventory_then_a_summary() -> None:
    now = DAY + timedelta(hours=10)
    planner = make(now=now, settled=False)
    kinds = []
    for _ in range(4):
        action = planner.next_action(now)
        assert action is not None
        assert action.at == now
        kinds.append((action.kind, action.endpoint))
        planner.record_request(
            now, action.kind, system_id=action.system_id, endpoint=action.endpoint
        )
        now += SECOND
    assert kinds == [
        (RequestKind.SYSTEMS, None),
        (RequestKind.INVENTORY, "inventory"),
        (RequestKind.INVENTORY, "envoys"),
        (RequestKind.SUMMARY, None),
    ]


def test_a_restart_costs_no_extra_request() -> None:
    planner = make()
    last = DAY + timedelta(hours=10, minutes=2, seconds=40)
    learned(planner, last)
    stored = json.loads(json.dumps(planner.to_dict()))
    now = last + timedelta(minutes=3)
    rebuilt = Planner.from_dict(stored, V2_WATT, now)
    rebuilt.add_system(1, statistics=("stats",), inventory=INVENTORY[V2_WATT])
    rebuilt.set_sun(1, RISE, SET)
    action = rebuilt.next_action(now)
    assert action == Action(kind=RequestKind.SUMMARY, at=last + Q + MARGIN, system_id=1)
    assert rebuilt.ledger.month_count == planner.ledger.month_count


def test_the_systems_list_is_read_again_only_when_asked() -> None:
    planner = make()
    planner.refresh_systems_list()
    action = planner.next_action(DAY + timedelta(hours=11))
    assert action is not None
    assert action.kind is RequestKind.SYSTEMS


def test_summary_just_after_the_next_expected_upload() -> None:
    planner = make()
    last = DAY + timedelta(hours=10, minutes=2, seconds=40)
    learned(planner, last - Q)
    action = poll(planner, last + MARGIN, last)
    assert action == Action(kind=RequestKind.SUMMARY, at=last + Q + MARGIN, system_id=1)


def test_a_missing_upload_is_looked_for_again_backing_off() -> None:
    planner = make()
    last = DAY + timedelta(hours=10, minutes=2, seconds=40)
    learned(planner, last)
    at = last + Q + MARGIN
    delays = []
    for _ in range(4):
        action = poll(planner, at, last)
        assert action is not None
        delays.append(action.at - at)
        at = action.at
    assert delays == [timedelta(minutes=3), timedelta(minutes=6), timedelta(minutes=12), Q]
    action = poll(planner, at, at - 30 * SECOND)  # the upload arrives
    assert action is not None
    assert action.at == at - 30 * SECOND + Q + MARGIN


def test_a_probe_between_uploads_is_not_a_missing_upload() -> None:
    planner = make()
    last = DAY + timedelta(hours=10, minutes=2, seconds=40)
    learned(planner, last)
    poll(planner, last + timedelta(minutes=5), last)
    assert planner.systems[1].stale_polls == 0


@pytest.mark.parametrize("plan", [V2_WATT, V4_WATT])
def test_night(plan: Plan) -> None:
    planner = make(plan)
    last = SET + Q - timedelta(seconds=20)  # the upload after the day's last interval
    learned(planner, last)
    dusk = last + MARGIN
    action = poll(planner, dusk, last)
    assert action is not None
    assert action.kind is RequestKind.SUMMARY
    dawn = RISE + timedelta(days=1)
    window = (SET + Q + MARGIN) - RISE
    middle = dawn - (timedelta(days=1) - window) / 2
    if plan is V2_WATT:  # one look in the dark: is the Envoy still reporting?
        assert abs(action.at - middle) <= timedelta(minutes=1)
        night_report = action.at - timedelta(minutes=3)
        action = poll(planner, action.at, night_report)
        assert action is not None
    assert dawn <= action.at <= dawn + Q + MARGIN


def test_on_v4_watt_summaries_are_spread_over_the_daylight() -> None:
    planner = make(V4_WATT, statistics=("production_micro", "consumption_meter"))
    last = DAY + timedelta(hours=10, minutes=2, seconds=40)
    learned(planner, last)
    planner.ledger.month_count = 300  # a third of the month spent by its tenth day
    share = planner.allocation(last)[1]
    assert 25 <= share.summaries <= 31  # of about 33 requests a day
    assert share.statistics_per_series == 1
    rhythm = planner.summary_rhythm(1, last)
    assert 2 * Q <= rhythm.spacing <= 3 * Q
    assert not rhythm.night
    at, polls = last + MARGIN, []
    report = last
    while at < SET:
        action = poll(planner, at, report)
        assert action is not None
        polls.append(action.at)
        report = report + Q * ((action.at - report) // Q)
        at = action.at
    gaps = [b - a for a, b in pairwise(polls)]
    assert min(gaps) >= 2 * Q - timedelta(minutes=1)
    assert max(gaps) <= 3 * Q + timedelta(minutes=1)


def test_statistics_need_a_cursor() -> None:
    planner = make()
    learned(planner, DAY + timedelta(hours=10))
    assert all(
        a.kind is not RequestKind.STATISTICS for a in planner.candidates(DAY + timedelta(hours=11))
    )


def test_v2_statistics_about_hourly_and_catching_up() -> None:
    cursor = DAY + timedelta(hours=8)
    planner = make(cursor=cursor)
    learned(planner, DAY + timedelta(hours=8, minutes=30))
    now = DAY + timedelta(hours=8, minutes=33)
    assert planner.allocation(now)[1].statistics_per_series == 16
    stats = [a for a in planner.candidates(now) if a.kind is RequestKind.STATISTICS]
    assert stats[0].at > now  # half an hour of news is not worth a request yet
    poll(planner, DAY + timedelta(hours=9, minutes=16), DAY + timedelta(hours=9, minutes=15))
    action = planner.next_action(DAY + timedelta(hours=9, minutes=17))
    assert action is not None
    assert action.kind is RequestKind.STATISTICS
    assert (action.start, action.system_id, action.endpoint) == (cursor, 1, "stats")
    # an outage of two days: one day per request, at once
    planner.systems[1].statistics["stats"] = cursor - timedelta(days=2)
    action = planner.next_action(DAY + timedelta(hours=9, minutes=17))
    assert action is not None
    assert action.kind is RequestKind.STATISTICS
    assert action.end == cursor - timedelta(days=1)


def test_v4_statistics_once_per_series_after_dusk() -> None:
    cursor = DAY - timedelta(hours=5)  # yesterday evening
    planner = make(V4_WATT, statistics=("production_micro", "consumption_meter"), cursor=cursor)
    learned(planner, DAY + timedelta(hours=12))
    now = DAY + timedelta(hours=12, minutes=2)
    stats = [a for a in planner.candidates(now) if a.kind is RequestKind.STATISTICS]
    assert [a.endpoint for a in stats] == ["production_micro", "consumption_meter"]
    assert {a.at for a in stats} == {SET + Q + MARGIN}  # after the day's last upload


def test_statistics_progress() -> None:
    cursor = DAY + timedelta(hours=8)
    planner = make(cursor=cursor)
    poll(planner, DAY + timedelta(hours=12), DAY + timedelta(hours=12), DAY + timedelta(hours=12))
    planner.record_statistics(
        1, "stats", requested_end=DAY + timedelta(hours=13), fetched_until=DAY + timedelta(hours=11)
    )
    assert planner.systems[1].statistics["stats"] == DAY + timedelta(hours=11)
    # an empty range wholly before the newest interval is done (dark hours, gaps)
    planner.record_statistics(
        1, "stats", requested_end=DAY + timedelta(hours=11, minutes=30), fetched_until=None
    )
    assert planner.systems[1].statistics["stats"] == DAY + timedelta(hours=11, minutes=30)
    # an empty answer at the tip (422: nothing newer) moves nothing
    planner.record_statistics(
        1, "stats", requested_end=DAY + timedelta(hours=13), fetched_until=None
    )
    assert planner.systems[1].statistics["stats"] == DAY + timedelta(hours=11, minutes=30)
    planner.record_intervals(1, [(DAY + timedelta(hours=12, minutes=30), 50.0)])
    assert planner.systems[1].last_interval_end == DAY + timedelta(hours=12, minutes=30)


def test_a_series_without_a_cursor_gets_one_from_its_first_answer() -> None:
    planner = make()
    poll(planner, DAY + timedelta(hours=12), DAY + timedelta(hours=12))
    planner.record_statistics(
        1, "stats", requested_end=DAY + timedelta(hours=12), fetched_until=DAY + timedelta(hours=11)
    )
    assert planner.systems[1].statistics["stats"] == DAY + timedelta(hours=11)


def test_history_is_one_shot() -> None:
    planner = make()
    learned(planner, DAY + timedelta(hours=10))
    planner.request_history(1, "energy_lifetime")
    now = DAY + timedelta(hours=10, minutes=3)
    action = planner.next_action(now)
    assert action == Action(
        kind=RequestKind.HISTORY, at=now, system_id=1, endpoint="energy_lifetime"
    )
    planner.record_request(now, RequestKind.HISTORY, system_id=1, endpoint="energy_lifetime")
    action = planner.next_action(now)
    assert action is not None
    assert action.kind is RequestKind.SUMMARY


@pytest.mark.parametrize(
    ("plan", "every"), [(V2_WATT, timedelta(days=1)), (V4_WATT, timedelta(days=7))]
)
def test_inventory_is_reread_daily_or_weekly(plan: Plan, every: timedelta) -> None:
    now = DAY + timedelta(hours=10)
    planner = make(plan, now=now)
    inventory = [a for a in planner.candidates(now) if a.kind is RequestKind.INVENTORY]
    assert {a.at for a in inventory} == {now + every}


def test_many_systems_never_pass_the_minute_cap() -> None:
    now = DAY + timedelta(hours=10)
    planner = make(systems=tuple(range(1, 8)), settled=False, cursor=DAY - timedelta(days=3))
    sent: list[datetime] = []
    for _ in range(40):
        action = planner.next_action(now)
        assert action is not None
        now = action.at
        planner.record_request(
            now, action.kind, system_id=action.system_id, endpoint=action.endpoint
        )
        if action.kind is RequestKind.SUMMARY:
            assert action.system_id is not None
            planner.record_summary(
                action.system_id,
                now,
                last_report_at=now - 100 * SECOND,
                last_interval_end_at=now - 200 * SECOND,
            )
        elif action.kind is RequestKind.STATISTICS:
            assert action.system_id is not None
            assert action.end is not None
            planner.record_statistics(
                action.system_id, "stats", requested_end=action.end, fetched_until=action.end
            )
        sent.append(now)
    for i, moment in enumerate(sent):
        assert sum(1 for m in sent[i:] if m - moment < timedelta(seconds=60)) <= 9
    assert sent[-1] - sent[0] >= timedelta(minutes=4)


def test_a_409_month_waits_until_period_end_and_shows_it() -> None:
    planner = make()
    now = DAY + timedelta(hours=10)
    end = datetime(2026, 7, 1, tzinfo=UTC)
    resume = planner.record_rate_limited(
        now,
        period=Period.MONTH,
        period_start=datetime(2026, 6, 1, tzinfo=UTC),
        period_end=end,
        limit=10_000,
    )
    assert resume == end
    action = planner.next_action(now)
    assert action is not None
    assert action.at == end
    status = planner.status(now)
    assert status.exhausted_until == end
    assert status.requests_this_month == 10_000
    assert status.monthly_limit == 10_000
    assert status.blocked_period is Period.MONTH


def test_a_409_minute_is_not_an_exhausted_month() -> None:
    planner = make()
    now = DAY + timedelta(hours=10)
    planner.record_rate_limited(now, period=Period.MINUTE, period_end=now + 25 * SECOND)
    action = planner.next_action(now)
    assert action is not None
    assert action.at == now + 25 * SECOND
    status = planner.status(now)
    assert status.exhausted_until is None
    assert status.blocked_until == now + 25 * SECOND


def test_v4_429_without_period_is_inferred() -> None:
    planner = make(V4_WATT)
    now = DAY + timedelta(hours=10)
    assert planner.record_rate_limited(now) == datetime(2026, 7, 1, tzinfo=UTC)


def test_token_refreshes_count_and_respect_the_minute() -> None:
    now = DAY + timedelta(hours=10)
    planner = make(V4_WATT, now=now, settled=False)
    for i in range(9):
        planner.record_request(now + i * SECOND, RequestKind.TOKEN)
    assert planner.allowed_at(now + 9 * SECOND) == now + 60 * SECOND
    assert planner.status(now + 9 * SECOND).requests_this_month == 9
    assert planner.ledger.by_kind == {"token": 9}


def test_a_nearly_spent_month_keeps_to_a_trickle() -> None:
    planner = make()
    now = DAY + timedelta(hours=10)
    planner.ledger.month_count = 10_000 - 200  # below the reserve
    share = planner.allocation(now)[1]
    assert share.summaries == 1.0
    assert share.statistics_per_series == 1
    planner.ledger.month_count = 10_000
    action = planner.next_action(now)
    assert action is not None
    assert action.at == datetime(2026, 7, 1, tzinfo=UTC)


def test_status_shows_the_next_poll() -> None:
    planner = make()
    last = DAY + timedelta(hours=10, minutes=2, seconds=40)
    learned(planner, last)
    status = planner.status(last + MARGIN + SECOND)
    assert status.next_poll == last + Q + MARGIN
    assert status.minute_limit == 10
    assert status.requests_last_minute == 1
    assert status.month_ends == datetime(2026, 7, 1, tzinfo=UTC)
    assert Planner.from_dict(None, V2_WATT, DAY).status(DAY).next_poll is None


def test_nothing_to_plan_without_systems() -> None:
    planner = Planner.from_dict(None, V2_WATT, DAY)
    action = planner.next_action(DAY)
    assert action == Action(kind=RequestKind.SYSTEMS, at=DAY)
    planner.record_request(DAY, RequestKind.SYSTEMS)
    assert planner.next_action(DAY) is None
    assert planner.allocation(DAY) == {}


@pytest.mark.parametrize("data", [None, "x", {"version": 2}, {"version": 1, "systems": "x"}])
def test_unusable_stored_state_gives_a_fresh_planner(data: object) -> None:
    planner = Planner.from_dict(data, V2_WATT, DAY)
    assert planner.systems_listed_at is None
    assert planner.ledger.month_count == 0


def test_stored_state_keeps_valid_systems_and_unused_ones() -> None:
    planner = make()
    planner.add_system(2, statistics=("stats",), statistics_from=DAY)
    stored = json.loads(json.dumps(planner.to_dict()))
    stored["systems"]["nope"] = {}
    stored["systems"]["4"] = "not a dict"
    stored["systems"]["5"] = {"last_poll": 1e300, "inventory": {"devices": 1e300}}
    stored["systems"]["3"] = {"statistics": {"stats": "x"}, "stale_polls": -1, "history": [1, "a"]}
    rebuilt = Planner.from_dict(stored, V2_WATT, DAY + timedelta(hours=11))
    rebuilt.add_system(1, statistics=("stats",), inventory=INVENTORY[V2_WATT])
    assert set(rebuilt.to_dict()["systems"]) == {"1", "2", "3", "4", "5"}  # type: ignore[arg-type]
    rebuilt.add_system(5, inventory=("devices",))
    assert rebuilt.systems[5].last_poll is None
    assert rebuilt.systems[5].inventory == {"devices": None}  # an absurd time: read it again
    rebuilt.add_system(3, statistics=("stats",))
    assert rebuilt.systems[3].statistics == {"stats": None}
    assert rebuilt.systems[3].history == {"a"}
    assert rebuilt.systems[3].stale_polls == 0
    rebuilt.add_system(2, statistics=("stats",), statistics_from=DAY - timedelta(days=1))
    assert rebuilt.systems[2].statistics == {"stats": DAY}  # the later cursor wins
    rebuilt.remove_system(2)
    assert "2" in rebuilt.to_dict()["systems"]  # type: ignore[operator]
    assert 2 not in rebuilt.systems


def test_future_times_in_a_stored_state_are_dropped() -> None:
    planner = make()
    poll(planner, DAY + timedelta(hours=10), DAY + timedelta(hours=10))
    rebuilt = Planner.from_dict(planner.to_dict(), V2_WATT, DAY + timedelta(hours=9))
    rebuilt.add_system(1)
    assert rebuilt.systems[1].last_poll is None
    assert rebuilt.systems_listed_at is None


def test_summary_bookkeeping() -> None:
    planner = make()
    now = DAY + timedelta(hours=10)
    planner.record_summary(1, now, last_report_at=None, last_interval_end_at=now + Q)
    assert planner.systems[1].stale_polls == 1
    assert planner.systems[1].last_interval_end == now  # never in the future
    planner.record_summary(1, now, last_report_at=now, last_interval_end_at=now - Q)
    assert planner.systems[1].last_interval_end == now  # never backwards
    assert planner.systems[1].stale_polls == 0
