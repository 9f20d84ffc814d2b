"""The Tigo cloud simulator, driven over loopback HTTP by a minimal client written here.

The client below is independent of the integration's client: plain aiohttp calls and a CSV
reader that follows the vendor notes (a header line anywhere re-maps the columns).
"""

from __future__ import annotations

import argparse
import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
import json
import re
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy
import pytest

from tests.constants import (
    BERLIN,
    NIGHT,
    NOON,
    TIGO_PASSWORD as PASSWORD,
    TIGO_USERNAME as USER,
)
from tests.simulators import SimClock
from tests.simulators.__main__ import VENDORS, build_parser
from tests.simulators.helpers import simulator_process
from tests.simulators.tigo import (
    ALERT_CODES,
    DEFAULT_SYSTEMS,
    SimSystem,
    SystemSpec,
    TigoConfig,
    TigoSimulator,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

AGG_STAMP = "%Y/%m/%d %H:%M:%S"
COMBINED_STAMP = "%Y/%m/%d %H:%M:%S.000"


def local(dt: datetime, system: SimSystem) -> str:
    """A time as the API wants it: local wall time, no offset."""
    return dt.astimezone(system.tz).strftime("%Y-%m-%dT%H:%M:%S")


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@dataclass(frozen=True)
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


class Api:
    """Plain GETs against the simulator, with or without a bearer token."""

    def __init__(self, http: aiohttp.ClientSession, sim: TigoSimulator) -> None:
        self.http = http
        self.base = sim.base_url
        self.token: str | None = None

    async def call(
        self, path: str, *, authorization: str | None = None, method: str = "GET", **params: Any
    ) -> Reply:
        headers = {}
        if authorization is not None:
            headers["Authorization"] = authorization
        elif self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        query = {k: str(v) for k, v in params.items()}
        async with self.http.request(
            method, self.base + path, params=query, headers=headers
        ) as resp:
            return Reply(resp.status, resp.headers, await resp.text())

    async def ok(self, path: str, **params: Any) -> Reply:
        reply = await self.call(path, **params)
        assert reply.status == 200, reply.text
        return reply

    async def json(self, path: str, **params: Any) -> Any:
        return (await self.ok(path, **params)).json()

    async def login(self, username: str = USER, password: str = PASSWORD) -> Reply:
        reply = await self.call("users/login", authorization=basic(username, password))
        if reply.status == 200:
            self.token = reply.json()["user"]["auth"]
        return reply


@dataclass
class Csv:
    """A CSV answer read the right way: each header line re-maps the columns after it."""

    headers: list[list[str]]
    cells: dict[str, dict[str, str]]  # column -> time stamp -> cell
    stamps: list[str]

    def values(self, column: str) -> dict[str, float]:
        return {stamp: float(v) for stamp, v in self.cells.get(column, {}).items() if v}


def read_csv(text: str, first: str = "Datetime") -> Csv:
    assert text.endswith("\n")
    headers: list[list[str]] = []
    cells: dict[str, dict[str, str]] = {}
    stamps: list[str] = []
    for line in text.splitlines():
        fields = line.split(",")
        if fields[0] == first:
            headers.append(fields[1:])
            continue
        assert headers, "a row before any header"
        assert len(fields) == len(headers[-1]) + 1, line
        stamps.append(fields[0])
        for name, cell in zip(headers[-1], fields[1:], strict=True):
            cells.setdefault(name, {})[fields[0]] = cell
    return Csv(headers, cells, stamps)


def row_time(stamp: str, system: SimSystem) -> datetime:
    return datetime.strptime(stamp[:19], AGG_STAMP).replace(tzinfo=system.tz)


# ---- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def config() -> TigoConfig:
    # Tokens live a year so tests can move the clock by days; the expiry has tests of its own.
    return TigoConfig(token_lifetime=timedelta(days=365))


@pytest.fixture
async def sim(config: TigoConfig, clock: SimClock) -> AsyncIterator[TigoSimulator]:
    async with TigoSimulator(config, clock) as simulator:
        yield simulator


@pytest.fixture
def api(http: aiohttp.ClientSession, sim: TigoSimulator) -> Api:
    return Api(http, sim)


@pytest.fixture
async def owner(api: Api) -> Api:
    assert (await api.login()).status == 200
    return api


@pytest.fixture
def home(sim: TigoSimulator) -> SimSystem:
    return sim.systems[0]


@pytest.fixture
def farm(sim: TigoSimulator) -> SimSystem:
    return sim.systems[2]


def assert_error(reply: Reply, status: int, name: str) -> dict[str, Any]:
    assert reply.status == status, reply.text
    body = reply.json()
    assert body["name"] == name
    assert body["status"] == status
    assert body["code"] == 0
    assert body["message"]
    return dict(body)


# ---- login, tokens ----------------------------------------------------------------------------


async def test_login_hands_out_a_bearer_token(
    api: Api, sim: TigoSimulator, config: TigoConfig
) -> None:
    config.token_lifetime = TigoConfig().token_lifetime
    reply = await api.login()
    assert reply.status == 200
    user = reply.json()["user"]
    assert set(user) == {"user_id", "auth", "expires", "user_type"}
    assert user["user_id"] == sim.config.user_id
    assert user["user_type"] == "Basic"
    expires = datetime.fromisoformat(user["expires"])
    assert expires.utcoffset() == timedelta(hours=-7)  # the server's zone, Los Angeles in June
    assert expires == NOON + timedelta(hours=1)
    assert (await api.call("systems")).status == 200
    assert sim.logins == 1
    assert sim.active_tokens == 1
    # The e-mail is not case-sensitive; every login gets a token of its own.
    other = Api(api.http, sim)
    assert (await other.login(USER.upper())).status == 200
    assert other.token != api.token
    assert sim.active_tokens == 2


@pytest.mark.parametrize(
    "authorization",
    [
        basic(USER, "wrong"),
        basic("someone@example.com", PASSWORD),
        basic(USER, PASSWORD.lower()),
        "Basic !!not-base64!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Bearer " + PASSWORD,
        "",
    ],
)
async def test_wrong_credentials(api: Api, sim: TigoSimulator, authorization: str) -> None:
    reply = await api.call("users/login", authorization=authorization)
    body = assert_error(reply, 401, "Unauthorized")
    assert body["message"] == "You are requesting with an invalid credential."
    assert reply.headers["WWW-Authenticate"].startswith("Basic")
    assert sim.logins == 0


async def test_without_premium(api: Api, sim: TigoSimulator, config: TigoConfig) -> None:
    config.premium = False
    reply = await api.login()
    assert reply.status == 403
    assert reply.json() == {
        "name": "Forbidden",
        "message": "API access requires a Tigo Premium subscription.",
        "code": 0,
        "status": 403,
    }
    assert (await api.login(password="wrong")).status == 401  # credentials are checked first
    assert sim.logins == 0


@pytest.mark.parametrize("token", [None, "unknown-token"])
async def test_calls_need_a_valid_bearer(api: Api, token: str | None) -> None:
    api.token = token
    reply = await api.call("systems")
    assert_error(reply, 401, "Unauthorized")
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")


async def test_tokens_expire(
    api: Api, sim: TigoSimulator, config: TigoConfig, clock: SimClock
) -> None:
    config.token_lifetime = TigoConfig().token_lifetime  # one hour
    owner = api
    assert (await owner.login()).status == 200
    clock.advance(timedelta(minutes=59))
    assert (await owner.call("systems")).status == 200
    clock.advance(timedelta(minutes=1))
    assert_error(await owner.call("systems"), 401, "Unauthorized")
    assert sim.active_tokens == 0
    assert (await owner.login()).status == 200
    assert (await owner.call("systems")).status == 200
    sim.expire_tokens()
    assert_error(await owner.call("systems"), 401, "Unauthorized")
    assert sim.logins == 2


async def test_logout(owner: Api, sim: TigoSimulator) -> None:
    reply = await owner.ok("users/logout")
    assert reply.json() == {"name": "OK", "message": "Logged out user", "code": 0, "status": 200}
    assert_error(await owner.call("systems"), 401, "Unauthorized")
    assert_error(await owner.call("users/logout"), 401, "Unauthorized")
    assert sim.active_tokens == 0


async def test_current_user(owner: Api, config: TigoConfig) -> None:
    user = (await owner.json("users/get", id=config.user_id))["user"]
    assert user["user_id"] == config.user_id
    assert user["email"] == config.username
    assert (await owner.json(f"users/{config.user_id}"))["user"] == user
    assert_error(await owner.call("users/get", id=1), 404, "Not Found")
    assert_error(await owner.call("users/get"), 400, "Bad Request")


# ---- rate limit -------------------------------------------------------------------------------


async def test_rate_limit_headers_on_every_answer(api: Api, clock: SimClock) -> None:
    replies = [
        await api.call("systems"),  # 401
        await api.login(),
        await api.call("systems"),
        await api.call("no/such/route"),  # 404
    ]
    remaining = [int(r.headers["X-Rate-Limit-Remaining"]) for r in replies]
    assert remaining == [999, 998, 997, 996]
    for reply in replies:
        assert reply.headers["X-Rate-Limit-Limit"] == "1000"
        assert reply.headers["X-Rate-Limit-Reset"] == "3600"
    clock.advance(timedelta(minutes=10))
    reply = await api.call("systems")
    assert reply.headers["X-Rate-Limit-Reset"] == "3000"
    assert reply.headers["X-Rate-Limit-Remaining"] == "995"


async def test_rate_limit_is_per_account(
    api: Api, sim: TigoSimulator, config: TigoConfig, clock: SimClock
) -> None:
    config.rate_limit = 4
    assert (await api.login()).status == 200
    other = Api(api.http, sim)
    assert (await other.login()).status == 200
    assert (await api.call("systems")).status == 200
    assert (await other.call("objects/types")).status == 200  # the 4th request of the account
    clock.advance(timedelta(minutes=20))
    reply = await api.call("systems")
    assert_error(reply, 429, "Too Many Requests")
    assert reply.headers["Retry-After"] == "2400"
    assert reply.headers["X-Rate-Limit-Remaining"] == "0"
    assert reply.headers["X-Rate-Limit-Reset"] == "2400"
    assert (await other.call("systems")).status == 429
    assert sim.rate_limited == 2
    clock.advance(timedelta(seconds=2400))  # a new window (and the token expired meanwhile)
    reply = await api.login()
    assert reply.status == 200
    assert reply.headers["X-Rate-Limit-Remaining"] == "3"
    assert reply.headers["X-Rate-Limit-Reset"] == "3600"


# ---- systems, layout, objects, sources --------------------------------------------------------


async def test_systems_are_paged(owner: Api, sim: TigoSimulator) -> None:
    first = await owner.ok("systems")
    second = await owner.ok("systems", page=2)
    third = await owner.ok("systems", page=3)
    names = [s["name"] for s in first.json()["systems"] + second.json()["systems"]]
    assert names == ["Home", "Garage", "Solar farm"]
    assert third.json() == {"systems": []}
    assert first.headers["X-Pagination-Total-Count"] == "3"
    assert first.headers["X-Pagination-Page-Count"] == "2"
    assert second.headers["X-Pagination-Current-Page"] == "2"
    assert first.headers["X-Pagination-Per-Page"] == "2"
    everything = await owner.json("systems", limit=50)
    assert [s["system_id"] for s in everything["systems"]] == [s.system_id for s in sim.systems]
    clamped = await owner.ok("systems", limit=1000)
    assert clamped.headers["X-Pagination-Per-Page"] == "50"
    by_name = await owner.json("systems", limit=10, sort="-name")
    assert [s["name"] for s in by_name["systems"]] == ["Solar farm", "Home", "Garage"]
    for bad in ({"page": 0}, {"limit": "ten"}):
        assert_error(await owner.call("systems", **bad), 400, "Bad Request")


async def test_system_fields_and_view(owner: Api, sim: TigoSimulator, home: SimSystem) -> None:
    listed = (await owner.json("systems", limit=10))["systems"]
    view = (await owner.json("systems/view", id=home.system_id))["system"]
    assert view == listed[0]
    assert (await owner.json(f"systems/{home.system_id}"))["system"] == view
    assert view["timezone"] == "Europe/Berlin"
    assert view["power_rating"] == 8000
    assert datetime.fromisoformat(view["created"]).utcoffset() == timedelta(0)
    assert date.fromisoformat(view["turn_on_date"])
    assert listed[1]["turn_on_date"] == "null"  # the seed's quirk, on the garage
    assert_error(await owner.call("systems/view", id=999), 404, "Not Found")
    assert_error(await owner.call("systems/view"), 400, "Bad Request")
    assert_error(await owner.call("systems/view", id="abc"), 400, "Bad Request")
    assert sim.requests_by_system[home.system_id] == 2
    assert sim.requests_by_system[999] == 1
    assert sim.requests[f"GET /api/v3/systems/{home.system_id}"] == 1
    assert sim.requests["GET /api/v3/systems/view"] == 4


async def test_system_view_side_loads(owner: Api, farm: SimSystem) -> None:
    body = await owner.json(
        "systems/view",
        id=farm.system_id,
        include="inverters,mppts,strings,panels,objects,sources,meters,images,bogus",
    )
    assert set(body) == {
        "system",
        "inverters",
        "mppts",
        "strings",
        "panels",
        "objects",
        "sources",
        "meters",
        "images",
    }
    assert (len(body["inverters"]), len(body["mppts"]), len(body["strings"])) == (5, 10, 20)
    assert len(body["panels"]) == 500
    assert len(body["sources"]) == 2
    assert body["meters"] == body["images"] == []
    mppt_ids = {m["mppt_id"] for m in body["mppts"]}
    assert {s["mppt_id"] for s in body["strings"]} == mppt_ids
    assert (
        body["sources"] == (await owner.json("sources/system", system_id=farm.system_id))["sources"]
    )
    plain = await owner.json("systems/view", id=farm.system_id)
    assert set(plain) == {"system"}


@pytest.mark.parametrize("index", [0, 1, 2])
async def test_layout_and_objects_agree(owner: Api, sim: TigoSimulator, index: int) -> None:
    system = sim.systems[index]
    layout = (await owner.json("systems/layout", id=system.system_id))["system"]
    objects = (await owner.json("objects/system", system_id=system.system_id))["objects"]
    sources = (await owner.json("sources/system", system_id=system.system_id))["sources"]
    by_id = {o["id"]: o for o in objects}
    assert len(by_id) == len(objects)
    serials = {s["serial"] for s in sources}
    root = [o for o in objects if o["parent_id"] == -1]
    assert len(root) == 1
    assert root[0]["id"] == system.object_id
    assert root[0]["object_type_id"] == 1
    for obj in objects:
        for child in obj["children"]:
            assert by_id[child]["parent_id"] == obj["id"]
        if obj["parent_id"] != -1:
            assert obj["id"] in by_id[obj["parent_id"]]["children"]
    layout_panels = []
    for inverter in layout["inverters"]:
        assert by_id[inverter["object_id"]]["object_type_id"] == 4
        for mppt in inverter["mppts"]:
            for string in mppt["strings"]:
                string_object = by_id[string["object_id"]]
                assert string_object["object_type_id"] == 3
                assert string_object["parent_id"] == inverter["object_id"]
                assert (
                    string_object["label"] == string["label"] == f"String {string['short_label']}"
                )
                assert string_object["children"] == [p["object_id"] for p in string["panels"]]
                for number, panel in enumerate(string["panels"], start=1):
                    assert panel["label"] == f"{string['short_label']}{number}"
                    assert panel["short_label"] == number
                    layout_panels.append(panel)
    panel_objects = [o for o in objects if o["object_type_id"] == 2]
    assert [p["object_id"] for p in layout_panels] == [o["id"] for o in panel_objects]
    assert len(layout_panels) == system.panel_count == system.spec.panels
    for panel, obj in zip(layout_panels, panel_objects, strict=True):
        gateway, _, label = obj["datasource"].partition(".panels.")
        assert gateway in serials
        assert label == panel["label"] == obj["label"]
        assert obj["children"] == []
    assert len({p["serial"] for p in layout_panels}) == len(layout_panels)
    assert len({p["label"] for p in layout_panels}) == len(layout_panels)
    assert all(o["datasource"] is None for o in objects if o["object_type_id"] != 2)


def test_ids_are_unique_across_the_account(sim: TigoSimulator) -> None:
    object_ids = [i for s in sim.systems for i in s.object_ids]
    assert (
        len(object_ids)
        == len(set(object_ids))
        == (1 + 1 + 2 + 20) + (1 + 1 + 1 + 8) + (1 + 5 + 20 + 500)
    )
    serials = [p.serial for s in sim.systems for p in s.panels]
    assert len(serials) == len(set(serials)) == 528
    assert [len(s.strings) for s in sim.systems] == [2, 1, 20]
    assert [len(s.panels) for s in sim.systems[2].strings] == [25] * 20


async def test_object_types(owner: Api) -> None:
    types = (await owner.json("objects/types"))["object_types"]
    assert {t["object_type_id"]: t["label"] for t in types}.items() >= {
        1: "System",
        2: "Panel",
        3: "String",
        4: "Inverter",
    }.items()


async def test_sources(owner: Api, sim: TigoSimulator, home: SimSystem, clock: SimClock) -> None:
    (source,) = (await owner.json("sources/system", system_id=home.system_id))["sources"]
    assert source["control_state"] == "on"
    assert source["timezone"] == "Europe/Berlin"
    assert source["system_id"] == home.system_id
    checkin = datetime.fromisoformat(source["last_checkin"])
    assert checkin.utcoffset() == timedelta(hours=2)
    assert NOON - timedelta(minutes=5) < checkin <= NOON
    (data_set,) = source["sets"]
    assert data_set["set_name"] == "panels_avg"
    assert datetime.fromisoformat(data_set["last_min"]) == sim.newest_minute(home.system_id)
    assert data_set["last_day"] == "2026-06-21T00:00:00+02:00"
    clock.set(NIGHT)  # the newest minute with data is yesterday evening's last
    (source,) = (await owner.json("sources/system", system_id=home.system_id))["sources"]
    last_min = datetime.fromisoformat(source["sets"][0]["last_min"])
    assert (
        datetime(2026, 6, 21, 21, 0, tzinfo=BERLIN)
        < last_min
        < datetime(2026, 6, 21, 22, 0, tzinfo=BERLIN)
    )
    assert sim.panel_power(home.system_id, home.panels[0].object_id, last_min) > 0
    next_minute = last_min + timedelta(minutes=1)
    assert sim.panel_reading(home.system_id, home.panels[0].object_id, next_minute) is None


# ---- data/aggregate ---------------------------------------------------------------------------


async def test_aggregate_without_object_ids_changes_header_mid_file(
    owner: Api, sim: TigoSimulator, farm: SimSystem
) -> None:
    start = local(NOON - timedelta(minutes=40), farm)
    text = (
        await owner.ok(
            "data/aggregate", system_id=farm.system_id, start=start, end=local(NOON, farm)
        )
    ).text
    csv = read_csv(text)
    assert len(csv.headers) == 2
    first, second = csv.headers
    assert first == [str(p.object_id) for p in farm.panels]
    assert second != first
    assert sorted(second) == sorted(first)  # all panels produce: the same set, re-ordered
    assert text.count("\nDatetime,") == 1
    rows = text.splitlines()
    assert rows.index("Datetime," + ",".join(second)) == 1 + (len(csv.stamps) + 1) // 2
    # Values sit under the panel they belong to (the ground truth), in both parts.
    assert len(csv.stamps) == 21
    for panel in farm.panels[::50]:
        values = csv.values(str(panel.object_id))
        # The gateways check in at different seconds: the newest row may lack one's panels.
        assert list(values) == csv.stamps[: len(values)]
        assert len(values) >= 20
        for stamp, value in values.items():
            assert value == sim.panel_power(farm.system_id, panel.object_id, row_time(stamp, farm))
    # A parser that keeps the first header would file values under the wrong panels.
    naive_row = rows[-1].split(",")
    panel = farm.panels[0]
    naive_value = float(naive_row[1])
    truth = sim.panel_power(farm.system_id, panel.object_id, row_time(naive_row[0], farm))
    assert naive_value != truth


async def test_mid_file_header_drops_columns_without_data(
    owner: Api, sim: TigoSimulator, farm: SimSystem, clock: SimClock
) -> None:
    clock.set(NOON - timedelta(minutes=20))
    sim.set_gateway_online(farm.system_id, False, serial=farm.gateways[1].serial)
    clock.set(NOON)
    text = (
        await owner.ok(
            "data/aggregate",
            system_id=farm.system_id,
            start=local(NOON - timedelta(minutes=45), farm),
            end=local(NOON, farm),
        )
    ).text
    csv = read_csv(text)
    second_gateway = {
        str(p.object_id) for p in farm.panels if farm.strings[p.string_index].gateway_index == 1
    }
    assert second_gateway <= set(csv.headers[0])
    assert set(csv.headers[1]) == set(csv.headers[0]) - second_gateway


async def test_aggregate_with_object_ids(owner: Api, sim: TigoSimulator, home: SimSystem) -> None:
    chosen = [home.panels[12], home.panels[3], home.panels[7]]
    ids = ",".join(str(p.object_id) for p in chosen)
    window = {
        "system_id": home.system_id,
        "start": local(NOON - timedelta(minutes=30), home),
        "end": local(NOON, home),
        "object_ids": ids,
    }
    readings: dict[str, Csv] = {}
    for param in ("Pin", "Vin", "Iin", "RSSI"):
        text = (await owner.ok("data/aggregate", param=param, **window)).text
        readings[param] = read_csv(text)
        assert readings[param].headers == [[str(p.object_id) for p in chosen]]
    keyed = read_csv((await owner.ok("data/aggregate", param="Vin", header="key", **window)).text)
    assert keyed.headers == [[f"{p.datasource}_Vin" for p in chosen]]
    assert chosen[0].datasource == f"{home.gateways[0].serial}.panels.B3"
    for panel in chosen:
        column = str(panel.object_id)
        for stamp, pin in readings["Pin"].values(column).items():
            vin = readings["Vin"].values(column)[stamp]
            iin = readings["Iin"].values(column)[stamp]
            rssi = readings["RSSI"].values(column)[stamp]
            truth = sim.panel_reading(home.system_id, panel.object_id, row_time(stamp, home))
            assert truth is not None
            assert (pin, vin, iin, rssi) == (truth.pin, truth.vin, truth.iin, truth.rssi)
            assert 30 <= vin <= 40
            assert iin == pytest.approx(pin / vin, abs=0.002)
            assert 100 <= rssi <= 222
            assert rssi == int(rssi)
    lowercase = await owner.ok("data/aggregate", param="iin", **window)
    assert lowercase.text == (await owner.ok("data/aggregate", param="Iin", **window)).text


async def test_aggregate_bad_requests(owner: Api, home: SimSystem, farm: SimSystem) -> None:
    window = {"start": "2026-06-21T10:00:00", "end": "2026-06-21T11:00:00"}
    bad: list[dict[str, Any]] = [
        {"system_id": home.system_id, "start": window["start"]},  # no end
        {"system_id": home.system_id, **window, "param": "Pout"},
        {"system_id": home.system_id, **window, "level": "hour"},
        {"system_id": home.system_id, **window, "header": "name"},
        {"system_id": home.system_id, **window, "object_ids": "1,x"},
        {"system_id": home.system_id, **window, "object_ids": str(farm.panels[0].object_id)},
        {"system_id": home.system_id, **window, "object_ids": str(home.object_id)},
        {"system_id": home.system_id, "start": "2026-06-20T00:00:00", "end": window["end"]},
        {"system_id": home.system_id, "start": window["end"], "end": window["start"]},
        {"system_id": home.system_id, "start": "yesterday", "end": window["end"]},
    ]
    for params in bad:
        assert_error(await owner.call("data/aggregate", **params), 400, "Bad Request")
    assert_error(await owner.call("data/aggregate", **window), 400, "Bad Request")
    assert_error(await owner.call("data/aggregate", system_id=4, **window), 404, "Not Found")
    full_day = {"start": "2026-06-20T00:00:00", "end": "2026-06-20T23:59:59"}
    assert (await owner.call("data/aggregate", system_id=home.system_id, **full_day)).status == 200


async def test_aggregate_day_level(owner: Api, sim: TigoSimulator, home: SimSystem) -> None:
    panel = home.panels[5]
    params = {
        "system_id": home.system_id,
        "start": "2026-06-18T00:00:00",
        "end": "2026-06-21T23:59:59",
        "level": "day",
        "object_ids": panel.object_id,
    }
    pin = read_csv((await owner.ok("data/aggregate", **params)).text)
    assert pin.stamps == [f"2026/06/{d} 00:00:00" for d in (18, 19, 20, 21)]
    energies = pin.values(str(panel.object_id))
    for stamp, wh in energies.items():
        day = datetime.strptime(stamp, AGG_STAMP).date()
        assert wh == sim.daily_energy_wh(home.system_id, day, panel.object_id)
    assert 1000 < energies["2026/06/20 00:00:00"] < 3500  # a June day of a 400 W panel
    vin = read_csv((await owner.ok("data/aggregate", param="Vin", **params)).text)
    assert all(30 <= v <= 40 for v in vin.values(str(panel.object_id)).values())
    rssi = read_csv((await owner.ok("data/aggregate", param="RSSI", **params)).text)
    assert all(v == int(v) for v in rssi.values(str(panel.object_id)).values())


async def test_upload_lag(
    owner: Api, sim: TigoSimulator, config: TigoConfig, home: SimSystem, clock: SimClock
) -> None:
    lag = config.upload_lag
    for step in range(8):
        now = NOON + timedelta(minutes=3 * step, seconds=11 * step)
        clock.set(now)
        text = (
            await owner.ok(
                "data/aggregate",
                system_id=home.system_id,
                start=local(NOON - timedelta(hours=1), home),
                end=local(now + timedelta(hours=1), home),  # asking for the future changes nothing
                object_ids=home.panels[0].object_id,
            )
        ).text
        newest = row_time(read_csv(text).stamps[-1], home)
        assert now - lag - timedelta(minutes=1) - config.checkin_interval <= newest
        assert newest <= now - lag
        assert newest == sim.newest_minute(home.system_id)
        combined = read_csv(
            (
                await owner.ok(
                    "data/combined",
                    system_id=home.system_id,
                    start=local(NOON - timedelta(hours=1), home),
                    end=local(now, home),
                )
            ).text,
            "DATETIME",
        )
        assert row_time(combined.stamps[-1], home) == newest


async def test_empty_cells_at_night(
    owner: Api, sim: TigoSimulator, home: SimSystem, clock: SimClock
) -> None:
    clock.set(NIGHT + timedelta(hours=2))  # 03:00 in Berlin
    window = {
        "system_id": home.system_id,
        "start": "2026-06-22T01:00:00",
        "end": "2026-06-22T02:30:00",
    }
    csv = read_csv((await owner.ok("data/aggregate", **window)).text)
    assert len(csv.stamps) == 91
    assert all(cell == "" for column in csv.cells.values() for cell in column.values())
    combined = read_csv((await owner.ok("data/combined", **window)).text, "DATETIME")
    assert len(combined.stamps) == 91
    assert combined.values(str(home.object_id)) == {}
    hours = read_csv(
        (await owner.ok("data/combined", level="hour", **window)).text, "DATETIME"
    ).values(str(home.object_id))
    assert hours == {"2026/06/22 01:00:00.000": 0.0, "2026/06/22 02:00:00.000": 0.0}
    assert sim.panel_power(home.system_id, home.panels[0].object_id, NIGHT) == 0.0
    assert sim.panel_reading(home.system_id, home.panels[0].object_id, NIGHT) is None


async def test_sunrise_and_sunset_are_plausible(sim: TigoSimulator, home: SimSystem) -> None:
    panel = home.panels[0].object_id
    day = [NOON.replace(hour=0) + timedelta(minutes=m) for m in range(24 * 60)]
    awake = [t for t in day if sim.panel_reading(home.system_id, panel, t) is not None]
    sunrise, sunset = awake[0].astimezone(BERLIN), awake[-1].astimezone(BERLIN)
    assert (sunrise.hour, sunset.hour) == (5, 21)  # Munich at midsummer: 05:12 and 21:17
    winter = datetime(2026, 12, 21, 0, 0, tzinfo=UTC)
    winter_day = [winter + timedelta(minutes=m) for m in range(24 * 60)]
    awake = [t for t in winter_day if sim.panel_reading(home.system_id, panel, t) is not None]
    assert (awake[0].astimezone(BERLIN).hour, awake[-1].astimezone(BERLIN).hour) == (8, 16)


# ---- data/combined ----------------------------------------------------------------------------


async def test_hour_energy_is_the_integral_of_the_minutes(
    owner: Api, sim: TigoSimulator, home: SimSystem, clock: SimClock
) -> None:
    clock.set(NOON + timedelta(hours=6))  # 18:00 in Berlin: 17:00 is incomplete
    system = str(home.object_id)
    params = {
        "system_id": home.system_id,
        "start": "2026-06-21T00:00:00",
        "end": "2026-06-21T23:59:59",
    }
    minutes = read_csv((await owner.ok("data/combined", level="minute", **params)).text, "DATETIME")
    hours_text = (await owner.ok("data/combined", level="hour", **params)).text
    hours = read_csv(hours_text, "DATETIME").values(system)
    assert list(hours) == [f"2026/06/21 {h:02d}:00:00.000" for h in range(18)]
    per_hour: dict[str, float] = {}
    for stamp, watts in minutes.values(system).items():
        key = stamp[:13] + ":00:00.000"
        per_hour[key] = per_hour.get(key, 0.0) + watts / 60
    for stamp, wh in hours.items():
        start = datetime.strptime(stamp, COMBINED_STAMP).replace(tzinfo=BERLIN)
        assert wh == sim.hourly_energy_wh(home.system_id, start)
        assert wh == pytest.approx(per_hour.get(stamp, 0.0), abs=0.02)
    assert hours["2026/06/21 13:00:00.000"] > 4000  # 8 kWp around noon
    day = read_csv((await owner.ok("data/combined", level="day", **params)).text, "DATETIME")
    assert day.values(system)["2026/06/21 00:00:00.000"] == pytest.approx(
        sum(hours.values()), abs=0.1
    )
    # The incomplete hour grows as its minutes arrive; complete hours stay as they are.
    before = sim.hourly_energy_wh(home.system_id, datetime(2026, 6, 21, 17, tzinfo=BERLIN))
    clock.advance(timedelta(minutes=30))
    later = read_csv(
        (await owner.ok("data/combined", level="hour", **params)).text, "DATETIME"
    ).values(system)
    assert later["2026/06/21 17:00:00.000"] > before
    assert {k: v for k, v in later.items() if k < "2026/06/21 17"} == {
        k: v for k, v in hours.items() if k < "2026/06/21 17"
    }


async def test_combined_objects_add_up(owner: Api, sim: TigoSimulator, home: SimSystem) -> None:
    strings = [s.object_id for s in home.strings]
    panel = home.panels[11]
    ids = [home.object_id, *strings, home.inverters[0].object_id, panel.object_id]
    window = {
        "system_id": home.system_id,
        "start": local(NOON - timedelta(minutes=30), home),
        "end": local(NOON, home),
        "object_ids": ",".join(map(str, ids)),
    }
    minutes = read_csv((await owner.ok("data/combined", **window)).text, "DATETIME")
    assert minutes.headers == [[str(i) for i in ids]]
    pins = read_csv(
        (
            await owner.ok(
                "data/aggregate",
                system_id=home.system_id,
                start=window["start"],
                end=window["end"],
            )
        ).text
    )
    for stamp in minutes.stamps:
        row = {i: float(minutes.cells[str(i)][stamp]) for i in ids}
        assert row[home.object_id] == pytest.approx(sum(row[s] for s in strings), abs=0.02)
        assert row[home.inverters[0].object_id] == row[home.object_id]
        assert row[panel.object_id] == float(pins.cells[str(panel.object_id)][stamp[:19]])
        panel_sum = sum(float(pins.cells[str(p.object_id)][stamp[:19]]) for p in home.panels)
        assert row[home.object_id] == pytest.approx(panel_sum, abs=0.1)
        at = row_time(stamp, home)
        assert row[home.object_id] == sim.system_power(home.system_id, at)
        assert row[strings[1]] == sim.system_power(home.system_id, at, strings[1])


async def test_combined_levels_and_soft_limits(owner: Api, home: SimSystem) -> None:
    def params(**extra: Any) -> dict[str, Any]:
        return {"system_id": home.system_id, **extra}

    for level in ("minute", "mi", "min"):
        text = (await owner.ok("data/combined", level=level, **params())).text
        assert text.startswith(f"DATETIME,{home.object_id}\n2026/06/21 00:00:00.000,")
    hour = await owner.ok("data/combined", level="hour", **params())
    assert (await owner.ok("data/combined", level="h", **params())).text == hour.text
    assert (await owner.ok("data/combined", agg="hour", **params())).text == hour.text
    long_hours = params(start="2026-05-21T00:00:00", end="2026-06-21T00:00:00")
    assert (await owner.call("data/combined", level="hour", **long_hours)).status == 200
    too_long = [
        ("minute", "2026-06-20T10:00:00", "2026-06-21T10:01:00"),
        ("hour", "2026-05-20T00:00:00", "2026-06-21T00:00:00"),
        ("day", "2025-06-01T00:00:00", "2026-06-21T00:00:00"),
        ("month", "2016-01-01T00:00:00", "2026-06-21T00:00:00"),
    ]
    for level, start, end in too_long:
        reply = await owner.call("data/combined", level=level, **params(start=start, end=end))
        body = assert_error(reply, 400, "Bad Request")
        assert "too large" in body["message"]
    years = params(start="2000-01-01T00:00:00", end="2026-12-31T23:59:59")
    assert (await owner.call("data/combined", level="year", **years)).status == 200
    for bad in (params(level="week"), params(object_ids="123"), params(end="2026-13-01")):
        assert_error(await owner.call("data/combined", **bad), 400, "Bad Request")


async def test_coarse_levels_and_summary_agree(
    owner: Api, sim: TigoSimulator, farm: SimSystem, config: TigoConfig
) -> None:
    system = str(farm.object_id)
    params = {"system_id": farm.system_id, "start": "2026-01-01T00:00:00", "end": "2026-12-31"}
    days = read_csv((await owner.ok("data/combined", level="day", **params)).text, "DATETIME")
    months = read_csv((await owner.ok("data/combined", level="month", **params)).text, "DATETIME")
    years = read_csv((await owner.ok("data/combined", level="year", **params)).text, "DATETIME")
    daily = days.values(system)
    history = date(2026, 6, 21) - timedelta(days=config.history_days)
    assert next(iter(daily)) == history.strftime(COMBINED_STAMP)  # data from history_days back
    assert len(daily) == config.history_days + 1
    assert months.values(system) == {
        "2026/06/01 00:00:00.000": years.values(system)["2026/01/01 00:00:00.000"]
    }
    assert sum(daily.values()) == pytest.approx(months.values(system)["2026/06/01 00:00:00.000"])
    summary = (await owner.json("data/summary", system_id=farm.system_id))["summary"]
    assert summary["daily_energy_dc"] == daily["2026/06/21 00:00:00.000"]
    assert summary["daily_energy_dc"] == sim.daily_energy_wh(farm.system_id, date(2026, 6, 21))
    assert summary["ytd_energy_dc"] == years.values(system)["2026/01/01 00:00:00.000"]
    offset = farm.spec.energy_before_wh
    assert summary["lifetime_energy_dc"] == pytest.approx(offset + sum(daily.values()), abs=0.5)
    newest = sim.newest_minute(farm.system_id)
    assert newest is not None
    updated_on = datetime.fromisoformat(summary["updated_on"])
    assert newest - timedelta(minutes=5) <= updated_on <= newest  # every gateway's newest minute
    assert summary["last_power_dc"] == sim.system_power(farm.system_id, updated_on)
    assert 20_000 < summary["last_power_dc"] < farm.power_rating == 200_000


async def test_summary_moves_with_the_clock(
    owner: Api, sim: TigoSimulator, home: SimSystem, clock: SimClock
) -> None:
    first = (await owner.json("data/summary", system_id=home.system_id))["summary"]
    clock.advance(timedelta(hours=1))
    later = (await owner.json("data/summary", system_id=home.system_id))["summary"]
    gained = later["lifetime_energy_dc"] - first["lifetime_energy_dc"]
    assert gained == pytest.approx(later["daily_energy_dc"] - first["daily_energy_dc"], abs=0.02)
    assert 2000 < gained < 8000
    clock.set(datetime(2026, 6, 21, 22, 10, tzinfo=UTC))  # 00:10: a new day, yesterday still late
    midnight = (await owner.json("data/summary", system_id=home.system_id))["summary"]
    assert midnight["daily_energy_dc"] == 0
    assert midnight["last_power_dc"] == 0
    assert midnight["lifetime_energy_dc"] > later["lifetime_energy_dc"]


async def test_daylight_saving_time_day_has_25_hours(
    api: Api, sim: TigoSimulator, home: SimSystem, clock: SimClock
) -> None:
    clock.set(datetime(2026, 10, 26, 12, 0, tzinfo=UTC))
    await api.login()
    day = {"system_id": home.system_id, "start": "2026-10-25T00:00:00"}
    text = (await api.ok("data/combined", level="hour", end="2026-10-25T23:59:59", **day)).text
    rows = [line.split(",") for line in text.splitlines()[1:]]
    stamps = [stamp for stamp, _ in rows]
    assert len(stamps) == 25
    assert stamps.count("2026/10/25 02:00:00.000") == 2  # local stamps repeat, as on real systems
    daily = read_csv(
        (await api.ok("data/combined", level="day", end="2026-10-25T00:00:00", **day)).text,
        "DATETIME",
    )
    total = daily.values(str(home.object_id))["2026/10/25 00:00:00.000"]
    assert total == pytest.approx(sum(float(wh) for _, wh in rows), abs=0.1)
    assert total > 0


# ---- gateways, PV-Off -------------------------------------------------------------------------


async def test_gateway_offline_and_back_with_its_buffer(
    owner: Api, sim: TigoSimulator, farm: SimSystem, clock: SimClock
) -> None:
    gateway = farm.gateways[0]
    first_panel = str(farm.panels[0].object_id)  # on the first gateway
    last_panel = str(farm.panels[-1].object_id)  # on the second
    ids = f"{first_panel},{last_panel}"
    sim.set_gateway_online(farm.system_id, False, serial=gateway.serial)
    sources_before = (await owner.json("sources/system", system_id=farm.system_id))["sources"]
    clock.advance(timedelta(minutes=30))
    sources = (await owner.json("sources/system", system_id=farm.system_id))["sources"]
    assert sources[0]["last_checkin"] == sources_before[0]["last_checkin"]
    assert sources[1]["last_checkin"] > sources_before[1]["last_checkin"]
    window = {
        "system_id": farm.system_id,
        "start": local(NOON - timedelta(minutes=30), farm),
        "end": local(NOON + timedelta(minutes=30), farm),
        "object_ids": ids,
    }
    csv = read_csv((await owner.ok("data/aggregate", **window)).text)
    newest = csv.stamps[-1]
    assert csv.cells[first_panel][newest] == ""  # the offline gateway's panel: nothing new
    assert csv.cells[last_panel][newest] != ""
    frozen = max(csv.values(first_panel))
    assert row_time(frozen, farm) < NOON - timedelta(minutes=15)
    # The system's sum now only holds the other gateway's half.
    combined = read_csv(
        (await owner.ok("data/combined", system_id=farm.system_id, start=window["start"])).text,
        "DATETIME",
    )
    sum_newest = combined.values(str(farm.object_id))[newest + ".000"]
    assert sum_newest < 0.6 * sim.system_power(farm.system_id, row_time(newest, farm))
    sim.set_gateway_online(farm.system_id, True)
    clock.advance(timedelta(minutes=5))
    refilled = read_csv((await owner.ok("data/aggregate", **window)).text)
    assert all(refilled.cells[first_panel][stamp] for stamp in csv.stamps)  # backfilled


async def test_outage_without_backfill_leaves_a_gap(
    owner: Api, sim: TigoSimulator, home: SimSystem, clock: SimClock
) -> None:
    sim.set_gateway_online(home.system_id, False)
    sim.set_gateway_online(home.system_id, False)  # no-op
    clock.advance(timedelta(minutes=20))
    sim.set_gateway_online(home.system_id, True, backfill=False)
    clock.advance(timedelta(minutes=70))  # 13:30: the hour from 12:00 is complete
    csv = read_csv(
        (
            await owner.ok(
                "data/aggregate",
                system_id=home.system_id,
                start=local(NOON - timedelta(minutes=5), home),
                end=local(NOON + timedelta(minutes=25), home),
                object_ids=home.panels[0].object_id,
            )
        ).text
    )
    cells = csv.cells[str(home.panels[0].object_id)]
    gap = [stamp for stamp, cell in cells.items() if not cell]
    assert len(cells) == 31
    assert gap == [
        (NOON + timedelta(minutes=m)).astimezone(BERLIN).strftime(AGG_STAMP) for m in range(20)
    ]
    hour = sim.hourly_energy_wh(home.system_id, datetime(2026, 6, 21, 12, tzinfo=BERLIN))
    full_hour = (
        sum(
            sim.panel_power(home.system_id, p.object_id, NOON + timedelta(minutes=m))
            for p in home.panels
            for m in range(60)
        )
        / 60
    )
    assert hour == pytest.approx(full_hour * 40 / 60, rel=0.1)
    with pytest.raises(KeyError):
        sim.set_gateway_online(home.system_id, False, serial="nope")


async def test_pv_off(owner: Api, sim: TigoSimulator, home: SimSystem, clock: SimClock) -> None:
    sim.set_pv_off(home.system_id, True)
    (source,) = (await owner.json("sources/system", system_id=home.system_id))["sources"]
    assert source["control_state"] == "off"
    clock.advance(timedelta(minutes=30))
    sim.set_pv_off(home.system_id, False)
    (source,) = (await owner.json("sources/system", system_id=home.system_id))["sources"]
    assert source["control_state"] == "on"
    panel = home.panels[0]
    window = {
        "system_id": home.system_id,
        "start": local(NOON - timedelta(minutes=2), home),
        "end": local(NOON + timedelta(minutes=2), home),
        "object_ids": panel.object_id,
    }
    pin = read_csv((await owner.ok("data/aggregate", param="Pin", **window)).text)
    vin = read_csv((await owner.ok("data/aggregate", param="Vin", **window)).text)
    values = list(pin.values(str(panel.object_id)).values())
    assert values[:2] != [0.0, 0.0]
    assert values[2:] == [0.0, 0.0, 0.0]
    assert all(v > 38 for v in list(vin.values(str(panel.object_id)).values())[2:])  # open circuit
    assert sim.hourly_energy_wh(home.system_id, datetime(2026, 6, 21, 12, tzinfo=BERLIN)) == 0
    assert sim.panel_power(home.system_id, panel.object_id, NOON + timedelta(minutes=29)) == 0
    assert sim.panel_power(home.system_id, panel.object_id, NOON + timedelta(minutes=30)) > 0


# ---- alerts -----------------------------------------------------------------------------------


async def test_alerts_in_languages(
    owner: Api, sim: TigoSimulator, home: SimSystem, clock: SimClock
) -> None:
    alert_id = sim.raise_alert(home.system_id, 106, message="String ID: \n- String A")
    (alert,) = (await owner.json("alerts/system", system_id=home.system_id))["alerts"]
    assert alert["alert_id"] == alert_id
    assert alert["unique_id"] == 106
    assert alert["system_id"] == home.system_id
    assert alert["title"] == "Tigo Alert: String Shutdown"
    assert alert["message"] == "String ID: \n- String A"
    assert alert["description"].startswith("<p>")
    added = datetime.fromisoformat(alert["added"])
    assert added == NOON
    assert added.utcoffset() == timedelta(hours=2)
    assert datetime.fromisoformat(alert["generated"]) < added
    german = (await owner.json("alerts/system", system_id=home.system_id, language="de"))["alerts"]
    assert german[0]["title"] == "Tigo-Warnung: String abgeschaltet"
    assert "Wechselrichter" in german[0]["description"]
    french = (await owner.json("alerts/system", system_id=home.system_id, language="FR"))["alerts"]
    assert french[0]["title"] == alert["title"]  # no translation: English
    custom = sim.raise_alert(home.system_id, 1000, title="Inverter 1: isolation fault")
    for language in ("EN", "DE"):
        alerts = (await owner.json("alerts/system", system_id=home.system_id, language=language))[
            "alerts"
        ]
        assert alerts[0]["alert_id"] == custom
        assert alerts[0]["title"] == "Inverter 1: isolation fault"
    clock.advance(timedelta(minutes=1))
    assert (await owner.json("alerts/system", system_id=sim.systems[1].system_id)) == {"alerts": []}


async def test_alerts_paging_and_filters(
    owner: Api, sim: TigoSimulator, home: SimSystem, clock: SimClock
) -> None:
    ids = []
    for n in range(12):
        ids.append(sim.raise_alert(home.system_id, 300, message=f"Panel A{n + 1}"))
        clock.advance(timedelta(hours=1))
    first = await owner.ok("alerts/system", system_id=home.system_id)
    second = await owner.ok("alerts/system", system_id=home.system_id, page=2)
    listed = [a["alert_id"] for a in first.json()["alerts"] + second.json()["alerts"]]
    assert listed == ids[::-1]  # newest first
    assert len(first.json()["alerts"]) == 10
    assert first.headers["X-Pagination-Total-Count"] == "12"
    small = await owner.json("alerts/system", system_id=home.system_id, limit=5, page=3)
    assert [a["alert_id"] for a in small["alerts"]] == ids[1::-1]
    window = await owner.json(
        "alerts/system",
        system_id=home.system_id,
        start_added=local(NOON + timedelta(hours=2), home),
        end_added=local(NOON + timedelta(hours=4), home),
    )
    assert [a["alert_id"] for a in window["alerts"]] == [ids[4], ids[3], ids[2]]
    with_offset = await owner.json(
        "alerts/system", system_id=home.system_id, start_added="2026-06-21T20:00:00Z"
    )
    assert [a["alert_id"] for a in with_offset["alerts"]] == [ids[11], ids[10]]
    bad = await owner.call("alerts/system", system_id=home.system_id, start_added="soon")
    assert_error(bad, 400, "Bad Request")


async def test_alert_clearing(
    owner: Api, sim: TigoSimulator, home: SimSystem, clock: SimClock
) -> None:
    first = sim.raise_alert(home.system_id, 301, message="String B")
    assert sim.raise_alert(home.system_id, 301, message="String B") == first  # still active
    assert sim.clear_alert(home.system_id, 301) == 1
    assert sim.clear_alert(home.system_id, 301) == 0
    clock.advance(timedelta(hours=1))
    second = sim.raise_alert(home.system_id, 301, message="String B")
    assert second != first
    alerts = (await owner.json("alerts/system", system_id=home.system_id))["alerts"]
    assert [a["alert_id"] for a in alerts] == [second, first]  # cleared ones stay in history
    assert set(alerts[0]) == {
        "alert_id",
        "added",
        "generated",
        "system_id",
        "unique_id",
        "title",
        "message",
        "description",
    }
    assert [a.active for a in sim.alerts(home.system_id)] == [False, True]


async def test_alert_types(owner: Api) -> None:
    english = (await owner.json("alerts/types"))["alert_types"]
    german = (await owner.json("alerts/types", language="DE"))["alert_types"]
    assert [t["unique_id"] for t in english] == sorted(ALERT_CODES) == [106, 300, 301, 1000]
    assert [t["alert_type_id"] for t in english] == [t["alert_type_id"] for t in german]
    titles = {t["unique_id"]: t["title"] for t in english}
    assert titles[300] == "Tigo Alert: Low Power Production on PV Module"
    assert titles[301] == "Tigo Alert: Low Power Production on PV String"
    assert german[3]["title"] == "Tigo-Warnung: Wechselrichterfehler"
    for entry in english + german:
        assert re.fullmatch(r"<p>.*</p>", entry["description"], re.DOTALL)


# ---- configuration changes --------------------------------------------------------------------


async def test_config_update_header_and_panel_replacement(
    owner: Api, sim: TigoSimulator, home: SimSystem, clock: SimClock
) -> None:
    reply = await owner.ok("systems/layout", id=home.system_id)
    before = datetime.fromisoformat(reply.headers["X-System-Config-Update"])
    assert before < NOON
    assert "X-System-Config-Update" not in (await owner.ok("systems")).headers
    assert "X-System-Config-Update" not in (await owner.call("systems/view", id=99)).headers
    panel = home.panel("A3")
    clock.advance(timedelta(hours=2))
    serial = sim.replace_panel(home.system_id, "A3")
    assert serial != panel.serial
    reply = await owner.ok("objects/system", system_id=home.system_id)
    updated = datetime.fromisoformat(reply.headers["X-System-Config-Update"])
    assert updated == NOON + timedelta(hours=2)
    assert updated.utcoffset() == timedelta(hours=-7)
    layout = (await owner.json("systems/layout", id=home.system_id))["system"]
    panels = layout["inverters"][0]["mppts"][0]["strings"][0]["panels"]
    assert (panels[2]["label"], panels[2]["serial"]) == ("A3", serial)
    assert panels[2]["object_id"] == panel.object_id  # same place, same object
    clock.advance(timedelta(hours=1))
    assert sim.set_config_update(home.system_id) == NOON + timedelta(hours=3)
    reply = await owner.ok("data/summary", system_id=home.system_id)
    assert datetime.fromisoformat(reply.headers["X-System-Config-Update"]) == clock.now()


# ---- faults -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "name"),
    [("401", "Unauthorized"), ("500", "Internal Server Error"), ("503", "Service Unavailable")],
)
async def test_error_faults(owner: Api, sim: TigoSimulator, kind: str, name: str) -> None:
    sim.fail_next(kind, count=2, path="data/summary")
    system_id = sim.systems[0].system_id
    await owner.ok("systems")  # another path is not affected
    for _ in range(2):
        reply = await owner.call("data/summary", system_id=system_id)
        assert_error(reply, int(kind), name)
        assert "X-Rate-Limit-Remaining" in reply.headers
    await owner.ok("data/summary", system_id=system_id)
    assert sim.requests["GET /api/v3/data/summary"] == 3
    assert sim.active_tokens == 1  # a 401 fault does not end the token


