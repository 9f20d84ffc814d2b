"""A Tigo system's structure: inverters, strings, panels and gateways, and their devices.

Built from ``systems/layout`` (labels, serials) and ``objects/system`` (the object ids the data
endpoints use). Device identifiers and unique ids come from serials where the cloud has them and
from labels otherwise, never from list positions, so panels survive re-ordering and upgrades.
"""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.helpers.device_registry import DeviceInfo

from ...api.tigo.models import (
    LayoutInverter,
    LayoutString,
    SystemLayout,
    TigoObject,
    TigoSource,
    TigoSystem,
)
from ...const import DOMAIN
from ...devices import Identifier

MANUFACTURER = "Tigo Energy"


@dataclass(frozen=True, kw_only=True, slots=True)
class Panel:
    """One optimizer and the object id its data is reported under."""

    key: str  # serial, or system + label when the cloud has no serial
    label: str
    serial: str | None
    object_id: int
    device: DeviceInfo
    parent: Identifier


@dataclass(frozen=True, kw_only=True, slots=True)
class Group:
    """An inverter or a string: its panels' object ids, summed for its power."""

    key: str
    label: str
    object_ids: frozenset[int]
    device: DeviceInfo
    parent: Identifier


@dataclass(frozen=True, kw_only=True, slots=True)
class Gateway:
    """A Cloud Connect / gateway of ``sources/system``."""

    key: str
    serial: str
    device: DeviceInfo
    parent: Identifier


@dataclass(frozen=True, kw_only=True, slots=True)
class Topology:
    """Everything about a system that changes only when its configuration changes."""

    system: TigoSystem
    root_object_id: int | None  # the system object, for system-level ``data/combined``
    device: DeviceInfo
    inverters: tuple[Group, ...]
    strings: tuple[Group, ...]
    panels: tuple[Panel, ...]
    gateways: tuple[Gateway, ...]

    @property
    def panel_object_ids(self) -> frozenset[int]:
        """The object ids of every panel."""
        return frozenset(panel.object_id for panel in self.panels)

    def signature(self) -> tuple[object, ...]:
        """What entities depend on: every device with its name, and the panels' object ids."""
        return (
            tuple(
                (tuple(sorted(d.get("identifiers", ()))), d.get("name")) for d, _ in self.devices()
            ),
            tuple(sorted(panel.object_id for panel in self.panels)),
        )

    def devices(self) -> list[tuple[DeviceInfo, Identifier | None]]:
        """Every device of the system with its parent's identifier, parents first."""
        nodes: list[Group | Panel | Gateway] = [
            *self.inverters,
            *self.strings,
            *self.panels,
            *self.gateways,
        ]
        return [(self.device, None), *((node.device, node.parent) for node in nodes)]


def _system_identifier(system_id: int) -> Identifier:
    return (DOMAIN, f"tigo_system_{system_id}")


def build_topology(
    system: TigoSystem,
    layout: SystemLayout,
    objects: list[TigoObject],
    sources: list[TigoSource],
) -> Topology:
    """Combine layout, objects and sources into devices and data keys."""
    system_id = system.system_id
    system_device = DeviceInfo(
        identifiers={_system_identifier(system_id)},
        manufacturer=MANUFACTURER,
        model="Tigo system",
        name=system.name,
        configuration_url="https://ei.tigoenergy.com/",
    )
    object_ids_by_label = {obj.label: obj.id for obj in objects if obj.datasource}
    root = next((obj.id for obj in objects if obj.parent_id == -1), None)
    inverters: list[Group] = []
    strings: list[Group] = []
    panels: list[Panel] = []
    for inverter in layout.inverters:
        inverter_key = f"{system_id}_{inverter.serial or inverter.label}"
        inverter_identifier = (DOMAIN, f"tigo_inverter_{inverter_key}")
        inverter_panels: set[int] = set()
        for string in _strings(inverter):
            string_key = f"{inverter_key}_{string.label}"
            string_identifier = (DOMAIN, f"tigo_string_{string_key}")
            string_panels: set[int] = set()
            for layout_panel in string.panels:
                object_id = layout_panel.object_id or object_ids_by_label.get(layout_panel.label)
                if object_id is None:
                    continue  # nothing reports under it
                key = layout_panel.serial or f"{system_id}_{layout_panel.label}"
                panels.append(
                    Panel(
                        key=key,
                        label=layout_panel.label,
                        serial=layout_panel.serial,
                        object_id=object_id,
                        device=DeviceInfo(
                            identifiers={(DOMAIN, f"tigo_panel_{key}")},
                            manufacturer=MANUFACTURER,
                            model="Optimizer",
                            name=f"{system.name} panel {layout_panel.label}",
                            serial_number=layout_panel.serial,
                        ),
                        parent=string_identifier,
                    )
                )
                string_panels.add(object_id)
            inverter_panels |= string_panels
            strings.append(
                Group(
                    key=string_key,
                    label=string.label,
                    object_ids=frozenset(string_panels),
                    device=DeviceInfo(
                        identifiers={string_identifier},
                        manufacturer=MANUFACTURER,
                        model="String",
                        name=f"{system.name} {string.label}",
                    ),
                    parent=inverter_identifier,
                )
            )
        inverters.append(
            Group(
                key=inverter_key,
                label=inverter.label,
                object_ids=frozenset(inverter_panels),
                device=DeviceInfo(
                    identifiers={inverter_identifier},
                    manufacturer=MANUFACTURER,
                    model="Inverter",
                    name=f"{system.name} {inverter.label}",
                    serial_number=inverter.serial,
                ),
                parent=_system_identifier(system_id),
            )
        )
    gateways = tuple(
        Gateway(
            key=source.serial,
            serial=source.serial,
            device=DeviceInfo(
                identifiers={(DOMAIN, f"tigo_gateway_{source.serial}")},
                manufacturer=MANUFACTURER,
                model="Cloud Connect",
                name=f"{system.name} {source.name}",
                serial_number=source.serial,
                sw_version=source.sw_version,
            ),
            parent=_system_identifier(system_id),
        )
        for source in sources
    )
    return Topology(
        system=system,
        root_object_id=root,
        device=system_device,
        inverters=tuple(inverters),
        strings=tuple(strings),
        panels=tuple(panels),
        gateways=gateways,
    )


def _strings(inverter: LayoutInverter) -> list[LayoutString]:
    return [string for mppt in inverter.mppts for string in mppt.strings]
