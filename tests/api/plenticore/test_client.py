"""The PLENTICORE client over real loopback HTTP.

The protocol and its failures run against the inverter simulator; narrow violations (a forged server
signature, a foreign server nonce, a host that is not an inverter) are served by tiny canned apps.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from datetime import UTC, datetime, timedelta
import logging
import secrets
import threading

import aiohttp
from aiohttp import web
import pytest

from custom_components.solarhub.api.errors import (
    AccountLockedError,
    ApiConnectionError,
    AuthenticationError,
    InvalidServiceCodeError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    SessionLostError,
    SolarHubApiError,
    UnsupportedDeviceError,
)
from custom_components.solarhub.api.plenticore import client as plenticore, scram
from custom_components.solarhub.api.plenticore.client import PlenticoreClient
from custom_components.solarhub.api.plenticore.models import Role, VersionInfo
from tests.api.canned import Handler, json_reply, serve_app
from tests.simulators.plenticore import PlenticoreConfig, PlenticoreSimulator, SimClock

# Real loopback HTTP; the test plugin still refuses connections to anything but 127.0.0.1.
pytestmark = pytest.mark.usefixtures("socket_enabled")

PASSWORD = "Pass1234"
MASTER_KEY = "MASTERKEY123"
SERVICE_CODE = "12345"
NOON = datetime(2026, 6, 21, 10, 0, tzinfo=UTC)  # 12:00 in Berlin: the strings produce
API = "/api/v1"


@pytest.fixture
def sim_config() -> PlenticoreConfig:
    """The simulated inverter; cheap PBKDF2, otherwise as shipped."""
    return PlenticoreConfig(
        password=PASSWORD, master_key=MASTER_KEY, service_code=SERVICE_CODE, rounds=1000
    )


@pytest.fixture
async def sim(sim_config: PlenticoreConfig) -> AsyncIterator[PlenticoreSimulator]:
    simulator = PlenticoreSimulator(sim_config, SimClock.fixed(NOON))
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
def client(http: aiohttp.ClientSession, sim: PlenticoreSimulator) -> PlenticoreClient:
    return PlenticoreClient(http, sim.host, request_timeout=2.0)


class Canned:
    """A tiny aiohttp app under ``/api/v1`` that counts what it was asked."""

    def __init__(self, routes: dict[str, Handler]) -> None:
        self.requests: Counter[str] = Counter()
        self.bodies: dict[str, object] = {}
        self._routes = routes

    async def handle(self, request: web.Request) -> web.StreamResponse:
        key = f"{request.method} {request.path.removeprefix('/api/v1')}"
        self.requests[key] += 1
        if request.can_read_body:
            self.bodies[key] = await request.json()
        handler = self._routes.get(key)
        if handler is None:
            return web.json_response({"message": "Not found"}, status=404)
        return await handler(request)


@contextlib.asynccontextmanager
async def serve(routes: dict[str, Handler]) -> AsyncIterator[tuple[str, Canned]]:
    canned = Canned(routes)
    async with serve_app(canned.handle) as host:
        yield host, canned


def text_reply(text: str, status: int = 200, content_type: str = "text/html") -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(text=text, status=status, content_type=content_type)

    return handler


def auth_start(*, foreign_nonce: bool = False) -> Handler:
    """Answer ``/auth/start`` like an inverter, or with a nonce that ignores the client's."""

    async def handler(request: web.Request) -> web.StreamResponse:
        client_nonce = scram.b64decode((await request.json())["nonce"])
        prefix = secrets.token_bytes(12) if foreign_nonce else client_nonce
        return web.json_response(
            {
                "nonce": scram.b64encode(prefix + secrets.token_bytes(12)),
                "transactionId": scram.b64encode(secrets.token_bytes(32)),
                "salt": scram.b64encode(secrets.token_bytes(12)),
                "rounds": 1000,
            }
        )

    return handler


VERSION = {
    "name": "PUCK RESTful API",
    "hostname": "scb",
    "api_version": "0.2.0",
    "sw_version": "1.0",
}

