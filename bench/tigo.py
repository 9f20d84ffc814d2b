"""SolarHub's Tigo vendor against the Tigo cloud simulator: requests per hour, flatness, loop CPU.

Run ``scripts/run python -m bench.tigo [--hours N]``. Every run is a fresh Home Assistant (the test
harness of pytest-homeassistant-custom-component, real loopback HTTP, a recorder on SQLite for the
statistics import) with its simulators served from their own threads, so that per-thread CPU
clocks keep the simulators' work out of the figures.

1. A simulated day (``--hours``) of the default account's first system ("Home", 20 panels) at
   default options: requests per hour by endpoint, the mean and the worst single hour, against the
   issue's budget of 60 per hour per system. Beside it, on a second simulator in the same Home
   Assistant, an *emulation* of the polling plan of the most complete existing Tigo integration
   (``vendors/tigo.md``), issued with SolarHub's own ``TigoClient``: no other Tigo integration can
   be installed here, so this is that plan's request count, not that integration.
2. Flatness: requests per live cycle for systems of 10, 20, 100 and 500 panels.
3. Event-loop CPU per live update for 20 and 500 panels, and per panel.

Simulated time (``bench.common``): the loop clock jumps to each next timer when the loop is idle.
The Tigo cloud's data carries time stamps that the integration compares with the current time
(gateway check-ins, token expiry, rows dated in the future), so Home Assistant's wall clock must
move with the simulators: it is the start plus the loop's simulated seconds (see
:func:`simulated_wall_clock`; freezegun, which the tests use, would do too, but its patched
``datetime`` class makes every time-stamp operation of the CSV parser several times slower and
would inflate the CPU figures), and the simulators' clocks are set to it before every step.
"""

from __future__ import annotations

# First, before anything imports ``utcnow`` by name: the harness's module that makes
# ``dt_util.utcnow`` a plain function whose clock ``simulated_wall_clock`` can redirect.
from pytest_homeassistant_custom_component import patch_time

# isort: split

import argparse
import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
import gc
import logging
import math
import statistics
import time as time_module
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Final
from unittest.mock import patch
from zoneinfo import ZoneInfo

from homeassistant import util as ha_util
from homeassistant.components.recorder import statistics as recorder_statistics
from homeassistant.components.recorder.const import DOMAIN as RECORDER_DOMAIN
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME, EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import (
    entity_registry as er,
    event as event_helper,
    recorder as recorder_helper,
)
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.recorder import get_instance
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

# Our package is imported before Home Assistant's loader looks for ``custom_components``.
from custom_components.solarhub.api.errors import SolarHubApiError
from custom_components.solarhub.api.tigo.client import TigoClient
from custom_components.solarhub.const import (
    CONF_BASE_URL,
    CONF_SYSTEMS,
    CONF_VENDOR,
    DOMAIN,
    Vendor,
)
from custom_components.solarhub.vendors.tigo.options import TigoOptions
from custom_components.solarhub.vendors.tigo.runtime import TigoRuntime, energy_statistic
from tests.simulators.tigo import SimClock, SystemSpec, TigoConfig, TigoSimulator

from .common import (
    RefreshLog,
    Row,
    Simulation,
    SimulatorThread,
    VirtualClock,
    bench_home_assistant,
    entity_counts,
    fmt,
    kind_by_class_name,
    mean_ms,
    median_ms,
    ratio,
    render,
)

if TYPE_CHECKING:
    from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

API: Final = "GET /api/v3/"
START: Final = datetime(2026, 6, 21, 10, 0, tzinfo=UTC)  # noon in Berlin: the sun is up
HOUR: Final = 3600.0
# After setup, before the measured window: the window then holds the daily layout re-read (on
# the first live poll more than a day after setup) whatever the coordinators' jitter.
WARMUP_SECONDS: Final = HOUR
BUDGET: Final = 60  # requests per hour per system, the budget
SIZES: Final = (10, 20, 100, 500)
CPU_SIZES: Final = (20, 500)
LOGIN: Final = "users/login"
COMBINED: Final = "data/combined"
LIVE_PATHS: Final = ("sources/system", "data/summary", "data/aggregate")  # every live cycle
AGGREGATE: Final = "data/aggregate"
LAYOUT: Final = "systems/layout"  # read at setup, so once per (re)load
ALERTS: Final = "alerts/system"
PEER_PARAMS: Final = ("Pin", "Vin", "Iin", "RSSI")
PEER_AGGREGATE_EVERY: Final = 5  # minutes

coordinator_kind = kind_by_class_name((("Live", "live"), ("Alerts", "alerts")))


def _path(key: str) -> str:
    """``users/login`` from the simulator's counter key ``GET /api/v3/users/login``."""
    return key.removeprefix(API)


def _paths(requests: Counter[str]) -> Counter[str]:
    return Counter({_path(key): n for key, n in requests.items() if n})


