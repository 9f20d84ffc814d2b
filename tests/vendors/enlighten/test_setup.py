"""Enlighten v2 end to end against the simulator: setup, entities, restarts, budget."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.simulators.enlighten import EnlightenSimulator
from tests.vendors.conftest import setup_entry
from tests.vendors.helpers import state_of

from .conftest import advance


async def test_setup_shows_the_systems_summary(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    enlighten_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, enlighten_entry)
    assert enlighten_entry.state is ConfigEntryState.LOADED
    await advance(hass, enlighten, freezer, 60)
    power = float(state_of(hass, "sensor", "enlighten_system_1001_power"))
    assert power > 0
    assert state_of(hass, "sensor", "enlighten_system_1001_status") == "normal"
    assert state_of(hass, "binary_sensor", "enlighten_envoy_121900010001_connectivity") == "on"
    print(enlighten.usage().month(enlighten.clock.now().timestamp()))
