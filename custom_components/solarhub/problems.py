"""A vendor's events or alerts as entities: a problem binary sensor and an event entity.

Every vendor that lists events (the PLENTICORE's, Tigo's alerts, Enlighten's status changes)
declares a ``ProblemReport`` and gets the same two entities from ``problem_specs``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass

from .binary_sensor import SolarHubBinarySensorDescription
from .coordinator import SolarHubCoordinator
from .devices import Identifier
from .entity import EntitySpec, SolarHubEntityDescription
from .event import SolarHubEventDescription


@dataclass(frozen=True, kw_only=True, slots=True)
class ProblemReport[DataT, ItemT]:
    """How one vendor's listed items (events, alerts) read from its coordinator's data."""

    problem_key: str  # key and translation key of the binary sensor
    event_key: str  # key and translation key of the event entity
    attributes_name: str  # the binary sensor's attribute listing the active items
    active: Callable[[DataT], Sequence[ItemT]]
    new: Callable[[DataT], Sequence[ItemT]]  # since the last cycle (``coordinator.NewItems``)
    oldest_first: Callable[[Sequence[ItemT]], Iterable[ItemT]]
    attributes: Callable[[ItemT], Mapping[str, object]]
    event_types: list[str]
    event_type: Callable[[ItemT], str]


def item_attributes(item: object, fields: Mapping[str, str]) -> dict[str, object]:
    """``{shown name: item.<field>}`` for ``fields``; datetimes in ISO 8601."""
    attributes: dict[str, object] = {}
    for field, name in fields.items():
        value = getattr(item, field)
        attributes[name] = value.isoformat() if isinstance(value, datetime) else value
    return attributes


def problem_specs[DataT, ItemT](
    coordinator: SolarHubCoordinator[DataT],
    device: Identifier,
    report: ProblemReport[DataT, ItemT],
) -> list[EntitySpec[DataT]]:
    """The problem binary sensor (on while an item is active) and the event entity."""

    def listed(data: DataT) -> Mapping[str, object]:
        return {report.attributes_name: [report.attributes(i) for i in report.active(data)]}

    def fired(data: DataT) -> Iterable[tuple[str, Mapping[str, object]]]:
        for item in report.oldest_first(report.new(data)):
            yield report.event_type(item), report.attributes(item)

    descriptions: list[SolarHubEntityDescription[DataT]] = [
        SolarHubBinarySensorDescription[DataT](
            key=report.problem_key,
            translation_key=report.problem_key,
            device_class=BinarySensorDeviceClass.PROBLEM,
            is_on_fn=lambda data: bool(report.active(data)),
            attributes_fn=listed,
        ),
        SolarHubEventDescription[DataT](
            key=report.event_key,
            translation_key=report.event_key,
            event_types=report.event_types,
            new_events_fn=fired,
        ),
    ]
    return [
        EntitySpec(coordinator=coordinator, description=d, device=device, key=d.key)
        for d in descriptions
    ]
