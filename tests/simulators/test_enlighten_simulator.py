"""The Enphase Enlighten simulator, driven over loopback HTTP with plain aiohttp calls.

Every check follows the v2 document (``shared/seeds/enphase-enlighten-systems-api-v2.txt``) and
the vendor notes; the simulator's truth accessors are compared with what its API answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
import itertools
import json
from typing import Any

import aiohttp
import pytest

from tests.simulators import SimClock
from tests.simulators.enlighten import (
    BAD_KEY,
    BAD_USER,
    DEFAULT_SYSTEMS,
    UNAVAILABLE,
    EnlightenConfig,
    EnlightenSimulator,
)
from tests.simulators.helpers import NIGHT, NOON, simulator_process

pytestmark = pytest.mark.usefixtures("socket_enabled")


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


class V2:
    """Plain GETs with ``key`` and ``user_id``."""

    def __init__(self, http: aiohttp.ClientSession, sim: EnlightenSimulator) -> None:
        self.http = http
        self.sim = sim
        self.key = sim.config.api_key
        self.user_id = sim.config.user_id

    async def get(self, path: str, **params: Any) -> Reply:
        query: list[tuple[str, str]] = [("key", self.key), ("user_id", self.user_id)]
        for name, value in params.items():
            values = value if isinstance(value, list) else [value]
            query += [(name.replace("__", "[]"), str(v)) for v in values]
        async with self.http.get(f"{self.sim.base_url}/{path}", params=query) as response:
            return Reply(response.status, response.content_type, await response.text())

    async def ok(self, path: str, **params: Any) -> Any:
        reply = await self.get(path, **params)
        assert reply.status == 200, reply.text
        return reply.json()


@pytest.fixture
async def sim(clock: SimClock) -> AsyncIterator[EnlightenSimulator]:
    async with EnlightenSimulator(EnlightenConfig(minute_limit=1000), clock) as simulator:
        yield simulator


@pytest.fixture
def api(http: aiohttp.ClientSession, sim: EnlightenSimulator) -> V2:
    return V2(http, sim)


def _ts(dt: datetime) -> int:
    return int(dt.timestamp())


# -- authentication and the systems index ----------------------------------------------------------


async def test_wrong_key_and_unknown_user_answer_401_with_distinct_messages(api: V2) -> None:
    api.key = "wrong"
    reply = await api.get("systems")
    assert (reply.status, reply.json()) == (401, {"reason": "401", "message": [BAD_KEY]})
    api.key = api.sim.config.api_key
    api.user_id = "nobody"
    reply = await api.get("systems")
    assert (reply.status, reply.json()) == (401, {"reason": "401", "message": [BAD_USER]})
    assert api.sim.usage().total == 1  # the unknown user spent a request, the wrong key none


async def test_unknown_system_and_route_answer_404(api: V2) -> None:
    assert (await api.get("systems/999/summary")).status == 404
    assert (await api.get("systems/abc/summary")).status == 404
    assert (await api.get("nowhere")).json() == {"reason": "404", "message": ["Not Found"]}


async def test_systems_index_lists_every_system_with_meta(api: V2) -> None:
    body = await api.ok("systems")
    assert [s["system_id"] for s in body["systems"]] == [1001, 1002, 1003]
    assert "next" not in body
    first = body["systems"][0]
    assert first["system_name"] == first["system_public_name"] == "Sonnenhof"
    assert first["timezone"] == "Europe/Berlin"
    assert first["reference"] == "SH-0001"
    assert "reference" not in body["systems"][1]
    assert body["systems"][1]["other_references"] == ["WB-77"]
    assert set(first["meta"]) == {"status", "last_report_at", "last_energy_at", "operational_at"}
    assert first["status"] == first["meta"]["status"] == "normal"


async def test_systems_cursor_paging_and_page_size_cap(api: V2) -> None:
    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        body = await (
            api.ok("systems", limit=1, next=cursor) if cursor else api.ok("systems", limit=1)
        )
        seen += [s["system_id"] for s in body["systems"]]
        pages += 1
        cursor = body.get("next")
        if cursor is None:
            break
    assert (seen, pages) == ([1001, 1002, 1003], 3)
    api.sim.config.max_page_size = 2
    body = await api.ok("systems", limit=5000)
    assert len(body["systems"]) == 2
    assert "next" in body
    assert (await api.get("systems", next="zz")).status == 400


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"system_name": "wEIN"}, [1002]),
        ({"status": "normal"}, [1001, 1002, 1003]),
        ({"status__": ["comm", "micro"]}, []),
        ({"reference": "wb-77"}, [1002]),
        ({"reference": "SH-0001"}, [1001]),
        ({"connection_type": "cellular"}, [1003]),
        ({"installer": "Bergstrom AG"}, [1003]),
        ({"system_id": 1002}, [1002]),
        ({"connection_type__": ["wifi", "ethernet"], "limit": 1}, [1001]),
    ],
)
async def test_systems_filters(api: V2, params: dict[str, Any], expected: list[int]) -> None:
    body = await api.ok("systems", **params)
    assert [s["system_id"] for s in body["systems"]] == expected


async def test_filtered_pages_continue_with_the_filter(api: V2) -> None:
    body = await api.ok("systems", connection_type__=["wifi", "cellular"], limit=1)
    assert [s["system_id"] for s in body["systems"]] == [1002]
    body = await api.ok(
        "systems", connection_type__=["wifi", "cellular"], limit=1, next=body["next"]
    )
    assert [s["system_id"] for s in body["systems"]] == [1003]
    assert "next" not in body


# -- uploads, summary and its consistency with the intervals ---------------------------------------


async def test_uploads_come_in_15_minute_batches_after_the_lag(
    api: V2, sim: EnlightenSimulator, clock: SimClock
) -> None:
    # NOON is 10:00 UTC; the 09:45 batch was reported at 09:50 (lag 5 min)
    body = await api.ok("systems/1001/summary")
    assert body["last_report_at"] == _ts(NOON - timedelta(minutes=10))
    assert body["last_interval_end_at"] == _ts(NOON - timedelta(minutes=15))
    clock.advance(timedelta(minutes=4, seconds=59))
    assert (await api.ok("systems/1001/summary"))["last_report_at"] == _ts(
        NOON - timedelta(minutes=10)
    )
    clock.advance(1)
    body = await api.ok("systems/1001/summary")
    assert body["last_report_at"] == _ts(NOON + timedelta(minutes=5))
    assert body["last_interval_end_at"] == _ts(NOON)
    # the cellular Envoy reports every 6 hours: the 06:00 batch at 06:05
    body = await api.ok("systems/1003/summary")
    assert body["last_report_at"] == _ts(NOON.replace(hour=6, minute=5))
    assert body["last_interval_end_at"] == _ts(NOON.replace(hour=6))


async def test_summary_consistent_with_stats_and_truth(api: V2, sim: EnlightenSimulator) -> None:
    summary = await api.ok("systems/1001/summary")
    midnight = datetime(2026, 6, 21, tzinfo=sim.system(1001).tz)
    stats = await api.ok("systems/1001/stats")
    assert stats["intervals"][0]["end_at"] > _ts(midnight)
    assert sum(i["enwh"] for i in stats["intervals"]) == summary["energy_today"]
    assert stats["intervals"][-1]["end_at"] == summary["last_interval_end_at"]
    assert stats["intervals"][-1]["powr"] == summary["current_power"] > 0
    truth = sim.truth_intervals(1001, midnight, NOON - timedelta(minutes=15))
    assert [(_ts(e), wh) for e, wh in truth] == [
        (i["end_at"], i["enwh"]) for i in stats["intervals"]
    ]
    assert all(i["powr"] == 12 * i["enwh"] for i in stats["intervals"])
    lifetime = await api.ok("systems/1001/energy_lifetime")
    assert sum(lifetime["production"]) == summary["energy_lifetime"]  # excludes today
    assert lifetime["start_date"] == sim.system(1001).operational_date.isoformat()
    assert len(lifetime["production"]) == DEFAULT_SYSTEMS[0].operational_days
    assert summary["source"] == "microinverters"
    assert (summary["modules"], summary["size_w"]) == (15, 5250)


async def test_lifetime_plus_today_never_dips_over_midnight(
    api: V2, sim: EnlightenSimulator, clock: SimClock
) -> None:
    clock.set(datetime(2026, 6, 21, 21, 30, tzinfo=UTC))  # 23:30 in Berlin
    before = await api.ok("systems/1001/summary")
    clock.set(datetime(2026, 6, 21, 22, 30, tzinfo=UTC))  # 00:30
    after = await api.ok("systems/1001/summary")
    assert after["energy_today"] == 0
    assert after["current_power"] == 0
    assert after["energy_lifetime"] == before["energy_lifetime"] + before["energy_today"]
    assert before["energy_today"] == sim.truth_day(1001, date(2026, 6, 21))


async def test_metered_system_summary_from_the_meter(api: V2, sim: EnlightenSimulator) -> None:
    summary = await api.ok("systems/1002/summary")
    assert summary["source"] == "meter"
    rgm = await api.ok("systems/1002/rgm_stats")
    assert sum(i["wh_del"] for i in rgm["intervals"]) == summary["energy_today"]
    assert rgm["intervals"][-1]["wh_del"] * 4 == summary["current_power"]
    stats = await api.ok("systems/1002/stats")
    micro = sum(i["enwh"] for i in stats["intervals"])
    assert 0.95 * micro < summary["energy_today"] < micro  # the meter reads a little lower


async def test_historical_summary(api: V2, sim: EnlightenSimulator) -> None:
    body = await api.ok("systems/1001/summary", summary_date="2026-06-01")
    assert (body["current_power"], body["modules"], body["size_w"]) == (0, 0, 0)
    assert body["summary_date"] == "2026-06-01"
    assert body["energy_today"] == sim.truth_day(1001, date(2026, 6, 1))
    lifetime = await api.ok("systems/1001/energy_lifetime", end_date="2026-05-31")
    assert body["energy_lifetime"] == sum(lifetime["production"])
    assert (await api.get("systems/1001/summary", summary_date="2026-06-22")).status == 422
    assert (await api.get("systems/1001/summary", summary_date="June")).status == 422


async def test_night_has_no_power_and_no_new_rows(
    api: V2, sim: EnlightenSimulator, clock: SimClock
) -> None:
    clock.set(NIGHT)  # 01:00 in Berlin: nothing since yesterday's sunset
    summary = await api.ok("systems/1001/summary")
    assert (summary["current_power"], summary["energy_today"]) == (0, 0)
    assert summary["last_report_at"] == _ts(NIGHT - timedelta(minutes=10))
    reply = await api.get("systems/1001/stats")  # from today's midnight: past the last interval
    assert reply.status == 422
    assert reply.json()["reason"] == "422"
    assert "start_at" in reply.json()


# -- stats and rgm_stats ---------------------------------------------------------------------------


async def test_stats_one_day_at_most_rounded_down_no_dark_rows(
    api: V2, sim: EnlightenSimulator
) -> None:
    start = datetime(2026, 6, 19, 22, 2, tzinfo=UTC)  # 00:02 Berlin, rounded down to 00:00
    body = await api.ok("systems/1001/stats", start_at=_ts(start), end_at=_ts(start) + 3 * 86400)
    ends = [i["end_at"] for i in body["intervals"]]
    assert ends[0] > _ts(start) - 120
    assert ends[-1] <= _ts(start) - 120 + 86400
    truth = sim.truth_intervals(1001, start - timedelta(minutes=2), start + timedelta(days=1))
    assert ends == [_ts(e) for e, _ in truth]
    # dark hours: nothing between sunset and sunrise (Berlin midsummer ~21:33 - 04:43 local)
    hours = {datetime.fromtimestamp(e, sim.system(1001).tz).hour for e in ends}
    assert not hours & {0, 1, 2, 23}
    assert all(b - a >= 300 and (b - a) % 300 == 0 for a, b in itertools.pairwise(ends))
    assert body["total_devices"] == 15


async def test_stats_before_a_year_ago_is_empty_and_before_operation_422(
    api: V2, sim: EnlightenSimulator
) -> None:
    old = _ts(NOON - timedelta(days=400))
    body = await api.ok("systems/1001/stats", start_at=old, end_at=old + 86400)
    assert body["intervals"] == []
    young = _ts(NOON - timedelta(days=260))  # 1003 is operational since 250 days
    reply = await api.get("systems/1003/stats", start_at=young, end_at=young + 3600)
    assert reply.status == 422
    body = await api.ok("systems/1003/stats", start_at=young, end_at=young + 20 * 86400)
    operational = sim.system(1003).operational_at
    assert body["meta"]["operational_at"] == operational
    ends = [i["end_at"] for i in body["intervals"]]
    assert operational < ends[0]
    assert ends[-1] <= operational + 86400


async def test_stats_iso8601(api: V2, sim: EnlightenSimulator) -> None:
    body = await api.ok("systems/1001/stats", datetime_format="iso8601")
    first = datetime.fromisoformat(body["intervals"][0]["end_at"])
    assert first.utcoffset() == timedelta(hours=2)
    assert isinstance(body["meta"]["operational_at"], str)
    summary = await api.ok("systems/1001/summary", datetime_format="iso8601")
    assert summary["summary_date"] == "2026-06-21T00:00:00+02:00"
    epoch = await api.ok("systems/1001/summary", datetime_format="epoch")
    assert epoch["summary_date"] == _ts(datetime.fromisoformat(summary["summary_date"]))


async def test_rgm_stats(api: V2, sim: EnlightenSimulator) -> None:
    start = datetime(2026, 6, 1, 0, 7, tzinfo=UTC)
    body = await api.ok(
        "systems/1002/rgm_stats", start_at=_ts(start), end_at=_ts(start) + 60 * 86400
    )
    ends = [i["end_at"] for i in body["intervals"]]
    assert ends[0] == _ts(start.replace(minute=15))  # rounded down to 00:00, first end 00:15
    assert ends[-1] <= _ts(datetime(2026, 7, 1, 0, 0, tzinfo=UTC))
    assert len(ends) > 80 * 20
    assert any(i["wh_del"] == 0 for i in body["intervals"])  # meters report the night too
    truth = sim.truth_meter_intervals(1002, start.replace(minute=0), NOON - timedelta(minutes=15))
    assert [(_ts(e), wh) for e, wh in truth] == [
        (i["end_at"], i["wh_del"]) for i in body["intervals"]
    ]
    none = await api.ok("systems/1001/rgm_stats")
    assert (none["intervals"], none["total_devices"]) == ([], 0)


async def test_hourly_truth_equals_the_api_intervals(api: V2, sim: EnlightenSimulator) -> None:
    start = datetime(2026, 6, 20, 0, 0, tzinfo=UTC)
    body = await api.ok("systems/1001/stats", start_at=_ts(start), end_at=_ts(start) + 86400)
    hourly: dict[datetime, int] = {}
    for i in body["intervals"]:
        hour = datetime.fromtimestamp(i["end_at"] - 1, UTC).replace(minute=0, second=0)
        hourly[hour] = hourly.get(hour, 0) + i["enwh"]
    assert hourly == sim.truth_hourly(1001, start, start + timedelta(days=1))
    meter = sim.truth_hourly(1002, start, start + timedelta(days=1), source="meter")
    assert len(meter) == 24


# -- energy_lifetime -------------------------------------------------------------------------------


async def test_energy_lifetime_meter_series(api: V2, sim: EnlightenSimulator) -> None:
    system = sim.system(1002)
    assert system.meter_start_date is not None
    start = system.meter_start_date - timedelta(days=3)
    end = system.meter_start_date + timedelta(days=2)
    body = await api.ok(
        "systems/1002/energy_lifetime",
        start_date=start.isoformat(),
        end_date=end.isoformat(),
        production="all",
    )
    assert body["meter_start_date"] == system.meter_start_date.isoformat()
    assert body["start_date"] == start.isoformat()
    micro, meter, merged = body["micro_production"], body["meter_production"], body["production"]
    assert len(merged) == len(micro) == len(meter) == 6
    assert meter[:2] == [0, 0]
    assert 0 < meter[2] < micro[2]
    assert merged == micro[:3] + meter[3:]
    plain = await api.ok(
        "systems/1002/energy_lifetime", start_date=start.isoformat(), end_date=end.isoformat()
    )
    assert plain["production"] == merged
    assert "micro_production" not in plain
    assert "meter_start_date" not in await api.ok("systems/1001/energy_lifetime")
    micro_only = await api.ok("systems/1001/energy_lifetime", production="all")
    assert micro_only["micro_production"] == micro_only["production"]
    assert "meter_production" not in micro_only


async def test_energy_lifetime_trailing_zeros_after_the_envoy_stopped(
    api: V2, sim: EnlightenSimulator, clock: SimClock
) -> None:
    clock.advance(timedelta(days=23))  # 1003's Envoy stopped reporting after 20 days
    summary = await api.ok("systems/1003/summary")
    assert summary["status"] == "comm"
    last_report = datetime.fromtimestamp(summary["last_report_at"], UTC)
    assert last_report < NOON + timedelta(days=20)
    default = await api.ok("systems/1003/energy_lifetime")
    tz = sim.system(1003).tz
    assert (
        date.fromisoformat(default["start_date"]) + timedelta(days=len(default["production"]) - 1)
        == (last_report - timedelta(minutes=5, seconds=1)).astimezone(tz).date()
    )
    yesterday = (clock.now().astimezone(tz) - timedelta(days=1)).date()
    full = await api.ok("systems/1003/energy_lifetime", end_date=yesterday.isoformat())
    assert full["production"][-2:] == [0, 0]
    assert full["production"][-5] > 0
    assert summary["energy_lifetime"] == sum(full["production"])
    assert summary["energy_today"] == 0
    envoys = await api.ok("systems/1003/envoys")
    assert envoys["envoys"][0]["status"] == "comm"
    assert envoys["envoys"][0]["last_report_at"] == summary["last_report_at"]
    assert [s["system_id"] for s in (await api.ok("systems", status="comm"))["systems"]] == [1003]


async def test_comm_outage_and_back_uploads_the_backlog(
    api: V2, sim: EnlightenSimulator, clock: SimClock
) -> None:
    clock.advance(timedelta(hours=27))  # 1002 does not communicate from +26 h to +30 h
    during = await api.ok("systems/1002/summary")
    assert during["status"] == "comm"
    assert during["last_report_at"] < _ts(NOON + timedelta(hours=26))
    assert (await api.ok("systems/1002/envoys"))["envoys"][0]["status"] == "comm"
    clock.advance(timedelta(hours=3, minutes=6))
    after = await api.ok("systems/1002/summary")
    assert after["status"] == "normal"
    assert after["last_report_at"] == _ts(NOON + timedelta(hours=30, minutes=5))
    tz = sim.system(1002).tz
    midnight = datetime.combine(clock.now().astimezone(tz).date(), datetime.min.time(), tz)
    truth = sim.truth_meter_intervals(1002, midnight, NOON + timedelta(hours=30))
    assert after["energy_today"] == sum(wh for _, wh in truth)


async def test_controls_stop_and_resume_reporting(
    api: V2, sim: EnlightenSimulator, clock: SimClock
) -> None:
    sim.stop_reporting(1001)
    clock.advance(timedelta(hours=1))
    assert (await api.ok("systems/1001/summary"))["status"] == "comm"
    sim.resume_reporting(1001)
    summary = await api.ok("systems/1001/summary")
    assert summary["status"] == "normal"
    assert summary["last_report_at"] == _ts(NOON + timedelta(minutes=50))


# -- envoys, inventory, monthly_production ---------------------------------------------------------


async def test_envoys_and_inventory(api: V2) -> None:
    envoys = await api.ok("systems/1001/envoys")
    assert envoys["envoys"] == [
        {
            "envoy_id": 5001,
            "last_report_at": _ts(NOON - timedelta(minutes=10)),
            "name": "Envoy 121900010001",
            "part_number": "800-00654-r08",
            "serial_number": "121900010001",
            "status": "normal",
        }
    ]
    iso = await api.ok("systems/1001/envoys", datetime_format="iso8601")
    assert iso["envoys"][0]["last_report_at"] == "2026-06-21T11:50:00+02:00"
    plain = await api.ok("systems/1001/inventory")
    assert set(plain) == {"system_id", "envoys", "inverters"}  # no meters: key absent
    assert len(plain["inverters"]) == 15
    assert plain["inverters"][0]["model"]
    metered = await api.ok("systems/1002/inventory")
    assert metered["meters"][0]["manufacturer"] == "Enphase"


async def test_monthly_production_deprecated_and_available(
    api: V2, sim: EnlightenSimulator
) -> None:
    reply = await api.get("systems/1001/monthly_production", start_date="2026-04-01")
    assert (reply.status, reply.json()) == (500, UNAVAILABLE)
    sim.config.monthly_production_unavailable = False
    body = await api.ok("systems/1002/monthly_production", start_date="2026-04-01")
    assert (body["start_date"], body["end_date"]) == ("2026-04-01", "2026-04-30")
    days = await api.ok(
        "systems/1002/energy_lifetime", start_date="2026-04-01", end_date="2026-04-30"
    )
    assert body["production_wh"] == sum(days["production"])
    reading = body["meter_readings"][0]
    assert reading["end"] - reading["start"] == body["production_wh"]
    shifted = await api.ok("systems/1001/monthly_production", start_date="2026-04-20")
    assert shifted["end_date"] == "2026-05-19"
    assert shifted["meter_readings"] == []
    assert (await api.get("systems/1001/monthly_production", start_date="2026-06-01")).status == 422


async def test_jsonp_callback(api: V2) -> None:
    reply = await api.get("systems", callback="my_method")
    assert reply.content_type == "application/javascript"
    assert reply.text.startswith("my_method(")
    assert reply.text.endswith(")")
    assert json.loads(reply.text[len("my_method(") : -1])["systems"][0]["system_id"] == 1001


# -- the budget ------------------------------------------------------------------------------------


async def test_minute_limit_answers_409_exactly_at_the_limit(
    http: aiohttp.ClientSession, clock: SimClock
) -> None:
    clock.set(NOON + timedelta(seconds=20))
    async with EnlightenSimulator(EnlightenConfig(), clock) as sim:
        api = V2(http, sim)
        for _ in range(10):
            await api.ok("systems/1001/summary")
        reply = await api.get("systems/1001/summary")
        assert reply.status == 409
        minute = _ts(NOON)
        assert reply.json() == {
            "reason": "409",
            "message": ["Usage limit exceeded for plan Watt"],
            "period": "minute",
            "period_start": minute,
            "period_end": minute + 60,
            "limit": 10,
        }
        clock.set(NOON + timedelta(seconds=60))
        await api.ok("systems/1001/summary")
        usage = sim.usage()
        assert (usage.total, usage.rejected_limit, usage.max_per_minute) == (11, 1, 10)
        assert usage.minute(clock.now().timestamp()) == 1
        assert usage.month(clock.now().timestamp()) == 11


async def test_month_limit_then_a_new_month(http: aiohttp.ClientSession, clock: SimClock) -> None:
    config = EnlightenConfig(month_limit=25, other_api_keys=("second-key",))
    async with EnlightenSimulator(config, clock) as sim:
        api = V2(http, sim)
        for n in range(25):
            clock.set(NOON + timedelta(minutes=n))
            await api.ok("systems")
        reply = await api.get("systems")
        body = reply.json()
        assert (reply.status, body["period"], body["limit"]) == (409, "month", 25)
        assert body["period_start"] == _ts(datetime(2026, 6, 1, tzinfo=UTC))
        assert body["period_end"] == _ts(datetime(2026, 7, 1, tzinfo=UTC))
        api.key = "second-key"  # every key has its own budget
        await api.ok("systems")
        api.key = config.api_key
        clock.set(datetime(2026, 7, 1, 0, 0, 1, tzinfo=UTC))
        await api.ok("systems")
        assert sim.usage().month(clock.now().timestamp()) == 1
        assert sim.usage().rejected_limit == 1
        assert sim.usage("second-key").total == 1


async def test_overlapping_requests_of_one_key_get_503(
    http: aiohttp.ClientSession, clock: SimClock
) -> None:
    async with EnlightenSimulator(EnlightenConfig(hang_seconds=0.5), clock) as sim:
        api = V2(http, sim)
        sim.fail_next("timeout")
        slow = asyncio.create_task(api.get("systems"))
        await asyncio.sleep(0.1)
        busy = await api.get("systems/1001/summary")
        assert busy.status == 503
        assert busy.json()["reason"] == "503"
        assert (await slow).status == 200
        assert sim.usage().rejected_busy == 1
        assert sim.usage().total == 1


@pytest.mark.parametrize(
    ("kind", "status", "body"),
    [
        ("500", 500, {"reason": "500", "message": ["Internal Server Error"]}),
        ("502", 502, {"reason": "502", "message": ["Bad Gateway"]}),
        ("401", 401, {"reason": "401", "message": [BAD_KEY]}),
        ("unavailable", 500, UNAVAILABLE),
    ],
)
async def test_status_faults(api: V2, kind: str, status: int, body: object) -> None:
    api.sim.fail_next(kind, path="/summary")
    await api.ok("systems")  # other paths unaffected
    reply = await api.get("systems/1001/summary")
    assert (reply.status, reply.json()) == (status, body)
    await api.ok("systems/1001/summary")


async def test_malformed_and_timeout_faults(api: V2, sim: EnlightenSimulator) -> None:
    sim.fail_next("malformed")
    reply = await api.get("systems/1001/summary")
    assert reply.status == 200
    with pytest.raises(json.JSONDecodeError):
        reply.json()
    sim.config.hang_seconds = 5
    sim.fail_next("timeout")
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await api.get("systems")
    await sim.stop()  # releases the hanging request


# -- the command line ------------------------------------------------------------------------------


async def test_scripts_simulate_enlighten_serves_v2() -> None:
    async with simulator_process(
        "enlighten", "--api-key", "K1", "--user-id", "U1", "--minute-limit", "3", lines=3
    ) as banner:
        url = banner[0].split(" on ")[1].split()[0]
        async with aiohttp.ClientSession() as http:
            params = {"key": "K1", "user_id": "U1"}
            statuses = []
            for _ in range(4):
                async with http.get(f"{url}/api/v2/systems", params=params) as response:
                    statuses.append(response.status)
    assert statuses == [200, 200, 200, 409]
    assert "api/v2" in "".join(banner)
