"""Snapshots of every entity of a small Tigo system (all enabled) and of its diagnostics."""

from __future__ import annotations

from unittest.mock import patch

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.solarhub.const import CONF_SYSTEMS
from custom_components.solarhub.diagnostics import async_get_config_entry_diagnostics
from tests.simulators.tigo import TigoSimulator
from tests.vendors.conftest import setup_entry


@pytest.fixture
def garage_entry(
    hass: HomeAssistant, tigo: TigoSimulator, tigo_entry: MockConfigEntry
) -> MockConfigEntry:
    """The account with only its 8-panel system, every panel metric chosen."""
    tigo_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        tigo_entry,
        data={**tigo_entry.data, CONF_SYSTEMS: [tigo.systems[1].system_id]},
        options={"panel_metrics": ["power", "voltage", "current", "rssi"]},
    )
    return tigo_entry


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("platform", [Platform.BINARY_SENSOR, Platform.EVENT, Platform.SENSOR])
async def test_entities(
    hass: HomeAssistant,
    garage_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    with patch("custom_components.solarhub.PLATFORMS", [platform]):
        await setup_entry(hass, garage_entry)
    await snapshot_platform(hass, entity_registry, snapshot, garage_entry.entry_id)


async def test_diagnostics(
    hass: HomeAssistant, garage_entry: MockConfigEntry, snapshot: SnapshotAssertion
) -> None:
    await setup_entry(hass, garage_entry)
    diagnostics = await async_get_config_entry_diagnostics(hass, garage_entry)
    assert diagnostics == snapshot(exclude=props("base_url"))  # the simulator's port varies
