"""Enlighten statistics against the simulator's truth: first run, outages, restarts, v2 to v4."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
import itertools
import json
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.solarhub.vendors.enlighten.scheduler import key_hash
from tests.simulators.enlighten import EnlightenSimulator
from tests.test_statistics import stored_sums
from tests.vendors.conftest import setup_entry

from .conftest import advance, v2_entry

STATISTIC = "solarhub:enlighten_1001_solar_energy"
BERLIN = ZoneInfo("Europe/Berlin")


def _week_start(now: datetime) -> datetime:
    """The first run's hourly window: the system's midnight seven days back."""
    midnight = datetime.combine(now.astimezone(BERLIN).date(), time(), tzinfo=BERLIN)
    return (midnight - timedelta(days=7)).astimezone(UTC)


def _assert_truth(
    simulator: EnlightenSimulator, stored: dict[datetime, float], first: datetime, until: datetime
) -> int:
    """Every stored hour from ``first`` to ``until`` equals the truth (1 Wh); returns the count."""
    truth = simulator.truth_hourly(1001, first - timedelta(seconds=1), until)
    base = stored[first] - truth.get(first, 0) / 1000
    running = base
    hour, checked = first, 0
    while hour < until:
        running += truth.get(hour, 0) / 1000
        assert hour in stored, hour
        assert stored[hour] == pytest.approx(running, abs=0.001), hour
        hour += timedelta(hours=1)
        checked += 1
    return checked


async def test_first_run_imports_history_and_the_week(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    enlighten_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, enlighten_entry)
    await advance(hass, enlighten, freezer, 3 * 3600)
    now = dt_util.utcnow()
    first = _week_start(now)
    stored = await stored_sums(hass, STATISTIC, first - timedelta(days=600))
    until = max(stored) + timedelta(hours=1)
    assert until >= now - timedelta(hours=2)  # the planner imports about hourly by day
    assert _assert_truth(enlighten, stored, first, until) >= 7 * 24
    # The days before the week: one value per day, in total the lifetime before the window.
    before = sorted(h for h in stored if h < first)
    assert len(before) > 500
    lifetime_before = sum(enlighten.truth_day(1001, d.astimezone(BERLIN).date()) for d in before)
    assert stored[before[-1]] == pytest.approx(lifetime_before / 1000, abs=0.001)
    usage = enlighten.usage()
    assert usage.max_per_minute <= 9  # never above the minute cap
    assert usage.rejected_limit == 0
    assert usage.rejected_busy == 0


async def test_a_twelve_hour_outage_is_backfilled_without_loss_or_doubling(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    enlighten_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, enlighten_entry)
    await advance(hass, enlighten, freezer, 3600)
    spent = enlighten.usage().total
    await hass.config_entries.async_unload(enlighten_entry.entry_id)  # Home Assistant is down ...
    enlighten.clock.advance(12 * 3600)
    freezer.tick(timedelta(hours=12))
    await hass.config_entries.async_setup(enlighten_entry.entry_id)  # ... and back 12 hours later
    await hass.async_block_till_done()
    await advance(hass, enlighten, freezer, 9 * 3600, step=300)  # into the next morning
    now = dt_util.utcnow()
    first = _week_start(now - timedelta(hours=22))
    stored = await stored_sums(hass, STATISTIC, first)
    until = max(stored) + timedelta(hours=1)
    assert until >= now - timedelta(hours=3)
    assert _assert_truth(enlighten, stored, first, until) >= 7 * 24 + 20
    usage = enlighten.usage()
    assert usage.rejected_limit == 0
    assert usage.max_per_minute <= 9
    assert usage.total > spent


async def test_a_restart_costs_no_extra_request(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    enlighten: EnlightenSimulator,
    enlighten_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, enlighten_entry)
    await advance(hass, enlighten, freezer, 120)
    account = enlighten_entry.runtime_data.account  # type: ignore[attr-defined]
    spent = account.planner.ledger.month_count
    assert spent == enlighten.usage().total  # the ledger counts every request sent
    await hass.config_entries.async_reload(enlighten_entry.entry_id)
    await hass.async_block_till_done()
    # Systems, devices and the last summary's timing came from the store: nothing asked again.
    assert enlighten.usage().total == spent
    account = enlighten_entry.runtime_data.account  # type: ignore[attr-defined]
    assert account.planner.ledger.month_count == spent  # the ledger survived the reload
    # Stored under a hash of the key, never the key itself.
    assert f"solarhub.enlighten_{key_hash(enlighten.config.api_key)}" in hass_storage
    assert not [name for name in hass_storage if enlighten.config.api_key in name]
    # The key lives in the config entry only, never in SolarHub's own stores.
    ours = {name: data for name, data in hass_storage.items() if name.startswith("solarhub")}
    assert enlighten.config.api_key not in json.dumps(ours, default=str)


async def test_asking_past_the_last_interval_is_nothing_newer(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    enlighten_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, enlighten_entry)
    coordinator = enlighten_entry.runtime_data.systems[1001]  # type: ignore[attr-defined]
    _, history = coordinator.importers["stats"]
    now = dt_util.utcnow()
    rows = await history.async_fetch(now + timedelta(minutes=1), now + timedelta(hours=1))
    assert list(rows) == []  # Enphase's 422: nothing newer, no error
    assert history.failure is None


async def test_three_systems_on_one_key_and_the_meter(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = v2_entry(enlighten, [1001, 1002, 1003])
    await setup_entry(hass, entry)
    # The backfill of three systems takes one request per action, spread within the budget.
    await advance(hass, enlighten, freezer, 12 * 3600, step=600)
    runtime = entry.runtime_data
    assert sorted(runtime.systems[1002].importers) == ["rgm_stats"]  # type: ignore[attr-defined]
    stored = await stored_sums(
        hass, "solarhub:enlighten_1002_solar_energy", dt_util.utcnow() - timedelta(days=8)
    )
    hours = sorted(stored)
    assert len(hours) >= 7 * 24
    truth = enlighten.truth_hourly(
        1002, hours[0] - timedelta(hours=1), hours[-1] + timedelta(hours=1), "meter"
    )
    for previous, hour in itertools.pairwise(hours):
        assert stored[hour] - stored[previous] == pytest.approx(
            truth.get(hour, 0) / 1000, abs=0.001
        ), hour
    usage = enlighten.usage()
    assert usage.rejected_limit == 0
    assert usage.max_per_minute <= 9


async def test_meter_quarters_not_uploaded_yet_are_not_zeros(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The meter's data lags the summary: its missing quarters wait, they are never 0 Wh."""
    entry = v2_entry(enlighten, [1002])
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.systems[1002]  # type: ignore[attr-defined]
    _, history = coordinator.importers["rgm_stats"]
    source = history.source
    lag = {"on": True}

    async def lagging(start: datetime, end: datetime) -> list[Any]:
        rows = list(await source.intervals(start, end))
        if not lag["on"]:
            return rows
        horizon = dt_util.utcnow() - timedelta(hours=3)
        return [row for row in rows if row.end_at <= horizon]

    history.source = replace(source, intervals=lagging)
    await advance(hass, enlighten, freezer, 2 * 3600, step=300)
    lag["on"] = False
    await advance(hass, enlighten, freezer, 6 * 3600, step=300)
    stored = await stored_sums(
        hass, "solarhub:enlighten_1002_solar_energy", dt_util.utcnow() - timedelta(days=8)
    )
    hours = sorted(stored)
    assert hours[-1] >= dt_util.utcnow() - timedelta(hours=3)
    truth = enlighten.truth_hourly(
        1002, hours[0] - timedelta(hours=1), hours[-1] + timedelta(hours=1), "meter"
    )
    for previous, hour in itertools.pairwise(hours):
        assert stored[hour] - stored[previous] == pytest.approx(
            truth.get(hour, 0) / 1000, abs=0.001
        ), hour
