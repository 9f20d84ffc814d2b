"""Simulator of the Enphase Enlighten Systems API v2 (``/api/v2``), on the shared loopback plumbing.

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
        operational_days=2 * 365 + 100,
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
    for e in range(start + INTERVAL, end + 1, INTERVAL):
        if e <= key.operational_at:
            continue
        g = sky.irradiance(e - INTERVAL / 2)
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
        self.has_battery = spec.battery_wh > 0

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
        """Visible merged energy of every day before ``d``."""
        last = min(d - timedelta(days=1), self.day_of_end(until) if until is not None else d)
        return sum(self.energy(x, until) for x, _ in self.days(self.operational_date, last))

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
        self,
        system_id: int,
        start: datetime,
        end: datetime,
        source: Literal["micro", "meter"] = "micro",
    ) -> dict[datetime, int]:
        """Wh per UTC hour (keyed by the hour's start) of the intervals ending in (start, end]."""
        rows = (
            self.truth_meter_intervals(system_id, start, end)
            if source == "meter"
            else self.truth_intervals(system_id, start, end)
        )
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
        for path, handler in v2:
            app.router.add_get(path, self._replying(handler))

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
