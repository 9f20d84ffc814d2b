"""Core ``kostal_plenticore`` vs SolarHub's PLENTICORE vendor: requests, logins and loop CPU.

Run ``scripts/run python -m bench.plenticore [--minutes N]``. Both integrations run in one Home
Assistant (the test harness of pytest-homeassistant-custom-component, real loopback HTTP), each
against its own simulator, served from a separate thread so that per-thread CPU clocks keep the
simulator's work out of the figures.

Simulated time (``bench.common``): Home Assistant's loop clock (``loop.time``) becomes wall time
plus an offset. Whenever the loop is idle the offset jumps to the earliest scheduled timer, so every
timer runs at its own simulated moment and none runs early: coordinator polls, debouncers, core's
2-second ``force_refresh`` calls, the reload 30 s after entities are enabled, aiohttp's keep-alive.
The simulator's clock follows the same simulated time.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import argparse
import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
import contextlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
import gc
import logging
import time
from typing import Any, Final
from unittest.mock import patch

from aiohttp import ClientSession
from homeassistant.config_entries import RELOAD_AFTER_UPDATE_DELAY, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PASSWORD, EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from pykoplenti import ExtendedApiClient
from pytest_homeassistant_custom_component.common import MockConfigEntry

# Our package is imported before Home Assistant's loader looks for ``custom_components``.
from custom_components.solarhub.api.plenticore.client import PlenticoreClient
from custom_components.solarhub.const import CONF_VENDOR, DOMAIN, Vendor
from tests.simulators.plenticore import PlenticoreConfig, PlenticoreSimulator, SimClock

from .common import (
    Meter,
    RefreshLog,
    Row,
    Simulation,
    SimulatorThread,
    VirtualClock,
    WindowMeter,
    bench_home_assistant,
    enable_all,
    entity_counts,
    fmt,
    kind_by_class_name,
    mean_ms,
    median_ms,
    ratio,
    render,
)

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


coordinator_kind = kind_by_class_name(
    (
        ("Process", "process data"),
        ("Select", "select options"),
        ("Setting", "settings"),
        ("Event", "events"),
    )
)


def _restart_all(sims: Sequence[SimulatorThread[PlenticoreSimulator]]) -> Callable[[], None]:
    def restart() -> None:
        for sim in sims:
            sim.simulator.restart()

    return restart


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
    state_changes: Counter[str]  # entity id -> state changes in the window
    meter: Meter
    login_loop_cpu: float
    login_process_cpu: float


@dataclass(frozen=True, slots=True)
class RunResult:
    """Both integrations, plus the steps charged to neither."""

    core: SideResult
    ours: SideResult
    window: WindowMeter


@dataclass
class _Participant:
    """One integration during the run: its simulator, entry and counters."""

    side: Side
    sim: SimulatorThread[PlenticoreSimulator]
    entry: MockConfigEntry
    setup_requests: int = 0
    setup_logins: int = 0
    entity_ids: frozenset[str] = frozenset()
    state_changes: Counter[str] = field(default_factory=Counter)
    login_loop_cpu: float = 0.0
    login_process_cpu: float = 0.0


async def _measure_logins(
    hass: HomeAssistant,
    participants: Sequence[_Participant],
    sims: Sequence[SimulatorThread[PlenticoreSimulator]],
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
        if args.entities == "all" and sum(enable_all(hass, p.entry) for p in participants):
            # Home Assistant reloads an entry 30 s after the last of its entities was enabled.
            await simulation.run_for(RELOAD_AFTER_UPDATE_DELAY + 5)
        await simulation.run_for(WARMUP_SECONDS)
        entities = {p.side.name: entity_counts(hass, p.entry) for p in participants}
        registry = er.async_get(hass)
        owner: dict[str, _Participant] = {}
        for p in participants:
            for registry_entry in er.async_entries_for_config_entry(registry, p.entry.entry_id):
                owner[registry_entry.entity_id] = p

        @callback
        def _count_change(event: Event[Any]) -> None:
            if (p := owner.get(event.data["entity_id"])) is not None:
                p.state_changes[event.data["entity_id"]] += 1

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
        restart = _restart_all(sims)
        restarts = [
            (seconds * (i + 1) / (args.restarts + 1), restart) for i in range(args.restarts)
        ]
        window = WindowMeter({p.side.domain: Meter(coordinator_kind) for p in participants})
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


async def _run(
    sims: Sequence[SimulatorThread[PlenticoreSimulator]], args: argparse.Namespace
) -> RunResult:
    sides: list[Side] = [CoreSide(), SolarHubSide()]
    participants = [
        _Participant(side, sim, side.entry(sim.simulator))
        for side, sim in zip(sides, sims, strict=True)
    ]
    log = RefreshLog()
    patches = [side_patch for side in sides for side_patch in side.patches()]
    async with bench_home_assistant(log, patches) as hass:
        return await _measure(hass, participants, log, args)


def _simulator_thread(args: argparse.Namespace) -> SimulatorThread[PlenticoreSimulator]:
    simulator = PlenticoreSimulator(
        PlenticoreConfig(rounds=args.rounds), SimClock.fixed(args.start)
    )
    return SimulatorThread(simulator, args.start, "plenticore-simulator")


def run(args: argparse.Namespace) -> RunResult:
    """Both integrations in one Home Assistant, each against its own simulator thread."""
    with (
        _simulator_thread(args) as core_sim,
        _simulator_thread(args) as ours_sim,
    ):
        return asyncio.run(_run([core_sim, ours_sim], args))


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------


def _ratio(core: float | None, ours: float | None) -> str:
    return ratio(core, ours, base_name="core")


def _row(label: str, core: float | None, ours: float | None, digits: int = 2) -> Row:
    return (label, fmt(core, digits), fmt(ours, digits), _ratio(core, ours))


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
    core_changes, ours_changes = core.state_changes.total(), ours.state_changes.total()
    rows.append(
        _row(
            "entity state changes/hour",
            core_changes * per_hour[0],
            ours_changes * per_hour[1],
            0,
        )
    )
    rows.append(
        _row(
            "  per enabled entity",
            core_changes * per_hour[0] / core_enabled if core_enabled else None,
            ours_changes * per_hour[1] / ours_enabled if ours_enabled else None,
            1,
        )
    )

    rows.append("CPU (Home Assistant's event-loop thread unless noted)")
    for kind in kinds:
        c_values = core.meter.cpu_per_update.get(kind, [])
        o_values = ours.meter.cpu_per_update.get(kind, [])
        rows.append(_row(f"ms per {kind} update, mean", mean_ms(c_values), mean_ms(o_values), 3))
        rows.append(
            _row(f"ms per {kind} update, median", median_ms(c_values), median_ms(o_values), 3)
        )
    process_kind = "process data"
    c_sensors, o_sensors = (
        core.entities.get("sensor", (0, 0))[0],
        ours.entities.get("sensor", (0, 0))[0],
    )
    c_mean, o_mean = (
        mean_ms(core.meter.cpu_per_update.get(process_kind, [])),
        mean_ms(ours.meter.cpu_per_update.get(process_kind, [])),
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
    if args.top:
        lines += ["", f"Entities with the most state changes per hour (top {args.top}):"]
        for r in (core, ours):
            lines.append(f"  {r.name}:")
            lines += [
                f"    {changes * 60 / r.minutes:8.1f}  {entity}"
                for entity, changes in r.state_changes.most_common(args.top)
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
        "--top",
        type=int,
        default=0,
        help="also list the N entities with the most state changes per integration",
    )
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
