"""The Enlighten v2 config flow against the simulator: key, user id, plan, systems, errors."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.solarhub.const import CONF_BASE_URL, CONF_SYSTEMS, DOMAIN
from custom_components.solarhub.vendors.enlighten.options import (
    CONF_HISTORY_IMPORT,
    CONF_PER_MINUTE,
    CONF_PER_MONTH,
    CONF_PLAN,
)
from custom_components.solarhub.vendors.enlighten.runtime import CONF_USER_ID
from tests.simulators.enlighten import EnlightenSimulator
from tests.vendors.conftest import setup_entry

from .conftest import v2_entry


def _credentials(simulator: EnlightenSimulator, **changes: Any) -> dict[str, Any]:
    config = simulator.config
    data = {
        CONF_API_KEY: config.api_key,
        CONF_USER_ID: config.user_id,
        "advanced": {CONF_BASE_URL: simulator.base_url},
    }
    return data | changes


async def _start(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "enlighten"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "enlighten"
    return str(result["flow_id"])


async def test_key_user_plan_and_systems(
    hass: HomeAssistant, enlighten: EnlightenSimulator
) -> None:
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, _credentials(enlighten))
    assert result["step_id"] == "enlighten_plan"
    assert enlighten.usage().month(enlighten.clock.now().timestamp()) == 1  # one request
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_PLAN: "custom", CONF_PER_MINUTE: 5, CONF_PER_MONTH: 2000}
    )
    assert result["step_id"] == "systems"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_SYSTEMS: ["1001", "1003"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Enlighten Sonnenhof, Almhuette"
    assert enlighten.config.user_id not in result["title"]
    assert result["result"].unique_id == f"enlighten_{enlighten.config.user_id}"
    assert result["data"][CONF_SYSTEMS] == [1001, 1003]
    assert result["data"][CONF_PER_MONTH] == 2000
    await hass.async_block_till_done()


async def test_named_plan_stores_no_limits(
    hass: HomeAssistant, enlighten: EnlightenSimulator
) -> None:
    flow_id = await _start(hass)
    await hass.config_entries.flow.async_configure(flow_id, _credentials(enlighten))
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_PLAN: "kilowatt", CONF_PER_MINUTE: 5, CONF_PER_MONTH: 2000}
    )
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_SYSTEMS: ["1001"]})
    assert result["data"][CONF_PLAN] == "kilowatt"
    assert CONF_PER_MONTH not in result["data"]
    await hass.async_block_till_done()


@pytest.mark.parametrize(
    ("change", "fault", "errors"),
    [
        ({CONF_API_KEY: "0" * 32}, None, {CONF_API_KEY: "invalid_auth_enlighten"}),
        ({CONF_USER_ID: "ffffffffff"}, None, {CONF_USER_ID: "unknown_user_enlighten"}),
        ({"advanced": {CONF_BASE_URL: "ftp://x"}}, None, {"base": "invalid_base_url"}),
        ({}, "504", {"base": "cannot_connect"}),
        ({}, "malformed", {"base": "unexpected_response"}),
    ],
)
async def test_errors_then_recovery(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    change: dict[str, Any],
    fault: str | None,
    errors: dict[str, str],
) -> None:
    flow_id = await _start(hass)
    if fault is not None:
        enlighten.fail_next(fault, path="systems")
    result = await hass.config_entries.flow.async_configure(
        flow_id, _credentials(enlighten, **change)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    result = await hass.config_entries.flow.async_configure(flow_id, _credentials(enlighten))
    assert result["step_id"] == "enlighten_plan"


async def test_throttled_minute_and_month(
    hass: HomeAssistant, enlighten: EnlightenSimulator
) -> None:
    flow_id = await _start(hass)
    enlighten.config.minute_limit = 1
    await hass.config_entries.flow.async_configure(flow_id, _credentials(enlighten))
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, _credentials(enlighten))
    assert result["errors"] == {"base": "throttled_minute_enlighten"}
    assert 0 < int(result["description_placeholders"]["seconds"]) <= 60
    enlighten.config.minute_limit = 10
    enlighten.config.month_limit = 1
    result = await hass.config_entries.flow.async_configure(flow_id, _credentials(enlighten))
    assert result["errors"] == {"base": "throttled_month_enlighten"}
    # The month ends at 00:00 UTC on July 1st: in the test zone (US/Pacific) the evening before.
    assert result["description_placeholders"]["until"] == "2026-06-30 17:00"


async def test_already_configured(hass: HomeAssistant, enlighten: EnlightenSimulator) -> None:
    v2_entry(enlighten, [1001]).add_to_hass(hass)
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, _credentials(enlighten))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured_enlighten"


async def test_reauth_with_a_new_key(hass: HomeAssistant, enlighten: EnlightenSimulator) -> None:
    entry = v2_entry(enlighten, [1001], **{CONF_API_KEY: "0" * 32})
    await setup_entry(hass, entry)
    flows = hass.config_entries.flow.async_progress()
    assert [f["context"]["source"] for f in flows] == ["reauth"]
    flow_id = flows[0]["flow_id"]
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_API_KEY: "1" * 32, CONF_USER_ID: enlighten.config.user_id}
    )
    assert result["errors"] == {CONF_API_KEY: "invalid_auth_enlighten"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_API_KEY: enlighten.config.api_key, CONF_USER_ID: enlighten.config.user_id}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_API_KEY] == enlighten.config.api_key
    await hass.async_block_till_done()


async def test_reconfigure_plan_and_systems(
    hass: HomeAssistant, enlighten: EnlightenSimulator
) -> None:
    entry = v2_entry(enlighten, [1001])
    await setup_entry(hass, entry)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure_enlighten"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PLAN: "megawatt", CONF_PER_MINUTE: 1, CONF_PER_MONTH: 1}
    )
    assert result["step_id"] == "systems"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SYSTEMS: ["1001", "1002"]}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PLAN] == "megawatt"
    assert entry.data[CONF_SYSTEMS] == [1001, 1002]
    assert entry.title == "Enlighten Sonnenhof, Weinberg"
    await hass.async_block_till_done()


async def test_options(hass: HomeAssistant, enlighten: EnlightenSimulator) -> None:
    entry = v2_entry(enlighten, [1001])
    await setup_entry(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_PER_MINUTE: 10, CONF_PER_MONTH: 5000, CONF_HISTORY_IMPORT: False}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert not entry.options[CONF_HISTORY_IMPORT]
    assert entry.runtime_data.account.planner.plan.per_month == 5000  # type: ignore[attr-defined]