async def test_429_fault(owner: Api, sim: TigoSimulator, clock: SimClock) -> None:
    clock.advance(timedelta(minutes=15))
    sim.fail_next("429")
    reply = await owner.call("systems")
    assert_error(reply, 429, "Too Many Requests")
    assert reply.headers["Retry-After"] == "2700"
    assert reply.headers["X-Rate-Limit-Remaining"] == "0"
    assert sim.rate_limited == 1
    assert (await owner.call("systems")).status == 200


async def test_malformed_json(owner: Api, sim: TigoSimulator) -> None:
    sim.fail_next("malformed", path="systems")
    reply = await owner.call("systems")
    assert reply.status == 200
    assert reply.headers["X-Pagination-Total-Count"] == "3"
    with pytest.raises(ValueError, match=r"Expecting|Unterminated"):
        json.loads(reply.text)
    sim.fail_next("malformed")
    reply = await owner.call("users/login", authorization=basic(USER, PASSWORD))
    with pytest.raises(ValueError, match=r"Expecting|Unterminated"):
        json.loads(reply.text)


@pytest.mark.parametrize("path", ["data/aggregate", "data/combined"])
async def test_malformed_csv(owner: Api, sim: TigoSimulator, home: SimSystem, path: str) -> None:
    params = {
        "system_id": home.system_id,
        "start": local(NOON - timedelta(hours=1), home),
        "end": local(NOON, home),
    }
    good = (await owner.ok(path, **params)).text.splitlines()
    sim.fail_next("malformed", path=path)
    reply = await owner.ok(path, **params)
    assert reply.headers["Content-Type"].startswith("text/csv")
    bad = reply.text.splitlines()
    header = good[0]
    assert bad[0] == header
    broken = [line for line in bad if line not in good]
    assert len(broken) >= 8
    fields = len(header.split(","))
    problems = set()
    for line in broken:
        cells = line.split(",")
        if not re.match(r"\d{4}/", line):
            problems.add("garbage")
        elif len(cells) != fields:
            problems.add("fields")
        elif cells[0].startswith("0000"):
            problems.add("time")
        else:
            assert all(not re.fullmatch(r"[\d.]*", cell) for cell in cells[1:])
            problems.add("cells")
    assert problems == {"garbage", "fields", "time", "cells"}
    empty = {**params, "start": "2026-06-21T03:00:00", "end": "2026-06-21T03:00:00"}
    sim.fail_next("malformed", path=path)
    lines = (await owner.ok(path, **empty)).text.splitlines()
    assert len(lines) >= 2  # even a file without rows gets a garbage line