# --------------------------------------------------------------------------------------------------
# Home Assistant's wall clock, moved with the loop's simulated time
# --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def simulated_wall_clock(clock: VirtualClock, start: datetime) -> Iterator[None]:
    """Home Assistant's wall clock, and the Tigo client's, at ``start`` + the loop's seconds.

    Wall time then moves in step with the loop clock, jumps included: ``time.time`` (core's event
    and state stamps, the event helper's arming of point-in-time timers), ``dt_util.utcnow`` and
    ``dt_util.now``, the copies of ``utcnow`` modules imported by name (the harness's
    ``patch_time`` function, which they hold, is pointed at it), the recorder's import stamps,
    and the default clock of ``TigoClient`` (``datetime.now``; token renewal, future rows).
    The values are plain ``datetime`` objects, so no patched class slows the measured code down
    (freezegun's ``FakeDatetime`` would: the CSV parser converts every cell's time stamp).
    """
    origin = start.timestamp()

    def timestamp() -> float:
        return origin + clock.elapsed

    def utcnow() -> datetime:
        return datetime.fromtimestamp(timestamp(), UTC)

    def now(tz: tzinfo | None = None) -> datetime:
        return utcnow().astimezone(tz or dt_util.get_default_time_zone())

    def wall_now(tz: tzinfo | None = None) -> datetime:  # ``datetime.now`` for ``patch_time``
        return utcnow().astimezone(tz) if tz else utcnow().astimezone().replace(tzinfo=None)

    client_defaults = TigoClient.__init__.__kwdefaults__
    assert client_defaults is not None
    with contextlib.ExitStack() as stack:
        for target, name, value in (
            (time_module, "time", timestamp),
            (event_helper, "time_tracker_timestamp", timestamp),
            (event_helper, "time_tracker_utcnow", utcnow),
            (recorder_statistics, "time_time", timestamp),
            (dt_util, "utcnow", utcnow),
            (dt_util, "now", now),
            (ha_util, "utcnow", utcnow),
            (
                patch_time,
                "datetime",
                SimpleNamespace(datetime=SimpleNamespace(now=wall_now), UTC=UTC),
            ),
        ):
            stack.enter_context(patch.object(target, name, value))
        stack.enter_context(patch.dict(client_defaults, {"clock": utcnow}))
        yield


# --------------------------------------------------------------------------------------------------
# The emulated peer: the request plan of the most complete existing integration
# --------------------------------------------------------------------------------------------------


class EmulatedPeer:
    """The polling plan of vendors/tigo.md's most complete existing integration, emulated.

    Every minute: summary, systems, systems/view, sources, combined (hour level, today so far) and
    alerts; every five minutes also ``data/aggregate`` of Pin, Vin, Iin and RSSI (minute level,
    the last hour). Issued with SolarHub's ``TigoClient`` (so token handling is ours); nothing is
    parsed into entities. It is the plan's request count, not that integration.
    """

    def __init__(self, hass: HomeAssistant, client: TigoClient, system_id: int, tz: tzinfo) -> None:
        self._hass = hass
        self._client = client
        self._system_id = system_id
        self._tz = tz
        self._handle: asyncio.TimerHandle | None = None
        self.cycles = 0
        self.failures = 0
        self.ran = False  # a poll started since the meter last looked

    def start(self) -> None:
        """First poll in a minute, then every minute."""
        self._schedule(self._hass.loop.time() + 60)

    def stop(self) -> None:
        """No more polls."""
        if self._handle is not None:
            self._handle.cancel()

    def _schedule(self, when: float) -> None:
        self._handle = self._hass.loop.call_at(when, self._tick, when)

    @callback
    def _tick(self, when: float) -> None:
        self._schedule(when + 60)
        self.ran = True
        aggregates = self.cycles % PEER_AGGREGATE_EVERY == 0
        self.cycles += 1
        self._hass.async_create_background_task(
            self._poll(aggregates=aggregates), "emulated Tigo peer poll"
        )

    async def _poll(self, *, aggregates: bool) -> None:
        client, system_id, tz = self._client, self._system_id, self._tz
        now = dt_util.utcnow()
        midnight = datetime.combine(now.astimezone(tz).date(), time(), tzinfo=tz)
        try:
            await client.get_summary(system_id)
            await client.get_systems()
            await client.get_system(system_id)
            await client.get_sources(system_id)
            await client.get_combined(system_id, midnight, now, tz=tz, level="hour")
            await client.get_alerts(system_id)
            for param in PEER_PARAMS if aggregates else ():
                await client.get_aggregate(
                    system_id, now - timedelta(hours=1), now, tz=tz, param=param, level="min"
                )
        except SolarHubApiError:
            self.failures += 1


# --------------------------------------------------------------------------------------------------
# Step accounting
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LiveCycle:
    """One live update of SolarHub (a step in which exactly one live coordinator refreshed)."""

    requests: int  # sources/system, data/summary and data/aggregate in the step
    aggregates: int  # data/aggregate: 0 when the cloud's newest panel minute is old (night)
    combined: int  # data/combined: the hourly statistics import
    state_changes: int
    cpu: float | None  # loop CPU, when the step is this update's alone (no other refresh, no peer)

    @property
    def fresh(self) -> bool:
        """Panel data was flowing: the cycle read the panels' values."""
        return self.aggregates > 0


