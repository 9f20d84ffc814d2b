"""What the benchmarks share: simulated time, simulator threads, refresh and CPU accounting, tables.

Each benchmark runs Home Assistant through the test harness of pytest-homeassistant-custom-component
in a plain script (real loopback HTTP), with vendor simulators served from their own threads so
that per-thread CPU clocks keep the simulators' work out of the figures.

Simulated time: Home Assistant's loop clock (``loop.time``) becomes wall time plus an offset.
Whenever the loop is idle the offset jumps to the earliest scheduled timer, so every timer runs at
its own simulated moment and none runs early. The simulators' clocks are set to the same simulated
time before every step.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import math
import socket
import statistics
import tempfile
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self
from unittest.mock import patch

from aiohttp import ThreadedResolver
from homeassistant import loader
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_test_home_assistant

from tests.simulators import SimClock

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

type KindOf = Callable[[DataUpdateCoordinator[Any]], str]
type Interrupt = tuple[float, Callable[[], None]]  # seconds into a run, what happens then


# --------------------------------------------------------------------------------------------------
# Simulator thread, simulated loop clock
# --------------------------------------------------------------------------------------------------


class Simulator(Protocol):
    """A vendor simulator: an aiohttp server on loopback with a controllable clock."""

    clock: SimClock

    async def start(self, port: int = 0) -> None:
        """Serve on 127.0.0.1."""

    async def stop(self) -> None:
        """Stop serving."""


class SimulatorThread[SimT: Simulator]:
    """A simulator serving from its own thread and event loop, with that thread's CPU clock."""

    def __init__(self, simulator: SimT, start: datetime, name: str) -> None:
        self.simulator = simulator
        self._start = start
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
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


# --------------------------------------------------------------------------------------------------
# Refresh accounting
# --------------------------------------------------------------------------------------------------


def kind_by_class_name(words: Sequence[tuple[str, str]]) -> KindOf:
    """What a coordinator polls, from the first of ``words`` (word, kind) in its class name."""

    def kind_of(coordinator: DataUpdateCoordinator[Any]) -> str:
        name = type(coordinator).__name__
        for word, kind in words:
            if word in name:
                return kind
        return name

    return kind_of


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


class StepMeter(Protocol):
    """Receives every timer step of a measured window."""

    def record(
        self, refreshed: Sequence[DataUpdateCoordinator[Any]], loop_cpu: float, process_cpu: float
    ) -> None:
        """Add one step: the coordinators that refreshed in it and the CPU it took."""


@dataclass
class Meter:
    """One integration's updates and CPU in the measured window."""

    kind_of: KindOf
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
            kind = self.kind_of(coordinator)
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
            self.cpu_per_update[self.kind_of(refreshed[0])].append(loop_cpu)
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
        sims: Sequence[SimulatorThread[Any]],
        log: RefreshLog,
    ) -> None:
        self.hass = hass
        self.clock = clock
        self.sims = sims
        self.log = log

    async def run_for(
        self,
        seconds: float,
        meter: StepMeter | None = None,
        interrupts: Sequence[Interrupt] = (),
    ) -> None:
        """Simulate ``seconds``; run each interrupt's action that many seconds into the run."""
        begin = self.clock.time()
        end = begin + seconds
        pending = sorted(((begin + offset, action) for offset, action in interrupts), key=_first)
        while True:
            due = self.clock.next_timer()
            due = math.inf if due is None else due
            if pending and pending[0][0] <= min(due, end):
                when, action = pending.pop(0)
                self.clock.jump_to(when)
                action()  # simulators are idle between steps
                continue
            if due > end:
                break
            self.clock.jump_to(due)
            await self._step(meter)
        self.clock.jump_to(end)
        self.sync()

    def sync(self) -> None:
        """Put the simulators at the loop's simulated time."""
        for sim in self.sims:
            sim.set_elapsed(self.clock.elapsed)

    def _simulators_cpu(self) -> float:
        return sum(sim.cpu() for sim in self.sims)

    async def _step(self, meter: StepMeter | None) -> None:
        self.sync()
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


