"""The base of every SolarHub entity, and the spec through which a vendor hands one to a platform.

Platform modules know nothing of vendors: a vendor runtime returns ``EntitySpec``s per platform,
each with a description whose ``*_fn`` callables read the coordinator's data.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, override

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity, DataUpdateCoordinator


def _always_available(_data: Any) -> bool:
    return True


@dataclass(frozen=True, kw_only=True)
class SolarHubEntityDescription(EntityDescription):
    """Fields every SolarHub description has, on top of Home Assistant's own."""

    # False when the data point this entity shows is missing from the coordinator's data.
    available_fn: Callable[[Any], bool] = _always_available
    # Where a vendor's terms require it (Enlighten: "Powered by Enphase Energy").
    attribution: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class EntitySpec[DescriptionT: SolarHubEntityDescription]:
    """Everything a platform needs to build one entity."""

    coordinator: DataUpdateCoordinator[Any]
    description: DescriptionT
    device_info: DeviceInfo
    unique_id: str
    # The data points this entity needs polled; coordinators fetch the union over their listeners,
    # so a disabled entity costs no request.
    polls: frozenset[Hashable] | None = None


class SolarHubEntity[DescriptionT: SolarHubEntityDescription](
    CoordinatorEntity[DataUpdateCoordinator[Any]]
):
    """An entity built from an ``EntitySpec``."""

    _attr_has_entity_name = True

    def __init__(self, spec: EntitySpec[DescriptionT]) -> None:
        """Take the coordinator, description, device and unique id from the spec."""
        super().__init__(spec.coordinator, context=spec.polls)
        self.entity_description = spec.description
        self._attr_unique_id = spec.unique_id
        self._attr_device_info = spec.device_info
        self._available_fn = spec.description.available_fn
        self._attr_attribution = spec.description.attribution

    @property
    @override
    def available(self) -> bool:
        """Unavailable when the poll failed or the data point is gone: never a made-up value."""
        return super().available and self._available_fn(self.coordinator.data)
