"""Enlighten v4 faults end to end: telemetry gaps, a site whose battery disappears.

Site 1002 ("Weinberg") has production and consumption meters and a 10 kWh battery; its built-in
comm outage (26 h to 30 h after start) is replaced by the one each test sets.
"""

from __future__ import annotations

from datetime import datetime, timedelta
import itertools
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest

from custom_components.solarhub.statistics import Series
from custom_components.solarhub.vendors.enlighten.coordinator import RECENT_READING
from tests.simulators.enlighten import EnlightenSimulator
from tests.test_statistics import stored_sums
from tests.vendors.conftest import setup_entry
from tests.vendors.helpers import state_of

from .conftest import advance
from .test_v4 import TRUTH, tokens, v4_entry  # noqa: F401 (tokens: the fixture)

SITE = 1002
FLOWS = ("consumption_power", "grid_import_power", "grid_export_power")
BATTERY = ("battery_power", "battery_capacity", "battery_soc")

pytestmark = pytest.mark.usefixtures("tokens")


def _statistic(series: Series) -> str:
    return f"solarhub:enlighten_{SITE}_{series}"


async def _increments(
    hass: HomeAssistant, simulator: EnlightenSimulator, series: Series
) -> dict[datetime, float]:
    """Each stored hour's energy (Wh) since the hourly backfill began (its first sum is the past).

    An hour's energy is its sum minus the previous hour's; the first hour is left out.
    """
    first = simulator.start_time - timedelta(days=8)
    stored = await stored_sums(hass, _statistic(series), first)
    hours = sorted(stored)
    return {hour: (stored[hour] - stored[prev]) * 1000 for prev, hour in itertools.pairwise(hours)}


def _assert_truth(
    simulator: EnlightenSimulator, series: Series, increments: dict[datetime, float]
) -> None:
    """Every stored hour equals the simulator's (≤ 1 Wh), and no hour is missing in between."""
    assert increments, series
    hours = sorted(increments)
    truth = simulator.truth_hourly(
        SITE, hours[0] - timedelta(hours=1), hours[-1] + timedelta(hours=1), TRUTH[series]
    )
    for hour in hours:
        assert increments[hour] == pytest.approx(truth.get(hour, 0), abs=1), (series, hour)
    assert len(hours) == (hours[-1] - hours[0]) / timedelta(hours=1) + 1, series  # no hole


