"""Numbers: writable device settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import math
from typing import Any, ClassVar, override

from homeassistant.components.number import NumberEntity, NumberEntityDescription
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .entity import SolarHubEntity, SolarHubEntityDescription, specs_of
from .runtime import SolarHubConfigEntry

PARALLEL_UPDATES = 1  # one write at a time to the device


@dataclass(frozen=True, kw_only=True)
class SolarHubNumberDescription[DataT](SolarHubEntityDescription[DataT], NumberEntityDescription):
    """A number read from coordinator data and written through the vendor.

    ``set_fn`` gets a finite value already rounded to ``native_step``, as the device keeps it.
    """

    platform: ClassVar[Platform] = Platform.NUMBER
    value_fn: Callable[[DataT], float | None]
    set_fn: Callable[[float], Awaitable[None]]


def on_step(value: float, step: float | None, minimum: float | None) -> float:
    """``value`` rounded to the nearest multiple of ``step`` counted from ``minimum``."""
    if not step:
        return value
    base = minimum or 0.0
    return base + round((value - base) / step) * step


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SolarHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the numbers the entry's vendor offers."""
    async_add_entities(
        SolarHubNumber(spec, description)
        for spec, description in specs_of(entry, SolarHubNumberDescription)
    )


class SolarHubNumber(SolarHubEntity[SolarHubNumberDescription[Any]], NumberEntity):
    """A SolarHub number."""

    entity_description: SolarHubNumberDescription[Any]

    @property
    @override
    def native_value(self) -> float | None:
        """Read the value from the coordinator's data."""
        return self.entity_description.value_fn(self.coordinator.data)

    @override
    async def async_set_native_value(self, value: float) -> None:
        """Write the value on the setting's step; the vendor validates it and refreshes."""
        description = self.entity_description
        if not math.isfinite(value):  # NaN and infinities pass Home Assistant's range check
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="setting_invalid",
                translation_placeholders={"value": str(value), "setting": self.entity_id},
            )
        await description.set_fn(
            on_step(value, description.native_step, description.native_min_value)
        )
