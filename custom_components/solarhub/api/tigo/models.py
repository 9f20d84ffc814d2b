"""Typed models returned by the Tigo Energy cloud client (API v3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class TigoToken:
    """``GET users/login``: the bearer token and when it expires."""

    user_id: int
    auth: str = field(repr=False)
    expires: datetime
    user_type: str


@dataclass(frozen=True, kw_only=True, slots=True)
class RateLimit:
    """The ``X-Rate-Limit-*`` headers of the latest response (None where a header was absent)."""

    limit: int | None
    remaining: int | None
    reset_seconds: float | None  # seconds until the window resets, as the header says
    observed_at: datetime  # when the response carrying these headers arrived (aware, UTC)


@dataclass(frozen=True, kw_only=True, slots=True)
class TigoSystem:
    """One system of ``systems`` / ``systems/view``."""

    system_id: int
    name: str
    timezone: str | None
    power_rating: float | None
    latitude: float | None
    longitude: float | None
    street: str | None
    city: str | None
    zip: str | None
    country: str | None
    created: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class LayoutPanel:
    """A panel (optimizer) in ``systems/layout``."""

    panel_id: int
    label: str
    serial: str | None
    object_id: int | None


@dataclass(frozen=True, kw_only=True, slots=True)
class LayoutString:
    """A string of panels in ``systems/layout``."""

    string_id: int
    label: str
    object_id: int | None
    panels: tuple[LayoutPanel, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class LayoutMppt:
    """An MPPT input of an inverter in ``systems/layout``."""

    mppt_id: int
    label: str
    strings: tuple[LayoutString, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class LayoutInverter:
    """An inverter in ``systems/layout``."""

    inverter_id: int
    label: str
    serial: str | None
    object_id: int | None
    mppts: tuple[LayoutMppt, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class SystemLayout:
    """``systems/layout``: the electrical configuration."""

    system_id: int
    inverters: tuple[LayoutInverter, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class TigoObject:
    """One entry of ``objects/system``: what data can be asked for, by object id."""

    id: int
    label: str
    object_type_id: int
    parent_id: int  # -1 for the root (system) object
    datasource: str | None  # e.g. "04C05B800ACE.panels.A1"
    children: tuple[int, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class DataSet:
    """A data set a source uploads, with its newest minute and day."""

    set_name: str
    last_min: datetime | None
    last_day: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class TigoSource:
    """One gateway / Cloud Connect of ``sources/system``."""

    source_id: int
    name: str
    serial: str
    gateway_count: int | None
    control_state: str | None  # PV-Off state: "on" (producing) or "off"
    last_checkin: datetime | None
    timezone: str | None
    sw_version: str | None
    created_on: datetime | None
    sets: tuple[DataSet, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Summary:
    """``data/summary``: DC energy counters in Wh and the last power in W."""

    lifetime_energy_dc: float
    ytd_energy_dc: float
    daily_energy_dc: float
    last_power_dc: float
    updated_on: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Alert:
    """One entry of ``alerts/system``; ``description`` is HTML."""

    alert_id: int
    unique_id: int  # the alert code: 106 string shutdown, 300/301 low power, 1000 inverter fault
    system_id: int
    title: str
    message: str
    description: str
    added: datetime
    generated: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class CsvSeries:
    """A parsed CSV answer of ``data/aggregate`` or ``data/combined``.

    ``columns`` maps each column name exactly as its header line gave it (an object id such as
    ``"17"``, or a key such as ``"04C05B800ACE.panels.A1_Vin"``) to its points, oldest first,
    timestamps aware in the system's time zone. Empty cells give no point; rows dated after ``now``
    and garbage rows are dropped and counted in ``skipped_rows``.
    """

    columns: dict[str, tuple[tuple[datetime, float], ...]]
    skipped_rows: int = 0

    def latest(self, column: str) -> tuple[datetime, float] | None:
        """The newest point of one column (not the newest row: columns can differ in freshness)."""
        points = self.columns.get(column)
        return points[-1] if points else None
