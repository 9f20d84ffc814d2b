"""The v2 client against the Enlighten simulator (tests/simulators/enlighten.py) over loopback.

The simulator's truth accessors say what the client must return: intervals, days, summaries,
its budget counters what the client spent, its 409 body what the error must carry.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from custom_components.solarhub.api.enlighten.client import EnlightenV2Client
from custom_components.solarhub.api.enlighten.errors import (
    ConcurrentRequestsError,
    TemporarilyUnavailableError,
    UnknownUserError,
)
from custom_components.solarhub.api.enlighten.models import SystemStatus
from custom_components.solarhub.api.enlighten.transport import RequestRecord
from custom_components.solarhub.api.errors import (
    ApiConnectionError,
    AuthenticationError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    RatePeriod,
)
from tests.simulators import SimClock
from tests.simulators.enlighten import EnlightenConfig, EnlightenSimulator

pytestmark = pytest.mark.usefixtures("socket_enabled")

NOON = datetime(2026, 6, 21, 10, 0, tzinfo=UTC)  # 12:00 in Berlin
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def clock() -> SimClock:
    return SimClock.fixed(NOON)


@pytest.fixture
async def sim(clock: SimClock) -> AsyncIterator[EnlightenSimulator]:
    async with EnlightenSimulator(EnlightenConfig(minute_limit=1000), clock) as simulator:
        yield simulator


def client_for(
    http: aiohttp.ClientSession,
    sim: EnlightenSimulator,
    records: list[RequestRecord] | None = None,
    *,
    key: str | None = None,
    user_id: str | None = None,
    request_timeout: float = 10.0,
) -> EnlightenV2Client:
    return EnlightenV2Client(
        http,
        key or sim.config.api_key,
        user_id or sim.config.user_id,
        base_url=sim.base_url,
        clock=sim.clock.now,
        request_timeout=request_timeout,
        on_request=None if records is None else records.append,
    )


async def test_systems_all_pages_and_filters(
    http: aiohttp.ClientSession, sim: EnlightenSimulator
) -> None:
    sim.config.max_page_size = 1  # every page holds one system: the cursor must be followed
    records: list[RequestRecord] = []
    client = client_for(http, sim, records)
    systems = await client.get_systems()
    assert [s.system_id for s in systems] == [1001, 1002, 1003]
    assert len(records) == 3 == sim.usage().total
    assert systems[1].timezone == "Europe/Vienna"
    assert systems[0].meta is not None
    assert systems[0].meta.operational_at is not None
    found = await client.get_systems(system_name="wEIN")
    assert [s.system_id for s in found] == [1002]


async def test_summary_and_stats_equal_the_truth(
    http: aiohttp.ClientSession, sim: EnlightenSimulator
) -> None:
    client = client_for(http, sim)
    summary = await client.get_summary(1001)
    assert summary.status == SystemStatus.NORMAL
    assert summary.last_interval_end_at is not None
    midnight = datetime(2026, 6, 21, tzinfo=BERLIN)
    truth = sim.truth_intervals(1001, midnight, summary.last_interval_end_at)
    assert summary.energy_today == sum(wh for _, wh in truth)
    series = await client.get_production_intervals(1001, midnight, midnight + timedelta(days=1))
    assert [(i.end_at, i.energy_wh) for i in series.intervals] == [
        (end, float(wh)) for end, wh in truth
    ]
    assert series.last_end == summary.last_interval_end_at
    # past the last interval: the simulator answers 422, the client "nothing newer"
    newer = await client.get_stats(1001, summary.last_interval_end_at)
    assert newer.intervals == ()


async def test_stats_have_no_rows_in_dark_hours(
    http: aiohttp.ClientSession, sim: EnlightenSimulator
) -> None:
    yesterday = datetime(2026, 6, 20, tzinfo=BERLIN)
    series = await client_for(http, sim).get_stats(1001, yesterday, yesterday + timedelta(days=1))
    hours = {i.end_at.astimezone(BERLIN).hour for i in series.intervals}
    assert 12 in hours
    assert not hours & {0, 1, 2, 23}
    assert sum(i.energy_wh for i in series.intervals) == sim.truth_day(1001, yesterday.date())


async def test_energy_lifetime_drops_unreported_days_and_meters(
    http: aiohttp.ClientSession, sim: EnlightenSimulator
) -> None:
    client = client_for(http, sim)
    start = date(2026, 6, 14)
    days = await client.get_energy_lifetime(1002, start_date=start, production_all=True)
    assert days.start_date == start
    assert days.meter_start_date is not None
    yesterday = date(2026, 6, 20)
    assert days.end_date == yesterday  # the default end is yesterday
    assert dict(days.days()) == {
        day: float(sim.truth_day(1002, day))
        for day in (start + timedelta(days=n) for n in range(7))
    }
    assert len(days.meter_production) == len(days.values)
    # a range into the future: its unreported days are trailing zeros, dropped
    ahead = await client.get_energy_lifetime(
        1002, start_date=yesterday, end_date=yesterday + timedelta(days=3)
    )
    assert ahead.end_date is not None
    assert ahead.end_date <= date(2026, 6, 21)


async def test_meter_devices_and_monthly_production(
    http: aiohttp.ClientSession, sim: EnlightenSimulator
) -> None:
    client = client_for(http, sim)
    start = datetime(2026, 6, 21, tzinfo=BERLIN)
    summary = await client.get_summary(1002)
    meter = await client.get_meter_intervals(1002, start, NOON)
    assert summary.last_interval_end_at is not None
    truth = sim.truth_meter_intervals(1002, start, summary.last_interval_end_at)
    assert [(i.end_at, i.energy_wh) for i in meter.intervals] == [
        (end, float(wh)) for end, wh in truth
    ]
    assert (await client.get_meter_intervals(1001, start, NOON)).intervals == ()  # no meter
    devices = await client.get_devices(1002)
    assert [g.serial_number for g in devices.gateways] == ["122100020002"]
    assert devices.gateways[0].last_report_at is not None
    assert devices.micros
    assert devices.meters
    no_meter = await client.get_inventory(1001)
    assert no_meter.meters == ()
    with pytest.raises(TemporarilyUnavailableError):
        await client.get_monthly_production(1001, date(2026, 5, 1))
    with pytest.raises(NotFoundError):
        await client.get_summary(999)


async def test_wrong_key_and_unknown_user(
    http: aiohttp.ClientSession, sim: EnlightenSimulator
) -> None:
    with pytest.raises(AuthenticationError) as wrong_key:
        await client_for(http, sim, key="not-the-key").get_systems()
    with pytest.raises(UnknownUserError) as wrong_user:
        await client_for(http, sim, user_id="nobody").get_systems()
    assert not isinstance(wrong_key.value, UnknownUserError)  # a field error each, apart
    assert "not-the-key" not in str(wrong_key.value)
    assert "user_id" in str(wrong_user.value)
    assert "nobody" not in str(wrong_user.value)


@pytest.mark.parametrize("period", ["minute", "month"])
async def test_409_carries_period_end_and_limit(
    http: aiohttp.ClientSession, sim: EnlightenSimulator, clock: SimClock, period: str
) -> None:
    if period == "minute":
        sim.config.minute_limit = 2
    else:
        sim.config.month_limit = 2
    client = client_for(http, sim)
    await client.get_summary(1001)
    await client.get_summary(1001)
    with pytest.raises(RateLimitedError) as info:
        await client.get_summary(1001)
    error = info.value
    assert error.limit == 2
    assert error.period_end is not None
    if period == "minute":
        assert error.period is RatePeriod.MINUTE
        assert error.period_end == NOON + timedelta(minutes=1)
        assert error.retry_after == 60.0
        clock.set(error.period_end)  # after period_end, requests pass again
        await client.get_summary(1001)
    else:
        assert error.period is RatePeriod.MONTH
        assert error.period_end == datetime(2026, 7, 1, tzinfo=UTC)
    assert sim.usage().rejected_limit == 1


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("malformed", MalformedResponseError),
        ("503", ConcurrentRequestsError),
        ("unavailable", TemporarilyUnavailableError),
        ("500", ApiConnectionError),
        ("401", AuthenticationError),
    ],
)
async def test_faults(
    http: aiohttp.ClientSession,
    sim: EnlightenSimulator,
    fault: str,
    error: type[Exception],
) -> None:
    client = client_for(http, sim)
    sim.fail_next(fault, path="summary")
    with pytest.raises(error):
        await client.get_summary(1001)
    assert (await client.get_summary(1001)).system_id == 1001  # the next cycle works


async def test_timeout(http: aiohttp.ClientSession, sim: EnlightenSimulator) -> None:
    sim.config.hang_seconds = 2.0
    sim.fail_next("timeout")
    records: list[RequestRecord] = []
    with pytest.raises(ApiConnectionError, match="did not answer in time"):
        await client_for(http, sim, records, request_timeout=0.3).get_summary(1001)
    assert records[0].status is None


async def test_entries_sharing_a_key_never_overlap(
    http: aiohttp.ClientSession, sim: EnlightenSimulator
) -> None:
    """The simulator answers 503 to overlapping requests of a key; the lock prevents them."""
    sim.config.hang_seconds = 0.3
    sim.fail_next("timeout")  # the first request is held 0.3 s, then answered: the others wait
    first, second = client_for(http, sim), client_for(http, sim)
    summaries = await asyncio.gather(
        *(client.get_summary(system) for client in (first, second) for system in (1001, 1002))
    )
    assert len(summaries) == 4
    assert sim.usage().rejected_busy == 0
    assert sim.usage().total == 4