@dataclass
class TigoMeter:
    """SolarHub's refreshes and their steps: requests per live cycle, loop CPU per update.

    Reads the simulator's request counter (idle between steps) after every step, so each live
    cycle's requests are known by endpoint. A step's CPU counts for an update when exactly one
    SolarHub coordinator refreshed in it and the emulated peer did not poll in it.
    """

    requests: Counter[str]  # the simulator's own counter, keys "GET /api/v3/<path>"
    state_changes: Callable[[], int] | None = None
    peer: EmulatedPeer | None = None
    updates: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    cycles: list[LiveCycle] = field(default_factory=list)
    alerts_cpu: list[float] = field(default_factory=list)
    loop_cpu: float = 0.0  # every step with a SolarHub refresh
    steps: int = 0
    shared_steps: int = 0  # several SolarHub refreshes, or the peer polled too
    other_steps: int = 0  # no SolarHub refresh (peer, recorder, keep-alive, storage, ...)
    reloads: int = 0  # steps that read the layout (the daily re-read, or a reload of the entry)
    _seen: Counter[str] = field(default_factory=Counter)
    _changes_seen: int = 0

    def __post_init__(self) -> None:
        """Count from now on."""
        self._seen = Counter(self.requests)
        self._changes_seen = self.state_changes() if self.state_changes else 0

    def record(
        self, refreshed: Sequence[DataUpdateCoordinator[Any]], loop_cpu: float, process_cpu: float
    ) -> None:
        """Add one step."""
        del process_cpu
        now = Counter(self.requests)
        delta = now.copy()
        delta.subtract(self._seen)
        self._seen = now
        step = _paths(+delta)
        self.reloads += step[LAYOUT] > 0
        changes = self.state_changes() if self.state_changes else 0
        changed, self._changes_seen = changes - self._changes_seen, changes
        peer = self.peer is not None and self.peer.ran
        if self.peer is not None:
            self.peer.ran = False
        ours = [
            c for c in refreshed if c.config_entry is not None and c.config_entry.domain == DOMAIN
        ]
        kinds = [coordinator_kind(c) for c in ours]
        for coordinator, kind in zip(ours, kinds, strict=True):
            self.updates[kind] += 1
            if not coordinator.last_update_success:
                self.failed[kind] += 1
        if not ours:
            self.other_steps += 1
            return
        self.steps += 1
        self.loop_cpu += loop_cpu
        alone = len(ours) == 1 and not peer
        if not alone:
            self.shared_steps += 1
        if kinds.count("live") == 1:
            self.cycles.append(
                LiveCycle(
                    requests=sum(step[p] for p in LIVE_PATHS),
                    aggregates=step[AGGREGATE],
                    combined=step[COMBINED],
                    state_changes=changed,
                    cpu=loop_cpu if alone else None,
                )
            )
        elif alone and kinds == ["alerts"]:
            self.alerts_cpu.append(loop_cpu)


# --------------------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------------------


def size_spec(panels: int) -> SystemSpec:
    """A system of ``panels`` in Berlin: strings of at most 25, one inverter per 100 panels."""
    inverters = math.ceil(panels / 100)
    mppts = 2 if panels >= 20 else 1
    return SystemSpec(
        f"Bench {panels}",
        panels,
        inverters=inverters,
        mppts_per_inverter=mppts,
        strings_per_mppt=math.ceil(panels / (inverters * mppts * 25)),
    )


def _tigo_thread(config: TigoConfig, start: datetime, name: str) -> SimulatorThread[TigoSimulator]:
    return SimulatorThread(TigoSimulator(config, SimClock.fixed(start)), start, name)


def _entry(simulator: TigoSimulator, system_id: int) -> MockConfigEntry:
    """The config entry the config flow makes for one system, with default options."""
    config = simulator.config
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"Tigo ({config.username})",
        unique_id=f"tigo_{config.user_id}",
        data={
            CONF_VENDOR: Vendor.TIGO,
            CONF_USERNAME: config.username,
            CONF_PASSWORD: config.password,
            CONF_BASE_URL: simulator.base_url,
            CONF_SYSTEMS: [system_id],
        },
    )


@contextlib.asynccontextmanager
async def _simulated_home_assistant(
    sims: Sequence[SimulatorThread[TigoSimulator]], start: datetime
) -> AsyncIterator[tuple[HomeAssistant, Simulation]]:
    """A fresh Home Assistant with a recorder, its loop and wall clocks at ``start``."""
    log = RefreshLog()
    async with bench_home_assistant(log) as hass:
        clock = VirtualClock(hass.loop)
        try:
            with simulated_wall_clock(clock, start):
                recorder_helper.async_initialize_recorder(hass)
                if not await async_setup_component(hass, RECORDER_DOMAIN, {RECORDER_DOMAIN: {}}):
                    raise RuntimeError("the recorder did not start")
                await async_wait_recording_done(hass)
                yield hass, Simulation(hass, clock, sims, log)
        finally:
            clock.restore()


