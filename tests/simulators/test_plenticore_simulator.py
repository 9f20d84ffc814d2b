"""The PLENTICORE simulator, driven over loopback HTTP by a minimal SCRAM client written here.

The client below is independent of the integration's client: it follows the vendor notes, and its
key derivation is checked against the notes' test vector, as is the simulator's server side.
"""

from __future__ import annotations

import argparse
import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import hashlib
import hmac
import json
import re
import secrets
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
import pytest

from tests.constants import BERLIN, NIGHT, NOON, PLENTICORE_PASSWORD
from tests.simulators import SimClock
from tests.simulators.__main__ import VENDORS, build_parser
from tests.simulators.helpers import simulator_process
from tests.simulators.plenticore import (
    EFFICIENCY,
    PlenticoreConfig,
    PlenticoreSimulator,
    auth_message,
    decrypt_payload,
    derive_credentials,
    protocol_key,
    recover_client_key,
    server_signature,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

ROUNDS = 100
LOCAL = "devices:local"
STATS = "scb:statistic:EnergyFlow"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text)


# ---- a minimal, independent SCRAM client ------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    salted_password: bytes
    client_key: bytes
    stored_key: bytes
    server_key: bytes


def client_keys(secret: str, salt: bytes, rounds: int) -> Keys:
    salted = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, rounds)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return Keys(salted, client_key, hashlib.sha256(client_key).digest(), server_key)


def client_proof(keys: Keys, message: bytes) -> bytes:
    signature = hmac.new(keys.stored_key, message, hashlib.sha256).digest()
    return bytes(a ^ b for a, b in zip(keys.client_key, signature, strict=True))


def session_key(keys: Keys, message: bytes) -> bytes:
    data = b"Session Key" + message + keys.client_key
    return hmac.new(keys.stored_key, data, hashlib.sha256).digest()


