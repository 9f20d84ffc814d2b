"""Event entities: fire once for every new vendor event or alert."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, override

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import SolarHubEntity, SolarHubEntityDescription, specs_of
from .runtime import SolarHubConfigEntry

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class SolarHubEventDescription[DataT](SolarHubEntityDescription[DataT], EventEntityDescription):
    """Events read from coordinator data.

    ``new_events_fn`` returns (event type, attributes) for what is new in this update only;
    the coordinator decides what is new, so an event fires once even across entity reloads.
    """

    platform: ClassVar[Platform] = Platform.EVENT
    new_events_fn: Callable[[DataT], Iterable[tuple[str, Mapping[str, object]]]]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SolarHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the event entities the entry's vendor offers."""
    async_add_entities(
        SolarHubEvent(spec, description)
        for spec, description in specs_of(entry, SolarHubEventDescription)
    )


class SolarHubEvent(SolarHubEntity[SolarHubEventDescription[Any]], EventEntity):
    """A SolarHub event entity."""

    entity_description: SolarHubEventDescription[Any]

    @override
    async def async_added_to_hass(self) -> None:
        """Fire what the poll just before the entity existed found (e.g. during a reload)."""
        await super().async_added_to_hass()
        self._fire_new_events()

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        self._fire_new_events()
        super()._handle_coordinator_update()

    @callback
    def _fire_new_events(self) -> None:
        for event_type, attributes in self.entity_description.new_events_fn(self.coordinator.data):
            self._trigger_event(event_type, dict(attributes))