async def _set_up(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set ``entry`` up; fail loudly if it did not load."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    if entry.state is not ConfigEntryState.LOADED:
        raise RuntimeError(f"Tigo setup failed ({entry.state})")


def _state_change_counter(hass: HomeAssistant, entry: MockConfigEntry) -> Callable[[], int]:
    """Count state changes of the entry's entities from now on; returns the reader."""
    registry = er.async_get(hass)
    ours = {e.entity_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)}
    changes = [0]

    @callback
    def _changed(event: Event[Any]) -> None:
        if event.data["entity_id"] in ours:
            changes[0] += 1

    hass.bus.async_listen(EVENT_STATE_CHANGED, _changed)
    return lambda: changes[0]


def _statistic_id(entry: MockConfigEntry, system_id: int) -> str:
    runtime = entry.runtime_data
    assert isinstance(runtime, TigoRuntime)
    return energy_statistic(runtime.live[system_id].topology).statistic_id


async def _stored_hours(hass: HomeAssistant, statistic_id: str) -> dict[datetime, float]:
    """The running sum (kWh) at the end of every stored hour of ``statistic_id``."""
    await async_wait_recording_done(hass)
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        datetime(2000, 1, 1, tzinfo=UTC),
        None,
        {statistic_id},
        "hour",
        None,
        {"sum"},
    )
    return {
        dt_util.utc_from_timestamp(r["start"]): r["sum"] or 0.0 for r in rows.get(statistic_id, [])
    }


def _statistics_errors(
    simulator: TigoSimulator, system_id: int, stored: dict[datetime, float]
) -> tuple[int, int]:
    """Stored hours whose running sum is off the simulator's energy by > 1 Wh, and gaps."""
    mismatches = gaps = 0
    total = 0.0
    previous: datetime | None = None
    for hour in sorted(stored):
        if previous is not None and hour - previous != timedelta(hours=1):
            gaps += 1
        previous = hour
        total += simulator.hourly_energy_wh(system_id, hour) / 1000
        if abs(stored[hour] - total) > 0.001:
            mismatches += 1
    return mismatches, gaps


def _window(requests: Counter[str], before: Counter[str]) -> Counter[str]:
    """Requests by path since ``before``."""
    delta = Counter(requests)
    delta.subtract(before)
    return _paths(+delta)


@dataclass(frozen=True, slots=True)
class DayResult:
    """SolarHub and the emulated peer plan over the simulated day."""

    hours: float
    system: str
    panels: int
    timezone: str
    entities: dict[str, tuple[int, int]]
    setup: Counter[str]  # by path
    hourly: list[Counter[str]]  # by path, per simulated hour of the window
    peer_hourly: list[Counter[str]]
    hour_starts: list[datetime]
    hour_lengths: list[float]  # simulated seconds of each hour (the last may be short)
    naming_system: int  # window requests naming the system id
    peer_naming_system: int
    rate_limited: int
    peer_rate_limited: int
    meter: TigoMeter
    peer_cycles: int
    peer_failures: int
    stored_at_setup: list[datetime]  # statistics hours stored by the first-run backfill
    stored_in_warmup: int
    stored_in_window: list[datetime]
    statistics_mismatches: int
    statistics_gaps: int


@dataclass(frozen=True, slots=True)
class SizeResult:
    """One system size over the size window."""

    panels: int
    hours: float
    entities: dict[str, tuple[int, int]]
    setup: Counter[str]
    window: Counter[str]
    meter: TigoMeter
    simulator_cpu: float  # the simulator thread's CPU over the window


