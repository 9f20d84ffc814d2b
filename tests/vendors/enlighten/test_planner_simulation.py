"""A whole month of the planner alone (no HTTP): 1 and 3 systems on one key, v2 and v4 Watt.

The model Envoys upload on their own cadence (15 minutes, one cellular Envoy every 6 hours, a
little jitter, now and then a missed upload); the model server counts requests per calendar
minute and per UTC month and answers a 409 when a limit is passed. Home Assistant restarts five
times (the planner rebuilt from its JSON) and is down for 12 hours once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
import json
import math
import random
from statistics import median

import pytest

from custom_components.solarhub.vendors.enlighten.ledger import Period
from custom_components.solarhub.vendors.enlighten.planner import Planner, RequestKind
from custom_components.solarhub.vendors.enlighten.plans import V2_WATT, V4_WATT, ApiVersion, Plan

START = datetime(2026, 6, 1, tzinfo=UTC)
END = datetime(2026, 7, 1, tzinfo=UTC)
HISTORY_FROM = START - timedelta(days=2)
FIVE = timedelta(minutes=5)
RESTARTS = (
    datetime(2026, 6, 3, 11, 7, tzinfo=UTC),
    datetime(2026, 6, 9, 23, 40, tzinfo=UTC),
    datetime(2026, 6, 15, 5, 2, tzinfo=UTC),
    datetime(2026, 6, 21, 16, 31, tzinfo=UTC),
    datetime(2026, 6, 27, 2, 12, tzinfo=UTC),
)
OUTAGE = (datetime(2026, 6, 12, 6, 0, tzinfo=UTC), datetime(2026, 6, 12, 18, 0, tzinfo=UTC))


@dataclass(frozen=True)
class Envoy:
    """One system's Envoy: its daylight (UTC time of day) and upload rhythm."""

    system_id: int
    cadence: timedelta
    phase: timedelta
    sunrise: timedelta
    sunset: timedelta  # may exceed 24 h: daylight across UTC midnight

    def sun(self, day: date) -> tuple[datetime, datetime]:
        """The day's production window, drifting a minute a day through the month."""
        drift = timedelta(minutes=(day - START.date()).days)
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return midnight + self.sunrise - drift, midnight + self.sunset + drift

    def producing(self, end: datetime) -> bool:
        for day in (end.date() - timedelta(days=1), end.date()):
            rise, down = self.sun(day)
            if rise + timedelta(minutes=10) <= end <= down - timedelta(minutes=10):
                return True
        return False

    def last_upload(self, now: datetime) -> datetime:
        k = math.floor((now - START - self.phase) / self.cadence)
        while True:
            rnd = random.Random(self.system_id * 1_000_003 + k)
            upload = START + self.phase + self.cadence * k + timedelta(seconds=rnd.uniform(0, 120))
            if upload <= now and rnd.random() > 0.02:
                return upload
            k -= 1

    def visible(self, now: datetime) -> datetime:
        """The newest interval end the server has: the last 5-minute mark before the upload."""
        upload = self.last_upload(now) - timedelta(seconds=30)
        return upload - (upload - START) % FIVE

    def rows(self, start: datetime, end: datetime, now: datetime) -> list[datetime]:
        """Producing interval ends in (start, min(end, visible)] (no rows for dark hours)."""
        last = min(end, self.visible(now))
        first = start - (start - START) % FIVE + FIVE
        count = max(0, (last - first) // FIVE + 1)
        return [first + FIVE * i for i in range(count) if self.producing(first + FIVE * i)]

    def last_interval_end(self, now: datetime) -> datetime:
        moment = self.visible(now)
        while not self.producing(moment):
            moment -= FIVE
        return moment


SOLO = (
    Envoy(
        1,
        timedelta(minutes=15),
        timedelta(minutes=4),
        timedelta(hours=3, minutes=10),
        timedelta(hours=19, minutes=30),
    ),
)
TRIO = (
    *SOLO,
    Envoy(
        2,
        timedelta(minutes=15),
        timedelta(minutes=11),
        timedelta(hours=4),
        timedelta(hours=18, minutes=45),
    ),
    Envoy(
        3,
        timedelta(hours=6),
        timedelta(minutes=37),
        timedelta(hours=20, minutes=30),
        timedelta(hours=31),
    ),  # cellular, daylight across UTC midnight
)


@dataclass
class Result:
    """What the month showed."""

    per_day: Counter[date] = field(default_factory=Counter)
    times: list[datetime] = field(default_factory=list)
    conflicts: int = 0
    age_report: list[float] = field(default_factory=list)  # minutes, daylight summaries
    age_interval: list[float] = field(default_factory=list)
    daylight_summaries: Counter[tuple[int, date]] = field(default_factory=Counter)
    fetched: dict[int, set[datetime]] = field(default_factory=dict)
    kinds: Counter[str] = field(default_factory=Counter)
    month_count_max: int = 0

    @property
    def minute_peak(self) -> int:
        peak, left = 0, 0
        for right, moment in enumerate(self.times):
            while moment - self.times[left] >= timedelta(seconds=60):
                left += 1
            peak = max(peak, right - left + 1)
        return peak


def _series(plan: Plan) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if plan.api is ApiVersion.V2:
        return ("stats",), ("inventory", "envoys")
    return ("production_micro", "consumption_meter"), ("devices",)


def _build(plan: Plan, envoys: tuple[Envoy, ...], stored: object, now: datetime) -> Planner:
    """What the coordinator does at every start: load, add the systems, give the sun."""
    planner = Planner.from_dict(stored, plan, now)
    statistics, inventory = _series(plan)
    for envoy in envoys:
        planner.add_system(
            envoy.system_id,
            statistics=statistics,
            inventory=inventory,
            statistics_from=HISTORY_FROM,
        )
        rise, down = envoy.sun(now.date())
        planner.set_sun(envoy.system_id, rise + timedelta(minutes=25), down - timedelta(minutes=20))
    return planner


def simulate(plan: Plan, envoys: tuple[Envoy, ...]) -> Result:  # noqa: PLR0915
    result = Result(fetched={envoy.system_id: set() for envoy in envoys})
    by_id = {envoy.system_id: envoy for envoy in envoys}
    minute_hits: Counter[datetime] = Counter()
    month_hits = 0
    restarts = list(RESTARTS)
    outage_pending = True
    token_at: datetime | None = None
    now = START
    planner = _build(plan, envoys, None, now)

    def restart(at: datetime) -> Planner:
        return _build(plan, envoys, json.loads(json.dumps(planner.to_dict())), at)

    while now < END:
        action = planner.next_action(now)
        assert action is not None
        if outage_pending and action.at >= OUTAGE[0]:
            outage_pending = False
            now = OUTAGE[1]
            planner = restart(now)
            continue
        if restarts and action.at >= restarts[0]:
            now = restarts.pop(0)
            planner = restart(now)
            continue
        now = action.at
        if now >= END:
            break
        if plan.api is ApiVersion.V4 and (token_at is None or now - token_at >= timedelta(days=1)):
            kind, system_id, endpoint = RequestKind.TOKEN, None, None
            token_at = now
        else:
            kind, system_id, endpoint = action.kind, action.system_id, action.endpoint
        planner.record_request(now, kind, system_id=system_id, endpoint=endpoint)
        result.times.append(now)
        result.per_day[now.date()] += 1
        result.kinds[str(kind)] += 1
        minute = now.replace(second=0, microsecond=0)
        minute_hits[minute] += 1
        month_hits += 1
        result.month_count_max = max(result.month_count_max, planner.ledger.month_count)
        if minute_hits[minute] > plan.per_minute or month_hits > plan.per_month:
            result.conflicts += 1
            over_minute = minute_hits[minute] > plan.per_minute
            planner.record_rate_limited(
                now,
                period=(Period.MINUTE if over_minute else Period.MONTH)
                if plan.api is ApiVersion.V2
                else None,
                period_end=minute + timedelta(minutes=1) if over_minute else END,
            )
        elif kind is RequestKind.SUMMARY:
            assert system_id is not None
            envoy = by_id[system_id]
            report, interval = envoy.last_upload(now), envoy.last_interval_end(now)
            planner.record_summary(
                system_id, now, last_report_at=report, last_interval_end_at=interval
            )
            if envoy.producing(now):
                result.daylight_summaries[(system_id, now.date())] += 1
                if envoy.system_id == 1:
                    result.age_report.append((now - report).total_seconds() / 60)
                    result.age_interval.append((now - interval).total_seconds() / 60)
        elif kind is RequestKind.STATISTICS:
            assert system_id is not None
            assert action.start is not None
            assert action.end is not None
            assert action.end - action.start <= plan.statistics_span
            rows = by_id[system_id].rows(action.start, action.end, now)
            planner.record_intervals(system_id, [(end, 100.0) for end in rows])
            planner.record_statistics(
                system_id,
                str(endpoint),
                requested_end=action.end,
                fetched_until=rows[-1] if rows else None,
            )
            if endpoint in ("stats", "production_micro"):
                result.fetched[system_id].update(rows)
        now += timedelta(seconds=1)
    return result


_CACHE: dict[tuple[Plan, int], Result] = {}


def month(plan: Plan, envoys: tuple[Envoy, ...]) -> Result:
    key = (plan, len(envoys))
    if key not in _CACHE:
        _CACHE[key] = simulate(plan, envoys)
    return _CACHE[key]


CASES = [(V2_WATT, SOLO), (V2_WATT, TRIO), (V4_WATT, SOLO), (V4_WATT, TRIO)]
IDS = ["v2-1", "v2-3", "v4-1", "v4-3"]


@pytest.mark.parametrize(("plan", "envoys"), CASES, ids=IDS)
def test_no_limit_is_ever_passed(plan: Plan, envoys: tuple[Envoy, ...]) -> None:
    result = month(plan, envoys)
    assert result.conflicts == 0
    assert result.minute_peak <= plan.minute_cap < plan.per_minute
    assert len(result.times) <= plan.per_month - plan.reserve // 2
    assert result.month_count_max == len(result.times)  # restarts forgot nothing


@pytest.mark.parametrize(("plan", "envoys"), CASES, ids=IDS)
def test_statistics_are_complete_after_the_outage_and_restarts(
    plan: Plan, envoys: tuple[Envoy, ...]
) -> None:
    result = month(plan, envoys)
    for envoy in envoys:
        horizon = END - timedelta(days=1)
        expected = {
            HISTORY_FROM + FIVE * i
            for i in range(1, int((horizon - HISTORY_FROM) / FIVE))
            if envoy.producing(HISTORY_FROM + FIVE * i)
        }
        assert expected <= result.fetched[envoy.system_id]


@pytest.mark.parametrize(("plan", "envoys"), CASES, ids=IDS)
def test_every_day_has_summaries_in_daylight(plan: Plan, envoys: tuple[Envoy, ...]) -> None:
    result = month(plan, envoys)
    days = [START.date() + timedelta(days=d) for d in range(30) if d != 11]  # 12th: outage
    for envoy in envoys:
        counts = [result.daylight_summaries[(envoy.system_id, day)] for day in days]
        assert min(counts) >= 1, (envoy.system_id, counts)


def test_v2_watt_one_system_data_is_as_fresh_as_the_uploads() -> None:
    result = month(V2_WATT, SOLO)
    cadence = SOLO[0].cadence.total_seconds() / 60
    assert median(result.age_interval) <= cadence + 5
    assert median(result.age_report) <= 5


def test_v4_watt_spreads_the_budget_over_the_month_daylight() -> None:
    result = month(V4_WATT, SOLO)
    days = [START.date() + timedelta(days=d) for d in range(1, 29) if d != 11]
    counts = [result.daylight_summaries[(1, day)] for day in days]
    assert min(counts) >= 25
    assert max(counts) - min(counts) <= 8
    assert result.daylight_summaries[(1, END.date() - timedelta(days=1))] >= 15  # still polling
    assert max(result.per_day.values()) <= 45  # no day (not even setup) spends days of budget
    assert len(result.times) >= 900  # the month is used, not hoarded (the reserve is left)


def report(plan: Plan, envoys: tuple[Envoy, ...]) -> str:
    """The month's figures (used for the hand-over report)."""
    result = month(plan, envoys)
    days = sorted(result.per_day.values())
    return (
        f"{plan.api} {plan.name} x{len(envoys)}: month {len(result.times)}, per day "
        f"min {days[0]} median {median(days)} max {days[-1]}, minute peak {result.minute_peak}, "
        f"409s {result.conflicts}, data age (system 1, daylight) report median "
        f"{median(result.age_report):.1f} min, interval median {median(result.age_interval):.1f}"
        f" min, kinds {dict(result.kinds)}"
    )
