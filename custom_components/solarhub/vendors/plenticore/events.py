"""The problem binary sensor and the event entity for the inverter's events."""

from __future__ import annotations

from ...api.plenticore.models import InverterEvent
from ...devices import Identifier
from ...entity import EntitySpec
from ...problems import ProblemReport, item_attributes, problem_specs
from .coordinator import EventsCoordinator, EventsData

EVENT_TYPES = ["error", "warning", "info"]
ATTRIBUTES = {
    "code": "code",
    "category": "category",
    "group": "group",
    "description": "description",
    "long_description": "long_description",
    "start_time": "start_time",
}

REPORT = ProblemReport[InverterEvent](
    problem_key="inverter_problem",
    event_key="inverter_event",
    attributes_name="events",
    oldest_first=reversed,  # the inverter lists the newest first
    attributes=lambda event: item_attributes(event, ATTRIBUTES),
    event_types=EVENT_TYPES,
    event_type=lambda event: event.category if event.category in EVENT_TYPES else "info",
)


def event_specs(coordinator: EventsCoordinator, device: Identifier) -> list[EntitySpec[EventsData]]:
    """The problem binary sensor and the event entity."""
    return problem_specs(coordinator, device, REPORT)
