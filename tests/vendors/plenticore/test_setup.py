"""Setting up a PLENTICORE entry against the simulator: device, entities, requests, unload."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
import itertools
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, EVENT_STATE_CHANGED, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)

from custom_components.solarhub.const import DOMAIN
from tests.simulators.plenticore import PlenticoreConfig, PlenticoreSimulator
from tests.vendors.conftest import setup_entry
from tests.vendors.helpers import entity_id, state_of, tick

PROCESS = "POST /api/v1/processdata"
SETTINGS_READ = "POST /api/v1/settings"
EVENTS = "POST /api/v1/events/latest"


async def test_device_and_entities(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_config: PlenticoreConfig,
    plenticore_entry: MockConfigEntry,
) -> None:
    await setup_entry(hass, plenticore_entry)
    assert plenticore_entry.state is ConfigEntryState.LOADED

    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, plenticore_config.serial), plenticore_entry.entry_id
    )
    assert device is not None
    assert device.manufacturer == "KOSTAL"
    assert device.serial_number == plenticore_config.serial
    assert device.sw_version == plenticore_config.sw_version
    assert plenticore_config.product_name1 in str(device.model)
    # Named by its model, not its host name: entities read "PLENTICORE plus 10 Home power".
    assert device.name == f"{plenticore_config.product_name1} {plenticore_config.product_name2}"
    assert hass.states.get("sensor.plenticore_plus_10_home_power") is not None

    assert state_of(hass, "sensor", "devices:local_Inverter:State") == "feed_in"
    pv_power = float(state_of(hass, "sensor", "solarhub:derived_pv_power"))
    strings = sum(plenticore.process_value(f"devices:local:pv{n}", "P") for n in (1, 2, 3))
    assert pv_power == pytest.approx(strings, abs=3)
    assert pv_power > 0  # noon
    soc = float(state_of(hass, "sensor", "devices:local:battery_SoC"))
    assert soc == round(plenticore.process_value("devices:local:battery", "SoC"))

    total = hass.states.get(entity_id(hass, "sensor", "Statistic:Yield:Total"))
    assert total is not None
    assert total.attributes["state_class"] == "total_increasing"
    assert total.attributes["unit_of_measurement"] == "kWh"
    day = hass.states.get(entity_id(hass, "sensor", "Statistic:Yield:Day"))
    assert day is not None
    assert "state_class" not in day.attributes  # period counters stay out of the Energy dashboard

    feed_in = float(state_of(hass, "sensor", "grid_feed_in_total"))
    flow = "scb:statistic:EnergyFlow"
    expected = (
        plenticore.process_value(flow, "Statistic:Yield:Total")
        - plenticore.process_value(flow, "Statistic:EnergyHomePv:Total")
        - plenticore.process_value(flow, "Statistic:EnergyHomeBat:Total")
    ) / 1000
    assert feed_in == pytest.approx(expected, abs=0.05)  # kept to 0.1 kWh, the precision shown

    # The owner may write these; manual charge and reboot are the installer's.
    assert state_of(hass, "number", "battery_min_soc") == str(
        float(plenticore.setting("devices:local", "Battery:MinSoc"))
    )
    assert state_of(hass, "select", "battery_strategy") in ("automatic", "automatic_economical")
    registry = er.async_get(hass)
    unique_ids = {e.unique_id for e in registry.entities.values()}
    assert f"{plenticore_config.serial}_battery_manual_charge" not in unique_ids
    assert f"{plenticore_config.serial}_reboot" not in unique_ids
    assert not any("factory" in uid for uid in unique_ids)


async def test_one_request_per_cycle_and_one_login(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, plenticore_entry)
    assert plenticore.logins == 1
    before = plenticore.requests.copy()
    await tick(hass, plenticore, 10, freezer)
    assert plenticore.requests - before == Counter({PROCESS: 1})  # every enabled entity at once
    before = plenticore.requests.copy()
    await tick(hass, plenticore, 60, freezer)
    assert plenticore.requests - before == Counter({PROCESS: 1, SETTINGS_READ: 1, EVENTS: 1})
    assert plenticore.logins == 1


async def test_disabled_entities_are_not_polled(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, plenticore_entry)
    runtime = plenticore_entry.runtime_data
    wanted = runtime.process_data.wanted()  # type: ignore[attr-defined]
    assert ("devices:local:ac", "L1_U") not in wanted  # disabled by default
    assert ("devices:local", "Dc_P") in wanted
    assert ("scb:statistic:EnergyFlow", "Statistic:Yield:Month") not in wanted


async def test_installer_gets_installer_controls(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_config: PlenticoreConfig,
    plenticore_installer_entry: MockConfigEntry,
) -> None:
    await setup_entry(hass, plenticore_installer_entry)
    registry = er.async_get(hass)
    reboot = registry.async_get(entity_id(hass, "button", "reboot"))
    assert reboot is not None
    assert reboot.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert state_of(hass, "switch", "battery_manual_charge") in ("on", "off")


@pytest.mark.parametrize("plenticore_config", [PlenticoreConfig(rounds=1000, has_battery=False)])
async def test_inverter_without_battery(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, plenticore_entry)
    assert plenticore_entry.state is ConfigEntryState.LOADED
    unique_ids = {e.unique_id for e in er.async_get(hass).entities.values()}
    assert not any("battery" in uid.lower() for uid in unique_ids)
    assert any(uid.endswith("solarhub:derived_pv_power") for uid in unique_ids)


@pytest.mark.parametrize("plenticore_config", [PlenticoreConfig(rounds=1000, legacy_hostname=True)])
async def test_older_firmware_without_hostname_setting(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_config: PlenticoreConfig,
    plenticore_entry: MockConfigEntry,
) -> None:
    await setup_entry(hass, plenticore_entry)
    assert plenticore_entry.state is ConfigEntryState.LOADED
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, plenticore_config.serial), plenticore_entry.entry_id
    )
    assert device is not None
    # Named by its model, not its host name: entities read "PLENTICORE plus 10 Home power".
    assert device.name == f"{plenticore_config.product_name1} {plenticore_config.product_name2}"
    assert hass.states.get("sensor.plenticore_plus_10_home_power") is not None


async def test_unload_and_stop_log_out(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, plenticore_entry)
    assert plenticore.active_sessions == 1
    assert await hass.config_entries.async_unload(plenticore_entry.entry_id)
    assert plenticore.active_sessions == 0

    await hass.config_entries.async_setup(plenticore_entry.entry_id)
    await hass.async_block_till_done()
    assert plenticore.active_sessions == 1
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert plenticore.active_sessions == 0


async def test_wrong_password_starts_reauth(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_entry: MockConfigEntry
) -> None:
    plenticore.set_password("changed-by-owner")
    await setup_entry(hass, plenticore_entry)
    assert plenticore_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_unreachable_at_setup_is_retried(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_entry: MockConfigEntry
) -> None:
    plenticore.fail_next("503", path="/auth/start")
    await setup_entry(hass, plenticore_entry)
    assert plenticore_entry.state is ConfigEntryState.SETUP_RETRY


async def test_locked_at_setup_is_retried_not_reauthed(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_config: PlenticoreConfig,
    plenticore_entry: MockConfigEntry,
) -> None:
    plenticore.lock("user")
    await setup_entry(hass, plenticore_entry)
    assert plenticore_entry.state is ConfigEntryState.SETUP_RETRY
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)


async def test_unavailable_state_is_not_zero(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, plenticore_entry)
    assert state_of(hass, "sensor", "devices:local_Dc_P") != STATE_UNAVAILABLE


async def test_all_entities_of_a_cadence_disabled_costs_no_request(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, plenticore_entry)
    registry = er.async_get(hass)
    for entry in er.async_entries_for_config_entry(registry, plenticore_entry.entry_id):
        if entry.domain in ("number", "select", "switch"):
            registry.async_update_entity(entry.entity_id, disabled_by=er.RegistryEntryDisabler.USER)
    await hass.config_entries.async_reload(plenticore_entry.entry_id)
    await hass.async_block_till_done()
    before = plenticore.requests.copy()
    await tick(hass, plenticore, 60, freezer)
    assert plenticore.requests - before == Counter({PROCESS: 1, EVENTS: 1})


async def test_zero_grid_power_reads_0_and_writes_no_state_while_it_stays_zero(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Around zero the inverter reports -0.3 W, 0.2 W, -0.1 W ...: that is 0, never -0.0."""
    real = plenticore._plant.process_data
    noise = itertools.cycle([-0.3, 0.2, -0.1, 0.4])

    def near_zero_grid(now: datetime) -> dict[str, dict[str, tuple[str, float]]]:
        data = real(now)
        unit, _ = data["devices:local"]["Grid_P"]
        data["devices:local"]["Grid_P"] = (unit, next(noise))
        return data

    with patch.object(plenticore._plant, "process_data", near_zero_grid):
        await setup_entry(hass, plenticore_entry)
        grid = entity_id(hass, "sensor", "devices:local_Grid_P")
        changes: list[str] = []
        hass.bus.async_listen(
            EVENT_STATE_CHANGED,
            lambda event: (
                changes.append(event.data["new_state"].state)
                if event.data["entity_id"] == grid
                else None
            ),
        )
        for _ in range(6):
            await tick(hass, plenticore, 10, freezer)
    assert state_of(hass, "sensor", "devices:local_Grid_P") == "0"
    assert changes == []


