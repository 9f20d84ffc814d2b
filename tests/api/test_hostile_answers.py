"""Hostile answers (issue 9, item 1): refused as MalformedResponseError, never crashed on.

Deep nesting, lone surrogates, integers too large for a float and digit strings too long for
an int, through the shared readers, every client's parsers and the client calls over loopback.
"""

from __future__ import annotations

import aiohttp
from aiohttp import web
import pytest

from custom_components.solarhub.api.errors import (
    MalformedResponseError,
    SolarHubApiError,
    UnsupportedDeviceError,
)
from custom_components.solarhub.api.plenticore import client as p
from custom_components.solarhub.api.plenticore.client import PlenticoreClient
from custom_components.solarhub.api.shapes import error_message, parse_json, shown
from custom_components.solarhub.api.tigo import client as tigo
from tests.api.canned import json_reply, serve_app

pytestmark = pytest.mark.usefixtures("socket_enabled")

DEEP = b"[" * 100_000
SURROGATE = b'"\\ud800"'
HUGE_INT = "9" * 400  # fits the JSON decoder and int(), not float()
TOO_MANY_DIGITS = "7" * 5000  # over Python's 4,300-digit limit of int()


def test_deep_nesting_is_not_json() -> None:
    with pytest.raises(MalformedResponseError, match="not JSON"):
        parse_json(DEEP)


def test_too_many_digits_are_not_json() -> None:
    with pytest.raises(MalformedResponseError, match="not JSON"):
        parse_json(f'{{"value": {TOO_MANY_DIGITS}}}'.encode())


@pytest.mark.parametrize(
    "body",
    [DEEP, b'{"message": ' + SURROGATE + b"}", b'{"message": "' + b"\\ud800" * 5000 + b'"}'],
)
def test_error_message_of_hostile_bodies(body: bytes) -> None:
    text = error_message(body)
    assert len(text) < 210
    text.encode("utf-8")  # loggable


def test_shown_values_are_short_and_never_raise() -> None:
    deep: list[object] = []
    node = deep
    for _ in range(5000):
        node.append([])
        node = node[0]  # type: ignore[assignment]
    assert len(shown(deep)) < 100
    assert len(shown(10**5000)) < 100
    assert len(shown("x" * 10**6)) < 100


def test_plenticore_token_with_a_lone_surrogate() -> None:
    raw = parse_json(b'{"token": ' + SURROGATE + b', "signature": "AAAA"}')
    with pytest.raises(MalformedResponseError, match="token"):
        p.parse_auth_finish(raw)


@pytest.mark.parametrize("value", [HUGE_INT, f"-{HUGE_INT}"])
def test_plenticore_process_value_too_large(value: str) -> None:
    raw = parse_json(
        f'[{{"moduleid": "devices:local", "processdata": [{{"id": "P", "unit": "W",'
        f' "value": {value}}}]}}]'.encode()
    )
    with pytest.raises(MalformedResponseError, match="too large"):
        p.parse_process_data(raw)


def test_plenticore_unit_with_a_lone_surrogate() -> None:
    raw = parse_json(
        b'[{"moduleid": "m", "processdata": [{"id": "P", "unit": ' + SURROGATE + b', "value": 1}]}]'
    )
    with pytest.raises(MalformedResponseError, match="unit"):
        p.parse_process_data(raw)


def test_tigo_summary_too_large() -> None:
    raw = {
        "summary": {
            "lifetime_energy_dc": int(HUGE_INT),
            "ytd_energy_dc": 1,
            "daily_energy_dc": 1,
            "last_power_dc": 1,
        }
    }
    with pytest.raises(MalformedResponseError, match="lifetime_energy_dc"):
        tigo.parse_summary(raw)


def test_tigo_id_of_too_many_digits() -> None:
    raw = {"system": {"system_id": TOO_MANY_DIGITS, "name": "x"}}
    with pytest.raises(MalformedResponseError, match="system_id"):
        tigo.parse_system(raw)


def test_tigo_name_too_many_digits_as_text() -> None:
    """Numbers are tolerated as text; one that ``str`` cannot write is refused."""
    raw = {"system": {"system_id": 1, "name": 10**5000}}
    with pytest.raises(MalformedResponseError, match="name"):
        tigo.parse_system(raw)


async def _raw(body: bytes, status: int = 200) -> web.Response:
    return web.Response(body=body, status=status, content_type="application/json")


async def test_plenticore_version_of_deep_nesting(http: aiohttp.ClientSession) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await _raw(DEEP)

    async with serve_app(handler) as host:
        with pytest.raises(UnsupportedDeviceError, match="not JSON"):
            await PlenticoreClient(http, host).get_version()


async def test_plenticore_error_message_with_a_lone_surrogate(
    http: aiohttp.ClientSession,
) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await _raw(b'{"message": ' + SURROGATE + b"}", status=404)

    async with serve_app(handler) as host:
        with pytest.raises(SolarHubApiError) as err:
            await PlenticoreClient(http, host).login("pw")
    str(err.value).encode("utf-8")  # loggable


async def test_plenticore_login_token_with_a_lone_surrogate(
    http: aiohttp.ClientSession,
) -> None:
    """A /auth/finish answer whose token is no text stops the login as a malformed answer."""
    finish = json_reply({"token": "\ud800", "signature": "AAAA"})

    async def handler(request: web.Request) -> web.StreamResponse:
        if request.path == "/api/v1/auth/start":
            nonce = (await request.json())["nonce"]
            return web.json_response(
                {"nonce": nonce + "AAAA", "transactionId": "t", "salt": "AAAA", "rounds": 1}
            )
        return await finish(request)

    async with serve_app(handler) as host:
        with pytest.raises(MalformedResponseError, match="token"):
            await PlenticoreClient(http, host).login("pw")
