"""The Tigo config flow against the simulator: credentials, systems, errors, reauth, reconfigure."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.solarhub.const import CONF_BASE_URL, CONF_SYSTEMS, DOMAIN
from tests.simulators.tigo import TigoConfig, TigoSimulator
from tests.vendors.conftest import setup_entry


def _credentials(tigo: TigoSimulator, config: TigoConfig, **changes: Any) -> dict[str, Any]:
    data = {
        CONF_USERNAME: config.username,
        CONF_PASSWORD: config.password,
        "advanced": {CONF_BASE_URL: tigo.base_url},
    }
    return data | changes


async def _start(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "tigo"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "tigo"
    return str(result["flow_id"])


async def test_account_with_chosen_systems(
    hass: HomeAssistant, tigo: TigoSimulator, tigo_config: TigoConfig
) -> None:
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _credentials(tigo, tigo_config)
    )
    assert result["step_id"] == "systems"
    home, garage = tigo.systems[0].system_id, tigo.systems[1].system_id
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_SYSTEMS: []})
    assert result["errors"] == {CONF_SYSTEMS: "no_system_chosen"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_SYSTEMS: [str(home), str(garage)]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == f"tigo_{tigo_config.user_id}"
    assert result["data"][CONF_SYSTEMS] == [home, garage]
    assert result["data"][CONF_BASE_URL] == tigo.base_url
    await hass.async_block_till_done()


async def test_all_systems_offered_and_preselected(
    hass: HomeAssistant, tigo: TigoSimulator, tigo_config: TigoConfig
) -> None:
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _credentials(tigo, tigo_config)
    )
    schema = result["data_schema"].schema
    default = next(iter(schema)).default()
    assert default == [str(s.system_id) for s in tigo.systems]  # across pages of two


@pytest.mark.parametrize(
    ("change", "fault", "errors"),
    [
        ({CONF_PASSWORD: "wrong"}, None, {CONF_PASSWORD: "invalid_auth_tigo"}),
        ({}, ("503", "users/login"), {"base": "cannot_connect"}),
        ({}, ("429", "users/login"), {"base": "rate_limited"}),
        ({}, ("malformed", "systems"), {"base": "unexpected_response"}),
    ],
)
async def test_errors_then_recovery(
    hass: HomeAssistant,
    tigo: TigoSimulator,
    tigo_config: TigoConfig,
    change: dict[str, Any],
    fault: tuple[str, str] | None,
    errors: dict[str, str],
) -> None:
    flow_id = await _start(hass)
    if fault:
        tigo.fail_next(fault[0], path=fault[1])
    result = await hass.config_entries.flow.async_configure(
        flow_id, _credentials(tigo, tigo_config, **change)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    result = await hass.config_entries.flow.async_configure(
        flow_id, _credentials(tigo, tigo_config)
    )
    assert result["step_id"] == "systems"


@pytest.mark.parametrize("tigo_config", [TigoConfig(premium=False)])
async def test_account_without_premium(
    hass: HomeAssistant, tigo: TigoSimulator, tigo_config: TigoConfig
) -> None:
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _credentials(tigo, tigo_config)
    )
    assert result["errors"] == {"base": "not_premium"}


async def test_unreachable_and_invalid_api_address(
    hass: HomeAssistant, tigo: TigoSimulator, tigo_config: TigoConfig
) -> None:
    flow_id = await _start(hass)
    unreachable = {"advanced": {CONF_BASE_URL: "http://127.0.0.1:1/api/v3/"}}
    result = await hass.config_entries.flow.async_configure(
        flow_id, _credentials(tigo, tigo_config, **unreachable)
    )
    assert result["errors"] == {"base": "cannot_connect"}
    invalid = {"advanced": {CONF_BASE_URL: "ftp://example"}}
    result = await hass.config_entries.flow.async_configure(
        flow_id, _credentials(tigo, tigo_config, **invalid)
    )
    assert result["errors"] == {"base": "invalid_base_url"}


async def test_same_account_twice_is_refused(
    hass: HomeAssistant, tigo: TigoSimulator, tigo_config: TigoConfig, tigo_entry: MockConfigEntry
) -> None:
    tigo_entry.add_to_hass(hass)
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _credentials(tigo, tigo_config)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured_tigo"


async def test_reauth_with_new_password(
    hass: HomeAssistant, tigo: TigoSimulator, tigo_config: TigoConfig, tigo_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, tigo_entry)
    tigo_config.password = "New-Password-1"
    tigo.expire_tokens()
    result = await tigo_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_tigo"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: "still-wrong"}
    )
    assert result["errors"] == {CONF_PASSWORD: "invalid_auth_tigo"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: "New-Password-1"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert tigo_entry.data[CONF_PASSWORD] == "New-Password-1"


async def test_reconfigure_systems(
    hass: HomeAssistant, tigo: TigoSimulator, tigo_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, tigo_entry)
    result = await tigo_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "systems"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_SYSTEMS: []})
    assert result["errors"] == {CONF_SYSTEMS: "no_system_chosen"}
    garage = tigo.systems[1].system_id
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SYSTEMS: [str(garage)]}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert tigo_entry.data[CONF_SYSTEMS] == [garage]
    await hass.async_block_till_done()


async def test_reconfigure_when_cloud_refuses(
    hass: HomeAssistant, tigo: TigoSimulator, tigo_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, tigo_entry)
    tigo.fail_next("503", path="users/login", count=5)
    tigo.expire_tokens()
    result = await tigo_entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cannot_connect"


async def test_options_panel_metrics_and_intervals(
    hass: HomeAssistant, tigo: TigoSimulator, tigo_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, tigo_entry)
    result = await hass.config_entries.options.async_init(tigo_entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"panel_metrics": ["power", "voltage"], "live_interval": 600, "alerts_interval": 1800},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert tigo_entry.options == {
        "panel_metrics": ["power", "voltage"],
        "live_interval": 600,
        "alerts_interval": 1800,
    }


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:99999/api/v3/"])
async def test_unparsable_api_address_is_a_field_error(
    hass: HomeAssistant, tigo: TigoSimulator, tigo_config: TigoConfig, url: str
) -> None:
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _credentials(tigo, tigo_config, advanced={CONF_BASE_URL: url})
    )
    assert result["errors"] == {"base": "invalid_base_url"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, _credentials(tigo, tigo_config)
    )
    assert result["step_id"] == "systems"


async def test_account_without_systems(
    hass: HomeAssistant, tigo: TigoSimulator, tigo_config: TigoConfig
) -> None:
    flow_id = await _start(hass)
    systems, tigo.systems = tigo.systems, ()  # every system removed from the account
    result = await hass.config_entries.flow.async_configure(
        flow_id, _credentials(tigo, tigo_config)
    )
    assert result["errors"] == {"base": "no_systems"}
    tigo.systems = systems
    result = await hass.config_entries.flow.async_configure(
        flow_id, _credentials(tigo, tigo_config)
    )
    assert result["step_id"] == "systems"


async def test_title_names_the_systems_not_the_account(
    hass: HomeAssistant, tigo: TigoSimulator, tigo_config: TigoConfig
) -> None:
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _credentials(tigo, tigo_config)
    )
    options = result["data_schema"].schema[CONF_SYSTEMS].config["options"]
    assert [o["label"] for o in options] == [f"{s.name} ({s.timezone})" for s in tigo.systems]
    home, garage = tigo.systems[0], tigo.systems[1]
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_SYSTEMS: [str(home.system_id), str(garage.system_id)]}
    )
    assert result["title"] == f"Tigo {home.name}, {garage.name}"
    assert tigo_config.username not in result["title"]
    await hass.async_block_till_done()


async def test_reconfigure_preselects_the_entry_systems_and_retitles(
    hass: HomeAssistant, tigo: TigoSimulator, tigo_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, tigo_entry)
    result = await tigo_entry.start_reconfigure_flow(hass)
    default = next(iter(result["data_schema"].schema)).default()
    assert default == [str(tigo.systems[0].system_id)]
    home, garage = tigo.systems[0], tigo.systems[1]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SYSTEMS: [str(home.system_id), str(garage.system_id)]}
    )
    assert result["reason"] == "reconfigure_successful"
    assert tigo_entry.title == f"Tigo {home.name}, {garage.name}"
    await hass.async_block_till_done()
