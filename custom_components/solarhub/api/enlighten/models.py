"""Typed models returned by the Enphase Enlighten clients (Systems API v2, Monitoring API v4).

Where v2 and v4 mean the same thing (a system, its summary, energy intervals, a daily energy
series, its devices) both transports return the same model, so the coordinator and the planner
handle both alike. Times are aware (UTC); dates are in the system's time zone. Energies are in
Wh and powers in W, as floats (v2 sends integers, v4 is not known to).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum


class SystemStatus(StrEnum):
    """A system's status, in the priority order the v2 document lists them."""

    COMM = "comm"
    POWER = "power"
    METER = "meter"
    METER_ISSUE = "meter_issue"
    MICRO = "micro"
    BATTERY = "battery"
    STORAGE_IDLE = "storage_idle"
    NORMAL = "normal"


@dataclass(frozen=True, kw_only=True, slots=True)
class SystemMeta:
    """The ``meta`` object: how timely the data of an answer is."""

    status: str | None  # a SystemStatus value, or an unknown one verbatim
    last_report_at: datetime | None
    last_energy_at: datetime | None
    operational_at: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class EnlightenSystem:
    """One system of the systems index (v2 ``systems``, v4 ``systems``)."""

    system_id: int
    name: str  # v2 system_name, v4 name
    public_name: str | None
    timezone: str | None
    status: str | None  # meta.status where present (the top-level status is deprecated)
    country: str | None
    state: str | None
    city: str | None
    postal_code: str | None
    connection_type: str | None  # ethernet, cellular, wifi
    reference: str | None
    other_references: tuple[str, ...]
    meta: SystemMeta | None


@dataclass(frozen=True, kw_only=True, slots=True)
class SystemSummary:
    """``summary``: the system right now (or on ``summary_date``).

    ``energy_lifetime`` excludes the requested day; :attr:`lifetime_total` adds it. The battery
    fields are v4's (``None`` on v2 and on sites without a battery).
    """

    system_id: int
    current_power: float
    energy_today: float
    energy_lifetime: float
    last_report_at: datetime | None
    last_interval_end_at: datetime | None
    operational_at: datetime | None
    modules: int | None
    size_w: float | None
    source: str | None  # microinverters | meter
    status: str | None
    summary_date: date | None
    battery_charge_w: float | None = None
    battery_discharge_w: float | None = None
    battery_capacity_wh: float | None = None

    @property
    def lifetime_total(self) -> float:
        """Energy produced up to the summary's moment: lifetime (to yesterday) plus today."""
        return self.energy_lifetime + self.energy_today


@dataclass(frozen=True, kw_only=True, slots=True)
class EnergyInterval:
    """One interval, listed by its end: energy in it and, where sent, its mean power."""

    end_at: datetime
    energy_wh: float
    power_w: float | None = None
    devices_reporting: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class IntervalSeries:
    """The intervals of one call, oldest first, without duplicates.

    ``intervals`` empty means nothing (newer) was reported for the period; that includes v2's
    422 "past the last interval" on ``stats``. ``length`` is the interval length (5 or 15 min).
    """

    system_id: int | None
    length: timedelta
    intervals: tuple[EnergyInterval, ...]
    total_devices: int | None = None
    meta: SystemMeta | None = None

    @property
    def last_end(self) -> datetime | None:
        """The end of the newest interval, ``None`` when there is none."""
        return self.intervals[-1].end_at if self.intervals else None


@dataclass(frozen=True, kw_only=True, slots=True)
class BatteryInterval:
    """One v4 ``telemetry/battery`` interval."""

    end_at: datetime
    charge_wh: float | None
    discharge_wh: float | None
    soc_percent: float | None
    devices_reporting: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class BatterySeries:
    """The intervals of one v4 ``telemetry/battery`` call, oldest first."""

    system_id: int | None
    length: timedelta
    intervals: tuple[BatteryInterval, ...]

    @property
    def last_end(self) -> datetime | None:
        """The end of the newest interval, ``None`` when there is none."""
        return self.intervals[-1].end_at if self.intervals else None


