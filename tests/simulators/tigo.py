"""Simulator of the Tigo Energy cloud REST API v3 (base path ``/api/v3/``).

It implements the server side of the protocol on its own (Basic-auth login handing out expiring
bearer tokens, Yii2-style JSON errors, per-account rate limiting with ``X-Rate-Limit-*`` headers,
paging, CSV time series with their quirks) so that tests of the client exercise the real wire
format, and it simulates plausible systems of TS4 optimizers on a :class:`SimClock`.

Conventions (see also ``/work/shared/vendors/tigo.md``):

- Everything is deterministic: a panel's values are a pure function of (its system's spec, the
  panel's index, the minute), so tests can ask the simulator for the ground truth
  (:meth:`TigoSimulator.panel_power`, :meth:`TigoSimulator.hourly_energy_wh`, ...).
- Minute ``m`` is the UTC minute ``[m*60, m*60+60)`` of the epoch; its row is stamped with its
  start in the system's local time, without offset (``2026/06/21 12:00:00`` in ``data/aggregate``,
  ``2026/06/21 12:00:00.000`` in ``data/combined``). On the autumn DST change the local stamps of
  one hour repeat, as they do on real systems.
- Gateways (Cloud Connects) check in every ``checkin_interval`` while online. A check-in at time
  ``c`` uploads every minute that ended at or before ``c - upload_lag``: the newest row is between
  ``upload_lag + 1 min`` and ``upload_lag + 1 min + checkin_interval`` old, never newer than
  ``now - upload_lag``. Offline gateways do not check in (``last_checkin`` stays old) and upload
  nothing; back online they upload what they buffered (or, with ``backfill=False``, the minutes
  of the outage stay empty forever).
- Data exists from local midnight ``history_days`` before the simulator was created. Before
  that, and for minutes not uploaded, there is nothing: no rows at the end of a file, empty cells
  for one gateway's panels while another gateway's are uploaded. At night the optimizers sleep:
  rows exist (the time grid) but their cells are empty.
- ``data/aggregate``: minute ``Pin`` in W (2 decimals), ``Vin`` in V (2), ``Iin`` in A (3), ``RSSI``
  raw 0-255 (integer); day level ``Pin`` in Wh, ``Vin``/``Iin``/``RSSI`` the mean of the day's
  quarter-hour samples that have data. Without ``object_ids`` the file holds every panel and,
  from the middle on (after ``ceil(rows / 2)`` rows), a second header line whose columns are
  rotated and lack the columns without any value in that part; with ``object_ids`` the columns
  are exactly those ids in that order and there is a single header.
- ``data/combined``: the sum of the panels of each object (system, inverter, string or panel
  object); minute level in W, hour and coarser in Wh = the sum of the visible minute powers / 60.
  Hours are whole local hours (``start`` is rounded down); day, month and year use whole days
  (``start`` 00:00:00, ``end`` 23:59:59). A bucket's row appears once any of its minutes is
  uploaded; its cell is empty when none of the object's minutes in it is. Soft limits: minute
  <= 1 day, hour <= 31 days, day <= 366 days, month <= 3660 days, year unlimited (400 beyond).
- ``data/summary``: ``lifetime_energy_dc`` = the spec's ``lifetime_offset_wh`` + all uploaded
  energy, ``ytd_energy_dc`` / ``daily_energy_dc`` = the uploaded energy of the local year / day
  (exactly what ``data/combined`` gives for them), ``last_power_dc`` = the system's power in the
  newest minute every gateway has uploaded (so an offline gateway freezes it rather than halving
  it), ``updated_on`` = that minute.
- Rate limit: ``rate_limit`` requests per fixed ``rate_window`` per *account* (every token of the
  account, and the login itself, draw from the same budget); the window starts with the first
  request after the previous one ended. Every response carries ``X-Rate-Limit-Limit``,
  ``-Remaining`` and ``-Reset`` (seconds until the window ends, on the SimClock); over the limit
  the answer is 429 with ``Retry-After`` (whole seconds).
- Time stamps in JSON carry offsets: ``users/login`` ``expires``, ``systems`` ``created`` (UTC) and
  ``X-System-Config-Update`` in the server's zone (``server_timezone``); sources, alerts and the
  summary in the system's zone.
- Alerts have no "active" flag in the API: an alert is a notification that stays in
  ``alerts/system`` after :meth:`TigoSimulator.clear_alert`. Clearing ends the condition, so
  raising the same code again adds a new alert, whereas raising it while it is still active
  (same code and message) returns the existing one. Lists are newest first.
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
import functools
import math
import secrets
from typing import TYPE_CHECKING, Any, ClassVar, Final
import zlib
from zoneinfo import ZoneInfo

from aiohttp import web

from tests.constants import TIGO_PASSWORD, TIGO_USERNAME

from . import SimClock
from .server import ApiError, LoopbackSimulator, truncated_json
from .sun import Sky, seed_of, unit

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from aiohttp.typedefs import Handler

__all__ = [
    "ALERT_CODES",
    "DEFAULT_SYSTEMS",
    "FAULT_KINDS",
    "LANGUAGES",
    "PanelReading",
    "SimAlert",
    "SimClock",
    "SimGateway",
    "SimInverter",
    "SimMppt",
    "SimPanel",
    "SimString",
    "SimSystem",
    "SystemSpec",
    "TigoConfig",
    "TigoSimulator",
]

API: Final = "/api/v3"
FAULT_KINDS: Final = frozenset({"timeout", "401", "429", "500", "503", "malformed"})
LANGUAGES: Final = ("DE", "EL", "EN", "ES", "FR", "IT", "JP", "KO")

OBJECT_TYPE_SYSTEM: Final = 1
OBJECT_TYPE_PANEL: Final = 2
OBJECT_TYPE_STRING: Final = 3
OBJECT_TYPE_INVERTER: Final = 4
_OBJECT_TYPES: Final = (
    (OBJECT_TYPE_SYSTEM, "System"),
    (OBJECT_TYPE_PANEL, "Panel"),
    (OBJECT_TYPE_STRING, "String"),
    (OBJECT_TYPE_INVERTER, "Inverter"),
    (5, "Meter"),
    (6, "Sensor"),
)

# --------------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SystemSpec:
    """One simulated system: size, wiring and site. Its physics derive from these fields only.

    The panels are split as evenly as possible over ``inverters * mppts_per_inverter *
    strings_per_mppt`` strings (the first strings get one more), the strings in contiguous blocks
    over ``gateways`` Cloud Connects.
    """

    name: str
    panels: int
    timezone: str = "Europe/Berlin"
    inverters: int = 1
    strings_per_mppt: int = 1
    peak_w_per_panel: float = 400.0
    mppts_per_inverter: int = 1
    gateways: int = 1
    latitude: float = 52.52
    longitude: float = 13.40
    street: str = "Sonnenallee 1"
    city: str = "Berlin"
    zip: str = "12045"
    state: str = "Berlin"
    country: str = "Germany"
    lifetime_offset_wh: float | None = None  # before the simulated history; None: 2000 h at peak
    turn_on_date_known: bool = True  # False: ``turn_on_date`` is the string "null", as in the seed

    def __post_init__(self) -> None:
        """Refuse systems no installer could build."""
        if min(self.inverters, self.mppts_per_inverter, self.strings_per_mppt) < 1:
            raise ValueError("inverters, mppts_per_inverter and strings_per_mppt must be positive")
        if self.panels < self.string_count:
            raise ValueError("every string needs at least one panel")
        if not 1 <= self.gateways <= self.string_count:
            raise ValueError("gateways must be between 1 and the number of strings")
        if self.peak_w_per_panel <= 0:
            raise ValueError("peak_w_per_panel must be positive")
        if not -90 <= self.latitude <= 90 or not -180 <= self.longitude <= 180:
            raise ValueError("latitude/longitude out of range")
        ZoneInfo(self.timezone)

    @property
    def string_count(self) -> int:
        return self.inverters * self.mppts_per_inverter * self.strings_per_mppt

    @property
    def power_rating(self) -> float:
        """Nameplate DC power in W."""
        return self.panels * self.peak_w_per_panel

    @property
    def energy_before_wh(self) -> float:
        if self.lifetime_offset_wh is not None:
            return self.lifetime_offset_wh
        return self.power_rating * 2000.0


DEFAULT_SYSTEMS: Final = (
    SystemSpec(
        "Home",
        20,
        mppts_per_inverter=2,
        latitude=48.14,
        longitude=11.58,
        street="Sonnenstraße 12",
        city="München",
        zip="80331",
        state="Bayern",
    ),
    SystemSpec(
        "Garage",
        8,
        latitude=48.14,
        longitude=11.58,
        street="Sonnenstraße 12",
        city="München",
        zip="80331",
        state="Bayern",
        turn_on_date_known=False,
    ),
    SystemSpec(
        "Solar farm",
        500,
        inverters=5,
        mppts_per_inverter=2,
        strings_per_mppt=2,
        gateways=2,
        latitude=51.34,
        longitude=12.37,
        street="Am Solarpark 1",
        city="Leipzig",
        zip="04109",
        state="Sachsen",
    ),
)


# Opt-in systems in zones whose UTC offset is not a whole hour, so that their local hours are not
# UTC hours (and some move with DST). Not in DEFAULT_SYSTEMS, whose figures other tests count:
# pass them as ``TigoConfig(systems=(OFFSET_SYSTEMS["Asia/Kolkata"],))``.
OFFSET_SYSTEMS: Final = {
    spec.timezone: spec
    for spec in (
        SystemSpec(
            "Bengaluru",
            12,
            timezone="Asia/Kolkata",  # +05:30
            latitude=12.97,
            longitude=77.59,
            street="MG Road 1",
            city="Bengaluru",
            zip="560001",
            state="Karnataka",
            country="India",
        ),
        SystemSpec(
            "Adelaide",
            12,
            timezone="Australia/Adelaide",  # +09:30, +10:30 in summer (October to April)
            latitude=-34.93,
            longitude=138.60,
            street="King William Street 1",
            city="Adelaide",
            zip="5000",
            state="South Australia",
            country="Australia",
        ),
        SystemSpec(
            "Kathmandu",
            12,
            timezone="Asia/Kathmandu",  # +05:45
            latitude=27.72,
            longitude=85.32,
            street="Durbar Marg 1",
            city="Kathmandu",
            zip="44600",
            state="Bagmati",
            country="Nepal",
        ),
        SystemSpec(
            "St. John's",
            12,
            timezone="America/St_Johns",  # -03:30, -02:30 in summer (March to November)
            latitude=47.56,
            longitude=-52.71,
            street="Water Street 1",
            city="St. John's",
            zip="A1C 1A1",
            state="Newfoundland and Labrador",
            country="Canada",
        ),
    )
}


@dataclass
class TigoConfig:
    """The simulated account, its limits and systems. Mutable: tests may tweak it between calls."""

    username: str = TIGO_USERNAME
    password: str = TIGO_PASSWORD
    premium: bool = True  # False: users/login answers 403, the API is Premium-only
    user_id: int = 4711
    user_type: str = "Basic"
    token_lifetime: timedelta = timedelta(hours=1)
    rate_limit: int = 1000  # requests per rate_window per account
    rate_window: timedelta = timedelta(hours=1)
    upload_lag: timedelta = timedelta(minutes=15)
    checkin_interval: timedelta = timedelta(minutes=5)
    history_days: int = 14  # data exists from local midnight this many days before creation
    systems: tuple[SystemSpec, ...] = DEFAULT_SYSTEMS
    first_system_id: int = 10001
    systems_page_size: int = 2  # default ``limit`` of ``systems`` (3 default systems: 2 pages)
    alerts_page_size: int = 10  # default ``limit`` of ``alerts/system``
    max_page_size: int = 50  # larger ``limit`` values are clamped to this (Yii2's default cap)
    hang_seconds: float = 30.0  # wall time a "timeout" fault holds the request
    server_timezone: str = "America/Los_Angeles"

    def __post_init__(self) -> None:
        """Refuse configurations the simulator cannot serve."""
        if not self.systems:
            raise ValueError("at least one system is needed")
        if len({s.name for s in self.systems}) != len(self.systems):
            raise ValueError("system names must be unique")
        if min(self.rate_limit, self.systems_page_size, self.alerts_page_size) < 1:
            raise ValueError("rate_limit and page sizes must be positive")
        if self.max_page_size < max(self.systems_page_size, self.alerts_page_size):
            raise ValueError("max_page_size must not be below the default page sizes")
        positive = (self.token_lifetime, self.rate_window, self.checkin_interval)
        if min(positive) <= timedelta(0) or self.upload_lag < timedelta(0):
            raise ValueError("durations must be positive (upload_lag may be zero)")
        if self.history_days < 0:
            raise ValueError("history_days must not be negative")
        ZoneInfo(self.server_timezone)


# --------------------------------------------------------------------------------------------------
# Physics: a deterministic sun, clouds and panels
# --------------------------------------------------------------------------------------------------

_EAST_WEST: Final = (-1.0, 1.0, 0.0, -0.5, 0.5)  # orientation of string i % 5: east -1 .. west +1
_FACING: Final = 0.22  # how much a string's orientation matters
_BLOCK: Final = 60  # minutes per cached energy block (one local hour)
_MAX_BLOCKS: Final = 200_000
_SAMPLE_MINUTES: Final = 15  # day-level Vin/Iin/RSSI: mean of quarter-hour samples
_STRING: Final = 0
_PANEL: Final = 1

type _Term = tuple[int, int]  # (_STRING, string index) or (_PANEL, panel index)


@dataclass(frozen=True, slots=True)
class _Light:
    """The light of one minute: plane-of-array irradiance (0..~0.95 of STC) and the sun's place."""

    irradiance: float
    sin_hour_angle: float
    hour_angle: float


