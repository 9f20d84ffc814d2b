"""One package per vendor; each builds a ``VendorRuntime`` for its config entries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..const import CONF_VENDOR, Vendor

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from ..runtime import SolarHubConfigEntry, VendorRuntime


async def async_setup_vendor(hass: HomeAssistant, entry: SolarHubConfigEntry) -> VendorRuntime:
    """Set up the vendor the entry belongs to."""
    match Vendor(entry.data[CONF_VENDOR]):
        case Vendor.PLENTICORE:
            from .plenticore.runtime import async_setup_plenticore  # noqa: PLC0415

            return await async_setup_plenticore(hass, entry)
        case Vendor.TIGO:
            from .tigo.runtime import async_setup_tigo  # noqa: PLC0415

            return await async_setup_tigo(hass, entry)
        case Vendor.ENLIGHTEN:
            from .enlighten.runtime import async_setup_enlighten  # noqa: PLC0415

            return await async_setup_enlighten(hass, entry)
