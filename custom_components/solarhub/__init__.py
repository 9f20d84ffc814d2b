"""SolarHub: Tigo, Enphase Enlighten and KOSTAL PLENTICORE solar systems in Home Assistant."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant

from .coordinator import forget_entry
from .runtime import SolarHubConfigEntry
from .vendors import async_setup_vendor

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.EVENT,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]


async def async_setup_entry(hass: HomeAssistant, entry: SolarHubConfigEntry) -> bool:
    """Set up the entry's vendor and its platforms."""
    entry.runtime_data = await async_setup_vendor(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: SolarHubConfigEntry) -> bool:
    """Unload the platforms, then let the vendor release its resources."""
    if unloaded := await hass.config_entries.async_unload_platforms(entry, PLATFORMS):
        await entry.runtime_data.async_shutdown()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: SolarHubConfigEntry) -> None:
    """Forget what the removed entry remembered across reloads."""
    forget_entry(hass, entry.entry_id)
