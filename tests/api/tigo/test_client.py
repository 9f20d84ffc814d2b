"""The Tigo client: pure parsers, narrow cases on canned servers, the protocol on the simulator.

Everything runs over real loopback HTTP. The simulator (tests/simulators/tigo.py) covers the
protocol and its failures; tiny canned apps serve what a faithful simulator never says (an HTTP
date in Retry-After, odd JSON, a redirect, a server that ignores paging).
"""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
import contextlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
import logging
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
import pytest

from custom_components.solarhub.api.errors import (
    ApiConnectionError,
    AuthenticationError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    SessionLostError,
    SolarHubApiError,
)
from custom_components.solarhub.api.shapes import error_message
from custom_components.solarhub.api.tigo import client as tigo
from custom_components.solarhub.api.tigo.client import TigoClient
from custom_components.solarhub.api.tigo.models import (
    DataSet,
    LayoutPanel,
    RateLimit,
    TigoObject,
    TigoToken,
)
from tests.api.canned import Handler, json_reply, serve_app
from tests.simulators import SimClock
from tests.simulators.tigo import SimSystem, TigoConfig, TigoSimulator

pytestmark = pytest.mark.usefixtures("socket_enabled")

USERNAME = "owner@example.com"
PASSWORD = "Sunny-Day-42"
NOON = datetime(2026, 6, 21, 10, 0, tzinfo=UTC)  # 12:00 in Berlin
BERLIN = ZoneInfo("Europe/Berlin")
API = "/api/v3"


# ---- pure helpers ---------------------------------------------------------------------------


def test_parse_token() -> None:
    raw = {
        "user": {
            "user_id": 1,
            "auth": "ABCDE",
            "expires": "2016-09-01T00:00:00-08:00",
            "user_type": "Basic",
        }
    }
    token = tigo.parse_token(raw)
    assert token == TigoToken(
        user_id=1,
        auth="ABCDE",
        expires=datetime(2016, 9, 1, 8, 0, tzinfo=UTC),
        user_type="Basic",
    )
    assert "ABCDE" not in repr(token)
    # No offset: UTC. Ids as strings, as PHP back ends send them.
    raw["user"] |= {"user_id": "7", "expires": "2016-09-01T00:00:00", "user_type": None}
    token = tigo.parse_token(raw)
    assert (token.user_id, token.expires.tzinfo, token.user_type) == (7, UTC, "")


@pytest.mark.parametrize(
    "raw",
    [
        None,
        [],
        {"users": {}},
        {"user": "ABCDE"},
        {"user": {"user_id": 1, "auth": "", "expires": "2016-09-01T00:00:00Z"}},
        {"user": {"user_id": 1, "auth": "A", "expires": "tomorrow"}},
        {"user": {"user_id": True, "auth": "A", "expires": "2016-09-01T00:00:00Z"}},
        {"user": {"user_id": "1.5", "auth": "A", "expires": "2016-09-01T00:00:00Z"}},
    ],
)
def test_parse_token_rejects(raw: object) -> None:
    with pytest.raises(MalformedResponseError, match="users/login"):
        tigo.parse_token(raw)


SYSTEM = {
    "created": "2014-05-16T20:50:45+00:00",
    "city": "PO 123",
    "company": "One Cool Dude",
    "country": "United States",
    "external_id": "test",
    "system_id": 1,
    "latitude": 12.3456789,
    "longitude": 12.3456789,
    "name": "Test System",
    "power_rating": 12000,
    "state": "Faker City",
    "street": "123 Fake Street",
    "zip": 12345,
    "timezone": "America/Los_Angeles",
    "turn_on_date": "null",
}


def test_parse_systems_and_system() -> None:
    (system,) = tigo.parse_systems({"systems": [SYSTEM]})
    assert system == tigo.parse_system({"system": SYSTEM})
    assert (system.system_id, system.name, system.timezone) == (
        1,
        "Test System",
        SYSTEM["timezone"],
    )
    assert (system.power_rating, system.zip) == (12000.0, "12345")
    assert system.created == datetime(2014, 5, 16, 20, 50, 45, tzinfo=UTC)
    sparse = tigo.parse_system({"system": {"system_id": "2", "name": None, "timezone": ""}})
    assert (sparse.system_id, sparse.name, sparse.timezone, sparse.created) == (2, "", None, None)
    assert sparse.power_rating is None


@pytest.mark.parametrize(
    "raw",
    [
        {"systems": {"system_id": 1}},
        {"systems": [1]},
        {"systems": [{"name": "no id"}]},
        {"systems": [{**SYSTEM, "power_rating": "lots"}]},
        {"systems": [{**SYSTEM, "latitude": float("nan")}]},
        {"systems": [{**SYSTEM, "created": 2014}]},
        {"systems": [{**SYSTEM, "city": ["Berlin"]}]},
        {"name": "Unauthorized", "message": "bad token", "code": 0, "status": 401},
    ],
)
def test_parse_systems_rejects(raw: object) -> None:
    with pytest.raises(MalformedResponseError, match="systems"):
        tigo.parse_systems(raw)


LAYOUT = {
    "system": {
        "system_id": 1,
        "inverters": [
            {
                "inverter_id": 1,
                "inverter_type_id": 1,
                "label": "Inverter 1",
                "object_id": 1,
                "inverter_serial": "ABC",
                "mppts": [
                    {
                        "mppt_id": 1,
                        "label": "MPPT 1",
                        "strings": [
                            {
                                "string_id": 1,
                                "label": "String A",
                                "short_label": "A",
                                "object_id": 2,
                                "panels": [
                                    {
                                        "panel_id": 1,
                                        "label": "A1",
                                        "short_label": 1,
                                        "serial": "04C05B8001234",
                                        "object_id": 3,
                                    },
                                    {"panel_id": 2, "label": "A2", "serial": None},
                                ],
                            }
                        ],
                    },
                    {"mppt_id": 2, "label": "MPPT 2", "strings": None},
                ],
            }
        ],
    }
}


