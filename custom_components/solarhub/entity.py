"""The base of every SolarHub entity, and the spec through which a vendor hands one to a platform.

A vendor runtime returns one list of ``EntitySpec``s. Each spec pairs a coordinator with a
description generic over that coordinator's data type, so ``mypy --strict`` checks every ``*_fn``
against the data it reads. Platforms know nothing of vendors: each takes the specs whose
description is its own kind.

Unique ids follow one scheme in every vendor: ``<device identifier>_<key>``, the key being stable
within its device (a data point, a setting, a metric).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, override

from homeassistant.const import Platform
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import SolarHubCoordinator
from .devices import Identifier

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .runtime import SolarHubConfigEntry


def _always_available(_data: object) -> bool:
    return True


@dataclass(frozen=True, kw_only=True)
class SolarHubEntityDescription[DataT](EntityDescription):
    """Fields every SolarHub description has, on top of Home Assistant's own."""

    platform: ClassVar[Platform]  # set by each platform's description class
    # False when the data point this entity shows is missing from the coordinator's data.
    available_fn: Callable[[DataT], bool] = _always_available
    # Where a vendor's terms require it (Enlighten: "Powered by Enphase Energy").
    attribution: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class EntitySpec[DataT]:
    """Everything a platform needs to build one entity."""

    coordinator: SolarHubCoordinator[DataT]
    description: SolarHubEntityDescription[DataT]
    device: Identifier  # registered by the vendor at setup (see ``devices.register_devices``)
    key: str  # stable within the device
    # The data points this entity needs polled; coordinators fetch the union over their listeners,
    # so a disabled entity costs no request.
    polls: frozenset[Hashable] = frozenset()

    @property
    def unique_id(self) -> str:
        """``<device identifier>_<key>``, the same scheme for every vendor."""
        return f"{self.device[1]}_{self.key}"


def specs_of[DescriptionT: SolarHubEntityDescription[Any]](
    entry: SolarHubConfigEntry, kind: type[DescriptionT]
) -> Iterator[tuple[EntitySpec[Any], DescriptionT]]:
    """The entry's specs whose description is of ``kind`` (one platform's), with it."""
    for spec in entry.runtime_data.specs:
        if isinstance(description := spec.description, kind):
            yield spec, description


def expect_requests(
    hass: HomeAssistant, entry: SolarHubConfigEntry, specs: Iterable[EntitySpec[Any]]
) -> None:
    """Tell each coordinator what its entities will request, before any of them listens.

    An entity counts when the registry has it enabled or, new, when it is enabled by default;
    so the first poll fetches exactly what the entities shown after it need.
    """
    registry = er.async_get(hass)
    expected: dict[SolarHubCoordinator[Any], set[Hashable]] = {}
    for spec in specs:
        points = expected.setdefault(spec.coordinator, set())
        entity_id = registry.async_get_entity_id(spec.description.platform, DOMAIN, spec.unique_id)
        registered = registry.async_get(entity_id) if entity_id else None
        enabled = (
            registered.disabled_by is None
            if registered is not None
            else spec.description.entity_registry_enabled_default
        )
        if enabled:
            points |= spec.polls
    for coordinator, points in expected.items():
        coordinator.expect(frozenset(points))


class SolarHubEntity[DescriptionT: SolarHubEntityDescription[Any]](
    CoordinatorEntity[SolarHubCoordinator[Any]]
):
    """An entity built from an ``EntitySpec``; the platform passes the narrowed description."""

    _attr_has_entity_name = True

    def __init__(self, spec: EntitySpec[Any], description: DescriptionT) -> None:
        """Take the coordinator, description, device and unique id from the spec."""
        super().__init__(spec.coordinator, context=spec.polls)
        self.entity_description = description
        self._attr_unique_id = spec.unique_id
        # Devices are registered by the vendor at setup, parents first; entities only link.
        self._attr_device_info = DeviceInfo(identifiers={spec.device})
        self._available_fn = description.available_fn
        self._attr_attribution = description.attribution

    @property
    @override
    def available(self) -> bool:
        """Unavailable when the poll failed or the data point is gone: never a made-up value."""
        return super().available and self._available_fn(self.coordinator.data)
