"""The config flow handler: a vendor menu that dispatches symmetric step ids to each vendor."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.solarhub.config_flow import STEPS, VENDOR_FLOWS, SolarHubConfigFlow
from custom_components.solarhub.const import DOMAIN, Vendor


def test_every_vendor_has_the_same_step_ids() -> None:
    assert list(VENDOR_FLOWS) == list(Vendor)
    for vendor, flow in VENDOR_FLOWS.items():
        assert flow.vendor is vendor
        assert STEPS[vendor] == (vendor, "async_step_setup")
        assert STEPS[f"reauth_{vendor}"] == (vendor, "async_step_reauth")
        assert STEPS[f"reconfigure_{vendor}"] == (vendor, "async_step_reconfigure")


def test_unknown_steps_do_not_exist() -> None:
    flow = SolarHubConfigFlow()
    assert hasattr(flow, "async_step_tigo")
    assert not hasattr(flow, "async_step_enphase")
    assert not hasattr(flow, "async_step_systems")  # only while a vendor offers systems
    with pytest.raises(AttributeError):
        _ = flow.no_such_attribute


async def test_menu_lists_the_vendors(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == [str(v) for v in VENDOR_FLOWS]
