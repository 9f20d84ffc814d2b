"""Enlighten credentials refused mid-run: reauth, and for a v2 key the repair issue about v4."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.solarhub.const import DOMAIN
from tests.simulators.enlighten import EnlightenSimulator
from tests.vendors.conftest import setup_entry

from .conftest import advance


async def test_a_refused_v2_key_starts_reauth_and_explains_v4(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    enlighten_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, enlighten_entry)
    await advance(hass, enlighten, freezer, 60)
    key = enlighten.config.api_key
    enlighten.config.api_key = "9" * 32  # Enphase retires the key
    await advance(hass, enlighten, freezer, 30 * 60, step=300)
    flows = hass.config_entries.flow.async_progress()
    assert [f["context"]["source"] for f in flows] == ["reauth"]
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"enlighten_v2_key_refused_{enlighten_entry.entry_id}"
    )
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    refused = enlighten.usage(key).total
    await advance(hass, enlighten, freezer, 2 * 3600, step=600)
    assert enlighten.usage(key).total == refused  # no more requests with refused credentials