def _first(interrupt: Interrupt) -> float:
    return interrupt[0]


# --------------------------------------------------------------------------------------------------
# Home Assistant
# --------------------------------------------------------------------------------------------------


class _LoopbackResolver(ThreadedResolver):
    """Home Assistant's zeroconf-backed resolver needs the network integration; loopback doesn't."""

    async def real_close(self) -> None:
        """Home Assistant closes its resolver through ``real_close``."""
        await self.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _make_resolver(_hass: HomeAssistant) -> ThreadedResolver:
    return _LoopbackResolver()


@contextlib.asynccontextmanager
async def bench_home_assistant(
    log: RefreshLog, patches: Sequence[contextlib.AbstractContextManager[Any]] = ()
) -> AsyncIterator[HomeAssistant]:
    """A fresh test-harness Home Assistant in a temporary config dir, ``log`` installed."""
    with (
        tempfile.TemporaryDirectory(prefix="solarhub-bench-") as config_dir,
        contextlib.ExitStack() as stack,
    ):
        stack.enter_context(log.installed())
        stack.enter_context(
            patch("homeassistant.helpers.aiohttp_client._async_make_resolver", _make_resolver)
        )
        for extra in patches:
            stack.enter_context(extra)
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            # As the enable_custom_integrations fixture does: let the loader find ours.
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
            # SolarHub depends on application_credentials and so on http: serve it on a free
            # loopback port, not on 8123 where a running demo may be.
            http = {"server_host": ["127.0.0.1"], "server_port": _free_port()}
            assert await async_setup_component(hass, "http", {"http": http})
            try:
                yield hass
            finally:
                await hass.async_stop(force=True)


def enable_all(hass: HomeAssistant, entry: ConfigEntry[Any]) -> int:
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


def entity_counts(hass: HomeAssistant, entry: ConfigEntry[Any]) -> dict[str, tuple[int, int]]:
    """Enabled and total registry entries per platform; fail if an enabled one has no state."""
    counts: dict[str, tuple[int, int]] = {}
    for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
        enabled, total = counts.get(e.domain, (0, 0))
        counts[e.domain] = (enabled + (not e.disabled), total + 1)
        if not e.disabled and hass.states.get(e.entity_id) is None:
            raise RuntimeError(f"{e.entity_id} is enabled but was not set up")
    return dict(sorted(counts.items()))


# --------------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------------

type Row = tuple[str, ...]


def ratio(base: float | None, value: float | None, *, base_name: str) -> str:
    """``value / base`` with two decimals; "—" for 0/0, "∞ (<base_name> 0)" for x/0."""
    if base is None or value is None:
        return ""
    if base == 0:
        return "—" if value == 0 else f"∞ ({base_name} 0)"
    return f"{value / base:.2f}"


def fmt(value: float | None, digits: int = 2) -> str:
    """A number with thousands separators, or "n/a"."""
    return "n/a" if value is None else f"{value:,.{digits}f}"


def mean_ms(values: Sequence[float]) -> float | None:
    """The mean of CPU seconds, in ms."""
    return statistics.fmean(values) * 1000 if values else None


def median_ms(values: Sequence[float]) -> float | None:
    """The median of CPU seconds, in ms."""
    return statistics.median(values) * 1000 if values else None


def render(rows: Sequence[Row | str], header: Row) -> str:
    """A plain-text table with ``|`` separators and section headings (the strings)."""
    table = [r for r in rows if not isinstance(r, str)] + [header]
    columns = len(header)
    widths = [max(len(r[i]) for r in table) for i in range(columns)]

    def line(row: Row) -> str:
        cells = [row[0].ljust(widths[0])] + [row[i].rjust(widths[i]) for i in range(1, columns)]
        return " | ".join(cells).rstrip()

    out = [line(header), "-+-".join("-" * w for w in widths)]
    for row in rows:
        out.append(f"[{row}]" if isinstance(row, str) else line(row))
    return "\n".join(out)
