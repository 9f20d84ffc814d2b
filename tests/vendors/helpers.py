"""Helpers for driving the integration against a simulator: time, and finding entities."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Protocol

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.solarhub.const import DOMAIN
from tests.simulators import SimClock

# Event-loop turns a request to a simulator on 127.0.0.1 may take to arrive (it takes a few).
ARRIVAL_TURNS = 10_000


class Simulated(Protocol):
    """A simulator with a clock."""

    @property
    def clock(self) -> SimClock:
        """The simulator's clock."""


class Counted(Simulated, Protocol):
    """A simulator with a clock that counts the requests it received ("METHOD /path")."""

    @property
    def requests(self) -> Counter[str]:
        """How many requests of each kind arrived."""


def _advance(simulator: Simulated, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    """Move the simulator's clock and Home Assistant's (which the event loop reads) together."""
    simulator.clock.advance(seconds)
    freezer.tick(timedelta(seconds=seconds))


async def tick(
    hass: HomeAssistant,
    simulator: Simulated,
    seconds: float,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Move both clocks on by ``seconds``, run what came due and wait for the polls to finish.

    Time moves as in Home Assistant's own tests: the frozen clock steps on (the event loop's
    clock with it) and ``async_fire_time_changed`` runs the timers now due. A coordinator's next
    poll is due its interval plus a random sub-second offset after the whole second of its last
    one, which the half second ``async_fire_time_changed`` adds always covers: a 10 s tick runs
    the 10 s cadence once, a 60 s tick every cadence of up to a minute once.
    """
    _advance(simulator, freezer, seconds)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)  # polls run as background tasks


async def tick_with_a_hanging_request(
    hass: HomeAssistant,
    simulator: Counted,
    seconds: float,
    freezer: FrozenDateTimeFactory,
    *,
    request: str,
    gives_up_after: float,
) -> None:
    """A tick whose ``request`` the simulator holds (its "timeout" fault) until the client gives up.

    The event loop's clock is frozen, so a client's timeout expires only when the clock moves:
    once the request has arrived, both clocks move on by ``gives_up_after`` (the client's
    timeout), the timeout fires, and the poll ends as it would after waiting that long.
    """
    arrived = simulator.requests[request]
    _advance(simulator, freezer, seconds)
    async_fire_time_changed(hass)
    for _ in range(ARRIVAL_TURNS):
        if simulator.requests[request] > arrived:
            break
        await asyncio.sleep(0)  # one turn of the loop: the sockets make progress
    else:
        raise AssertionError(f"no {request} reached the simulator")
    _advance(simulator, freezer, gives_up_after)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def entity_id(hass: HomeAssistant, platform: str, unique_suffix: str) -> str:
    """The entity id of the one SolarHub entity whose unique id ends in ``unique_suffix``."""
    registry = er.async_get(hass)
    for entry in registry.entities.values():
        if (
            entry.platform == DOMAIN
            and entry.domain == platform
            and entry.unique_id.endswith(unique_suffix)
        ):
            return entry.entity_id
    raise AssertionError(f"no {platform} entity ending in {unique_suffix}")


def state_of(hass: HomeAssistant, platform: str, unique_suffix: str) -> str:
    """The state of that entity."""
    state = hass.states.get(entity_id(hass, platform, unique_suffix))
    assert state is not None
    return state.state