class Api:
    """Plain HTTP calls to the simulator, returning (status, decoded JSON or raw text)."""

    def __init__(self, http: aiohttp.ClientSession, sim: PlenticoreSimulator) -> None:
        self.http = http
        self.base = f"{sim.url}/api/v1"
        self.session_id: str | None = None

    async def call(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Session {self.session_id}"} if self.session_id else {}
        kwargs: dict[str, Any] = {"headers": headers}
        if body is not None:
            kwargs["json"] = body
        async with self.http.request(method, self.base + path, **kwargs) as resp:
            text = await resp.text()
            try:
                return resp.status, json.loads(text)
            except ValueError:
                return resp.status, text

    async def ok(self, method: str, path: str, body: object = None) -> Any:
        status, answer = await self.call(method, path, body)
        assert status == 200, answer
        return answer


@dataclass
class Scram:
    """One login, step by step, so that tests can tamper with each step."""

    api: Api
    username: str
    secret: str
    nonce: str = ""
    transaction: str = ""
    message: bytes = b""
    keys: Keys | None = None

    async def start(self) -> tuple[int, Any]:
        self.nonce = b64(secrets.token_bytes(12))
        status, answer = await self.api.call(
            "POST", "/auth/start", {"username": self.username, "nonce": self.nonce}
        )
        if status == 200:
            assert unb64(answer["nonce"]).startswith(unb64(self.nonce))
            assert len(unb64(answer["nonce"])) == 24
            self.transaction = answer["transactionId"]
            self.message = (
                f"n={self.username},r={self.nonce},r={answer['nonce']},s={answer['salt']},"
                f"i={answer['rounds']},c=biws,r={answer['nonce']}"
            ).encode()
            self.keys = client_keys(self.secret, unb64(answer["salt"]), answer["rounds"])
        return status, answer

    async def finish(self, proof: bytes | None = None) -> tuple[int, Any]:
        assert self.keys is not None
        proof = client_proof(self.keys, self.message) if proof is None else proof
        status, answer = await self.api.call(
            "POST", "/auth/finish", {"transactionId": self.transaction, "proof": b64(proof)}
        )
        if status == 200:
            expected = hmac.new(self.keys.server_key, self.message, hashlib.sha256).digest()
            assert unb64(answer["signature"]) == expected
        return status, answer

    async def create_session(self, plaintext: str, iv_size: int = 16) -> tuple[int, Any]:
        assert self.keys is not None
        iv = secrets.token_bytes(iv_size)
        sealed = AESGCM(session_key(self.keys, self.message)).encrypt(iv, plaintext.encode(), None)
        body = {
            "transactionId": self.transaction,
            "iv": b64(iv),
            "tag": b64(sealed[-16:]),
            "payload": b64(sealed[:-16]),
        }
        return await self.api.call("POST", "/auth/create_session", body)

    async def login(self, service_code: str | None = None, iv_size: int = 16) -> str:
        assert (await self.start())[0] == 200
        status, answer = await self.finish()
        assert status == 200, answer
        token = answer["token"]
        plaintext = token if service_code is None else f"{token}:{service_code}"
        status, answer = await self.create_session(plaintext, iv_size)
        assert status == 200, answer
        self.api.session_id = answer["sessionId"]
        return str(answer["sessionId"])


# ---- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def config() -> PlenticoreConfig:
    return PlenticoreConfig(rounds=ROUNDS)


@pytest.fixture
async def sim(config: PlenticoreConfig, clock: SimClock) -> AsyncIterator[PlenticoreSimulator]:
    async with PlenticoreSimulator(config, clock) as simulator:
        yield simulator


@pytest.fixture
def api(http: aiohttp.ClientSession, sim: PlenticoreSimulator) -> Api:
    return Api(http, sim)


@pytest.fixture
async def owner(api: Api, config: PlenticoreConfig) -> Api:
    await Scram(api, "user", config.password).login()
    return api


@pytest.fixture
async def installer(
    http: aiohttp.ClientSession, sim: PlenticoreSimulator, config: PlenticoreConfig
) -> Api:
    api = Api(http, sim)
    await Scram(api, "master", config.master_key).login(config.service_code)
    return api


# ---- the vendor notes' test vector ------------------------------------------------------------

VECTOR_CLIENT_NONCE = "AAECAwQFBgcICQoL"
VECTOR_SERVER_NONCE = "AAECAwQFBgcICQoLoKGio6Slpqeoqaqr"
VECTOR_SALT = "EBESExQVFhcYGRob"
VECTOR_TOKEN = "0123456789abcdef0123456789abcdef"
VECTOR_IV = "MDEyMzQ1Njc4OTo7PD0+Pw=="
VECTOR = {
    "user": {
        "secret": "Pass1234",
        "plaintext": VECTOR_TOKEN,
        "salted": "accede5c650454ab9916c8591dd3fee44a4a6ca3fd12910d9403a7689330215e",
        "client_key": "9db212d627f6f48e8d26d365a7502460a0c2efa140682e0edc1fb6f1802cd3ac",
        "stored_key": "3dc4d117311f32737a4dd7054672584f39844caea46bcb5c67d4de0ac8342dca",
        "proof": "exFgzpexJK3lnEGHELQ7Ak2MXF7AXbvsanctq4OsRDU=",
        "signature": "0N1z88e5UcFpK4fR1oj/7JoGotO+ikiJUq/4mfEUsVw=",
        "protocol_key": "1b33c8a4102811071fdc1952a7055af6ababc4c837160cbeb5791f4eb4e4ffe5",
        "payload": "pHgYVncJ2odKjJjfIIhjYKULQdVm85e8sQRIbE0Rw38=",
        "tag": "Uo0jPqlXd1dOSQCjp3kBhw==",
    },
    "master": {
        "secret": "MASTERKEY123",
        "plaintext": f"{VECTOR_TOKEN}:12345",
        "salted": "788e4ba2b4ad89f1de75ec0762370e7d5f523926b1037ff328cc27546d04b06a",
        "client_key": "506de30da3752487030ac4af39ac18f70fcc29b5fff0e56edb84ccc42cd3ac41",
        "stored_key": "0e988baa86b7ddc25058f9ec22d83490efc3ae52d2dd5f6b43d553300f9352c2",
        "proof": "9ROLPGmqcijfP+PomDr2aBHI2M3jJiJE3hXnF7fFhlc=",
        "signature": "wufF+YkaCxOZE9qPHCveIYuzPzfonYGu7Eobry2h/xs=",
        "protocol_key": "c64bdf591728c3a3066a885a93e6a4bba3333625a9f9394f2a6c64ae1f47f3f3",
        "payload": "MWxO+Q23BffWTryf//Q9lTWXQI2EBllHjuCEinUF5H5bZj8zRsg=",
        "tag": "sQKE47/Uyf1t8k8jOS6HMQ==",
    },
}


@pytest.mark.parametrize("username", ["user", "master"])
def test_vector_client_and_server_side(username: str) -> None:
    row = VECTOR[username]
    message = auth_message(username, VECTOR_CLIENT_NONCE, VECTOR_SERVER_NONCE, VECTOR_SALT, 29000)
    # The test's own client reproduces the notes.
    keys = client_keys(row["secret"], unb64(VECTOR_SALT), 29000)
    assert keys.salted_password.hex() == row["salted"]
    assert keys.client_key.hex() == row["client_key"]
    assert keys.stored_key.hex() == row["stored_key"]
    assert b64(client_proof(keys, message)) == row["proof"]
    assert session_key(keys, message).hex() == row["protocol_key"]
    # The simulator's server side accepts the proof and answers the expected signature and key.
    creds = derive_credentials(row["secret"], unb64(VECTOR_SALT), 29000)
    assert creds.stored_key.hex() == row["stored_key"]
    client_key = recover_client_key(creds, message, unb64(row["proof"]))
    assert client_key is not None
    assert client_key.hex() == row["client_key"]
    assert b64(server_signature(creds, message)) == row["signature"]
    key = protocol_key(creds, message, client_key)
    assert key.hex() == row["protocol_key"]
    plain = decrypt_payload(key, unb64(VECTOR_IV), unb64(row["tag"]), unb64(row["payload"]))
    assert plain == row["plaintext"].encode()
    # Anything else is refused.
    assert recover_client_key(creds, message, bytes(32)) is None
    assert recover_client_key(creds, message, b"short") is None
    assert decrypt_payload(key, unb64(VECTOR_IV), bytes(16), unb64(row["payload"])) is None
    assert decrypt_payload(key, b"", unb64(row["tag"]), unb64(row["payload"])) is None


# ---- login ------------------------------------------------------------------------------------


async def test_owner_login_and_logout(
    api: Api, sim: PlenticoreSimulator, config: PlenticoreConfig
) -> None:
    me = await api.ok("GET", "/auth/me")
    assert (me["role"], me["anonymous"], me["authenticated"]) == ("NONE", True, False)
    assert await api.call("GET", "/modules") == (401, {"message": "Unauthorized: no valid session"})

    session_id = await Scram(api, "user", config.password).login()
    assert len(session_id) == 64
    int(session_id, 16)
    me = await api.ok("GET", "/auth/me")
    assert (me["role"], me["anonymous"], me["authenticated"]) == ("USER", False, True)
    assert (sim.logins, sim.failed_logins, sim.active_sessions) == (1, 0, 1)

    await api.ok("POST", "/auth/logout")
    assert sim.active_sessions == 0
    assert (await api.call("GET", "/modules"))[0] == 401
    assert (await api.ok("GET", "/auth/me"))["role"] == "NONE"


@pytest.mark.parametrize("iv_size", [12, 16])
async def test_installer_login(api: Api, config: PlenticoreConfig, iv_size: int) -> None:
    await Scram(api, "master", config.master_key).login(config.service_code, iv_size)
    assert (await api.ok("GET", "/auth/me"))["role"] == "INSTALLER"


async def test_wrong_password_is_refused(
    api: Api, sim: PlenticoreSimulator, config: PlenticoreConfig
) -> None:
    scram = Scram(api, "user", "wrong")
    await scram.start()
    status, answer = await scram.finish()
    assert status == 400
    assert "message" in answer
    assert (sim.logins, sim.failed_logins, sim.active_sessions) == (0, 1, 0)
    # The transaction died with the failure.
    assert (await scram.finish())[0] == 400


async def test_master_key_is_not_the_owner_password(api: Api, config: PlenticoreConfig) -> None:
    scram = Scram(api, "user", config.master_key)
    await scram.start()
    assert (await scram.finish())[0] == 400


async def test_wrong_or_missing_service_code(
    api: Api, sim: PlenticoreSimulator, config: PlenticoreConfig
) -> None:
    for plaintext in ("{token}:99999", "{token}"):
        scram = Scram(api, "master", config.master_key)
        await scram.start()
        _, answer = await scram.finish()
        status, answer = await scram.create_session(plaintext.format(token=answer["token"]))
        assert (status, answer) == (400, {"message": "Invalid service code"})
    assert (sim.logins, sim.failed_logins) == (0, 2)


async def test_owner_cannot_append_a_service_code(api: Api, config: PlenticoreConfig) -> None:
    scram = Scram(api, "user", config.password)
    await scram.start()
    _, answer = await scram.finish()
    assert (await scram.create_session(f"{answer['token']}:{config.service_code}"))[0] == 400


async def test_transactions_are_single_use(
    api: Api, sim: PlenticoreSimulator, config: PlenticoreConfig
) -> None:
    scram = Scram(api, "user", config.password)
    await scram.start()
    assert (await scram.create_session("x"))[0] == 400  # not finished yet: consumed anyway
    await scram.start()
    status, answer = await scram.finish()
    assert status == 200
    assert (await scram.finish())[0] == 400  # replayed proof
    assert (await scram.create_session("not-the-token"))[0] == 400
    assert (await scram.create_session(answer["token"]))[0] == 400  # replayed transaction
    assert sim.logins == 0
    assert sim.failed_logins == 0  # the password itself was right


async def test_undecryptable_session_payload(api: Api, config: PlenticoreConfig) -> None:
    scram = Scram(api, "user", config.password)
    await scram.start()
    await scram.finish()
    body = {"transactionId": scram.transaction, "iv": b64(bytes(16)), "tag": b64(bytes(16))}
    status, answer = await api.call("POST", "/auth/create_session", {**body, "payload": "AAAA"})
    assert status == 400
    assert "decrypt" in answer["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"username": "admin", "nonce": b64(bytes(12))},
        {"username": "user", "nonce": "not base64!"},
        {"username": "user", "nonce": ""},
        {"username": "user"},
        ["user"],
    ],
)
async def test_bad_start(api: Api, body: object) -> None:
    status, answer = await api.call("POST", "/auth/start", body)
    assert status == 400
    assert answer["message"]


