"""The PLENTICORE client never follows a redirect (issue 9, item 3).

A proxy in front of the simulator answers chosen calls with a redirect to another host, which
counts what reaches it and would answer with its own numbers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
from datetime import UTC, datetime

import aiohttp
from aiohttp import web
import pytest

from custom_components.solarhub.api.errors import RedirectRefusedError
from custom_components.solarhub.api.plenticore.client import PlenticoreClient
from tests.api.canned import serve_app
from tests.simulators import SimClock
from tests.simulators.plenticore import PlenticoreConfig, PlenticoreSimulator

pytestmark = pytest.mark.usefixtures("socket_enabled")

NOON = datetime(2026, 6, 21, 10, 0, tzinfo=UTC)
PASSWORD = "Pass1234"
FOREIGN = [
    {"moduleid": "devices:local", "processdata": [{"id": "Dc_P", "unit": "W", "value": 1e6}]}
]


class Elsewhere:
    """Another host: it records every request and answers with numbers of its own."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, bytes]] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.method, request.path, await request.read()))
        return web.json_response(FOREIGN)


@contextlib.asynccontextmanager
async def redirecting(
    http: aiohttp.ClientSession, target: str, redirected: str, status: int
) -> AsyncIterator[tuple[str, Elsewhere]]:
    """``host:port`` of a proxy to ``target`` that redirects ``"<METHOD> <path>"`` elsewhere."""
    elsewhere = Elsewhere()
    async with serve_app(elsewhere.handle) as other:

        async def proxy(request: web.Request) -> web.StreamResponse:
            if f"{request.method} {request.path}" == redirected:
                return web.Response(
                    status=status, headers={"Location": f"http://{other}{request.path_qs}"}
                )
            async with http.request(
                request.method,
                f"http://{target}{request.path_qs}",
                data=await request.read(),
                headers={
                    key: value
                    for key, value in request.headers.items()
                    if key in ("Authorization", "Content-Type", "Accept")
                },
                allow_redirects=False,
            ) as upstream:
                return web.Response(
                    status=upstream.status,
                    body=await upstream.read(),
                    content_type=upstream.content_type,
                )

        async with serve_app(proxy) as host:
            yield host, elsewhere


@pytest.fixture
async def sim() -> AsyncIterator[PlenticoreSimulator]:
    simulator = PlenticoreSimulator(
        PlenticoreConfig(password=PASSWORD, rounds=1000), SimClock.fixed(NOON)
    )
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.mark.parametrize("status", [307, 308])
async def test_a_redirected_write_is_an_error_and_reaches_no_other_host(
    http: aiohttp.ClientSession, sim: PlenticoreSimulator, status: int
) -> None:
    async with redirecting(http, sim.host, "PUT /api/v1/settings", status) as (host, elsewhere):
        client = PlenticoreClient(http, host)
        await client.login(PASSWORD)
        with pytest.raises(
            RedirectRefusedError, match=f"PUT /settings answered HTTP {status} .*not followed"
        ):
            await client.set_setting_values("devices:local", {"Battery:MinSoc": "15"})
    assert elsewhere.requests == []


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirected_read_never_brings_another_hosts_numbers(
    http: aiohttp.ClientSession, sim: PlenticoreSimulator, status: int
) -> None:
    async with redirecting(http, sim.host, "POST /api/v1/processdata", status) as (
        host,
        elsewhere,
    ):
        client = PlenticoreClient(http, host)
        await client.login(PASSWORD)
        with pytest.raises(RedirectRefusedError, match=f"POST /processdata answered HTTP {status}"):
            await client.get_process_data({"devices:local": ["Dc_P"]})
    assert elsewhere.requests == []
