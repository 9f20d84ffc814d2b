"""Buttons: one-shot device actions (never destructive ones such as a factory reset)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, override

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import SolarHubEntity, SolarHubEntityDescription, specs_of
from .runtime import SolarHubConfigEntry

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class SolarHubButtonDescription[DataT](SolarHubEntityDescription[DataT], ButtonEntityDescription):
    """A button whose press the vendor carries out."""

    platform: ClassVar[Platform] = Platform.BUTTON
    press_fn: Callable[[], Awaitable[None]]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SolarHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the buttons the entry's vendor offers."""
    async_add_entities(
        SolarHubButton(spec, description)
        for spec, description in specs_of(entry, SolarHubButtonDescription)
    )


class SolarHubButton(SolarHubEntity[SolarHubButtonDescription[Any]], ButtonEntity):
    """A SolarHub button."""

    entity_description: SolarHubButtonDescription[Any]

    @override
    async def async_press(self) -> None:
        """Carry out the action through the vendor."""
        await self.entity_description.press_fn()