async def test_start_answer(api: Api, config: PlenticoreConfig) -> None:
    nonce = b64(bytes(range(12)))
    answer = await api.ok("POST", "/auth/start", {"username": "user", "nonce": nonce})
    assert answer["rounds"] == config.rounds
    assert len(unb64(answer["salt"])) == 12
    assert answer["nonce"].startswith(nonce[:-1])
    assert unb64(answer["nonce"])[:12] == bytes(range(12))
    assert len(unb64(answer["transactionId"])) == 32


async def test_not_json(api: Api, http: aiohttp.ClientSession) -> None:
    async with http.post(api.base + "/auth/start", data=b"{") as resp:
        assert resp.status == 400
        assert (await resp.json())["message"] == "Input payload validation failed"


@pytest.mark.parametrize("config", [PlenticoreConfig(rounds=ROUNDS, lock_after=3)])
async def test_lock_after_failed_logins(
    api: Api, sim: PlenticoreSimulator, clock: SimClock, config: PlenticoreConfig
) -> None:
    for _ in range(3):
        scram = Scram(api, "user", "wrong")
        assert (await scram.start())[0] == 200
        assert (await scram.finish())[0] == 400
    locked = Scram(api, "user", config.password)
    assert await locked.start() == (403, {"message": "User is locked"})
    # The installer is a different user and is not locked.
    await Scram(Api(api.http, sim), "master", config.master_key).login(config.service_code)
    clock.advance(timedelta(minutes=9))
    assert (await locked.start())[0] == 403
    clock.advance(timedelta(minutes=2))
    await Scram(api, "user", config.password).login()
    assert sim.failed_logins == 3


async def test_success_resets_the_failure_count(
    api: Api, sim: PlenticoreSimulator, config: PlenticoreConfig
) -> None:
    for _ in range(config.lock_after - 1):
        scram = Scram(api, "user", "wrong")
        await scram.start()
        await scram.finish()
    await Scram(api, "user", config.password).login()
    for _ in range(config.lock_after - 1):
        scram = Scram(api, "user", "wrong")
        await scram.start()
        await scram.finish()
    assert (await Scram(api, "user", config.password).start())[0] == 200


async def test_lock_and_password_controls(
    api: Api, sim: PlenticoreSimulator, clock: SimClock, config: PlenticoreConfig
) -> None:
    sim.lock()
    assert (await Scram(api, "user", config.password).start())[0] == 403
    clock.advance(config.lock_seconds)
    sim.set_password("new-password")
    scram = Scram(api, "user", PLENTICORE_PASSWORD)
    await scram.start()
    assert (await scram.finish())[0] == 400
    await Scram(api, "user", "new-password").login()
    sim.set_password("NEWMASTER", "master")
    await Scram(api, "master", "NEWMASTER").login(config.service_code)


async def test_restart_drops_sessions_and_applies_changed_secrets(
    owner: Api, sim: PlenticoreSimulator, config: PlenticoreConfig
) -> None:
    await owner.ok("GET", "/modules")
    config.password = "changed-in-the-web-ui"
    await owner.ok("GET", "/modules")  # nothing changes before the restart
    sim.restart()
    assert sim.active_sessions == 0
    assert (await owner.call("GET", "/modules"))[0] == 401
    scram = Scram(owner, "user", PLENTICORE_PASSWORD)
    await scram.start()
    assert (await scram.finish())[0] == 400
    await Scram(owner, "user", "changed-in-the-web-ui").login()
    await owner.ok("GET", "/modules")


async def test_stop_and_start_again_keeps_sessions(owner: Api, sim: PlenticoreSimulator) -> None:
    port = sim.port
    await sim.stop()
    with pytest.raises(aiohttp.ClientConnectionError):
        await owner.call("GET", "/modules")
    await sim.start(port)
    await owner.ok("GET", "/modules")
    with pytest.raises(RuntimeError, match="already started"):
        await sim.start()