def test_parse_layout() -> None:
    layout = tigo.parse_layout(LAYOUT)
    (inverter,) = layout.inverters
    assert (layout.system_id, inverter.serial, inverter.object_id) == (1, "ABC", 1)
    first, second = inverter.mppts
    (string,) = first.strings
    assert (string.label, string.object_id) == ("String A", 2)
    assert string.panels == (
        LayoutPanel(panel_id=1, label="A1", serial="04C05B8001234", object_id=3),
        LayoutPanel(panel_id=2, label="A2", serial=None, object_id=None),
    )
    assert second.strings == ()
    empty = tigo.parse_layout({"system": {"system_id": 1}})
    assert empty.inverters == ()
    other = tigo.parse_layout(
        {"system": {"system_id": 1, "inverters": [{"inverter_id": 2, "serial": "XYZ"}]}}
    )
    assert other.inverters[0].serial == "XYZ"


def test_parse_layout_rejects() -> None:
    with pytest.raises(MalformedResponseError, match=r"systems/layout.*panel_id"):
        tigo.parse_layout(
            {
                "system": {
                    "system_id": 1,
                    "inverters": [
                        {
                            "inverter_id": 1,
                            "mppts": [
                                {
                                    "mppt_id": 1,
                                    "strings": [{"string_id": 1, "panels": [{"label": "A1"}]}],
                                }
                            ],
                        }
                    ],
                }
            }
        )
    with pytest.raises(MalformedResponseError, match="expected a list"):
        tigo.parse_layout({"system": {"system_id": 1, "inverters": {"1": {}}}})


def test_parse_objects() -> None:
    raw = {
        "objects": [
            {
                "id": 1,
                "label": "System",
                "object_type_id": 1,
                "parent_id": -1,
                "datasource": None,
                "children": [2, 5],
                "ui": {"X": 100},
            },
            {
                "id": 3,
                "label": "A1",
                "object_type_id": 2,
                "parent_id": 2,
                "datasources": "04C05B800ACE.panels.A1",  # the name in the field table
            },
        ]
    }
    assert tigo.parse_objects(raw) == [
        TigoObject(
            id=1, label="System", object_type_id=1, parent_id=-1, datasource=None, children=(2, 5)
        ),
        TigoObject(
            id=3,
            label="A1",
            object_type_id=2,
            parent_id=2,
            datasource="04C05B800ACE.panels.A1",
            children=(),
        ),
    ]
    with pytest.raises(MalformedResponseError, match="children"):
        tigo.parse_objects({"objects": [{"id": 1, "object_type_id": 1, "children": ["2"]}]})


def test_parse_object_and_alert_types() -> None:
    (object_type,) = tigo.parse_object_types(
        {"object_types": [{"object_type_id": 2, "label": "Panel"}]}
    )
    assert (object_type.object_type_id, object_type.label) == (2, "Panel")
    raw = {
        "alert_types": [
            {"alert_type_id": 24, "description": "<p>Low</p>", "title": "Low", "unique_id": 300}
        ]
    }
    (alert_type,) = tigo.parse_alert_types(raw)
    assert (alert_type.unique_id, alert_type.description) == (300, "<p>Low</p>")


SOURCES = {
    "sources": [
        {
            "source_id": 9999,
            "name": "My Cloud Connect",
            "serial": "04C05B8FFFFFF",
            "gateway_count": 1,
            "created_on": "2014-07-29T16:19:26-07:00",
            "control_state": "on",
            "last_checkin": "2017-02-16T23:19:06-08:00",
            "timezone": "America/Los_Angeles",
            "sw_version": "ffs-2.4.0-image.img",
            "sets": [
                {
                    "set_name": "panels_avg",
                    "last_min": "2016-09-07T18:32:00-07:00",
                    "last_day": "2014-11-18T00:00:00-08:00",
                },
                {"set_name": "Wattnode", "last_min": None, "last_day": "0000-00-00 00:00:00"},
            ],
        },
        {"system_id": 11},  # the stray entry of the documented example
        {"source_id": 1010, "name": "My Cloud Connect 2", "serial": "04C05B8EEEEEE", "sets": []},
    ]
}


def test_parse_sources() -> None:
    first, second = tigo.parse_sources(SOURCES)
    assert (first.source_id, first.control_state, first.gateway_count) == (9999, "on", 1)
    assert first.last_checkin == datetime(2017, 2, 17, 7, 19, 6, tzinfo=UTC)
    assert first.sets[1] == DataSet(set_name="Wattnode", last_min=None, last_day=None)
    assert first.sets[0].last_min == datetime(2016, 9, 8, 1, 32, tzinfo=UTC)
    assert (second.source_id, second.last_checkin, second.sets) == (1010, None, ())


def test_parse_summary() -> None:
    raw = {
        "summary": {
            "lifetime_energy_dc": 18607879.27,
            "ytd_energy_dc": "500.32",
            "daily_energy_dc": 0,
            "updated_on": "2014-11-18T00:00:00-08:00",
            "last_power_dc": 0,
        }
    }
    summary = tigo.parse_summary(raw)
    assert (summary.lifetime_energy_dc, summary.ytd_energy_dc) == (18607879.27, 500.32)
    assert summary.updated_on == datetime(2014, 11, 18, 8, 0, tzinfo=UTC)
    raw["summary"]["last_power_dc"] = None
    with pytest.raises(MalformedResponseError, match="last_power_dc"):
        tigo.parse_summary(raw)


