"""Sensor descriptions for the PLENTICORE's process data (and what is derived from it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfFrequency,
    UnitOfPower,
)
from homeassistant.helpers.typing import StateType

from ...sensor import SolarHubSensorDescription
from .coordinator import DataPoint, LiveData
from .derived import DerivedValue, solar_production

LOCAL = "devices:local"
AC = "devices:local:ac"
BATTERY = "devices:local:battery"
ENERGY_FLOW = "scb:statistic:EnergyFlow"
PERIODS = ("Day", "Month", "Year", "Total")
MAX_STRINGS = 3

# Inverter:State and EM_State as the inverter numbers them.
INVERTER_STATES = {
    0: "off",
    1: "init",
    2: "iso_meas",
    3: "grid_check",
    4: "start_up",
    6: "feed_in",
    7: "throttled",
    8: "ext_switch_off",
    9: "update",
    10: "standby",
    11: "grid_sync",
    12: "grid_pre_check",
    13: "grid_switch_off",
    14: "overheating",
    15: "shutdown",
    16: "improper_dc_voltage",
    17: "esb",
}
ENERGY_MANAGER_STATES = {
    0: "idle",
    2: "emergency_battery_charge",
    8: "winter_mode_step_1",
    16: "winter_mode_step_2",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class PlenticoreSensor:
    """One sensor: its description and the process-data points it needs."""

    description: SolarHubSensorDescription
    point: DataPoint  # what it shows; also its unique id
    polls: frozenset[DataPoint]


type Reader = Callable[[LiveData], StateType]


def _value(point: DataPoint, digits: int | None) -> Reader:
    def read(data: LiveData) -> StateType:
        if (value := data.get(point)) is None:
            return None
        return round(value, digits) if digits is not None else value

    return read


def _enum(point: DataPoint, states: dict[int, str]) -> Reader:
    def read(data: LiveData) -> StateType:
        if (value := data.get(point)) is None:
            return None
        return states.get(int(value))  # an unknown code shows as unknown, never as a wrong state

    return read


def _present(point: DataPoint) -> Callable[[LiveData], bool]:
    return lambda data: data.get(point) is not None


def _sensor(
    point: DataPoint,
    key: str,
    *,
    digits: int | None = 0,
    polls: frozenset[DataPoint] | None = None,
    **kwargs: Any,
) -> PlenticoreSensor:
    kwargs.setdefault("value_fn", _value(point, digits))
    description = SolarHubSensorDescription(
        key=key,
        translation_key=key,
        available_fn=_present(point),
        **kwargs,
    )
    return PlenticoreSensor(description=description, point=point, polls=polls or frozenset({point}))


def _measurement(
    unit: str, device_class: SensorDeviceClass, digits: int
) -> Callable[..., PlenticoreSensor]:
    """A builder of one kind of measured value (power, voltage, current)."""

    def build(
        point: DataPoint, key: str, *, enabled: bool = True, **kwargs: Any
    ) -> PlenticoreSensor:
        return _sensor(
            point,
            key,
            digits=digits,
            native_unit_of_measurement=unit,
            device_class=device_class,
            state_class=SensorStateClass.MEASUREMENT,
            entity_registry_enabled_default=enabled,
            **kwargs,
        )

    return build


_power = _measurement(UnitOfPower.WATT, SensorDeviceClass.POWER, 0)
_voltage = _measurement(UnitOfElectricPotential.VOLT, SensorDeviceClass.VOLTAGE, 1)
_current = _measurement(UnitOfElectricCurrent.AMPERE, SensorDeviceClass.CURRENT, 2)


def _energy(point: DataPoint, key: str, period: str, **kwargs: Any) -> PlenticoreSensor:
    """An energy counter in Wh, shown in kWh.

    Only lifetime totals are ``total_increasing``, so the Energy dashboard offers exactly the
    counters that never reset; the day/month/year counters are for display. Values are kept to
    10 Wh, the precision shown, so a counter does not write a new state on every poll.
    """
    return _sensor(
        point,
        f"{key}_{period.lower()}",
        digits=-1,
        native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
        suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING if period == "Total" else None,
        entity_registry_enabled_default=period in ("Day", "Total"),
        **kwargs,
    )


ENERGY_COUNTERS = {
    "EnergyHome": "home_consumption",
    "EnergyHomePv": "home_consumption_from_pv",
    "EnergyHomeBat": "home_consumption_from_battery",
    "EnergyHomeGrid": "home_consumption_from_grid",
    "Yield": "inverter_yield",
    "EnergyChargePv": "battery_charge_from_pv",
    "EnergyChargeGrid": "battery_charge_from_grid",
    "EnergyDischarge": "battery_discharge",
    "EnergyDischargeGrid": "battery_discharge_to_grid",
}
RATES = {"Autarky": "autarky", "OwnConsumptionRate": "own_consumption_rate"}


def _flow(name: str, period: str) -> DataPoint:
    return (ENERGY_FLOW, f"Statistic:{name}:{period}")


def derived_values(available: frozenset[DataPoint]) -> list[DerivedValue]:
    """Derive what this inverter's data allows.

    Total PV power over the strings it has; grid feed-in, grid import and battery charge per period.
    """
    strings = tuple(
        point
        for n in range(1, MAX_STRINGS + 1)
        if (point := (f"devices:local:pv{n}", "P")) in available
    )
    values = [DerivedValue(key="pv_power", plus=strings)] if strings else []
    for period in PERIODS:
        monotonic = period == "Total"
        values += [
            # The inverter has no feed-in counter: what it yielded minus what the home took of it.
            DerivedValue(
                key=f"grid_feed_in_{period.lower()}",
                plus=(_flow("Yield", period),),
                minus=(_flow("EnergyHomePv", period), _flow("EnergyHomeBat", period)),
                monotonic=monotonic,
            ),
            DerivedValue(
                key=f"grid_import_{period.lower()}",
                plus=(_flow("EnergyHomeGrid", period), _flow("EnergyChargeGrid", period)),
                monotonic=monotonic,
            ),
            DerivedValue(
                key=f"battery_charge_{period.lower()}",
                plus=(_flow("EnergyChargePv", period), _flow("EnergyChargeGrid", period)),
                monotonic=monotonic,
            ),
        ]
        if (solar := solar_production(period, available, ENERGY_FLOW)) is not None:
            values.append(solar)
    return [value for value in values if value.sources <= available]


def _derived_sensor(derived: DerivedValue) -> PlenticoreSensor:
    if derived.key == "pv_power":
        return _power(derived.point, derived.key, polls=derived.sources)
    name, _, period = derived.key.rpartition("_")
    return _energy(derived.point, name, period.capitalize(), polls=derived.sources)


def sensors(available: frozenset[DataPoint]) -> list[PlenticoreSensor]:
    """The sensors for the data points this inverter lists."""
    candidates = [
        _sensor(
            (LOCAL, "Inverter:State"),
            "inverter_state",
            device_class=SensorDeviceClass.ENUM,
            options=list(INVERTER_STATES.values()),
            value_fn=_enum((LOCAL, "Inverter:State"), INVERTER_STATES),
        ),
        _sensor(
            (LOCAL, "EM_State"),
            "energy_manager_state",
            device_class=SensorDeviceClass.ENUM,
            options=list(ENERGY_MANAGER_STATES.values()),
            value_fn=_enum((LOCAL, "EM_State"), ENERGY_MANAGER_STATES),
            entity_category=EntityCategory.DIAGNOSTIC,
            entity_registry_enabled_default=False,
        ),
        _power((LOCAL, "Dc_P"), "dc_power"),
        _power((LOCAL, "Grid_P"), "grid_power"),
        _power((LOCAL, "Home_P"), "home_power"),
        _power((LOCAL, "HomePv_P"), "home_power_from_pv"),
        _power((LOCAL, "HomeBat_P"), "home_power_from_battery"),
        _power((LOCAL, "HomeGrid_P"), "home_power_from_grid"),
        _power((LOCAL, "HomeOwn_P"), "home_own_power", enabled=False),
        _power((LOCAL, "PV2Bat_P"), "pv_to_battery_power"),
        _power((AC, "P"), "ac_power"),
        _sensor(
            (AC, "Frequency"),
            "grid_frequency",
            digits=2,
            native_unit_of_measurement=UnitOfFrequency.HERTZ,
            device_class=SensorDeviceClass.FREQUENCY,
            state_class=SensorStateClass.MEASUREMENT,
            entity_registry_enabled_default=False,
        ),
        _sensor(
            (AC, "CosPhi"),
            "power_factor",
            digits=3,
            device_class=SensorDeviceClass.POWER_FACTOR,
            state_class=SensorStateClass.MEASUREMENT,
            entity_registry_enabled_default=False,
        ),
        _sensor(
            (BATTERY, "SoC"),
            "battery_soc",
            native_unit_of_measurement=PERCENTAGE,
            device_class=SensorDeviceClass.BATTERY,
            state_class=SensorStateClass.MEASUREMENT,
        ),
        _power((BATTERY, "P"), "battery_power"),
        _sensor(
            (BATTERY, "Cycles"),
            "battery_cycles",
            state_class=SensorStateClass.TOTAL_INCREASING,
            entity_category=EntityCategory.DIAGNOSTIC,
        ),
        _voltage((BATTERY, "U"), "battery_voltage", enabled=False),
        _current((BATTERY, "I"), "battery_current", enabled=False),
    ]
    for phase in (1, 2, 3):
        placeholders = {"phase": str(phase)}
        candidates += [
            _power(
                (AC, f"L{phase}_P"),
                "phase_power",
                enabled=False,
                translation_placeholders=placeholders,
            ),
            _voltage(
                (AC, f"L{phase}_U"),
                "phase_voltage",
                enabled=False,
                translation_placeholders=placeholders,
            ),
            _current(
                (AC, f"L{phase}_I"),
                "phase_current",
                enabled=False,
                translation_placeholders=placeholders,
            ),
        ]
    for string in range(1, MAX_STRINGS + 1):
        module = f"devices:local:pv{string}"
        placeholders = {"string": str(string)}
        candidates += [
            _power((module, "P"), "string_power", translation_placeholders=placeholders),
            _voltage((module, "U"), "string_voltage", translation_placeholders=placeholders),
            _current((module, "I"), "string_current", translation_placeholders=placeholders),
        ]
        candidates += [
            _energy(
                _flow(f"EnergyPv{string}", period),
                "string_energy",
                period,
                translation_placeholders=placeholders,
            )
            for period in PERIODS
        ]
    for name, key in ENERGY_COUNTERS.items():
        candidates += [_energy(_flow(name, period), key, period) for period in PERIODS]
    for name, key in RATES.items():
        candidates += [
            _sensor(
                _flow(name, period),
                f"{key}_{period.lower()}",
                native_unit_of_measurement=PERCENTAGE,
                state_class=SensorStateClass.MEASUREMENT,
                entity_registry_enabled_default=period == "Day",
            )
            for period in PERIODS
        ]
    return [sensor for sensor in candidates if sensor.polls <= available] + [
        _derived_sensor(derived) for derived in derived_values(available)
    ]
