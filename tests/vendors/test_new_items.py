"""What NewItems remembers in hass.data survives a reload and goes with its entry."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.solarhub.coordinator import _SEEN
from tests.simulators.plenticore import PlenticoreSimulator
from tests.vendors.conftest import setup_entry


def _remembered(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    return [name for name in hass.data.get(_SEEN, {}) if name.startswith(entry.entry_id)]


async def test_remembered_items_are_dropped_with_their_entry(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_entry: MockConfigEntry
) -> None:
    other = {f"{'0' * 26}_events": {1}}  # another entry's memory stays
    hass.data.setdefault(_SEEN, {}).update(other)
    await setup_entry(hass, plenticore_entry)
    assert _remembered(hass, plenticore_entry) == [f"{plenticore_entry.entry_id}_events"]
    assert await hass.config_entries.async_reload(plenticore_entry.entry_id)
    await hass.async_block_till_done()
    assert _remembered(hass, plenticore_entry)  # a reload neither misses nor repeats events
    await hass.config_entries.async_remove(plenticore_entry.entry_id)
    await hass.async_block_till_done()
    assert _remembered(hass, plenticore_entry) == []
    assert {name: hass.data[_SEEN][name] for name in other} == other