# ---- login protocol violations ----------------------------------------------------------------


async def test_server_nonce_must_extend_client_nonce(http: aiohttp.ClientSession) -> None:
    async with serve({"POST /auth/start": auth_start(foreign_nonce=True)}) as (host, canned):
        client = PlenticoreClient(http, host)
        with pytest.raises(AuthenticationError, match="nonce"):
            await client.login("Pass1234")
    assert canned.requests == Counter({"POST /auth/start": 1})
    assert not client.logged_in
    assert client.role is None


async def test_forged_server_signature_is_rejected(
    http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[threading.Thread] = []
    derive = scram.derive_keys

    def recording_derive(password: str, salt: bytes, rounds: int) -> scram.ScramKeys:
        threads.append(threading.current_thread())
        return derive(password, salt, rounds)

    monkeypatch.setattr(scram, "derive_keys", recording_derive)
    routes = {
        "POST /auth/start": auth_start(),
        "POST /auth/finish": json_reply(
            {"token": "0123456789abcdef", "signature": scram.b64encode(bytes(32))}
        ),
    }
    async with serve(routes) as (host, canned):
        client = PlenticoreClient(http, host)
        with pytest.raises(AuthenticationError, match="server signature mismatch"):
            await client.login("Pass1234")
    assert "POST /auth/create_session" not in canned.requests
    assert not client.logged_in
    # The proof was sent in base64 for the transaction the server opened.
    finish = canned.bodies["POST /auth/finish"]
    assert isinstance(finish, dict)
    assert len(scram.b64decode(finish["proof"])) == 32
    # PBKDF2 ran off the event loop.
    assert threads
    assert threads[0] is not threading.main_thread()


async def test_login_start_body(http: aiohttp.ClientSession) -> None:
    async with serve({"POST /auth/start": json_reply({"message": "x"}, status=400)}) as (
        host,
        canned,
    ):
        client = PlenticoreClient(http, host)
        with pytest.raises(AuthenticationError, match="HTTP 400"):
            await client.login("MASTERKEY123", "12345")
    body = canned.bodies["POST /auth/start"]
    assert isinstance(body, dict)
    assert body["username"] == "master"
    assert len(scram.b64decode(body["nonce"])) == 12


async def test_malformed_challenge(http: aiohttp.ClientSession) -> None:
    async with serve({"POST /auth/start": json_reply({"nonce": "AAEC"})}) as (host, _):
        client = PlenticoreClient(http, host)
        with pytest.raises(MalformedResponseError, match="/auth/start"):
            await client.login("Pass1234")


# ---- device identification --------------------------------------------------------------------


async def test_get_version(http: aiohttp.ClientSession) -> None:
    async with serve({"GET /info/version": json_reply(VERSION)}) as (host, canned):
        version = await PlenticoreClient(http, host).get_version()
    assert version == VersionInfo(
        name="PUCK RESTful API", hostname="scb", api_version="0.2.0", sw_version="1.0"
    )
    assert canned.requests == Counter({"GET /info/version": 1})


@pytest.mark.parametrize(
    "reply",
    [
        text_reply("<html><body>Router login</body></html>"),
        text_reply("not found", status=404),
        text_reply("forbidden", status=403),
        json_reply({"name": "other REST API"}),
        json_reply([VERSION]),
        text_reply('{"sw_version": "1.0"', content_type="application/json"),
    ],
)
async def test_get_version_of_other_devices(http: aiohttp.ClientSession, reply: Handler) -> None:
    async with serve({"GET /info/version": reply}) as (host, _):
        with pytest.raises(UnsupportedDeviceError):
            await PlenticoreClient(http, host).get_version()


async def test_get_version_transient_errors(http: aiohttp.ClientSession) -> None:
    routes = {"GET /info/version": json_reply({"message": "internal communication"}, status=503)}
    async with serve(routes) as (host, _):
        with pytest.raises(ApiConnectionError, match="HTTP 503: 'internal communication'"):
            await PlenticoreClient(http, host).get_version()


async def test_rate_limited(http: aiohttp.ClientSession) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response({"message": "slow down"}, status=429, headers={"Retry-After": "7"})

    async with serve({"GET /info/version": handler}) as (host, _):
        with pytest.raises(RateLimitedError) as err:
            await PlenticoreClient(http, host).get_version()
    assert err.value.retry_after == 7.0


async def test_connection_refused(http: aiohttp.ClientSession) -> None:
    async with serve({}) as (host, _):
        pass  # the port is free again
    client = PlenticoreClient(http, host)
    with pytest.raises(ApiConnectionError, match="cannot talk to"):
        await client.get_version()


async def test_timeout(http: aiohttp.ClientSession) -> None:
    release = asyncio.Event()

    async def stall(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.json_response(VERSION)

    async with serve({"GET /info/version": stall}) as (host, _):
        client = PlenticoreClient(http, host, request_timeout=0.05)
        with pytest.raises(ApiConnectionError, match="did not answer in time"):
            await client.get_version()
        release.set()


# ---- without credentials ----------------------------------------------------------------------


async def test_session_calls_need_a_login(http: aiohttp.ClientSession) -> None:
    async with serve({}) as (host, canned):
        client = PlenticoreClient(http, host)
        with pytest.raises(AuthenticationError, match="not logged in"):
            await client.get_process_data({"devices:local": ["Dc_P"]})
        await client.logout()  # a no-op without session
    assert canned.requests == Counter()


async def test_anonymous_get_me(http: aiohttp.ClientSession) -> None:
    me = {"role": "NONE", "anonymous": True, "authenticated": False, "permissions": []}
    async with serve({"GET /auth/me": json_reply(me)}) as (host, _):
        info = await PlenticoreClient(http, host).get_me()
    assert info.role == "NONE"
    assert not info.authenticated


async def test_empty_requests_make_no_call(http: aiohttp.ClientSession) -> None:
    async with serve({}) as (host, canned):
        client = PlenticoreClient(http, host)
        assert await client.get_process_data({}) == {}
        assert await client.get_process_data({"devices:local": []}) == {}
        assert await client.get_setting_values({}) == {}
        await client.set_setting_values("devices:local", {})
    assert canned.requests == Counter()


def test_repr_and_host(http: aiohttp.ClientSession) -> None:
    with pytest.raises(ValueError, match="host"):
        PlenticoreClient(http, "https://scb")
    client = PlenticoreClient(http, " http://192.168.1.5:8080/ ")
    assert client.host == "192.168.1.5:8080"
    assert repr(client) == "PlenticoreClient(host='192.168.1.5:8080', role=None)"
    assert plenticore.base_url(client.host) == "http://192.168.1.5:8080/api/v1"


# ---- against the simulator: login -------------------------------------------------------------


async def test_owner_login(client: PlenticoreClient, sim: PlenticoreSimulator) -> None:
    assert (await client.get_me()).role == "NONE"  # anonymous before the login
    await client.login(PASSWORD)
    assert client.logged_in
    assert client.role is Role.USER
    me = await client.get_me()
    assert (me.role, me.authenticated, me.anonymous) == ("USER", True, False)
    assert sim.logins == 1
    assert sim.active_sessions == 1


async def test_installer_login(client: PlenticoreClient, sim: PlenticoreSimulator) -> None:
    await client.login(MASTER_KEY, SERVICE_CODE)
    assert client.role is Role.MASTER
    assert (await client.get_me()).role == "INSTALLER"
    meta = await client.get_settings_meta()
    assert meta["devices:local"]["Battery:ManualCharge"].writable
    assert sim.logins == 1


async def test_owner_cannot_write_installer_settings(client: PlenticoreClient) -> None:
    await client.login(PASSWORD)
    meta = await client.get_settings_meta()
    assert not meta["devices:local"]["Battery:ManualCharge"].writable
    with pytest.raises(PermissionDeniedError, match="HTTP 403"):
        await client.set_setting_values("devices:local", {"Battery:ManualCharge": "1"})


@pytest.mark.parametrize(
    ("password", "service_code", "error"),
    [
        ("wrong", None, AuthenticationError),
        (MASTER_KEY, None, AuthenticationError),  # Master Key typed as the owner password
        (PASSWORD, SERVICE_CODE, AuthenticationError),  # owner password for the installer login
        (MASTER_KEY, "99999", InvalidServiceCodeError),
    ],
)
async def test_refused_login(
    client: PlenticoreClient,
    sim: PlenticoreSimulator,
    password: str,
    service_code: str | None,
    error: type[AuthenticationError],
) -> None:
    with pytest.raises(AuthenticationError, match="HTTP 400") as err:
        await client.login(password, service_code)
    assert type(err.value) is error
    assert password not in str(err.value)
    assert not client.logged_in
    assert sim.logins == 0
    assert sim.failed_logins == 1
    # Without stored credentials nothing is retried behind the caller's back.
    with pytest.raises(AuthenticationError, match="not logged in"):
        await client.get_modules()
    assert sim.requests[f"POST {API}/auth/start"] == 1


async def test_owner_session_refused(client: PlenticoreClient, sim: PlenticoreSimulator) -> None:
    sim.fail_next("401", path="/auth/create_session")
    with pytest.raises(AuthenticationError, match="HTTP 401") as err:
        await client.login(PASSWORD)
    assert type(err.value) is AuthenticationError  # no service code involved
    assert not client.logged_in


@pytest.mark.parametrize("sim_config", [PlenticoreConfig(rounds=1000, lock_after=3)])
async def test_account_locked_after_bad_passwords(
    client: PlenticoreClient, sim: PlenticoreSimulator
) -> None:
    for _ in range(3):
        with pytest.raises(AuthenticationError) as err:
            await client.login("wrong")
        assert not isinstance(err.value, AccountLockedError)
    with pytest.raises(AccountLockedError, match="HTTP 403: 'User is locked'"):
        await client.login(PASSWORD)
    assert sim.requests[f"POST {API}/auth/finish"] == 3  # the lock stops the login at its start
    sim.clock.advance(timedelta(minutes=11))
    await client.login(PASSWORD)
    assert client.logged_in


async def test_login_again_replaces_the_session(
    client: PlenticoreClient, sim: PlenticoreSimulator
) -> None:
    await client.login(PASSWORD)
    await client.login(MASTER_KEY, SERVICE_CODE)
    assert client.role is Role.MASTER
    assert sim.active_sessions == 1
    assert sim.requests[f"POST {API}/auth/logout"] == 1


# ---- against the simulator: sessions ----------------------------------------------------------


async def test_restart_means_one_silent_relogin(
    client: PlenticoreClient, sim: PlenticoreSimulator
) -> None:
    await client.login(PASSWORD)
    request = {"devices:local": ["Dc_P"]}
    await client.get_process_data(request)
    sim.restart()
    data = await client.get_process_data(request)
    assert data["devices:local"]["Dc_P"].value == pytest.approx(
        sim.process_value("devices:local", "Dc_P")
    )
    assert sim.logins == 2
    assert sim.requests[f"POST {API}/processdata"] == 3  # ok, 401, retried ok
    assert client.role is Role.USER


async def test_concurrent_calls_after_restart_share_one_relogin(
    client: PlenticoreClient, sim: PlenticoreSimulator
) -> None:
    await client.login(PASSWORD)
    sim.restart()
    await asyncio.gather(
        client.get_process_data({"devices:local": ["Dc_P"]}),
        client.get_setting_values({"devices:local": ["Battery:MinSoc"]}),
        client.get_events(),
    )
    assert sim.logins == 2
    assert sim.requests[f"POST {API}/auth/start"] == 2


async def test_second_401_is_a_lost_session_not_a_wrong_password(
    client: PlenticoreClient, sim: PlenticoreSimulator
) -> None:
    """The re-login succeeded, so the password is right: retry next cycle, no reauth."""
    await client.login(PASSWORD)
    sim.fail_next("401", count=2, path="/processdata")
    with pytest.raises(SessionLostError, match=r"HTTP 401.*after a successful login") as err:
        await client.get_process_data({"devices:local": ["Dc_P"]})
    assert not isinstance(err.value, AuthenticationError)
    assert sim.logins == 2  # exactly one re-login
    assert not client.logged_in
    # The credentials still work: the next call logs in first and succeeds.
    await client.get_process_data({"devices:local": ["Dc_P"]})
    assert sim.logins == 3
    assert client.logged_in


async def test_401_right_after_a_fresh_login_is_not_retried(
    client: PlenticoreClient, sim: PlenticoreSimulator
) -> None:
    await client.login(PASSWORD)
    sim.fail_next("401", count=2, path="/processdata")
    with pytest.raises(SessionLostError):
        await client.get_process_data_ids()
    sim.fail_next("401", path="/processdata")
    with pytest.raises(SessionLostError, match="HTTP 401"):
        await client.get_process_data_ids()  # logs in first, so a 401 now is not retried
    assert sim.logins == 3


async def test_refused_relogin_forgets_the_credentials(
    client: PlenticoreClient, sim: PlenticoreSimulator
) -> None:
    """A password changed on the inverter must not lead to a lock-out by retries."""
    await client.login(PASSWORD)
    sim.restart()
    sim.fail_next("401", path="/auth/finish")
    with pytest.raises(AuthenticationError):
        await client.get_modules()
    starts = sim.requests[f"POST {API}/auth/start"]
    with pytest.raises(AuthenticationError, match="not logged in"):
        await client.get_modules()
    assert sim.requests[f"POST {API}/auth/start"] == starts


async def test_relogin_failing_on_the_network_keeps_the_credentials(
    client: PlenticoreClient, sim: PlenticoreSimulator
) -> None:
    await client.login(PASSWORD)
    sim.restart()
    sim.fail_next("503", path="/auth/start")
    with pytest.raises(ApiConnectionError, match="HTTP 503"):
        await client.get_modules()
    assert await client.get_modules()
    assert sim.logins == 2


async def test_logout(client: PlenticoreClient, sim: PlenticoreSimulator) -> None:
    await client.login(PASSWORD)
    await client.logout()
    assert not client.logged_in
    assert client.role is None
    assert sim.active_sessions == 0
    with pytest.raises(AuthenticationError, match="not logged in"):
        await client.get_process_data({"devices:local": ["Dc_P"]})
    assert sim.logins == 1


async def test_logout_ignores_a_gone_inverter(
    client: PlenticoreClient, sim: PlenticoreSimulator
) -> None:
    await client.login(PASSWORD)
    await sim.stop()
    await client.logout()
    assert not client.logged_in


async def test_reboot(client: PlenticoreClient, sim: PlenticoreSimulator) -> None:
    await client.login(PASSWORD)
    with pytest.raises(PermissionDeniedError):
        await client.reboot()
    await client.login(MASTER_KEY, SERVICE_CODE)
    await client.reboot()
    assert sim.active_sessions == 0
    assert not client.logged_in
    await client.get_modules()  # logs in again with the stored credentials
    assert client.role is Role.MASTER
    assert sim.requests[f"POST {API}/system/factorysettings"] == 0


async def test_secrets_stay_out_of_logs_and_errors(
    client: PlenticoreClient, sim: PlenticoreSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await client.login(MASTER_KEY, SERVICE_CODE)
    (session_id,) = sim._sessions
    sim.fail_next("401", count=2, path="/processdata")
    with pytest.raises(SessionLostError) as err:
        await client.get_process_data_ids()
    await client.get_process_data_ids()
    session_ids = [session_id, *sim._sessions]
    texts = [caplog.text, str(err.value), repr(client)]
    for secret in [MASTER_KEY, SERVICE_CODE, *session_ids]:
        assert all(secret not in text for text in texts)
    assert "Logged in to" in caplog.text


# ---- against the simulator: failures ----------------------------------------------------------


@pytest.mark.parametrize("kind", ["503", "500"])
async def test_server_errors_are_connection_errors(
    client: PlenticoreClient, sim: PlenticoreSimulator, kind: str
) -> None:
    await client.login(PASSWORD)
    sim.fail_next(kind, path="/processdata")
    with pytest.raises(ApiConnectionError, match=f"POST /processdata answered HTTP {kind}"):
        await client.get_process_data({"devices:local": ["Dc_P"]})
    await client.get_process_data({"devices:local": ["Dc_P"]})  # recovers, same session
    assert sim.logins == 1


async def test_timeout_is_a_connection_error(
    http: aiohttp.ClientSession, sim: PlenticoreSimulator
) -> None:
    client = PlenticoreClient(http, sim.host, request_timeout=0.2)
    await client.login(PASSWORD)
    sim.fail_next("timeout", path="/processdata")
    with pytest.raises(ApiConnectionError, match="did not answer in time"):
        await client.get_process_data({"devices:local": ["Dc_P"]})
    await client.get_process_data({"devices:local": ["Dc_P"]})


async def test_timeout_during_login(http: aiohttp.ClientSession, sim: PlenticoreSimulator) -> None:
    client = PlenticoreClient(http, sim.host, request_timeout=0.2)
    sim.fail_next("timeout", path="/auth/start")
    with pytest.raises(ApiConnectionError, match="did not answer in time"):
        await client.login(PASSWORD)
    assert not client.logged_in


@pytest.mark.parametrize(
    ("path", "call"),
    [
        ("/processdata", lambda c: c.get_process_data({"devices:local": ["Dc_P"]})),
        ("/settings", lambda c: c.get_settings_meta()),
        ("/events/latest", lambda c: c.get_events()),
        ("/modules", lambda c: c.get_modules()),
        ("/auth/create_session", lambda c: c.login(PASSWORD)),
    ],
)
async def test_malformed_answers(
    client: PlenticoreClient,
    sim: PlenticoreSimulator,
    path: str,
    call: Callable[[PlenticoreClient], Awaitable[object]],
) -> None:
    if not path.startswith("/auth"):
        await client.login(PASSWORD)
    sim.fail_next("malformed", path=path)
    with pytest.raises(MalformedResponseError, match="not JSON"):
        await call(client)


async def test_unknown_module_is_not_found(client: PlenticoreClient) -> None:
    await client.login(PASSWORD)
    with pytest.raises(NotFoundError, match="HTTP 404"):
        await client.get_process_data({"devices:local:pv9": ["P"]})


# ---- against the simulator: data --------------------------------------------------------------


async def test_version(client: PlenticoreClient, sim_config: PlenticoreConfig) -> None:
    version = await client.get_version()
    assert version.sw_version == sim_config.sw_version
    assert version.api_version == sim_config.api_version
    assert version.hostname == sim_config.hostname


async def test_modules_and_process_data(client: PlenticoreClient, sim: PlenticoreSimulator) -> None:
    await client.login(PASSWORD)
    modules = {module.id: module.type for module in await client.get_modules()}
    assert modules["devices:local:battery"] == "device:battery"
    ids = await client.get_process_data_ids()
    assert {"Dc_P", "Grid_P", "Home_P"} <= ids["devices:local"]
    assert "SoC" in ids["devices:local:battery"]

    request = {
        "devices:local": ["Dc_P", "Grid_P", "HomeOwn_P"],
        "devices:local:pv1": ["P", "U", "I"],
        "devices:local:battery": ["SoC", "P"],
        "scb:statistic:EnergyFlow": ["Statistic:Yield:Day"],
    }
    data = await client.get_process_data(request)
    assert sim.requests[f"POST {API}/processdata"] == 1  # one request for every module
    assert {module: set(values) for module, values in data.items()} == {
        module: set(ids) for module, ids in request.items()
    }
    for module, values in data.items():
        for value_id, value in values.items():
            assert value.value == pytest.approx(sim.process_value(module, value_id), abs=1e-3)
    assert data["devices:local:pv1"]["P"].unit == "W"
    assert data["devices:local:pv1"]["P"].value > 0
    assert data["scb:statistic:EnergyFlow"]["Statistic:Yield:Day"].unit == "Wh"


async def test_settings_read_and_write(client: PlenticoreClient, sim: PlenticoreSimulator) -> None:
    await client.login(PASSWORD)
    meta = await client.get_settings_meta()
    min_soc = meta["devices:local"]["Battery:MinSoc"]
    assert (min_soc.min, min_soc.max, min_soc.unit, min_soc.writable) == ("5", "100", "%", True)
    assert not meta["devices:local"]["Properties:SerialNo"].writable

    request = {
        "devices:local": ["Battery:MinSoc", "Battery:Strategy", "Properties:SerialNo"],
        "scb:network": ["Network:Hostname"],
    }
    before = await client.get_setting_values(request)
    assert before == {
        "devices:local": {
            "Battery:MinSoc": "5",
            "Battery:Strategy": "1",
            "Properties:SerialNo": sim.config.serial,
        },
        "scb:network": {"Network:Hostname": "scb"},
    }
    await client.set_setting_values(
        "devices:local", {"Battery:MinSoc": "20", "Battery:Strategy": "2"}
    )
    assert sim.setting("devices:local", "Battery:MinSoc") == "20"
    after = await client.get_setting_values({"devices:local": ["Battery:MinSoc"]})
    assert after == {"devices:local": {"Battery:MinSoc": "20"}}
    # Reads are always one POST: firmware 02.20+ answers 500 to a GET of several ids.
    assert sim.requests[f"POST {API}/settings"] == 2
    assert sim.requests[f"PUT {API}/settings"] == 1
    assert not any(key.startswith(f"GET {API}/settings/") for key in sim.requests)


async def test_invalid_setting_writes(client: PlenticoreClient, sim: PlenticoreSimulator) -> None:
    await client.login(PASSWORD)
    with pytest.raises(SolarHubApiError, match=r"HTTP 400.*out of range") as err:
        await client.set_setting_values("devices:local", {"Battery:MinSoc": "3"})
    assert not isinstance(err.value, AuthenticationError)
    with pytest.raises(NotFoundError):
        await client.set_setting_values("devices:local", {"Battery:NoSuchThing": "1"})
    assert sim.setting("devices:local", "Battery:MinSoc") == "5"
    assert sim.logins == 1


async def test_events(client: PlenticoreClient, sim: PlenticoreSimulator) -> None:
    await client.login(PASSWORD)
    assert await client.get_events() == []
    sim.raise_event(5014, "Grid frequency out of range", group="Grid")
    sim.clock.advance(120)
    sim.clear_event(5014)
    sim.raise_event(6005, "Battery communication error", category="warning", group="Battery")

    latest, earlier = await client.get_events()
    assert (latest.code, latest.category, latest.group) == (6005, "warning", "Battery")
    assert latest.is_active
    assert latest.end_time is None
    assert latest.start_time == NOON + timedelta(seconds=120)
    assert (earlier.code, earlier.is_active) == (5014, False)
    assert earlier.start_time == NOON
    assert earlier.end_time == NOON + timedelta(seconds=120)
    assert earlier.key != latest.key

    (german,) = await client.get_events(language="de-de", max_events=1)
    assert german.description == "Kommunikationsfehler Batterie"


async def test_a_lock_at_the_silent_relogin_keeps_the_credentials(
    client: PlenticoreClient, sim: PlenticoreSimulator, sim_config: PlenticoreConfig
) -> None:
    """A lock lapses by itself: the call fails with the wait, the next login after it works."""
    await client.login(PASSWORD)
    sim.restart()
    sim.lock()
    with pytest.raises(AccountLockedError) as err:
        await client.get_process_data({"devices:local": ["Dc_P"]})
    assert err.value.retry_after == plenticore.LOCK_RETRY_AFTER
    sim.clock.advance(sim_config.lock_seconds + 1)
    assert await client.get_process_data({"devices:local": ["Dc_P"]})
    assert sim.logins == 2