async def _day(
    ours_sim: SimulatorThread[TigoSimulator],
    peer_sim: SimulatorThread[TigoSimulator],
    args: argparse.Namespace,
) -> DayResult:
    ours, peer_simulator = ours_sim.simulator, peer_sim.simulator
    system = ours.systems[0]
    system_id = system.system_id
    sims = [ours_sim, peer_sim]
    async with _simulated_home_assistant(sims, args.start) as (hass, simulation):
        entry = _entry(ours, system_id)
        await _set_up(hass, entry)
        setup = _paths(ours.requests)
        statistic_id = _statistic_id(entry, system_id)
        stored_at_setup = await _stored_hours(hass, statistic_id)
        entities = entity_counts(hass, entry)
        await simulation.run_for(WARMUP_SECONDS)
        stored_at_start = await _stored_hours(hass, statistic_id)

        client = TigoClient(
            async_get_clientsession(hass),
            peer_simulator.config.username,
            peer_simulator.config.password,
            base_url=peer_simulator.base_url,
        )
        peer = EmulatedPeer(hass, client, system_id, ZoneInfo(system.spec.timezone))
        await client.login()  # as a setup would; the peer's window starts after it
        meter = TigoMeter(ours.requests, peer=peer)
        before = {id(s): Counter(s.requests) for s in (ours, peer_simulator)}
        naming0 = ours.requests_by_system[system_id], peer_simulator.requests_by_system[system_id]
        limited0 = ours.rate_limited, peer_simulator.rate_limited
        hourly: list[Counter[str]] = []
        peer_hourly: list[Counter[str]] = []
        hour_starts: list[datetime] = []
        hour_lengths: list[float] = []
        peer.start()
        gc.collect()
        remaining = args.hours * HOUR
        while remaining > 0:
            length = min(HOUR, remaining)
            hour_starts.append(ours.clock.now())
            hour_lengths.append(length)
            await simulation.run_for(length, meter)
            remaining -= length
            for simulator, out in ((ours, hourly), (peer_simulator, peer_hourly)):
                out.append(_window(simulator.requests, before[id(simulator)]))
                before[id(simulator)] = Counter(simulator.requests)
        peer.stop()
        await hass.async_block_till_done(wait_background_tasks=True)
        stored = await _stored_hours(hass, statistic_id)
        mismatches, gaps = _statistics_errors(ours, system_id, stored)
        result = DayResult(
            hours=args.hours,
            system=system.spec.name,
            panels=system.spec.panels,
            timezone=system.spec.timezone,
            entities=entities,
            setup=setup,
            hourly=hourly,
            peer_hourly=peer_hourly,
            hour_starts=hour_starts,
            hour_lengths=hour_lengths,
            naming_system=ours.requests_by_system[system_id] - naming0[0],
            peer_naming_system=peer_simulator.requests_by_system[system_id] - naming0[1],
            rate_limited=ours.rate_limited - limited0[0],
            peer_rate_limited=peer_simulator.rate_limited - limited0[1],
            meter=meter,
            peer_cycles=peer.cycles,
            peer_failures=peer.failures,
            stored_at_setup=sorted(stored_at_setup),
            stored_in_warmup=len(stored_at_start) - len(stored_at_setup),
            stored_in_window=sorted(stored.keys() - stored_at_start.keys()),
            statistics_mismatches=mismatches,
            statistics_gaps=gaps,
        )
        await client.logout()
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
    return result


async def _size(
    sim: SimulatorThread[TigoSimulator], args: argparse.Namespace, panels: int
) -> SizeResult:
    simulator = sim.simulator
    system_id = simulator.systems[0].system_id
    async with _simulated_home_assistant([sim], args.start) as (hass, simulation):
        entry = _entry(simulator, system_id)
        await _set_up(hass, entry)
        setup = _paths(simulator.requests)
        entities = entity_counts(hass, entry)
        await simulation.run_for(WARMUP_SECONDS)
        meter = TigoMeter(simulator.requests, state_changes=_state_change_counter(hass, entry))
        before = Counter(simulator.requests)
        gc.collect()
        cpu0 = sim.cpu()
        await simulation.run_for(args.size_hours * HOUR, meter)
        result = SizeResult(
            panels=panels,
            hours=args.size_hours,
            entities=entities,
            setup=setup,
            window=_window(simulator.requests, before),
            meter=meter,
            simulator_cpu=sim.cpu() - cpu0,
        )
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
    return result


@dataclass(frozen=True, slots=True)
class Results:
    """Everything measured, and the wall time each run took."""

    day: DayResult
    sizes: list[SizeResult]
    wall_seconds: dict[str, float]


def run(args: argparse.Namespace) -> Results:
    """The day (SolarHub beside the emulated peer), then one run per system size."""
    wall: dict[str, float] = {}
    began = time_module.monotonic()
    with (
        _tigo_thread(TigoConfig(), args.start, "tigo-simulator") as ours_sim,
        _tigo_thread(TigoConfig(), args.start, "tigo-peer-simulator") as peer_sim,
    ):
        day = asyncio.run(_day(ours_sim, peer_sim, args))
    wall["day"] = time_module.monotonic() - began
    sizes: list[SizeResult] = []
    for panels in SIZES:
        began = time_module.monotonic()
        config = TigoConfig(systems=(size_spec(panels),))
        with _tigo_thread(config, args.start, f"tigo-simulator-{panels}") as sim:
            sizes.append(asyncio.run(_size(sim, args, panels)))
        wall[f"{panels} panels"] = time_module.monotonic() - began
    return Results(day=day, sizes=sizes, wall_seconds=wall)


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _per_hour(
    hourly: Sequence[Counter[str]], lengths: Sequence[float], path: str | None = None
) -> list[float]:
    """Requests in each hour of the window (one path, or all); a short last hour is scaled up."""
    return [
        (c[path] if path is not None else c.total()) * HOUR / length
        for c, length in zip(hourly, lengths, strict=True)
    ]


def _span(values: Sequence[int]) -> str:
    """ "3" when every value is 3, "2-3" otherwise, "n/a" without values."""
    if not values:
        return "n/a"
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}-{high}"


