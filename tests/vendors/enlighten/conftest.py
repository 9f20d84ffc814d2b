"""Fixtures for the Enlighten vendor: the simulator (v2 and v4), entries, and a clock driver."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.solarhub.const import (
    CONF_API_VERSION,
    CONF_BASE_URL,
    CONF_SYSTEMS,
    CONF_VENDOR,
    DOMAIN,
    Vendor,
)
from custom_components.solarhub.vendors.enlighten.options import CONF_PLAN
from custom_components.solarhub.vendors.enlighten.runtime import CONF_USER_ID
from tests.simulators import SimClock
from tests.simulators.enlighten import EnlightenConfig, EnlightenSimulator
from tests.vendors.conftest import NOON


@pytest.fixture
def enlighten_config() -> EnlightenConfig:
    """The simulated Enlighten account; tests change fields before the simulator starts."""
    return EnlightenConfig()


@pytest.fixture
async def enlighten(
    enlighten_config: EnlightenConfig, freezer: FrozenDateTimeFactory
) -> AsyncGenerator[EnlightenSimulator]:
    """A running Enlighten simulator; it and Home Assistant at noon in Berlin."""
    freezer.move_to(NOON)
    simulator = EnlightenSimulator(enlighten_config, SimClock.fixed(NOON))
    await simulator.start()
    yield simulator
    await simulator.stop()


def v2_entry(simulator: EnlightenSimulator, systems: list[int], **data: object) -> MockConfigEntry:
    """A v2 entry for the simulated account with ``systems``."""
    config = simulator.config
    return MockConfigEntry(
        domain=DOMAIN,
        entry_id="01JENLIGHTENV2ENTRY0000000",  # fixed: the account device's id holds it
        title="Enlighten",
        unique_id=f"enlighten_{config.user_id}",
        data={
            CONF_VENDOR: Vendor.ENLIGHTEN,
            CONF_API_VERSION: "v2",
            CONF_API_KEY: config.api_key,
            CONF_USER_ID: config.user_id,
            CONF_BASE_URL: simulator.base_url,
            CONF_PLAN: "watt",
            CONF_SYSTEMS: systems,
            **data,
        },
    )


@pytest.fixture
def enlighten_entry(enlighten: EnlightenSimulator) -> MockConfigEntry:
    """A v2 entry with the first system (1001 "Sonnenhof", microinverters only)."""
    return v2_entry(enlighten, [1001])


async def advance(
    hass: HomeAssistant,
    simulator: EnlightenSimulator,
    freezer: FrozenDateTimeFactory,
    seconds: float,
    *,
    step: float = 60,
) -> None:
    """Move both clocks by ``seconds`` in steps, running the scheduler's wake-ups on the way."""
    left = seconds
    while left > 0:
        move = min(step, left)
        left -= move
        simulator.clock.advance(move)
        freezer.tick(timedelta(seconds=move))
        async_fire_time_changed(hass, dt_util.utcnow())
        await hass.async_block_till_done(wait_background_tasks=True)