async def test_unknown_routes_and_methods(owner: Api) -> None:
    body = assert_error(await owner.call("systems/bogus"), 404, "Not Found")
    assert body["message"] == "Page not found."
    assert_error(await owner.call("systems", method="POST"), 405, "Method Not Allowed")


# ---- determinism, config, lifecycle -----------------------------------------------------------


async def test_data_is_reproducible(http: aiohttp.ClientSession) -> None:
    texts = []
    for _ in range(2):
        async with TigoSimulator(clock=SimClock.fixed(NOON)) as sim:
            api = Api(http, sim)
            await api.login()
            home = sim.systems[0]
            params = {
                "system_id": home.system_id,
                "start": "2026-06-21T11:00:00",
                "end": "2026-06-21T12:00:00",
            }
            texts.append((await api.ok("data/aggregate", **params)).text)
            texts.append((await api.ok("data/combined", level="hour", **params)).text)
            texts.append((await api.ok("systems/layout", id=home.system_id)).text)
    assert texts[:3] == texts[3:]


def test_per_panel_variation(sim: TigoSimulator, farm: SimSystem) -> None:
    powers = [sim.panel_power(farm.system_id, p.object_id, NOON) for p in farm.panels]
    assert len(set(powers)) > 450
    assert 0.75 < min(powers) / max(powers) < 0.95
    afternoon = NOON + timedelta(hours=4)  # shade and west-facing strings matter now
    later = [sim.panel_power(farm.system_id, p.object_id, afternoon) for p in farm.panels]
    assert min(later) / max(later) < 0.6


