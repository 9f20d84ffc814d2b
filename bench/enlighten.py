"""SolarHub's Enlighten request budget against the Enlighten simulator, beside fixed-interval plans.

Run ``scripts/run python -m bench.enlighten [--days N | --month] [--by-day]``. The default is a
short smoke run (2 simulated days); ``--month`` simulates June 2026 (a whole UTC month, the
period Enphase's month counter uses).

1. SolarHub: the request-budget planner (``vendors/enlighten/planner.py``) driven by a small loop
   ("planner-only driver", :func:`run_solarhub`): ask the planner for the next action, move the
   simulator's clock to it, perform it with SolarHub's Enlighten client over loopback HTTP, record
   the answer in the planner. Scenarios: v2 Watt (10/min, 10,000/month), v2 with a 1,000/month
   plan, v4 Watt (10/min, 1,000/month, OAuth2 token refreshes counted in the planner's ledger),
   each with 1 system and 3 systems on one key. Five Home Assistant restarts: the planner is
   rebuilt from its stored JSON, the client and HTTP session are new, nothing else survives but
   what Home Assistant would store (the statistics' end); one restart of a month run is a
   12-hour outage. The figures: requests per day and month, 409s (v2) / 429s (v4), the busiest
   calendar minute, the data age at each summary poll (time since the Envoy's upload, from the
   simulator, and since the newest interval) by day, and the hourly statistics assembled from
   the fetched intervals against the simulator's truth (hours off by more than 1 Wh).
2. Beside it, on a second simulator: the fixed-interval plans other integrations use, issued
   with SolarHub's v2 client on both plans: ``summary`` every 15 minutes around the clock,
   ``stats`` every 5 minutes, ``summary`` every 60 s. They do not read ``period_end``: they keep
   polling on their interval, so their 409 count is what the server answered.

3. The same scenarios through the integration itself (``bench.enlighten_ha``: the entry in a
   test-harness Home Assistant with a recorder, on the accelerated clock, restarts as unload and
   setup with the Store kept), in columns "in HA" beside "planner". Its statistics are read back
   from the recorder. On by default for short runs; a month of it takes several minutes per
   scenario, so ``--month`` runs it only with ``--ha``. v4 entries get their token from the
   simulator's OAuth2 and refresh it through the integration's own token source.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
import json
import math
import statistics
import time
from typing import Final, Literal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import aiohttp
from astral import Observer  # type: ignore[import-untyped]
from astral.sun import sun  # type: ignore[import-untyped]

from custom_components.solarhub.api.enlighten.client import (
    EnlightenClient,
    EnlightenV2Client,
    EnlightenV4Client,
)
from custom_components.solarhub.api.enlighten.models import EnergyInterval, SystemSummary
from custom_components.solarhub.api.errors import RateLimitedError, RatePeriod, SolarHubApiError
from custom_components.solarhub.vendors.enlighten.ledger import Period
from custom_components.solarhub.vendors.enlighten.planner import Action, Planner, RequestKind
from custom_components.solarhub.vendors.enlighten.plans import (
    V2_WATT,
    V4_WATT,
    ApiVersion,
    Plan,
    plan_for,
)
from tests.simulators import SimClock
from tests.simulators.enlighten import (
    DEFAULT_SYSTEMS,
    EnlightenConfig,
    EnlightenSimulator,
    SystemSpec,
    TruthSource,
)

from .common import Row, fmt, ratio, render

START: Final = datetime(2026, 6, 1, tzinfo=UTC)
MONTH_DAYS: Final = 30
HISTORY_DAYS: Final = 7  # first setup: the last 7 days hourly (before that: daily values)
REQUEST_SECONDS: Final = 1.0  # simulated time one request takes
RESTART_DOWN: Final = timedelta(minutes=5)
LONG_OUTAGE: Final = timedelta(hours=12)
# Restarts at these fractions of the run (plus odd minutes, so they fall between polls).
RESTART_FRACTIONS: Final = (0.09, 0.31, 0.5, 0.7, 0.9)
LONG_OUTAGE_RESTART: Final = 2  # the third restart of a run of a week or more: 12 hours down
REDIRECT: Final = "https://example.invalid/auth/external/callback"
PLAN_1000: Final = plan_for(ApiVersion.V2, "custom", per_minute=10, per_month=1_000)

type Api = Literal["v2", "v4"]


# --------------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Series:
    """One statistics request series of a system, and the statistics it yields (truth source)."""

    endpoint: str  # the planner's name of the series
    statistics: tuple[tuple[str, TruthSource], ...]  # statistic name, simulator truth


STATS = Series("stats", (("solar", "micro"),))
RGM_STATS = Series("rgm_stats", (("solar", "meter"),))
V4_MICRO = Series("production_micro", (("solar", "micro"),))
V4_SITE = (
    Series("production_meter", (("solar", "meter"),)),
    Series("consumption_meter", (("consumption", "consumption"),)),
    Series("energy_import", (("grid_import", "imported"),)),
    Series("energy_export", (("grid_export", "exported"),)),
    Series("battery", (("battery_charge", "charge"), ("battery_discharge", "discharge"))),
)
V4_SITE_HISTORY: Final = (
    "energy_lifetime",
    "consumption_lifetime",
    "energy_import_lifetime",
    "energy_export_lifetime",
    "battery_lifetime",
)


def series_of(api: Api, spec: SystemSpec) -> tuple[Series, ...]:
    """What a system's statistics are fetched from: meter where there is one, else micros."""
    if api == "v2":
        return (RGM_STATS,) if spec.meter_days is not None else (STATS,)
    return V4_SITE if spec.consumption_meter else (V4_MICRO,)