def day_rows(day: DayResult) -> list[Row | str]:
    """Table 1: requests per hour per system, SolarHub beside the emulated peer plan."""
    rows: list[Row | str] = [f"requests per hour, system '{day.system}' ({day.panels} panels)"]

    def add(label: str, ours: Sequence[float], peer: Sequence[float]) -> None:
        o_mean, p_mean = _mean(ours), _mean(peer)
        rows.append(
            (
                label,
                fmt(o_mean, 1),
                fmt(max(ours, default=None), 0),
                fmt(p_mean, 1),
                fmt(max(peer, default=None), 0),
                ratio(p_mean, o_mean, base_name="peer"),
            )
        )

    def text(label: str, ours: str, peer: str) -> None:
        rows.append((label, ours, "", peer, "", ""))

    lengths = day.hour_lengths
    ours_total = _per_hour(day.hourly, lengths)
    peer_total = _per_hour(day.peer_hourly, lengths)
    add("all requests", ours_total, peer_total)
    for path in sorted({p for c in (*day.hourly, *day.peer_hourly) for p in c}):
        add(
            f"  GET {path}",
            _per_hour(day.hourly, lengths, path),
            _per_hour(day.peer_hourly, lengths, path),
        )
    rows.append(
        (
            "requests naming the system id",
            fmt(day.naming_system / day.hours, 1),
            "",
            fmt(day.peer_naming_system / day.hours, 1),
            "",
            ratio(day.peer_naming_system, day.naming_system, base_name="peer"),
        )
    )
    text(
        f"hours over the budget of {BUDGET}",
        str(sum(v > BUDGET for v in ours_total)),
        str(sum(v > BUDGET for v in peer_total)),
    )
    text(
        f"within the budget (every hour <= {BUDGET})",
        "yes" if max(ours_total, default=0) <= BUDGET else "NO",
        "yes" if max(peer_total, default=0) <= BUDGET else "no",
    )
    text("layout reads (daily re-read)", str(day.meter.reloads), "n/a")
    text("429 answers", str(day.rate_limited), str(day.peer_rate_limited))
    text("failed updates / failed polls", str(day.meter.failed.total()), str(day.peer_failures))
    updates = day.meter.updates
    text(
        "updates (live / alerts) / polls",
        f"{updates['live']} / {updates['alerts']}",
        str(day.peer_cycles),
    )
    return rows


def statistics_rows(day: DayResult) -> list[Row | str]:
    """SolarHub's hourly statistics import over the day."""
    tz = ZoneInfo(day.timezone)

    def local(hour: datetime | None) -> str:
        return f"{hour.astimezone(tz):%Y-%m-%d %H:%M %Z}" if hour is not None else "none"

    combined_hourly = [c[COMBINED] for c in day.hourly]
    stored = [*day.stored_at_setup, *day.stored_in_window]
    return [
        "statistics import (SolarHub, into the recorder on SQLite)",
        ("GET data/combined at setup (the first-run backfill)", str(day.setup[COMBINED])),
        ("hours stored at setup", str(len(day.stored_at_setup))),
        ("first stored hour (system's local time)", local(min(stored, default=None))),
        ("hours stored in the warm-up", str(day.stored_in_warmup)),
        ("GET data/combined in the window", str(sum(combined_hourly))),
        ("GET data/combined in any single hour, max", str(max(combined_hourly, default=0))),
        ("hours stored in the window", str(len(day.stored_in_window))),
        ("newest stored hour (system's local time)", local(max(stored, default=None))),
        ("stored hours off the simulator's energy by > 1 Wh", str(day.statistics_mismatches)),
        ("gaps between stored hours", str(day.statistics_gaps)),
    ]


def hour_rows(day: DayResult) -> list[Row | str]:
    """Hour by hour: SolarHub's requests by endpoint, and the peer plan's total."""
    tz = ZoneInfo(day.timezone)
    return [
        (
            f"{start.astimezone(tz):%H:%M}",
            str(ours.total()),
            *(str(ours[p]) for p in (*LIVE_PATHS, COMBINED, ALERTS, LOGIN)),
            str(peer.total()),
        )
        for start, ours, peer in zip(day.hour_starts, day.hourly, day.peer_hourly, strict=True)
    ]


def size_rows(sizes: Sequence[SizeResult]) -> list[Row | str]:
    """Table 2: requests per live cycle by system size."""
    rows: list[Row | str] = ["per system size (same site, wiring scaled, default options)"]

    def add(label: str, values: Sequence[float | None], digits: int = 2) -> None:
        rows.append((label, *(fmt(v, digits) for v in values)))

    def cycles(size: SizeResult, fresh: bool) -> list[LiveCycle]:
        return [c for c in size.meter.cycles if c.fresh is fresh]

    add("sensor entities enabled", [s.entities.get("sensor", (0, 0))[0] for s in sizes], 0)
    add("requests at setup (first-run backfill included)", [s.setup.total() for s in sizes], 0)
    add("live updates in the window", [s.meter.updates["live"] for s in sizes], 0)
    add("layout reads (daily re-read)", [s.meter.reloads for s in sizes], 0)
    for fresh, name in ((True, "with panel data flowing"), (False, "without (night)")):
        add(f"live cycles {name}", [len(cycles(s, fresh)) for s in sizes], 0)
        cells = [_span([c.requests for c in cycles(s, fresh)]) for s in sizes]
        rows.append(("  requests per cycle (sources, summary, aggregate)", *cells))
        if fresh:
            cells = [_span([c.aggregates for c in cycles(s, fresh)]) for s in sizes]
            rows.append(("    of which GET data/aggregate", *cells))
    alerts = [
        s.window[ALERTS] / s.meter.updates["alerts"] if s.meter.updates["alerts"] else None
        for s in sizes
    ]
    add("requests per alerts update", alerts, 3)
    add("GET data/combined per hour (hourly import)", [s.window[COMBINED] / s.hours for s in sizes])
    add("logins per hour", [s.window[LOGIN] / s.hours for s in sizes])
    add("requests per hour, all", [s.window.total() / s.hours for s in sizes])
    per_class = [
        {_span([c.requests for c in cycles(s, fresh)]) for s in sizes} - {"n/a"}
        for fresh in (True, False)
    ]
    flat = all(len(values) <= 1 and "-" not in "".join(values) for values in per_class)
    flat = flat and len({a for a in alerts if a is not None}) <= 1
    verdict = "yes" if flat else "NO"
    rows.append(("requests per cycle the same for every size", verdict, *[""] * (len(sizes) - 1)))
    return rows


