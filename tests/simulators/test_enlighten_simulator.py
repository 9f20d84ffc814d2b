"""The Enphase Enlighten simulator, driven over loopback HTTP with plain aiohttp calls.

Every check follows the v2 document (``shared/seeds/enphase-enlighten-systems-api-v2.txt``) and
the vendor notes; the simulator's truth accessors are compared with what its API answers.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
import itertools
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from tests.constants import NIGHT, NOON
from tests.simulators import SimClock
from tests.simulators.enlighten import (
    BAD_KEY,
    BAD_USER,
    DEFAULT_SYSTEMS,
    UNAVAILABLE,
    EnlightenConfig,
    EnlightenSimulator,
)
from tests.simulators.helpers import simulator_process

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


# -- v4: OAuth2 ----------------------------------------------------------------------------------

REDIRECT = "https://example.com/auth/external/callback"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class V4:
    """The OAuth2 dance and Bearer + ``key`` GETs."""

    def __init__(self, http: aiohttp.ClientSession, sim: EnlightenSimulator) -> None:
        self.http = http
        self.sim = sim
        self.key = sim.config.v4_api_key
        self.access: str | None = None
        self.refresh: str | None = None

    async def authorize(self, state: str = "st-1", **extra: str) -> dict[str, list[str]]:
        params = {
            "response_type": "code",
            "client_id": self.sim.config.client_id,
            "redirect_uri": REDIRECT,
            "state": state,
            **extra,
        }
        async with self.http.get(
            f"{self.sim.url}/oauth/authorize", params=params, allow_redirects=False
        ) as response:
            assert response.status == 302
            location = response.headers["Location"]
        assert location.startswith(REDIRECT + "?")
        return parse_qs(urlsplit(location).query)

    async def token(
        self, *, in_body: bool = False, secret: str | None = None, **params: str
    ) -> tuple[int, dict[str, Any]]:
        cfg = self.sim.config
        headers = {"Authorization": _basic(cfg.client_id, secret or cfg.client_secret)}
        kwargs: dict[str, Any] = {"data": params} if in_body else {"params": params}
        async with self.http.post(
            f"{self.sim.url}/oauth/token", headers=headers, **kwargs
        ) as response:
            body = await response.json()
            if response.status == 200:
                self.access, self.refresh = body["access_token"], body["refresh_token"]
            return response.status, body

    async def login(self) -> None:
        code = (await self.authorize())["code"][0]
        status, _ = await self.token(
            grant_type="authorization_code", code=code, redirect_uri=REDIRECT
        )
        assert status == 200

    async def get(self, path: str, **params: Any) -> Reply:
        headers = {"Authorization": f"Bearer {self.access}"} if self.access else {}
        query = {"key": self.key, **{k: str(v) for k, v in params.items()}}
        async with self.http.get(
            f"{self.sim.url}/api/v4/{path}", params=query, headers=headers
        ) as response:
            return Reply(response.status, response.content_type, await response.text())

    async def ok(self, path: str, **params: Any) -> Any:
        reply = await self.get(path, **params)
        assert reply.status == 200, reply.text
        return reply.json()


@pytest.fixture
async def v4(http: aiohttp.ClientSession, clock: SimClock) -> AsyncIterator[V4]:
    config = EnlightenConfig(v4_minute_limit=1000, v4_month_limit=100_000)
    async with EnlightenSimulator(config, clock) as simulator:
        client = V4(http, simulator)
        await client.login()
        yield client


async def test_oauth_authorize_redirects_with_code_and_state(v4: V4) -> None:
    query = await v4.authorize(state="xyz")
    assert query["state"] == ["xyz"]
    assert len(query["code"][0]) >= 8
    v4.sim.config.refuse_consent = True
    refused = await v4.authorize(state="abc")
    assert (refused["error"], refused["state"]) == (["access_denied"], ["abc"])
    assert "code" not in refused
    async with v4.http.get(
        f"{v4.sim.url}/oauth/authorize",
        params={"response_type": "code", "client_id": "other", "redirect_uri": REDIRECT},
        allow_redirects=False,
    ) as response:
        assert response.status == 400


async def test_oauth_token_fields_code_single_use_and_redirect_checked(v4: V4) -> None:
    code = (await v4.authorize())["code"][0]
    status, body = await v4.token(
        in_body=True, grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    )
    assert status == 200
    assert set(body) >= {
        "access_token",
        "token_type",
        "refresh_token",
        "expires_in",
        "scope",
        "enl_uid",
        "enl_cid",
        "jti",
    }
    assert (body["token_type"], body["enl_uid"]) == ("bearer", v4.sim.config.enl_uid)
    assert 86000 < body["expires_in"] <= 86400
    again = await v4.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert again == (
        400,
        {"error": "invalid_grant", "error_description": "Invalid authorization code"},
    )
    code = (await v4.authorize())["code"][0]
    status, body = await v4.token(
        grant_type="authorization_code", code=code, redirect_uri="https://elsewhere/cb"
    )
    assert (status, body["error"]) == (400, "invalid_grant")
    code = (await v4.authorize())["code"][0]
    status, body = await v4.token(
        secret="wrong", grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    )
    assert (status, body["error"]) == (401, "invalid_client")
    assert (await v4.token(grant_type="password"))[0] == 400


async def test_access_token_expires_and_refresh_rotates(v4: V4, clock: SimClock) -> None:
    await v4.ok("systems")
    clock.advance(timedelta(days=1))
    expired = await v4.get("systems")
    assert (expired.status, expired.json()["code"]) == (401, 401)
    old = v4.refresh
    assert old is not None
    status, body = await v4.token(grant_type="refresh_token", refresh_token=old)
    assert status == 200
    assert body["refresh_token"] != old
    await v4.ok("systems")
    reused = await v4.token(in_body=True, grant_type="refresh_token", refresh_token=old)
    assert reused == (400, {"error": "invalid_grant", "error_description": "Invalid refresh token"})
    assert v4.sim.oauth.refreshes == 1
    v4.sim.oauth.revoke_refresh_tokens()
    assert (await v4.token(grant_type="refresh_token", refresh_token=body["refresh_token"]))[
        0
    ] == 400


async def test_v4_keys_missing_token_and_foreign_app(v4: V4) -> None:
    v4.key = v4.sim.config.foreign_api_keys[0]
    reply = await v4.get("systems")
    assert (reply.status, reply.json()) == (
        401,
        {"message": "Not Authorized", "details": "API Key -Client mismatch", "code": 401},
    )
    v4.key = "unknown"
    assert (await v4.get("systems")).status == 401
    v4.key = v4.sim.config.v4_api_key
    v4.access = None
    assert (await v4.get("systems")).status == 401
    assert v4.sim.usage(v4.key).total == 0


async def test_v4_429_at_the_minute_and_month_limits(
    http: aiohttp.ClientSession, clock: SimClock
) -> None:
    async with EnlightenSimulator(EnlightenConfig(v4_month_limit=15), clock) as sim:
        v4 = V4(http, sim)
        await v4.login()
        for _ in range(10):
            await v4.ok("systems/1001/summary")
        reply = await v4.get("systems/1001/summary")
        expected = {
            "message": "Too Many Requests",
            "details": "Usage limit exceeded for plan Watt",
            "code": 429,
        }
        assert (reply.status, reply.json()) == (429, expected)
        for minute in range(1, 6):
            clock.set(NOON + timedelta(minutes=minute))
            await v4.ok("systems")
        clock.set(NOON + timedelta(minutes=7))
        reply = await v4.get("systems")
        assert (reply.status, reply.json()) == (429, expected)  # the month: 15 spent
        usage = sim.usage(sim.config.v4_api_key)
        assert (usage.total, usage.rejected_limit, usage.max_per_minute) == (15, 2, 10)
        assert sim.oauth.token_requests == 1  # token calls are not counted by default


# -- v4: the API ---------------------------------------------------------------------------------


async def test_v4_systems_pages(v4: V4) -> None:
    first = await v4.ok("systems", page=1, size=2)
    assert (first["total"], first["current_page"], first["size"], first["count"]) == (3, 1, 2, 2)
    assert first["items"] == "systems"
    assert [s["system_id"] for s in first["systems"]] == [1001, 1002]
    assert first["systems"][0]["name"] == "Sonnenhof"
    assert first["systems"][0]["energy_lifetime"] == -1
    second = await v4.ok("systems", page=2, size=2)
    assert [s["system_id"] for s in second["systems"]] == [1003]
    assert (await v4.ok("systems", size=500))["size"] == 100


async def test_v4_summary_and_devices_with_and_without_battery(v4: V4, clock: SimClock) -> None:
    summary = await v4.ok("systems/1002/summary")
    assert summary["battery_capacity_wh"] == 10_080
    assert {"battery_charge_w", "battery_discharge_w"} <= set(summary)
    v2_like = await v4.ok("systems/1001/summary")
    assert "battery_capacity_wh" not in v2_like
    devices = (await v4.ok("systems/1002/devices"))["devices"]
    assert set(devices) == {"micros", "meters", "gateways", "encharges"}
    assert [m.get("config_type") for m in devices["meters"]] == [None, "Net"]
    plain = (await v4.ok("systems/1001/devices"))["devices"]
    assert set(plain) == {"micros", "gateways"}
    assert len(plain["micros"]) == 15
    v4.sim.remove_battery(1002)
    clock.advance(timedelta(minutes=30))
    assert "encharges" not in (await v4.ok("systems/1002/devices"))["devices"]
    assert "battery_capacity_wh" not in await v4.ok("systems/1002/summary")
    battery = await v4.ok("systems/1002/telemetry/battery")
    assert battery["total_devices"] == 0
    assert battery["intervals"][-1]["end_at"] <= v4.sim.systems[1002].flows.battery_removed_at  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="no battery"):
        v4.sim.remove_battery(1001)


async def test_v4_production_micro_equals_truth(v4: V4) -> None:
    start = _ts(datetime(2026, 6, 20, 0, 0, tzinfo=UTC))
    body = await v4.ok("systems/1001/telemetry/production_micro", start_at=start)
    truth = v4.sim.truth_intervals(
        1001, datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(start + 86400, UTC)
    )
    assert [(i["end_at"], i["enwh"]) for i in body["intervals"]] == [
        (_ts(e), wh) for e, wh in truth
    ]
    assert (body["granularity"], body["items"], body["start_at"]) == ("day", "intervals", start)
    week = await v4.ok(
        "systems/1001/telemetry/production_micro", start_at=start - 6 * 86400, granularity="week"
    )
    assert len(week["intervals"]) > 6 * 150
    assert week["intervals"][-1]["end_at"] <= start + 86400
    newer = await v4.ok("systems/1001/telemetry/production_micro", start_at=_ts(NOON) - 60)
    assert newer["intervals"] == []  # nothing newer: not an error
    too_old = await v4.get(
        "systems/1001/telemetry/production_micro", start_at=_ts(NOON) - 3 * 365 * 86400
    )
    assert too_old.status == 422
    assert (
        await v4.get("systems/1001/telemetry/production_micro", granularity="year")
    ).status == 422


@pytest.mark.parametrize(
    "first_day", [datetime(2026, 6, 14, tzinfo=UTC), datetime(2025, 12, 10, tzinfo=UTC)]
)
async def test_v4_energy_is_conserved_and_soc_within_capacity(v4: V4, first_day: datetime) -> None:
    flows = v4.sim.truth_flows(1002, first_day, first_day + timedelta(days=7))
    assert len(flows) == 7 * 96
    for f in flows:
        assert f.production + f.imported + f.discharge == f.consumption + f.exported + f.charge
        assert f.soc_percent is not None
        assert 10 <= f.soc_percent <= 100
        assert min(f.imported, f.exported, f.charge, f.discharge) >= 0
        assert f.imported == 0 or f.exported == 0
    assert sum(f.charge for f in flows) > 0
    assert sum(f.discharge for f in flows) > 0
    # midsummer: a surplus exported; December: the battery runs empty and the grid helps
    assert sum(f.exported if first_day.month == 6 else f.imported for f in flows) > 0
    meter = dict(v4.sim.truth_meter_intervals(1002, first_day, first_day + timedelta(days=7)))
    assert [f.production for f in flows] == [
        meter[datetime.fromtimestamp(f.end_at, UTC)] for f in flows
    ]


async def test_v4_site_telemetry_series_match_the_flows(v4: V4) -> None:
    start = _ts(datetime(2026, 6, 19, 0, 0, tzinfo=UTC))
    flows = v4.sim.truth_flows(
        1002, datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(start + 86400, UTC)
    )
    path = "systems/1002/"
    consumption = await v4.ok(path + "telemetry/consumption_meter", start_at=start)
    assert [i["enwh"] for i in consumption["intervals"]] == [f.consumption for f in flows]
    production = await v4.ok(path + "telemetry/production_meter", start_at=start)
    assert [i["wh_del"] for i in production["intervals"]] == [f.production for f in flows]
    imported = await v4.ok(path + "energy_import_telemetry", start_at=start)
    assert [i["wh_imported"] for i in imported["intervals"]] == [f.imported for f in flows]
    exported = await v4.ok(path + "energy_export_telemetry", start_at=start)
    assert [i["wh_exported"] for i in exported["intervals"][0]] == [f.exported for f in flows]
    battery = await v4.ok(path + "telemetry/battery", start_at=start)
    assert [
        (i["charge"]["enwh"], i["discharge"]["enwh"], i["soc"]["percent"])
        for i in battery["intervals"]
    ] == [(f.charge, f.discharge, f.soc_percent) for f in flows]
    assert len(consumption["intervals"]) == 96
    week = await v4.ok(
        path + "telemetry/consumption_meter", start_at=start - 6 * 86400, granularity="week"
    )
    assert len(week["intervals"]) == 672
    rgm = await v4.ok(path + "rgm_stats", start_at=start - 6 * 86400, end_at=start + 86400 * 30)
    assert len(rgm["intervals"]) == 672


async def test_v4_sites_without_meters_have_no_site_series(v4: V4) -> None:
    for series in ("telemetry/consumption_meter", "energy_import_telemetry", "telemetry/battery"):
        body = await v4.ok(f"systems/1001/{series}")
        assert (body["total_devices"], body["intervals"]) == (0, [])
    lifetime = await v4.ok("systems/1001/consumption_lifetime")
    assert (lifetime["start_date"], lifetime["consumption"]) == (None, [])
    assert (await v4.ok("systems/1001/latest_telemetry"))["devices"] == {}


async def test_v4_lifetime_series_are_daily_sums_of_the_flows(v4: V4) -> None:
    system = v4.sim.systems[1002]
    day = date(2026, 6, 18)
    args = {"start_date": day.isoformat(), "end_date": (day + timedelta(days=1)).isoformat()}
    midnight = datetime.combine(day, datetime.min.time(), system.tz)
    flows = v4.sim.truth_flows(1002, midnight, midnight + timedelta(days=1))
    consumption = await v4.ok("systems/1002/consumption_lifetime", **args)
    assert consumption["consumption"][0] == sum(f.consumption for f in flows)
    battery = await v4.ok("systems/1002/battery_lifetime", **args)
    assert battery["charge"][0] == sum(f.charge for f in flows)
    assert battery["discharge"][0] == sum(f.discharge for f in flows)
    imported = await v4.ok("systems/1002/energy_import_lifetime", **args)
    assert imported["import"][0] == sum(f.imported for f in flows)
    exported = await v4.ok("systems/1002/energy_export_lifetime", **args)
    assert exported["export"][0] == sum(f.exported for f in flows)
    production = await v4.ok("systems/1002/energy_lifetime", production="all", **args)
    assert production["production"][0] == sum(f.production for f in flows)
    full = await v4.ok("systems/1002/consumption_lifetime")
    assert full["start_date"] == system.day_of_end(system.flows.first_end).isoformat()  # type: ignore[union-attr]
    assert len(full["consumption"]) == 200 + 1  # from the day the meters came to yesterday


async def test_v4_latest_telemetry(v4: V4) -> None:
    body = await v4.ok("systems/1002/latest_telemetry")
    meters = {m["name"]: m["power"] for m in body["devices"]["meters"]}
    flow = v4.sim.truth_flows(1002, NOON - timedelta(minutes=30), NOON - timedelta(minutes=15))[-1]
    assert meters == {"production": flow.production * 4, "consumption": flow.consumption * 4}
    assert body["devices"]["encharges"][0]["soc"] == flow.soc_percent


async def test_v4_faults_in_the_v4_shape(v4: V4) -> None:
    v4.sim.fail_next("502", path="/summary")
    reply = await v4.get("systems/1001/summary")
    assert (reply.status, reply.json()) == (
        502,
        {"message": "Bad Gateway", "details": "Bad Gateway", "code": 502},
    )
    v4.sim.fail_next("malformed")
    with pytest.raises(json.JSONDecodeError):
        (await v4.get("systems")).json()
    assert (await v4.get("systems/1001/nothing")).json()["code"] == 404


async def test_scripts_simulate_enlighten_serves_v4_and_oauth() -> None:
    async with simulator_process(
        "enlighten", "--client-id", "C1", "--client-secret", "S1", lines=4
    ) as banner:
        url = banner[0].split(" on ")[1].split()[0]
        async with aiohttp.ClientSession() as http:
            params = {"response_type": "code", "client_id": "C1", "redirect_uri": REDIRECT}
            async with http.get(
                f"{url}/oauth/authorize", params=params, allow_redirects=False
            ) as response:
                code = parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]
            async with http.post(
                f"{url}/oauth/token",
                params={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
                headers={"Authorization": _basic("C1", "S1")},
            ) as response:
                assert response.status == 200
    assert "/api/v4" in banner[2]
    assert "/oauth/authorize" in banner[2]


async def test_token_requests_can_count_against_the_v4_budget(
    http: aiohttp.ClientSession, clock: SimClock
) -> None:
    config = EnlightenConfig(count_token_requests=True, v4_minute_limit=3)
    async with EnlightenSimulator(config, clock) as sim:
        v4 = V4(http, sim)
        await v4.login()
        await v4.ok("systems")
        await v4.ok("systems")
        assert (await v4.get("systems")).status == 429
        status, body = await v4.token(grant_type="refresh_token", refresh_token=v4.refresh or "")
        assert (status, body["code"]) == (429, 429)
        assert sim.usage(config.v4_api_key).total == 3


async def test_v4_hourly_truth_of_the_site_flows(v4: V4) -> None:
    start = datetime(2026, 6, 20, tzinfo=UTC)
    flows = v4.sim.truth_flows(1002, start, start + timedelta(days=1))
    hourly = v4.sim.truth_hourly(1002, start, start + timedelta(days=1), source="consumption")
    assert len(hourly) == 24
    assert sum(hourly.values()) == sum(f.consumption for f in flows)
    assert hourly[start] == sum(f.consumption for f in flows[:4])


async def test_a_simulated_day_lifetime_plus_today_never_dips(
    api: V2, sim: EnlightenSimulator, clock: SimClock
) -> None:
    """Over 36 hours in 15-minute steps every system's lifetime + today only grows, by truth."""
    clock.set(datetime(2026, 6, 21, 18, 0, tzinfo=UTC))
    previous = dict.fromkeys(sim.systems, 0)
    for _ in range(36 * 4):
        for system_id in sim.systems:
            body = await api.ok(f"systems/{system_id}/summary")
            total = body["energy_lifetime"] + body["energy_today"]
            assert total >= previous[system_id]
            previous[system_id] = total
        clock.advance(900)
    summary = await api.ok("systems/1001/summary")
    assert summary["energy_lifetime"] + summary["energy_today"] >= previous[1001]
    today = clock.now().astimezone(sim.system(1001).tz).date()
    series = await api.ok("systems/1001/energy_lifetime", end_date=today.isoformat())
    assert sum(series["production"]) == summary["energy_lifetime"] + summary["energy_today"]
    assert series["production"][-2] == sim.truth_day(1001, today - timedelta(days=1))