def inventory_of(api: Api) -> tuple[str, ...]:
    """The inventory endpoints (re-read daily or weekly)."""
    return ("inventory", "envoys") if api == "v2" else ("devices",)


def history_of(api: Api, spec: SystemSpec) -> tuple[str, ...]:
    """The one-shot daily history requests of a first setup."""
    return V4_SITE_HISTORY if api == "v4" and spec.consumption_meter else ("energy_lifetime",)


@dataclass(frozen=True, slots=True)
class Scenario:
    """One SolarHub run: an API, a plan and the systems on its key."""

    label: str
    api: Api
    plan: Plan
    systems: tuple[SystemSpec, ...]

    def simulator_config(self) -> EnlightenConfig:
        """The simulator with this plan's limits on the key in use."""
        if self.api == "v2":
            return EnlightenConfig(
                systems=self.systems,
                minute_limit=self.plan.per_minute,
                month_limit=self.plan.per_month,
            )
        return EnlightenConfig(
            systems=self.systems,
            v4_minute_limit=self.plan.per_minute,
            v4_month_limit=self.plan.per_month,
        )


ONE: Final = DEFAULT_SYSTEMS[:1]
THREE: Final = DEFAULT_SYSTEMS
SCENARIOS: Final = (
    Scenario("v2 Watt x1", "v2", V2_WATT, ONE),
    Scenario("v2 Watt x3", "v2", V2_WATT, THREE),
    Scenario("v2 1,000/mo x1", "v2", PLAN_1000, ONE),
    Scenario("v2 1,000/mo x3", "v2", PLAN_1000, THREE),
    Scenario("v4 Watt x1", "v4", V4_WATT, ONE),
    Scenario("v4 Watt x3", "v4", V4_WATT, THREE),
)


def restarts(days: float) -> list[tuple[datetime, timedelta]]:
    """Five restarts through the run (when, how long Home Assistant is down)."""
    out = []
    for index, fraction in enumerate(RESTART_FRACTIONS):
        at = START + timedelta(days=days * fraction, minutes=7 + 13 * index)
        long = index == LONG_OUTAGE_RESTART and days >= 7
        out.append((at, LONG_OUTAGE if long else RESTART_DOWN))
    return out


# --------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Poll:
    """One summary poll of a system."""

    at: datetime
    upload_age: float  # minutes since the Envoy's last upload (the simulator's)
    interval_age: float | None  # minutes since the newest interval the summary announced
    producing: bool  # current power > 0


@dataclass(slots=True)
class RunResult:
    """What one SolarHub run showed."""

    scenario: Scenario
    days: float
    where: str = "planner"  # "planner": the planner-only driver; "in HA": the integration
    requests: int = 0  # the simulator's counted requests
    rejected: int = 0  # 409 (v2) or 429 (v4)
    rejected_busy: int = 0  # 503
    per_minute_peak: int = 0
    per_day: Counter[date] = field(default_factory=Counter)
    per_minute: Counter[int] = field(default_factory=Counter)  # minute start (epoch) -> requests
    kinds: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    polls: dict[int, list[Poll]] = field(default_factory=lambda: defaultdict(list))
    planner_month_max: int = 0
    hours_compared: int = 0
    hours_off: int = 0
    off_examples: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def median(values: Sequence[float]) -> float | None:
    """The median, None for no values."""
    return statistics.median(values) if values else None


# --------------------------------------------------------------------------------------------------
# v4 tokens: the OAuth2 dance against the simulator, refreshes recorded in the planner
# --------------------------------------------------------------------------------------------------


