"""Simulator of Enphase Enlighten: Systems API v2 (``/api/v2``) and v4, on the loopback plumbing.

Follows ``/work/shared/seeds/enphase-enlighten-systems-api-v2.txt`` (paths, parameters, fields,
error bodies) and ``/work/shared/vendors/enlighten.md``. Conventions:

- Everything is deterministic. Interval ``i`` of a system is the 5-minute span ending at epoch
  ``e`` (a multiple of 300); its energy is ``round(size_w * 0.96 * irradiance(e - 150) / 12)`` Wh
  on the shared sun (:mod:`tests.simulators.sun`), an integer, so the truth
  (:meth:`EnlightenSimulator.truth_intervals`) is exactly what ``stats`` returns and its sums are
  exactly ``energy_today`` and the ``energy_lifetime`` days. ``powr`` = ``enwh * 12``. Intervals
  exist (as rows) while the sun is up at their midpoint; dark hours have no rows.
- The revenue-grade meter (``meter_days``) measures 15-minute quarters: ``round(0.985 *`` the
  unrounded micro energy of its three intervals``)``, every quarter of the day (0 at night), from
  its installation at local noon the day before ``meter_start_date``.
- A local day holds the intervals ending in ``(midnight, next midnight]``.
- Uploads: every Envoy of a system reports at ``k * cadence + upload_lag`` (``k`` whole, UTC epoch
  aligned), carrying every interval ending at or before ``k * cadence`` (the 15-minute batch, or
  6 hours on a cellular Envoy). ``last_report_at`` is that report's time. Nothing is visible that
  has not been reported; every energy figure (``summary``, ``stats``, ``rgm_stats``,
  ``energy_lifetime``, ``monthly_production``) counts visible intervals only.
- Silence: during a system's ``comm_outage`` its Envoys do not report and its status is ``comm``;
  afterwards the first report uploads the backlog. After ``stops_reporting_after`` (or
  :meth:`EnlightenSimulator.stop_reporting`) the Envoy never reports again and the status stays
  ``comm``. Both are given relative to the simulator's creation (``start``).
- Default systems: 1001 "Sonnenhof" microinverters only (ethernet, 15 min); 1002 "Weinberg" with
  a revenue-grade meter since ``meter_start_date`` (wifi, 15 min) whose status goes ``comm`` from
  +26 h to +30 h and back; 1003 "Almhuette" on a cellular Envoy (6-hour cadence) that stops
  reporting for good after 20 days.
- Authentication: ``key`` and ``user_id`` query parameters on every request. An unknown key:
  401 ``{"reason": "401", "message": ["Not authorized to access requested resource."]}``; a known
  key with an unknown user id: 401 ``{"reason": "401", "message": ["Failed to find a user with
  the given user_id."]}``; a system the user does not have: 404.
- Budget per key: calendar UTC minutes and months; over a limit (month checked first) 409 with the
  document's body; rejected requests (401, 409, 503) do not count. A request arriving while
  another of the same key is in flight gets 503.

v4 (``/api/v4``, OAuth2 on ``/oauth/authorize`` and ``/oauth/token``, see :mod:`.enlighten_v4`),
on the same systems and uploads, epoch times only:

- Every call needs ``key=<v4_api_key>`` and ``Authorization: Bearer <access token>``; another
  app's key (``foreign_api_keys``): 401 ``{"message": "Not Authorized", "details": "API Key
  -Client mismatch", "code": 401}``; an unknown key or a missing/expired token: 401 in the same
  shape. The v4 key has its own budget (``v4_minute_limit``/``v4_month_limit``, Watt 10 + 1000);
  over it: 429 ``{"message": "Too Many Requests", "details": "Usage limit exceeded for plan
  Watt", "code": 429}``. Token requests are not counted unless ``count_token_requests``.
- Sites: 1002 has production and consumption meters and a 10.08 kWh battery (from the meter's
  installation on); 1001 and 1003 have no meters: their consumption, grid and battery series
  answer 200 with ``total_devices`` 0 and no intervals, their lifetime series are empty, their
  ``devices`` have no ``meters``/``encharges`` groups. :meth:`EnlightenSimulator.remove_battery`
  takes a battery away from a moment on.
- Telemetry: ``start_at`` (epoch) or ``start_date`` (default: today's local midnight), the span
  ``granularity`` ``5mins|15mins|day|week`` (default day), optional ``end_at``; a start older
  than two years (or in the future) or an unknown granularity: 422. Micro telemetry in 5-minute
  rows (no dark rows), meters, battery, import and export in 15-minute quarters (every quarter,
  0 at night); ``energy_export_telemetry`` nests its intervals in a list inside a list. Only
  uploaded intervals appear: an empty list means nothing newer.
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
import contextvars
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
import functools
import json
import math
from typing import TYPE_CHECKING, ClassVar, Final, Literal
from zoneinfo import ZoneInfo

from aiohttp import web

from . import SimClock
from .enlighten_v4 import EnergyFlows, Flow, OAuthAuthority, OAuthClient
from .server import LoopbackSimulator, truncated_json
from .sun import Sky, seed_of

if TYPE_CHECKING:
    from aiohttp.typedefs import Handler

__all__ = [
    "DEFAULT_SYSTEMS",
    "FAULT_KINDS",
    "EnlightenConfig",
    "EnlightenSimulator",
    "EnvoySpec",
    "KeyUsage",
    "SystemSpec",
    "TruthSource",
]

INTERVAL: Final = 300
QUARTER: Final = 900
_EFFICIENCY: Final = 0.96
_METER_FACTOR: Final = 0.985
_YEAR: Final = 365 * 86400
_MAX_STATS_SPAN: Final = 86400

FAULT_KINDS: Final = frozenset(
    {"timeout", "malformed", "401", "500", "502", "503", "504", "unavailable"}
)
_FAULT_MESSAGES: Final[Mapping[str, str]] = {
    "401": "Not authorized to access requested resource.",
    "500": "Internal Server Error",
    "502": "Bad Gateway",
    "503": "Service Unavailable",
    "504": "Gateway Timeout",
}
BAD_KEY: Final = "Not authorized to access requested resource."
BAD_USER: Final = "Failed to find a user with the given user_id."
UNAVAILABLE: Final = {"errorCode": 7, "errorMessages": ["Data temporarily unavailable."]}
STATUSES: Final = (
    "comm",
    "power",
    "meter",
    "meter_issue",
    "micro",
    "battery",
    "storage_idle",
    "normal",
)

_api: contextvars.ContextVar[str] = contextvars.ContextVar("enlighten_api", default="v2")


# --------------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EnvoySpec:
    """One Envoy (gateway) of a system."""

    envoy_id: int
    serial: str
    part_number: str = "800-00654-r08"


@dataclass(frozen=True, slots=True)
class SystemSpec:
    """One simulated system. Day counts and silences are relative to the simulator's creation."""

    system_id: int
    name: str
    envoys: tuple[EnvoySpec, ...]
    size_w: int = 5250
    modules: int = 15
    timezone: str = "Europe/Berlin"
    latitude: float = 52.52
    longitude: float = 13.405
    operational_days: int = 400  # first interval: the local midnight this many days before start
    cadence: timedelta = timedelta(minutes=15)
    connection_type: str = "ethernet"
    meter_days: int | None = None  # meter_start_date this many days before start (None: no meter)
    comm_outage: tuple[timedelta, timedelta] | None = None
    stops_reporting_after: timedelta | None = None
    country: str = "DE"
    state: str = "BE"
    city: str = "Berlin"
    postal_code: str = "10117"
    reference: str | None = None
    other_references: tuple[str, ...] = ()
    installer: str = "Solarbau Nord GmbH"
    inverter_model: str = "IQ7PLUS-72-2-INT"
    # v4 only: a site with production/consumption meters and a battery (capacity in Wh, 0: none)
    consumption_meter: bool = False
    battery_wh: int = 0
    home_base_w: float = 350.0


