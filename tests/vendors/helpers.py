"""Helpers for driving the integration against a simulator: time, and finding entities."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from pytest_homeassistant_custom_component.common import get_scheduled_timer_handles

from custom_components.solarhub.const import DOMAIN
from tests.simulators import SimClock


class Simulated(Protocol):
    """A simulator with a clock."""

    @property
    def clock(self) -> SimClock:
        """The simulator's clock."""


async def tick(
    hass: HomeAssistant,
    simulator: Simulated,
    seconds: float,
    freezer: FrozenDateTimeFactory | None = None,
) -> None:
    """Move the simulator's clock and run the coordinator polls due within ``seconds``.

    Only coordinator timers run, never aiohttp's own. Without ``freezer`` Home Assistant's
    clock stays put and a tick runs what is due within its horizon (a 10 s tick runs the 10 s
    cadence, a 60 s tick every cadence once). With ``freezer`` Home Assistant's clock moves
    along, for vendors that compare the vendor's timestamps with the current time. The extra
    second covers the coordinators' random sub-second offset.
    """
    simulator.clock.advance(seconds)
    if freezer is not None:
        freezer.tick(timedelta(seconds=seconds))
    horizon = hass.loop.time() + (0 if freezer else seconds) + 1
    for handle in get_scheduled_timer_handles(hass.loop):
        owner = getattr(handle._callback, "__self__", None)
        if isinstance(owner, DataUpdateCoordinator) and handle.when() <= horizon:
            handle._run()
            handle.cancel()
    await hass.async_block_till_done(wait_background_tasks=True)  # polls run as background tasks


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
