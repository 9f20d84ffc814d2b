"""The plumbing every vendor simulator shares (tests/simulators/server.py), run on each vendor."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from tests.simulators import SimClock
from tests.simulators.plenticore import PlenticoreConfig, PlenticoreSimulator
from tests.simulators.server import LoopbackSimulator
from tests.simulators.tigo import TigoSimulator

pytestmark = pytest.mark.usefixtures("socket_enabled")

type Factory = Callable[[SimClock], LoopbackSimulator[Any]]

SIMULATORS: dict[str, Factory] = {
    "plenticore": lambda clock: PlenticoreSimulator(PlenticoreConfig(rounds=100), clock),
    "tigo": lambda clock: TigoSimulator(clock=clock),
}


@pytest.fixture(params=sorted(SIMULATORS))
async def sim(
    request: pytest.FixtureRequest, clock: SimClock
) -> AsyncIterator[LoopbackSimulator[Any]]:
    async with SIMULATORS[request.param](clock) as simulator:
        yield simulator


async def status(http: aiohttp.ClientSession, url: str, within: float = 5.0) -> int:
    """The status of a GET that must be answered ``within`` seconds."""
    async with http.get(url, timeout=aiohttp.ClientTimeout(total=within)) as resp:
        return resp.status


async def test_timeout_fault(http: aiohttp.ClientSession, sim: LoopbackSimulator[Any]) -> None:
    sim.config.hang_seconds = 5.0
    sim.fail_next("timeout", path="/held")
    assert await status(http, f"{sim.url}/other", within=1.0) == 404  # another path: not held
    with pytest.raises(TimeoutError):
        await status(http, f"{sim.url}/held", within=0.05)
    assert await status(http, f"{sim.url}/held", within=1.0) == 404  # the fault was used up
    # Held past the hang the request is answered normally.
    sim.fail_next("timeout", path="/held")
    sim.config.hang_seconds = 0.01
    assert await status(http, f"{sim.url}/held") == 404


async def test_stop_releases_hanging_requests(
    http: aiohttp.ClientSession, sim: LoopbackSimulator[Any]
) -> None:
    sim.fail_next("timeout")
    call = asyncio.create_task(status(http, sim.url))
    await asyncio.sleep(0.02)
    await sim.stop()
    # Released at once (the connection may or may not still carry the answer).
    await asyncio.wait_for(asyncio.gather(call, return_exceptions=True), 2)
    assert sim.requests == {"GET /": 1}


def test_bad_fault_requests(sim: LoopbackSimulator[Any]) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        sim.fail_next("404")
    with pytest.raises(ValueError, match="positive"):
        sim.fail_next("500", count=0)