DEFAULT_SYSTEMS: Final = (
    SystemSpec(
        1001,
        "Sonnenhof",
        (EnvoySpec(5001, "121900010001"),),
        size_w=5250,
        modules=15,
        operational_days=550,
        reference="SH-0001",
    ),
    SystemSpec(
        1002,
        "Weinberg",
        (EnvoySpec(5002, "122100020002"),),
        size_w=8400,
        modules=24,
        timezone="Europe/Vienna",
        latitude=48.21,
        longitude=16.37,
        city="Wien",
        state="9",
        country="AT",
        postal_code="1010",
        operational_days=420,
        connection_type="wifi",
        meter_days=200,
        comm_outage=(timedelta(hours=26), timedelta(hours=30)),
        other_references=("WB-77",),
        inverter_model="IQ8M-72-2-INT",
        consumption_meter=True,
        battery_wh=10_080,
    ),
    SystemSpec(
        1003,
        "Almhuette",
        (EnvoySpec(5003, "122300030003", "800-00656-r06"),),
        size_w=2100,
        modules=6,
        timezone="Europe/Zurich",
        latitude=46.80,
        longitude=9.83,
        city="Davos",
        state="GR",
        country="CH",
        postal_code="7270",
        operational_days=250,
        cadence=timedelta(hours=6),
        connection_type="cellular",
        stops_reporting_after=timedelta(days=20),
        installer="Bergstrom AG",
    ),
)


@dataclass(slots=True)
class EnlightenConfig:
    """The simulated account, its plan and systems. Mutable: tests may tweak it between calls."""

    api_key: str = "3c5a1b2e8f9d4c7a6b0e1f2a3b4c5d6e"
    user_id: str = "4d6a51330a"
    other_api_keys: tuple[str, ...] = ()  # more keys of the same user, each with its own budget
    plan: str = "Watt"
    minute_limit: int = 10
    month_limit: int = 10_000
    upload_lag: timedelta = timedelta(minutes=5)
    systems: tuple[SystemSpec, ...] = DEFAULT_SYSTEMS
    systems_page_size: int = 100
    max_page_size: int = 1000
    monthly_production_unavailable: bool = True  # deprecated: answers errorCode 7
    hang_seconds: float = 30.0
    # v4 (OAuth2 application)
    client_id: str = "sim-client-id-0123456789"
    client_secret: str = "sim-client-secret-abcdef"
    v4_api_key: str = "b7e4f1c2d3a4958677a8b9c0d1e2f3a4"
    foreign_api_keys: tuple[str, ...] = ("f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0",)  # other apps' keys
    v4_plan: str = "Watt"
    v4_minute_limit: int = 10
    v4_month_limit: int = 1000
    access_token_lifetime: timedelta = timedelta(days=1)
    refresh_token_lifetime: timedelta = timedelta(days=30)
    refuse_consent: bool = False
    enl_uid: str = "1234567"
    count_token_requests: bool = False  # whether /oauth/token draws from the v4 key's budget

    def __post_init__(self) -> None:
        """Refuse configurations the simulator cannot serve."""
        if not self.systems:
            raise ValueError("at least one system is needed")
        if len({s.system_id for s in self.systems}) != len(self.systems):
            raise ValueError("system ids must be unique")
        if min(self.minute_limit, self.month_limit, self.v4_minute_limit, self.v4_month_limit) < 1:
            raise ValueError("limits must be positive")
        for spec in self.systems:
            ZoneInfo(spec.timezone)
            if spec.meter_days is not None and spec.meter_days >= spec.operational_days:
                raise ValueError("a meter cannot predate the system")
            if (spec.consumption_meter or spec.battery_wh) and spec.meter_days is None:
                raise ValueError("consumption meters and batteries need the production meter")


# --------------------------------------------------------------------------------------------------
# Physics and uploads
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _DayKey:
    """What one system's intervals of a day depend on (hashable: the per-day cache key)."""

    latitude: float
    longitude: float
    seed: int
    size_w: int
    timezone: str
    operational_at: int
    meter_at: int | None


@dataclass(frozen=True, slots=True)
class _Day:
    """All intervals of one local day, produced (reported or not)."""

    micro: tuple[tuple[int, int], ...]  # (end_at, Wh) while the sun is up
    meter: tuple[tuple[int, int], ...]  # (end_at, Wh) every quarter after the meter came
    micro_total: int
    meter_total: int


def _midnight(d: date, tz: ZoneInfo) -> int:
    return int(datetime.combine(d, time(), tzinfo=tz).timestamp())


@functools.lru_cache(maxsize=20_000)
def _day(key: _DayKey, d: date) -> _Day:
    """The intervals of day ``d`` (cached: they never change)."""
    tz = ZoneInfo(key.timezone)
    start, end = _midnight(d, tz), _midnight(d + timedelta(days=1), tz)
    sky = Sky(key.latitude, key.longitude, key.seed)
    scale = key.size_w * _EFFICIENCY * INTERVAL / 3600
    micro: list[tuple[int, int]] = []
    raw: dict[int, float] = {}
    ends = range(max(start, key.operational_at) + INTERVAL, end + 1, INTERVAL)
    for e, g in zip(ends, sky.irradiances(e - INTERVAL / 2 for e in ends), strict=True):
        if g > 0:
            wh = g * scale
            raw[e] = wh
            micro.append((e, round(wh)))
    meter: list[tuple[int, int]] = []
    if key.meter_at is not None:
        for q in range(start + QUARTER, end + 1, QUARTER):
            if q - QUARTER >= key.meter_at:
                wh = sum(raw.get(q - k * INTERVAL, 0.0) for k in range(3))
                meter.append((q, round(_METER_FACTOR * wh)))
    return _Day(tuple(micro), tuple(meter), sum(w for _, w in micro), sum(w for _, w in meter))


@functools.lru_cache(maxsize=4096)
def _meter_map(key: _DayKey, d: date) -> dict[int, int]:
    return dict(_day(key, d).meter)


def _visible(rows: Iterable[tuple[int, int]], until: int | None) -> list[tuple[int, int]]:
    return [] if until is None else [r for r in rows if r[0] <= until]