async def test_not_started() -> None:
    sim = PlenticoreSimulator(PlenticoreConfig(rounds=ROUNDS))
    with pytest.raises(RuntimeError, match="not started"):
        _ = sim.url
    await sim.stop()  # harmless


# ---- info, modules, routes --------------------------------------------------------------------


async def test_version_needs_no_session(api: Api, config: PlenticoreConfig) -> None:
    assert await api.ok("GET", "/info/version") == {
        "name": "PUCK RESTful API",
        "hostname": "scb",
        "api_version": config.api_version,
        "sw_version": config.sw_version,
    }


async def test_modules(owner: Api) -> None:
    modules = {m["id"]: m["type"] for m in await owner.ok("GET", "/modules")}
    assert modules == {
        "devices:local": "device",
        "devices:local:ac": "device:ac",
        "devices:local:battery": "device:battery",
        "devices:local:pv1": "device:pv",
        "devices:local:pv2": "device:pv",
        "devices:local:pv3": "device:pv",
        "scb:event": "event",
        "scb:network": "config",
        "scb:statistic:EnergyFlow": "statistic",
    }


async def test_unknown_routes_answer_json(owner: Api) -> None:
    assert await owner.call("GET", "/nothing/here") == (404, {"message": "Not Found"})
    assert await owner.call("DELETE", "/modules") == (405, {"message": "Method Not Allowed"})


async def test_reboot_and_factory_settings(
    owner: Api, installer: Api, sim: PlenticoreSimulator
) -> None:
    assert (await owner.call("POST", "/system/reboot"))[0] == 403
    assert (await installer.call("POST", "/system/factorysettings"))[0] == 403
    assert sim.active_sessions == 2
    await installer.ok("POST", "/system/reboot")
    assert sim.active_sessions == 0
    assert (await owner.call("GET", "/modules"))[0] == 401


# ---- process data -----------------------------------------------------------------------------


async def test_process_data_listing_and_values(owner: Api, sim: PlenticoreSimulator) -> None:
    listing = {m["moduleid"]: m["processdataids"] for m in await owner.ok("GET", "/processdata")}
    assert set(listing[LOCAL]) == {
        "Inverter:State", "Dc_P", "Grid_P", "HomeBat_P", "HomeGrid_P", "HomeOwn_P",
        "HomePv_P", "Home_P", "PV2Bat_P", "EM_State", "Bat2Grid_P",
    }  # fmt: skip
    assert set(listing["devices:local:pv2"]) == {"P", "U", "I"}
    assert set(listing["devices:local:battery"]) == {"Cycles", "P", "SoC", "U", "I"}
    assert {"L1_P", "L2_U", "L3_I", "Frequency", "CosPhi", "P"} <= set(listing["devices:local:ac"])
    assert "Statistic:EnergyPv3:Month" in listing[STATS]
    assert len(listing[STATS]) == 4 * 14

    answer = await owner.ok(
        "POST",
        "/processdata",
        [
            {"moduleid": LOCAL, "processdataids": ["Dc_P", "Inverter:State"]},
            {"moduleid": STATS, "processdataids": ["Statistic:Autarky:Day"]},
        ],
    )
    assert [m["moduleid"] for m in answer] == [LOCAL, STATS]
    values = {v["id"]: v for v in answer[0]["processdata"]}
    assert values["Dc_P"]["unit"] == "W"
    assert values["Dc_P"]["value"] == pytest.approx(sim.process_value(LOCAL, "Dc_P"))
    assert values["Inverter:State"] == {"id": "Inverter:State", "unit": "", "value": 6}
    assert answer[1]["processdata"][0]["unit"] == "%"

    (whole,) = await owner.ok("GET", "/processdata/devices:local:pv1")
    assert {v["id"] for v in whole["processdata"]} == {"P", "U", "I"}
    (some,) = await owner.ok("GET", "/processdata/devices:local:battery/SoC,P")
    assert [(v["id"], v["unit"]) for v in some["processdata"]] == [("SoC", "%"), ("P", "W")]
    (everything,) = await owner.ok(
        "POST", "/processdata", [{"moduleid": LOCAL, "processdataids": []}]
    )
    assert len(everything["processdata"]) == len(listing[LOCAL])


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/processdata", [{"moduleid": "devices:local:pv9", "processdataids": ["P"]}]),
        ("POST", "/processdata", [{"moduleid": LOCAL, "processdataids": ["Dc_P", "Nope"]}]),
        ("GET", "/processdata/devices:local:pv9", None),
        ("GET", "/processdata/devices:local/Dc_P,Nope", None),
    ],
)
async def test_unknown_process_data_is_404(
    owner: Api, method: str, path: str, body: object
) -> None:
    status, answer = await owner.call(method, path, body)
    assert status == 404
    assert "not found" in answer["message"]


@pytest.mark.parametrize(
    "body", [{"moduleid": LOCAL}, [{"moduleid": LOCAL, "processdataids": "Dc_P"}], [3]]
)
async def test_malformed_process_data_request(owner: Api, body: object) -> None:
    assert (await owner.call("POST", "/processdata", body))[0] == 400


async def test_removed_process_data(owner: Api, sim: PlenticoreSimulator) -> None:
    sim.remove_process_data("devices:local:battery", "SoC")
    listing = {m["moduleid"]: m["processdataids"] for m in await owner.ok("GET", "/processdata")}
    assert "SoC" not in listing["devices:local:battery"]
    assert "P" in listing["devices:local:battery"]
    body = [{"moduleid": "devices:local:battery", "processdataids": ["SoC"]}]
    assert (await owner.call("POST", "/processdata", body))[0] == 404
    with pytest.raises(KeyError):
        sim.process_value("devices:local:battery", "SoC")
    with pytest.raises(KeyError):
        sim.remove_process_data("devices:local", "NoSuchId")