@dataclass(frozen=True, kw_only=True, slots=True)
class DailyEnergy:
    """A daily energy series (``energy_lifetime`` and v4's other ``*_lifetime`` series).

    ``values`` has one Wh value per day from ``start_date``, no gaps. In production series
    (``energy_lifetime``) trailing zeros (days not reported yet) are dropped; v4's consumption,
    battery and grid series keep their zeros (a day without import is real).
    ``micro_production`` / ``meter_production`` come with ``production=all`` (trailing zeros
    dropped too); ``meter_start_date`` is where the merged series switches to the meter.
    """

    system_id: int | None
    start_date: date | None
    values: tuple[float, ...]
    meter_start_date: date | None = None
    micro_production: tuple[float, ...] = ()
    meter_production: tuple[float, ...] = ()
    meta: SystemMeta | None = None

    def days(self) -> list[tuple[date, float]]:
        """``(day, Wh)`` pairs of :attr:`values`; empty without a start date."""
        if self.start_date is None:
            return []
        start = self.start_date
        return [(start + timedelta(days=index), wh) for index, wh in enumerate(self.values)]

    @property
    def end_date(self) -> date | None:
        """The last day with a reported value."""
        if self.start_date is None or not self.values:
            return None
        return self.start_date + timedelta(days=len(self.values) - 1)


@dataclass(frozen=True, kw_only=True, slots=True)
class Device:
    """One device of a system (v2 ``envoys``/``inventory``, v4 ``devices``).

    Fields a transport or device kind does not send are ``None``.
    """

    serial_number: str
    device_id: int | None = None
    name: str | None = None
    model: str | None = None
    part_number: str | None = None
    manufacturer: str | None = None
    status: str | None = None
    last_report_at: datetime | None = None
    config_type: str | None = None  # meters on v4: "Net" or "Total" consumption metering
    measurement_type: str | None = None  # meters on v4: "production", "net-consumption", ...
    active: bool | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class SystemDevices:
    """The devices of a system by kind; a kind the system does not have is empty.

    ``gateways`` are the Envoys / IQ Gateways. On v2 they come from ``envoys`` (status and last
    report) and ``inventory`` (micros, meters).
    """

    system_id: int | None
    micros: tuple[Device, ...] = ()
    meters: tuple[Device, ...] = ()
    gateways: tuple[Device, ...] = ()
    q_relays: tuple[Device, ...] = ()
    acbs: tuple[Device, ...] = ()
    encharges: tuple[Device, ...] = ()

    @property
    def has_battery(self) -> bool:
        """Whether the site has an AC battery or an IQ Battery (Encharge)."""
        return bool(self.acbs or self.encharges)


@dataclass(frozen=True, kw_only=True, slots=True)
class MonthlyProduction:
    """v2 ``monthly_production`` (deprecated): a month's production and meter readings."""

    system_id: int
    start_date: date | None
    end_date: date | None
    production_wh: float
    meter_readings: tuple[MeterReading, ...]
    meta: SystemMeta | None


@dataclass(frozen=True, kw_only=True, slots=True)
class MeterReading:
    """A revenue-grade meter's readings at the start and end of a reporting period (Wh)."""

    serial_number: str
    start: float
    end: float


@dataclass(frozen=True, kw_only=True, slots=True)
class LatestReading:
    """One device of v4 ``latest_telemetry``: the last power of a meter or battery."""

    group: str  # the device group as sent: "meters", "encharges", ...
    name: str | None  # a meter's role ("production", "consumption", ...), where sent
    channel: int | None
    serial_number: str | None
    power_w: float | None
    last_report_at: datetime | None
    soc_percent: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class LatestTelemetry:
    """v4 ``latest_telemetry``."""

    system_id: int | None
    readings: tuple[LatestReading, ...]
