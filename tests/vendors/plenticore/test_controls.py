"""Writable battery and generator settings, the installer's reboot, and inverter events."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID, STATE_ON, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.solarhub.const import DOMAIN
from tests.simulators.plenticore import PlenticoreSimulator
from tests.vendors.conftest import setup_entry
from tests.vendors.helpers import entity_id, state_of, tick

LOCAL = "devices:local"
WRITE = "PUT /api/v1/settings"


async def test_number_writes_setting(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, plenticore_entry)
    target = entity_id(hass, "number", "battery_min_soc")
    await hass.services.async_call(
        "number", "set_value", {ATTR_ENTITY_ID: target, "value": 30}, blocking=True
    )
    await hass.async_block_till_done()
    assert plenticore.setting(LOCAL, "Battery:MinSoc") == "30"
    assert hass.states.get(target).state == "30.0"  # type: ignore[union-attr]


async def test_out_of_range_write_raises_and_writes_nothing(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, plenticore_entry)
    before = plenticore.setting(LOCAL, "Battery:MinSoc")
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            "number",
            "set_value",
            {ATTR_ENTITY_ID: entity_id(hass, "number", "battery_min_soc"), "value": 2},
            blocking=True,
        )
    # Our own check, for any path that bypasses the number service's range check:
    settings = plenticore_entry.runtime_data.settings  # type: ignore[attr-defined]
    with pytest.raises(ServiceValidationError) as raised:
        await settings.async_write(LOCAL, {"Battery:MinSoc": "101"})
    assert raised.value.translation_domain == DOMAIN
    assert raised.value.translation_key == "setting_out_of_range"
    assert raised.value.translation_placeholders == {
        "setting": "Battery:MinSoc",
        "value": "101",
        "min": "5",
        "max": "100",
    }
    assert "outside the range" in str(raised.value)
    with pytest.raises(ServiceValidationError) as raised:
        await settings.async_write(LOCAL, {"Battery:MinSoc": "ten"})
    assert raised.value.translation_key == "setting_invalid"
    assert plenticore.requests[WRITE] == 0
    assert plenticore.setting(LOCAL, "Battery:MinSoc") == before


async def test_refused_write_is_a_translated_error(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, plenticore_entry)
    plenticore.fail_next("503", path="/settings")
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(
            "number",
            "set_value",
            {ATTR_ENTITY_ID: entity_id(hass, "number", "battery_min_soc"), "value": 40},
            blocking=True,
        )
    assert raised.value.translation_key == "action_failed"


async def test_battery_strategy_select(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, plenticore_entry)
    target = entity_id(hass, "select", "battery_strategy")
    await hass.services.async_call(
        "select",
        "select_option",
        {ATTR_ENTITY_ID: target, "option": "automatic_economical"},
        blocking=True,
    )
    assert plenticore.setting(LOCAL, "Battery:Strategy") == "2"
    assert state_of(hass, "select", "battery_strategy") == "automatic_economical"


async def test_battery_usage_mode_select(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, plenticore_entry)
    target = entity_id(hass, "select", "battery_usage_mode")
    await hass.services.async_call(
        "select",
        "select_option",
        {ATTR_ENTITY_ID: target, "option": "time_control"},
        blocking=True,
    )
    assert plenticore.setting(LOCAL, "Battery:TimeControl:Enable") == "1"
    assert plenticore.setting(LOCAL, "Battery:SmartBatteryControl:Enable") == "0"
    assert state_of(hass, "select", "battery_usage_mode") == "time_control"
    await hass.services.async_call(
        "select", "select_option", {ATTR_ENTITY_ID: target, "option": "none"}, blocking=True
    )
    assert plenticore.setting(LOCAL, "Battery:TimeControl:Enable") == "0"
    assert state_of(hass, "select", "battery_usage_mode") == "none"


async def test_shadow_management_switches(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, plenticore_entry)
    unique_ids = {e.unique_id for e in er.async_get(hass).entities.values()}
    capable = sorted(uid.rsplit("_", 1)[1] for uid in unique_ids if "shadow_management" in uid)
    assert capable == ["1", "2"]  # string 3 cannot do shadow management
    plenticore.set_setting(LOCAL, "Generator:ShadowMgmt:Enable", "0")
    await hass.services.async_call(
        "switch",
        "turn_on",
        {ATTR_ENTITY_ID: entity_id(hass, "switch", "shadow_management_2")},
        blocking=True,
    )
    assert plenticore.setting(LOCAL, "Generator:ShadowMgmt:Enable") == "2"
    assert state_of(hass, "switch", "shadow_management_2") == STATE_ON
    await hass.services.async_call(
        "switch",
        "turn_on",
        {ATTR_ENTITY_ID: entity_id(hass, "switch", "shadow_management_1")},
        blocking=True,
    )
    assert plenticore.setting(LOCAL, "Generator:ShadowMgmt:Enable") == "3"
    await hass.services.async_call(
        "switch",
        "turn_off",
        {ATTR_ENTITY_ID: entity_id(hass, "switch", "shadow_management_2")},
        blocking=True,
    )
    assert plenticore.setting(LOCAL, "Generator:ShadowMgmt:Enable") == "1"


async def test_installer_manual_charge_and_reboot(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_installer_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, plenticore_installer_entry)
    await hass.services.async_call(
        "switch",
        "turn_on",
        {ATTR_ENTITY_ID: entity_id(hass, "switch", "battery_manual_charge")},
        blocking=True,
    )
    assert plenticore.setting(LOCAL, "Battery:ManualCharge") == "1"

    registry = er.async_get(hass)
    reboot = entity_id(hass, "button", "reboot")
    registry.async_update_entity(reboot, disabled_by=None)
    await hass.config_entries.async_reload(plenticore_installer_entry.entry_id)
    await hass.async_block_till_done()
    logins = plenticore.logins
    await hass.services.async_call("button", "press", {ATTR_ENTITY_ID: reboot}, blocking=True)
    assert plenticore.active_sessions == 0  # the inverter went down
    await tick(hass, plenticore, 10, freezer)
    assert plenticore.logins == logins + 1  # and we came back without a word


async def test_problem_sensor_and_event_entity(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, plenticore_entry)
    problem = entity_id(hass, "binary_sensor", "inverter_problem")
    event = entity_id(hass, "event", "inverter_event")
    assert hass.states.get(problem).state == "off"  # type: ignore[union-attr]
    assert hass.states.get(event).state == STATE_UNKNOWN  # type: ignore[union-attr]

    plenticore.raise_event(5012, "Insulation fault", category="error")
    await tick(hass, plenticore, 60, freezer)
    state = hass.states.get(problem)
    assert state is not None
    assert state.state == STATE_ON
    assert [e["code"] for e in state.attributes["events"]] == [5012]
    fired = hass.states.get(event)
    assert fired is not None
    assert fired.attributes["event_type"] == "error"
    assert fired.attributes["code"] == 5012
    fired_at = fired.state

    await tick(hass, plenticore, 60, freezer)
    assert hass.states.get(event).state == fired_at  # type: ignore[union-attr]  # not again

    plenticore.clear_event(5012)
    await tick(hass, plenticore, 60, freezer)
    assert hass.states.get(problem).state == "off"  # type: ignore[union-attr]
    assert hass.states.get(event).state == fired_at  # type: ignore[union-attr]


async def test_events_in_home_assistants_language(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await hass.config.async_update(language="de")
    await setup_entry(hass, plenticore_entry)
    plenticore.raise_event(3010, "Insulation fault")
    await tick(hass, plenticore, 60, freezer)
    state = hass.states.get(entity_id(hass, "binary_sensor", "inverter_problem"))
    assert state is not None
    assert state.attributes["events"][0]["description"] == "Isolationsfehler"


async def test_unreadable_setting_values_show_unknown(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, plenticore_entry)
    plenticore.set_setting(LOCAL, "Battery:MinSoc", "n/a")
    plenticore.set_setting(LOCAL, "Generator:ShadowMgmt:Enable", "n/a")
    await tick(hass, plenticore, 60, freezer)
    assert state_of(hass, "number", "battery_min_soc") == STATE_UNKNOWN
    assert state_of(hass, "switch", "shadow_management_1") == STATE_UNKNOWN


async def test_an_event_during_a_reload_still_fires(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, plenticore_entry)
    plenticore.raise_event(6005, "Battery communication error")
    await hass.config_entries.async_reload(plenticore_entry.entry_id)  # e.g. new options
    await hass.async_block_till_done()
    await tick(hass, plenticore, 60, freezer)
    fired = hass.states.get(entity_id(hass, "event", "inverter_event"))
    assert fired is not None
    assert fired.attributes["code"] == 6005


async def test_nan_write_is_a_translated_validation_error(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_entry: MockConfigEntry
) -> None:
    """NaN passes the number service's range check (every comparison is false): refuse it."""
    await setup_entry(hass, plenticore_entry)
    before = plenticore.setting(LOCAL, "Battery:MinSoc")
    target = entity_id(hass, "number", "battery_min_soc")
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            "number", "set_value", {ATTR_ENTITY_ID: target, "value": "nan"}, blocking=True
        )
    assert raised.value.translation_domain == DOMAIN
    assert raised.value.translation_key == "setting_invalid"
    for infinite in ("inf", "-inf"):  # Home Assistant's own range check refuses these
        with pytest.raises(ServiceValidationError):
            await hass.services.async_call(
                "number", "set_value", {ATTR_ENTITY_ID: target, "value": infinite}, blocking=True
            )
    assert plenticore.requests[WRITE] == 0
    assert plenticore.setting(LOCAL, "Battery:MinSoc") == before


