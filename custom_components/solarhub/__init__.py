"""SolarHub: Tigo, Enphase Enlighten and KOSTAL PLENTICORE solar systems in Home Assistant."""

from __future__ import annotations

import logging
import re

from homeassistant.const import CONF_USERNAME, Platform
from homeassistant.core import HomeAssistant

from .const import CONF_VENDOR, Vendor
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


_LOGGER = logging.getLogger(__name__)
_EMAIL = re.compile(r"[^\s()<>,;]+@[^\s()<>,;]+")


async def async_migrate_entry(hass: HomeAssistant, entry: SolarHubConfigEntry) -> bool:
    """Bring an entry stored by an older SolarHub to the current format.

    1.2: a title that shows the Tigo account's e-mail or user name (1.1 titled Tigo entries
    ``Tigo (<e-mail>)``, and the title names the coordinators in log lines) becomes "Tigo";
    a reconfigure titles it with the chosen systems' names. (Home Assistant itself refuses
    entries stored by a newer SolarHub and calls this only for older ones.)
    """
    if entry.minor_version < 2:
        title = entry.title
        if _is_private(title, entry.data.get(CONF_USERNAME)):
            title = str(Vendor(entry.data[CONF_VENDOR])).capitalize()
        hass.config_entries.async_update_entry(entry, title=title, minor_version=2)
        _LOGGER.debug("Migrated entry %s to version 1.2", entry.entry_id)
    return True


def _is_private(title: str, username: str | None) -> bool:
    """Whether ``title`` shows an e-mail address or the account's user name."""
    return bool(_EMAIL.search(title)) or bool(username and username.casefold() in title.casefold())


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
