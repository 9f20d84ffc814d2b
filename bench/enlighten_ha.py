"""SolarHub's Enlighten integration in Home Assistant on the accelerated clock, for bench.enlighten.

A fresh test-harness Home Assistant with a recorder on SQLite; the simulator serves from its own
thread; Home Assistant's loop clock jumps to each next timer (``bench.common``) and its wall
clock moves with it (``bench.tigo.simulated_wall_clock``), the simulator's clock set to the same
moment before every step. The entry is a v2 or v4 entry as the config flow makes it (v4: a
token from the simulator's OAuth2 authorize and code exchange, refreshed by Home Assistant's
``OAuth2Session`` through ``vendors/enlighten/oauth.py``); a restart is an unload, the downtime
passing, and a setup again (its Store kept). Home Assistant's HTTP server (a dependency of
application credentials) listens on a free loopback port, so a Home Assistant on 8123 does not
stop it. The simulator notes every summary it answers, so the data age at each poll comes from
its own upload times.
"""

from __future__ import annotations

# First, before anything imports ``utcnow`` by name (see bench.tigo).
from pytest_homeassistant_custom_component import patch_time  # noqa: F401

# isort: split

from collections import Counter, defaultdict
from collections.abc import Iterator
import contextlib
from datetime import UTC, datetime, timedelta
import time
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from aiohttp import web
from homeassistant.components.application_credentials import ClientCredential
from homeassistant.components.recorder.const import DOMAIN as RECORDER_DOMAIN
from homeassistant.components.recorder.statistics import (
    list_statistic_ids,
    statistics_during_period,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_API_KEY
from homeassistant.helpers import config_entry_oauth2_flow, recorder as recorder_helper
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.recorder import get_instance
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from yarl import URL

from custom_components.solarhub.api.enlighten.client import EnlightenV2Client, EnlightenV4Client
from custom_components.solarhub.const import (
    CONF_BASE_URL,
    CONF_SYSTEMS,
    CONF_VENDOR,
    DOMAIN,
    Vendor,
)
from custom_components.solarhub.statistics import backfill_start
from custom_components.solarhub.vendors.enlighten.oauth import (
    EnphaseOAuth2Implementation,
    authorization_server,
)
from custom_components.solarhub.vendors.enlighten.options import (
    CONF_API_VERSION,
    CONF_PER_MINUTE,
    CONF_PER_MONTH,
    CONF_PLAN,
)
from custom_components.solarhub.vendors.enlighten.runtime import CONF_USER_ID
from custom_components.solarhub.vendors.enlighten.scheduler import existing_account
from tests.simulators import SimClock
from tests.simulators.enlighten import EnlightenSimulator, TruthSource

from .common import (
    RefreshLog,
    Simulation,
    SimulatorThread,
    StepMeter,
    VirtualClock,
    bench_home_assistant,
)
from .tigo import simulated_wall_clock

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .enlighten import RunResult, Scenario

from . import enlighten as bench_enlighten


class RecordedSimulation(Simulation):
    """Each step also waits for the recorder's thread to write what the step queued.

    Simulated time jumps minutes ahead in microseconds of wall time; a real recorder writes an
    import within seconds, long before the next planned request. Without the wait, the next
    statistics import would read a stored series the recorder has not written yet (and fetch
    it all again).
    """

    async def _step(self, meter: StepMeter | None) -> None:
        await super()._step(meter)
        await async_wait_recording_done(self.hass)


class WatchedSimulator(EnlightenSimulator):
    """The simulator, noting when it answered each system's summary."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.summaries: list[tuple[float, int]] = []
        self.answered: list[tuple[float, str, int]] = []  # when, endpoint, HTTP status

    async def _serve_v2(self, request: web.Request, handler: Any) -> web.StreamResponse:
        response = await super()._serve_v2(request, handler)
        self.answered.append((self._now(), request.path.rsplit("/", 1)[-1], response.status))
        return response

    async def _serve_v4(self, request: web.Request, handler: Any) -> web.StreamResponse:
        response = await super()._serve_v4(request, handler)
        self.answered.append((self._now(), request.path.rsplit("/", 1)[-1], response.status))
        return response

    async def _summary(self, request: web.Request) -> web.StreamResponse:
        response = await super()._summary(request)
        if response.status == 200:
            self.summaries.append((self._now(), int(request.match_info["system_id"])))
        return response


@contextlib.contextmanager
def simulated_client_clock(clock: VirtualClock, start: datetime) -> Iterator[None]:
    """The Enlighten clients' default clock (ledger stamps, 409 ends) on the simulated time."""

    def utcnow() -> datetime:
        return datetime.fromtimestamp(start.timestamp() + clock.elapsed, UTC)

    with contextlib.ExitStack() as stack:
        for cls in (EnlightenV2Client, EnlightenV4Client):
            defaults = cls.__init__.__kwdefaults__
            assert defaults is not None
            stack.enter_context(patch.dict(defaults, {"clock": utcnow}))
        yield


def v2_entry(scenario: Scenario, sim: EnlightenSimulator) -> MockConfigEntry:
    """The entry the config flow makes: key, user id, plan, every system."""
    config = sim.config
    plan = scenario.plan
    custom = plan.name == "custom"
    return MockConfigEntry(
        domain=DOMAIN,
        title="Enlighten",
        unique_id=f"enlighten_{config.user_id}",
        data={
            CONF_VENDOR: Vendor.ENLIGHTEN,
            CONF_API_VERSION: "v2",
            CONF_API_KEY: config.api_key,
            CONF_USER_ID: config.user_id,
            CONF_BASE_URL: sim.base_url,
            CONF_PLAN: plan.name,
            CONF_SYSTEMS: [spec.system_id for spec in scenario.systems],
            **(
                {CONF_PER_MINUTE: plan.per_minute, CONF_PER_MONTH: plan.per_month} if custom else {}
            ),
        },
    )


AUTH_DOMAIN = "enphase_app"
REDIRECT_URI = "https://example.com/auth/external/callback"


async def v4_entry(
    hass: HomeAssistant, scenario: Scenario, sim: EnlightenSimulator
) -> MockConfigEntry:
    """The entry the v4 flow makes: the app's credential, a token from a real code exchange."""
    config = sim.config
    base_url = f"{sim.url}/api/v4"
    implementation = EnphaseOAuth2Implementation(
        hass,
        AUTH_DOMAIN,
        ClientCredential(config.client_id, config.client_secret),
        authorization_server(base_url),
    )
    config_entry_oauth2_flow.async_register_implementation(hass, DOMAIN, implementation)
    query = {"response_type": "code", "client_id": config.client_id, "state": "bench"}
    url = URL(implementation.authorize_url).with_query({**query, "redirect_uri": REDIRECT_URI})
    async with async_get_clientsession(hass).get(url, allow_redirects=False) as answer:
        code = URL(answer.headers["Location"]).query["code"]
    token = await implementation.async_resolve_external_data(
        {"code": code, "state": {"redirect_uri": REDIRECT_URI}}
    )
    token["expires_at"] = time.time() + int(token["expires_in"])
    plan = scenario.plan
    return MockConfigEntry(
        domain=DOMAIN,
        title="Enlighten v4",
        unique_id=f"enlighten_v4_{token['enl_uid']}",
        data={
            CONF_VENDOR: Vendor.ENLIGHTEN,
            CONF_API_VERSION: "v4",
            CONF_API_KEY: config.v4_api_key,
            CONF_BASE_URL: base_url,
            CONF_PLAN: plan.name,
            CONF_SYSTEMS: [spec.system_id for spec in scenario.systems],
            "auth_implementation": AUTH_DOMAIN,
            "token": token,
        },
    )


async def run_in_home_assistant(scenario: Scenario, days: float) -> RunResult:
    """One scenario (v2 or v4) through the integration in Home Assistant."""
    wall = time.perf_counter()
    result = bench_enlighten.RunResult(scenario, days, where="in HA")
    start = bench_enlighten.START
    sim = WatchedSimulator(scenario.simulator_config(), SimClock.fixed(start))
    log = RefreshLog()
    with SimulatorThread(sim, start, "enlighten-simulator") as thread:
        async with bench_home_assistant(log) as hass:
            clock = VirtualClock(hass.loop)
            try:
                with simulated_wall_clock(clock, start), simulated_client_clock(clock, start):
                    recorder_helper.async_initialize_recorder(hass)
                    if not await async_setup_component(
                        hass, RECORDER_DOMAIN, {RECORDER_DOMAIN: {}}
                    ):
                        raise RuntimeError("the recorder did not start")
                    await async_wait_recording_done(hass)
                    simulation = RecordedSimulation(hass, clock, [thread], log)
                    result.planner_month_max = await _run(hass, simulation, scenario, sim, days)
                    await _collect(hass, sim, scenario, days, result)
            finally:
                clock.restore()
    result.wall_seconds = time.perf_counter() - wall
    return result


async def _run(
    hass: HomeAssistant,
    simulation: Simulation,
    scenario: Scenario,
    sim: EnlightenSimulator,
    days: float,
) -> int:
    """Set up, restart five times, run to the end, unload; the ledger's count at the end."""
    entry = await v4_entry(hass, scenario, sim) if scenario.api == "v4" else v2_entry(scenario, sim)
    entry.add_to_hass(hass)
    simulation.sync()
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    if entry.state is not ConfigEntryState.LOADED:
        raise RuntimeError(f"Enlighten setup failed ({entry.state})")
    start = bench_enlighten.START
    end = start + timedelta(days=days)
    spent = 0
    for at, down in bench_enlighten.restarts(days):
        await simulation.run_for((at - _now(simulation, start)).total_seconds())
        spent = max(spent, _ledger_count(hass, sim))
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        await simulation.run_for(down.total_seconds())
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        if entry.state is not ConfigEntryState.LOADED:
            raise RuntimeError(f"Enlighten did not come back after the restart ({entry.state})")
    # Up to a second before the end: the ledger still holds the run's month.
    await simulation.run_for(max(0.0, (end - _now(simulation, start)).total_seconds() - 1))
    spent = max(spent, _ledger_count(hass, sim))
    await simulation.run_for(1)
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    return spent


def _ledger_count(hass: HomeAssistant, sim: EnlightenSimulator) -> int:
    """What the key's ledger counts this month."""
    config = sim.config
    account = existing_account(hass, config.api_key) or existing_account(hass, config.v4_api_key)
    assert account is not None
    return account.planner.ledger.month_count


def _now(simulation: Simulation, start: datetime) -> datetime:
    return start + timedelta(seconds=simulation.clock.elapsed)


async def _collect(
    hass: HomeAssistant,
    sim: WatchedSimulator,
    scenario: Scenario,
    days: float,
    result: RunResult,
) -> None:
    """Counters, data ages and the stored statistics against the truth."""
    end = bench_enlighten.START + timedelta(days=days)
    usage = sim.usage(sim.config.v4_api_key if scenario.api == "v4" else None)
    # What the timers due at the very end sent (the next month's first requests) is not counted.
    result.per_minute = Counter({m: n for m, n in usage.per_minute.items() if m < end.timestamp()})
    result.requests = sum(result.per_minute.values())
    result.rejected = sum(
        1 for at, _, status in sim.answered if status in (409, 429) and at < end.timestamp()
    )
    result.rejected_busy = usage.rejected_busy
    result.per_minute_peak = max(result.per_minute.values(), default=0)
    for minute, count in result.per_minute.items():
        result.per_day[datetime.fromtimestamp(minute, UTC).date()] += count
    for at, system_id in sim.summaries:
        if at >= end.timestamp():
            continue
        system = sim.system(system_id)
        report = system.last_report(at)
        if system.silent(at) or report is None:
            continue
        visible = system.visible_until(at)
        interval = system.last_interval_end(visible)
        result.polls[system_id].append(
            bench_enlighten.Poll(
                at=datetime.fromtimestamp(at, UTC),
                upload_age=(at - report) / 60,
                interval_age=None if interval is None else (at - interval) / 60,
                producing=system.current_power(visible) > 0,
            )
        )
    await async_wait_recording_done(hass)
    recorder = get_instance(hass)
    ids = await recorder.async_add_executor_job(list_statistic_ids, hass, None, "sum")
    for spec in scenario.systems:
        prefix = f"{DOMAIN}:enlighten_{spec.system_id}_solar"
        statistic_ids = [i["statistic_id"] for i in ids if i["statistic_id"].startswith(prefix)]
        if len(statistic_ids) != 1:
            result.off_examples.append(f"{spec.system_id}: solar statistics {statistic_ids}")
            continue
        (statistic_id,) = statistic_ids
        rows = await recorder.async_add_executor_job(
            statistics_during_period,
            hass,
            datetime(2000, 1, 1, tzinfo=UTC),
            None,
            {statistic_id},
            "hour",
            None,
            {"sum"},
        )
        sums = {
            dt_util.utc_from_timestamp(r["start"]): (r["sum"] or 0.0) * 1000
            for r in rows.get(statistic_id, [])
        }
        source: TruthSource = "meter" if spec.meter_days is not None else "micro"
        _compare(sim, spec.system_id, source=source, sums=sums, end=end, result=result)


def _compare(
    sim: EnlightenSimulator,
    system_id: int,
    *,
    source: TruthSource,
    sums: dict[datetime, float],
    end: datetime,
    result: RunResult,
) -> None:
    """Each stored hour's change (Wh) against the truth, from the backfill start to the horizon."""
    system = sim.system(system_id)
    first = backfill_start(bench_enlighten.START, system.tz, bench_enlighten.HISTORY_DAYS)
    visible = system.visible_until((end - timedelta(days=1)).timestamp())
    if visible is None:
        return
    horizon = datetime.fromtimestamp(visible - visible % 3600, UTC)
    truth = sim.truth_hourly(system_id, first, horizon, source)
    changes: dict[datetime, float] = {}
    hour = first + timedelta(hours=1)
    while hour < horizon:
        previous = hour - timedelta(hours=1)
        if hour in sums and previous in sums:
            changes[hour] = sums[hour] - sums[previous]
        hour += timedelta(hours=1)
    hours: defaultdict[datetime, None] = defaultdict(lambda: None)
    for moment in (*truth, *changes):
        if first < moment < horizon:
            hours[moment] = None
    for moment in sorted(hours):
        result.hours_compared += 1
        got, want = changes.get(moment), truth.get(moment, 0)
        if got is None or abs(got - want) > 1:
            result.hours_off += 1
            if len(result.off_examples) < 5:
                shown = "missing" if got is None else f"{got:.0f} Wh"
                result.off_examples.append(
                    f"{system_id} {moment:%m-%d %H:00}: {shown}, truth {want}"
                )
