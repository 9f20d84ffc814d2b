"""The entities of an Enlighten entry: what each shows, on which device, under which key.

Devices: one per system (id, size, time zone), its Envoys / IQ Gateways as children (serial,
part number), and the entry's account (the key's request budget). Unique ids are
``<device identifier>_<key>``. Every entity carries Enphase's required attribution.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfEnergy, UnitOfPower
from homeassistant.helpers.device_registry import DeviceInfo

from ...api.enlighten.models import Device, SystemStatus
from ...binary_sensor import SolarHubBinarySensorDescription
from ...const import DOMAIN
from ...coordinator import SolarHubCoordinator
from ...devices import Identifier
from ...entity import EntitySpec, SolarHubEntityDescription
from ...event import SolarHubEventDescription
from ...sensor import SolarHubSensorDescription
from .coordinator import (
    BATTERY_KEYS,
    PROBLEMS,
    EnlightenBudgetCoordinator,
    EnlightenSystemCoordinator,
    SystemData,
)
from .planner import BudgetStatus

ATTRIBUTION = "Powered by Enphase Energy"
MANUFACTURER = "Enphase Energy"


def system_identifier(system_id: int) -> Identifier:
    """The device identifier of a system."""
    return (DOMAIN, f"enlighten_system_{system_id}")


def gateway_identifier(serial: str) -> Identifier:
    """The device identifier of an Envoy / IQ Gateway."""
    return (DOMAIN, f"enlighten_envoy_{serial}")


def account_identifier(entry_id: str) -> Identifier:
    """The device identifier of an entry's account (its budget sensors)."""
    return (DOMAIN, f"enlighten_account_{entry_id}")


def system_device(data: SystemData) -> DeviceInfo:
    """A system's device: its id, size and time zone."""
    system, summary = data.system, data.summary
    size = summary.size_w if summary is not None else None
    return DeviceInfo(
        identifiers={system_identifier(system.system_id)},
        manufacturer=MANUFACTURER,
        model="Enlighten system",
        model_id=f"{size / 1000:.2f} kWp" if size else None,
        name=system.name,
        serial_number=str(system.system_id),
        hw_version=system.timezone,
        configuration_url=f"https://enlighten.enphaseenergy.com/systems/{system.system_id}",
    )


def gateway_device(gateway: Device) -> DeviceInfo:
    """An Envoy's device: its serial and part number."""
    return DeviceInfo(
        identifiers={gateway_identifier(gateway.serial_number)},
        manufacturer=MANUFACTURER,
        model=gateway.model or "Envoy",
        model_id=gateway.part_number,
        name=gateway.name or f"Envoy {gateway.serial_number}",
        serial_number=gateway.serial_number,
    )


def devices(data: SystemData) -> list[tuple[DeviceInfo, Identifier | None]]:
    """A system's devices, each after its parent."""
    parent = system_identifier(data.system.system_id)
    return [(system_device(data), None)] + [
        (gateway_device(gateway), parent) for gateway in data.devices.gateways
    ]


Sensor = SolarHubSensorDescription[SystemData]
BinarySensor = SolarHubBinarySensorDescription[SystemData]
BudgetSensor = SolarHubSensorDescription[BudgetStatus]
type Description = SolarHubEntityDescription[SystemData]


def _power(key: str, translation_key: str, read: Callable[[SystemData], float | None]) -> Sensor:
    return Sensor(
        key=key,
        translation_key=translation_key,
        attribution=ATTRIBUTION,
        native_unit_of_measurement=UnitOfPower.WATT,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=read,
        available_fn=lambda data: read(data) is not None,
    )


def _summary_value(read: Callable[[Any], Any]) -> Callable[[SystemData], Any]:
    def value(data: SystemData) -> Any:
        return None if data.summary is None else read(data.summary)

    return value


def _latest(key: str) -> Callable[[SystemData], float | None]:
    def value(data: SystemData) -> float | None:
        return data.recent(key)

    return value


def _soc(data: SystemData) -> float | None:
    """The battery's newest state of charge while the summary still reports a battery.

    The state of charge comes from the battery telemetry, which stops when a battery leaves the
    site; the summary's battery fields go at once, so the last figure is not shown as current.
    """
    summary = data.summary
    if summary is None or (
        summary.battery_capacity_wh is None
        and summary.battery_charge_w is None
        and summary.battery_discharge_w is None
    ):
        return None
    return data.recent("soc")