def balance(sim: PlenticoreSimulator) -> dict[str, float]:
    ids = ["Dc_P", "Grid_P", "Home_P", "HomePv_P", "HomeBat_P", "HomeGrid_P", "HomeOwn_P"]
    values = {i: sim.process_value(LOCAL, i) for i in [*ids, "PV2Bat_P", "Inverter:State"]}
    values["battery"] = sim.process_value("devices:local:battery", "P")
    values["soc"] = sim.process_value("devices:local:battery", "SoC")
    values["ac"] = sim.process_value("devices:local:ac", "P")
    strings = [sim.process_value(f"devices:local:pv{i}", "P") for i in (1, 2, 3)]
    assert sum(strings) == pytest.approx(values["Dc_P"], abs=1e-3)
    home_parts = values["HomePv_P"] + values["HomeBat_P"] + values["HomeGrid_P"]
    assert values["Home_P"] == pytest.approx(home_parts, abs=1e-3)
    assert values["HomeOwn_P"] == pytest.approx(values["HomePv_P"] + values["HomeBat_P"], abs=1e-3)
    # Grid_P > 0 is import: the home's grid share minus what is fed in.
    feed_in = values["ac"] - values["HomePv_P"] - values["HomeBat_P"]
    assert values["Grid_P"] == pytest.approx(values["HomeGrid_P"] - feed_in, abs=1e-3)
    return values


async def test_a_june_noon(sim: PlenticoreSimulator) -> None:
    noon = balance(sim)
    assert noon["Dc_P"] > 6000  # a 10 kWp generator at midsummer noon
    assert noon["Inverter:State"] == 6  # FeedIn
    strings = [sim.process_value(f"devices:local:pv{i}", "P") for i in (1, 2, 3)]
    assert len({round(p) for p in strings}) == 3  # the strings differ
    volts = sim.process_value("devices:local:pv1", "U")
    amps = sim.process_value("devices:local:pv1", "I")
    assert 400 < volts < 700
    assert volts * amps == pytest.approx(strings[0], rel=1e-3)
    assert noon["Grid_P"] < 0 or noon["battery"] < 0  # surplus: fed in or charged
    assert noon["HomeGrid_P"] == pytest.approx(0, abs=1e-6)
    frequency = sim.process_value("devices:local:ac", "Frequency")
    assert 49.9 < frequency < 50.1


async def test_a_june_night(config: PlenticoreConfig) -> None:
    sim = PlenticoreSimulator(config, SimClock.fixed(NIGHT))
    night = balance(sim)
    assert night["Dc_P"] == 0
    assert sim.process_value("devices:local:pv1", "U") == 0
    assert night["battery"] > 0  # discharging into the home
    assert night["HomeBat_P"] > 0
    assert night["Inverter:State"] == 6
    # Without usable battery energy the grid covers the home and the inverter stands by.
    sim.set_setting(LOCAL, "Battery:MinSoc", "100")
    night = balance(sim)
    assert night["battery"] == 0
    assert night["Grid_P"] == pytest.approx(night["Home_P"])
    assert night["Inverter:State"] == 10  # Standby


async def test_battery_fills_by_day_and_empties_to_min_soc(
    sim: PlenticoreSimulator, clock: SimClock
) -> None:
    clock.set(datetime(2026, 12, 10, 5, 0, tzinfo=UTC))  # a December morning
    soc = []
    for _ in range(48):
        clock.advance(timedelta(minutes=30))
        soc.append(balance(sim)["soc"])
    assert max(soc) > 50
    assert min(soc) == 5  # Battery:MinSoc
    sim.set_setting(LOCAL, "Battery:MinSoc", "30")
    clock.advance(timedelta(days=1))
    assert sim.process_value("devices:local:battery", "SoC") >= 29
    sim.set_setting(LOCAL, "Battery:MinSoc", "5")
    clock.set(datetime(2027, 6, 21, 18, 0, tzinfo=UTC))
    assert sim.process_value("devices:local:battery", "SoC") == 100  # a June day fills it


async def test_manual_charge_draws_from_the_grid(config: PlenticoreConfig) -> None:
    sim = PlenticoreSimulator(config, SimClock.fixed(NIGHT))
    sim.set_setting(LOCAL, "Battery:ManualCharge", "1")
    night = balance(sim)
    assert night["battery"] < 0
    assert night["ac"] < 0
    assert night["Grid_P"] > night["Home_P"]
    energy = sim.process_value(STATS, "Statistic:EnergyChargeGrid:Total")
    sim.clock.advance(3600)
    assert sim.process_value(STATS, "Statistic:EnergyChargeGrid:Total") > energy + 4000


def counters(sim: PlenticoreSimulator, period: str) -> dict[str, float]:
    names = [
        "EnergyHome", "EnergyHomePv", "EnergyHomeBat", "EnergyHomeGrid", "Yield", "EnergyPv1",
        "EnergyPv2", "EnergyPv3", "EnergyChargePv", "EnergyChargeGrid", "EnergyDischarge",
        "EnergyDischargeGrid", "Autarky", "OwnConsumptionRate",
    ]  # fmt: skip
    return {n: sim.process_value(STATS, f"Statistic:{n}:{period}") for n in names}


def check_counters(values: dict[str, float]) -> None:
    home = values["EnergyHomePv"] + values["EnergyHomeBat"] + values["EnergyHomeGrid"]
    assert values["EnergyHome"] == pytest.approx(home, rel=1e-6, abs=1e-3)
    assert values["Yield"] >= values["EnergyHomePv"] + values["EnergyHomeBat"] - 1e-3
    assert 0 <= values["Autarky"] <= 100
    assert 0 <= values["OwnConsumptionRate"] <= 100
    assert values["EnergyDischargeGrid"] == 0


async def test_energy_counters(sim: PlenticoreSimulator, clock: SimClock) -> None:
    day = counters(sim, "Day")
    assert day["Yield"] > 5000  # integrated since local midnight
    assert day["EnergyHome"] > 2000
    previous = counters(sim, "Total")
    for _ in range(36):  # 18 hours in half-hour steps, across local midnight
        clock.advance(timedelta(minutes=30))
        total = counters(sim, "Total")
        check_counters(total)
        for name in ("EnergyHome", "Yield", "EnergyPv1", "EnergyDischarge", "EnergyChargePv"):
            assert total[name] >= previous[name]
        previous = total
    # 06:00 local the next day: the day counters restarted at midnight.
    day = counters(sim, "Day")
    check_counters(day)
    assert day["EnergyHome"] < 4000
    assert counters(sim, "Month")["EnergyHome"] > day["EnergyHome"] + 10_000
    assert counters(sim, "Year")["EnergyHome"] == pytest.approx(
        counters(sim, "Month")["EnergyHome"]
    )


