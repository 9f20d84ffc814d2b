"""Snapshots of every PLENTICORE entity (all enabled) and of the diagnostics."""

from __future__ import annotations

import json
from unittest.mock import patch

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from tests.simulators.plenticore import PlenticoreConfig, PlenticoreSimulator
from tests.vendors.conftest import setup_entry


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize(
    "platform",
    [
        Platform.BINARY_SENSOR,
        Platform.BUTTON,
        Platform.EVENT,
        Platform.NUMBER,
        Platform.SELECT,
        Platform.SENSOR,
        Platform.SWITCH,
    ],
)
async def test_entities(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_installer_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    with patch("custom_components.solarhub.PLATFORMS", [platform]):
        await setup_entry(hass, plenticore_installer_entry)
        # As after a user enables entities: Home Assistant reloads the entry, whose first poll
        # then fetches what the registry has enabled.
        await hass.config_entries.async_reload(plenticore_installer_entry.entry_id)
        await hass.async_block_till_done()
    await snapshot_platform(hass, entity_registry, snapshot, plenticore_installer_entry.entry_id)


@pytest.mark.parametrize(
    "plenticore_config", [PlenticoreConfig(rounds=1000, hostname="roof-inverter-7")]
)
async def test_diagnostics_are_redacted(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    plenticore: PlenticoreSimulator,
    plenticore_config: PlenticoreConfig,
    plenticore_installer_entry: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    await setup_entry(hass, plenticore_installer_entry)
    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, plenticore_installer_entry
    )
    text = json.dumps(diagnostics)
    for secret in (
        plenticore_config.password,
        plenticore_config.master_key,
        plenticore_config.service_code,
        plenticore_config.serial,
        plenticore_config.hostname,
        plenticore.host,
    ):
        assert secret not in text
    assert diagnostics["vendor"]["process_data"]["devices:local"]["Inverter:State"] == 6
    assert diagnostics == snapshot
