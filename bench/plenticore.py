"""Core ``kostal_plenticore`` vs SolarHub's PLENTICORE vendor: requests, logins and loop CPU.

Run ``scripts/run python -m bench.plenticore [--minutes N]``. Each integration gets a fresh Home
Assistant (the test harness of pytest-homeassistant-custom-component, real loopback HTTP) and its
own simulator, served from a separate thread so that per-thread CPU clocks keep the simulator's work
out of the figures.

Simulated time: Home Assistant's loop clock (``loop.time``) becomes wall time plus an offset.
Whenever the loop is idle the offset jumps to the earliest scheduled timer, so every timer runs at
its own simulated moment and none runs early: coordinator polls, debouncers, core's 2-second
``force_refresh`` calls, the reload 30 s after entities are enabled, aiohttp's keep-alive. The
simulator's clock follows the same simulated time.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import argparse
import asyncio
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator, Sequence
import contextlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
import gc
import logging
import math
import statistics
import tempfile
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self
from unittest.mock import patch

from aiohttp import ClientSession, ThreadedResolver
from homeassistant import loader
from homeassistant.config_entries import RELOAD_AFTER_UPDATE_DELAY, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PASSWORD, EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from pykoplenti import ExtendedApiClient
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

# Our package is imported before Home Assistant's loader looks for ``custom_components``.
from custom_components.solarhub.api.plenticore import PlenticoreClient
from custom_components.solarhub.const import CONF_VENDOR, DOMAIN, Vendor
from tests.simulators.plenticore import PlenticoreConfig, PlenticoreSimulator, SimClock

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

API_PREFIX: Final = "/api/v1"
START: Final = datetime(2026, 6, 21, 10, 0, tzinfo=UTC)  # noon in Berlin: the sun is up
WARMUP_SECONDS: Final = 60.0  # after setup (and the reload), before the measured window
LOGIN_SAMPLES: Final = 5
CORE_DOMAIN: Final = "kostal_plenticore"
SOLARHUB_OPTIONS: Final = {
    "process_data_interval": 10,
    "settings_interval": 60,
    "events_interval": 60,
}

type Logout = Callable[[], Awaitable[None]]


# --------------------------------------------------------------------------------------------------
# The two integrations
# --------------------------------------------------------------------------------------------------


class _PortClient(ExtendedApiClient):
    """pykoplenti's client taking the port from ``host:port`` (core always connects to port 80)."""

    def __init__(self, websession: ClientSession, host: str, port: int = 80) -> None:
        name, colon, number = host.rpartition(":")
        super().__init__(websession, name if colon else host, int(number) if colon else port)


class Side(ABC):
    """One integration under test: its config entry, patches and a bare login."""

    name: str
    domain: str

    @abstractmethod
    def entry(self, simulator: PlenticoreSimulator) -> MockConfigEntry:
        """The config entry for ``simulator``."""

    def patches(self) -> list[contextlib.AbstractContextManager[Any]]:
        """Patches the run needs (none changes what the integration does)."""
        return []

    @abstractmethod
    async def login(self, session: ClientSession, simulator: PlenticoreSimulator) -> Logout:
        """Log in with the integration's client; return its logout."""


class CoreSide(Side):
    """Home Assistant core's ``kostal_plenticore`` (pykoplenti)."""

    name = "core kostal_plenticore"
    domain = CORE_DOMAIN

    def entry(self, simulator: PlenticoreSimulator) -> MockConfigEntry:
        return MockConfigEntry(
            domain=CORE_DOMAIN,
            title="scb",
            data={CONF_HOST: simulator.host, CONF_PASSWORD: simulator.config.password},
        )

    def patches(self) -> list[contextlib.AbstractContextManager[Any]]:
        return [
            patch(
                "homeassistant.components.kostal_plenticore.coordinator.ExtendedApiClient",
                _PortClient,
            )
        ]

    async def login(self, session: ClientSession, simulator: PlenticoreSimulator) -> Logout:
        client = ExtendedApiClient(session, "127.0.0.1", simulator.port)
        await client.login(simulator.config.password)
        return client.logout