def test_parse_alerts() -> None:
    raw = {
        "alerts": [
            {
                "alert_id": 1,
                "added": "2018-08-01T09:09:05-07:00",
                "generated": "2018-08-01T09:08:20-07:00",
                "system_id": 1,
                "unique_id": 106,
                "title": "Tigo Alert: String Shutdown",
                "message": "String ID: \n- String F",
                "description": "<p>Your Tigo system has detected ...</p>",
            }
        ]
    }
    (alert,) = tigo.parse_alerts(raw)
    assert (alert.alert_id, alert.unique_id, alert.system_id) == (1, 106, 1)
    assert alert.added == datetime(2018, 8, 1, 16, 9, 5, tzinfo=UTC)
    assert alert.description.startswith("<p>")
    del raw["alerts"][0]["added"]
    with pytest.raises(MalformedResponseError, match="added"):
        tigo.parse_alerts(raw)


def test_parse_rate_limit() -> None:
    headers = {
        "X-Rate-Limit-Limit": "1000",
        "X-Rate-Limit-Remaining": "998",
        "X-Rate-Limit-Reset": "42.5",
    }
    assert tigo.parse_rate_limit(headers, NOON) == RateLimit(
        limit=1000, remaining=998, reset_seconds=42.5, observed_at=NOON
    )
    assert tigo.parse_rate_limit({}, NOON) is None
    odd = tigo.parse_rate_limit(
        {"X-Rate-Limit-Limit": "many", "X-Rate-Limit-Remaining": "-1"}, NOON
    )
    assert odd == RateLimit(limit=None, remaining=None, reset_seconds=None, observed_at=NOON)


@pytest.mark.parametrize(
    ("retry_after", "reset", "seconds"),
    [
        ("7", None, 7.0),
        ("7", "30", 7.0),
        ("-3", None, 0.0),
        (format_datetime(NOON + timedelta(seconds=90), usegmt=True), None, 90.0),
        (format_datetime(NOON - timedelta(seconds=90), usegmt=True), None, 0.0),
        ("Sun, 21 Jun 2026 10:01:30 -0000", None, 90.0),  # no zone: UTC
        ("soon", "30", 30.0),
        ("nan", None, 60.0),
        (None, "12", 12.0),
        (None, "later", 60.0),
        (None, None, 60.0),
    ],
)
def test_parse_retry_after(retry_after: str | None, reset: str | None, seconds: float) -> None:
    assert tigo.parse_retry_after(retry_after, reset, now=NOON) == seconds


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        ("users/login", 401, AuthenticationError),
        ("users/login", 403, PermissionDeniedError),
        ("systems", 401, AuthenticationError),
        ("systems", 403, PermissionDeniedError),
        ("systems/view", 404, NotFoundError),
        ("data/combined", 400, SolarHubApiError),
        ("systems", 429, RateLimitedError),
        ("systems", 500, ApiConnectionError),
        ("systems", 503, ApiConnectionError),
    ],
)
def test_status_error(path: str, status: int, error: type[SolarHubApiError]) -> None:
    body = b'{"name":"Some Name","message":"The message.","code":0,"status":%d}' % status
    err = tigo.status_error("GET", path, status, body, now=NOON)
    assert isinstance(err, error)
    assert str(err) == f"GET {path} answered HTTP {status}: 'The message.'"


def test_error_message() -> None:
    assert error_message(b"") == "(no message)"
    assert error_message(b"<h1>Bad Gateway</h1>") == "'<h1>Bad Gateway</h1>'"
    assert len(error_message(b"x" * 5000)) < 210


def test_local_iso() -> None:
    assert tigo.local_iso(datetime(2026, 6, 21, 10, 0, 0, 999, tzinfo=UTC), BERLIN) == (
        "2026-06-21T12:00:00"
    )
    assert tigo.local_iso(datetime(2018, 1, 1), BERLIN) == "2018-01-01T00:00:00"


# ---- canned servers -------------------------------------------------------------------------


def token_body(auth: str = "TOKEN-1", expires: datetime = NOON + timedelta(hours=1)) -> object:
    return {
        "user": {"user_id": 5, "auth": auth, "expires": expires.isoformat(), "user_type": "Basic"}
    }


class Canned:
    """A tiny aiohttp app under ``/api/v3/`` that records what it was asked."""

    def __init__(self, routes: dict[str, Handler]) -> None:
        self.requests: Counter[str] = Counter()
        self.seen: list[web.Request] = []
        self._routes = {"users/login": json_reply(token_body()), **routes}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path.removeprefix(f"{API}/")
        self.requests[path] += 1
        self.seen.append(request)
        handler = self._routes.get(path)
        if handler is None:
            return web.json_response(
                {"name": "Not Found", "message": "Page not found.", "code": 0, "status": 404},
                status=404,
            )
        return await handler(request)


@contextlib.asynccontextmanager
async def serve(routes: dict[str, Handler]) -> AsyncIterator[tuple[str, Canned]]:
    canned = Canned(routes)
    async with serve_app(canned.handle) as host:
        yield f"http://{host}{API}/", canned


def raw_reply(
    body: bytes,
    status: int = 200,
    content_type: str = "text/html",
    headers: dict[str, str] | None = None,
) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(body=body, status=status, content_type=content_type, headers=headers)

    return handler


def canned_client(http: aiohttp.ClientSession, url: str, **kwargs: Any) -> TigoClient:
    return TigoClient(http, USERNAME, PASSWORD, base_url=url, clock=lambda: NOON, **kwargs)


async def test_login_sends_basic_auth_then_bearer(http: aiohttp.ClientSession) -> None:
    routes = {
        "data/summary": json_reply(
            {
                "summary": {
                    "lifetime_energy_dc": 1,
                    "ytd_energy_dc": 1,
                    "daily_energy_dc": 1,
                    "last_power_dc": 1,
                }
            }
        )
    }
    async with serve(routes) as (url, canned):
        client = TigoClient(
            http, "owner@example.com", "Sönnig:42", base_url=url, clock=lambda: NOON
        )
        assert client.token_expires is None
        await client.get_summary(1)
        login, summary = canned.seen
    scheme, _, encoded = login.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == "owner@example.com:Sönnig:42"
    assert summary.headers["Authorization"] == "Bearer TOKEN-1"
    assert summary.query["system_id"] == "1"
    assert summary.headers["Accept"] == "application/json"
    assert client.token_expires == NOON + timedelta(hours=1)


