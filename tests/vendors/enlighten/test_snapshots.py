"""Snapshots of every entity of an Enlighten v2 system (all enabled) and of its diagnostics."""

from __future__ import annotations

import json
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.solarhub.diagnostics import async_get_config_entry_diagnostics
from tests.simulators.enlighten import EnlightenSimulator
from tests.vendors.conftest import setup_entry

from .conftest import advance


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("platform", [Platform.BINARY_SENSOR, Platform.EVENT, Platform.SENSOR])
async def test_entities(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    enlighten_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    freezer: FrozenDateTimeFactory,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    with patch("custom_components.solarhub.PLATFORMS", [platform]):
        await setup_entry(hass, enlighten_entry)
        await advance(hass, enlighten, freezer, 60)
    await snapshot_platform(hass, entity_registry, snapshot, enlighten_entry.entry_id)


async def test_diagnostics_redact_keys_ids_serials_and_places(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    enlighten_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    snapshot: SnapshotAssertion,
) -> None:
    await setup_entry(hass, enlighten_entry)
    await advance(hass, enlighten, freezer, 60)
    diagnostics = await async_get_config_entry_diagnostics(hass, enlighten_entry)
    text = json.dumps(diagnostics, default=str)
    config = enlighten.config
    for secret in (config.api_key, config.user_id, "121900010001", '"Berlin"', "10117", "SH-0001"):
        assert secret not in text  # the city, not the zone "Europe/Berlin"
    assert diagnostics["vendor"]["budget"]["monthly_limit"] == 10_000
    diagnostics["entry"]["data"].pop("base_url")  # the simulator's port varies
    assert diagnostics == snapshot