class SolarHubSide(Side):
    """SolarHub's PLENTICORE vendor."""

    name = "solarhub"
    domain = DOMAIN

    def entry(self, simulator: PlenticoreSimulator) -> MockConfigEntry:
        return MockConfigEntry(
            domain=DOMAIN,
            title="PLENTICORE plus (scb)",
            unique_id=simulator.config.serial,
            data={
                CONF_VENDOR: Vendor.PLENTICORE,
                CONF_HOST: simulator.host,
                CONF_PASSWORD: simulator.config.password,
            },
            options=SOLARHUB_OPTIONS,
        )

    async def login(self, session: ClientSession, simulator: PlenticoreSimulator) -> Logout:
        client = PlenticoreClient(session, simulator.host)
        await client.login(simulator.config.password)
        return client.logout


# --------------------------------------------------------------------------------------------------
# Simulator thread, simulated loop clock, refresh accounting
# --------------------------------------------------------------------------------------------------


class SimulatorThread:
    """A simulator serving from its own thread and event loop, with that thread's CPU clock."""

    def __init__(self, config: PlenticoreConfig, start: datetime) -> None:
        self.simulator = PlenticoreSimulator(config, SimClock.fixed(start))
        self._start = start
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="plenticore-simulator", daemon=True
        )
        self._cpu_clock: int | None = None

    def __enter__(self) -> Self:
        self._thread.start()
        assert self._thread.ident is not None
        self._cpu_clock = time.pthread_getcpuclockid(self._thread.ident)
        asyncio.run_coroutine_threadsafe(self.simulator.start(), self._loop).result()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        asyncio.run_coroutine_threadsafe(self.simulator.stop(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def cpu(self) -> float:
        """CPU seconds the simulator's thread has used."""
        assert self._cpu_clock is not None
        return time.clock_gettime(self._cpu_clock)

    def set_elapsed(self, seconds: float) -> None:
        """Put the simulator's clock ``seconds`` after the start (only while it is idle)."""
        self.simulator.clock.set(self._start + timedelta(seconds=seconds))


class VirtualClock:
    """Home Assistant's loop clock: wall time plus jumps, each to the next scheduled timer."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._wall = loop.time
        self._offset = 0.0
        self._origin = self._wall()
        loop.time = self.time  # type: ignore[method-assign]

    def restore(self) -> None:
        """Give the loop its own clock back."""
        delattr(self._loop, "time")

    def time(self) -> float:
        """The loop's simulated time."""
        return self._wall() + self._offset

    @property
    def elapsed(self) -> float:
        """Simulated seconds since the clock was installed."""
        return self.time() - self._origin

    def next_timer(self) -> float | None:
        """When the earliest live timer of the loop is due."""
        scheduled: list[asyncio.TimerHandle] = getattr(self._loop, "_scheduled")  # noqa: B009
        return min((h.when() for h in scheduled if not h.cancelled()), default=None)

    def jump_to(self, when: float) -> None:
        """Move simulated time forward to ``when`` (never back)."""
        self._offset += max(0.0, when - self.time())


def coordinator_kind(coordinator: DataUpdateCoordinator[Any]) -> str:
    """What a coordinator polls, from its class name (both integrations name them plainly)."""
    name = type(coordinator).__name__
    for word, kind in (
        ("Process", "process data"),
        ("Select", "select options"),
        ("Setting", "settings"),
        ("Event", "events"),
    ):
        if word in name:
            return kind
    return name


class RefreshLog:
    """Which coordinators refreshed, via a pass-through wrapper of ``_async_refresh``."""

    def __init__(self) -> None:
        self.refreshed: list[DataUpdateCoordinator[Any]] = []

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Wrap ``DataUpdateCoordinator._async_refresh`` (before any coordinator exists)."""
        original = DataUpdateCoordinator._async_refresh
        log = self

        async def _async_refresh(
            coordinator: DataUpdateCoordinator[Any], *args: Any, **kwargs: Any
        ) -> None:
            log.refreshed.append(coordinator)
            await original(coordinator, *args, **kwargs)

        with patch.object(DataUpdateCoordinator, "_async_refresh", _async_refresh):
            yield


@dataclass
class Meter:
    """One integration's updates and CPU in the measured window."""

    loop_cpu: float = 0.0
    process_cpu: float = 0.0
    steps: int = 0  # timer steps charged to this integration
    mixed_steps: int = 0  # several of its coordinators refreshed: not charged to one kind
    updates: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    cpu_per_update: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def count(self, refreshed: Sequence[DataUpdateCoordinator[Any]]) -> None:
        """Count refreshes by kind, and the ones that failed."""
        for coordinator in refreshed:
            kind = coordinator_kind(coordinator)
            self.updates[kind] += 1
            if not coordinator.last_update_success:
                self.failed[kind] += 1

    def charge(
        self, refreshed: Sequence[DataUpdateCoordinator[Any]], loop_cpu: float, process_cpu: float
    ) -> None:
        """Charge one step's CPU; per kind when exactly one coordinator refreshed."""
        self.steps += 1
        self.loop_cpu += loop_cpu
        self.process_cpu += process_cpu
        if len(refreshed) == 1:
            self.cpu_per_update[coordinator_kind(refreshed[0])].append(loop_cpu)
        else:
            self.mixed_steps += 1


@dataclass
class WindowMeter:
    """Charges each timer step to the integration whose coordinators refreshed in it."""

    sides: dict[str, Meter]  # by config entry domain
    shared_steps: int = 0  # no coordinator refreshed (aiohttp keep-alive, storage, ...)
    shared_cpu: float = 0.0
    cross_steps: int = 0  # coordinators of both integrations refreshed: charged to neither
    cross_cpu: float = 0.0

    def record(
        self, refreshed: Sequence[DataUpdateCoordinator[Any]], loop_cpu: float, process_cpu: float
    ) -> None:
        """Add one step."""
        by_domain: defaultdict[str, list[DataUpdateCoordinator[Any]]] = defaultdict(list)
        for coordinator in refreshed:
            entry = coordinator.config_entry
            if entry is not None and entry.domain in self.sides:
                by_domain[entry.domain].append(coordinator)
        for domain, coordinators in by_domain.items():
            self.sides[domain].count(coordinators)
        if len(by_domain) == 1:
            ((domain, coordinators),) = by_domain.items()
            self.sides[domain].charge(coordinators, loop_cpu, process_cpu)
        elif by_domain:
            self.cross_steps += 1
            self.cross_cpu += loop_cpu
        else:
            self.shared_steps += 1
            self.shared_cpu += loop_cpu


class Simulation:
    """Runs Home Assistant's timers in simulated time, one idle-to-idle step per timer."""

    def __init__(
        self,
        hass: HomeAssistant,
        clock: VirtualClock,
        sims: Sequence[SimulatorThread],
        log: RefreshLog,
    ) -> None:
        self.hass = hass
        self.clock = clock
        self.sims = sims
        self.log = log

    async def run_for(
        self, seconds: float, meter: WindowMeter | None = None, restarts: Sequence[float] = ()
    ) -> None:
        """Simulate ``seconds``; restart the inverters ``restarts`` seconds into the run."""
        begin = self.clock.time()
        end = begin + seconds
        pending = sorted(begin + offset for offset in restarts)
        while True:
            due = self.clock.next_timer()
            due = math.inf if due is None else due
            if pending and pending[0] <= min(due, end):
                self.clock.jump_to(pending.pop(0))
                for sim in self.sims:
                    sim.simulator.restart()  # simulators are idle between steps
                continue
            if due > end:
                break
            self.clock.jump_to(due)
            await self._step(meter)
        self.clock.jump_to(end)
        self._sync_simulators()

    def _sync_simulators(self) -> None:
        for sim in self.sims:
            sim.set_elapsed(self.clock.elapsed)

    def _simulators_cpu(self) -> float:
        return sum(sim.cpu() for sim in self.sims)

    async def _step(self, meter: WindowMeter | None) -> None:
        self._sync_simulators()
        self.log.refreshed.clear()
        loop0, process0, sims0 = time.thread_time(), time.process_time(), self._simulators_cpu()
        # Two loop iterations run the due timers; then wait for what they started.
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        await self.hass.async_block_till_done(wait_background_tasks=True)
        loop_cpu = time.thread_time() - loop0
        process_cpu = time.process_time() - process0 - (self._simulators_cpu() - sims0)
        if meter is not None:
            meter.record(self.log.refreshed, loop_cpu, process_cpu)


# --------------------------------------------------------------------------------------------------
# The run: both integrations in one Home Assistant, each against its own simulator
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SideResult:
    """What one integration did in the measured window (and at setup)."""

    name: str
    minutes: float
    entities: dict[str, tuple[int, int]]  # platform -> (enabled, total)
    setup_requests: int
    setup_logins: int
    requests: Counter[str]
    logins: int
    failed_logins: int
    sessions_open: int
    state_changes: int
    meter: Meter
    login_loop_cpu: float
    login_process_cpu: float


@dataclass(frozen=True, slots=True)
class RunResult:
    """Both integrations, plus the steps charged to neither."""

    core: SideResult
    ours: SideResult
    window: WindowMeter


class _LoopbackResolver(ThreadedResolver):
    """Home Assistant's zeroconf-backed resolver needs the network integration; loopback doesn't."""

    async def real_close(self) -> None:
        """Home Assistant closes its resolver through ``real_close``."""
        await self.close()


def _make_resolver(_hass: HomeAssistant) -> ThreadedResolver:
    return _LoopbackResolver()


def _enable_all(hass: HomeAssistant, entry: ConfigEntry[Any]) -> int:
    """Enable every entity of ``entry`` a user could enable; return how many were disabled."""
    registry = er.async_get(hass)
    disabled = [
        e
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        if e.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    ]
    for registry_entry in disabled:
        registry.async_update_entity(registry_entry.entity_id, disabled_by=None)
    return len(disabled)


def _entity_counts(hass: HomeAssistant, entry: ConfigEntry[Any]) -> dict[str, tuple[int, int]]:
    """Enabled and total registry entries per platform; fail if an enabled one has no state."""
    counts: dict[str, tuple[int, int]] = {}
    for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
        enabled, total = counts.get(e.domain, (0, 0))
        counts[e.domain] = (enabled + (not e.disabled), total + 1)
        if not e.disabled and hass.states.get(e.entity_id) is None:
            raise RuntimeError(f"{e.entity_id} is enabled but was not set up")
    return dict(sorted(counts.items()))


@dataclass
class _Participant:
    """One integration during the run: its simulator, entry and counters."""

    side: Side
    sim: SimulatorThread
    entry: MockConfigEntry
    setup_requests: int = 0
    setup_logins: int = 0
    entity_ids: frozenset[str] = frozenset()
    state_changes: int = 0
    login_loop_cpu: float = 0.0
    login_process_cpu: float = 0.0


async def _measure_logins(
    hass: HomeAssistant, participants: Sequence[_Participant], sims: Sequence[SimulatorThread]
) -> None:
    """Loop-thread and process CPU (simulators excluded) per login, alternating the clients."""
    session = async_get_clientsession(hass)
    for _ in range(LOGIN_SAMPLES):
        for p in participants:
            loop0, process0 = time.thread_time(), time.process_time()
            sims0 = sum(s.cpu() for s in sims)
            logout = await p.side.login(session, p.sim.simulator)
            p.login_loop_cpu += (time.thread_time() - loop0) / LOGIN_SAMPLES
            process = time.process_time() - process0 - (sum(s.cpu() for s in sims) - sims0)
            p.login_process_cpu += process / LOGIN_SAMPLES
            await logout()


async def _measure(
    hass: HomeAssistant,
    participants: Sequence[_Participant],
    log: RefreshLog,
    args: argparse.Namespace,
) -> RunResult:
    sims = [p.sim for p in participants]
    clock = VirtualClock(hass.loop)
    try:
        simulation = Simulation(hass, clock, sims, log)
        for p in participants:
            p.entry.add_to_hass(hass)
            await hass.config_entries.async_setup(p.entry.entry_id)
            await hass.async_block_till_done()
            if p.entry.state is not ConfigEntryState.LOADED:
                raise RuntimeError(f"{p.side.name}: setup failed ({p.entry.state})")
            p.setup_requests = p.sim.simulator.requests.total()
            p.setup_logins = p.sim.simulator.logins
        if args.entities == "all" and sum(_enable_all(hass, p.entry) for p in participants):
            # Home Assistant reloads an entry 30 s after the last of its entities was enabled.
            await simulation.run_for(RELOAD_AFTER_UPDATE_DELAY + 5)
        await simulation.run_for(WARMUP_SECONDS)
        entities = {p.side.name: _entity_counts(hass, p.entry) for p in participants}
        registry = er.async_get(hass)
        owner: dict[str, _Participant] = {}
        for p in participants:
            for registry_entry in er.async_entries_for_config_entry(registry, p.entry.entry_id):
                owner[registry_entry.entity_id] = p

        @callback
        def _count_change(event: Event[Any]) -> None:
            if (p := owner.get(event.data["entity_id"])) is not None:
                p.state_changes += 1

        unsubscribe = hass.bus.async_listen(EVENT_STATE_CHANGED, _count_change)
        before = {
            p.side.name: (
                Counter(p.sim.simulator.requests),
                p.sim.simulator.logins,
                p.sim.simulator.failed_logins,
            )
            for p in participants
        }
        seconds = args.minutes * 60.0
        restarts = [seconds * (i + 1) / (args.restarts + 1) for i in range(args.restarts)]
        window = WindowMeter({p.side.domain: Meter() for p in participants})
        gc.collect()
        await simulation.run_for(seconds, window, restarts)
        unsubscribe()
        results: list[SideResult] = []
        for p in participants:
            simulator = p.sim.simulator
            requests0, logins0, failed0 = before[p.side.name]
            requests = Counter(simulator.requests)
            requests.subtract(requests0)
            results.append(
                SideResult(
                    name=p.side.name,
                    minutes=args.minutes,
                    entities=entities[p.side.name],
                    setup_requests=p.setup_requests,
                    setup_logins=p.setup_logins,
                    requests=+requests,
                    logins=simulator.logins - logins0,
                    failed_logins=simulator.failed_logins - failed0,
                    sessions_open=simulator.active_sessions,
                    state_changes=p.state_changes,
                    meter=window.sides[p.side.domain],
                    login_loop_cpu=0.0,
                    login_process_cpu=0.0,
                )
            )
        await _measure_logins(hass, participants, sims)
        for p in participants:
            await hass.config_entries.async_unload(p.entry.entry_id)
        await hass.async_block_till_done()
    finally:
        clock.restore()
    core, ours = (
        replace(r, login_loop_cpu=p.login_loop_cpu, login_process_cpu=p.login_process_cpu)
        for r, p in zip(results, participants, strict=True)
    )
    return RunResult(core=core, ours=ours, window=window)


async def _run(sims: Sequence[SimulatorThread], args: argparse.Namespace) -> RunResult:
    sides: list[Side] = [CoreSide(), SolarHubSide()]
    participants = [
        _Participant(side, sim, side.entry(sim.simulator))
        for side, sim in zip(sides, sims, strict=True)
    ]
    log = RefreshLog()
    with (
        tempfile.TemporaryDirectory(prefix="solarhub-bench-") as config_dir,
        contextlib.ExitStack() as stack,
    ):
        stack.enter_context(log.installed())
        stack.enter_context(
            patch("homeassistant.helpers.aiohttp_client._async_make_resolver", _make_resolver)
        )
        for side in sides:
            for side_patch in side.patches():
                stack.enter_context(side_patch)
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            # As the enable_custom_integrations fixture does: let the loader find ours.
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
            try:
                return await _measure(hass, participants, log, args)
            finally:
                await hass.async_stop(force=True)


def run(args: argparse.Namespace) -> RunResult:
    """Both integrations in one Home Assistant, each against its own simulator thread."""
    with (
        SimulatorThread(PlenticoreConfig(rounds=args.rounds), args.start) as core_sim,
        SimulatorThread(PlenticoreConfig(rounds=args.rounds), args.start) as ours_sim,
    ):
        return asyncio.run(_run([core_sim, ours_sim], args))


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------

type Row = tuple[str, str, str, str]


def _ratio(core: float | None, ours: float | None) -> str:
    if core is None or ours is None:
        return ""
    if core == 0:
        return "—" if ours == 0 else "∞ (core 0)"
    return f"{ours / core:.2f}"


def _row(label: str, core: float | None, ours: float | None, digits: int = 2) -> Row:
    def fmt(value: float | None) -> str:
        return "n/a" if value is None else f"{value:,.{digits}f}"

    return (label, fmt(core), fmt(ours), _ratio(core, ours))


def _mean_ms(values: list[float]) -> float | None:
    return statistics.fmean(values) * 1000 if values else None


def _median_ms(values: list[float]) -> float | None:
    return statistics.median(values) * 1000 if values else None


def _endpoint(key: str) -> str:
    method, _, path = key.partition(" ")
    return f"{method} {path.removeprefix(API_PREFIX)}"


def _multi_id_gets(requests: Counter[str]) -> int:
    """GETs of several settings at once: firmware 02.20+/G3 answers them with HTTP 500."""
    return sum(
        n
        for key, n in requests.items()
        if key.startswith("GET ") and "/settings/" in key and "," in key.rsplit("/", 1)[-1]
    )


def build_rows(core: SideResult, ours: SideResult) -> list[Row | str]:
    """The table: strings are section headings."""
    per_minute = 1 / core.minutes, 1 / ours.minutes
    per_hour = 60 / core.minutes, 60 / ours.minutes
    rows: list[Row | str] = ["entities enabled / registered"]
    for platform in sorted(core.entities.keys() | ours.entities.keys()):
        c, o = core.entities.get(platform, (0, 0)), ours.entities.get(platform, (0, 0))
        rows.append((f"  {platform}", f"{c[0]}/{c[1]}", f"{o[0]}/{o[1]}", _ratio(c[0], o[0])))
    core_enabled = sum(e for e, _ in core.entities.values())
    ours_enabled = sum(e for e, _ in ours.entities.values())
    rows.append(_row("  total enabled", core_enabled, ours_enabled, 0))

    rows.append("requests (measured window)")
    rows.append(
        _row(
            "requests/min, total",
            core.requests.total() * per_minute[0],
            ours.requests.total() * per_minute[1],
        )
    )
    for key in sorted(core.requests.keys() | ours.requests.keys(), key=_endpoint):
        rows.append(
            _row(
                f"  {_endpoint(key)}",
                core.requests[key] * per_minute[0],
                ours.requests[key] * per_minute[1],
            )
        )
    rows.append(_row("logins/hour", core.logins * per_hour[0], ours.logins * per_hour[1]))
    rows.append(
        _row(
            "failed logins/hour",
            core.failed_logins * per_hour[0],
            ours.failed_logins * per_hour[1],
        )
    )
    rows.append(_row("requests at setup", core.setup_requests, ours.setup_requests, 0))
    rows.append(_row("logins at setup", core.setup_logins, ours.setup_logins, 0))

    rows.append("coordinator updates (measured window)")
    kinds = sorted(core.meter.updates.keys() | ours.meter.updates.keys())
    for kind in kinds:
        rows.append(
            _row(
                f"{kind} updates/hour",
                core.meter.updates[kind] * per_hour[0],
                ours.meter.updates[kind] * per_hour[1],
                1,
            )
        )
    rows.append(_row("failed updates", core.meter.failed.total(), ours.meter.failed.total(), 0))
    rows.append(
        _row(
            "entity state changes/hour",
            core.state_changes * per_hour[0],
            ours.state_changes * per_hour[1],
            0,
        )
    )

    rows.append("CPU (Home Assistant's event-loop thread unless noted)")
    for kind in kinds:
        c_values = core.meter.cpu_per_update.get(kind, [])
        o_values = ours.meter.cpu_per_update.get(kind, [])
        rows.append(_row(f"ms per {kind} update, mean", _mean_ms(c_values), _mean_ms(o_values), 3))
        rows.append(
            _row(f"ms per {kind} update, median", _median_ms(c_values), _median_ms(o_values), 3)
        )
    process_kind = "process data"
    c_sensors, o_sensors = (
        core.entities.get("sensor", (0, 0))[0],
        ours.entities.get("sensor", (0, 0))[0],
    )
    c_mean, o_mean = (
        _mean_ms(core.meter.cpu_per_update.get(process_kind, [])),
        _mean_ms(ours.meter.cpu_per_update.get(process_kind, [])),
    )
    rows.append(
        _row(
            "µs per process-data update per enabled sensor",
            c_mean * 1000 / c_sensors if c_mean is not None and c_sensors else None,
            o_mean * 1000 / o_sensors if o_mean is not None and o_sensors else None,
            1,
        )
    )
    rows.append(
        _row(
            "ms per hour, all timers",
            core.meter.loop_cpu * 1000 * per_hour[0],
            ours.meter.loop_cpu * 1000 * per_hour[1],
            1,
        )
    )
    rows.append(
        _row(
            "ms per hour, process CPU excl. simulator",
            core.meter.process_cpu * 1000 * per_hour[0],
            ours.meter.process_cpu * 1000 * per_hour[1],
            1,
        )
    )
    rows.append(
        _row("ms per login (loop thread)", core.login_loop_cpu * 1000, ours.login_loop_cpu * 1000)
    )
    rows.append(
        _row(
            "ms per login, process CPU excl. simulator",
            core.login_process_cpu * 1000,
            ours.login_process_cpu * 1000,
        )
    )

    rows.append("PLENTICORE limits (no documented request limit)")
    rows.append(
        _row("sessions open at end (one expected)", core.sessions_open, ours.sessions_open, 0)
    )
    rows.append(
        _row(
            "multi-id GET /settings (HTTP 500 on 02.20+/G3)",
            _multi_id_gets(core.requests),
            _multi_id_gets(ours.requests),
            0,
        )
    )
    return rows


def render(rows: Sequence[Row | str], header: Row) -> str:
    """A plain-text table with ``|`` separators and section headings."""
    table = [r for r in rows if not isinstance(r, str)] + [header]
    widths = [max(len(r[i]) for r in table) for i in range(4)]

    def line(row: Row) -> str:
        cells = [row[0].ljust(widths[0])] + [row[i].rjust(widths[i]) for i in range(1, 4)]
        return " | ".join(cells).rstrip()

    out = [line(header), "-+-".join("-" * w for w in widths)]
    for row in rows:
        out.append(f"[{row}]" if isinstance(row, str) else line(row))
    return "\n".join(out)


def report(result: RunResult, args: argparse.Namespace) -> str:
    """Everything printed: the setup, the table and how it was measured."""
    core, ours, window = result.core, result.ours, result.window
    header: Row = ("metric", core.name, ours.name, "ratio (solarhub/core)")
    entities = (
        "all (every entity either integration offers, enabled in the registry, then reloaded)"
        if args.entities == "all"
        else "registry defaults"
    )
    lines = [
        "PLENTICORE benchmark: Home Assistant core kostal_plenticore vs SolarHub",
        f"  window: {args.minutes:g} simulated min, after setup and a {WARMUP_SECONDS:.0f}-s"
        f" warm-up; simulators from {args.start.isoformat()}; SCRAM rounds {args.rounds};"
        f" inverter restarts in the window: {args.restarts}",
        f"  entities: {entities}",
        f"  solarhub options: {SOLARHUB_OPTIONS}",
        "  core: process data every 10 s, settings every 30 s per platform (fixed)",
        "",
        render(build_rows(core, ours), header),
        "",
        "Notes:",
        "  - Both integrations run in one Home Assistant, each against its own simulator, so",
        "    their polls interleave in time. Simulators serve from their own threads: 'loop' CPU",
        "    is Home Assistant's event-loop thread; 'process CPU excl. simulator' adds executor",
        "    threads (e.g. SolarHub's PBKDF2 at login).",
        "  - A step runs from a timer to the idle loop (request, parsing, state writes) and is",
        "    charged to the integration whose coordinators refreshed in it; per-update CPU uses",
        "    steps where exactly one coordinator refreshed. Timer steps in the window:",
        *(
            f"    {r.name}: {r.meter.steps} ({r.meter.mixed_steps} with several refreshes)"
            for r in (core, ours)
        ),
        f"    charged to neither: {window.shared_steps} without refresh (keep-alive, storage;"
        f" {window.shared_cpu * 1000:.1f} ms), {window.cross_steps} with both"
        f" ({window.cross_cpu * 1000:.1f} ms)",
        "  - Time: the loop clock jumps to each next timer, so every timer runs at its simulated",
        "    moment. Core's pykoplenti client gets the simulator's port (core assumes port 80).",
        "  - State changes are counted by a bus listener (its small cost is in the CPU figures).",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.plenticore", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--minutes", type=float, default=60.0, help="simulated minutes measured")
    parser.add_argument(
        "--entities",
        choices=("all", "default"),
        default="all",
        help="enable every entity in both integrations, or keep registry defaults",
    )
    parser.add_argument(
        "--restarts",
        type=int,
        default=0,
        help="inverter restarts (dropping sessions) spread over the window",
    )
    parser.add_argument("--rounds", type=int, default=29000, help="SCRAM PBKDF2 rounds")
    parser.add_argument(
        "--start",
        type=datetime.fromisoformat,
        default=START,
        help="simulated start time (ISO 8601 with offset)",
    )
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.restarts < 0:
        parser.error("--minutes must be positive and --restarts not negative")
    if args.start.tzinfo is None:
        parser.error("--start needs a UTC offset")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Run both integrations, then print the comparison."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("homeassistant.loader").setLevel(logging.ERROR)  # "custom integration"
    print(report(run(args), args))


if __name__ == "__main__":
    main()
