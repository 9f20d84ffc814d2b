"""Sensors: vendor descriptions read their value from the coordinator's data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, override

from homeassistant.components.sensor import SensorEntity, SensorEntityDescription
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .entity import SolarHubEntity, SolarHubEntityDescription, specs_of
from .runtime import SolarHubConfigEntry

PARALLEL_UPDATES = 0  # coordinators do all the polling


@dataclass(frozen=True, kw_only=True)
class SolarHubSensorDescription[DataT](SolarHubEntityDescription[DataT], SensorEntityDescription):
    """A sensor read from coordinator data.

    ``digits``: the decimals (in the native unit; negative for tens, hundreds) the value really
    has, the inverter's or the precision shown. The state is kept at that resolution, so a value
    that did not visibly change writes no new state.
    """

    platform: ClassVar[Platform] = Platform.SENSOR
    value_fn: Callable[[DataT], StateType | datetime]
    digits: int | None = None


def quantize(value: float, digits: int) -> float | int:
    """``value`` at ``digits`` decimals: an int for whole units, and never ``-0.0``."""
    if digits <= 0:
        return int(round(value, digits))
    return round(value, digits) + 0.0  # adding 0.0 turns -0.0 into 0.0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SolarHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors the entry's vendor offers."""
    async_add_entities(
        SolarHubSensor(spec, description)
        for spec, description in specs_of(entry, SolarHubSensorDescription)
    )


class SolarHubSensor(SolarHubEntity[SolarHubSensorDescription[Any]], SensorEntity):
    """A SolarHub sensor."""

    entity_description: SolarHubSensorDescription[Any]

    @property
    @override
    def native_value(self) -> StateType | datetime:
        """Read the value from the coordinator's data, at the resolution it has."""
        value = self.entity_description.value_fn(self.coordinator.data)
        digits = self.entity_description.digits
        if digits is None or not isinstance(value, int | float) or isinstance(value, bool):
            return value
        return quantize(value, digits)