@dataclass(frozen=True, slots=True)
class _Shade:
    """A chimney or tree shading one panel while the sun is in a window of hour angles."""

    panel: int
    string: int
    start: float  # hour angle (rad)
    end: float
    factor: float  # share of the light left in the shade

    def covers(self, hour_angle: float) -> bool:
        return self.start <= hour_angle < self.end


@dataclass(frozen=True, slots=True)
class _Block:
    """Energy of one block of minutes (everything produced, before upload and PV-Off)."""

    unit: tuple[float, ...]  # per string: sum of irradiance * facing over the minutes / 60
    extra: dict[int, float]  # per shaded panel: the shade's (negative) share of that sum
    strings: tuple[float, ...]  # per string: Wh


@dataclass(frozen=True, slots=True)
class PanelReading:
    """What one optimizer reports for one minute (``Pin`` W, ``Vin`` V, ``Iin`` A, raw RSSI)."""

    pin: float
    vin: float
    iin: float
    rssi: int


def _string_sizes(spec: SystemSpec) -> list[int]:
    base, extra = divmod(spec.panels, spec.string_count)
    return [base + (1 if s < extra else 0) for s in range(spec.string_count)]


class _Physics:
    """What the sun makes of one system's panels: pure functions of the spec and the minute.

    Panel p on string s at minute m produces ``gain[p] * light(m) * facing(s, m) * shade(p, m)``
    W: ``gain`` is its peak power times a mismatch factor (0.9-1.0), ``facing`` tilts east or west
    strings towards the morning or the evening, a few panels are shaded for an hour or so every
    afternoon. Clouds change from day to day and within the day, all derived from the minute.
    """

    def __init__(self, spec: SystemSpec) -> None:
        self.spec = spec
        seed = seed_of(spec.name)
        self.seed = seed
        self.sky = Sky(spec.latitude, spec.longitude, seed)
        sizes = _string_sizes(spec)
        self.panel_string = tuple(s for s, size in enumerate(sizes) for _ in range(size))
        starts = [sum(sizes[:s]) for s in range(len(sizes))]
        self.string_panels = tuple(
            tuple(range(start, start + size)) for start, size in zip(starts, sizes, strict=True)
        )
        self.orientation = tuple(_EAST_WEST[s % len(_EAST_WEST)] for s in range(len(sizes)))
        self.gain = tuple(
            spec.peak_w_per_panel * (0.9 + 0.1 * unit(seed, p, 1)) for p in range(spec.panels)
        )
        self.string_gain = tuple(sum(self.gain[p] for p in ps) for ps in self.string_panels)
        self.shades = {p: self._shade(p) for p in range(spec.panels) if unit(seed, p, 2) < 0.1}
        self.string_shades = tuple(
            tuple(self.shades[p] for p in ps if p in self.shades) for ps in self.string_panels
        )
        self.v0 = tuple(30.5 + 2.0 * unit(seed, p, 6) for p in range(spec.panels))
        self.rssi = tuple(100 + int(120 * unit(seed, p, 7)) for p in range(spec.panels))
        self._blocks: dict[int, _Block] = {}

    def _shade(self, p: int) -> _Shade:
        start = math.radians(15 * (1.5 + 2.0 * unit(self.seed, p, 3)))
        length = math.radians(15 * (0.75 + 0.75 * unit(self.seed, p, 4)))
        factor = 0.3 + 0.3 * unit(self.seed, p, 5)
        return _Shade(p, self.panel_string[p], start, start + length, factor)

    def light(self, m: int) -> _Light | None:
        """The light in the middle of minute ``m``; None while the sun is down (panels asleep)."""
        lit = self.sky.sunlit(m * 60 + 30)
        if lit is None:
            return None
        sun, irradiance = lit
        hour_angle = sun.hour_angle
        return _Light(irradiance, math.sin(hour_angle), hour_angle)

    def on_string(self, s: int, light: _Light) -> float:
        """Irradiance on the plane of string ``s``."""
        return light.irradiance * (1 + _FACING * self.orientation[s] * light.sin_hour_angle)

    def on_panel(self, p: int, light: _Light) -> float:
        """Irradiance reaching panel ``p``, after its shade."""
        g = self.on_string(self.panel_string[p], light)
        shade = self.shades.get(p)
        if shade is not None and shade.covers(light.hour_angle):
            g *= shade.factor
        return g

    def panel_power(self, p: int, light: _Light) -> float:
        return self.gain[p] * self.on_panel(p, light)

    def string_power(self, s: int, light: _Light) -> float:
        gain = self.string_gain[s]
        for shade in self.string_shades[s]:
            if shade.covers(light.hour_angle):
                gain -= self.gain[shade.panel] * (1 - shade.factor)
        return self.on_string(s, light) * gain

    def term_power(self, term: _Term, light: _Light) -> float:
        kind, index = term
        return (
            self.string_power(index, light) if kind == _STRING else self.panel_power(index, light)
        )

    def reading(self, p: int, light: _Light, pv_off: bool, m: int) -> PanelReading:
        """Pin/Vin/Iin/RSSI of an awake panel; under PV-Off it idles at open-circuit voltage."""
        g = self.on_panel(p, light)
        rise = 1 - math.exp(-5 * g)
        rssi = min(255, max(0, self.rssi[p] + (m * 7 + p * 3) % 5 - 2))
        if pv_off:
            return PanelReading(0.0, self.v0[p] + 8.5 * rise + 0.5, 0.0, rssi)
        pin = self.gain[p] * g
        vin = self.v0[p] + 6.0 * rise - 1.8 * g
        return PanelReading(pin, vin, pin / vin, rssi)

    def block(self, start: int) -> _Block:
        """Energies of minutes ``[start, start + 60)``, cached (they never change)."""
        cached = self._blocks.get(start)
        if cached is not None:
            return cached
        unit = [0.0] * len(self.string_panels)
        extra = dict.fromkeys(self.shades, 0.0)
        for m in range(start, start + _BLOCK):
            light = self.light(m)
            if light is None:
                continue
            for s in range(len(unit)):
                unit[s] += self.on_string(s, light)
            for p, shade in self.shades.items():
                if shade.covers(light.hour_angle):
                    extra[p] += self.on_string(shade.string, light) * (shade.factor - 1)
        unit = [u / 60 for u in unit]
        extra = {p: e / 60 for p, e in extra.items()}
        strings = tuple(
            self.string_gain[s] * unit[s]
            + sum(self.gain[sh.panel] * extra[sh.panel] for sh in self.string_shades[s])
            for s in range(len(unit))
        )
        if len(self._blocks) >= _MAX_BLOCKS:
            self._blocks.clear()
        block = _Block(tuple(unit), extra, strings)
        self._blocks[start] = block
        return block

    def term_energy(self, block: _Block, term: _Term) -> float:
        kind, index = term
        if kind == _STRING:
            return block.strings[index]
        return self.gain[index] * (block.unit[self.panel_string[index]] + block.extra.get(index, 0))


@functools.lru_cache(maxsize=32)
def _physics(spec: SystemSpec) -> _Physics:
    """One physics (and energy cache) per spec, shared by every simulator in the process."""
    return _Physics(spec)


# --------------------------------------------------------------------------------------------------
# Systems: layout, gateways, what the cloud holds
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SimPanel:
    """A panel (TS4 optimizer). ``index`` is its place in the system and drives its physics."""

    index: int
    label: str  # "A1"
    short_label: int  # 1 (an integer, as in the seed)
    serial: str
    object_id: int
    panel_id: int
    string_index: int
    datasource: str  # "<gateway serial>.panels.A1"


@dataclass(frozen=True, slots=True)
class SimString:
    """A string of panels on one MPPT, reporting through one gateway."""

    index: int
    label: str  # "String A"
    short_label: str  # "A"
    object_id: int
    string_id: int
    mppt_index: int
    gateway_index: int
    panels: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SimMppt:
    """An MPPT input of an inverter (no object of its own in ``objects/system``)."""

    index: int
    mppt_id: int
    label: str
    inverter_index: int
    strings: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SimInverter:
    """An inverter."""

    index: int
    inverter_id: int
    object_id: int
    label: str
    serial: str
    mppts: tuple[int, ...]


