"""The Enlighten clients (v2 and v4) over real loopback HTTP, on small canned servers.

A canned app records every request and answers what each test asks: the document's sample
answers, its quirks (cursor paging, 422 past the last interval, errorCode 7, the 409 body) and
what no faithful simulator says (a redirect, a body echoing the key, a huge answer).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
import json
import logging
from typing import Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
import pytest
from yarl import URL

from custom_components.solarhub.api.enlighten import transport
from custom_components.solarhub.api.enlighten.client import (
    EnlightenClient,
    EnlightenV2Client,
    EnlightenV4Client,
)
from custom_components.solarhub.api.enlighten.errors import (
    ConcurrentRequestsError,
    InvalidDatesError,
    KeyClientMismatchError,
    PlanNotPermittedError,
    TemporarilyUnavailableError,
)
from custom_components.solarhub.api.enlighten.transport import RequestRecord
from custom_components.solarhub.api.errors import (
    ApiConnectionError,
    AuthenticationError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    RatePeriod,
    RedirectRefusedError,
    ResponseTooLargeError,
    SolarHubApiError,
)
from tests.api.canned import serve_app

pytestmark = pytest.mark.usefixtures("socket_enabled")

KEY = "a1b2c3d4e5f6key"
USER = "4d6a51330a"
TOKEN = "tok-0123456789"
NOW = datetime(2026, 6, 21, 12, 0, tzinfo=UTC)

type Reply = Callable[[web.Request], Awaitable[web.StreamResponse]]


def reply(body: object, status: int = 200) -> Reply:
    async def handle(request: web.Request) -> web.StreamResponse:
        if isinstance(body, bytes):  # sent as it is
            return web.Response(body=body, status=status, content_type="application/json")
        return web.json_response(body, status=status)

    return handle


@dataclass
class Cloud:
    """A canned Enlighten: ``routes`` maps a path (after /api/vN) to a reply."""

    routes: dict[str, Reply] = field(default_factory=dict)
    requests: list[web.Request] = field(default_factory=list)
    in_flight: int = 0
    peak: int = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            path = request.path.split("/api/v2", 1)[-1].split("/api/v4", 1)[-1]
            route = self.routes.get(path)
            if route is None:
                return web.json_response({"message": "Not Found"}, status=404)
            return await route(request)
        finally:
            self.in_flight -= 1


@contextlib.asynccontextmanager
async def cloud() -> AsyncIterator[tuple[Cloud, str]]:
    fake = Cloud()
    async with serve_app(fake.handle) as host:
        yield fake, f"http://{host}"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


def v2(
    http: aiohttp.ClientSession, base: str, records: list[RequestRecord] | None = None, **kw: Any
) -> EnlightenV2Client:
    return EnlightenV2Client(
        http,
        KEY,
        USER,
        base_url=base + "/api/v2",
        clock=lambda: NOW,
        on_request=None if records is None else records.append,
        **kw,
    )


def v4(
    http: aiohttp.ClientSession,
    base: str,
    token: Callable[[], Awaitable[str]] | None = None,
    **kw: Any,
) -> EnlightenV4Client:
    async def valid_token() -> str:
        return TOKEN

    return EnlightenV4Client(
        http, KEY, token or valid_token, base_url=base + "/api/v4", clock=lambda: NOW, **kw
    )


SUMMARY = {
    "current_power": 3322,
    "energy_lifetime": 19050353,
    "energy_today": 25639,
    "last_interval_end_at": 1380632400,
    "last_report_at": 1380632791,
    "modules": 31,
    "operational_at": 1201362300,
    "size_w": 5250,
    "source": "microinverters",
    "status": "normal",
    "summary_date": "2014-01-06",
    "system_id": 123,
}


def system(system_id: int) -> dict[str, object]:
    return {"system_id": system_id, "system_name": f"S{system_id}", "timezone": "UTC"}


# ---- v2 --------------------------------------------------------------------------------------


async def test_v2_credentials_and_accept_on_every_request(session: aiohttp.ClientSession) -> None:
    async with cloud() as (fake, base):
        fake.routes["/systems/123/summary"] = reply(SUMMARY)
        fake.routes["/systems/123/envoys"] = reply({"system_id": 123, "envoys": []})
        fake.routes["/systems/123/inventory"] = reply({"system_id": 123})
        client = v2(session, base)
        summary = await client.get_summary(123)
        await client.get_devices(123)
    assert summary.lifetime_total == 19050353 + 25639
    assert len(fake.requests) == 3
    for request in fake.requests:
        assert request.query["key"] == KEY
        assert request.query["user_id"] == USER
        assert request.headers["Accept"] == "application/json"
    assert KEY not in repr(client)
    assert USER not in repr(client)


async def test_v2_systems_follow_next_with_the_largest_page_and_filters(
    session: aiohttp.ClientSession,
) -> None:
    async def pages(request: web.Request) -> web.StreamResponse:
        cursor = request.query.get("next")
        if cursor is None:
            return web.json_response({"systems": [system(1), system(2)], "next": "c2"})
        if cursor == "c2":
            return web.json_response({"systems": [system(2), system(3)], "next": "c3"})
        return web.json_response({"systems": [system(4)]})

    async with cloud() as (fake, base):
        fake.routes["/systems"] = pages
        records: list[RequestRecord] = []
        client = v2(session, base, records)
        systems = await client.get_systems(status=["comm", "micro"], system_name="Green")
    assert [s.system_id for s in systems] == [1, 2, 3, 4]
    assert [r.query.get("next") for r in fake.requests] == [None, "c2", "c3"]
    for request in fake.requests:
        assert request.query["limit"] == "1000"
        assert request.query.getall("status[]") == ["comm", "micro"]
        assert request.query["system_name"] == "Green"
    assert [(r.endpoint, r.status) for r in records] == [("systems", 200)] * 3


async def test_v2_systems_single_status_and_a_repeating_cursor(
    session: aiohttp.ClientSession,
) -> None:
    async with cloud() as (fake, base):
        fake.routes["/systems"] = reply({"systems": [system(1)], "next": "same"})
        systems = await v2(session, base).get_systems(status=["power"], page_size=5000)
    assert [s.system_id for s in systems] == [1]
    assert len(fake.requests) == 2  # the first page, then the cursor once: it repeats
    assert fake.requests[0].query["status"] == "power"
    assert fake.requests[0].query["limit"] == "1000"


async def test_v2_summary_date_and_422(session: aiohttp.ClientSession) -> None:
    async def summary(request: web.Request) -> web.StreamResponse:
        if request.query.get("summary_date") == "2099-01-01":
            return web.json_response({"reason": "summary_date is in the future"}, status=422)
        return web.json_response(SUMMARY | {"summary_date": request.query["summary_date"]})

    async with cloud() as (fake, base):
        fake.routes["/systems/123/summary"] = summary
        client = v2(session, base)
        day = await client.get_summary(123, summary_date=date(2014, 1, 6))
        with pytest.raises(InvalidDatesError, match="future"):
            await client.get_summary(123, summary_date=date(2099, 1, 1))
    assert day.summary_date == date(2014, 1, 6)


async def test_v2_stats_times_and_422_is_nothing_newer(session: aiohttp.ClientSession) -> None:
    last_end = 1381497600

    async def stats(request: web.Request) -> web.StreamResponse:
        start = int(request.query["start_at"])
        if start >= last_end:
            return web.json_response(
                {"reason": "Requested start is after the last interval", "start_at": start},
                status=422,
            )
        rows = [
            {"end_at": end, "powr": 100, "enwh": 8, "devices_reporting": 3}
            for end in range(start - start % 300 + 300, last_end + 1, 300)
        ]
        return web.json_response({"system_id": 9, "total_devices": 3, "intervals": rows})

    async with cloud() as (fake, base):
        fake.routes["/systems/9/stats"] = stats
        client = v2(session, base)
        start = datetime.fromtimestamp(last_end - 900, UTC)
        series = await client.get_production_intervals(9, start, start + timedelta(days=1))
        newer = await client.get_stats(9, datetime.fromtimestamp(last_end, UTC))
    assert [i.end_at.timestamp() for i in series.intervals] == [
        last_end - 600,
        last_end - 300,
        last_end,
    ]
    assert fake.requests[0].query["start_at"] == str(last_end - 900)
    assert fake.requests[0].query["end_at"] == str(last_end - 900 + 86400)
    assert newer.intervals == ()
    assert newer.system_id == 9


async def test_v2_rgm_stats_energy_lifetime_monthly(session: aiohttp.ClientSession) -> None:
    async with cloud() as (fake, base):
        fake.routes["/systems/9/rgm_stats"] = reply(
            {"system_id": 9, "intervals": [{"end_at": 1384124500, "wh_del": 15}]}
        )
        fake.routes["/systems/9/energy_lifetime"] = reply(
            {
                "system_id": 9,
                "start_date": "2013-01-01",
                "meter_start_date": "2013-01-02",
                "production": [5, 6, 0, 0],
                "micro_production": [5, 7, 0],
                "meter_production": [0, 6, 0],
            }
        )
        fake.routes["/systems/9/monthly_production"] = reply(
            {"errorCode": 7, "errorMessages": ["Data temporarily unavailable."]}, status=500
        )
        client = v2(session, base)
        meter = await client.get_meter_intervals(9, NOW - timedelta(days=7), NOW)
        lifetime = await client.get_energy_lifetime(
            9, start_date=date(2013, 1, 1), end_date=date(2013, 1, 4), production_all=True
        )
        with pytest.raises(TemporarilyUnavailableError) as info:
            await client.get_monthly_production(9, date(2013, 1, 1))
    assert meter.intervals[0].energy_wh == 15
    assert lifetime.values == (5, 6)
    assert lifetime.meter_production == (0, 6)
    query = fake.requests[1].query
    assert (query["start_date"], query["end_date"], query["production"]) == (
        "2013-01-01",
        "2013-01-04",
        "all",
    )
    assert fake.requests[2].query["start_date"] == "2013-01-01"
    assert isinstance(info.value, ApiConnectionError)  # callers keep the last data
    assert "temporarily unavailable" in str(info.value)


async def test_v2_devices_merge_envoys_into_the_inventory(session: aiohttp.ClientSession) -> None:
    async with cloud() as (fake, base):
        fake.routes["/systems/5/inventory"] = reply(
            {"system_id": 5, "inverters": [{"sn": "I1", "model": "M215"}]}
        )
        fake.routes["/systems/5/envoys"] = reply(
            {
                "system_id": 5,
                "envoys": [
                    {"envoy_id": 1, "serial_number": "E1", "status": "comm", "last_report_at": 7}
                ],
            }
        )
        records: list[RequestRecord] = []
        devices = await v2(session, base, records).get_devices(5)
    assert [d.serial_number for d in devices.micros] == ["I1"]
    assert devices.meters == ()
    assert devices.gateways[0].status == "comm"
    assert len(records) == EnlightenV2Client.devices_requests


@pytest.mark.parametrize(
    ("period", "end", "expected"),
    [("minute", 1782043260, RatePeriod.MINUTE), ("month", 1782864000, RatePeriod.MONTH)],
)
async def test_v2_409_says_period_end_and_limit(
    session: aiohttp.ClientSession, period: str, end: int, expected: RatePeriod
) -> None:
    body = {
        "reason": "409",
        "message": ["Usage limit exceeded for plan Watt"],
        "period": period,
        "period_start": end - 60,
        "period_end": end,
        "limit": 10,
    }
    async with cloud() as (fake, base):
        fake.routes["/systems/1/summary"] = reply(body, status=409)
        with pytest.raises(RateLimitedError) as info:
            await v2(session, base).get_summary(1)
    error = info.value
    assert error.period is expected
    assert error.period_end == datetime.fromtimestamp(end, UTC)
    assert error.limit == 10
    assert error.retry_after == (datetime.fromtimestamp(end, UTC) - NOW).total_seconds()
    assert "Usage limit exceeded for plan Watt" in str(error)


async def test_a_409_without_its_body_waits_a_minute(session: aiohttp.ClientSession) -> None:
    async def bare(request: web.Request) -> web.StreamResponse:
        return web.Response(status=409, text="Conflict")

    async with cloud() as (fake, base):
        fake.routes["/systems/1/summary"] = bare
        with pytest.raises(RateLimitedError) as info:
            await v2(session, base).get_summary(1)
    assert (info.value.period, info.value.period_end, info.value.retry_after) == (
        RatePeriod.UNKNOWN,
        None,
        60.0,
    )


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, {"message": "Not authorized"}, AuthenticationError),
        (404, {"message": "Not Found"}, NotFoundError),
        (503, "Service Unavailable", ConcurrentRequestsError),
        (500, {"errorCode": 7, "errorMessages": ["Data temporarily unavailable."]}, None),
        (500, {"message": "boom"}, ApiConnectionError),
        (502, "<html>", ApiConnectionError),
        (418, "teapot", SolarHubApiError),
        (409, b"[" * 5000, RateLimitedError),  # nesting too deep for the decoder
        (500, b"[" * 5000, ApiConnectionError),
    ],
)
async def test_v2_status_mapping(
    session: aiohttp.ClientSession,
    status: int,
    body: object,
    error: type[SolarHubApiError] | None,
) -> None:
    expected = error or TemporarilyUnavailableError
    async with cloud() as (fake, base):
        fake.routes["/systems/1/summary"] = reply(body, status=status)
        with pytest.raises(expected) as info:
            await v2(session, base).get_summary(1)
    assert f"HTTP {status}" in str(info.value)
    if error is ApiConnectionError:
        assert not isinstance(info.value, TemporarilyUnavailableError)


async def test_v2_malformed_json_redirect_and_huge_bodies(
    session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def garbage(request: web.Request) -> web.StreamResponse:
        return web.Response(text='{"current_power": ', content_type="application/json")

    async def redirect(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"http://elsewhere.invalid/?key={request.query['key']}")

    async def huge(request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"[" + b"1," * 2048 + b"1]", content_type="application/json")

    monkeypatch.setattr(transport, "MAX_BODY", 1024)
    async with cloud() as (fake, base):
        fake.routes["/systems/1/summary"] = garbage
        fake.routes["/systems/2/summary"] = redirect
        fake.routes["/systems/3/summary"] = huge
        fake.routes["/systems/4/summary"] = reply(SUMMARY | {"current_power": "lots"})
        client = v2(session, base)
        with pytest.raises(MalformedResponseError):
            await client.get_summary(1)
        with pytest.raises(RedirectRefusedError) as redirected:
            await client.get_summary(2)
        with pytest.raises(ResponseTooLargeError):
            await client.get_summary(3)
        with pytest.raises(MalformedResponseError, match="current_power"):
            await client.get_summary(4)
    assert KEY not in str(redirected.value)
    assert len(fake.requests) == 4  # the redirect was not followed


async def test_secrets_never_in_errors_logs_or_causes(
    session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    async def echo(request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {"message": f"bad key {request.query['key']} for user {request.query['user_id']}"},
            status=401,
        )

    caplog.set_level(logging.DEBUG)
    async with cloud() as (fake, base):
        fake.routes["/systems/1/summary"] = echo
        client = v2(session, base, request_timeout=0.5)
        with pytest.raises(AuthenticationError) as refused:
            await client.get_summary(1)
    with pytest.raises(ApiConnectionError) as unreachable:
        await client.get_summary(1)  # the server is gone
    for error in (refused.value, unreachable.value):
        assert KEY not in str(error)
        assert USER not in str(error)
        assert error.__cause__ is None
        assert error.__suppress_context__
    assert "bad key *** for user ***" in str(refused.value)
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("aiohttp.access")]
    assert any("summary" in message for message in ours)  # the client did log its calls
    assert not [message for message in ours if KEY in message or USER in message]


async def test_a_timeout_is_a_connection_error(session: aiohttp.ClientSession) -> None:
    release = asyncio.Event()

    async def hang(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.json_response(SUMMARY)

    async with cloud() as (fake, base):
        fake.routes["/systems/1/summary"] = hang
        records: list[RequestRecord] = []
        with pytest.raises(ApiConnectionError, match="did not answer in time"):
            await v2(session, base, records, request_timeout=0.2).get_summary(1)
        release.set()
    assert [(r.endpoint, r.system_id, r.status) for r in records] == [("summary", 1, None)]


async def test_requests_are_serialised_per_key_across_clients(
    session: aiohttp.ClientSession,
) -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(0.05)
        return web.json_response(SUMMARY)

    async with cloud() as (fake, base):
        fake.routes["/systems/123/summary"] = slow
        one, two = v2(session, base), v2(session, base)  # two config entries, one key
        await asyncio.gather(*(c.get_summary(123) for c in (one, two, one, two)))
        assert fake.peak == 1
        other = EnlightenV2Client(session, "another-key", USER, base_url=base + "/api/v2")
        fake.peak = 0
        await asyncio.gather(one.get_summary(123), other.get_summary(123))
        assert fake.peak == 2  # a different key is not held up


# ---- v4 --------------------------------------------------------------------------------------


async def test_v4_bearer_and_key_on_every_call_and_paging(
    session: aiohttp.ClientSession,
) -> None:
    async def pages(request: web.Request) -> web.StreamResponse:
        page, size = int(request.query["page"]), int(request.query["size"])
        ids = list(range(1, 151))[(page - 1) * size : page * size]
        return web.json_response(
            {
                "total": 150,
                "current_page": page,
                "size": size,
                "count": len(ids),
                "items": "systems",
                "systems": [{"system_id": i, "name": f"S{i}"} for i in ids],
            }
        )

    calls = 0

    async def token() -> str:
        nonlocal calls
        calls += 1
        return f"{TOKEN}-{calls}"

    async with cloud() as (fake, base):
        fake.routes["/systems"] = pages
        client = v4(session, base, token)
        systems = await client.get_systems()
    assert len(systems) == 150
    assert [(r.query["page"], r.query["size"]) for r in fake.requests] == [
        ("1", "100"),
        ("2", "100"),
    ]
    assert [r.headers["Authorization"] for r in fake.requests] == [
        f"Bearer {TOKEN}-1",
        f"Bearer {TOKEN}-2",
    ]
    for request in fake.requests:
        assert request.query["key"] == KEY
        assert "user_id" not in request.query
    assert TOKEN not in repr(client)


async def test_v4_endpoints(session: aiohttp.ClientSession) -> None:
    quarter = [{"end_at": 1700000900 + 900 * i, "devices_reporting": 1} for i in range(2)]
    async with cloud() as (fake, base):
        fake.routes |= {
            "/systems/7/summary": reply(SUMMARY | {"system_id": 7, "battery_capacity_wh": 5000}),
            "/systems/7/devices": reply(
                {
                    "system_id": 7,
                    "devices": {
                        "micros": [{"serial_number": "M1"}],
                        "meters": [{"serial_number": "C1", "config_type": "Net"}],
                        "gateways": [{"serial_number": "G1"}],
                        "encharges": [{"serial_number": "B1"}],
                    },
                }
            ),
            "/systems/7/telemetry/production_micro": reply(
                {"system_id": 7, "intervals": [{"end_at": 1700000300, "enwh": 4, "powr": 50}]}
            ),
            "/systems/7/telemetry/production_meter": reply(
                {"intervals": [q | {"wh_del": 10} for q in quarter]}
            ),
            "/systems/7/telemetry/consumption_meter": reply(
                {"intervals": [q | {"enwh": 20} for q in quarter]}
            ),
            "/systems/7/energy_import_telemetry": reply(
                {"intervals": [q | {"wh_imported": 30} for q in quarter]}
            ),
            "/systems/7/energy_export_telemetry": reply(
                {"intervals": [[q | {"wh_exported": 40} for q in quarter]]}
            ),
            "/systems/7/telemetry/battery": reply(
                {
                    "intervals": [
                        q
                        | {"charge": {"enwh": 5}, "discharge": {"enwh": 1}, "soc": {"percent": 50}}
                        for q in quarter
                    ]
                }
            ),
            "/systems/7/energy_lifetime": reply(
                {"system_id": 7, "start_date": "2024-01-01", "production": [1, 2, 0]}
            ),
            "/systems/7/consumption_lifetime": reply(
                {"start_date": "2024-01-01", "consumption": [3]}
            ),
            "/systems/7/battery_lifetime": reply(
                {"start_date": "2024-01-01", "charge": [4], "discharge": [5]}
            ),
            "/systems/7/energy_import_lifetime": reply({"start_date": "2024-01-01", "import": [6]}),
            "/systems/7/energy_export_lifetime": reply({"start_date": "2024-01-01", "export": [7]}),
            "/systems/7/rgm_stats": reply({"intervals": [q | {"wh_del": 8} for q in quarter]}),
            "/systems/7/latest_telemetry": reply(
                {"system_id": 7, "devices": {"meters": [{"name": "production", "power": 900}]}}
            ),
        }
        client = v4(session, base)
        start = datetime.fromtimestamp(1700000000, UTC)
        summary = await client.get_summary(7)
        devices = await client.get_devices(7)
        micro = await client.get_production_intervals(7, start)
        meter = await client.get_meter_intervals(7, start)
        consumption = await client.get_consumption_meter(7, start)
        imported = await client.get_energy_import(7, start, granularity="day")
        exported = await client.get_energy_export(7, start)
        battery = await client.get_battery_telemetry(7, start)
        lifetime = await client.get_energy_lifetime(7, start_date=date(2024, 1, 1))
        used = await client.get_consumption_lifetime(7)
        charge, discharge = await client.get_battery_lifetime(7)
        import_days = await client.get_import_lifetime(7)
        export_days = await client.get_export_lifetime(7, end_date=date(2024, 1, 2))
        rgm = await client.get_rgm_stats(7, start, start + timedelta(days=1))
        latest = await client.get_latest_telemetry(7)
    assert summary.battery_capacity_wh == 5000
    assert devices.has_battery
    assert devices.meters[0].config_type == "Net"
    assert micro.intervals[0].power_w == 50
    assert [s.intervals[0].energy_wh for s in (meter, consumption, imported, exported, rgm)] == [
        10,
        20,
        30,
        40,
        8,
    ]
    assert battery.intervals[0].soc_percent == 50
    assert lifetime.values == (1, 2)
    assert (used.values, charge.values, discharge.values) == ((3,), (4,), (5,))
    assert (import_days.values, export_days.values) == ((6,), (7,))
    assert latest.readings[0].power_w == 900
    by_path = {r.path.split("/api/v4")[1]: r.query for r in fake.requests}
    assert by_path["/systems/7/telemetry/production_micro"]["granularity"] == "week"
    assert by_path["/systems/7/telemetry/production_micro"]["start_at"] == "1700000000"
    assert by_path["/systems/7/telemetry/production_meter"]["granularity"] == "week"
    assert by_path["/systems/7/energy_import_telemetry"]["granularity"] == "day"
    assert by_path["/systems/7/energy_lifetime"]["start_date"] == "2024-01-01"
    assert by_path["/systems/7/energy_export_lifetime"]["end_date"] == "2024-01-02"
    assert all(query["key"] == KEY for query in by_path.values())


async def test_v4_empty_intervals_are_nothing_newer(session: aiohttp.ClientSession) -> None:
    async with cloud() as (fake, base):
        fake.routes["/systems/7/energy_import_telemetry"] = reply({"system_id": 7, "intervals": []})
        fake.routes["/systems/7/telemetry/battery"] = reply({"message": "bad"}, status=422)
        client = v4(session, base)
        assert (await client.get_energy_import(7, NOW)).intervals == ()
        assert (await client.get_battery_telemetry(7, NOW)).intervals == ()


async def test_v4_429_period_unknown(session: aiohttp.ClientSession) -> None:
    body = {"message": "Too Many Requests", "details": "Usage limit exceeded for plan Watt"}
    async with cloud() as (fake, base):
        fake.routes["/systems/7/summary"] = reply(body | {"code": 429}, status=429)
        with pytest.raises(RateLimitedError) as info:
            await v4(session, base).get_summary(7)
    assert (info.value.period, info.value.period_end, info.value.limit) == (
        RatePeriod.UNKNOWN,
        None,
        None,
    )
    assert "Usage limit exceeded for plan Watt" in str(info.value)


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("API Key -Client mismatch", KeyClientMismatchError),
        ("Not authorized to access requested resource, plan Watt", PlanNotPermittedError),
        ("Invalid access token", AuthenticationError),
    ],
)
async def test_v4_401_kinds(
    session: aiohttp.ClientSession, message: str, error: type[SolarHubApiError]
) -> None:
    async with cloud() as (fake, base):
        fake.routes["/systems/7/summary"] = reply({"message": message}, status=401)
        with pytest.raises(error) as info:
            await v4(session, base).get_summary(7)
    assert type(info.value) is error
    assert isinstance(info.value, KeyClientMismatchError) == (error is KeyClientMismatchError)


@pytest.mark.parametrize(
    ("raised", "error"),
    [
        (400, AuthenticationError),
        (401, AuthenticationError),
        (500, ApiConnectionError),
        (aiohttp.ClientConnectionError("token host down"), ApiConnectionError),
        (TimeoutError(), ApiConnectionError),
        ("", AuthenticationError),
    ],
)
async def test_v4_token_getter_failures(
    session: aiohttp.ClientSession, raised: object, error: type[SolarHubApiError]
) -> None:
    async def token() -> str:
        if isinstance(raised, int):
            info = aiohttp.RequestInfo(
                url=URL("http://token.invalid/oauth/token?client_secret=s3cr3t"),
                method="POST",
                headers=CIMultiDictProxy(CIMultiDict()),
            )
            raise aiohttp.ClientResponseError(info, (), status=raised, message="x")
        if isinstance(raised, BaseException):
            raise raised
        return str(raised)

    async with cloud() as (fake, base):
        with pytest.raises(error) as info:
            await v4(session, base, token).get_summary(7)
    assert type(info.value) is error
    assert "s3cr3t" not in str(info.value)
    assert info.value.__cause__ is None
    assert fake.requests == []  # no request without a token


def test_the_interface_is_shared() -> None:
    for cls in (EnlightenV2Client, EnlightenV4Client):
        assert issubclass(cls, EnlightenClient)
    assert EnlightenV2Client.production_span == timedelta(days=1)
    assert EnlightenV4Client.production_span == EnlightenV4Client.meter_span == timedelta(days=7)
    assert (EnlightenV2Client.devices_requests, EnlightenV4Client.devices_requests) == (2, 1)
    assert json.dumps({"api": [EnlightenV2Client.api_version, EnlightenV4Client.api_version]})