def cpu_rows(sizes: Sequence[SizeResult]) -> list[Row | str]:
    """Table 3: event-loop CPU per live update, the small system beside the large one."""
    by_panels = {s.panels: s for s in sizes}
    small, large = by_panels[CPU_SIZES[0]], by_panels[CPU_SIZES[1]]
    rows: list[Row | str] = ["Home Assistant's event-loop thread (simulator threads excluded)"]

    def add(label: str, a: float | None, b: float | None, digits: int = 3) -> None:
        rows.append((label, fmt(a, digits), fmt(b, digits), ratio(a, b, base_name="small")))

    def count(label: str, a: int, b: int) -> None:
        rows.append((label, str(a), str(b), ""))

    def cpu(size: SizeResult, *, fresh: bool, imported: bool) -> list[float]:
        return [
            c.cpu
            for c in size.meter.cycles
            if c.cpu is not None and c.fresh is fresh and (c.combined > 0) is imported
        ]

    fresh_small = cpu(small, fresh=True, imported=False)
    fresh_large = cpu(large, fresh=True, imported=False)
    add("ms per live update with data, mean", mean_ms(fresh_small), mean_ms(fresh_large))
    add("ms per live update with data, median", median_ms(fresh_small), median_ms(fresh_large))
    add(
        "ms per live update with the hourly import, median",
        median_ms(cpu(small, fresh=True, imported=True) + cpu(small, fresh=False, imported=True)),
        median_ms(cpu(large, fresh=True, imported=True) + cpu(large, fresh=False, imported=True)),
    )
    add(
        "ms per live update at night, median",
        median_ms(cpu(small, fresh=False, imported=False)),
        median_ms(cpu(large, fresh=False, imported=False)),
    )
    add(
        "ms per alerts update, median",
        median_ms(small.meter.alerts_cpu),
        median_ms(large.meter.alerts_cpu),
    )

    def changes(size: SizeResult) -> float | None:
        return _mean([c.state_changes for c in size.meter.cycles if c.fresh and not c.combined])

    add("state changes per live update with data, mean", changes(small), changes(large), 1)
    m_small, m_large = median_ms(fresh_small), median_ms(fresh_large)
    add(
        "µs per live update with data per panel (median)",
        m_small * 1000 / small.panels if m_small is not None else None,
        m_large * 1000 / large.panels if m_large is not None else None,
        1,
    )
    marginal = marginal_change = None
    c_small, c_large = changes(small), changes(large)
    if m_small is not None and m_large is not None:
        marginal = (m_large - m_small) * 1000 / (large.panels - small.panels)
        if c_small is not None and c_large is not None and c_large != c_small:
            marginal_change = (m_large - m_small) * 1000 / (c_large - c_small)
    rows.append(
        (f"µs per added panel ({small.panels} -> {large.panels})", "", fmt(marginal, 1), "")
    )
    rows.append(("µs per added state change", "", fmt(marginal_change, 1), ""))
    add(
        "ms per hour, steps with SolarHub refreshes",
        small.meter.loop_cpu * 1000 / small.hours,
        large.meter.loop_cpu * 1000 / large.hours,
        1,
    )
    add(
        "simulator ms per live update (own thread)",
        small.simulator_cpu * 1000 / max(1, small.meter.updates["live"]),
        large.simulator_cpu * 1000 / max(1, large.meter.updates["live"]),
        1,
    )
    count("live updates with data measured", len(fresh_small), len(fresh_large))
    count(
        "live updates sharing their step (not measured)",
        sum(c.cpu is None for c in small.meter.cycles),
        sum(c.cpu is None for c in large.meter.cycles),
    )
    return rows


