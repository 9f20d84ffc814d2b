"""Numbers: writable device settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, override

from homeassistant.components.number import NumberEntity, NumberEntityDescription
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import SolarHubEntity, SolarHubEntityDescription
from .runtime import SolarHubConfigEntry

PARALLEL_UPDATES = 1  # one write at a time to the device


@dataclass(frozen=True, kw_only=True)
class SolarHubNumberDescription(SolarHubEntityDescription, NumberEntityDescription):
    """A number read from coordinator data and written through the vendor."""

    value_fn: Callable[[Any], float | None]
    set_fn: Callable[[float], Awaitable[None]]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SolarHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the numbers the entry's vendor offers."""
    async_add_entities(
        SolarHubNumber(spec) for spec in entry.runtime_data.entity_specs(Platform.NUMBER)
    )


class SolarHubNumber(SolarHubEntity[SolarHubNumberDescription], NumberEntity):
    """A SolarHub number."""

    entity_description: SolarHubNumberDescription

    @property
    @override
    def native_value(self) -> float | None:
        """Read the value from the coordinator's data."""
        return self.entity_description.value_fn(self.coordinator.data)

    @override
    async def async_set_native_value(self, value: float) -> None:
        """Write the value; the vendor validates it and refreshes."""
        await self.entity_description.set_fn(value)
