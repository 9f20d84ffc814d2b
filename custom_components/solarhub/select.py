"""Selects: device settings with a fixed set of options."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, override

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import SolarHubEntity, SolarHubEntityDescription, specs_of
from .runtime import SolarHubConfigEntry

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class SolarHubSelectDescription[DataT](SolarHubEntityDescription[DataT], SelectEntityDescription):
    """A select read from coordinator data and written through the vendor."""

    platform: ClassVar[Platform] = Platform.SELECT
    current_fn: Callable[[DataT], str | None]
    select_fn: Callable[[str], Awaitable[None]]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SolarHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the selects the entry's vendor offers."""
    async_add_entities(
        SolarHubSelect(spec, description)
        for spec, description in specs_of(entry, SolarHubSelectDescription)
    )


class SolarHubSelect(SolarHubEntity[SolarHubSelectDescription[Any]], SelectEntity):
    """A SolarHub select."""

    entity_description: SolarHubSelectDescription[Any]

    @property
    @override
    def current_option(self) -> str | None:
        """Read the option from the coordinator's data."""
        return self.entity_description.current_fn(self.coordinator.data)

    @override
    async def async_select_option(self, option: str) -> None:
        """Write the option through the vendor."""
        await self.entity_description.select_fn(option)
