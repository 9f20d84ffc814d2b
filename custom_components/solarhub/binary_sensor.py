"""Binary sensors: problems and connectivity, read from coordinator data."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, override

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import SolarHubEntity, SolarHubEntityDescription, specs_of
from .runtime import SolarHubConfigEntry

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class SolarHubBinarySensorDescription[DataT](
    SolarHubEntityDescription[DataT], BinarySensorEntityDescription
):
    """A binary sensor read from coordinator data."""

    platform: ClassVar[Platform] = Platform.BINARY_SENSOR
    is_on_fn: Callable[[DataT], bool | None]
    attributes_fn: Callable[[DataT], Mapping[str, object]] | None = None


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SolarHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors the entry's vendor offers."""
    async_add_entities(
        SolarHubBinarySensor(spec, description)
        for spec, description in specs_of(entry, SolarHubBinarySensorDescription)
    )


class SolarHubBinarySensor(
    SolarHubEntity[SolarHubBinarySensorDescription[Any]], BinarySensorEntity
):
    """A SolarHub binary sensor."""

    entity_description: SolarHubBinarySensorDescription[Any]

    @property
    @override
    def is_on(self) -> bool | None:
        """Read the state from the coordinator's data."""
        return self.entity_description.is_on_fn(self.coordinator.data)

    @property
    @override
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Extra attributes, where the description has any."""
        if (attributes_fn := self.entity_description.attributes_fn) is None:
            return None
        return attributes_fn(self.coordinator.data)