@pytest.mark.parametrize(("value", "written"), [(37, "35"), (38, "40"), (99.9, "100"), (5.4, "5")])
async def test_value_off_the_step_is_written_on_the_step(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_entry: MockConfigEntry,
    value: float,
    written: str,
) -> None:
    """The minimum state of charge moves in steps of 5 %: 37 % becomes 35 %, as shown."""
    await setup_entry(hass, plenticore_entry)
    target = entity_id(hass, "number", "battery_min_soc")
    await hass.services.async_call(
        "number", "set_value", {ATTR_ENTITY_ID: target, "value": value}, blocking=True
    )
    await hass.async_block_till_done()
    assert plenticore.setting(LOCAL, "Battery:MinSoc") == written
    assert float(state_of(hass, "number", "battery_min_soc")) == float(written)


@pytest.mark.parametrize(
    "value",
    ["\u0663\u0660", "30\n", " 30", "3_0", "+30", "3e1", "30.0", "\uff10", "nan", "", "9" * 5000],
)
async def test_setting_values_must_be_plain_ascii_decimals(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_entry: MockConfigEntry,
    value: str,
) -> None:
    """Python's int() and float() accept Arabic-Indic digits, spaces and underscores: not we."""
    await setup_entry(hass, plenticore_entry)
    settings = plenticore_entry.runtime_data.settings  # type: ignore[attr-defined]
    with pytest.raises(ServiceValidationError) as raised:
        await settings.async_write(LOCAL, {"Battery:MinSoc": value})
    assert raised.value.translation_key == "setting_invalid"
    assert plenticore.requests[WRITE] == 0


async def test_plain_decimals_are_written(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, plenticore_entry)
    settings = plenticore_entry.runtime_data.settings  # type: ignore[attr-defined]
    await settings.async_write(LOCAL, {"Battery:MinHomeComsumption": "250"})
    assert plenticore.setting(LOCAL, "Battery:MinHomeComsumption") == "250"
