"""The PLENTICORE config flow against the simulator: errors and recovery, reauth, reconfigure."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_HOST, CONF_PASSWORD
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.solarhub.const import CONF_SERVICE_CODE, CONF_VENDOR, DOMAIN
from tests.simulators.plenticore import PlenticoreConfig, PlenticoreSimulator
from tests.vendors.conftest import setup_entry


async def _start(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["plenticore", "tigo"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "plenticore"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "plenticore"
    return str(result["flow_id"])


async def _submit(hass: HomeAssistant, flow_id: str, data: dict[str, Any]) -> Any:
    return await hass.config_entries.flow.async_configure(flow_id, data)


async def test_owner_creates_entry(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_config: PlenticoreConfig
) -> None:
    flow_id = await _start(hass)
    result = await _submit(
        hass,
        flow_id,
        {CONF_HOST: f" {plenticore.host} ", CONF_PASSWORD: plenticore_config.password},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == plenticore_config.serial
    assert result["data"] == {
        CONF_VENDOR: "plenticore",
        CONF_HOST: plenticore.host,
        CONF_PASSWORD: plenticore_config.password,
    }
    assert plenticore_config.hostname in result["title"]
    await hass.async_block_till_done()
    assert plenticore.logins == 2  # the probe's and the new entry's
    assert plenticore.active_sessions == 1  # the probe logged out again


async def test_installer_creates_entry(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_config: PlenticoreConfig
) -> None:
    flow_id = await _start(hass)
    result = await _submit(
        hass,
        flow_id,
        {
            CONF_HOST: plenticore.host,
            CONF_PASSWORD: plenticore_config.master_key,
            CONF_SERVICE_CODE: plenticore_config.service_code,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_SERVICE_CODE] == plenticore_config.service_code


async def test_wrong_password_then_recovery(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_config: PlenticoreConfig
) -> None:
    flow_id = await _start(hass)
    result = await _submit(hass, flow_id, {CONF_HOST: plenticore.host, CONF_PASSWORD: "wrong"})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PASSWORD: "invalid_auth_plenticore"}
    assert not hass.config_entries.async_entries(DOMAIN)  # nothing stored

    result = await _submit(
        hass, flow_id, {CONF_HOST: plenticore.host, CONF_PASSWORD: plenticore_config.password}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_wrong_service_code(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_config: PlenticoreConfig
) -> None:
    flow_id = await _start(hass)
    result = await _submit(
        hass,
        flow_id,
        {
            CONF_HOST: plenticore.host,
            CONF_PASSWORD: plenticore_config.master_key,
            CONF_SERVICE_CODE: "99999",
        },
    )
    assert result["errors"] == {CONF_SERVICE_CODE: "invalid_service_code"}


async def test_locked_user(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_config: PlenticoreConfig
) -> None:
    flow_id = await _start(hass)
    for _ in range(plenticore_config.lock_after):
        result = await _submit(hass, flow_id, {CONF_HOST: plenticore.host, CONF_PASSWORD: "wrong"})
    result = await _submit(
        hass, flow_id, {CONF_HOST: plenticore.host, CONF_PASSWORD: plenticore_config.password}
    )
    assert result["errors"] == {CONF_PASSWORD: "account_locked"}


async def test_unreachable_then_recovery(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_config: PlenticoreConfig
) -> None:
    flow_id = await _start(hass)
    result = await _submit(
        hass, flow_id, {CONF_HOST: "127.0.0.1:1", CONF_PASSWORD: plenticore_config.password}
    )
    assert result["errors"] == {CONF_HOST: "cannot_connect"}
    result = await _submit(
        hass, flow_id, {CONF_HOST: plenticore.host, CONF_PASSWORD: plenticore_config.password}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_invalid_host(hass: HomeAssistant, plenticore: PlenticoreSimulator) -> None:
    flow_id = await _start(hass)
    result = await _submit(hass, flow_id, {CONF_HOST: "https://a b/", CONF_PASSWORD: "x"})
    assert result["errors"] == {CONF_HOST: "invalid_host"}
    assert plenticore.requests.total() == 0


async def test_not_a_plenticore(hass: HomeAssistant, plenticore: PlenticoreSimulator) -> None:
    flow_id = await _start(hass)
    plenticore.fail_next("malformed", path="/info/version")
    result = await _submit(hass, flow_id, {CONF_HOST: plenticore.host, CONF_PASSWORD: "x"})
    assert result["errors"] == {CONF_HOST: "not_plenticore"}


async def test_unexpected_answer_after_login(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_config: PlenticoreConfig
) -> None:
    flow_id = await _start(hass)
    plenticore.fail_next("malformed", path="/settings")
    result = await _submit(
        hass, flow_id, {CONF_HOST: plenticore.host, CONF_PASSWORD: plenticore_config.password}
    )
    assert result["errors"] == {"base": "unexpected_response"}


@pytest.mark.parametrize("plenticore_config", [PlenticoreConfig(rounds=1000, serial="")])
async def test_inverter_without_serial(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_config: PlenticoreConfig
) -> None:
    flow_id = await _start(hass)
    result = await _submit(
        hass, flow_id, {CONF_HOST: plenticore.host, CONF_PASSWORD: plenticore_config.password}
    )
    assert result["errors"] == {"base": "no_serial"}


async def test_already_configured(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_config: PlenticoreConfig,
    plenticore_entry: MockConfigEntry,
) -> None:
    plenticore_entry.add_to_hass(hass)
    flow_id = await _start(hass)
    result = await _submit(
        hass, flow_id, {CONF_HOST: plenticore.host, CONF_PASSWORD: plenticore_config.password}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured_plenticore"


async def test_reauth(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_config: PlenticoreConfig,
    plenticore_entry: MockConfigEntry,
) -> None:
    await setup_entry(hass, plenticore_entry)
    result = await plenticore_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_plenticore"
    result = await _submit(hass, result["flow_id"], {CONF_PASSWORD: "wrong"})
    assert result["errors"] == {CONF_PASSWORD: "invalid_auth_plenticore"}
    result = await _submit(
        hass,
        result["flow_id"],
        {
            CONF_PASSWORD: plenticore_config.master_key,
            CONF_SERVICE_CODE: plenticore_config.service_code,
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert plenticore_entry.data[CONF_SERVICE_CODE] == plenticore_config.service_code
    assert plenticore_entry.data[CONF_PASSWORD] == plenticore_config.master_key


async def test_reconfigure_new_host(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_entry: MockConfigEntry,
) -> None:
    await setup_entry(hass, plenticore_entry)
    result = await plenticore_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure_plenticore"
    result = await _submit(hass, result["flow_id"], {CONF_HOST: "127.0.0.1:1"})
    assert result["errors"] == {CONF_HOST: "cannot_connect"}
    moved = PlenticoreSimulator(PlenticoreConfig(rounds=plenticore.config.rounds))
    await moved.start()
    try:
        result = await _submit(hass, result["flow_id"], {CONF_HOST: moved.host})
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reconfigure_successful"
        assert plenticore_entry.data[CONF_HOST] == moved.host
        await hass.async_block_till_done()
    finally:
        await hass.config_entries.async_unload(plenticore_entry.entry_id)
        await moved.stop()


@pytest.mark.parametrize("flow", ["reauth", "reconfigure"])
async def test_other_inverter_is_refused(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_config: PlenticoreConfig,
    plenticore_entry: MockConfigEntry,
    flow: str,
) -> None:
    await setup_entry(hass, plenticore_entry)
    other = PlenticoreSimulator(PlenticoreConfig(rounds=plenticore.config.rounds, serial="OTHER1"))
    await other.start()
    try:
        if flow == "reauth":
            hass.config_entries.async_update_entry(
                plenticore_entry, data={**plenticore_entry.data, CONF_HOST: other.host}
            )
            result = await plenticore_entry.start_reauth_flow(hass)
            data: dict[str, Any] = {CONF_PASSWORD: plenticore_config.password}
        else:
            result = await plenticore_entry.start_reconfigure_flow(hass)
            data = {CONF_HOST: other.host}
        result = await _submit(hass, result["flow_id"], data)
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "different_device_plenticore"
    finally:
        await hass.config_entries.async_unload(plenticore_entry.entry_id)
        await other.stop()


async def test_options_enforce_minimums(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, plenticore_entry)
    result = await hass.config_entries.options.async_init(plenticore_entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"process_data_interval": 15, "settings_interval": 120, "events_interval": 90},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert plenticore_entry.options == {
        "process_data_interval": 15,
        "settings_interval": 120,
        "events_interval": 90,
    }
    runtime = plenticore_entry.runtime_data
    assert runtime.process_data.update_interval.total_seconds() == 15  # type: ignore[attr-defined]

    result = await hass.config_entries.options.async_init(plenticore_entry.entry_id)
    with pytest.raises(InvalidData, match="process_data_interval"):
        await hass.config_entries.options.async_configure(
            result["flow_id"],
            {"process_data_interval": 1, "settings_interval": 120, "events_interval": 90},
        )