def _problem_events(data: SystemData) -> Iterable[tuple[str, Mapping[str, Any]]]:
    if data.new_problem is not None:
        yield data.new_problem, {"system_id": data.system.system_id}


def _specs[DataT](
    coordinator: SolarHubCoordinator[DataT],
    device: Identifier,
    descriptions: Iterable[SolarHubEntityDescription[DataT]],
) -> list[EntitySpec[DataT]]:
    return [
        EntitySpec(
            coordinator=coordinator, description=description, device=device, key=description.key
        )
        for description in descriptions
    ]


def _system(coordinator: EnlightenSystemCoordinator, *, v4: bool) -> list[EntitySpec[SystemData]]:
    sensors: list[Description] = [
        _power("power", "solar_power", lambda data: data.current_power),
        Sensor(
            key="energy_today",
            translation_key="solar_energy_day",
            attribution=ATTRIBUTION,
            native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
            suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
            suggested_display_precision=2,
            device_class=SensorDeviceClass.ENERGY,
            value_fn=_summary_value(lambda s: s.energy_today),
            available_fn=lambda data: data.summary is not None,
        ),
        Sensor(
            key="lifetime_energy",
            translation_key="solar_energy_lifetime",
            attribution=ATTRIBUTION,
            native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
            suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
            suggested_display_precision=2,
            device_class=SensorDeviceClass.ENERGY,
            state_class=SensorStateClass.TOTAL_INCREASING,
            value_fn=lambda data: data.lifetime_wh,
            available_fn=lambda data: data.lifetime_wh is not None,
        ),
        Sensor(
            key="status",
            translation_key="system_status",
            attribution=ATTRIBUTION,
            device_class=SensorDeviceClass.ENUM,
            options=[status.value for status in SystemStatus],
            value_fn=lambda data: data.status,
            available_fn=lambda data: data.summary is not None,
        ),
        Sensor(
            key="last_report",
            translation_key="last_report",
            attribution=ATTRIBUTION,
            device_class=SensorDeviceClass.TIMESTAMP,
            value_fn=_summary_value(lambda s: s.last_report_at),
            available_fn=lambda data: data.summary is not None,
        ),
        Sensor(
            key="last_interval",
            translation_key="last_interval",
            attribution=ATTRIBUTION,
            device_class=SensorDeviceClass.TIMESTAMP,
            value_fn=_summary_value(lambda s: s.last_interval_end_at),
            available_fn=lambda data: data.summary is not None,
        ),
        Sensor(
            key="modules",
            translation_key="modules",
            attribution=ATTRIBUTION,
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=_summary_value(lambda s: s.modules),
            available_fn=lambda data: data.summary is not None,
        ),
        Sensor(
            key="size",
            translation_key="system_size",
            attribution=ATTRIBUTION,
            native_unit_of_measurement=UnitOfPower.WATT,
            device_class=SensorDeviceClass.POWER,
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=_summary_value(lambda s: s.size_w),
            available_fn=lambda data: data.summary is not None,
        ),
        Sensor(
            key="source",
            translation_key="data_source",
            attribution=ATTRIBUTION,
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=_summary_value(lambda s: s.source),
            available_fn=lambda data: data.summary is not None,
        ),
    ]
    others: list[Description] = [
        BinarySensor(
            key="problem",
            translation_key="system_problem",
            attribution=ATTRIBUTION,
            device_class=BinarySensorDeviceClass.PROBLEM,
            is_on_fn=lambda data: None if data.status is None else data.status in PROBLEMS,
            attributes_fn=lambda data: {"status": data.status},
            available_fn=lambda data: data.summary is not None,
        ),
        SolarHubEventDescription[SystemData](
            key="status_change",
            translation_key="status_change",
            attribution=ATTRIBUTION,
            event_types=list(PROBLEMS),
            new_events_fn=_problem_events,
        ),
    ]
    if v4 and coordinator.devices.has_battery:
        power, capacity, soc = BATTERY_KEYS
        sensors += [
            _power(
                power,
                "battery_power",
                _summary_value(
                    lambda s: (
                        None
                        if s.battery_charge_w is None and s.battery_discharge_w is None
                        else (s.battery_discharge_w or 0.0) - (s.battery_charge_w or 0.0)
                    )
                ),
            ),
            Sensor(
                key=capacity,
                translation_key="battery_capacity",
                attribution=ATTRIBUTION,
                native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
                suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
                device_class=SensorDeviceClass.ENERGY_STORAGE,
                entity_category=EntityCategory.DIAGNOSTIC,
                value_fn=_summary_value(lambda s: s.battery_capacity_wh),
                available_fn=_summary_value(lambda s: s.battery_capacity_wh is not None),
            ),
            Sensor(
                key=soc,
                translation_key="battery_soc",
                attribution=ATTRIBUTION,
                native_unit_of_measurement=PERCENTAGE,
                device_class=SensorDeviceClass.BATTERY,
                state_class=SensorStateClass.MEASUREMENT,
                value_fn=_soc,
                available_fn=lambda data: _soc(data) is not None,
            ),
        ]
    if v4 and coordinator.devices.meters:
        sensors += [
            _power(key, key, _latest(key))
            for key in ("consumption_power", "grid_import_power", "grid_export_power")
        ]
    return _specs(coordinator, system_identifier(coordinator.system_id), sensors + others)


