"""Searching a vendor's name in Home Assistant's *Add integration* dialog finds SolarHub.

For a custom integration the dialog searches only what ``integration/descriptions`` reports: the
domain and the manifest's ``name``. Frontend 20260930.5 (pinned by Home Assistant 2026.10)
searches them with Fuse.js 7.5 at ``threshold: 0.2`` and the default ``location: 0``,
``distance: 100``: an exact match at character ``p`` scores ``p / 100``, so a word is found only
if it starts within the first 20 characters of the name.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration_descriptions
import pytest

from custom_components.solarhub.const import DOMAIN

FUSE_THRESHOLD = 0.2
FUSE_DISTANCE = 100


def _fuse_finds(filter_text: str, value: str) -> bool:
    """Whether the dialog's Fuse search finds an exact (case-insensitive) occurrence."""
    position = value.casefold().find(filter_text.casefold())
    return position >= 0 and position / FUSE_DISTANCE <= FUSE_THRESHOLD


@pytest.mark.parametrize("search", ["Tigo", "Enphase", "KOSTAL", "kostal", "SolarHub", "solarhub"])
async def test_add_integration_search_finds_solarhub(hass: HomeAssistant, search: str) -> None:
    descriptions = await async_get_integration_descriptions(hass)
    ours = descriptions["custom"]["integration"][DOMAIN]
    assert ours["config_flow"] is True
    assert _fuse_finds(search, ours["name"]) or _fuse_finds(search, DOMAIN)