async def test_retry_after_as_http_date(http: aiohttp.ClientSession) -> None:
    later = format_datetime(NOON + timedelta(minutes=2), usegmt=True)
    routes = {
        "systems": json_reply(
            {
                "name": "Too Many Requests",
                "message": "Rate limit exceeded.",
                "code": 0,
                "status": 429,
            },
            status=429,
            headers={
                "Retry-After": later,
                "X-Rate-Limit-Limit": "100",
                "X-Rate-Limit-Remaining": "0",
                "X-Rate-Limit-Reset": "300",
            },
        )
    }
    async with serve(routes) as (url, canned):
        client = canned_client(http, url)
        with pytest.raises(RateLimitedError, match=r"HTTP 429: 'Rate limit exceeded\.'") as err:
            await client.get_systems()
    assert err.value.retry_after == 120.0
    assert canned.requests["systems"] == 1  # never retried inside the client
    assert client.rate_limit == RateLimit(
        limit=100, remaining=0, reset_seconds=300.0, observed_at=NOON
    )


async def test_retry_from_the_reset_header_or_a_minute(http: aiohttp.ClientSession) -> None:
    routes = {
        "systems": json_reply(
            {"message": "slow"}, status=429, headers={"X-Rate-Limit-Reset": "17"}
        ),
        "objects/types": raw_reply(b"", status=429),
    }
    async with serve(routes) as (url, _):
        client = canned_client(http, url)
        with pytest.raises(RateLimitedError) as err:
            await client.get_systems()
        assert err.value.retry_after == 17.0
        with pytest.raises(RateLimitedError, match=r"HTTP 429: \(no message\)") as err:
            await client.get_object_types()
        assert err.value.retry_after == 60.0
    # The last response carried no rate-limit headers: the previous observation stands.
    assert client.rate_limit is not None
    assert client.rate_limit.reset_seconds == 17.0


@pytest.mark.parametrize(
    ("reply", "match"),
    [
        (raw_reply(b"<html><body>Maintenance</body></html>"), "not JSON"),
        (raw_reply(b'{"systems": [', content_type="application/json"), "not JSON"),
        (raw_reply(b"\xff\xfe\x00"), "not JSON"),
        (json_reply([]), "expected an object"),
        (json_reply({"systems": {"1": {}}}), "expected a list"),
        (json_reply({"name": "Unauthorized", "message": "x", "status": 401}), "no 'systems'"),
        (json_reply({"systems": [{"system_id": "one"}]}), "'system_id' should be an integer"),
    ],
)
async def test_weird_json_is_malformed(
    http: aiohttp.ClientSession, reply: Handler, match: str
) -> None:
    async with serve({"systems": reply}) as (url, _):
        with pytest.raises(MalformedResponseError, match=match):
            await canned_client(http, url).get_systems()


@pytest.mark.parametrize(
    ("reply", "match"),
    [
        (raw_reply(b"Datetime,1\n2026/06/21 11:00:00,\xff\n"), "data/aggregate answer: not text"),
        (json_reply({"name": "Bad Request", "message": "range"}), "no 'Datetime,…' header"),
    ],
)
async def test_csv_that_is_not_csv(http: aiohttp.ClientSession, reply: Handler, match: str) -> None:
    async with serve({"data/aggregate": reply}) as (url, _):
        client = canned_client(http, url)
        with pytest.raises(MalformedResponseError, match=match):
            await client.get_aggregate(1, NOON - timedelta(hours=1), NOON, tz=BERLIN)


async def test_aggregate_request_and_answer(http: aiohttp.ClientSession) -> None:
    csv = (
        b"Datetime,17,18\n"
        b"2026/06/21 11:59:00,250.5,\n"
        b"2026/06/21 12:00:00,251,240\n"
        b"2026/06/21 12:01:00,1,1\n"
    )
    routes = {"data/aggregate": raw_reply(csv, content_type="text/csv")}
    async with serve(routes) as (url, canned):
        client = canned_client(http, url)
        series = await client.get_aggregate(
            4,
            NOON - timedelta(hours=1),
            NOON,
            tz=BERLIN,
            param="Vin",
            object_ids=[17, 18, 17],
            header="id",
        )
        # Asking for no objects asks nothing.
        empty = await client.get_aggregate(4, NOON, NOON, tz=BERLIN, object_ids=[])
        assert await client.get_combined(4, NOON, NOON, tz=BERLIN, object_ids=()) == empty
    request = canned.seen[-1]
    assert dict(request.query) == {
        "system_id": "4",
        "start": "2026-06-21T11:00:00",
        "end": "2026-06-21T12:00:00",
        "level": "min",
        "param": "Vin",
        "header": "id",
        "object_ids": "17,18",
    }
    assert request.headers.get("Accept") != "application/json"  # CSV: no JSON asked for
    assert series.latest("17") == (datetime(2026, 6, 21, 12, 0, tzinfo=BERLIN), 251.0)
    assert series.skipped_rows == 1  # 12:01 Berlin is after NOON
    assert empty.columns == {}
    assert canned.requests["data/aggregate"] == 1


async def test_combined_request(http: aiohttp.ClientSession) -> None:
    csv = b"DATE TIME, 1\n2026/06/21 11:00:00.000, 1170\n"
    async with serve({"data/combined": raw_reply(csv)}) as (url, canned):
        client = canned_client(http, url)
        series = await client.get_combined(
            4, datetime(2026, 6, 21, 0, 0, tzinfo=BERLIN), NOON, tz=BERLIN
        )
    assert dict(canned.seen[-1].query) == {
        "system_id": "4",
        "start": "2026-06-21T00:00:00",
        "end": "2026-06-21T12:00:00",
        "level": "hour",
    }
    assert series.columns == {"1": ((datetime(2026, 6, 21, 11, tzinfo=BERLIN), 1170.0),)}