async def test_a_telemetry_gap_is_filled_when_the_backlog_arrives(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    enlighten.set_comm_outage(SITE, enlighten.start_time, enlighten.start_time)  # none built in
    entry = v4_entry(enlighten, [SITE])
    await setup_entry(hass, entry)
    await advance(hass, enlighten, freezer, 30 * 60)
    lifetime = state_of(hass, "sensor", f"enlighten_system_{SITE}_lifetime_energy")
    before = {key: state_of(hass, "sensor", f"enlighten_system_{SITE}_{key}") for key in FLOWS}
    assert "unavailable" not in before.values()

    # The Envoy does not report for six hours (12:30 to 18:30 local); then it uploads the backlog.
    outage_start = dt_util.utcnow()
    outage_end = outage_start + timedelta(hours=6)
    enlighten.set_comm_outage(SITE, outage_start, outage_end)
    await advance(hass, enlighten, freezer, 5 * 3600, step=300)
    boundary = outage_start - timedelta(hours=1)  # the last hour that can be whole before it
    for series in TRUTH:
        increments = await _increments(hass, enlighten, series)
        # Nothing of the gap is written (as 0 Wh or in part) before its data is uploaded.
        assert max(increments) <= boundary, series
        _assert_truth(enlighten, series, increments)
    # The lifetime total stays; a flow's power from a quarter hours old is not shown as current,
    # and the power of a silent Envoy is unknown, not a stale figure.
    assert state_of(hass, "sensor", f"enlighten_system_{SITE}_lifetime_energy") == lifetime
    for key in before:
        assert state_of(hass, "sensor", f"enlighten_system_{SITE}_{key}") == "unavailable", key
    assert state_of(hass, "sensor", f"enlighten_system_{SITE}_power") == "unavailable"

    # The backlog arrives; by the next morning every series holds the gap's hours, once each.
    await advance(hass, enlighten, freezer, 15 * 3600, step=600)
    last_whole = outage_end  # the once-a-day import after sunset reaches past the gap
    for series in TRUTH:
        increments = await _increments(hass, enlighten, series)
        assert max(increments) >= last_whole, series
        _assert_truth(enlighten, series, increments)
    assert float(state_of(hass, "sensor", f"enlighten_system_{SITE}_lifetime_energy")) > float(
        lifetime
    )
    assert state_of(hass, "sensor", f"enlighten_system_{SITE}_power") != "unavailable"
    data = entry.runtime_data.systems[SITE].data  # type: ignore[attr-defined]
    for key in FLOWS:  # shown while the newest quarter is recent, after a statistics request
        shown = state_of(hass, "sensor", f"enlighten_system_{SITE}_{key}") != "unavailable"
        assert shown == (data.at - data.latest[key].at <= RECENT_READING), key
    usage = enlighten.usage(enlighten.config.v4_api_key)
    assert usage.rejected_limit == 0
    assert entry.state is ConfigEntryState.LOADED


async def test_a_battery_that_disappears(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    enlighten.set_comm_outage(SITE, enlighten.start_time, enlighten.start_time)  # none built in
    entry = v4_entry(enlighten, [SITE])
    await setup_entry(hass, entry)
    await advance(hass, enlighten, freezer, 30 * 60)
    for key in BATTERY:
        assert state_of(hass, "sensor", f"enlighten_system_{SITE}_{key}") != "unavailable", key
    removed_at = dt_util.utcnow()
    enlighten.remove_battery(SITE)
    caplog.set_level(logging.WARNING)
    caplog.clear()
    battery = "statistics:telemetry/battery"
    grid = "statistics:energy_import_telemetry"
    spent: dict[str, int] = {}

    # Each day within the planner's share of it (no storm); on day 1 the battery entities are
    # unavailable, on day 7 the weekly device re-read finds the battery gone.
    for day in range(8):
        planner = entry.runtime_data.account.planner  # a reload brings a new account
        sent = planner.ledger.month_count
        share = planner.allocation(dt_util.utcnow())[SITE].daily
        await advance(hass, enlighten, freezer, 86400, step=900)
        count = entry.runtime_data.account.planner.ledger.month_count - sent
        assert count <= share + 2, (day, count, share)
        if day == 0:
            for key in BATTERY:
                state = state_of(hass, "sensor", f"enlighten_system_{SITE}_{key}")
                assert state == "unavailable", key
            spent = dict(planner.ledger.by_kind)

    assert entry.state is ConfigEntryState.LOADED
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # The battery's entities are gone with it (the entry reloaded), the others go on.
    keys = {
        e.unique_id for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    }
    for key in BATTERY:
        assert f"enlighten_system_{SITE}_{key}" not in keys, key
    for key in (*FLOWS, "power"):  # they exist still (whether shown depends on the hour)
        assert f"enlighten_system_{SITE}_{key}" in keys, key
    # Battery statistics end where the battery did, without zeros written for it afterwards.
    for series in (Series.BATTERY_CHARGE, Series.BATTERY_DISCHARGE):
        increments = await _increments(hass, enlighten, series)
        assert max(increments) < removed_at, series
        _assert_truth(enlighten, series, increments)
    # The other series go on and equal the truth.
    for series in (Series.SOLAR, Series.CONSUMPTION, Series.GRID_IMPORT, Series.GRID_EXPORT):
        increments = await _increments(hass, enlighten, series)
        assert max(increments) >= dt_util.utcnow() - timedelta(hours=20), series
        _assert_truth(enlighten, series, increments)
    usage = enlighten.usage(enlighten.config.v4_api_key)
    assert usage.rejected_limit == 0
    assert usage.max_per_minute <= 9
    # Until the re-read the battery asks no more than any other series; after it, nothing.
    runtime = entry.runtime_data
    assert sorted(runtime.systems[SITE].importers) == [
        "consumption_meter",
        "energy_export_telemetry",
        "energy_import_telemetry",
        "production_meter",
    ]
    after = runtime.account.planner.ledger.by_kind
    assert after[battery] - spent[battery] <= after[grid] - spent[grid]