def check_conservation(values: dict[str, float], soc: float, capacity_wh: float) -> None:
    """Energy is conserved, counter by counter, over the lifetime (Total) counters."""
    strings = values["EnergyPv1"] + values["EnergyPv2"] + values["EnergyPv3"]
    pv_ac = values["Yield"] - values["EnergyHomeBat"] - values["EnergyDischargeGrid"]
    # DC side: the strings' energy went into the battery or, converted, to the home and the grid.
    assert strings == pytest.approx(values["EnergyChargePv"] + pv_ac / EFFICIENCY, abs=0.5)
    # The battery delivered (AC side) what the home and the grid took of it.
    delivered = values["EnergyHomeBat"] + values["EnergyDischargeGrid"]
    assert values["EnergyDischarge"] == pytest.approx(delivered, abs=0.5)
    charged = values["EnergyChargePv"] + values["EnergyChargeGrid"]
    assert values["EnergyDischarge"] <= charged  # never more out than was ever put in
    content = (
        values["EnergyChargePv"]
        + values["EnergyChargeGrid"] * EFFICIENCY
        - values["EnergyDischarge"] / EFFICIENCY
    )
    assert -0.5 <= content <= capacity_wh + 0.5
    # The SoC is the content, rounded; at a tie (5 % + a quarter hour's 12.5 % of grid charge) the
    # float sums of the counters may fall on either side of the half.
    assert soc == pytest.approx(100 * content / capacity_wh, abs=0.5 + 1e-9)


@pytest.mark.parametrize(
    "start",
    [
        datetime(2026, 3, 14, 23, 0, tzinfo=UTC),  # an equinox day from local midnight
        datetime(2026, 12, 10, 5, 0, tzinfo=UTC),  # a short December day
        NOON,  # a long June day from noon
    ],
)
async def test_energy_is_conserved_over_a_day_and_a_night(
    config: PlenticoreConfig, start: datetime
) -> None:
    clock = SimClock.fixed(start)
    sim = PlenticoreSimulator(config, clock)
    soc: list[float] = []
    berlin = ZoneInfo(config.timezone)
    for _ in range(96):  # 24 h in quarter hours, an hour of grid charging at night included
        clock.advance(timedelta(minutes=15))
        manual = "1" if clock.now().astimezone(berlin).hour == 2 else "0"
        sim.set_setting(LOCAL, "Battery:ManualCharge", manual)
        values = balance(sim)
        soc.append(values["soc"])
        # The instant's flows: the home takes what the inverter's AC side and the grid give.
        assert values["Home_P"] == pytest.approx(values["ac"] + values["Grid_P"], abs=1e-3)
        total = counters(sim, "Total")
        check_counters(total)
        check_conservation(total, values["soc"], config.battery_capacity_wh)
        check_counters(counters(sim, "Day"))
    assert counters(sim, "Total")["EnergyChargeGrid"] > 500  # the grid charge hour counted
    assert max(soc) - min(soc) > 20  # the battery cycled


async def test_a_jump_of_a_month_is_still_plausible(
    sim: PlenticoreSimulator, clock: SimClock
) -> None:
    before = counters(sim, "Total")
    clock.advance(timedelta(days=30))
    after = counters(sim, "Total")
    check_counters(after)
    per_day = (after["Yield"] - before["Yield"]) / 30
    assert 30_000 < per_day < 80_000
    assert 5_000 < (after["EnergyHome"] - before["EnergyHome"]) / 30 < 30_000
    assert counters(sim, "Month")["EnergyHome"] < after["EnergyHome"] - before["EnergyHome"]


async def test_year_turn(sim: PlenticoreSimulator, clock: SimClock) -> None:
    clock.set(datetime(2026, 12, 31, 22, 0, tzinfo=UTC))  # 23:00 in Berlin
    total = counters(sim, "Total")["EnergyHome"]
    assert counters(sim, "Year")["EnergyHome"] > 100_000
    clock.advance(timedelta(hours=2))
    assert counters(sim, "Year")["EnergyHome"] < 1000
    assert counters(sim, "Month")["EnergyHome"] < 1000
    assert counters(sim, "Total")["EnergyHome"] > total


async def test_clock_going_back_never_shrinks_totals(
    sim: PlenticoreSimulator, clock: SimClock
) -> None:
    total = sim.process_value(STATS, "Statistic:Yield:Total")
    clock.advance(-3600)
    assert sim.process_value(STATS, "Statistic:Yield:Total") == total
    clock.advance(7200)
    assert sim.process_value(STATS, "Statistic:Yield:Total") > total


@pytest.mark.parametrize("config", [PlenticoreConfig(rounds=ROUNDS, has_battery=False)])
async def test_without_battery(owner: Api, sim: PlenticoreSimulator) -> None:
    modules = {m["id"] for m in await owner.ok("GET", "/modules")}
    assert "devices:local:battery" not in modules
    listing = {m["moduleid"]: m["processdataids"] for m in await owner.ok("GET", "/processdata")}
    assert not {"HomeBat_P", "PV2Bat_P", "Bat2Grid_P"} & set(listing[LOCAL])
    assert not [i for i in listing[STATS] if "Bat" in i or "Charge" in i or "Discharge" in i]
    settings = {m["moduleid"]: m["settings"] for m in await owner.ok("GET", "/settings")}
    ids = {s["id"] for s in settings[LOCAL]}
    assert not [i for i in ids if i.startswith("Battery:")]
    assert "EnergyMgmt:AcStorage" not in ids
    values = {i: sim.process_value(LOCAL, i) for i in ("Home_P", "HomePv_P", "HomeGrid_P")}
    assert values["Home_P"] == pytest.approx(values["HomePv_P"] + values["HomeGrid_P"])


# ---- settings ---------------------------------------------------------------------------------


