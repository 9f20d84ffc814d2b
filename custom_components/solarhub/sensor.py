"""Sensors: vendor descriptions read their value from the coordinator's data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, override

from homeassistant.components.sensor import SensorEntity, SensorEntityDescription
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .entity import SolarHubEntity, SolarHubEntityDescription
from .runtime import SolarHubConfigEntry

PARALLEL_UPDATES = 0  # coordinators do all the polling


@dataclass(frozen=True, kw_only=True)
class SolarHubSensorDescription(SolarHubEntityDescription, SensorEntityDescription):
    """A sensor read from coordinator data."""

    value_fn: Callable[[Any], StateType | datetime]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SolarHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors the entry's vendor offers."""
    async_add_entities(
        SolarHubSensor(spec) for spec in entry.runtime_data.entity_specs(Platform.SENSOR)
    )


class SolarHubSensor(SolarHubEntity[SolarHubSensorDescription], SensorEntity):
    """A SolarHub sensor."""

    entity_description: SolarHubSensorDescription

    @property
    @override
    def native_value(self) -> StateType | datetime:
        """Read the value from the coordinator's data."""
        return self.entity_description.value_fn(self.coordinator.data)
