"""The problem binary sensor and the event entity for the inverter's events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass

from ...api.plenticore.models import InverterEvent
from ...binary_sensor import SolarHubBinarySensorDescription
from ...devices import Identifier
from ...entity import EntitySpec
from ...event import SolarHubEventDescription
from .coordinator import EventsCoordinator, EventsData

EVENT_TYPES = ["error", "warning", "info"]


def _attributes(event: InverterEvent) -> dict[str, object]:
    return {
        "code": event.code,
        "category": event.category,
        "group": event.group,
        "description": event.description,
        "long_description": event.long_description,
        "start_time": event.start_time.isoformat(),
    }


def _active_events(data: EventsData) -> Mapping[str, object]:
    return {"events": [_attributes(event) for event in data.active]}


def _new_events(data: EventsData) -> Iterable[tuple[str, Mapping[str, object]]]:
    for event in reversed(data.new):  # oldest first, as they happened
        kind = event.category if event.category in EVENT_TYPES else "info"
        yield kind, _attributes(event)


PROBLEM = SolarHubBinarySensorDescription[EventsData](
    key="inverter_problem",
    translation_key="inverter_problem",
    device_class=BinarySensorDeviceClass.PROBLEM,
    is_on_fn=lambda data: bool(data.active),
    attributes_fn=_active_events,
)
EVENT = SolarHubEventDescription[EventsData](
    key="inverter_event",
    translation_key="inverter_event",
    event_types=EVENT_TYPES,
    new_events_fn=_new_events,
)


def event_specs(coordinator: EventsCoordinator, device: Identifier) -> list[EntitySpec[EventsData]]:
    """The problem binary sensor and the event entity."""
    return [
        EntitySpec(
            coordinator=coordinator, description=description, device=device, key=description.key
        )
        for description in (PROBLEM, EVENT)
    ]