@dataclass(slots=True)
class _Outage:
    start: float  # epoch seconds
    end: float | None = None
    lost: bool = False  # True: the minutes of the outage were never uploaded


class SimGateway:
    """A Cloud Connect: the source through which a block of strings reaches the cloud."""

    def __init__(
        self, index: int, source_id: int, serial: str, name: str, strings: tuple[int, ...]
    ) -> None:
        self.index = index
        self.source_id = source_id
        self.serial = serial
        self.name = name
        self.strings = strings
        self.checkin_offset = 17.0 + 61.0 * index  # seconds into each check-in period
        self.outages: list[_Outage] = []

    @property
    def online(self) -> bool:
        return not self.outages or self.outages[-1].end is not None

    def last_checkin(self, now: float, interval: float) -> float:
        """Epoch second of the newest check-in at or before ``now`` that happened online."""
        offset = self.checkin_offset
        checkin = math.floor((now - offset) / interval) * interval + offset
        for outage in reversed(self.outages):
            end = math.inf if outage.end is None else outage.end
            if outage.start <= checkin < end:
                checkin = math.ceil((outage.start - offset) / interval) * interval + offset
                checkin -= interval  # the last one strictly before the outage
        return checkin

    def lost_minutes(self) -> tuple[tuple[int, int], ...]:
        return tuple(
            (math.ceil(o.start / 60), math.ceil(o.end / 60))
            for o in self.outages
            if o.lost and o.end is not None
        )


@dataclass(frozen=True, slots=True)
class _Visibility:
    """Which minutes of a system the cloud holds at one instant (a snapshot per request)."""

    first: int  # first minute of the history
    upload_end: tuple[int, ...]  # per gateway: every minute before this one is uploaded
    lost: tuple[tuple[tuple[int, int], ...], ...]  # per gateway: minute ranges never uploaded
    pv_off: tuple[tuple[int, int], ...]  # minute ranges under PV-Off
    checkins: tuple[float, ...]  # per gateway: epoch second of the last check-in

    @property
    def end(self) -> int:
        """One past the newest minute any gateway uploaded (the end of the time grid)."""
        return max(self.upload_end)

    def visible(self, g: int, m: int) -> bool:
        if m < self.first or m >= self.upload_end[g]:
            return False
        return not any(a <= m < b for a, b in self.lost[g])

    def full(self, g: int, start: int, end: int) -> bool:
        """Whether every minute of ``[start, end)`` of gateway ``g`` is uploaded."""
        if start < self.first or end > self.upload_end[g]:
            return False
        return not any(a < end and start < b for a, b in self.lost[g])

    def empty(self, g: int, start: int, end: int) -> bool:
        """Whether no minute of ``[start, end)`` of gateway ``g`` can be uploaded."""
        if end <= self.first or start >= self.upload_end[g]:
            return True
        return any(a <= start and end <= b for a, b in self.lost[g])

    def pv_off_at(self, m: int) -> bool:
        return any(a <= m < b for a, b in self.pv_off)

    def pv_off_within(self, start: int, end: int) -> bool:
        return any(a < end and start < b for a, b in self.pv_off)


@dataclass(frozen=True, slots=True)
class _Object:
    """One entry of ``objects/system`` and the panels/strings whose data it combines."""

    id: int
    label: str
    type_id: int
    parent_id: int
    children: tuple[int, ...]
    terms: tuple[_Term, ...]
    panel: int | None = None  # panel index for panel objects


@dataclass(slots=True)
class SimAlert:
    """An alert as the cloud keeps it; ``cleared`` is internal (the API has no such field)."""

    alert_id: int
    system_id: int
    code: int
    title: str | None  # None: the title of the code in the requested language
    message: str
    generated: datetime
    added: datetime
    cleared: datetime | None = None

    @property
    def active(self) -> bool:
        return self.cleared is None


class _Ids:
    """Sequential ids per kind, unique across the account (object ids are global at Tigo)."""

    def __init__(self) -> None:
        self._next = {
            "object": 100_001,
            "panel": 1_000_001,
            "string": 200_001,
            "mppt": 300_001,
            "inverter": 400_001,
            "source": 9_001,
        }

    def take(self, kind: str) -> int:
        value = self._next[kind]
        self._next[kind] = value + 1
        return value


@dataclass(slots=True)
class _Layout:
    """What ``SimSystem._build`` collects, in the order the ids are handed out."""

    inverters: list[SimInverter] = field(default_factory=list)
    mppts: list[SimMppt] = field(default_factory=list)
    strings: list[SimString] = field(default_factory=list)
    panels: list[SimPanel] = field(default_factory=list)
    objects: list[_Object] = field(default_factory=list)