def test_config_is_checked() -> None:
    with pytest.raises(ValueError, match="string"):
        SystemSpec("Tiny", 1, inverters=2)
    with pytest.raises(ValueError, match="gateways"):
        SystemSpec("Tiny", 4, gateways=2)
    with pytest.raises(ValueError, match="positive"):
        SystemSpec("Tiny", 4, peak_w_per_panel=0)
    with pytest.raises(ValueError, match="unique"):
        TigoConfig(systems=(DEFAULT_SYSTEMS[0], DEFAULT_SYSTEMS[0]))
    with pytest.raises(ValueError, match="positive"):
        TigoConfig(rate_limit=0)
    with pytest.raises(ValueError, match="durations"):
        TigoConfig(token_lifetime=timedelta(0))
    with pytest.raises(ValueError, match="at least one"):
        TigoConfig(systems=())


async def test_not_started_and_restart(http: aiohttp.ClientSession) -> None:
    sim = TigoSimulator(clock=SimClock.fixed(NOON))
    with pytest.raises(RuntimeError, match="not started"):
        _ = sim.url
    await sim.stop()  # nothing to stop
    await sim.start()
    try:
        with pytest.raises(RuntimeError, match="already"):
            await sim.start()
        api = Api(http, sim)
        await api.login()
        assert sim.base_url == f"http://127.0.0.1:{sim.port}/api/v3/"
    finally:
        await sim.stop()
    await sim.start()  # tokens survive a stop and start
    try:
        api.base = sim.base_url
        assert (await api.call("systems")).status == 200
    finally:
        await sim.stop()