async def test_paging_stops_when_a_server_ignores_the_page(http: aiohttp.ClientSession) -> None:
    page = {"systems": [{**SYSTEM, "system_id": n} for n in range(tigo.PAGE_SIZE)]}
    async with serve({"systems": json_reply(page)}) as (url, canned):
        systems = await canned_client(http, url).get_systems()
    assert len(systems) == tigo.PAGE_SIZE
    assert canned.requests["systems"] == 2
    assert [dict(r.query) for r in canned.seen[1:]] == [
        {"page": "1", "limit": str(tigo.PAGE_SIZE)},
        {"page": "2", "limit": str(tigo.PAGE_SIZE)},
    ]


async def test_paging_gives_up_after_max_pages(
    http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(tigo, "MAX_PAGES", 3)
    monkeypatch.setattr(tigo, "PAGE_SIZE", 1)

    async def endless(request: web.Request) -> web.StreamResponse:
        return web.json_response({"systems": [{**SYSTEM, "system_id": int(request.query["page"])}]})

    async with serve({"systems": endless}) as (url, canned):
        systems = await canned_client(http, url).get_systems()
    assert [system.system_id for system in systems] == [1, 2, 3]
    assert canned.requests["systems"] == 3
    assert "stopped after 3 pages" in caplog.text


async def test_redirects_are_not_followed(http: aiohttp.ClientSession) -> None:
    async with serve({"systems": json_reply({"systems": []})}) as (elsewhere, other):
        routes = {
            "systems": raw_reply(b"", status=302, headers={"Location": elsewhere + "systems"})
        }
        async with serve(routes) as (url, _):
            with pytest.raises(SolarHubApiError, match="HTTP 302"):
                await canned_client(http, url).get_systems()
    assert other.requests == Counter()  # the token never went elsewhere


async def test_connection_refused(http: aiohttp.ClientSession) -> None:
    async with serve({}) as (url, _):
        pass  # the port is free again
    with pytest.raises(ApiConnectionError, match="GET users/login: cannot talk to the Tigo cloud"):
        await canned_client(http, url).login()


async def test_timeout(http: aiohttp.ClientSession) -> None:
    release = asyncio.Event()

    async def stall(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.json_response({"systems": []})

    async with serve({"systems": stall}) as (url, _):
        client = canned_client(http, url, request_timeout=0.05)
        with pytest.raises(ApiConnectionError, match="did not answer in time"):
            await client.get_systems()
        release.set()


async def test_logout_without_token_and_failing_logout(http: aiohttp.ClientSession) -> None:
    routes = {"users/logout": json_reply({"message": "oops"}, status=500)}
    async with serve(routes) as (url, canned):
        client = canned_client(http, url)
        await client.logout()
        assert canned.requests == Counter()
        await client.login()
        await client.logout()  # the 500 is ignored
        assert client.token_expires is None
    assert canned.requests == Counter({"users/login": 1, "users/logout": 1})


async def test_a_token_short_of_time_is_used_once_and_then_renewed(
    http: aiohttp.ClientSession,
) -> None:
    """A server whose tokens live less than RENEW_BEFORE costs a login per call, never a loop."""
    routes = {
        "users/login": json_reply(token_body(expires=NOON + timedelta(minutes=2))),
        "objects/types": json_reply({"object_types": []}),
    }
    async with serve(routes) as (url, canned):
        client = canned_client(http, url)
        await client.get_object_types()
        await client.get_object_types()
    assert canned.requests == Counter({"users/login": 2, "objects/types": 2})


def test_default_clock_is_utc_wall_time() -> None:
    assert abs(tigo._utc_now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_repr_hides_secrets(http: aiohttp.ClientSession) -> None:
    client = TigoClient(http, USERNAME, PASSWORD)
    assert client.base_url == tigo.DEFAULT_BASE_URL
    assert repr(client) == (
        "TigoClient(base_url='https://api2.tigoenergy.com/api/v3/', token_expires=None)"
    )
    assert TigoClient(http, USERNAME, PASSWORD, base_url="http://x/api/v3").base_url == (
        "http://x/api/v3/"
    )


# ---- against the simulator: fixtures --------------------------------------------------------


@pytest.fixture
def sim_config() -> TigoConfig:
    return TigoConfig(hang_seconds=2.0)


@pytest.fixture
async def sim(sim_config: TigoConfig) -> AsyncIterator[TigoSimulator]:
    simulator = TigoSimulator(sim_config, SimClock.fixed(NOON))
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
def client(http: aiohttp.ClientSession, sim: TigoSimulator) -> TigoClient:
    return TigoClient(
        http,
        USERNAME,
        PASSWORD,
        base_url=sim.base_url,
        request_timeout=2.0,
        clock=sim.clock.now,
    )


@pytest.fixture
def home(sim: TigoSimulator) -> SimSystem:
    return sim.systems[0]


def requests(sim: TigoSimulator, path: str) -> int:
    return sim.requests[f"GET {API}/{path}"]


# ---- against the simulator: login and tokens ------------------------------------------------


async def test_login(client: TigoClient, sim: TigoSimulator) -> None:
    token = await client.login()
    assert token.expires == NOON + timedelta(hours=1)
    assert (token.user_id, token.user_type) == (sim.config.user_id, "Basic")
    assert client.token_expires == token.expires
    assert sim.logins == 1
    assert sim.active_tokens == 1


async def test_lazy_login_once(client: TigoClient, sim: TigoSimulator) -> None:
    await client.get_object_types()
    await client.get_systems()
    await client.get_alert_types()
    assert sim.logins == 1
    assert requests(sim, "users/login") == 1


async def test_renewal_shortly_before_expiry(client: TigoClient, sim: TigoSimulator) -> None:
    await client.login()
    sim.clock.advance(timedelta(minutes=55))  # exactly RENEW_BEFORE left: still used
    await client.get_object_types()
    assert sim.logins == 1
    sim.clock.advance(1)
    await client.get_object_types()
    assert sim.logins == 2
    assert client.token_expires == sim.clock.now() + timedelta(hours=1)
    assert requests(sim, "objects/types") == 2  # renewed ahead, no 401 on the way


async def test_expired_token_is_renewed_before_the_call(
    client: TigoClient, sim: TigoSimulator
) -> None:
    await client.get_object_types()
    sim.clock.advance(timedelta(hours=3))  # e.g. Home Assistant was suspended
    await client.get_object_types()
    assert sim.logins == 2
    assert requests(sim, "objects/types") == 2


async def test_token_dropped_by_the_server_means_one_silent_relogin(
    client: TigoClient, sim: TigoSimulator, home: SimSystem
) -> None:
    await client.get_summary(home.system_id)
    sim.expire_tokens()
    summary = await client.get_summary(home.system_id)
    assert summary.daily_energy_dc > 0
    assert sim.logins == 2
    assert requests(sim, "data/summary") == 3  # ok, 401, retried ok


async def test_second_401_is_a_lost_session_not_a_wrong_password(
    client: TigoClient, sim: TigoSimulator, home: SimSystem
) -> None:
    """The re-login succeeded, so the password is right: retry next cycle, no reauth."""
    await client.login()
    sim.fail_next("401", count=2, path="data/summary")
    with pytest.raises(SessionLostError, match=r"HTTP 401.*right after a successful login") as err:
        await client.get_summary(home.system_id)
    assert type(err.value) is SessionLostError
    assert not isinstance(err.value, AuthenticationError)
    assert sim.logins == 2  # exactly one re-login
    assert client.token_expires is None
    # The credentials still work: the next call logs in first and succeeds.
    await client.get_summary(home.system_id)
    assert sim.logins == 3


async def test_401_right_after_a_fresh_login_is_not_retried(
    client: TigoClient, sim: TigoSimulator, home: SimSystem
) -> None:
    sim.fail_next("401", path="data/summary")
    with pytest.raises(SessionLostError, match="HTTP 401"):
        await client.get_summary(home.system_id)
    assert sim.logins == 1
    assert requests(sim, "data/summary") == 1


async def test_wrong_password(http: aiohttp.ClientSession, sim: TigoSimulator) -> None:
    client = TigoClient(http, USERNAME, "Rainy-Day-13", base_url=sim.base_url, clock=sim.clock.now)
    with pytest.raises(
        AuthenticationError, match=r"users/login answered HTTP 401: 'You are requesting"
    ) as err:
        await client.login()
    assert "Rainy-Day-13" not in str(err.value)
    with pytest.raises(AuthenticationError):
        await client.get_systems()  # the lazy login fails the same way
    assert sim.logins == 0
    assert requests(sim, "systems") == 0


@pytest.mark.parametrize("sim_config", [TigoConfig(premium=False)])
async def test_account_without_premium(client: TigoClient, sim: TigoSimulator) -> None:
    with pytest.raises(
        PermissionDeniedError,
        match=r"HTTP 403: 'API access requires a Tigo Premium subscription\.'",
    ):
        await client.login()
    with pytest.raises(PermissionDeniedError):
        await client.get_systems()
    assert client.token_expires is None


async def test_concurrent_calls_share_one_login(
    client: TigoClient, sim: TigoSimulator, home: SimSystem
) -> None:
    def calls() -> list[Awaitable[object]]:
        system_id = home.system_id
        return [
            client.get_summary(system_id),
            client.get_sources(system_id),
            client.get_alerts(system_id),
            client.get_objects(system_id),
            client.get_system(system_id),
        ]

    await asyncio.gather(*calls())
    assert sim.logins == 1  # the first login, shared
    sim.expire_tokens()
    await asyncio.gather(*calls())
    assert sim.logins == 2  # five 401s, one re-login
    sim.clock.advance(timedelta(minutes=58))
    await asyncio.gather(*calls())
    assert sim.logins == 3  # one renewal


async def test_logout(client: TigoClient, sim: TigoSimulator) -> None:
    await client.login()
    await client.logout()
    assert sim.active_tokens == 0
    assert client.token_expires is None
    assert requests(sim, "users/logout") == 1
    await client.get_object_types()  # logs in again
    assert sim.logins == 2
    await sim.stop()
    await client.logout()  # a gone server is ignored
    assert client.token_expires is None


async def test_secrets_stay_out_of_logs_errors_and_repr(
    client: TigoClient, sim: TigoSimulator, home: SimSystem, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = [(await client.login()).auth]
    sim.fail_next("401", count=2, path="data/summary")
    with pytest.raises(SessionLostError) as err:
        await client.get_summary(home.system_id)
    tokens += list(sim._tokens)
    texts = [caplog.text, str(err.value), repr(client), repr(await client.login())]
    for secret in [PASSWORD, USERNAME, *tokens]:
        assert all(secret not in text for text in texts)
    assert "Logged in to the Tigo cloud" in caplog.text


# ---- against the simulator: data ------------------------------------------------------------


async def test_systems(client: TigoClient, sim: TigoSimulator) -> None:
    systems = await client.get_systems()
    assert [(s.system_id, s.name, s.timezone) for s in systems] == [
        (s.system_id, s.name, s.timezone) for s in sim.systems
    ]
    assert requests(sim, "systems") == 1  # three systems: one short page
    home = systems[0]
    assert (home.city, home.zip, home.power_rating) == ("München", "80331", 8000.0)
    assert await client.get_system(home.system_id) == home


async def test_systems_paging(
    client: TigoClient, sim: TigoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tigo, "PAGE_SIZE", 2)
    systems = await client.get_systems()
    assert [s.system_id for s in systems] == [s.system_id for s in sim.systems]
    assert requests(sim, "systems") == 2  # 2 + 1
    monkeypatch.setattr(tigo, "PAGE_SIZE", 3)
    assert len(await client.get_systems()) == 3
    assert requests(sim, "systems") == 4  # 3 + an empty page


async def test_alerts_paging_languages_and_filter(
    client: TigoClient, sim: TigoSimulator, home: SimSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tigo, "PAGE_SIZE", 5)
    assert await client.get_alerts(home.system_id) == []
    raised = []
    for n in range(12):
        raised.append(sim.raise_alert(home.system_id, 300, message=f"Panel A{n + 1}"))
        sim.clock.advance(60)
    alerts = await client.get_alerts(home.system_id)
    assert requests(sim, "alerts/system") == 1 + 3  # 5 + 5 + 2
    assert sorted(alert.alert_id for alert in alerts) == sorted(raised)
    newest = alerts[0]
    assert (newest.unique_id, newest.system_id, newest.message) == (
        300,
        home.system_id,
        "Panel A12",
    )
    assert newest.added == NOON + timedelta(minutes=11)
    assert newest.generated is not None
    assert newest.generated < newest.added
    since = await client.get_alerts(home.system_id, start_added=NOON + timedelta(minutes=9))
    assert {alert.message for alert in since} == {"Panel A10", "Panel A11", "Panel A12"}
    (german,) = await client.get_alerts(
        home.system_id,
        language="DE",
        start_added=NOON + timedelta(minutes=11),
        end_added=NOON + timedelta(minutes=12),
    )
    assert german.alert_id == newest.alert_id
    assert german.title != newest.title


async def test_alert_types(client: TigoClient) -> None:
    types = {alert_type.unique_id: alert_type for alert_type in await client.get_alert_types()}
    assert {106, 300, 301, 1000} <= set(types)
    german = {t.unique_id: t for t in await client.get_alert_types(language="DE")}
    assert german[300].title != types[300].title


async def test_layout_objects_and_types(
    client: TigoClient, sim: TigoSimulator, home: SimSystem
) -> None:
    layout = await client.get_layout(home.system_id)
    panels = [
        panel
        for inverter in layout.inverters
        for mppt in inverter.mppts
        for string in mppt.strings
        for panel in string.panels
    ]
    assert layout.system_id == home.system_id
    assert len(panels) == home.panel_count
    assert [(p.label, p.serial, p.object_id) for p in panels] == [
        (p.label, p.serial, p.object_id) for p in home.panels
    ]
    objects = {obj.id: obj for obj in await client.get_objects(home.system_id)}
    types = {t.label: t.object_type_id for t in await client.get_object_types()}
    root = objects[home.object_id]
    assert (root.parent_id, root.object_type_id) == (-1, types["System"])
    for panel in panels:
        assert panel.object_id is not None
        obj = objects[panel.object_id]
        assert obj.object_type_id == types["Panel"]
        assert obj.datasource is not None
        assert obj.datasource.endswith(f".panels.{panel.label}")
        assert panel.object_id in objects[obj.parent_id].children


async def test_sources_and_summary(client: TigoClient, sim: TigoSimulator, home: SimSystem) -> None:
    (source,) = await client.get_sources(home.system_id)
    assert (source.control_state, source.timezone) == ("on", home.timezone)
    assert source.last_checkin is not None
    assert NOON - sim.config.checkin_interval <= source.last_checkin <= NOON
    (data_set,) = source.sets
    assert data_set.last_min == sim.newest_minute(home.system_id)
    summary = await client.get_summary(home.system_id)
    assert summary.daily_energy_dc == sim.daily_energy_wh(home.system_id, NOON.date())
    assert summary.lifetime_energy_dc > summary.ytd_energy_dc > summary.daily_energy_dc > 0
    assert summary.last_power_dc > 0
    assert summary.updated_on == sim.newest_minute(home.system_id)


async def test_unknown_system_is_not_found(client: TigoClient) -> None:
    with pytest.raises(NotFoundError, match=r"HTTP 404: 'System not found\.'"):
        await client.get_system(999)


async def test_aggregate_through_the_mid_file_header(
    client: TigoClient, sim: TigoSimulator, home: SimSystem
) -> None:
    tz = ZoneInfo(home.timezone)
    series = await client.get_aggregate(home.system_id, NOON - timedelta(hours=1), NOON, tz=tz)
    assert set(series.columns) == {str(panel.object_id) for panel in home.panels}
    assert series.skipped_rows == 0
    newest = sim.newest_minute(home.system_id)
    checked = 0
    for column, points in series.columns.items():
        assert points[-1][0] == newest
        for stamp, value in points:
            assert stamp.tzinfo is tz
            assert value == sim.panel_power(home.system_id, int(column), stamp)
            checked += 1
    assert newest is not None
    minutes = int((newest - (NOON - timedelta(hours=1))).total_seconds() // 60) + 1
    assert checked == home.panel_count * minutes  # every minute up to the newest uploaded


async def test_aggregate_with_object_ids_and_key_header(
    client: TigoClient, sim: TigoSimulator, home: SimSystem
) -> None:
    tz = ZoneInfo(home.timezone)
    first, second = home.panels[0], home.panels[5]
    series = await client.get_aggregate(
        home.system_id,
        NOON - timedelta(minutes=30),
        NOON,
        tz=tz,
        param="Vin",
        object_ids=[second.object_id, first.object_id],
        header="key",
    )
    assert set(series.columns) == {f"{first.datasource}_Vin", f"{second.datasource}_Vin"}
    for panel in (first, second):
        points = series.columns[f"{panel.datasource}_Vin"]
        assert points
        for stamp, value in points:
            reading = sim.panel_reading(home.system_id, panel.object_id, stamp)
            assert reading is not None
            assert value == reading.vin


async def test_combined_hours(client: TigoClient, sim: TigoSimulator, home: SimSystem) -> None:
    tz = ZoneInfo(home.timezone)
    midnight = datetime(2026, 6, 21, tzinfo=tz)
    series = await client.get_combined(
        home.system_id, midnight, NOON, tz=tz, object_ids=[home.object_id]
    )
    points = series.columns[str(home.object_id)]
    assert [stamp.hour for stamp, _ in points] == list(range(12))
    for stamp, value in points:
        assert value == sim.hourly_energy_wh(home.system_id, stamp)
    assert sum(value for _, value in points) == pytest.approx(
        sim.daily_energy_wh(home.system_id, midnight.date())
    )


async def test_combined_range_too_large(client: TigoClient, home: SimSystem) -> None:
    tz = ZoneInfo(home.timezone)
    with pytest.raises(SolarHubApiError, match="HTTP 400: 'Date range too large") as err:
        await client.get_combined(
            home.system_id, NOON - timedelta(days=3), NOON, tz=tz, level="minute"
        )
    assert type(err.value) is SolarHubApiError


async def test_malformed_csv_rows_are_counted(
    client: TigoClient, sim: TigoSimulator, home: SimSystem
) -> None:
    tz = ZoneInfo(home.timezone)
    start, end = NOON - timedelta(hours=1), NOON
    clean = await client.get_aggregate(home.system_id, start, end, tz=tz)
    sim.fail_next("malformed", path="data/aggregate")
    garbled = await client.get_aggregate(home.system_id, start, end, tz=tz)
    newest = sim.newest_minute(home.system_id)
    assert newest is not None
    rows = int((newest - start).total_seconds() // 60) + 1
    lost = len([row for row in range(rows) if row % 4 == 1])  # the simulator garbles every 4th
    # Each garbled row is counted; a PHP warning in its place spans two lines, both counted.
    assert lost <= garbled.skipped_rows <= 2 * lost
    for column, points in garbled.columns.items():
        assert set(points) <= set(clean.columns[column])  # what survives is right
        assert len(points) == rows - lost


async def test_malformed_json(client: TigoClient, sim: TigoSimulator, home: SimSystem) -> None:
    sim.fail_next("malformed", path="data/summary")
    with pytest.raises(MalformedResponseError, match="not JSON"):
        await client.get_summary(home.system_id)
    assert (await client.get_summary(home.system_id)).daily_energy_dc > 0


async def test_rate_limit_headers(client: TigoClient, sim: TigoSimulator, home: SimSystem) -> None:
    assert client.rate_limit is None
    await client.get_summary(home.system_id)
    sim.clock.advance(600)
    await client.get_sources(home.system_id)
    assert client.rate_limit == RateLimit(
        limit=1000,
        remaining=1000 - 3,  # the login counts too
        reset_seconds=3000.0,
        observed_at=NOON + timedelta(minutes=10),
    )


async def test_429_is_not_retried(client: TigoClient, sim: TigoSimulator, home: SimSystem) -> None:
    await client.login()
    sim.clock.advance(100)
    sim.fail_next("429", path="data/summary")
    with pytest.raises(RateLimitedError, match=r"HTTP 429: 'Rate limit exceeded\.'") as err:
        await client.get_summary(home.system_id)
    assert err.value.retry_after == 3500.0
    assert requests(sim, "data/summary") == 1
    assert client.rate_limit is not None
    assert client.rate_limit.remaining == 0


@pytest.mark.parametrize("sim_config", [TigoConfig(rate_limit=3)])
async def test_rate_limit_exhausted(client: TigoClient, sim: TigoSimulator) -> None:
    await client.get_object_types()
    await client.get_object_types()
    sim.clock.advance(1200)
    with pytest.raises(RateLimitedError) as err:
        await client.get_object_types()
    assert err.value.retry_after == 2400.0
    assert sim.rate_limited == 1
    assert client.rate_limit is not None
    assert (client.rate_limit.remaining, client.rate_limit.reset_seconds) == (0, 2400.0)
    sim.clock.advance(2400)
    await client.get_object_types()  # a new window


@pytest.mark.parametrize("kind", ["500", "503"])
async def test_server_errors_are_connection_errors(
    client: TigoClient, sim: TigoSimulator, home: SimSystem, kind: str
) -> None:
    await client.login()
    sim.fail_next(kind, path="sources/system")
    with pytest.raises(ApiConnectionError, match=f"GET sources/system answered HTTP {kind}"):
        await client.get_sources(home.system_id)
    assert await client.get_sources(home.system_id)  # recovers, same token
    assert sim.logins == 1


async def test_timeout_is_a_connection_error(
    http: aiohttp.ClientSession, sim: TigoSimulator, home: SimSystem
) -> None:
    client = TigoClient(
        http, USERNAME, PASSWORD, base_url=sim.base_url, request_timeout=0.2, clock=sim.clock.now
    )
    sim.fail_next("timeout", path="users/login")
    with pytest.raises(ApiConnectionError, match="did not answer in time"):
        await client.get_summary(home.system_id)
    assert client.token_expires is None
    sim.fail_next("timeout", path="data/summary")
    with pytest.raises(ApiConnectionError, match="GET data/summary: the Tigo cloud did not"):
        await client.get_summary(home.system_id)
    assert await client.get_summary(home.system_id)
    assert sim.logins == 1


async def test_config_update_header(
    client: TigoClient, sim: TigoSimulator, home: SimSystem
) -> None:
    garage = sim.systems[1]
    assert client.config_update(home.system_id) is None
    await client.get_summary(home.system_id)
    first = client.config_update(home.system_id)
    assert first is not None
    assert datetime.fromisoformat(first) == home.config_updated
    assert client.config_update(garage.system_id) is None
    await client.get_object_types()  # names no system: nothing changes
    assert client.config_update(home.system_id) == first
    sim.clock.advance(60)
    changed = sim.set_config_update(home.system_id)
    await client.get_layout(home.system_id)  # systems/layout names it as ``id``
    second = client.config_update(home.system_id)
    assert second is not None
    assert second != first
    assert datetime.fromisoformat(second) == changed