async def test_settings_meta_as_seen_by_each_role(owner: Api, installer: Api) -> None:
    def by_id(answer: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {f"{m['moduleid']}/{s['id']}": s for m in answer for s in m["settings"]}

    mine = by_id(await owner.ok("GET", "/settings"))
    theirs = by_id(await installer.ok("GET", "/settings"))
    assert mine[f"{LOCAL}/Battery:MinSoc"] == {
        "id": "Battery:MinSoc", "unit": "%", "type": "byte", "min": "5", "max": "100",
        "default": "5", "access": "readwrite",
    }  # fmt: skip
    assert mine[f"{LOCAL}/Battery:ManualCharge"]["access"] == "readonly"
    assert theirs[f"{LOCAL}/Battery:ManualCharge"]["access"] == "readwrite"
    assert mine[f"{LOCAL}/Properties:SerialNo"]["access"] == "readonly"
    assert theirs[f"{LOCAL}/Properties:SerialNo"]["access"] == "readonly"
    assert mine[f"{LOCAL}/Battery:MinHomeComsumption"]["max"] == "38000"
    assert mine[f"{LOCAL}/Generator:ShadowMgmt:Enable"]["max"] == "7"
    assert mine["scb:network/Network:Hostname"]["type"] == "string"
    expected = {
        "Battery:MinSoc", "Battery:MinHomeComsumption", "Battery:Strategy", "Battery:ManualCharge",
        "Battery:SmartBatteryControl:Enable", "Battery:TimeControl:Enable", "EnergyMgmt:AcStorage",
        "Battery:Type", "Generator:ShadowMgmt:Enable", "Properties:StringCnt",
        "Properties:String0Features", "Properties:String1Features", "Properties:String2Features",
        "Properties:SerialNo", "Properties:VersionIOC", "Properties:VersionMC",
        "Branding:ProductName1", "Branding:ProductName2",
    }  # fmt: skip
    assert {k.removeprefix(f"{LOCAL}/") for k in mine if k.startswith(LOCAL)} == expected


async def test_settings_read(owner: Api, config: PlenticoreConfig) -> None:
    answer = await owner.ok(
        "POST",
        "/settings",
        [
            {
                "moduleid": LOCAL,
                "settingids": ["Properties:StringCnt", "Properties:String2Features"],
            },
            {"moduleid": "scb:network", "settingids": ["Network:Hostname"]},
        ],
    )
    assert answer == [
        {
            "moduleid": LOCAL,
            "settings": [
                {"id": "Properties:StringCnt", "value": "3"},
                {"id": "Properties:String2Features", "value": "0"},
            ],
        },
        {"moduleid": "scb:network", "settings": [{"id": "Network:Hostname", "value": "scb"}]},
    ]
    assert await owner.ok("GET", "/settings/devices:local/Properties:SerialNo") == [
        {"id": "Properties:SerialNo", "value": config.serial}
    ]
    whole = await owner.ok("GET", "/settings/devices:local")
    assert {"id": "Branding:ProductName1", "value": "PLENTICORE plus"} in whole
    status, answer = await owner.call(
        "GET", "/settings/devices:local/Battery:MinSoc,Battery:Strategy"
    )
    assert (status, answer) == (500, {"message": "Internal Server Error"})
    body = [{"moduleid": LOCAL, "settingids": ["Nope"]}]
    assert (await owner.call("POST", "/settings", body))[0] == 404
    assert (await owner.call("GET", "/settings/scb:nope"))[0] == 404


@pytest.mark.parametrize(
    "config", [PlenticoreConfig(rounds=ROUNDS, multi_get_500=False, legacy_hostname=True)]
)
async def test_older_firmware(owner: Api, sim: PlenticoreSimulator) -> None:
    answer = await owner.ok("GET", "/settings/devices:local/Battery:MinSoc,Battery:Strategy")
    assert [s["id"] for s in answer] == ["Battery:MinSoc", "Battery:Strategy"]
    assert await owner.ok("GET", "/settings/scb:network") == [{"id": "Hostname", "value": "scb"}]
    sim.set_setting("scb:network", "Hostname", "roof")
    assert (await owner.ok("GET", "/info/version"))["hostname"] == "roof"


async def test_settings_write(owner: Api, sim: PlenticoreSimulator) -> None:
    body = [
        {
            "moduleid": LOCAL,
            "settings": [
                {"id": "Battery:MinSoc", "value": "20"},
                {"id": "Battery:SmartBatteryControl:Enable", "value": "0"},
            ],
        },
        {"moduleid": "scb:network", "settings": [{"id": "Network:Hostname", "value": "roof"}]},
    ]
    assert await owner.ok("PUT", "/settings", body) == body
    assert sim.setting(LOCAL, "Battery:MinSoc") == "20"
    assert sim.setting(LOCAL, "Battery:SmartBatteryControl:Enable") == "0"
    assert (await owner.ok("GET", "/info/version"))["hostname"] == "roof"


@pytest.mark.parametrize(
    ("setting_id", "value", "status"),
    [
        ("Battery:MinSoc", "3", 400),
        ("Battery:MinSoc", "101", 400),
        ("Battery:MinSoc", "ten", 400),
        ("Battery:MinSoc", 20, 400),
        ("Battery:MinHomeComsumption", "40000", 400),
        ("Battery:Strategy", "3", 400),
        ("Battery:TimeControl:Enable", "true", 400),
        ("Generator:ShadowMgmt:Enable", "8", 400),
        ("Battery:ManualCharge", "1", 403),
        ("Properties:SerialNo", "123", 403),
        ("Battery:NoSuchThing", "1", 404),
    ],
)
async def test_refused_writes_change_nothing(
    owner: Api, sim: PlenticoreSimulator, setting_id: str, value: object, status: int
) -> None:
    body = [
        {
            "moduleid": LOCAL,
            "settings": [
                {"id": "Battery:Strategy", "value": "2"},  # valid, but all or nothing
                {"id": setting_id, "value": value},
            ],
        }
    ]
    code, answer = await owner.call("PUT", "/settings", body)
    assert code == status
    assert answer["message"]
    assert sim.setting(LOCAL, "Battery:Strategy") == "1"
    if status == 400:
        assert setting_id in answer["message"]


async def test_installer_writes_installer_settings(
    installer: Api, sim: PlenticoreSimulator
) -> None:
    body = [{"moduleid": LOCAL, "settings": [{"id": "Battery:ManualCharge", "value": "1"}]}]
    await installer.ok("PUT", "/settings", body)
    assert sim.setting(LOCAL, "Battery:ManualCharge") == "1"
    body = [{"moduleid": LOCAL, "settings": [{"id": "Properties:SerialNo", "value": "x"}]}]
    assert (await installer.call("PUT", "/settings", body))[0] == 403


async def test_direct_setting_control(sim: PlenticoreSimulator) -> None:
    sim.set_setting(LOCAL, "Properties:SerialNo", "anything")  # no access checks
    assert sim.setting(LOCAL, "Properties:SerialNo") == "anything"
    with pytest.raises(KeyError):
        sim.set_setting(LOCAL, "Nope", "1")


# ---- events -----------------------------------------------------------------------------------


async def test_events(owner: Api, sim: PlenticoreSimulator, clock: SimClock) -> None:
    assert await owner.ok("GET", "/events/latest") == []
    sim.raise_event(5014, "Grid frequency out of range", group="Grid")
    clock.advance(120)
    sim.clear_event(5014)
    sim.raise_event(
        6005, "Battery communication error", category="warning", long_description="BMS silent"
    )
    sim.raise_event(6005, "again")  # already active: unchanged
    sim.raise_event(9999, "Something unknown", category="info")

    latest, battery, grid = await owner.ok(
        "POST", "/events/latest", {"language": "en-gb", "max": 10}
    )
    assert latest["code"] == 9999
    assert battery == {
        "code": 6005,
        "category": "warning",
        "group": "Inverter",
        "description": "Battery communication error",
        "long_description": "BMS silent",
        "start_time": "2026-06-21T10:02:00.000Z",
        "end_time": None,
        "is_active": True,
    }
    assert (grid["is_active"], grid["group"]) == (False, "Grid")
    assert (grid["start_time"], grid["end_time"]) == (
        "2026-06-21T10:00:00.000Z",
        "2026-06-21T10:02:00.000Z",
    )

    german = await owner.ok("POST", "/events/latest", {"language": "de-DE", "max": 3})
    assert [e["description"] for e in german] == [
        "Something unknown",
        "Kommunikationsfehler Batterie",
        "Netzfrequenz außerhalb des zulässigen Bereichs",
    ]
    assert len(await owner.ok("POST", "/events/latest", {"max": 1})) == 1
    assert (await owner.call("POST", "/events/latest", {"max": "ten"}))[0] == 400
    assert len(await owner.ok("GET", "/events/latest")) == 3


# ---- faults -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["401", "500", "503"])
async def test_error_faults(owner: Api, sim: PlenticoreSimulator, kind: str) -> None:
    sim.fail_next(kind, count=2, path="/processdata")
    await owner.ok("GET", "/modules")  # another path is not affected
    for _ in range(2):
        status, answer = await owner.call("GET", "/processdata")
        assert status == int(kind)
        assert answer["message"]
    await owner.ok("GET", "/processdata")
    assert sim.requests["GET /api/v1/processdata"] == 3
    assert sim.active_sessions == 1  # a 401 fault does not end the session


async def test_malformed_fault(owner: Api, sim: PlenticoreSimulator) -> None:
    sim.fail_next("malformed")
    status, answer = await owner.call("GET", "/modules")
    assert status == 200
    assert isinstance(answer, str)
    with pytest.raises(ValueError, match=r"Expecting|Unterminated"):
        json.loads(answer)
    sim.fail_next("malformed", path="/auth/logout")  # a body of "null" still ends up invalid
    status, answer = await owner.call("POST", "/auth/logout")
    assert isinstance(answer, str)


# ---- clock, config, runner --------------------------------------------------------------------


def test_fixed_clock() -> None:
    clock = SimClock.fixed(NOON)
    assert clock.now() == NOON
    assert not clock.follows_wall
    clock.advance(30)
    clock.advance(timedelta(minutes=1))
    assert clock.now() == NOON + timedelta(seconds=90)
    clock.set(NIGHT.astimezone(BERLIN))
    assert clock.now() == NIGHT
    assert clock.now().tzinfo is UTC
    with pytest.raises(ValueError, match="aware"):
        clock.set(datetime(2026, 1, 1))


def test_real_clock() -> None:
    clock = SimClock.real()
    assert clock.follows_wall
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=1)
    clock.advance(timedelta(hours=1))
    assert abs(clock.now() - datetime.now(UTC) - timedelta(hours=1)) < timedelta(seconds=1)
    clock.set(NOON)
    assert NOON <= clock.now() < NOON + timedelta(seconds=1)
    fast = SimClock.real(speed=3600)
    start = fast.now()
    later = fast.now()
    assert later >= start
    with pytest.raises(ValueError, match="speed"):
        SimClock.real(speed=0)


