"""The entities of a Tigo system: what each shows, on which device, under which unique id."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import (
    EntityCategory,
    Platform,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.util import dt as dt_util

from ...api.tigo.models import Alert, TigoSource
from ...binary_sensor import SolarHubBinarySensorDescription
from ...event import SolarHubEventDescription
from ...sensor import SolarHubSensorDescription
from .coordinator import REPORTING_WINDOW, AlertsData, LiveData
from .options import PARAMS, PanelMetric, TigoOptions
from .topology import Gateway, Group, Panel, Topology


@dataclass(frozen=True, kw_only=True, slots=True)
class TigoEntity:
    """One entity before it meets its coordinator."""

    platform: Platform
    description: Any
    device: DeviceInfo
    unique_id: str
    polls: frozenset[str] | None = None
    alerts: bool = False  # on the alerts coordinator instead of the live one


def _reporting(data: LiveData) -> bool:
    return data.reporting


def _energy(
    key: str, read: Callable[[LiveData], float], *, lifetime: bool
) -> SolarHubSensorDescription:
    """A DC energy counter in Wh, shown in kWh.

    Only the lifetime counter is ``total_increasing``; year and day counters reset and stay out
    of the Energy dashboard (the imported hourly statistic is what belongs there).
    """
    return SolarHubSensorDescription(
        key=key,
        translation_key=key,
        native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
        suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING if lifetime else None,
        value_fn=lambda data: round(read(data)),
    )


def _system(topology: Topology) -> list[TigoEntity]:
    sid = topology.system.system_id
    descriptions = [
        SolarHubSensorDescription(
            key="system_power",
            translation_key="system_power",
            native_unit_of_measurement=UnitOfPower.WATT,
            device_class=SensorDeviceClass.POWER,
            state_class=SensorStateClass.MEASUREMENT,
            value_fn=lambda data: round(data.summary.last_power_dc),
        ),
        _energy("lifetime_energy", lambda data: data.summary.lifetime_energy_dc, lifetime=True),
        _energy("year_energy", lambda data: data.summary.ytd_energy_dc, lifetime=False),
        _energy("day_energy", lambda data: data.summary.daily_energy_dc, lifetime=False),
        SolarHubSensorDescription(
            key="latest_data",
            translation_key="latest_data",
            device_class=SensorDeviceClass.TIMESTAMP,
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=lambda data: data.data_minute,
        ),
    ]
    return [
        TigoEntity(
            platform=Platform.SENSOR,
            description=d,
            device=topology.device,
            unique_id=f"tigo_{sid}_{d.key}",
        )
        for d in descriptions
    ]


def _group(group: Group, kind: str) -> TigoEntity:
    ids = group.object_ids
    return TigoEntity(
        platform=Platform.SENSOR,
        description=SolarHubSensorDescription(
            key="power",
            translation_key="group_power",
            native_unit_of_measurement=UnitOfPower.WATT,
            device_class=SensorDeviceClass.POWER,
            state_class=SensorStateClass.MEASUREMENT,
            value_fn=lambda data: data.group_power(ids),
            available_fn=_reporting,
        ),
        device=group.device,
        unique_id=f"tigo_{kind}_{group.key}_power",
        polls=frozenset({"Pin"}),
    )


PANEL_DESCRIPTIONS: dict[PanelMetric, dict[str, Any]] = {
    PanelMetric.POWER: {
        "native_unit_of_measurement": UnitOfPower.WATT,
        "device_class": SensorDeviceClass.POWER,
        "digits": 1,
    },
    PanelMetric.VOLTAGE: {
        "native_unit_of_measurement": UnitOfElectricPotential.VOLT,
        "device_class": SensorDeviceClass.VOLTAGE,
        "digits": 1,
        "entity_registry_enabled_default": False,
    },
    PanelMetric.CURRENT: {
        "native_unit_of_measurement": UnitOfElectricCurrent.AMPERE,
        "device_class": SensorDeviceClass.CURRENT,
        "digits": 2,
        "entity_registry_enabled_default": False,
    },
    # A raw 0-255 figure from the optimizer's radio, not dBm: no unit, no device class.
    PanelMetric.RSSI: {
        "entity_category": EntityCategory.DIAGNOSTIC,
        "digits": 0,
        "entity_registry_enabled_default": False,
    },
}


def _panel(panel: Panel, metric: PanelMetric) -> TigoEntity:
    param = PARAMS[metric]
    options = dict(PANEL_DESCRIPTIONS[metric])
    digits = options.pop("digits")
    object_id = panel.object_id

    def read(data: LiveData) -> float | None:
        value = data.panel_value(param, object_id)
        return None if value is None else round(value, digits)

    return TigoEntity(
        platform=Platform.SENSOR,
        description=SolarHubSensorDescription(
            key=metric.value,
            translation_key=f"panel_{metric.value}",
            state_class=SensorStateClass.MEASUREMENT,
            value_fn=read,
            available_fn=_reporting,
            **options,
        ),
        device=panel.device,
        unique_id=f"tigo_panel_{panel.key}_{metric.value}",
        polls=frozenset({param}),
    )


def _source(data: LiveData, serial: str) -> TigoSource | None:
    return next((s for s in data.sources if s.serial == serial), None)


def _checked_in(source: TigoSource | None) -> bool | None:
    if source is None or source.last_checkin is None:
        return None
    return dt_util.utcnow() - source.last_checkin <= REPORTING_WINDOW


def _gateway(gateway: Gateway) -> list[TigoEntity]:
    serial = gateway.serial

    def present(data: LiveData) -> bool:
        return _source(data, serial) is not None

    def last_checkin(data: LiveData) -> datetime | None:
        source = _source(data, serial)
        return source.last_checkin if source else None

    def firmware(data: LiveData) -> str | None:
        source = _source(data, serial)
        return source.sw_version if source else None

    def pv_off(data: LiveData) -> bool | None:
        source = _source(data, serial)
        if source is None or source.control_state is None:
            return None
        return source.control_state.lower() == "off"

    sensors = [
        SolarHubSensorDescription(
            key="last_checkin",
            translation_key="last_checkin",
            device_class=SensorDeviceClass.TIMESTAMP,
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=last_checkin,
            available_fn=present,
        ),
        SolarHubSensorDescription(
            key="firmware",
            translation_key="gateway_firmware",
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=firmware,
            available_fn=present,
        ),
    ]
    binary_sensors = [
        SolarHubBinarySensorDescription(
            key="connectivity",
            translation_key="gateway_connectivity",
            device_class=BinarySensorDeviceClass.CONNECTIVITY,
            entity_category=EntityCategory.DIAGNOSTIC,
            is_on_fn=lambda data: _checked_in(_source(data, serial)),
            available_fn=present,
        ),
        SolarHubBinarySensorDescription(
            key="pv_off",
            translation_key="pv_off",
            is_on_fn=pv_off,
            available_fn=present,
        ),
    ]
    return [
        TigoEntity(
            platform=Platform.SENSOR,
            description=d,
            device=gateway.device,
            unique_id=f"tigo_gateway_{serial}_{d.key}",
        )
        for d in sensors
    ] + [
        TigoEntity(
            platform=Platform.BINARY_SENSOR,
            description=d,
            device=gateway.device,
            unique_id=f"tigo_gateway_{serial}_{d.key}",
        )
        for d in binary_sensors
    ]


def _alert_attributes(alert: Alert) -> dict[str, Any]:
    return {
        "alert_id": alert.alert_id,
        "code": alert.unique_id,
        "title": alert.title,
        "message": alert.message,
        "added": alert.added.isoformat(),
    }


# Event types by alert code, so automations can react to a string shutdown in particular.
ALERT_EVENT_TYPES = {
    106: "string_shutdown",
    300: "module_low_power",
    301: "string_low_power",
    1000: "inverter_fault",
}
OTHER_ALERT = "other"


def _new_alerts(data: AlertsData) -> Iterable[tuple[str, Mapping[str, Any]]]:
    for alert in sorted(data.new, key=lambda a: a.added):
        yield ALERT_EVENT_TYPES.get(alert.unique_id, OTHER_ALERT), _alert_attributes(alert)


def _alerts(topology: Topology) -> list[TigoEntity]:
    sid = topology.system.system_id
    return [
        TigoEntity(
            platform=Platform.BINARY_SENSOR,
            description=SolarHubBinarySensorDescription(
                key="alerts",
                translation_key="alerts",
                device_class=BinarySensorDeviceClass.PROBLEM,
                is_on_fn=lambda data: bool(data.active),
                attributes_fn=lambda data: {"alerts": [_alert_attributes(a) for a in data.active]},
            ),
            device=topology.device,
            unique_id=f"tigo_{sid}_alerts",
            alerts=True,
        ),
        TigoEntity(
            platform=Platform.EVENT,
            description=SolarHubEventDescription(
                key="alert",
                translation_key="alert",
                event_types=[*ALERT_EVENT_TYPES.values(), OTHER_ALERT],
                new_events_fn=_new_alerts,
            ),
            device=topology.device,
            unique_id=f"tigo_{sid}_alert",
            alerts=True,
        ),
    ]


def system_entities(topology: Topology, options: TigoOptions) -> list[TigoEntity]:
    """Every entity of one system, for the panel metrics the owner chose."""
    entities = _system(topology)
    entities += [_group(inverter, "inverter") for inverter in topology.inverters]
    entities += [_group(string, "string") for string in topology.strings]
    entities += [
        _panel(panel, metric) for panel in topology.panels for metric in options.panel_metrics
    ]
    for gateway in topology.gateways:
        entities += _gateway(gateway)
    return entities + _alerts(topology)