def _letters(index: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA": Tigo's string letters."""
    label = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        label = chr(65 + rest) + label
    return label


def _minute(dt: datetime) -> int:
    return math.floor(dt.timestamp() / 60)


class SimSystem:
    """A simulated system: its layout, objects, gateways and the state the controls change."""

    def __init__(
        self, spec: SystemSpec, *, index: int, system_id: int, ids: _Ids, created_before: datetime
    ) -> None:
        """Lay out the system; its history starts at the local midnight ``created_before``."""
        self.spec = spec
        self.index = index
        self.system_id = system_id
        self.name = spec.name
        self.timezone = spec.timezone
        self.tz = ZoneInfo(spec.timezone)
        self.physics = _physics(spec)
        self.history_start = datetime.combine(
            created_before.astimezone(self.tz).date(), time(), tzinfo=self.tz
        )
        self.created = (self.history_start - timedelta(days=731)).astimezone(UTC)
        self.config_updated = self.created + timedelta(days=1, hours=3)
        self.pv_off_ranges: list[tuple[int, int]] = []  # closed ranges; plus the open one below
        self._pv_off_since: int | None = None
        self.alerts: list[SimAlert] = []
        self._replacements = 0
        self.object_id = ids.take("object")
        self._build(ids)
        offset = self.history_start.utcoffset() or timedelta(0)
        self._align = int(offset.total_seconds() // 60) % _BLOCK

    # -- layout ------------------------------------------------------------------------------------

    def _build(self, ids: _Ids) -> None:
        """Number everything in the order Tigo's objects come: system, inverter, string, panels."""
        n_strings = self.spec.string_count
        self.gateways = tuple(
            SimGateway(
                g,
                ids.take("source"),
                f"04C05B{0x800A00 + 0x10 * self.index + g:06X}",
                f"Cloud Connect {g + 1}",
                tuple(s for s in range(n_strings) if s * self.spec.gateways // n_strings == g),
            )
            for g in range(self.spec.gateways)
        )
        layout = _Layout()
        for i in range(self.spec.inverters):
            self._inverter(ids, i, layout)
        layout.objects.append(
            _Object(
                self.object_id,
                self.spec.name,
                OBJECT_TYPE_SYSTEM,
                -1,
                tuple(inv.object_id for inv in layout.inverters),
                tuple((_STRING, s) for s in range(n_strings)),
            )
        )
        self.inverters = tuple(layout.inverters)
        self.mppts = tuple(layout.mppts)
        self.strings = tuple(layout.strings)
        self.panels = tuple(layout.panels)
        self._objects = {o.id: o for o in sorted(layout.objects, key=lambda o: o.id)}

    def _inverter(self, ids: _Ids, i: int, layout: _Layout) -> None:
        object_id = ids.take("object")
        first_string = len(layout.strings)
        mppts: list[int] = []
        for j in range(self.spec.mppts_per_inverter):
            mppt_strings = tuple(
                self._string(ids, len(layout.mppts), object_id, layout)
                for _ in range(self.spec.strings_per_mppt)
            )
            mppts.append(len(layout.mppts))
            layout.mppts.append(
                SimMppt(len(layout.mppts), ids.take("mppt"), f"MPPT {j + 1}", i, mppt_strings)
            )
        strings = range(first_string, len(layout.strings))
        label = f"Inverter {i + 1}"
        serial = f"INV{(zlib.crc32(f'{self.spec.name}/{i}'.encode()) & 0xFFFFFF):06X}"
        layout.inverters.append(
            SimInverter(i, ids.take("inverter"), object_id, label, serial, tuple(mppts))
        )
        layout.objects.append(
            _Object(
                object_id,
                label,
                OBJECT_TYPE_INVERTER,
                self.object_id,
                tuple(layout.strings[s].object_id for s in strings),
                tuple((_STRING, s) for s in strings),
            )
        )

    def _string(self, ids: _Ids, mppt: int, parent: int, layout: _Layout) -> int:
        s = len(layout.strings)
        letter = _letters(s)
        gateway = next(g for g in self.gateways if s in g.strings)
        object_id = ids.take("object")
        panels = [
            SimPanel(
                index=p,
                label=f"{letter}{k + 1}",
                short_label=k + 1,
                serial=f"04C05B8{0x10000 * (self.index + 1) + p:06X}",
                object_id=ids.take("object"),
                panel_id=ids.take("panel"),
                string_index=s,
                datasource=f"{gateway.serial}.panels.{letter}{k + 1}",
            )
            for k, p in enumerate(self.physics.string_panels[s])
        ]
        layout.panels.extend(panels)
        layout.strings.append(
            SimString(
                s,
                f"String {letter}",
                letter,
                object_id,
                ids.take("string"),
                mppt,
                gateway.index,
                tuple(p.index for p in panels),
            )
        )
        children = tuple(p.object_id for p in panels)
        layout.objects.append(
            _Object(
                object_id, f"String {letter}", OBJECT_TYPE_STRING, parent, children, ((_STRING, s),)
            )
        )
        layout.objects += [
            _Object(
                p.object_id,
                p.label,
                OBJECT_TYPE_PANEL,
                object_id,
                (),
                ((_PANEL, p.index),),
                p.index,
            )
            for p in panels
        ]
        return s

    @property
    def panel_count(self) -> int:
        return len(self.panels)

    @property
    def power_rating(self) -> float:
        return self.spec.power_rating

    @property
    def pv_off(self) -> bool:
        return self._pv_off_since is not None

    @property
    def object_ids(self) -> tuple[int, ...]:
        """Every object id of ``objects/system``, ascending."""
        return tuple(self._objects)

    def panel(self, label: str) -> SimPanel:
        """The panel labelled ``label`` ("A1"); KeyError if there is none."""
        for panel in self.panels:
            if panel.label == label:
                return panel
        raise KeyError(label)

    def panel_by_object(self, object_id: int) -> SimPanel:
        """The panel of a panel object id; KeyError for other ids."""
        obj = self._objects.get(object_id)
        if obj is None or obj.panel is None:
            raise KeyError(object_id)
        return self.panels[obj.panel]

    def gateway_of(self, term: _Term) -> int:
        kind, index = term
        s = index if kind == _STRING else self.physics.panel_string[index]
        return self.strings[s].gateway_index

    def object(self, object_id: int) -> _Object:
        return self._objects[object_id]

    def has_object(self, object_id: int) -> bool:
        return object_id in self._objects

    # -- controls ----------------------------------------------------------------------------------

    def set_pv_off(self, off: bool, now: datetime) -> None:
        m = _minute(now)
        if off and self._pv_off_since is None:
            self._pv_off_since = m
        elif not off and self._pv_off_since is not None:
            if m > self._pv_off_since:
                self.pv_off_ranges.append((self._pv_off_since, m))
            self._pv_off_since = None

    def replace_panel(self, label: str, now: datetime) -> str:
        """Swap the optimizer of a panel: same label, place and object, a new serial."""
        panel = self.panel(label)
        self._replacements += 1
        serial = f"04C05B8{0xC00000 + 0x1000 * self.index + self._replacements:06X}"
        panels = list(self.panels)
        panels[panel.index] = replace(panel, serial=serial)
        self.panels = tuple(panels)
        self.config_updated = now
        return serial

    # -- what the cloud holds ----------------------------------------------------------------------

    def visibility(self, now: datetime, config: TigoConfig) -> _Visibility:
        ts = now.timestamp()
        interval = config.checkin_interval.total_seconds()
        lag = config.upload_lag.total_seconds()
        first = _minute(self.history_start)
        checkins = tuple(g.last_checkin(ts, interval) for g in self.gateways)
        pv_off = list(self.pv_off_ranges)
        if self._pv_off_since is not None:
            pv_off.append((self._pv_off_since, 1 << 62))
        return _Visibility(
            first=first,
            upload_end=tuple(max(first, math.floor((c - lag) / 60)) for c in checkins),
            lost=tuple(g.lost_minutes() for g in self.gateways),
            pv_off=tuple(pv_off),
            checkins=checkins,
        )

    def block_start(self, m: int) -> int:
        return m - (m - self._align) % _BLOCK

    def minute_power(self, vis: _Visibility, terms: Sequence[_Term], m: int) -> float | None:
        """Uploaded power of the terms in minute ``m`` (W); None if none is uploaded or at night."""
        light = self.physics.light(m)
        if light is None:
            return None
        seen = False
        total = 0.0
        pv_off = vis.pv_off_at(m)
        for term in terms:
            if vis.visible(self.gateway_of(term), m):
                seen = True
                if not pv_off:
                    total += self.physics.term_power(term, light)
        return total if seen else None

    def energies(
        self, vis: _Visibility, objects: Sequence[Sequence[_Term]], start: int, end: int
    ) -> list[tuple[float, bool]]:
        """Uploaded energy (Wh) of each object over minutes ``[start, end)`` and whether any of
        its minutes there is uploaded at all.

        Whole blocks of fully uploaded minutes come from the physics cache; the rest is summed
        minute by minute. Blocks before the history or after the newest upload add nothing, so
        they are skipped in whole blocks (which keeps the sums identical, bit for bit, for any
        range that covers the same blocks).
        """
        totals = [0.0] * len(objects)
        seen = [False] * len(objects)
        start = max(start, self.block_start(vis.first))
        end = min(end, self.block_start(vis.end - 1) + _BLOCK)
        m = start
        while m < end:
            block_end = min(self.block_start(m) + _BLOCK, end)
            self._add_block(vis, objects, m, block_end, totals, seen)
            m = block_end
        return list(zip(totals, seen, strict=True))

    def _add_block(
        self,
        vis: _Visibility,
        objects: Sequence[Sequence[_Term]],
        start: int,
        end: int,
        totals: list[float],
        seen: list[bool],
    ) -> None:
        whole = end - start == _BLOCK and not vis.pv_off_within(start, end)
        states: dict[int, str] = {}
        for g in range(len(self.gateways)):
            if vis.empty(g, start, end):
                states[g] = "none"
            elif whole and vis.full(g, start, end):
                states[g] = "full"
            else:
                states[g] = "partial"
        block = self.physics.block(start) if "full" in states.values() else None
        partial: list[tuple[int, _Term]] = []
        for i, terms in enumerate(objects):
            for term in terms:
                state = states[self.gateway_of(term)]
                if state == "full":
                    assert block is not None
                    totals[i] += self.physics.term_energy(block, term)
                    seen[i] = True
                elif state == "partial":
                    partial.append((i, term))
        if partial:
            self._add_minutes(vis, partial, start, end, totals, seen)

    def _add_minutes(
        self,
        vis: _Visibility,
        partial: list[tuple[int, _Term]],
        start: int,
        end: int,
        totals: list[float],
        seen: list[bool],
    ) -> None:
        gateways = [(i, term, self.gateway_of(term)) for i, term in partial]
        for m in range(start, end):
            light = self.physics.light(m)
            producing = light is not None and not vis.pv_off_at(m)
            for i, term, g in gateways:
                if vis.visible(g, m):
                    seen[i] = True
                    if producing:
                        assert light is not None
                        totals[i] += self.physics.term_power(term, light) / 60

    def newest_with_data(self, vis: _Visibility, g: int) -> int | None:
        """The newest uploaded minute of gateway ``g`` in which its panels were awake."""
        m = vis.upload_end[g] - 1
        limit = max(vis.first, m - 8 * 1440)
        while m >= limit:
            if vis.visible(g, m) and self.physics.light(m) is not None:
                return m
            m -= 1
        return None

    def local(self, m: int) -> datetime:
        """The start of minute ``m`` in the system's zone."""
        return datetime.fromtimestamp(m * 60, self.tz)


# --------------------------------------------------------------------------------------------------
# Alerts
# --------------------------------------------------------------------------------------------------

_SUPPORT: Final = (
    "<p>If you have any additional questions, please "
    '<a href="https://www.tigoenergy.com/contacts/">contact</a> Tigo\'s Support Team.</p>'
)
_SUPPORT_DE: Final = (
    "<p>Bei weiteren Fragen wenden Sie sich bitte an das "
    '<a href="https://www.tigoenergy.com/contacts/">Support-Team</a> von Tigo.</p>'
)

# code -> (alert_type_id, {language: (title, HTML description)})
ALERT_CODES: Final[dict[int, tuple[int, dict[str, tuple[str, str]]]]] = {
    106: (
        22,
        {
            "EN": (
                "Tigo Alert: String Shutdown",
                "<p>Your Tigo system has detected a string of PV modules that has shutdown.</p>"
                "<p><b>Troubleshooting Steps:</b></p><ol><li>Verify that your inverter is on."
                "</li><li>Check for any error codes on the inverter.</li></ol>"
                "<p><b>What does this Alert mean:</b></p><p>This could be due to a system "
                "hardware issue. Contact your installer or inverter company about inverter "
                "error codes.</p>" + _SUPPORT,
            ),
            "DE": (
                "Tigo-Warnung: String abgeschaltet",
                "<p>Ihr Tigo-System hat einen String von PV-Modulen erkannt, der abgeschaltet "
                "hat.</p><p><b>Schritte zur Fehlerbehebung:</b></p><ol><li>Prüfen Sie, ob Ihr "
                "Wechselrichter eingeschaltet ist.</li><li>Prüfen Sie den Wechselrichter auf "
                "Fehlercodes.</li></ol><p><b>Was bedeutet diese Warnung:</b></p><p>Die Ursache "
                "kann ein Hardwareproblem sein. Wenden Sie sich wegen der Fehlercodes an Ihren "
                "Installateur oder den Hersteller des Wechselrichters.</p>" + _SUPPORT_DE,
            ),
        },
    ),
    300: (
        24,
        {
            "EN": (
                "Tigo Alert: Low Power Production on PV Module",
                "<p>Your Tigo system has detected a PV module with low energy production.</p>"
                "<p><b>Troubleshooting Steps:</b></p><ol><li>Check the module for shading, "
                "soiling or damage.</li><li>Compare it with its neighbours in the string.</li>"
                "</ol>" + _SUPPORT,
            ),
            "DE": (
                "Tigo-Warnung: Geringe Leistung eines PV-Moduls",
                "<p>Ihr Tigo-System hat ein PV-Modul mit geringer Energieerzeugung erkannt.</p>"
                "<p><b>Schritte zur Fehlerbehebung:</b></p><ol><li>Prüfen Sie das Modul auf "
                "Verschattung, Verschmutzung oder Schäden.</li><li>Vergleichen Sie es mit den "
                "Nachbarmodulen im String.</li></ol>" + _SUPPORT_DE,
            ),
        },
    ),
    301: (
        25,
        {
            "EN": (
                "Tigo Alert: Low Power Production on PV String",
                "<p>Your Tigo system has detected a string of PV modules with low energy "
                "production.</p><p><b>Troubleshooting Steps:</b></p><ol><li>Check the string's "
                "fuses and connectors.</li><li>Check the modules for shading or soiling.</li>"
                "</ol>" + _SUPPORT,
            ),
            "DE": (
                "Tigo-Warnung: Geringe Leistung eines PV-Strings",
                "<p>Ihr Tigo-System hat einen String von PV-Modulen mit geringer "
                "Energieerzeugung erkannt.</p><p><b>Schritte zur Fehlerbehebung:</b></p><ol>"
                "<li>Prüfen Sie Sicherungen und Steckverbinder des Strings.</li><li>Prüfen Sie "
                "die Module auf Verschattung oder Verschmutzung.</li></ol>" + _SUPPORT_DE,
            ),
        },
    ),
    1000: (
        40,
        {
            "EN": (
                "Tigo Alert: Inverter Fault",
                "<p>Your Tigo system has detected that an inverter stopped converting power."
                "</p><p><b>Troubleshooting Steps:</b></p><ol><li>Check the inverter's display "
                "for error codes.</li><li>Contact your installer.</li></ol>" + _SUPPORT,
            ),
            "DE": (
                "Tigo-Warnung: Wechselrichterfehler",
                "<p>Ihr Tigo-System hat erkannt, dass ein Wechselrichter keine Leistung mehr "
                "wandelt.</p><p><b>Schritte zur Fehlerbehebung:</b></p><ol><li>Prüfen Sie die "
                "Anzeige des Wechselrichters auf Fehlercodes.</li><li>Wenden Sie sich an Ihren "
                "Installateur.</li></ol>" + _SUPPORT_DE,
            ),
        },
    ),
}

_ALERT_DETECTION: Final = timedelta(seconds=45)  # ``generated`` precedes ``added`` by this


def _alert_text(code: int, language: str) -> tuple[str, str]:
    """Title and description of a code in a language (English where there is no translation)."""
    entry = ALERT_CODES.get(code)
    if entry is None:
        return f"Tigo Alert: {code}", ""
    texts = entry[1]
    return texts.get(language, texts["EN"])


def _language(request: web.Request) -> str:
    language = request.query.get("language", "EN").upper()
    return language if language in LANGUAGES else "EN"


# --------------------------------------------------------------------------------------------------
# HTTP plumbing: Yii2-style errors, parameters, CSV
# --------------------------------------------------------------------------------------------------

_STATUS_NAMES: Final = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
_INVALID_CREDENTIAL: Final = "You are requesting with an invalid credential."
_NO_PREMIUM: Final = "API access requires a Tigo Premium subscription."
_FAULT_MESSAGES: Final = {
    "401": _INVALID_CREDENTIAL,
    "429": "Rate limit exceeded.",
    "500": "An internal server error occurred.",
    "503": "The service is temporarily unavailable.",
}
_AGGREGATE_LIMITS: Final = {"min": timedelta(days=1), "day": timedelta(days=366)}
_COMBINED_LEVELS: Final = {
    "minute": "minute",
    "min": "minute",
    "mi": "minute",
    "hour": "hour",
    "h": "hour",
    "day": "day",
    "d": "day",
    "month": "month",
    "mo": "month",
    "m": "month",
    "year": "year",
    "y": "year",
}
_COMBINED_LIMITS: Final = {
    "minute": timedelta(days=1),
    "hour": timedelta(days=31),
    "day": timedelta(days=366),
    "month": timedelta(days=3660),
}
_PARAMS: Final = {"pin": "Pin", "vin": "Vin", "iin": "Iin", "lin": "Iin", "rssi": "RSSI"}
_AGG_STAMP: Final = "%Y/%m/%d %H:%M:%S"
_COMBINED_STAMP: Final = "%Y/%m/%d %H:%M:%S.000"


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    """The seed's (Yii2's) error shape."""
    body = {
        "name": _STATUS_NAMES.get(status, "Error"),
        "message": message,
        "code": 0,
        "status": status,
    }
    return web.json_response(body, status=status, headers=headers)


def _iso(dt: datetime, tz: ZoneInfo) -> str:
    return dt.astimezone(tz).isoformat(timespec="seconds")


def _required(request: web.Request, name: str) -> str:
    value = request.query.get(name, "").strip()
    if not value:
        raise ApiError(400, f"Missing required parameters: {name}")
    return value


def _int_param(request: web.Request, name: str, default: int, minimum: int = 1) -> int:
    raw = request.query.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ApiError(400, f'Invalid data received for parameter "{name}".')
    return value


def _parse_time(value: str, name: str, tz: ZoneInfo) -> datetime:
    """A local time without offset (as the API wants them); offsets are converted to local."""
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ApiError(400, f'Invalid data received for parameter "{name}".') from None
    if dt.tzinfo is not None:
        dt = dt.astimezone(tz).replace(tzinfo=None)
    return dt


def _aware(local: datetime, tz: ZoneInfo) -> datetime:
    return local.replace(tzinfo=tz)


def _object_ids(request: web.Request) -> list[int] | None:
    raw = request.query.get("object_ids", "").strip()
    if not raw:
        return None
    try:
        return [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise ApiError(400, 'Invalid data received for parameter "object_ids".') from None


def _check_range(start: datetime, end: datetime, limit: timedelta | None, level: str) -> None:
    """Soft limits, measured in local wall time (a local day is one day, DST or not)."""
    if end < start:
        raise ApiError(400, "The end of the date range is before its start.")
    if limit is not None and end - start > limit:
        raise ApiError(400, f"Date range too large for level {level}: at most {limit.days} day(s).")


def _paged(
    request: web.Request, items: list[Any], default: int, maximum: int
) -> tuple[list[Any], dict[str, str]]:
    """One page (1-based ``page``, ``limit``) and Yii2's X-Pagination-* headers.

    A page past the last one is empty.
    """
    page = _int_param(request, "page", 1)
    limit = min(_int_param(request, "limit", default), maximum)
    pages = max(1, math.ceil(len(items) / limit))
    headers = {
        "X-Pagination-Total-Count": str(len(items)),
        "X-Pagination-Page-Count": str(pages),
        "X-Pagination-Current-Page": str(page),
        "X-Pagination-Per-Page": str(limit),
    }
    return items[(page - 1) * limit : page * limit], headers


def _csv_response(lines: list[str]) -> web.Response:
    return web.Response(text="\n".join(lines) + "\n", content_type="text/csv", charset="utf-8")


_CORRUPTIONS: Final = (
    "<br />\n<b>Warning</b>:  Undefined index: panels in <b>/var/www/api/DataController.php</b>",
    "drop",  # a row missing its last cells
    "extra",  # a row with cells too many
    "0000/00/00 00:00:00",  # an impossible time stamp
    "cells",  # non-numeric cells
)


def _corrupt_csv(response: web.Response) -> web.Response:
    """The same CSV with every 4th data row garbled, and at least one garbled line."""
    body = response.body
    text = bytes(body).decode() if isinstance(body, bytes | bytearray) else ""
    lines = text.rstrip("\n").split("\n")
    out: list[str] = []
    rows = 0
    for line in lines:
        if line.upper().startswith(("DATETIME", "DATE TIME")):
            out.append(line)
            continue
        if rows % 4 == 1:
            out.append(_garble(line, (rows // 4) % len(_CORRUPTIONS)))
        else:
            out.append(line)
        rows += 1
    if rows < 2:
        out.append(_CORRUPTIONS[0])
    return web.Response(
        text="\n".join(out) + "\n",
        status=response.status,
        headers=_kept_headers(response),
        content_type="text/csv",
        charset="utf-8",
    )


def _garble(line: str, mode: int) -> str:
    cells = line.split(",")
    kind = _CORRUPTIONS[mode]
    if kind == "drop":
        return ",".join(cells[: max(1, len(cells) - 2)])
    if kind == "extra":
        return ",".join([*cells, "17.5", "17.5"])
    if kind == "cells":
        return ",".join([cells[0], *("n/a" for _ in cells[1:])])
    if kind.startswith("0000"):
        return ",".join([kind, *cells[1:]])
    return kind


def _kept_headers(response: web.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("x-")}


def _fmt(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


# --------------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _RateWindow:
    """A fixed window of ``limit`` requests per account."""

    limit: int
    length: timedelta
    start: datetime | None = None
    used: int = 0

    def roll(self, now: datetime) -> None:
        if self.start is None or now >= self.start + self.length or now < self.start:
            self.start = now
            self.used = 0

    def take(self, now: datetime) -> bool:
        """Count a request; False (and nothing counted) when the window is used up."""
        self.roll(now)
        if self.used >= self.limit:
            return False
        self.used += 1
        return True

    def reset_seconds(self, now: datetime) -> int:
        self.roll(now)
        assert self.start is not None
        return max(0, math.ceil((self.start + self.length - now).total_seconds()))

    def headers(self, now: datetime) -> dict[str, str]:
        reset = self.reset_seconds(now)
        return {
            "X-Rate-Limit-Limit": str(self.limit),
            "X-Rate-Limit-Remaining": str(max(0, self.limit - self.used)),
            "X-Rate-Limit-Reset": str(reset),
        }


@dataclass(slots=True)
class _Column:
    """One column of an aggregate CSV: a panel and its header name."""

    panel: int
    gateway: int
    name: str


@dataclass(slots=True)
class _Rows:
    """CSV rows as cells per column, before the header lines are decided."""

    stamps: list[str] = field(default_factory=list)
    cells: list[list[str]] = field(default_factory=list)


class TigoSimulator(LoopbackSimulator[TigoConfig]):
    """Tigo's cloud API v3 on ``127.0.0.1``: protocol, data on a :class:`SimClock`, fault switches.

    Observation: ``requests`` counts "GET /api/v3/<path>"; ``requests_by_system`` the requests
    naming a system id (``system_id``, or ``id`` of ``systems/view``/``systems/layout``);
    ``logins`` successful logins; ``rate_limited`` 429 answers (of the limiter and of faults);
    ``systems``; ground truth through ``panel_power``, ``panel_reading``, ``system_power``,
    ``hourly_energy_wh``, ``daily_energy_wh``, ``energy_wh``, ``newest_minute``. Control:
    ``fail_next``, ``expire_tokens``, ``set_gateway_online``, ``set_pv_off``,
    ``raise_alert``/``clear_alert``, ``set_config_update``, ``replace_panel``.

    Fault kinds: "timeout", "401", "429" (with ``Retry-After``), "500", "503" (error answers) and
    "malformed" (JSON cut short; CSV with garbled rows: garbage lines, wrong field counts,
    impossible time stamps, non-numeric cells). Tokens survive ``stop``, as over a network outage.
    """

    fault_kinds: ClassVar[frozenset[str]] = FAULT_KINDS
    fault_messages: ClassVar[Mapping[str, str]] = _FAULT_MESSAGES

    def __init__(self, config: TigoConfig | None = None, clock: SimClock | None = None) -> None:
        super().__init__(config or TigoConfig(), clock)
        self.requests_by_system: Counter[int] = Counter()
        self.logins = 0
        self.rate_limited = 0
        self._tokens: dict[str, datetime] = {}  # token -> expiry
        self._window = _RateWindow(self.config.rate_limit, self.config.rate_window)
        self._server_tz = ZoneInfo(self.config.server_timezone)
        self._next_alert_id = 7001
        ids = _Ids()
        history = self.clock.now() - timedelta(days=self.config.history_days)
        self.systems: tuple[SimSystem, ...] = tuple(
            SimSystem(
                spec,
                index=i,
                system_id=self.config.first_system_id + i,
                ids=ids,
                created_before=history,
            )
            for i, spec in enumerate(self.config.systems)
        )
        self._by_id = {s.system_id: s for s in self.systems}

    @property
    def base_url(self) -> str:
        """The API root as clients configure it, with its trailing slash."""
        return f"{self.url}{API}/"

    # -- observation -------------------------------------------------------------------------------

    @property
    def active_tokens(self) -> int:
        now = self.clock.now()
        return sum(1 for expires in self._tokens.values() if now < expires)

    def system(self, system_id: int) -> SimSystem:
        """The system with that id; KeyError if there is none."""
        return self._by_id[system_id]

    def alerts(self, system_id: int) -> tuple[SimAlert, ...]:
        """A system's alerts, oldest first, active or cleared."""
        return tuple(self.system(system_id).alerts)

    def panel_reading(self, system_id: int, object_id: int, at: datetime) -> PanelReading | None:
        """What a panel object measures in the minute of ``at`` (None at night), uploaded or not.

        The values are those ``data/aggregate`` prints once the minute is uploaded (rounded as
        there: Pin and Vin 2 decimals, Iin 3).
        """
        system = self.system(system_id)
        panel = system.panel_by_object(object_id)
        m = _minute(at)
        light = system.physics.light(m)
        if light is None:
            return None
        pv_off = system.visibility(self.clock.now(), self.config).pv_off_at(m)
        r = system.physics.reading(panel.index, light, pv_off, m)
        return PanelReading(round(r.pin, 2), round(r.vin, 2), round(r.iin, 3), r.rssi)

    def panel_power(self, system_id: int, object_id: int, at: datetime) -> float:
        """Pin (W) of a panel object in the minute of ``at`` as ``data/aggregate`` prints it.

        0.0 at night (where the CSV cell is empty) and under PV-Off; independent of uploads.
        """
        reading = self.panel_reading(system_id, object_id, at)
        return 0.0 if reading is None else reading.pin

    def system_power(self, system_id: int, at: datetime, object_id: int | None = None) -> float:
        """Power (W, 2 decimals) of an object (default: the system) in the minute of ``at``.

        What ``data/combined`` at minute level prints once every gateway uploaded that minute.
        """
        system = self.system(system_id)
        terms = system.object(object_id or system.object_id).terms
        m = _minute(at)
        light = system.physics.light(m)
        vis = system.visibility(self.clock.now(), self.config)
        if light is None or vis.pv_off_at(m):
            return 0.0
        return round(sum(system.physics.term_power(t, light) for t in terms), 2)

    def hourly_energy_wh(
        self, system_id: int, hour_start: datetime, object_id: int | None = None
    ) -> float:
        """Exactly what ``data/combined?level=hour`` reports now for that hour (0.0: nothing yet).

        ``hour_start`` is aware, or naive in the system's local time.
        """
        system = self.system(system_id)
        start = _minute(self._in_zone(system, hour_start))
        return self._bucket_wh(system, object_id, start, start + 60)

    def daily_energy_wh(self, system_id: int, day: date, object_id: int | None = None) -> float:
        """Exactly what ``data/combined?level=day`` (and the summary, for today) reports now."""
        system = self.system(system_id)
        start = _minute(datetime.combine(day, time(), tzinfo=system.tz))
        end = _minute(datetime.combine(day + timedelta(days=1), time(), tzinfo=system.tz))
        return self._bucket_wh(system, object_id, start, end)

    def energy_wh(
        self, system_id: int, start: datetime, end: datetime, object_id: int | None = None
    ) -> float:
        """Uploaded energy (Wh, unrounded) over ``[start, end)`` (aware, whole minutes): the
        truth for any span, e.g. a UTC hour of a system whose local hours are not UTC hours."""
        system = self.system(system_id)
        terms = system.object(object_id or system.object_id).terms
        vis = system.visibility(self.clock.now(), self.config)
        return system.energies(vis, [terms], _minute(start), _minute(end))[0][0]

    def newest_minute(self, system_id: int) -> datetime | None:
        """The start (local, aware) of the newest uploaded minute; None if nothing is uploaded."""
        system = self.system(system_id)
        vis = system.visibility(self.clock.now(), self.config)
        return system.local(vis.end - 1) if vis.end > vis.first else None

    def _bucket_wh(self, system: SimSystem, object_id: int | None, start: int, end: int) -> float:
        terms = system.object(object_id or system.object_id).terms
        vis = system.visibility(self.clock.now(), self.config)
        return round(system.energies(vis, [terms], start, end)[0][0], 2)

    @staticmethod
    def _in_zone(system: SimSystem, dt: datetime) -> datetime:
        return dt if dt.tzinfo is not None else dt.replace(tzinfo=system.tz)

    # -- control -----------------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Every token handed out so far is expired from now on."""
        self._tokens.clear()

    def set_gateway_online(
        self, system_id: int, online: bool, *, serial: str | None = None, backfill: bool = True
    ) -> None:
        """Take a system's gateways (or the one with ``serial``) offline or back online.

        Offline: no check-ins, nothing uploaded. Back online, the next check-in uploads what the
        gateway buffered, unless ``backfill`` is False: then the outage's minutes stay empty.
        """
        system = self.system(system_id)
        gateways = [g for g in system.gateways if serial is None or g.serial == serial]
        if not gateways:
            raise KeyError(serial)
        ts = self.clock.now().timestamp()
        for gateway in gateways:
            if not online and gateway.online:
                gateway.outages.append(_Outage(ts))
            elif online and not gateway.online:
                outage = gateway.outages[-1]
                outage.end = max(ts, outage.start)
                outage.lost = not backfill

    def set_pv_off(self, system_id: int, off: bool) -> None:
        """Switch PV-Off (the optimizers' rapid shutdown) from the current minute on."""
        self.system(system_id).set_pv_off(off, self.clock.now())

    def raise_alert(
        self, system_id: int, code: int, *, title: str | None = None, message: str = ""
    ) -> int:
        """Add an alert now and return its id (an active one with the same code and message
        is returned instead). Titles and descriptions come from ``ALERT_CODES`` unless ``title``
        is given (then in every language).
        """
        system = self.system(system_id)
        for alert in system.alerts:
            if alert.active and alert.code == code and alert.message == message:
                return alert.alert_id
        now = self.clock.now()
        alert_id = self._next_alert_id
        self._next_alert_id += 1
        system.alerts.append(
            SimAlert(alert_id, system_id, code, title, message, now - _ALERT_DETECTION, now)
        )
        return alert_id

    def clear_alert(self, system_id: int, code: int) -> int:
        """End the active alerts of ``code`` (they stay listed); returns how many ended."""
        now = self.clock.now()
        ended = 0
        for alert in self.system(system_id).alerts:
            if alert.active and alert.code == code:
                alert.cleared = now
                ended += 1
        return ended

    def set_config_update(self, system_id: int) -> datetime:
        """Record a configuration change now (``X-System-Config-Update``); returns its time."""
        now = self.clock.now()
        self.system(system_id).config_updated = now
        return now

    def replace_panel(self, system_id: int, label: str) -> str:
        """Replace a panel's optimizer: a new serial, a configuration change; the new serial."""
        return self.system(system_id).replace_panel(label, self.clock.now())

    # -- plumbing ----------------------------------------------------------------------------------

    async def _serve(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Rate limiting and ``X-System-Config-Update`` around the (faulted) answer."""
        system = self._named_system(request)
        now = self.clock.now()
        self._window.limit = self.config.rate_limit
        self._window.length = self.config.rate_window
        if self._window.take(now):
            response = await self._answer(request, handler)
        else:
            response = self._too_many(now)
        response.headers.update(self._window.headers(now))
        if response.status == 429:
            self.rate_limited += 1
            response.headers["X-Rate-Limit-Remaining"] = "0"
        if system is not None:
            response.headers["X-System-Config-Update"] = _iso(
                system.config_updated, self._server_tz
            )
        return response

    def _error_response(
        self, status: int, message: str, headers: Mapping[str, str] | None = None
    ) -> web.Response:
        return _error(status, message, headers)

    def _http_error(self, err: web.HTTPException) -> web.Response:
        if isinstance(err, web.HTTPNotFound):
            return _error(404, "Page not found.")
        if isinstance(err, web.HTTPMethodNotAllowed):
            return _error(
                405,
                "Method Not Allowed. This URL can only handle the following request methods: GET.",
            )
        return _error(err.status, err.reason)

    def _fault_response(self, kind: str) -> web.StreamResponse:
        if kind == "429":
            return self._too_many(self.clock.now())
        return super()._fault_response(kind)

    def _malformed(self, response: web.StreamResponse) -> web.StreamResponse:
        if not isinstance(response, web.Response):
            return response
        if response.content_type == "text/csv":
            return _corrupt_csv(response)
        return truncated_json(response, stub=b'{"name": ', headers=_kept_headers(response))

    def _too_many(self, now: datetime) -> web.Response:
        retry = max(1, self._window.reset_seconds(now))
        return _error(429, _FAULT_MESSAGES["429"], {"Retry-After": str(retry)})

    def _named_system(self, request: web.Request) -> SimSystem | None:
        """The system a request names (and count it), or None."""
        raw = request.query.get("system_id")
        if raw is None and request.path.endswith(("/systems/view", "/systems/layout")):
            raw = request.query.get("id")
        if raw is None:
            raw = request.match_info.get("system")
        try:
            system_id = int(raw) if raw is not None else None
        except ValueError:
            return None
        if system_id is None:
            return None
        self.requests_by_system[system_id] += 1
        return self._by_id.get(system_id)

    def _add_routes(self, app: web.Application) -> None:
        routes: list[tuple[str, Handler]] = [
            ("users/login", self._login),
            ("users/logout", self._logout),
            ("users/get", self._user),
            ("users/{user:\\d+}", self._user),
            ("systems", self._systems),
            ("systems/list", self._systems),
            ("systems/view", self._system_view),
            ("systems/{system:\\d+}", self._system_view),
            ("systems/layout", self._layout),
            ("objects/system", self._objects),
            ("objects/types", self._object_types),
            ("sources/system", self._sources),
            ("data/aggregate", self._aggregate),
            ("data/combined", self._combined),
            ("data/summary", self._summary),
            ("alerts/system", self._alerts),
            ("alerts/types", self._alert_types),
        ]
        app.router.add_routes([web.get(f"{API}/{path}", handler) for path, handler in routes])

    # -- authentication ----------------------------------------------------------------------------

    def _authorize(self, request: web.Request) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        expires = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if expires is None or self.clock.now() >= expires:
            raise ApiError(401, _INVALID_CREDENTIAL, {"WWW-Authenticate": 'Bearer realm="api"'})

    def _basic_credentials(self, request: web.Request) -> tuple[str, str] | None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except binascii.Error, UnicodeDecodeError:
            return None
        username, sep, password = decoded.partition(":")
        return (username, password) if sep else None

    async def _login(self, request: web.Request) -> web.StreamResponse:
        credentials = self._basic_credentials(request)
        cfg = self.config
        if (
            credentials is None
            or credentials[0].casefold() != cfg.username.casefold()
            or not secrets.compare_digest(credentials[1].encode(), cfg.password.encode())
        ):
            raise ApiError(401, _INVALID_CREDENTIAL, {"WWW-Authenticate": 'Basic realm="api"'})
        if not cfg.premium:
            raise ApiError(403, _NO_PREMIUM)
        now = self.clock.now()
        self._tokens = {t: e for t, e in self._tokens.items() if e > now}
        token = secrets.token_urlsafe(32)
        expires = now + cfg.token_lifetime
        self._tokens[token] = expires
        self.logins += 1
        user = {
            "user_id": cfg.user_id,
            "auth": token,
            "expires": _iso(expires, self._server_tz),
            "user_type": cfg.user_type,
        }
        return web.json_response({"user": user})

    async def _logout(self, request: web.Request) -> web.StreamResponse:
        self._authorize(request)
        token = request.headers["Authorization"].partition(" ")[2].strip()
        self._tokens.pop(token, None)
        return web.json_response(
            {"name": "OK", "message": "Logged out user", "code": 0, "status": 200}
        )

    async def _user(self, request: web.Request) -> web.StreamResponse:
        self._authorize(request)
        raw = request.match_info.get("user") or _required(request, "id")
        if raw != str(self.config.user_id):
            raise ApiError(404, "User not found.")
        cfg = self.config
        first = self.systems[0].spec
        user = {
            "user_id": cfg.user_id,
            "login": cfg.username,
            "first_name": "Sam",
            "last_name": "Sonnenschein",
            "email": cfg.username,
            "company": "",
            "street": first.street,
            "street2": "",
            "city": first.city,
            "state": first.state,
            "zip": first.zip,
            "country": first.country,
            "mobile": "",
            "user_type": cfg.user_type,
            "avatar": "",
        }
        return web.json_response({"user": user})

    # -- systems, layout, objects, sources ---------------------------------------------------------

    def _system_param(self, request: web.Request, name: str) -> SimSystem:
        raw = request.match_info.get("system") or _required(request, name)
        try:
            system_id = int(raw)
        except ValueError:
            raise ApiError(400, f'Invalid data received for parameter "{name}".') from None
        system = self._by_id.get(system_id)
        if system is None:
            raise ApiError(404, "System not found.")
        return system

    def _system_json(self, system: SimSystem) -> dict[str, Any]:
        spec = system.spec
        turn_on = system.created.date().isoformat() if spec.turn_on_date_known else "null"
        return {
            "system_id": system.system_id,
            "name": system.name,
            "created": _iso(system.created, ZoneInfo("UTC")),
            "external_id": f"SH-{system.index + 1:04d}",
            "company": "",
            "contact_name": "Sam Sonnenschein",
            "street": spec.street,
            "city": spec.city,
            "state": spec.state,
            "zip": spec.zip,
            "country": spec.country,
            "latitude": spec.latitude,
            "longitude": spec.longitude,
            "timezone": system.timezone,
            "turn_on_date": turn_on,
            "power_rating": system.power_rating,
        }

    async def _systems(self, request: web.Request) -> web.StreamResponse:
        self._authorize(request)
        order = request.query.get("sort", "system_id")
        systems = list(self.systems)
        key = order.lstrip("-")
        if key == "name":
            systems.sort(key=lambda s: s.name)
        if order.startswith("-"):
            systems.reverse()
        page, headers = _paged(
            request, systems, self.config.systems_page_size, self.config.max_page_size
        )
        return web.json_response({"systems": [self._system_json(s) for s in page]}, headers=headers)

    async def _system_view(self, request: web.Request) -> web.StreamResponse:
        self._authorize(request)
        system = self._system_param(request, "id")
        body: dict[str, Any] = {"system": self._system_json(system)}
        includes = {part.strip() for part in request.query.get("include", "").split(",")}
        loaders: dict[str, Callable[[SimSystem], list[dict[str, Any]]]] = {
            "inverters": self._inverters_json,
            "mppts": self._mppts_json,
            "strings": self._strings_json,
            "panels": self._panels_json,
            "objects": self._objects_json,
            "sources": self._sources_json,
            "meters": lambda _: [],
            "images": lambda _: [],
        }
        for name, loader in loaders.items():
            if name in includes:
                body[name] = loader(system)
        return web.json_response(body)

    def _inverters_json(self, system: SimSystem) -> list[dict[str, Any]]:
        return [
            {
                "inverter_id": inv.inverter_id,
                "inverter_type_id": 1,
                "label": inv.label,
                "object_id": inv.object_id,
                "inverter_serial": inv.serial,
                "system_id": system.system_id,
            }
            for inv in system.inverters
        ]

    def _mppts_json(self, system: SimSystem) -> list[dict[str, Any]]:
        return [
            {
                "mppt_id": mppt.mppt_id,
                "label": mppt.label,
                "inverter_id": system.inverters[mppt.inverter_index].inverter_id,
            }
            for mppt in system.mppts
        ]

    def _strings_json(self, system: SimSystem) -> list[dict[str, Any]]:
        return [
            {
                "string_id": s.string_id,
                "label": s.label,
                "short_label": s.short_label,
                "object_id": s.object_id,
                "mppt_id": system.mppts[s.mppt_index].mppt_id,
            }
            for s in system.strings
        ]

    def _panels_json(self, system: SimSystem) -> list[dict[str, Any]]:
        return [
            {
                "panel_id": p.panel_id,
                "label": p.label,
                "short_label": p.short_label,
                "serial": p.serial,
                "object_id": p.object_id,
                "string_id": system.strings[p.string_index].string_id,
                "datasource": p.datasource,
            }
            for p in system.panels
        ]

    async def _layout(self, request: web.Request) -> web.StreamResponse:
        self._authorize(request)
        system = self._system_param(request, "id")
        inverters = []
        for inv in system.inverters:
            mppts = []
            for mppt in (system.mppts[j] for j in inv.mppts):
                strings = []
                for string in (system.strings[s] for s in mppt.strings):
                    panels = [
                        {
                            "panel_id": p.panel_id,
                            "label": p.label,
                            "short_label": p.short_label,
                            "serial": p.serial,
                            "object_id": p.object_id,
                        }
                        for p in (system.panels[i] for i in string.panels)
                    ]
                    strings.append(
                        {
                            "string_id": string.string_id,
                            "label": string.label,
                            "short_label": string.short_label,
                            "object_id": string.object_id,
                            "panels": panels,
                        }
                    )
                mppts.append({"mppt_id": mppt.mppt_id, "label": mppt.label, "strings": strings})
            inverters.append(
                {
                    "inverter_id": inv.inverter_id,
                    "inverter_type_id": 1,
                    "label": inv.label,
                    "object_id": inv.object_id,
                    "inverter_serial": inv.serial,
                    "mppts": mppts,
                }
            )
        return web.json_response(
            {"system": {"system_id": system.system_id, "inverters": inverters}}
        )

    def _objects_json(self, system: SimSystem) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for object_id in system.object_ids:
            obj = system.object(object_id)
            entry: dict[str, Any] = {
                "id": obj.id,
                "label": obj.label,
                "object_type_id": obj.type_id,
                "parent_id": obj.parent_id,
                "datasource": None,
                "children": list(obj.children),
            }
            if obj.type_id == OBJECT_TYPE_SYSTEM:
                entry["ui"] = {"X": 100, "Y": 100, "MP": system.power_rating}
            elif obj.panel is not None:
                panel = system.panels[obj.panel]
                entry["datasource"] = panel.datasource
                entry["ui"] = {
                    "X": 150 + 60 * (panel.short_label - 1),
                    "Y": 150 + 110 * panel.string_index,
                }
            out.append(entry)
        return out

    async def _objects(self, request: web.Request) -> web.StreamResponse:
        self._authorize(request)
        system = self._system_param(request, "system_id")
        return web.json_response({"objects": self._objects_json(system)})

    async def _object_types(self, request: web.Request) -> web.StreamResponse:
        self._authorize(request)
        types = [{"object_type_id": i, "label": label} for i, label in _OBJECT_TYPES]
        return web.json_response({"object_types": types})

    def _sources_json(self, system: SimSystem) -> list[dict[str, Any]]:
        vis = system.visibility(self.clock.now(), self.config)
        out: list[dict[str, Any]] = []
        for gateway in system.gateways:
            newest = system.newest_with_data(vis, gateway.index)
            last_min = last_day = None
            if newest is not None:
                local = system.local(newest)
                last_min = local.isoformat(timespec="seconds")
                midnight = datetime.combine(local.date(), time(), tzinfo=system.tz)
                last_day = midnight.isoformat(timespec="seconds")
            panels = sum(len(system.strings[s].panels) for s in gateway.strings)
            checkin = datetime.fromtimestamp(vis.checkins[gateway.index], system.tz)
            out.append(
                {
                    "source_id": gateway.source_id,
                    "name": gateway.name,
                    "serial": gateway.serial,
                    "gateway_count": math.ceil(panels / 20),
                    "created_on": _iso(system.created, system.tz),
                    "control_state": "off" if system.pv_off else "on",
                    "last_checkin": checkin.isoformat(timespec="seconds"),
                    "timezone": system.timezone,
                    "sw_version": "ffs-3.8.1-image.img",
                    "sets": [
                        {"set_name": "panels_avg", "last_min": last_min, "last_day": last_day}
                    ],
                    "system_id": system.system_id,
                }
            )
        return out

    async def _sources(self, request: web.Request) -> web.StreamResponse:
        self._authorize(request)
        system = self._system_param(request, "system_id")
        return web.json_response({"sources": self._sources_json(system)})

    # -- data --------------------------------------------------------------------------------------

    def _range(
        self, request: web.Request, system: SimSystem, *, required: bool
    ) -> tuple[datetime, datetime]:
        """``start`` and ``end`` as local naive times (defaults: today's midnight until now)."""
        now = self.clock.now().astimezone(system.tz).replace(tzinfo=None, microsecond=0)
        values = []
        for name, default in (("start", datetime.combine(now.date(), time())), ("end", now)):
            raw = _required(request, name) if required else request.query.get(name, "").strip()
            values.append(_parse_time(raw, name, system.tz) if raw else default)
        return values[0], values[1]

    async def _aggregate(self, request: web.Request) -> web.StreamResponse:
        self._authorize(request)
        system = self._system_param(request, "system_id")
        start, end = self._range(request, system, required=True)
        level = request.query.get("level", "min").lower()
        level = "min" if level in ("min", "minute") else level
        if level not in _AGGREGATE_LIMITS:
            raise ApiError(400, 'Invalid data received for parameter "level".')
        param = _PARAMS.get(request.query.get("param", "Pin").lower())
        if param is None:
            raise ApiError(400, 'Invalid data received for parameter "param".')
        header = request.query.get("header", "id").lower()
        if header not in ("id", "key"):
            raise ApiError(400, 'Invalid data received for parameter "header".')
        if request.query.get("sensors", "true").lower() not in ("true", "false", "1", "0"):
            raise ApiError(400, 'Invalid data received for parameter "sensors".')
        _check_range(start, end, _AGGREGATE_LIMITS[level], level)
        ids = _object_ids(request)
        columns = self._columns(system, ids, param, header)
        vis = system.visibility(self.clock.now(), self.config)
        if level == "min":
            rows = self._minute_rows(system, vis, columns, param, start, end)
        else:
            rows = self._day_rows(system, vis, columns, param, start, end)
        return _csv_response(_aggregate_lines(columns, rows, split=ids is None))

    def _columns(
        self, system: SimSystem, ids: list[int] | None, param: str, header: str
    ) -> list[_Column]:
        if ids is None:
            panels = list(system.panels)
        else:
            try:
                panels = [system.panel_by_object(i) for i in ids]
            except KeyError as err:
                raise ApiError(
                    400, f"Object {err.args[0]} is not a panel of system {system.system_id}."
                ) from None
        return [
            _Column(
                p.index,
                system.strings[p.string_index].gateway_index,
                str(p.object_id) if header == "id" else f"{p.datasource}_{param}",
            )
            for p in panels
        ]

    def _minute_rows(
        self,
        system: SimSystem,
        vis: _Visibility,
        columns: list[_Column],
        param: str,
        start: datetime,
        end: datetime,
    ) -> _Rows:
        phys = system.physics
        first = max(vis.first, math.ceil(_aware(start, system.tz).timestamp() / 60))
        last = min(vis.end - 1, _minute(_aware(end, system.tz)))
        rows = _Rows()
        cell = _cell_writer(param)
        for m in range(first, last + 1):
            light = phys.light(m)
            rows.stamps.append(system.local(m).strftime(_AGG_STAMP))
            if light is None:
                rows.cells.append([""] * len(columns))
                continue
            shown = [vis.visible(g, m) for g in range(len(system.gateways))]
            pv_off = vis.pv_off_at(m)
            rows.cells.append(
                [
                    cell(phys.reading(c.panel, light, pv_off, m)) if shown[c.gateway] else ""
                    for c in columns
                ]
            )
        return rows

    def _day_rows(
        self,
        system: SimSystem,
        vis: _Visibility,
        columns: list[_Column],
        param: str,
        start: datetime,
        end: datetime,
    ) -> _Rows:
        rows = _Rows()
        for day, lo, hi in _day_buckets(system.tz, start.date(), end.date()):
            if hi <= vis.first or lo >= vis.end:
                continue
            rows.stamps.append(datetime.combine(day, time()).strftime(_AGG_STAMP))
            if param == "Pin":
                terms = [[(_PANEL, c.panel)] for c in columns]
                energies = system.energies(vis, terms, lo, hi)
                rows.cells.append([_fmt(wh, 2) if seen else "" for wh, seen in energies])
            else:
                rows.cells.append([_day_mean(system, vis, c, param, lo, hi) for c in columns])
        return rows

    async def _combined(self, request: web.Request) -> web.StreamResponse:
        self._authorize(request)
        system = self._system_param(request, "system_id")
        raw_level = (request.query.get("level") or request.query.get("agg") or "minute").lower()
        level = _COMBINED_LEVELS.get(raw_level)
        if level is None:
            raise ApiError(400, 'Invalid data received for parameter "level".')
        start, end = self._range(request, system, required=False)
        if level not in ("minute", "hour"):
            start = datetime.combine(start.date(), time())
            end = datetime.combine(end.date(), time(23, 59, 59))
        elif level == "hour":
            start = start.replace(minute=0, second=0, microsecond=0)
        _check_range(start, end, _COMBINED_LIMITS.get(level), level)
        ids = _object_ids(request) or [system.object_id]
        for object_id in ids:
            if not system.has_object(object_id):
                raise ApiError(
                    400, f"Object {object_id} does not belong to system {system.system_id}."
                )
        objects = [system.object(i).terms for i in ids]
        vis = system.visibility(self.clock.now(), self.config)
        lines = ["DATETIME," + ",".join(str(i) for i in ids)]
        if level == "minute":
            lines += self._combined_minutes(system, vis, objects, start, end)
        else:
            lines += self._combined_buckets(system, vis, objects, level, start, end)
        return _csv_response(lines)

    def _combined_minutes(
        self,
        system: SimSystem,
        vis: _Visibility,
        objects: list[tuple[_Term, ...]],
        start: datetime,
        end: datetime,
    ) -> list[str]:
        first = max(vis.first, math.ceil(_aware(start, system.tz).timestamp() / 60))
        last = min(vis.end - 1, _minute(_aware(end, system.tz)))
        lines = []
        for m in range(first, last + 1):
            values = [system.minute_power(vis, terms, m) for terms in objects]
            cells = ["" if v is None else _fmt(v, 2) for v in values]
            lines.append(",".join([system.local(m).strftime(_COMBINED_STAMP), *cells]))
        return lines

    def _combined_buckets(
        self,
        system: SimSystem,
        vis: _Visibility,
        objects: list[tuple[_Term, ...]],
        level: str,
        start: datetime,
        end: datetime,
    ) -> list[str]:
        lo = _minute(_aware(start, system.tz))
        hi = _minute(_aware(end, system.tz)) + 1
        lines = []
        clip = level in ("month", "year")  # the range's whole days, not the whole month/year
        for stamp, bucket_start, bucket_end in _buckets(system, level, start, end):
            b0 = max(bucket_start, lo) if clip else bucket_start
            b1 = min(bucket_end, hi) if clip else bucket_end
            if b1 <= vis.first or b0 >= vis.end:
                continue
            energies = system.energies(vis, objects, b0, b1)
            cells = [_fmt(wh, 2) if seen else "" for wh, seen in energies]
            lines.append(",".join([stamp.strftime(_COMBINED_STAMP), *cells]))
        return lines

    async def _summary(self, request: web.Request) -> web.StreamResponse:
        self._authorize(request)
        system = self._system_param(request, "system_id")
        now = self.clock.now().astimezone(system.tz)
        vis = system.visibility(now, self.config)
        terms = [system.object(system.object_id).terms]
        today = datetime.combine(now.date(), time(), tzinfo=system.tz)
        tomorrow = datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=system.tz)
        new_year = datetime.combine(date(now.year, 1, 1), time(), tzinfo=system.tz)
        next_year = datetime.combine(date(now.year + 1, 1, 1), time(), tzinfo=system.tz)
        daily = system.energies(vis, terms, _minute(today), _minute(tomorrow))[0][0]
        ytd = system.energies(vis, terms, _minute(new_year), _minute(next_year))[0][0]
        lifetime = system.energies(vis, terms, vis.first, vis.end)[0][0]
        complete = min(vis.upload_end)  # never a sum of only some gateways' panels
        newest = complete - 1 if complete > vis.first else None
        last_power = None if newest is None else system.minute_power(vis, terms[0], newest)
        summary = {
            "lifetime_energy_dc": round(system.spec.energy_before_wh + lifetime, 2),
            "ytd_energy_dc": round(ytd, 2),
            "daily_energy_dc": round(daily, 2),
            "last_power_dc": round(last_power or 0.0, 2),
            "updated_on": None if newest is None else system.local(newest).isoformat(),
        }
        return web.json_response({"summary": summary})

    # -- alerts ------------------------------------------------------------------------------------

    async def _alerts(self, request: web.Request) -> web.StreamResponse:
        self._authorize(request)
        system = self._system_param(request, "system_id")
        language = _language(request)
        bounds = []
        for name in ("start_added", "end_added"):
            raw = request.query.get(name, "").strip()
            bounds.append(_aware(_parse_time(raw, name, system.tz), system.tz) if raw else None)
        selected = [
            a
            for a in sorted(system.alerts, key=lambda a: (a.added, a.alert_id), reverse=True)
            if (bounds[0] is None or a.added >= bounds[0])
            and (bounds[1] is None or a.added <= bounds[1])
        ]
        page, headers = _paged(
            request, selected, self.config.alerts_page_size, self.config.max_page_size
        )
        return web.json_response(
            {"alerts": [self._alert_json(system, a, language) for a in page]}, headers=headers
        )

    def _alert_json(self, system: SimSystem, alert: SimAlert, language: str) -> dict[str, Any]:
        title, description = _alert_text(alert.code, language)
        return {
            "alert_id": alert.alert_id,
            "added": _iso(alert.added, system.tz),
            "generated": _iso(alert.generated, system.tz),
            "system_id": alert.system_id,
            "unique_id": alert.code,
            "title": alert.title or title,
            "message": alert.message,
            "description": description,
        }

    async def _alert_types(self, request: web.Request) -> web.StreamResponse:
        self._authorize(request)
        language = _language(request)
        types = []
        for code, (type_id, _) in sorted(ALERT_CODES.items()):
            title, description = _alert_text(code, language)
            types.append(
                {
                    "alert_type_id": type_id,
                    "description": description,
                    "title": title,
                    "unique_id": code,
                }
            )
        return web.json_response({"alert_types": types})


# --------------------------------------------------------------------------------------------------
# CSV helpers
# --------------------------------------------------------------------------------------------------


def _cell_writer(param: str) -> Callable[[PanelReading], str]:
    if param == "Pin":
        return lambda r: _fmt(r.pin, 2)
    if param == "Vin":
        return lambda r: _fmt(r.vin, 2)
    if param == "Iin":
        return lambda r: _fmt(r.iin, 3)
    return lambda r: str(r.rssi)


def _day_mean(
    system: SimSystem, vis: _Visibility, column: _Column, param: str, lo: int, hi: int
) -> str:
    """Mean of a panel's quarter-hour samples with data (day level Vin/Iin/RSSI)."""
    values: list[float] = []
    first_sample = -(-lo // _SAMPLE_MINUTES) * _SAMPLE_MINUTES
    for m in range(first_sample, hi, _SAMPLE_MINUTES):
        light = system.physics.light(m)
        if light is None or not vis.visible(column.gateway, m):
            continue
        r = system.physics.reading(column.panel, light, vis.pv_off_at(m), m)
        values.append(r.vin if param == "Vin" else r.iin if param == "Iin" else r.rssi)
    if not values:
        return ""
    mean = sum(values) / len(values)
    return (
        _fmt(mean, 2) if param == "Vin" else _fmt(mean, 3) if param == "Iin" else str(round(mean))
    )


def _aggregate_lines(columns: list[_Column], rows: _Rows, *, split: bool) -> list[str]:
    """Header and rows; with ``split`` a second header from the middle on (Tigo's quirk).

    The second part's columns are rotated by half and lack the columns that have no value in
    it, so a parser that keeps the first header puts values on the wrong panels.
    """
    names = [c.name for c in columns]
    cut = (len(rows.stamps) + 1) // 2 if split and len(rows.stamps) >= 2 else len(rows.stamps)
    lines = ["Datetime," + ",".join(names)]
    lines += [
        ",".join([stamp, *cells])
        for stamp, cells in zip(rows.stamps[:cut], rows.cells[:cut], strict=True)
    ]
    if cut == len(rows.stamps):
        return lines
    half = len(names) // 2
    order = list(range(half, len(names))) + list(range(half))
    tail = rows.cells[cut:]
    with_data = [i for i in order if any(cells[i] for cells in tail)]
    order = with_data or order
    lines.append("Datetime," + ",".join(names[i] for i in order))
    lines += [
        ",".join([stamp, *(cells[i] for i in order)])
        for stamp, cells in zip(rows.stamps[cut:], tail, strict=True)
    ]
    return lines


def _day_buckets(tz: ZoneInfo, first: date, last: date) -> Iterator[tuple[date, int, int]]:
    """Each local day with its first minute and the first minute of the next day."""
    day = first
    while day <= last:
        lo = _minute(datetime.combine(day, time(), tzinfo=tz))
        hi = _minute(datetime.combine(day + timedelta(days=1), time(), tzinfo=tz))
        yield day, lo, hi
        day += timedelta(days=1)


def _buckets(
    system: SimSystem, level: str, start: datetime, end: datetime
) -> Iterator[tuple[datetime, int, int]]:
    """Local stamp, first minute and end minute of each hour/day/month/year bucket touching
    ``[start, end]`` (local naive times)."""
    tz = system.tz
    if level == "hour":
        m = _minute(_aware(start, tz))
        last = _minute(_aware(end, tz))
        while m <= last:
            yield system.local(m).replace(tzinfo=None), m, m + 60
            m += 60
        return
    if level == "day":
        for day, lo, hi in _day_buckets(tz, start.date(), end.date()):
            yield datetime.combine(day, time()), lo, hi
        return
    current = date(start.year, start.month if level == "month" else 1, 1)
    while current <= end.date():
        if level == "month":
            following = date(current.year + current.month // 12, current.month % 12 + 1, 1)
        else:
            following = date(current.year + 1, 1, 1)
        lo = _minute(datetime.combine(current, time(), tzinfo=tz))
        hi = _minute(datetime.combine(following, time(), tzinfo=tz))
        yield datetime.combine(current, time()), lo, hi
        current = following