def test_config_is_checked() -> None:
    with pytest.raises(ValueError, match="string_count"):
        PlenticoreConfig(string_count=0)
    with pytest.raises(ValueError, match="positive"):
        PlenticoreConfig(lock_after=0)


async def test_runner_serves_plenticore(http: aiohttp.ClientSession) -> None:
    args = build_parser().parse_args(
        [
            "plenticore",
            "--password",
            "secret",
            "--strings",
            "2",
            "--no-battery",
            "--legacy-hostname",
        ]
    )
    assert isinstance(args, argparse.Namespace)
    running, banner = await VENDORS["plenticore"].start(args)
    try:
        assert isinstance(running, PlenticoreSimulator)
        assert running.url in banner[0]
        assert "'secret'" in banner[1]
        assert running.config.string_count == 2
        async with http.get(f"{running.url}/api/v1/info/version") as resp:
            assert (await resp.json())["name"] == "PUCK RESTful API"
    finally:
        await running.stop()


async def test_runner_process_serves_until_sigterm(http: aiohttp.ClientSession) -> None:
    async with simulator_process("plenticore", "--service-code", "54321") as banner:
        match = re.search(r"http://127\.0\.0\.1:\d+", banner[0])
        assert match is not None
        assert "'54321'" in banner[2]
        async with http.get(f"{match.group()}/api/v1/info/version") as resp:
            assert resp.status == 200


def test_runner_needs_a_vendor() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args([])