class SimSystem:
    """One system on the simulator's clock: its spec resolved to absolute times, and its data."""

    def __init__(self, spec: SystemSpec, start: datetime, lag: timedelta) -> None:
        self.spec = spec
        self.system_id = spec.system_id
        self.tz = ZoneInfo(spec.timezone)
        today = start.astimezone(self.tz).date()
        self.operational_date = today - timedelta(days=spec.operational_days)
        self.operational_at = _midnight(self.operational_date, self.tz)
        self.meter_start_date: date | None = None
        meter_at: int | None = None
        if spec.meter_days is not None:
            self.meter_start_date = today - timedelta(days=spec.meter_days)
            installed = datetime.combine(self.meter_start_date - timedelta(days=1), time(12))
            meter_at = int(installed.replace(tzinfo=self.tz).timestamp())
        self.meter_at = meter_at
        self.key = _DayKey(
            spec.latitude,
            spec.longitude,
            seed_of(spec.name),
            spec.size_w,
            spec.timezone,
            self.operational_at,
            meter_at,
        )
        self.cadence = int(spec.cadence.total_seconds())
        self.lag = int(lag.total_seconds())
        self.outage: tuple[float, float] | None = None
        if spec.comm_outage is not None:
            a, b = spec.comm_outage
            self.outage = ((start + a).timestamp(), (start + b).timestamp())
        self.stopped_at: float | None = (
            None
            if spec.stops_reporting_after is None
            else (start + spec.stops_reporting_after).timestamp()
        )
        self._prefix_sums: list[int] = [0]
        self.flows: EnergyFlows | None = None
        if meter_at is not None and spec.consumption_meter:
            self.flows = EnergyFlows(
                meter_at + QUARTER, self.meter_wh, self.tz, spec.home_base_w, spec.battery_wh
            )

    def meter_wh(self, end_at: int) -> int:
        """The meter's quarter ending at ``end_at`` (0 before it was installed)."""
        return _meter_map(self.key, self.day_of_end(end_at)).get(end_at, 0)

    def has_battery(self, now: float) -> bool:
        return self.flows is not None and self.flows.has_battery(int(now))

    @property
    def has_meter(self) -> bool:
        return self.meter_at is not None

    # -- time --------------------------------------------------------------------------------------

    def local_date(self, t: float) -> date:
        return datetime.fromtimestamp(t, self.tz).date()

    def day_of_end(self, end_at: int) -> date:
        """The local day an interval ending at ``end_at`` belongs to."""
        return self.local_date(end_at - 1)

    def midnight(self, d: date) -> int:
        return _midnight(d, self.tz)

    def silent(self, t: float) -> bool:
        """Whether the Envoys are not communicating at ``t``."""
        if self.stopped_at is not None and t >= self.stopped_at:
            return True
        return self.outage is not None and self.outage[0] <= t < self.outage[1]

    def last_report(self, now: float) -> int | None:
        """The newest report at or before ``now`` (None: never reported)."""
        k = math.floor((now - self.lag) / self.cadence)
        while True:
            report = k * self.cadence + self.lag
            if report <= self.operational_at:
                return None
            if not self.silent(report):
                return report
            if self.stopped_at is not None and report >= self.stopped_at:
                k = math.floor((self.stopped_at - self.lag) / self.cadence)
                if k * self.cadence + self.lag >= self.stopped_at:
                    k -= 1
                continue
            assert self.outage is not None
            k = math.floor((self.outage[0] - self.lag) / self.cadence)
            if k * self.cadence + self.lag >= self.outage[0]:
                k -= 1

    def visible_until(self, now: float) -> int | None:
        """Every interval ending at or before this has been uploaded."""
        report = self.last_report(now)
        return None if report is None else report - self.lag

    def status(self, now: float) -> str:
        return "comm" if self.silent(now) else "normal"

    # -- data --------------------------------------------------------------------------------------

    def day(self, d: date) -> _Day:
        return _day(self.key, d)

    def days(self, first: date, last: date) -> Iterator[tuple[date, _Day]]:
        d = first
        while d <= last:
            yield d, self.day(d)
            d += timedelta(days=1)

    def micro_rows(self, after: int, until: int) -> list[tuple[int, int]]:
        """Produced 5-minute intervals ending in ``(after, until]``."""
        rows: list[tuple[int, int]] = []
        if until <= after:
            return rows
        for _, day in self.days(self.day_of_end(after + 1), self.day_of_end(until)):
            rows.extend(r for r in day.micro if after < r[0] <= until)
        return rows

    def meter_rows(self, after: int, until: int) -> list[tuple[int, int]]:
        """Produced meter quarters ending in ``(after, until]``."""
        rows: list[tuple[int, int]] = []
        if until <= after or self.meter_at is None:
            return rows
        for _, day in self.days(self.day_of_end(after + 1), self.day_of_end(until)):
            rows.extend(r for r in day.meter if after < r[0] <= until)
        return rows

    def day_energy(self, d: date, until: int | None) -> tuple[int, int]:
        """Visible (micro, meter) Wh of day ``d``."""
        if until is None or d < self.operational_date:
            return 0, 0
        day = self.day(d)
        if until >= self.midnight(d + timedelta(days=1)):
            return day.micro_total, day.meter_total
        micro = sum(w for _, w in _visible(day.micro, until))
        meter = sum(w for _, w in _visible(day.meter, until))
        return micro, meter

    def merged(self, d: date, micro: int, meter: int) -> int:
        """The merged series: the meter's days from ``meter_start_date`` on."""
        if self.meter_start_date is not None and d >= self.meter_start_date:
            return meter
        return micro

    def energy(self, d: date, until: int | None) -> int:
        return self.merged(d, *self.day_energy(d, until))

    def lifetime_before(self, d: date, until: int | None) -> int:
        """Visible merged energy of every day before ``d``.

        Days before the one holding ``until`` are whole (summed once, kept as prefix sums), that
        day is partly uploaded, later days are not uploaded at all.
        """
        if until is None:
            return 0
        partial = self.day_of_end(until)
        total = self._prefix((min(d, partial) - self.operational_date).days)
        return total + (self.energy(partial, until) if partial < d else 0)

    def _prefix(self, days: int) -> int:
        """Merged whole-day energy of the first ``days`` days of operation."""
        sums = self._prefix_sums
        while len(sums) <= days:
            d = self.operational_date + timedelta(days=len(sums) - 1)
            day = self.day(d)
            sums.append(sums[-1] + self.merged(d, day.micro_total, day.meter_total))
        return sums[max(0, days)]

    def last_interval_end(self, until: int | None) -> int | None:
        """The newest visible interval with production (``last_interval_end_at``)."""
        if until is None:
            return None
        d = self.day_of_end(until)
        while d >= self.operational_date:
            rows = _visible(self.day(d).micro, until)
            if rows:
                return rows[-1][0]
            d -= timedelta(days=1)
        return None

    def current_power(self, until: int | None) -> int:
        """Power of the newest uploaded interval if the newest batch had production, else 0."""
        if until is None:
            return 0
        if self.has_meter:
            rows = self.meter_rows(until - QUARTER, until)
            return rows[-1][1] * 4 if rows else 0
        rows = self.micro_rows(until - INTERVAL, until)
        return rows[-1][1] * 12 if rows else 0


# --------------------------------------------------------------------------------------------------
# Budgets
# --------------------------------------------------------------------------------------------------