def _gateway(coordinator: EnlightenSystemCoordinator, serial: str) -> list[EntitySpec[SystemData]]:
    def gateway(data: SystemData) -> Device | None:
        return next((g for g in data.devices.gateways if g.serial_number == serial), None)

    def last_report(data: SystemData) -> datetime | None:
        found = gateway(data)
        reports = [found.last_report_at] if found is not None and found.last_report_at else []
        if data.summary is not None and data.summary.last_report_at is not None:
            reports.append(data.summary.last_report_at)  # the system's report is the Envoy's
        return max(reports, default=None)

    def connected(data: SystemData) -> bool | None:
        report = last_report(data)
        return None if report is None else not data.silent(report)

    descriptions: list[Description] = [
        BinarySensor(
            key="connectivity",
            translation_key="envoy_connectivity",
            attribution=ATTRIBUTION,
            device_class=BinarySensorDeviceClass.CONNECTIVITY,
            entity_category=EntityCategory.DIAGNOSTIC,
            is_on_fn=connected,
        ),
        Sensor(
            key="last_report",
            translation_key="last_report",
            attribution=ATTRIBUTION,
            device_class=SensorDeviceClass.TIMESTAMP,
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=last_report,
        ),
    ]
    return _specs(coordinator, gateway_identifier(serial), descriptions)


def system_entities(
    coordinator: EnlightenSystemCoordinator, *, v4: bool
) -> list[EntitySpec[SystemData]]:
    """Every entity of a system and its Envoys."""
    entities = _system(coordinator, v4=v4)
    for gateway in coordinator.devices.gateways:
        entities += _gateway(coordinator, gateway.serial_number)
    return entities


def _budget_state(status: BudgetStatus) -> str:
    return "exhausted" if status.exhausted_until is not None else "ok"


def budget_entities(
    coordinator: EnlightenBudgetCoordinator, entry_id: str
) -> list[EntitySpec[BudgetStatus]]:
    """The account's budget sensors (diagnostic)."""
    descriptions = [
        BudgetSensor(
            key="requests_this_month",
            translation_key="requests_this_month",
            attribution=ATTRIBUTION,
            entity_category=EntityCategory.DIAGNOSTIC,
            state_class=SensorStateClass.TOTAL,
            value_fn=lambda status: status.requests_this_month,
        ),
        BudgetSensor(
            key="monthly_limit",
            translation_key="monthly_limit",
            attribution=ATTRIBUTION,
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=lambda status: status.monthly_limit,
        ),
        BudgetSensor(
            key="next_poll",
            translation_key="next_poll",
            attribution=ATTRIBUTION,
            device_class=SensorDeviceClass.TIMESTAMP,
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=lambda status: status.next_poll,
        ),
        BudgetSensor(
            key="budget_state",
            translation_key="budget_state",
            attribution=ATTRIBUTION,
            device_class=SensorDeviceClass.ENUM,
            options=["ok", "exhausted"],
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=_budget_state,
        ),
    ]
    return _specs(coordinator, account_identifier(entry_id), descriptions)


def account_device(entry_id: str, title: str) -> DeviceInfo:
    """The entry's account device, holding the budget sensors."""
    return DeviceInfo(
        identifiers={account_identifier(entry_id)},
        manufacturer=MANUFACTURER,
        model="Enlighten API account",
        name=title,
    )