async def test_runner_serves_tigo(http: aiohttp.ClientSession) -> None:
    args = build_parser().parse_args(
        ["tigo", "--password", "secret", "--no-premium", "--rate-limit", "50", "--upload-lag", "30"]
    )
    assert isinstance(args, argparse.Namespace)
    running, banner = await VENDORS["tigo"].start(args)
    try:
        assert isinstance(running, TigoSimulator)
        assert running.base_url in banner[0]
        assert "'secret'" in banner[1]
        assert "no Premium" in banner[1]
        assert "'Solar farm' (500 panels)" in banner[2]
        assert running.config.upload_lag == timedelta(minutes=30)
        async with http.get(
            running.base_url + "users/login", headers={"Authorization": basic(USER, "secret")}
        ) as resp:
            assert resp.status == 403
            assert resp.headers["X-Rate-Limit-Limit"] == "50"
    finally:
        await running.stop()


async def test_runner_process_serves_until_sigterm(http: aiohttp.ClientSession) -> None:
    async with simulator_process("tigo", "--username", "demo@example.com") as banner:
        match = re.search(r"http://127\.0\.0\.1:\d+/api/v3/", banner[0])
        assert match is not None
        assert "'demo@example.com'" in banner[1]
        assert f"{PASSWORD!r}" in banner[1]
        async with http.get(
            match.group() + "users/login",
            headers={"Authorization": basic("demo@example.com", PASSWORD)},
        ) as resp:
            assert resp.status == 200
