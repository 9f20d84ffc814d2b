"""The entities of a Tigo system: what each shows, on which device, under which key."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import (
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.util import dt as dt_util

from ...api.tigo.models import Alert, TigoSource
from ...binary_sensor import SolarHubBinarySensorDescription
from ...devices import identifier_of
from ...entity import EntitySpec, SolarHubEntityDescription
from ...problems import ProblemReport, item_attributes, problem_specs
from ...sensor import SolarHubSensorDescription
from .coordinator import (
    REPORTING_WINDOW,
    LiveData,
    TigoAlertsCoordinator,
    TigoLiveCoordinator,
)
from .options import PARAMS, PanelMetric, TigoOptions
from .topology import Gateway, Group, Panel, Topology

Sensor = SolarHubSensorDescription[LiveData]
BinarySensor = SolarHubBinarySensorDescription[LiveData]


def _live(
    coordinator: TigoLiveCoordinator,
    device: DeviceInfo,
    descriptions: Iterable[SolarHubEntityDescription[LiveData]],
    polls: frozenset[str] = frozenset(),
) -> list[EntitySpec[LiveData]]:
    return [
        EntitySpec(
            coordinator=coordinator,
            description=description,
            device=identifier_of(device),
            key=description.key,
            polls=polls,
        )
        for description in descriptions
    ]


def _reporting(data: LiveData) -> bool:
    return data.reporting


def _energy(
    key: str, translation_key: str, read: Callable[[LiveData], float], *, lifetime: bool
) -> Sensor:
    """A DC energy counter in Wh, shown in kWh.

    Only the lifetime counter is ``total_increasing``; year and day counters reset and stay out
    of the Energy dashboard (the imported hourly statistic is what belongs there). Kept to
    10 Wh, the precision shown.
    """
    return Sensor(
        key=key,
        translation_key=translation_key,
        native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
        suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        digits=-1,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING if lifetime else None,
        value_fn=read,
    )


def _system(topology: Topology, live: TigoLiveCoordinator) -> list[EntitySpec[LiveData]]:
    descriptions = [
        Sensor(
            key="system_power",
            translation_key="solar_power",  # beside an inverter's home power: say it is solar
            native_unit_of_measurement=UnitOfPower.WATT,
            device_class=SensorDeviceClass.POWER,
            state_class=SensorStateClass.MEASUREMENT,
            suggested_display_precision=0,
            digits=0,
            value_fn=lambda data: data.summary.last_power_dc,
        ),
        _energy(
            "lifetime_energy",
            "solar_energy_lifetime",
            lambda data: data.summary.lifetime_energy_dc,
            lifetime=True,
        ),
        _energy(
            "year_energy",
            "solar_energy_year",
            lambda data: data.summary.ytd_energy_dc,
            lifetime=False,
        ),
        _energy(
            "day_energy",
            "solar_energy_day",
            lambda data: data.summary.daily_energy_dc,
            lifetime=False,
        ),
        Sensor(
            key="latest_data",
            translation_key="latest_data",
            device_class=SensorDeviceClass.TIMESTAMP,
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=lambda data: data.data_minute,
        ),
    ]
    return _live(live, topology.device, descriptions)


def _group(group: Group, live: TigoLiveCoordinator) -> list[EntitySpec[LiveData]]:
    ids = group.object_ids
    power = Sensor(
        key="power",
        translation_key="group_power",
        native_unit_of_measurement=UnitOfPower.WATT,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        digits=1,
        value_fn=lambda data: data.group_power(ids),
        available_fn=_reporting,
    )
    return _live(live, group.device, [power], frozenset({"Pin"}))


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
    },
    PanelMetric.CURRENT: {
        "native_unit_of_measurement": UnitOfElectricCurrent.AMPERE,
        "device_class": SensorDeviceClass.CURRENT,
        "digits": 2,
    },
    # A raw 0-255 figure from the optimizer's radio, not dBm: no unit, no device class.
    PanelMetric.RSSI: {
        "entity_category": EntityCategory.DIAGNOSTIC,
        "digits": 0,
    },
}


def _panel(
    panel: Panel, metric: PanelMetric, live: TigoLiveCoordinator
) -> list[EntitySpec[LiveData]]:
    """A chosen metric of a panel; chosen in the options, so enabled."""
    param = PARAMS[metric]
    options = dict(PANEL_DESCRIPTIONS[metric])
    digits = options.pop("digits")
    object_id = panel.object_id
    description = Sensor(
        key=metric.value,
        translation_key=f"panel_{metric.value}",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=digits,
        digits=digits,
        value_fn=lambda data: data.panel_value(param, object_id),
        available_fn=_reporting,
        **options,
    )
    return _live(live, panel.device, [description], frozenset({param}))


def _source(data: LiveData, serial: str) -> TigoSource | None:
    return next((s for s in data.sources if s.serial == serial), None)


def _checked_in(source: TigoSource | None) -> bool | None:
    if source is None or source.last_checkin is None:
        return None
    return dt_util.utcnow() - source.last_checkin <= REPORTING_WINDOW


def _gateway(gateway: Gateway, live: TigoLiveCoordinator) -> list[EntitySpec[LiveData]]:
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

    descriptions: list[SolarHubEntityDescription[LiveData]] = [
        Sensor(
            key="last_checkin",
            translation_key="last_checkin",
            device_class=SensorDeviceClass.TIMESTAMP,
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=last_checkin,
            available_fn=present,
        ),
        Sensor(
            key="firmware",
            translation_key="gateway_firmware",
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=firmware,
            available_fn=present,
        ),
        BinarySensor(
            key="connectivity",
            translation_key="gateway_connectivity",
            device_class=BinarySensorDeviceClass.CONNECTIVITY,
            entity_category=EntityCategory.DIAGNOSTIC,
            is_on_fn=lambda data: _checked_in(_source(data, serial)),
            available_fn=present,
        ),
        BinarySensor(
            key="pv_off",
            translation_key="pv_off",
            is_on_fn=pv_off,
            available_fn=present,
        ),
    ]
    return _live(live, gateway.device, descriptions)


ALERT_ATTRIBUTES = {
    "alert_id": "alert_id",
    "unique_id": "code",
    "title": "title",
    "message": "message",
    "added": "added",
}


# Event types by alert code, so automations can react to a string shutdown in particular.
ALERT_EVENT_TYPES = {
    106: "string_shutdown",
    300: "module_low_power",
    301: "string_low_power",
    1000: "inverter_fault",
}
OTHER_ALERT = "other"


ALERTS = ProblemReport[Alert](
    problem_key="alerts",
    event_key="alert",
    attributes_name="alerts",
    oldest_first=lambda alerts: sorted(alerts, key=lambda a: a.added),
    attributes=lambda alert: item_attributes(alert, ALERT_ATTRIBUTES),
    event_types=[*ALERT_EVENT_TYPES.values(), OTHER_ALERT],
    event_type=lambda alert: ALERT_EVENT_TYPES.get(alert.unique_id, OTHER_ALERT),
)


def system_entities(
    topology: Topology,
    options: TigoOptions,
    live: TigoLiveCoordinator,
    alerts: TigoAlertsCoordinator,
) -> list[EntitySpec[Any]]:
    """Every entity of one system, for the panel metrics the owner chose."""
    specs: list[EntitySpec[Any]] = [*_system(topology, live)]
    for group in (*topology.inverters, *topology.strings):
        specs += _group(group, live)
    for panel in topology.panels:
        for metric in options.panel_metrics:
            specs += _panel(panel, metric, live)
    for gateway in topology.gateways:
        specs += _gateway(gateway, live)
    return specs + problem_specs(alerts, identifier_of(topology.device), ALERTS)
