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


@dataclass(frozen=True, slots=True)
class Listing[ItemT]:
    """A coordinator's data for listed items: the active ones, and the ones new this cycle."""

    active: tuple[ItemT, ...]
    new: tuple[ItemT, ...]  # picked by ``coordinator.NewItems``


@dataclass(frozen=True, kw_only=True, slots=True)
class ProblemReport[ItemT]:
    """How one vendor's listed items (events, alerts) show."""

    problem_key: str  # key and translation key of the binary sensor
    event_key: str  # key and translation key of the event entity
    attributes_name: str  # the binary sensor's attribute listing the active items
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


def problem_specs[ItemT](
    coordinator: SolarHubCoordinator[Listing[ItemT]],
    device: Identifier,
    report: ProblemReport[ItemT],
) -> list[EntitySpec[Listing[ItemT]]]:
    """The problem binary sensor (on while an item is active) and the event entity."""

    def listed(data: Listing[ItemT]) -> Mapping[str, object]:
        return {report.attributes_name: [report.attributes(i) for i in data.active]}

    def fired(data: Listing[ItemT]) -> Iterable[tuple[str, Mapping[str, object]]]:
        for item in report.oldest_first(data.new):
            yield report.event_type(item), report.attributes(item)

    descriptions: list[SolarHubEntityDescription[Listing[ItemT]]] = [
        SolarHubBinarySensorDescription[Listing[ItemT]](
            key=report.problem_key,
            translation_key=report.problem_key,
            device_class=BinarySensorDeviceClass.PROBLEM,
            is_on_fn=lambda data: bool(data.active),
            attributes_fn=listed,
        ),
        SolarHubEventDescription[Listing[ItemT]](
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