def report(result: Results, args: argparse.Namespace) -> str:
    """Everything printed: the setup, the tables and how it was measured."""
    day = result.day
    options = TigoOptions()
    warmup = f"after setup at {args.start.isoformat()} and a {WARMUP_SECONDS / HOUR:g}-h warm-up"
    sizes_window = f"{args.size_hours:g} simulated h {warmup}"
    if args.size_hours < args.hours:
        sizes_window += f" (shorter than the {args.hours:g}-h day: --size-hours)"
    entities = ", ".join(f"{k} {e}/{t}" for k, (e, t) in day.entities.items())
    lines = [
        "Tigo benchmark: SolarHub's Tigo vendor against the Tigo cloud simulator",
        f"  day: {args.hours:g} simulated h {warmup}; the simulator's default account,"
        f" system '{day.system}' ({day.panels} panels)",
        f"  SolarHub: default options (live every {options.live_interval} s, alerts every"
        f" {options.alerts_interval} s, panel power only); entities enabled/registered: {entities}",
        "  peer: an EMULATION of the polling plan of the most complete existing Tigo integration",
        "    (vendors/tigo.md: summary, systems, view, sources, combined and alerts every minute,",
        "    aggregates of Pin, Vin, Iin and RSSI every 5 min), issued with SolarHub's TigoClient",
        "    against a second simulator in the same Home Assistant: the plan, not the integration",
        f"  system sizes: {sizes_window}, one Home Assistant each",
        "",
        f"1. Requests per hour per system (budget <= {BUDGET}; setup excluded; max = worst hour)",
        render(
            day_rows(day),
            ("metric", "SolarHub mean", "max", "peer plan mean", "max", "ratio (SolarHub/peer)"),
        ),
        "",
        render(statistics_rows(day), ("metric", "SolarHub")),
        "",
        f"   SolarHub hour by hour (requests; hours start in the system's time, {day.timezone})",
        render(
            hour_rows(day),
            (
                "hour",
                "all",
                "sources",
                "summary",
                "aggregate",
                "combined",
                "alerts",
                "login",
                "peer plan",
            ),
        ),
        f"   At setup: {day.setup.total()} requests: "
        + ", ".join(f"{p} {n}" for p, n in sorted(day.setup.items())),
        "",
        "2. Flatness: requests per live cycle by system size",
        render(size_rows(result.sizes), ("metric", *(f"{s.panels} panels" for s in result.sizes))),
        "",
        "3. Event-loop CPU per live update",
        render(
            cpu_rows(result.sizes),
            (
                "metric",
                f"{CPU_SIZES[0]} panels",
                f"{CPU_SIZES[1]} panels",
                f"ratio ({CPU_SIZES[1]}/{CPU_SIZES[0]})",
            ),
        ),
        "",
        "Notes:",
        "  - Each run is a fresh Home Assistant (test harness, recorder on SQLite) with its own",
        "    simulator thread(s). The loop clock jumps to each next timer; Home Assistant's wall",
        "    clock (time.time, dt_util.utcnow/now, TigoClient's clock) is the start plus the",
        "    loop's simulated seconds; the simulators' clocks are set to it before every step.",
        "  - A live cycle is a step in which SolarHub's live coordinator refreshed; its requests",
        "    are the simulator's count for that step. 'With panel data flowing' = the cycle read",
        "    the panels (data/aggregate); at night the cloud's newest panel minute stays at dusk",
        "    and the cycle reads only gateways and summary. The hourly import adds one",
        "    data/combined when a new hour is complete (the night's hours come in one, at dawn).",
        "  - Once a day SolarHub reads the layout again (layout and objects, two requests; the",
        "    entry reloads only if devices or panels changed): the warm-up puts that re-read",
        "    inside the measured window; it counts in the hours and in its live cycle.",
        "  - CPU: steps from a timer to the idle loop (requests, CSV parsing, state writes, the",
        "    recorder's listener) in which exactly one SolarHub coordinator refreshed and the",
        "    peer did not poll. The day run's CPU is not reported (its peer shares the loop).",
        "    Means include the odd full garbage collection (a few hundred ms on the large",
        "    system's heap), medians do not; CPU times vary with the machine's load.",
        "    The alerts period is three live periods, so when the two coordinators' random",
        "    sub-second offsets lie closer than a step lasts, every alerts update shares its step",
        "    with a live update and neither is measured ('n/a' for alerts, fewer live samples).",
        "  - Wall time: "
        + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in result.wall_seconds.items()),
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.tigo", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--hours", type=float, default=24.0, help="simulated hours of the day run")
    parser.add_argument(
        "--size-hours",
        type=float,
        default=None,
        help="simulated hours of each system-size run (default: --hours)",
    )
    parser.add_argument(
        "--start",
        type=datetime.fromisoformat,
        default=START,
        help="simulated start time (ISO 8601 with offset)",
    )
    args = parser.parse_args(argv)
    if args.size_hours is None:
        args.size_hours = args.hours
    if args.hours <= 0 or args.size_hours <= 0:
        parser.error("--hours and --size-hours must be positive")
    if args.start.tzinfo is None:
        parser.error("--start needs a UTC offset")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Run everything, then print the report."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("homeassistant.loader").setLevel(logging.ERROR)  # "custom integration"
    print(report(run(args), args))


if __name__ == "__main__":
    main()
