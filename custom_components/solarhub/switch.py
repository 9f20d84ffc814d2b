"""Switches: on/off device settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, override

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import SolarHubEntity, SolarHubEntityDescription, specs_of
from .runtime import SolarHubConfigEntry

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class SolarHubSwitchDescription[DataT](SolarHubEntityDescription[DataT], SwitchEntityDescription):
    """A switch read from coordinator data and written through the vendor."""

    platform: ClassVar[Platform] = Platform.SWITCH
    is_on_fn: Callable[[DataT], bool | None]
    turn_fn: Callable[[bool], Awaitable[None]]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SolarHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the switches the entry's vendor offers."""
    async_add_entities(
        SolarHubSwitch(spec, description)
        for spec, description in specs_of(entry, SolarHubSwitchDescription)
    )


class SolarHubSwitch(SolarHubEntity[SolarHubSwitchDescription[Any]], SwitchEntity):
    """A SolarHub switch."""

    entity_description: SolarHubSwitchDescription[Any]

    @property
    @override
    def is_on(self) -> bool | None:
        """Read the state from the coordinator's data."""
        return self.entity_description.is_on_fn(self.coordinator.data)

    @override
    async def async_turn_on(self, **kwargs: Any) -> None:
        """Switch on through the vendor."""
        await self.entity_description.turn_fn(True)

    @override
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch off through the vendor."""
        await self.entity_description.turn_fn(False)
