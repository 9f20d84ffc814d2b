"""Selects: device settings with a fixed set of options."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, override

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import SolarHubEntity, SolarHubEntityDescription
from .runtime import SolarHubConfigEntry

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class SolarHubSelectDescription(SolarHubEntityDescription, SelectEntityDescription):
    """A select read from coordinator data and written through the vendor."""

    current_fn: Callable[[Any], str | None]
    select_fn: Callable[[str], Awaitable[None]]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SolarHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the selects the entry's vendor offers."""
    async_add_entities(
        SolarHubSelect(spec) for spec in entry.runtime_data.entity_specs(Platform.SELECT)
    )


class SolarHubSelect(SolarHubEntity[SolarHubSelectDescription], SelectEntity):
    """A SolarHub select."""

    entity_description: SolarHubSelectDescription

    @property
    @override
    def current_option(self) -> str | None:
        """Read the option from the coordinator's data."""
        return self.entity_description.current_fn(self.coordinator.data)

    @override
    async def async_select_option(self, option: str) -> None:
        """Write the option through the vendor."""
        await self.entity_description.select_fn(option)
