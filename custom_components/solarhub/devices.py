"""Device registration, the same for every vendor: parents first, stale devices removed.

A vendor lists its devices with each one's parent; entities then link to a device by its
identifier only (``EntitySpec.device``), so a child can name its parent's registry id.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .runtime import SolarHubConfigEntry

type Identifier = tuple[str, str]


def identifier_of(device: DeviceInfo) -> Identifier:
    """The one identifier of a SolarHub device."""
    return next(iter(device["identifiers"]))


def register_devices(
    hass: HomeAssistant,
    entry: SolarHubConfigEntry,
    devices: Iterable[tuple[DeviceInfo, Identifier | None]],
) -> None:
    """Create or update the entry's devices, each after its parent (``None``: a top device).

    Devices of this entry that are no longer listed (a replaced optimizer, a dropped system)
    are removed from it.
    """
    registry = dr.async_get(hass)
    device_ids: dict[Identifier, str] = {}
    for device, parent in devices:
        linked = DeviceInfo(**device)
        if parent is not None:
            linked["via_device_id"] = device_ids[parent]
        created = registry.async_get_or_create(config_entry_id=entry.entry_id, **linked)
        device_ids[identifier_of(device)] = created.id
    current = set(device_ids.values())
    for device_entry in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if device_entry.id not in current:
            registry.async_update_device(device_entry.id, remove_config_entry_id=entry.entry_id)