async def test_second_inverter_of_the_same_model_gets_a_serial_suffix(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_config: PlenticoreConfig,
    plenticore_entry: MockConfigEntry,
) -> None:
    other = MockConfigEntry(domain=DOMAIN, unique_id="other-inverter")
    other.add_to_hass(hass)
    dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id,
        identifiers={(DOMAIN, "90342XYZ99999")},
        name="PLENTICORE plus 10",
    )
    await setup_entry(hass, plenticore_entry)
    (device,) = dr.async_entries_for_config_entry(dr.async_get(hass), plenticore_entry.entry_id)
    assert device.name == f"PLENTICORE plus 10 {plenticore_config.serial[-4:]}"


async def test_devices_the_inverter_no_longer_has_are_removed(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_config: PlenticoreConfig,
    plenticore_entry: MockConfigEntry,
) -> None:
    """The same registration as Tigo's: listed devices kept, stale ones (a replaced unit) go."""
    plenticore_entry.add_to_hass(hass)
    registry = dr.async_get(hass)
    registry.async_get_or_create(
        config_entry_id=plenticore_entry.entry_id, identifiers={(DOMAIN, "90342OLD00001")}
    )
    await setup_entry(hass, plenticore_entry)
    devices = dr.async_entries_for_config_entry(registry, plenticore_entry.entry_id)
    assert [d.identifiers for d in devices] == [{(DOMAIN, plenticore_config.serial)}]