class Tokens:
    """Access tokens from the simulator's OAuth2 endpoints; a refresh when one has expired."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        sim: EnlightenSimulator,
        on_refresh: Callable[[], None],
    ) -> None:
        self.http = http
        self.sim = sim
        self.on_refresh = on_refresh
        self.access = ""
        self.refresh = ""
        self.expires_at = START
        self.refreshes = 0

    async def _grant(self, **form: str) -> None:
        config = self.sim.config
        basic = base64.b64encode(f"{config.client_id}:{config.client_secret}".encode()).decode()
        async with self.http.post(
            f"{self.sim.url}/oauth/token", data=form, headers={"Authorization": f"Basic {basic}"}
        ) as reply:
            reply.raise_for_status()
            body = await reply.json()
        self.access, self.refresh = body["access_token"], body["refresh_token"]
        # Refresh a minute early, as Home Assistant's OAuth2 session does (its margin is 20 s).
        lifetime = timedelta(seconds=float(body["expires_in"]) - 60)
        self.expires_at = self.sim.clock.now() + lifetime

    async def login(self) -> None:
        """Authorization code grant (the user's consent in the config flow)."""
        query = {
            "response_type": "code",
            "client_id": self.sim.config.client_id,
            "redirect_uri": REDIRECT,
            "state": "bench",
        }
        async with self.http.get(
            f"{self.sim.url}/oauth/authorize", params=query, allow_redirects=False
        ) as reply:
            code = parse_qs(urlsplit(reply.headers["Location"]).query)["code"][0]
        await self._grant(grant_type="authorization_code", code=code, redirect_uri=REDIRECT)

    def due(self) -> bool:
        """Whether the next request needs a refresh first."""
        return self.sim.clock.now() >= self.expires_at

    async def __call__(self) -> str:
        if self.due():
            self.on_refresh()
            self.refreshes += 1
            await self._grant(grant_type="refresh_token", refresh_token=self.refresh)
        return self.access


# --------------------------------------------------------------------------------------------------
# The planner-only driver
# --------------------------------------------------------------------------------------------------

type Fetched = list[tuple[str, list[EnergyInterval]]]  # statistic name -> intervals


class Driver:
    """Home Assistant's part, reduced to the loop: the planner, the client, what is stored."""

    def __init__(self, scenario: Scenario, sim: EnlightenSimulator, result: RunResult) -> None:
        self.scenario = scenario
        self.sim = sim
        self.result = result
        self.specs = {spec.system_id: spec for spec in scenario.systems}
        self.series = {
            spec.system_id: {s.endpoint: s for s in series_of(scenario.api, spec)}
            for spec in scenario.systems
        }
        # What Home Assistant's recorder would hold: intervals by statistic, keyed by their end.
        self.stored: dict[tuple[int, str], dict[datetime, float]] = defaultdict(dict)
        self.stored_until: dict[tuple[int, str], datetime] = {}
        self.planner_json: object = None
        self.http: aiohttp.ClientSession | None = None
        self.client: EnlightenClient | None = None
        self.tokens: Tokens | None = None
        self.planner: Planner | None = None

    @property
    def now(self) -> datetime:
        return self.sim.clock.now()

    # -- Home Assistant starting and stopping ----------------------------------------------------

    async def start(self, *, first: bool) -> None:
        """What the coordinator does at setup: load the planner, add the systems, give the sun."""
        now = self.now
        self.http = aiohttp.ClientSession()
        planner = Planner.from_dict(self.planner_json, self.scenario.plan, now)
        self.planner = planner
        history_from = START - timedelta(days=HISTORY_DAYS)
        for system_id, spec in self.specs.items():
            until = [
                self.stored_until.get((system_id, endpoint), history_from)
                for endpoint in self.series[system_id]
            ]
            planner.add_system(
                system_id,
                statistics=tuple(self.series[system_id]),
                inventory=inventory_of(self.scenario.api),
                statistics_from=min(until),
            )
            rise, down = ha_sun(spec, now)
            planner.set_sun(system_id, rise, down)
            if first:
                for endpoint in history_of(self.scenario.api, spec):
                    planner.request_history(system_id, endpoint)
        if self.scenario.api == "v2":
            self.client = EnlightenV2Client(
                self.http,
                self.sim.config.api_key,
                self.sim.config.user_id,
                base_url=self.sim.base_url,
                clock=self.sim.clock.now,
            )
        else:
            if self.tokens is None:  # the config flow's OAuth2 step
                self.tokens = Tokens(self.http, self.sim, self._token_refreshed)
                await self.tokens.login()
            self.tokens.http = self.http
            self.client = EnlightenV4Client(
                self.http,
                self.sim.config.v4_api_key,
                self.tokens,
                base_url=f"{self.sim.url}/api/v4",
                clock=self.sim.clock.now,
            )

    async def stop(self) -> None:
        """Home Assistant stops: the planner's Store is written, the session closed."""
        assert self.planner is not None
        assert self.http is not None
        self.planner_json = json.loads(json.dumps(self.planner.to_dict()))
        await self.http.close()
        self.planner = self.client = self.http = None

    def _token_refreshed(self) -> None:
        assert self.planner is not None
        self.planner.record_request(self.now, RequestKind.TOKEN)
        self.result.kinds["token"] += 1

    # -- one action --------------------------------------------------------------------------------

    async def perform(self, action: Action) -> None:
        """Send the action's request and tell the planner what came back."""
        planner, client = self.planner, self.client
        assert planner is not None
        assert client is not None
        now = self.now
        if self.tokens is not None and self.tokens.due():
            await self.tokens()  # recorded through _token_refreshed, before the request
        planner.record_request(
            now, action.kind, system_id=action.system_id, endpoint=action.endpoint
        )
        kind = str(action.kind)
        self.result.kinds[f"{kind}:{action.endpoint}" if action.endpoint else kind] += 1
        self.result.planner_month_max = max(
            self.result.planner_month_max, planner.ledger.month_count
        )
        try:
            await self._send(action)
        except RateLimitedError as err:
            self.result.errors[f"rate limited ({err.period})"] += 1
            planner.record_rate_limited(
                now,
                period=_period(err.period),
                period_end=err.period_end,
                limit=err.limit,
            )
        except SolarHubApiError as err:
            self.result.errors[type(err).__name__] += 1

    async def _send(self, action: Action) -> None:
        planner, client = self.planner, self.client
        assert planner is not None
        assert client is not None
        system_id = action.system_id
        match action.kind:
            case RequestKind.SYSTEMS:
                await client.get_systems()
            case RequestKind.INVENTORY:
                assert system_id is not None
                if isinstance(client, EnlightenV2Client):
                    if action.endpoint == "envoys":
                        await client.get_envoys(system_id)
                    else:
                        await client.get_inventory(system_id)
                else:
                    await client.get_devices(system_id)
            case RequestKind.HISTORY:
                assert system_id is not None
                assert action.endpoint is not None
                await history_call(client, system_id, action.endpoint)
            case RequestKind.SUMMARY:
                assert system_id is not None
                summary = await client.get_summary(system_id)
                planner.record_summary(
                    system_id,
                    self.now,
                    last_report_at=summary.last_report_at,
                    last_interval_end_at=summary.last_interval_end_at,
                )
                self._poll(system_id, summary)
            case RequestKind.STATISTICS:
                assert system_id is not None
                assert action.endpoint is not None
                assert action.end is not None
                fetched = await statistics_call(client, system_id, action)
                self._store(system_id, action, fetched)
            case _:
                raise RuntimeError(f"unplanned request kind {action.kind}")

    def _poll(self, system_id: int, summary: SystemSummary) -> None:
        now = self.now
        system = self.sim.system(system_id)
        if system.silent(now.timestamp()):
            return  # the Envoy is not reporting: its data age is not the planner's doing
        report = system.last_report(now.timestamp())
        if report is None:
            return
        interval = summary.last_interval_end_at
        self.result.polls[system_id].append(
            Poll(
                at=now,
                upload_age=(now.timestamp() - report) / 60,
                interval_age=None if interval is None else (now - interval).total_seconds() / 60,
                producing=summary.current_power > 0,
            )
        )

    def _store(self, system_id: int, action: Action, fetched: Fetched) -> None:
        planner = self.planner
        assert planner is not None
        assert action.endpoint is not None
        assert action.end is not None
        last: datetime | None = None
        for name, intervals in fetched:
            target = self.stored[(system_id, name)]
            for interval in intervals:
                target[interval.end_at] = interval.energy_wh
            if intervals:
                last = max(last or intervals[-1].end_at, intervals[-1].end_at)
        if action.endpoint in ("stats", "rgm_stats", "production_micro", "production_meter"):
            planner.record_intervals(
                system_id, [(i.end_at, i.energy_wh) for i in fetched[0][1]] if fetched else []
            )
        planner.record_statistics(
            system_id, action.endpoint, requested_end=action.end, fetched_until=last
        )
        if last is not None:
            key = (system_id, action.endpoint)
            self.stored_until[key] = max(self.stored_until.get(key, last), last)


def _period(period: RatePeriod) -> Period | None:
    """The ledger's period of a refusal (v4's 429 says none: the planner infers it)."""
    if period is RatePeriod.MINUTE:
        return Period.MINUTE
    if period is RatePeriod.MONTH:
        return Period.MONTH
    return None


def ha_sun(spec: SystemSpec, now: datetime) -> tuple[datetime, datetime]:
    """Home Assistant's sunrise and sunset at the system on its local day (astral, like ``sun``)."""
    tz = ZoneInfo(spec.timezone)
    events = sun(Observer(spec.latitude, spec.longitude), now.astimezone(tz).date(), tzinfo=tz)
    return events["sunrise"].astimezone(UTC), events["sunset"].astimezone(UTC)


async def history_call(client: EnlightenClient, system_id: int, endpoint: str) -> None:
    """A one-shot daily history request (the first setup's import)."""
    if endpoint == "energy_lifetime":
        await client.get_energy_lifetime(system_id, production_all=True)
        return
    assert isinstance(client, EnlightenV4Client)
    calls: dict[str, Callable[[int], Awaitable[object]]] = {
        "consumption_lifetime": client.get_consumption_lifetime,
        "energy_import_lifetime": client.get_import_lifetime,
        "energy_export_lifetime": client.get_export_lifetime,
        "battery_lifetime": client.get_battery_lifetime,
    }
    await calls[endpoint](system_id)


async def statistics_call(client: EnlightenClient, system_id: int, action: Action) -> Fetched:
    """The intervals of one statistics request, per statistic they feed."""
    start, end = action.start, action.end
    if isinstance(client, EnlightenV2Client):
        call = client.get_rgm_stats if action.endpoint == "rgm_stats" else client.get_stats
        return [("solar", list((await call(system_id, start, end)).intervals))]
    assert isinstance(client, EnlightenV4Client)
    match action.endpoint:
        case "production_micro":
            return [
                ("solar", list((await client.get_production_micro(system_id, start)).intervals))
            ]
        case "production_meter":
            series = await client.get_production_meter(system_id, start)
            return [("solar", list(series.intervals))]
        case "consumption_meter":
            series = await client.get_consumption_meter(system_id, start)
            return [("consumption", list(series.intervals))]
        case "energy_import":
            return [
                ("grid_import", list((await client.get_energy_import(system_id, start)).intervals))
            ]
        case "energy_export":
            return [
                ("grid_export", list((await client.get_energy_export(system_id, start)).intervals))
            ]
        case "battery":
            battery = await client.get_battery_telemetry(system_id, start)
            charge = [
                EnergyInterval(end_at=i.end_at, energy_wh=i.charge_wh)
                for i in battery.intervals
                if i.charge_wh is not None
            ]
            discharge = [
                EnergyInterval(end_at=i.end_at, energy_wh=i.discharge_wh)
                for i in battery.intervals
                if i.discharge_wh is not None
            ]
            return [("battery_charge", charge), ("battery_discharge", discharge)]
    raise RuntimeError(f"unknown statistics series {action.endpoint}")


async def run_solarhub(scenario: Scenario, days: float) -> RunResult:
    """One scenario over ``days`` simulated days from the month's start."""
    wall = time.perf_counter()
    result = RunResult(scenario, days)
    end = START + timedelta(days=days)
    clock = SimClock.fixed(START)
    async with EnlightenSimulator(scenario.simulator_config(), clock) as sim:
        driver = Driver(scenario, sim, result)
        await driver.start(first=True)
        pending = restarts(days)
        while True:
            assert driver.planner is not None
            action = driver.planner.next_action(clock.now())
            if action is None:
                raise RuntimeError("the planner planned nothing")
            if pending and action.at >= pending[0][0]:
                at, down = pending.pop(0)
                clock.set(at)
                await driver.stop()
                clock.set(at + down)
                await driver.start(first=False)
                continue
            if action.at >= end:
                break
            clock.set(max(action.at, clock.now()))
            await driver.perform(action)
            clock.set(clock.now() + timedelta(seconds=REQUEST_SECONDS))
        clock.set(end)
        await driver.stop()
        usage = sim.usage(sim.config.api_key if scenario.api == "v2" else sim.config.v4_api_key)
        result.requests = usage.total
        result.rejected = usage.rejected_limit
        result.rejected_busy = usage.rejected_busy
        result.per_minute_peak = usage.max_per_minute
        result.per_minute = Counter(usage.per_minute)
        for minute, count in usage.per_minute.items():
            result.per_day[datetime.fromtimestamp(minute, UTC).date()] += count
        compare_statistics(driver, end, result)
    result.wall_seconds = time.perf_counter() - wall
    return result


def compare_statistics(driver: Driver, end: datetime, result: RunResult) -> None:
    """Hourly sums of what was fetched against the simulator's truth, hour by hour.

    Compared: every UTC hour from the first setup's history start to the last whole hour the
    system had uploaded a day before the run's end (a tight plan fetches a day's intervals once,
    after the upload that follows dusk: on a 6-hour cellular Envoy that is past midnight). A
    system whose Envoy stopped reporting is compared up to its last upload.
    """
    sim = driver.sim
    first = START - timedelta(days=HISTORY_DAYS)
    for system_id, series in driver.series.items():
        visible = sim.system(system_id).visible_until((end - timedelta(days=1)).timestamp())
        if visible is None:
            continue
        horizon = datetime.fromtimestamp(visible - visible % 3600, UTC)
        for entry in series.values():
            for name, source in entry.statistics:
                truth = sim.truth_hourly(system_id, first, horizon, source)
                got: dict[datetime, float] = defaultdict(float)
                for end_at, wh in driver.stored[(system_id, name)].items():
                    if first < end_at <= horizon:
                        got[(end_at - timedelta(seconds=1)).replace(minute=0, second=0)] += wh
                for hour in sorted(set(truth) | set(got)):
                    result.hours_compared += 1
                    if abs(truth.get(hour, 0) - got.get(hour, 0.0)) > 1:
                        result.hours_off += 1
                        if len(result.off_examples) < 5:
                            result.off_examples.append(
                                f"{system_id} {name} {hour:%m-%d %H:00}: "
                                f"{got.get(hour, 0.0):.0f} Wh, truth {truth.get(hour, 0)}"
                            )


# --------------------------------------------------------------------------------------------------
# The fixed-interval plans of other integrations, emulated with SolarHub's client
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Peer:
    """A fixed polling plan: one request every ``every`` seconds, whatever the answers."""

    label: str
    every: int
    endpoint: Literal["summary", "stats"]


PEERS: Final = (
    Peer("summary every 15 min", 900, "summary"),
    Peer("stats every 5 min", 300, "stats"),
    Peer("summary every 60 s", 60, "summary"),
)


@dataclass(slots=True)
class PeerResult:
    """What one emulated plan got from the simulator."""

    peer: Peer
    plan: Plan
    sent: int = 0
    requests: int = 0  # counted by the simulator
    rejected: int = 0  # 409
    month_out: datetime | None = None  # the first month 409
    per_minute_peak: int = 0


async def run_peer(
    peer: Peer, plan: Plan, days: float, systems: tuple[SystemSpec, ...] = ONE
) -> PeerResult:
    """``peer``'s plan for ``days`` on the first of ``systems`` against its own simulator."""
    result = PeerResult(peer, plan)
    clock = SimClock.fixed(START)
    config = EnlightenConfig(
        systems=systems, minute_limit=plan.per_minute, month_limit=plan.per_month
    )
    system_id = systems[0].system_id
    async with (
        EnlightenSimulator(config, clock) as sim,
        aiohttp.ClientSession() as http,
    ):
        client = EnlightenV2Client(
            http, config.api_key, config.user_id, base_url=sim.base_url, clock=clock.now
        )
        for step in range(int(days * 86400 / peer.every)):
            clock.set(START + timedelta(seconds=step * peer.every))
            result.sent += 1
            try:
                if peer.endpoint == "summary":
                    await client.get_summary(system_id)
                else:
                    await client.get_stats(system_id)
            except RateLimitedError as err:
                if err.period is RatePeriod.MONTH and result.month_out is None:
                    result.month_out = clock.now()
        usage = sim.usage()
        result.requests = usage.total
        result.rejected = usage.rejected_limit
        result.per_minute_peak = usage.max_per_minute
    return result


# --------------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------------


def _minutes(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def day_ages(polls: Sequence[Poll]) -> dict[date, tuple[list[float], list[float]]]:
    """Per day: upload ages of every poll, interval ages of the polls while producing."""
    by_day: dict[date, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for poll in polls:
        uploads, intervals = by_day[poll.at.date()]
        uploads.append(poll.upload_age)
        if poll.producing and poll.interval_age is not None:
            intervals.append(poll.interval_age)
    return dict(sorted(by_day.items()))


def solarhub_table(results: Sequence[RunResult]) -> str:
    """Metrics as rows, scenarios as columns."""
    header: Row = ("", *(f"{r.scenario.label} {r.where}" for r in results))
    rows: list[Row | str] = []

    def add(name: str, values: Sequence[str]) -> None:
        rows.append((name, *values))

    add(
        "plan (per minute / per month)",
        [f"{r.scenario.plan.per_minute} / {r.scenario.plan.per_month:,}" for r in results],
    )
    add("requests in the run", [f"{r.requests:,}" for r in results])
    add(
        "requests per month (projected)",
        [f"{r.requests * MONTH_DAYS / r.days:,.0f}" for r in results],
    )
    add(
        "requests per day min / median / max",
        [
            f"{min(v)} / {statistics.median(v):g} / {max(v)}"
            if (v := list(r.per_day.values()))
            else "n/a"
            for r in results
        ],
    )
    add(
        "planner's ledger, most in one month (with token refreshes)",
        [f"{r.planner_month_max:,}" for r in results],
    )
    add("409 (v2) / 429 (v4)", [str(r.rejected) for r in results])
    add("503 (overlapping requests)", [str(r.rejected_busy) for r in results])
    add(
        "busiest calendar minute",
        [f"{r.per_minute_peak} (limit {r.scenario.plan.per_minute})" for r in results],
    )
    add("month's budget", [_month_budget(r) for r in results])
    rows.append("data age at summary polls, first system (minutes)")
    metrics: tuple[tuple[str, Callable[[Sequence[Poll]], float | None]], ...] = (
        ("since upload: median", lambda p: median([x.upload_age for x in p])),
        ("since upload: p90", lambda p: percentile([x.upload_age for x in p], 0.9)),
        ("since upload: worst day's median", lambda p: _worst(p, 0, 0.5)),
        ("since upload: worst day's p90", lambda p: _worst(p, 0, 0.9)),
        (
            "since newest interval, producing: median",
            lambda p: median(
                [x.interval_age for x in p if x.producing and x.interval_age is not None]
            ),
        ),
        ("since newest interval, producing: worst day's p90", lambda p: _worst(p, 1, 0.9)),
    )
    for label, pick in metrics:
        add(label, [_minutes(pick(r.polls[r.scenario.systems[0].system_id])) for r in results])
    add(
        "polls while producing per day, first system min / max",
        [_producing_range(r) for r in results],
    )
    rows.append("hourly statistics against the simulator's truth")
    add("hours compared", [f"{r.hours_compared:,}" for r in results])
    add("hours off by > 1 Wh", [str(r.hours_off) for r in results])
    rows.append("bench")
    add("wall seconds", [fmt(r.wall_seconds, 1) for r in results])
    return render(rows, header)


def _month_budget(result: RunResult) -> str:
    """Whether the month's budget lasted.

    Spent: when the server counted the month's last request, or (the server having refused
    some) that the planner's ledger reached the limit: it counts refused requests too, and
    then stops polling until the month ends.
    """
    limit, total = result.scenario.plan.per_month, 0
    for minute in sorted(result.per_minute):
        total += result.per_minute[minute]
        if total >= limit:
            return f"spent {datetime.fromtimestamp(minute, UTC):%m-%d %H:%M}"
    if result.planner_month_max >= limit:
        return "spent (by the ledger)"
    return "lasted"


def _worst(polls: Sequence[Poll], which: int, q: float) -> float | None:
    values = [
        v for ages in day_ages(polls).values() if (v := percentile(ages[which], q)) is not None
    ]
    return max(values, default=None)


def _producing_range(result: RunResult) -> str:
    counts = Counter(
        p.at.date() for p in result.polls[result.scenario.systems[0].system_id] if p.producing
    )
    if not counts:
        return "n/a"
    return f"{min(counts.values())} / {max(counts.values())}"


def by_day_table(result: RunResult) -> str:
    """One scenario, day by day: requests, data age of its first system."""
    polls = result.polls[result.scenario.systems[0].system_id]
    ages = day_ages(polls)
    header: Row = (
        "day",
        "requests",
        "polls",
        "upload age median",
        "p90",
        "interval age median",
        "p90",
    )
    rows: list[Row | str] = []
    for day in sorted(set(result.per_day) | set(ages)):
        uploads, intervals = ages.get(day, ([], []))
        rows.append(
            (
                f"{day:%m-%d}",
                str(result.per_day.get(day, 0)),
                str(len(uploads)),
                _minutes(median(uploads)),
                _minutes(percentile(uploads, 0.9)),
                _minutes(median(intervals)),
                _minutes(percentile(intervals, 0.9)),
            )
        )
    return render(rows, header)


def peer_table(peers: Sequence[PeerResult], ours: Sequence[RunResult]) -> str:
    """The fixed-interval plans beside SolarHub's requests on the same plan (one system, v2)."""
    header: Row = (
        "plan / polling",
        "sent",
        "counted",
        "409",
        "month runs out",
        "busiest minute",
        "counted / SolarHub",
    )
    rows: list[Row | str] = []
    for plan in (V2_WATT, PLAN_1000):
        base = next(
            (r for r in ours if r.scenario.plan == plan and len(r.scenario.systems) == 1), None
        )
        rows.append(f"{plan.per_minute}/min, {plan.per_month:,}/month")
        for run in (r for r in ours if r.scenario.plan == plan and len(r.scenario.systems) == 1):
            rows.append(
                (
                    f"SolarHub ({run.where})",
                    f"{run.requests:,}",
                    f"{run.requests:,}",
                    str(run.rejected),
                    "never" if run.requests < plan.per_month else "spent",
                    str(run.per_minute_peak),
                    ratio(
                        None if base is None else base.requests, run.requests, base_name="SolarHub"
                    ),
                )
            )
        for peer in (p for p in peers if p.plan == plan):
            out = peer.month_out
            rows.append(
                (
                    peer.peer.label,
                    f"{peer.sent:,}",
                    f"{peer.requests:,}",
                    f"{peer.rejected:,}",
                    "never" if out is None else f"day {out.day} ({out:%m-%d %H:%M})",
                    str(peer.per_minute_peak),
                    ratio(
                        None if base is None else base.requests,
                        peer.requests,
                        base_name="SolarHub",
                    ),
                )
            )
    return render(rows, header)


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------


async def bench(
    days: float, *, by_day: bool, in_ha: bool = True, scenarios: Sequence[Scenario] = SCENARIOS
) -> str:
    """Every run, then the tables."""
    from .enlighten_ha import run_in_home_assistant  # (it imports this module)

    wall, cpu = time.perf_counter(), time.process_time()
    ours: list[RunResult] = []
    for scenario in scenarios:
        ours.append(await run_solarhub(scenario, days))
        if in_ha:
            ours.append(await run_in_home_assistant(scenario, days))
    ours_wall, ours_cpu = time.perf_counter() - wall, time.process_time() - cpu
    wall, cpu = time.perf_counter(), time.process_time()
    peers = [await run_peer(peer, plan, days) for plan in (V2_WATT, PLAN_1000) for peer in PEERS]
    peer_wall, peer_cpu = time.perf_counter() - wall, time.process_time() - cpu
    restart_text = ", ".join(f"{at:%m-%d %H:%M} (down {down})" for at, down in restarts(days))
    parts = [
        f"Enlighten request budget: {days:g} simulated days from {START:%Y-%m-%d} (UTC months)",
        f"restarts: {restart_text}",
        "",
        "SolarHub: 'planner' = planner-only driver (planner + client + simulator over loopback"
        " HTTP); 'in HA' = the integration in Home Assistant",
        solarhub_table(ours),
    ]
    off = [f"  {r.scenario.label} {r.where}: {e}" for r in ours for e in r.off_examples]
    if off:
        parts += ["", "first hours off:", *off]
    errors = [f"  {r.scenario.label} {r.where}: {dict(r.errors)}" for r in ours if r.errors]
    if errors:
        parts += ["", "client errors:", *errors]
    parts += ["", "requests by kind:"]
    parts += [
        f"  {r.scenario.label} {r.where}: {dict(sorted(r.kinds.items()))}" for r in ours if r.kinds
    ]
    parts += [
        "",
        "Fixed-interval plans of other integrations, one system, v2 client",
        peer_table(peers, ours),
        "",
        f"bench time: SolarHub runs {ours_wall:.0f} s wall / {ours_cpu:.0f} s CPU, "
        f"fixed-interval plans {peer_wall:.0f} s wall / {peer_cpu:.0f} s CPU",
    ]
    if by_day:
        for result in ours:
            if len(result.scenario.systems) == 1:
                parts += [
                    "",
                    f"{result.scenario.label}, by day (first system)",
                    by_day_table(result),
                ]
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the arguments, run, print."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.enlighten", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--days", type=float, default=2.0, help="simulated days (default 2)")
    parser.add_argument("--month", action="store_true", help=f"the whole month ({MONTH_DAYS} days)")
    parser.add_argument("--by-day", action="store_true", help="a day-by-day table per 1-system run")
    parser.add_argument(
        "--only", default="", help="scenario labels containing this text (e.g. 'v4')"
    )
    parser.add_argument(
        "--ha",
        action="store_true",
        help="also run the integration in Home Assistant (default on short runs, off for --month)",
    )
    parser.add_argument(
        "--no-ha", action="store_true", help="the planner-only driver alone (no Home Assistant)"
    )
    args = parser.parse_args(argv)
    in_ha = args.ha or not (args.month or args.no_ha)
    days = MONTH_DAYS if args.month else args.days
    chosen = [s for s in SCENARIOS if args.only in s.label]
    print(asyncio.run(bench(days, by_day=args.by_day, in_ha=in_ha, scenarios=chosen)))


if __name__ == "__main__":
    main()
