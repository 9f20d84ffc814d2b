"""Sensor descriptions for the PLENTICORE's process data (and what is derived from it)."""

from __future__ import annotations

from collections.abc import Callable
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

from ...devices import Identifier
from ...entity import EntitySpec
from ...sensor import SolarHubSensorDescription
from .const import AC, BATTERY, ENERGY_FLOW, LOCAL
from .coordinator import DataPoint, LiveData, ProcessDataCoordinator
from .derived import DerivedValue, solar_production

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


Description = SolarHubSensorDescription[LiveData]
# A sensor before it meets its coordinator: what it shows (also its key) and what it polls.
type Candidate = tuple[DataPoint, Description, frozenset[DataPoint]]
type Reader = Callable[[LiveData], StateType]


def _value(point: DataPoint) -> Reader:
    return lambda data: data.get(point)


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
    value_fn: Reader | None = None,
    **kwargs: Any,
) -> Candidate:
    """A sensor kept at ``digits`` decimals, also the precision shown (when it is a number)."""
    if digits is not None:
        kwargs.setdefault("suggested_display_precision", max(digits, 0))
    description = Description(
        key=key,
        translation_key=key,
        value_fn=value_fn or _value(point),
        available_fn=_present(point),
        digits=digits,
        **kwargs,
    )
    return point, description, polls or frozenset({point})


def _measurement(
    unit: str, device_class: SensorDeviceClass, digits: int
) -> Callable[..., Candidate]:
    """A builder of one kind of measured value (power, voltage, current)."""

    def build(point: DataPoint, key: str, *, enabled: bool = True, **kwargs: Any) -> Candidate:
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
_voltage = _measurement(UnitOfElectricPotential.VOLT, SensorDeviceClass.VOLTAGE, 0)
_current = _measurement(UnitOfElectricCurrent.AMPERE, SensorDeviceClass.CURRENT, 1)


# The Energy dashboard recipe (README) and the home consumption it must balance against.
DASHBOARD_TOTALS = frozenset(
    {
        "solar_production",
        "grid_import",
        "grid_feed_in",
        "battery_charge",
        "battery_discharge",
        "home_consumption",
    }
)


def _energy(point: DataPoint, key: str, period: str, **kwargs: Any) -> Candidate:
    """An energy counter in Wh, shown in kWh.

    Only lifetime totals are ``total_increasing``, so the Energy dashboard offers exactly the
    counters that never reset; the day/month/year counters are for display. Values are kept to
    0.1 kWh, the precision shown, so a counter does not write a new state on every poll; the
    totals of README's Energy dashboard recipe are kept to 10 Wh, because the dashboard adds up
    the hourly changes of five of them and 0.1 kWh steps would put a day more than 1 % off.
    """
    total = period == "Total"
    fine = total and key in DASHBOARD_TOTALS
    return _sensor(
        point,
        f"{key}_{period.lower()}",
        digits=-1 if fine else -2,
        native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
        suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2 if fine else 1,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING if total else None,
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


def _derived_sensor(derived: DerivedValue) -> Candidate:
    if derived.key == "pv_power":
        return _power(derived.point, derived.key, polls=derived.sources)
    name, _, period = derived.key.rpartition("_")
    return _energy(derived.point, name, period.capitalize(), polls=derived.sources)


def sensors(
    coordinator: ProcessDataCoordinator, device: Identifier, available: frozenset[DataPoint]
) -> list[EntitySpec[LiveData]]:
    """The sensors for the data points this inverter lists; each point is its key."""
    candidates = [
        _sensor(
            (LOCAL, "Inverter:State"),
            "inverter_state",
            device_class=SensorDeviceClass.ENUM,
            options=list(INVERTER_STATES.values()),
            digits=None,
            value_fn=_enum((LOCAL, "Inverter:State"), INVERTER_STATES),
        ),
        _sensor(
            (LOCAL, "EM_State"),
            "energy_manager_state",
            device_class=SensorDeviceClass.ENUM,
            options=list(ENERGY_MANAGER_STATES.values()),
            digits=None,
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
    candidates = [c for c in candidates if c[2] <= available]
    candidates += [_derived_sensor(derived) for derived in derived_values(available)]
    return [
        EntitySpec(
            coordinator=coordinator,
            description=description,
            device=device,
            key="_".join(point),
            polls=polls,
        )
        for point, description, polls in candidates
    ]