def _month_bounds(t: float) -> tuple[int, int]:
    d = datetime.fromtimestamp(t, UTC)
    start = datetime(d.year, d.month, 1, tzinfo=UTC)
    end = datetime(d.year + d.month // 12, d.month % 12 + 1, 1, tzinfo=UTC)
    return int(start.timestamp()), int(end.timestamp())


@dataclass(slots=True)
class KeyUsage:
    """What one API key has spent: counted (accepted) requests and refusals."""

    total: int = 0
    rejected_limit: int = 0  # 409 on v2, 429 on v4
    rejected_busy: int = 0  # 503: overlapping requests
    per_minute: Counter[int] = field(default_factory=Counter)  # minute start (epoch) -> requests
    per_month: Counter[int] = field(default_factory=Counter)  # month start (epoch) -> requests

    def minute(self, now: float) -> int:
        """Requests counted in the calendar minute of ``now``."""
        return self.per_minute[int(now // 60 * 60)]

    def month(self, now: float) -> int:
        """Requests counted in the calendar (UTC) month of ``now``."""
        return self.per_month[_month_bounds(now)[0]]

    @property
    def max_per_minute(self) -> int:
        return max(self.per_minute.values(), default=0)

    def admit(self, now: float, minute_limit: int, month_limit: int) -> tuple[str, int, int] | None:
        """Count a request, or say which period refuses it: (period, period_start, period_end)."""
        month_start, month_end = _month_bounds(now)
        if self.per_month[month_start] >= month_limit:
            self.rejected_limit += 1
            return "month", month_start, month_end
        minute_start = int(now // 60 * 60)
        if self.per_minute[minute_start] >= minute_limit:
            self.rejected_limit += 1
            return "minute", minute_start, minute_start + 60
        self.per_minute[minute_start] += 1
        self.per_month[month_start] += 1
        self.total += 1
        return None


# --------------------------------------------------------------------------------------------------
# Wire format helpers
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Format:
    """``datetime_format``: "" (dates YYYY-mm-dd, times epoch), "epoch" or "iso8601"."""

    mode: str
    tz: ZoneInfo

    def time(self, t: float | None) -> int | str | None:
        if t is None:
            return None
        if self.mode == "iso8601":
            return datetime.fromtimestamp(t, self.tz).isoformat()
        return int(t)

    def date(self, d: date | None) -> int | str | None:
        if d is None:
            return None
        if self.mode == "":
            return d.isoformat()
        midnight = datetime.combine(d, time(), tzinfo=self.tz)
        return midnight.isoformat() if self.mode == "iso8601" else int(midnight.timestamp())


def _json(payload: object, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(payload), status=status, content_type="application/json")


def _v2_error(status: int, message: str) -> web.Response:
    return _json({"reason": str(status), "message": [message]}, status)


def _v4_error(status: int, message: str, details: str) -> web.Response:
    return _json({"message": message, "details": details, "code": status}, status)


_GRANULARITY: Final = {"5mins": 300, "15mins": 900, "day": 86400, "week": 7 * 86400}


def _cursor(system_id: int) -> str:
    return (base64.b64encode(str(system_id).encode()) + b"\n").hex()


def _uncursor(cursor: str) -> int:
    try:
        return int(base64.b64decode(bytes.fromhex(cursor).strip(), validate=True))
    except (ValueError, binascii.Error) as err:
        raise _Reply(_v2_error(400, "Invalid next cursor.")) from err


class _Reply(Exception):
    """Raised by a handler helper: answer this response as it is."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def _int_param(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value is None or value == "":
        return None
    try:
        return int(float(value))
    except ValueError as err:
        raise _Reply(_v2_error(422, f"Invalid {name}.")) from err


def _date_param(request: web.Request, name: str) -> date | None:
    value = request.query.get(name)
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        raise _Reply(_v2_error(422, f"Invalid {name}: expected YYYY-mm-dd.")) from err


def _values(request: web.Request, name: str) -> list[str]:
    return [*request.query.getall(name, []), *request.query.getall(f"{name}[]", [])]


type TruthSource = Literal[
    "micro", "meter", "consumption", "imported", "exported", "charge", "discharge"
]
type _Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# --------------------------------------------------------------------------------------------------
# The simulator
# --------------------------------------------------------------------------------------------------


class EnlightenSimulator(LoopbackSimulator[EnlightenConfig]):
    """Enlighten v2 on ``/api/v2`` (and v4 on ``/api/v4`` with OAuth2 on ``/oauth``).

    Truth: :meth:`truth_intervals`, :meth:`truth_meter_intervals`, :meth:`truth_hourly`,
    :meth:`truth_day`. Counters: :meth:`usage` per key (``KeyUsage``). Controls:
    :meth:`stop_reporting`, :meth:`resume_reporting`, :meth:`set_comm_outage`, ``fail_next``.
    """

    fault_kinds: ClassVar[frozenset[str]] = FAULT_KINDS
    fault_messages: ClassVar[Mapping[str, str]] = _FAULT_MESSAGES

    def __init__(
        self, config: EnlightenConfig | None = None, clock: SimClock | None = None
    ) -> None:
        super().__init__(config or EnlightenConfig(), clock)
        self.start_time = self.clock.now()
        self.systems: dict[int, SimSystem] = {
            spec.system_id: SimSystem(spec, self.start_time, self.config.upload_lag)
            for spec in self.config.systems
        }
        self._usage: dict[str, KeyUsage] = {}
        self._busy: set[str] = set()
        self.oauth = OAuthAuthority(self._now)

    # -- observation -------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The v2 base URL, as a client is configured with it."""
        return f"{self.url}/api/v2"

    def usage(self, key: str | None = None) -> KeyUsage:
        """What ``key`` (default: the configured v2 key) has spent."""
        return self._usage.setdefault(self.config.api_key if key is None else key, KeyUsage())

    def system(self, system_id: int) -> SimSystem:
        return self.systems[system_id]

    def truth_intervals(
        self, system_id: int, start: datetime, end: datetime
    ) -> list[tuple[datetime, int]]:
        """Every produced 5-minute interval (end, Wh) ending in (start, end], uploaded or not."""
        rows = self.systems[system_id].micro_rows(int(start.timestamp()), int(end.timestamp()))
        return [(datetime.fromtimestamp(e, UTC), wh) for e, wh in rows]

    def truth_meter_intervals(
        self, system_id: int, start: datetime, end: datetime
    ) -> list[tuple[datetime, int]]:
        """Every meter quarter (end, Wh) ending in ``(start, end]`` (empty without a meter)."""
        rows = self.systems[system_id].meter_rows(int(start.timestamp()), int(end.timestamp()))
        return [(datetime.fromtimestamp(e, UTC), wh) for e, wh in rows]

    def truth_hourly(
        self, system_id: int, start: datetime, end: datetime, source: TruthSource = "micro"
    ) -> dict[datetime, int]:
        """Wh per UTC hour (keyed by the hour's start) of the intervals ending in (start, end].

        ``source``: "micro" (5-minute intervals), "meter" (revenue-grade meter quarters) or one
        of the v4 site flows ("consumption", "imported", "exported", "charge", "discharge").
        """
        rows: list[tuple[datetime, int]]
        if source == "micro":
            rows = self.truth_intervals(system_id, start, end)
        elif source == "meter":
            rows = self.truth_meter_intervals(system_id, start, end)
        else:
            rows = [
                (datetime.fromtimestamp(f.end_at, UTC), int(getattr(f, source)))
                for f in self.truth_flows(system_id, start, end)
            ]
        hours: dict[datetime, int] = {}
        for end_at, wh in rows:
            hour = (end_at - timedelta(seconds=1)).replace(minute=0, second=0, microsecond=0)
            hours[hour] = hours.get(hour, 0) + wh
        return hours

    def truth_day(self, system_id: int, d: date) -> int:
        """The whole day's merged production (Wh), uploaded or not."""
        system = self.systems[system_id]
        day = system.day(d)
        return (
            system.merged(d, day.micro_total, day.meter_total)
            if d >= system.operational_date
            else 0
        )

    # -- control -----------------------------------------------------------------------------------

    def stop_reporting(self, system_id: int, at: datetime | None = None) -> None:
        """The system's Envoys fall silent for good from ``at`` (default: now)."""
        self.systems[system_id].stopped_at = (at or self.clock.now()).timestamp()

    def resume_reporting(self, system_id: int) -> None:
        """Undo :meth:`stop_reporting` and any comm outage (the backlog is uploaded)."""
        self.systems[system_id].stopped_at = None
        self.systems[system_id].outage = None

    def set_comm_outage(self, system_id: int, start: datetime, end: datetime) -> None:
        """The system's Envoys do not report in ``[start, end)``; status ``comm`` meanwhile."""
        self.systems[system_id].outage = (start.timestamp(), end.timestamp())

    # -- plumbing ----------------------------------------------------------------------------------

    def _now(self) -> float:
        return self.clock.now().timestamp()

    def _add_routes(self, app: web.Application) -> None:
        v2: list[tuple[str, _Handler]] = [
            ("/api/v2/systems", self._systems),
            ("/api/v2/systems/{system_id}/summary", self._summary),
            ("/api/v2/systems/{system_id}/stats", self._stats),
            ("/api/v2/systems/{system_id}/rgm_stats", self._rgm_stats),
            ("/api/v2/systems/{system_id}/energy_lifetime", self._energy_lifetime),
            ("/api/v2/systems/{system_id}/envoys", self._envoys),
            ("/api/v2/systems/{system_id}/inventory", self._inventory),
            ("/api/v2/systems/{system_id}/monthly_production", self._monthly_production),
        ]
        v4: list[tuple[str, _Handler]] = [
            ("/systems", self._v4_systems),
            ("/systems/{system_id}/summary", self._v4_summary),
            ("/systems/{system_id}/devices", self._v4_devices),
            ("/systems/{system_id}/telemetry/production_micro", self._v4_production_micro),
            ("/systems/{system_id}/telemetry/production_meter", self._v4_production_meter),
            ("/systems/{system_id}/telemetry/consumption_meter", self._v4_consumption_meter),
            ("/systems/{system_id}/telemetry/battery", self._v4_battery),
            ("/systems/{system_id}/energy_import_telemetry", self._v4_import),
            ("/systems/{system_id}/energy_export_telemetry", self._v4_export),
            ("/systems/{system_id}/rgm_stats", self._v4_rgm_stats),
            ("/systems/{system_id}/energy_lifetime", self._energy_lifetime),
            ("/systems/{system_id}/consumption_lifetime", self._v4_consumption_lifetime),
            ("/systems/{system_id}/battery_lifetime", self._v4_battery_lifetime),
            ("/systems/{system_id}/energy_import_lifetime", self._v4_import_lifetime),
            ("/systems/{system_id}/energy_export_lifetime", self._v4_export_lifetime),
            ("/systems/{system_id}/latest_telemetry", self._v4_latest),
        ]
        for path, handler in v2:
            app.router.add_get(path, self._replying(handler))
        for path, handler in v4:
            app.router.add_get("/api/v4" + path, self._replying(handler))
        app.router.add_get("/oauth/authorize", self._authorize)
        app.router.add_post("/oauth/token", self._token)

    def _replying(self, handler: _Handler) -> _Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except _Reply as reply:
                return reply.response

        return wrapped

    def _error_response(
        self, status: int, message: str, headers: Mapping[str, str] | None = None
    ) -> web.Response:
        if _api.get() == "v4":
            response = _v4_error(status, message, message)
        else:
            response = _v2_error(status, message)
        response.headers.update(headers or {})
        return response

    def _fault_response(self, kind: str) -> web.StreamResponse:
        if kind == "unavailable":
            return _json(UNAVAILABLE, 500)
        return super()._fault_response(kind)

    def _http_error(self, err: web.HTTPException) -> web.Response:
        if isinstance(err, web.HTTPNotFound):
            return self._error_response(404, "Not Found")
        return self._error_response(err.status, err.reason)

    def _malformed(self, response: web.StreamResponse) -> web.StreamResponse:
        if not isinstance(response, web.Response):
            return response
        return truncated_json(response, stub=b'{"system_id": ')

    async def _serve(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/api/v2/"):
            _api.set("v2")
            return _jsonp(request, await self._serve_v2(request, handler))
        _api.set("v4")
        if request.path.startswith("/api/v4/"):
            return await self._serve_v4(request, handler)
        return await self._answer(request, handler)

    async def _serve_v2(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        cfg = self.config
        key = request.query.get("key", "")
        if key not in (cfg.api_key, *cfg.other_api_keys):
            return _v2_error(401, BAD_KEY)
        usage = self.usage(key)
        if key in self._busy:
            usage.rejected_busy += 1
            return _v2_error(503, "Too many concurrent requests.")
        self._busy.add(key)
        try:
            refused = usage.admit(self._now(), cfg.minute_limit, cfg.month_limit)
            if refused is not None:
                period, start, end = refused
                limit = cfg.minute_limit if period == "minute" else cfg.month_limit
                return _json(
                    {
                        "reason": "409",
                        "message": [f"Usage limit exceeded for plan {cfg.plan}"],
                        "period": period,
                        "period_start": start,
                        "period_end": end,
                        "limit": limit,
                    },
                    409,
                )
            if request.query.get("user_id") != cfg.user_id:
                return _v2_error(401, BAD_USER)
            return await self._answer(request, handler)
        finally:
            self._busy.discard(key)

    # -- v2 helpers --------------------------------------------------------------------------------

    def _system_of(self, request: web.Request) -> SimSystem:
        try:
            system = self.systems.get(int(request.match_info["system_id"]))
        except ValueError:
            system = None
        if system is None:
            raise _Reply(_v2_error(404, "Not Found"))
        return system

    def _format(self, request: web.Request, system: SimSystem) -> _Format:
        mode = request.query.get("datetime_format", "")
        return _Format(mode if mode in ("epoch", "iso8601") else "", system.tz)

    def _meta(self, system: SimSystem, fmt: _Format) -> dict[str, object]:
        now = self._now()
        until = system.visible_until(now)
        return {
            "status": system.status(now),
            "last_report_at": fmt.time(system.last_report(now)),
            "last_energy_at": fmt.time(system.last_interval_end(until)),
            "operational_at": fmt.time(system.operational_at),
        }

    # -- v2 endpoints ------------------------------------------------------------------------------

    async def _systems(self, request: web.Request) -> web.StreamResponse:
        cfg = self.config
        limit = _int_param(request, "limit") or cfg.systems_page_size
        limit = max(1, min(limit, cfg.max_page_size))
        after = _uncursor(request.query["next"]) if request.query.get("next") else None
        now = self._now()
        chosen = [
            s
            for s in sorted(self.systems.values(), key=lambda s: s.system_id)
            if self._matches(request, s, now) and (after is None or s.system_id > after)
        ]
        page = chosen[:limit]
        body: dict[str, object] = {
            "systems": [
                self._system_entry(s, _Format(self._format(request, s).mode, s.tz)) for s in page
            ]
        }
        if len(chosen) > limit:
            body["next"] = _cursor(page[-1].system_id)
        return _json(body)

    def _matches(self, request: web.Request, system: SimSystem, now: float) -> bool:
        spec = system.spec
        ids = _values(request, "system_id")
        if ids and str(system.system_id) not in ids:
            return False
        names = _values(request, "system_name")
        if names and not any(n.lower() in spec.name.lower() for n in names):
            return False
        statuses = _values(request, "status")
        if statuses and system.status(now) not in statuses:
            return False
        refs = [r.lower() for r in _values(request, "reference")]
        mine = [r.lower() for r in (spec.reference, *spec.other_references) if r is not None]
        if refs and not any(r in mine for r in refs):
            return False
        installers = _values(request, "installer")
        if installers and spec.installer not in installers:
            return False
        kinds = _values(request, "connection_type")
        return not kinds or spec.connection_type in kinds

    def _system_entry(self, system: SimSystem, fmt: _Format) -> dict[str, object]:
        spec = system.spec
        entry: dict[str, object] = {
            "system_id": spec.system_id,
            "system_name": spec.name,
            "system_public_name": spec.name,
            "status": system.status(self._now()),
            "timezone": spec.timezone,
            "country": spec.country,
            "state": spec.state,
            "city": spec.city,
            "postal_code": spec.postal_code,
            "connection_type": spec.connection_type,
            "meta": self._meta(system, fmt),
        }
        if spec.reference is not None:
            entry["reference"] = spec.reference
        if spec.other_references:
            entry["other_references"] = list(spec.other_references)
        return entry

    async def _summary(self, request: web.Request) -> web.StreamResponse:
        system = self._system_of(request)
        fmt = self._format(request, system)
        now = self._now()
        today = system.local_date(now)
        wanted = _date_param(request, "summary_date")
        if wanted is not None and wanted > today:
            return _v2_error(422, "summary_date cannot be in the future.")
        day = wanted or today
        current = day == today
        until = system.visible_until(now)
        micro, meter = system.day_energy(day, until)
        body = {
            "current_power": system.current_power(until) if current else 0,
            "energy_lifetime": system.lifetime_before(day, until),
            "energy_today": system.merged(day, micro, meter),
            "last_interval_end_at": fmt.time(system.last_interval_end(until)),
            "last_report_at": fmt.time(system.last_report(now)),
            "modules": system.spec.modules if current else 0,
            "operational_at": fmt.time(system.operational_at),
            "size_w": system.spec.size_w if current else 0,
            "source": "meter" if system.has_meter else "microinverters",
            "status": system.status(now),
            "summary_date": fmt.date(day),
            "system_id": system.system_id,
        }
        return _json(body)

    def _span(
        self, request: web.Request, system: SimSystem, step: int, longest: Callable[[int], int]
    ) -> tuple[int, int, int]:
        """(start, end, now) of a stats request: defaults, rounding down, clamping."""
        now = self._now()
        start = _int_param(request, "start_at")
        if start is None:
            start = system.midnight(system.local_date(now))
        end = _int_param(request, "end_at")
        end = int(now) if end is None else end
        start -= start % step
        end -= end % step
        start = max(start, system.operational_at)  # the data begins with the operational date
        return start, min(end, longest(start)), int(now)

    async def _stats(self, request: web.Request) -> web.StreamResponse:
        system = self._system_of(request)
        fmt = self._format(request, system)
        start, end, now = self._span(request, system, INTERVAL, lambda s: s + _MAX_STATS_SPAN)
        until = system.visible_until(now)
        last = system.last_interval_end(until)
        rows: list[tuple[int, int]] = []
        if start >= now - _YEAR:
            if last is None or start >= last or end <= start:
                return _json(
                    {
                        "reason": "422",
                        "message": ["Requested dates are invalid for this system."],
                        "start_at": fmt.time(start),
                        "end_at": fmt.time(end),
                    },
                    422,
                )
            rows = system.micro_rows(start, min(end, last))
        modules = system.spec.modules
        return _json(
            {
                "system_id": system.system_id,
                "total_devices": modules,
                "meta": self._meta(system, fmt),
                "intervals": [
                    {
                        "end_at": fmt.time(e),
                        "powr": wh * 12,
                        "enwh": wh,
                        "devices_reporting": modules,
                    }
                    for e, wh in rows
                ],
            }
        )

    async def _rgm_stats(self, request: web.Request) -> web.StreamResponse:
        system = self._system_of(request)
        fmt = self._format(request, system)

        def month_later(s: int) -> int:
            local = datetime.fromtimestamp(s, system.tz)
            year, month = local.year + local.month // 12, local.month % 12 + 1
            day = min(local.day, 28)
            return int(local.replace(year=year, month=month, day=day).timestamp())

        start, end, now = self._span(request, system, QUARTER, month_later)
        until = system.visible_until(now)
        rows: list[tuple[int, int]] = []
        if system.has_meter and start >= now - _YEAR and until is not None:
            rows = system.meter_rows(start, min(end, until))
        return _json(
            {
                "system_id": system.system_id,
                "total_devices": 1 if system.has_meter else 0,
                "meta": self._meta(system, fmt),
                "intervals": [
                    {"end_at": fmt.time(e), "wh_del": wh, "devices_reporting": 1} for e, wh in rows
                ],
            }
        )

    async def _energy_lifetime(self, request: web.Request) -> web.StreamResponse:
        system = self._system_of(request)
        fmt = self._format(request, system)
        now = self._now()
        until = system.visible_until(now)
        today = system.local_date(now)
        start = _date_param(request, "start_date")
        end = _date_param(request, "end_date")
        if end is None:
            reported = system.day_of_end(until) if until is not None else system.operational_date
            end = min(today - timedelta(days=1), reported)
        end = min(end, today)
        first = start or system.operational_date
        if end < first:
            return _v2_error(422, "end_date must not be before start_date.")
        series = [(d, *system.day_energy(d, until)) for d, _ in system.days(first, end)]
        body: dict[str, object] = {
            "system_id": system.system_id,
            "start_date": fmt.date(first),
            "production": [system.merged(d, mi, me) for d, mi, me in series],
            "meta": self._meta(system, fmt),
        }
        if system.meter_start_date is not None:
            body["meter_start_date"] = fmt.date(system.meter_start_date)
            if request.query.get("production") == "all":
                body["micro_production"] = [mi for _, mi, _ in series]
                body["meter_production"] = [me for _, _, me in series]
        elif request.query.get("production") == "all":  # no meter: no meter series
            body["micro_production"] = [mi for _, mi, _ in series]
        return _json(body)

    async def _envoys(self, request: web.Request) -> web.StreamResponse:
        system = self._system_of(request)
        fmt = self._format(request, system)
        now = self._now()
        report = system.last_report(now)
        return _json(
            {
                "system_id": system.system_id,
                "envoys": [
                    {
                        "envoy_id": envoy.envoy_id,
                        "last_report_at": fmt.time(report),
                        "name": f"Envoy {envoy.serial}",
                        "part_number": envoy.part_number,
                        "serial_number": envoy.serial,
                        "status": system.status(now),
                    }
                    for envoy in system.spec.envoys
                ],
            }
        )

    async def _inventory(self, request: web.Request) -> web.StreamResponse:
        system = self._system_of(request)
        spec = system.spec
        body: dict[str, object] = {"system_id": system.system_id}
        if spec.envoys:
            body["envoys"] = [{"sn": e.serial} for e in spec.envoys]
        if spec.modules:
            body["inverters"] = [
                {"sn": f"{spec.system_id:04d}{n:08d}", "model": spec.inverter_model}
                for n in range(1, spec.modules + 1)
            ]
        if system.has_meter:
            body["meters"] = [
                {"sn": f"{spec.system_id:04d}99000001", "manufacturer": "Enphase", "model": "EIM"}
            ]
        return _json(body)

    async def _monthly_production(self, request: web.Request) -> web.StreamResponse:
        system = self._system_of(request)
        if self.config.monthly_production_unavailable:
            return _json(UNAVAILABLE, 500)
        fmt = self._format(request, system)
        now = self._now()
        today = system.local_date(now)
        start = _date_param(request, "start_date")
        if start is None:
            return _v2_error(422, "start_date is required.")
        year, month = start.year + start.month // 12, start.month % 12 + 1
        if start.day == 1:
            end = date(year, month, 1) - timedelta(days=1)
        else:
            end = date(year, month, min(start.day, 28)) - timedelta(days=1)
        if end >= today:
            return _v2_error(422, "start_date must be at least one month ago.")
        until = system.visible_until(now)
        total = sum(system.energy(d, until) for d, _ in system.days(start, end))
        readings: list[dict[str, object]] = []
        if system.has_meter:
            before = sum(
                system.day_energy(d, until)[1]
                for d, _ in system.days(system.operational_date, start - timedelta(days=1))
            )
            during = sum(system.day_energy(d, until)[1] for d, _ in system.days(start, end))
            readings.append(
                {
                    "serial_number": f"{system.system_id:04d}99000001",
                    "start": before,
                    "end": before + during,
                }
            )
        return _json(
            {
                "system_id": system.system_id,
                "start_date": fmt.date(start),
                "end_date": fmt.date(end),
                "production_wh": total,
                "meter_readings": readings,
                "meta": self._meta(system, fmt),
            }
        )

    # -- v4: OAuth2 --------------------------------------------------------------------------------

    def _oauth_client(self) -> OAuthClient:
        cfg = self.config
        return OAuthClient(
            cfg.client_id,
            cfg.client_secret,
            cfg.enl_uid,
            cfg.access_token_lifetime.total_seconds(),
            cfg.refresh_token_lifetime.total_seconds(),
            cfg.refuse_consent,
        )

    def remove_battery(self, system_id: int, at: datetime | None = None) -> None:
        """The site's battery disappears from ``at`` (default: now): no flows, no device."""
        flows = self.systems[system_id].flows
        if flows is None or flows.capacity_wh == 0:
            raise ValueError(f"system {system_id} has no battery")
        flows.remove_battery(int((at or self.clock.now()).timestamp()))

    def truth_flows(self, system_id: int, start: datetime, end: datetime) -> list[Flow]:
        """Every 15-minute quarter's flows (uploaded or not) ending in (start, end]."""
        flows = self.systems[system_id].flows
        if flows is None:
            return []
        return flows.flows(int(start.timestamp()), int(end.timestamp()))

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        status, target = self.oauth.authorize(request.query, self._oauth_client())
        if status == 302:
            return web.Response(status=302, headers={"Location": target})
        return _json({"error": target, "error_description": "Unknown client or redirect"}, 400)

    async def _token(self, request: web.Request) -> web.StreamResponse:
        params = dict(request.query)
        if request.can_read_body:
            params.update({k: str(v) for k, v in (await request.post()).items()})
        if self.config.count_token_requests:
            usage = self.usage(self.config.v4_api_key)
            if usage.admit(self._now(), self.config.v4_minute_limit, self.config.v4_month_limit):
                return self._too_many()
        answer = self.oauth.token(
            request.headers.get("Authorization"), params, self._oauth_client()
        )
        return _json(answer.body, answer.status)

    # -- v4: the API -------------------------------------------------------------------------------

    def _too_many(self) -> web.Response:
        return _json(
            {
                "message": "Too Many Requests",
                "details": f"Usage limit exceeded for plan {self.config.v4_plan}",
                "code": 429,
            },
            429,
        )

    async def _serve_v4(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        cfg = self.config
        key = request.query.get("key", "")
        if key in cfg.foreign_api_keys:
            return _v4_error(401, "Not Authorized", "API Key -Client mismatch")
        if key != cfg.v4_api_key:
            return _v4_error(401, "Not Authorized", "Invalid API key")
        bearer = request.headers.get("Authorization", "")
        token = bearer.removeprefix("Bearer ").strip() if bearer.startswith("Bearer ") else ""
        if not self.oauth.access_valid(token):
            return _v4_error(401, "Not Authorized", "Invalid or expired access token")
        usage = self.usage(key)
        if key in self._busy:
            usage.rejected_busy += 1
            return _v4_error(503, "Service Unavailable", "Too many concurrent requests")
        self._busy.add(key)
        try:
            if usage.admit(self._now(), cfg.v4_minute_limit, cfg.v4_month_limit) is not None:
                return self._too_many()
            return await self._answer(request, handler)
        finally:
            self._busy.discard(key)

    def _v4_span(self, request: web.Request, system: SimSystem) -> tuple[int, int, str]:
        """(start, end, granularity) of a telemetry request: at most 7 days, within 2 years."""
        now = self._now()
        granularity = request.query.get("granularity", "day")
        length = _GRANULARITY.get(granularity)
        if length is None:
            raise _Reply(_v4_error(422, "Unprocessable Entity", "Invalid granularity"))
        start = _int_param(request, "start_at")
        if start is None:
            day = _date_param(request, "start_date") or system.local_date(now)
            start = system.midnight(day)
        if start < now - 2 * _YEAR or start > now:
            raise _Reply(
                _v4_error(422, "Unprocessable Entity", "start_at must be within the last 2 years")
            )
        end = start + length
        end_at = _int_param(request, "end_at")
        if end_at is not None:
            end = min(end, end_at)
        return start, min(end, int(now)), granularity

    def _telemetry(
        self,
        system: SimSystem,
        start: int,
        end: int,
        granularity: str,
        devices: int,
        intervals: list[object],
    ) -> web.Response:
        return _json(
            {
                "system_id": system.system_id,
                "granularity": granularity,
                "total_devices": devices,
                "start_at": start,
                "end_at": end,
                "items": "intervals",
                "intervals": intervals,
            }
        )

    def _visible_flows(self, system: SimSystem, start: int, end: int) -> list[Flow]:
        until = system.visible_until(self._now())
        if system.flows is None or until is None:
            return []
        return system.flows.flows(start, min(end, until))

    async def _v4_systems(self, request: web.Request) -> web.StreamResponse:
        page = max(1, _int_param(request, "page") or 1)
        size = max(1, min(_int_param(request, "size") or 10, 100))
        ordered = sorted(self.systems.values(), key=lambda s: s.system_id)
        chosen = ordered[(page - 1) * size : page * size]
        now = self._now()
        entries = []
        for system in chosen:
            spec = system.spec
            until = system.visible_until(now)
            entries.append(
                {
                    "system_id": spec.system_id,
                    "name": spec.name,
                    "public_name": spec.name,
                    "timezone": spec.timezone,
                    "address": {
                        "state": spec.state,
                        "country": spec.country,
                        "postal_code": spec.postal_code,
                        "city": spec.city,
                    },
                    "connection_type": spec.connection_type,
                    "energy_lifetime": -1,
                    "energy_today": -1,
                    "system_size": -1,
                    "status": system.status(now),
                    "last_report_at": system.last_report(now),
                    "last_energy_at": system.last_interval_end(until),
                    "operational_at": system.operational_at,
                    "attachment_type": "rack_mount",
                    "interconnect_date": system.operational_date.isoformat(),
                    "reference": spec.reference,
                    "other_references": list(spec.other_references),
                }
            )
        return _json(
            {
                "total": len(ordered),
                "current_page": page,
                "size": size,
                "count": len(entries),
                "items": "systems",
                "systems": entries,
            }
        )

    async def _v4_summary(self, request: web.Request) -> web.StreamResponse:
        response = await self._summary(request)
        assert isinstance(response, web.Response)
        if response.status != 200 or not isinstance(response.body, bytes):
            return response
        body = json.loads(response.body)
        system = self._system_of(request)
        now = self._now()
        if system.has_battery(now) and system.flows is not None:
            until = system.visible_until(now)
            last = self._visible_flows(system, (until or 0) - QUARTER, until or 0)
            body["battery_charge_w"] = last[-1].charge * 4 if last else 0
            body["battery_discharge_w"] = last[-1].discharge * 4 if last else 0
            body["battery_capacity_wh"] = system.flows.capacity_wh
        return _json(body)

    async def _v4_devices(self, request: web.Request) -> web.StreamResponse:
        system = self._system_of(request)
        spec = system.spec
        now = self._now()
        report = system.last_report(now)
        status = system.status(now)
        groups: dict[str, list[dict[str, object]]] = {}
        groups["micros"] = [
            {
                "id": spec.system_id * 1000 + n,
                "last_report_at": report,
                "name": f"Microinverter {spec.system_id:04d}{n:08d}",
                "serial_number": f"{spec.system_id:04d}{n:08d}",
                "part_number": "800-01127-r02",
                "sku": spec.inverter_model,
                "model": spec.inverter_model.split("-")[0],
                "status": "normal" if status == "normal" else "comm",
                "active": True,
                "product_name": spec.inverter_model.split("-")[0],
            }
            for n in range(1, spec.modules + 1)
        ]
        if system.has_meter:
            meters: list[dict[str, object]] = [
                {
                    "name": "Production Meter",
                    "serial_number": f"{spec.system_id:04d}99000001",
                    "part_number": "800-00656-r06",
                    "sku": "EIM",
                    "model": "Envoy-S-Metered",
                    "status": "normal",
                    "state": "enabled",
                    "measurement_type": "production",
                    "last_report_at": report,
                    "active": True,
                }
            ]
            if spec.consumption_meter:
                meters.append(
                    {
                        **meters[0],
                        "name": "Consumption Meter",
                        "serial_number": f"{spec.system_id:04d}99000002",
                        "measurement_type": "net-consumption",
                        "config_type": "Net",
                    }
                )
            groups["meters"] = meters
        groups["gateways"] = [
            {
                "id": envoy.envoy_id,
                "name": f"Envoy {envoy.serial}",
                "serial_number": envoy.serial,
                "part_number": envoy.part_number,
                "sku": "SC100G-M230ROW",
                "model": "Envoy-S",
                "status": status,
                "last_report_at": report,
                "active": True,
                "emu_sw_version": "D8.2.4382",
            }
            for envoy in spec.envoys
        ]
        if system.has_battery(now):
            groups["encharges"] = [
                {
                    "id": spec.system_id * 1000 + 900,
                    "name": "IQ Battery 10T",
                    "serial_number": f"{spec.system_id:04d}88000001",
                    "part_number": "836-00750-r27",
                    "sku": "ENCHARGE-10T-1P-INT",
                    "model": "Encharge",
                    "status": "normal",
                    "last_report_at": report,
                    "active": True,
                }
            ]
        return _json(
            {
                "system_id": spec.system_id,
                "total_devices": sum(len(g) for g in groups.values()),
                "items": "devices",
                "devices": groups,
            }
        )

    async def _v4_production_micro(self, request: web.Request) -> web.StreamResponse:
        system = self._system_of(request)
        start, end, granularity = self._v4_span(request, system)
        until = system.visible_until(self._now())
        rows = system.micro_rows(start, min(end, until)) if until is not None else []
        modules = system.spec.modules
        intervals: list[object] = [
            {"end_at": e, "devices_reporting": modules, "powr": wh * 12, "enwh": wh}
            for e, wh in rows
        ]
        return self._telemetry(system, start, end, granularity, modules, intervals)

    async def _v4_production_meter(self, request: web.Request) -> web.StreamResponse:
        system = self._system_of(request)
        start, end, granularity = self._v4_span(request, system)
        until = system.visible_until(self._now())
        rows = system.meter_rows(start, min(end, until)) if until is not None else []
        n = 1 if system.has_meter else 0
        intervals: list[object] = [
            {"end_at": e, "devices_reporting": 1, "wh_del": wh} for e, wh in rows
        ]
        return self._telemetry(system, start, end, granularity, n, intervals)

    async def _v4_consumption_meter(self, request: web.Request) -> web.StreamResponse:
        system = self._system_of(request)
        start, end, granularity = self._v4_span(request, system)
        flows = self._visible_flows(system, start, end)
        intervals: list[object] = [
            {"end_at": f.end_at, "devices_reporting": 1, "enwh": f.consumption} for f in flows
        ]
        n = 1 if system.flows is not None else 0
        return self._telemetry(system, start, end, granularity, n, intervals)

    async def _v4_battery(self, request: web.Request) -> web.StreamResponse:
        system = self._system_of(request)
        start, end, granularity = self._v4_span(request, system)
        flows = [f for f in self._visible_flows(system, start, end) if f.soc_percent is not None]
        intervals: list[object] = [
            {
                "end_at": f.end_at,
                "charge": {"enwh": f.charge, "devices_reporting": 1},
                "discharge": {"enwh": f.discharge, "devices_reporting": 1},
                "soc": {"percent": f.soc_percent, "devices_reporting": 1},
            }
            for f in flows
        ]
        n = 1 if system.has_battery(self._now()) else 0
        return self._telemetry(system, start, end, granularity, n, intervals)

    async def _v4_import(self, request: web.Request) -> web.StreamResponse:
        system = self._system_of(request)
        start, end, granularity = self._v4_span(request, system)
        flows = self._visible_flows(system, start, end)
        intervals: list[object] = [{"end_at": f.end_at, "wh_imported": f.imported} for f in flows]
        n = 1 if system.flows is not None else 0
        return self._telemetry(system, start, end, granularity, n, intervals)

    async def _v4_export(self, request: web.Request) -> web.StreamResponse:
        system = self._system_of(request)
        start, end, granularity = self._v4_span(request, system)
        flows = self._visible_flows(system, start, end)
        nested: list[object] = [[{"end_at": f.end_at, "wh_exported": f.exported} for f in flows]]
        n = 1 if system.flows is not None else 0
        return self._telemetry(system, start, end, granularity, n, nested if flows else [])

    async def _v4_rgm_stats(self, request: web.Request) -> web.StreamResponse:
        system = self._system_of(request)
        start, end, now = self._span(request, system, QUARTER, lambda s: s + 7 * 86400)
        until = system.visible_until(now)
        rows = system.meter_rows(start, min(end, until)) if until is not None else []
        return _json(
            {
                "system_id": system.system_id,
                "total_devices": 1 if system.has_meter else 0,
                "meta": self._meta(system, _Format("", system.tz)),
                "intervals": [
                    {"end_at": e, "wh_del": wh, "devices_reporting": 1} for e, wh in rows
                ],
            }
        )

    def _daily_flows(
        self, request: web.Request, system: SimSystem, pick: Callable[[Flow], int]
    ) -> tuple[date | None, list[int]]:
        """A daily series of visible flow energies (from the meters' first day by default)."""
        now = self._now()
        until = system.visible_until(now)
        if system.flows is None or until is None:
            return None, []
        first_day = system.day_of_end(system.flows.first_end)
        today = system.local_date(now)
        start = _date_param(request, "start_date") or first_day
        end = _date_param(request, "end_date") or min(
            today - timedelta(days=1), system.day_of_end(until)
        )
        series: list[int] = []
        for d, _ in system.days(start, min(end, today)):
            if d < first_day:
                series.append(0)
                continue
            lo = system.midnight(d)
            hi = min(system.midnight(d + timedelta(days=1)), until)
            series.append(sum(pick(f) for f in system.flows.flows(lo, hi)) if hi > lo else 0)
        return start, series

    async def _v4_consumption_lifetime(self, request: web.Request) -> web.StreamResponse:
        system = self._system_of(request)
        start, series = self._daily_flows(request, system, lambda f: f.consumption)
        return self._lifetime(system, start, {"consumption": series})

    async def _v4_battery_lifetime(self, request: web.Request) -> web.StreamResponse:
        system = self._system_of(request)
        start, charge = self._daily_flows(request, system, lambda f: f.charge)
        _, discharge = self._daily_flows(request, system, lambda f: f.discharge)
        return self._lifetime(system, start, {"charge": charge, "discharge": discharge})

    async def _v4_import_lifetime(self, request: web.Request) -> web.StreamResponse:
        system = self._system_of(request)
        start, series = self._daily_flows(request, system, lambda f: f.imported)
        return self._lifetime(system, start, {"import": series})

    async def _v4_export_lifetime(self, request: web.Request) -> web.StreamResponse:
        system = self._system_of(request)
        start, series = self._daily_flows(request, system, lambda f: f.exported)
        return self._lifetime(system, start, {"export": series})

    def _lifetime(
        self, system: SimSystem, start: date | None, series: dict[str, list[int]]
    ) -> web.Response:
        return _json(
            {
                "system_id": system.system_id,
                "start_date": None if start is None else start.isoformat(),
                **series,
                "meta": self._meta(system, _Format("", system.tz)),
            }
        )

    async def _v4_latest(self, request: web.Request) -> web.StreamResponse:
        system = self._system_of(request)
        now = self._now()
        until = system.visible_until(now)
        report = system.last_report(now)
        devices: dict[str, list[dict[str, object]]] = {}
        last = self._visible_flows(system, (until or 0) - QUARTER, until or 0)
        if system.flows is not None and last:
            flow = last[-1]
            devices["meters"] = [
                {
                    "name": "production",
                    "channel": 1,
                    "last_report_at": report,
                    "power": flow.production * 4,
                },
                {
                    "name": "consumption",
                    "channel": 1,
                    "last_report_at": report,
                    "power": flow.consumption * 4,
                },
            ]
            if flow.soc_percent is not None:
                devices["encharges"] = [
                    {
                        "name": "encharge",
                        "channel": 1,
                        "last_report_at": report,
                        "power": (flow.discharge - flow.charge) * 4,
                        "operational_mode": "self_consumption",
                        "soc": flow.soc_percent,
                    }
                ]
        return _json({"system_id": system.system_id, "devices": devices})


def _jsonp(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """Wrap a JSON answer in the ``callback`` parameter, if any."""
    callback = request.query.get("callback")
    if not callback or not isinstance(response, web.Response):
        return response
    body = response.body if isinstance(response.body, bytes) else b""
    return web.Response(
        body=callback.encode() + b"(" + body + b")",
        status=response.status,
        content_type="application/javascript",
    )
