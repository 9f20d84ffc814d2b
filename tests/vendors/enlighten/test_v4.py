"""Enlighten v4 against the simulator: site flows, battery, their statistics, v2 to v4 continuity.

The OAuth2 flow is another module's; here the token getter is the simulator's token endpoint
driven like Home Assistant's ``OAuth2Session`` would (see ``tests/api/enlighten``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
import itertools
from unittest.mock import AsyncMock, patch

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.solarhub.const import (
    CONF_API_VERSION,
    CONF_BASE_URL,
    CONF_SYSTEMS,
    CONF_VENDOR,
    DOMAIN,
    Vendor,
)
from custom_components.solarhub.statistics import Series
from custom_components.solarhub.vendors.enlighten.options import CONF_PLAN
from tests.api.enlighten.test_client_v4_simulator import Tokens
from tests.simulators.enlighten import EnlightenSimulator, TruthSource
from tests.test_statistics import stored_sums
from tests.vendors.conftest import setup_entry
from tests.vendors.helpers import state_of

from .conftest import advance, v2_entry

TRUTH: dict[Series, TruthSource] = {
    Series.SOLAR: "meter",
    Series.CONSUMPTION: "consumption",
    Series.GRID_IMPORT: "imported",
    Series.GRID_EXPORT: "exported",
    Series.BATTERY_CHARGE: "charge",
    Series.BATTERY_DISCHARGE: "discharge",
}


def v4_entry(simulator: EnlightenSimulator, systems: list[int]) -> MockConfigEntry:
    """A v4 entry (the OAuth2 token lives elsewhere) for the simulated app."""
    return MockConfigEntry(
        domain=DOMAIN,
        entry_id="01JENLIGHTENV4ENTRY0000000",
        title="Enlighten v4",
        unique_id=f"enlighten_v4_{simulator.config.enl_uid}",
        data={
            CONF_VENDOR: Vendor.ENLIGHTEN,
            CONF_API_VERSION: "v4",
            CONF_API_KEY: simulator.config.v4_api_key,
            CONF_BASE_URL: f"{simulator.url}/api/v4",
            CONF_PLAN: "watt",
            CONF_SYSTEMS: systems,
        },
    )


@pytest.fixture
async def tokens(enlighten: EnlightenSimulator, http: aiohttp.ClientSession) -> Iterator[Tokens]:
    """The simulator's OAuth2 tokens, handed to the runtime through its token seam."""
    source = Tokens(http, enlighten)
    await source.login()
    with patch(
        "custom_components.solarhub.vendors.enlighten.runtime.async_token_getter",
        AsyncMock(return_value=source),
    ):
        yield source


async def test_v4_site_with_meters_and_battery(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    tokens: Tokens,
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = v4_entry(enlighten, [1002])
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    await advance(hass, enlighten, freezer, 30 * 60)
    for key in ("consumption_power", "grid_import_power", "grid_export_power", "battery_soc"):
        assert state_of(hass, "sensor", f"enlighten_system_1002_{key}") not in ("unavailable",)
    assert float(state_of(hass, "sensor", "enlighten_system_1002_battery_capacity")) == 10.08  # kWh
    now = dt_util.utcnow()
    first = now - timedelta(days=8)
    for series, source in TRUTH.items():
        statistic = f"solarhub:enlighten_1002_{series}"
        stored = await stored_sums(hass, statistic, first)
        assert stored, series
        hours = sorted(stored)
        truth = enlighten.truth_hourly(
            1002, hours[0] - timedelta(hours=1), hours[-1] + timedelta(hours=1), source
        )
        # The first stored hour's sum holds the history before it: compare the increments.
        for previous, hour in itertools.pairwise(hours):
            increment = stored[hour] - stored[previous]
            assert increment == pytest.approx(truth.get(hour, 0) / 1000, abs=0.001), (series, hour)
        assert len(hours) >= 7 * 24
    usage = enlighten.usage(enlighten.config.v4_api_key)
    assert usage.rejected_limit == 0
    assert usage.max_per_minute <= 9
    # Charge and discharge share one battery request, as often as any other series.
    spent = entry.runtime_data.account.planner.ledger.by_kind  # type: ignore[attr-defined]
    assert spent["statistics:telemetry/battery"] == spent["statistics:energy_import_telemetry"]


async def test_v4_site_without_meters_offers_no_flows(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    tokens: Tokens,
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = v4_entry(enlighten, [1001])
    await setup_entry(hass, entry)
    await advance(hass, enlighten, freezer, 10 * 60)
    keys = {
        e.unique_id for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    }
    assert "enlighten_system_1001_power" in keys
    for key in ("consumption_power", "grid_import_power", "battery_soc", "battery_power"):
        assert f"enlighten_system_1001_{key}" not in keys
    runtime = entry.runtime_data
    assert sorted(runtime.systems[1001].importers) == ["production_micro"]  # type: ignore[attr-defined]
    endpoints = {k.split(":")[-1] for k in runtime.account.planner.ledger.by_kind}  # type: ignore[attr-defined]
    assert not endpoints & {"consumption_meter", "energy_import_telemetry", "telemetry/battery"}


async def test_a_move_from_v2_to_v4_continues_the_series(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    tokens: Tokens,
    freezer: FrozenDateTimeFactory,
) -> None:
    old = v2_entry(enlighten, [1001])
    await setup_entry(hass, old)
    await advance(hass, enlighten, freezer, 2 * 3600, step=300)
    await hass.config_entries.async_remove(old.entry_id)
    await hass.async_block_till_done()
    new = v4_entry(enlighten, [1001])
    await setup_entry(hass, new)
    await advance(hass, enlighten, freezer, 12 * 3600, step=600)
    stored = await stored_sums(
        hass, "solarhub:enlighten_1001_solar_energy", dt_util.utcnow() - timedelta(days=9)
    )
    hours = sorted(stored)
    truth = enlighten.truth_hourly(
        1001, hours[0] - timedelta(hours=1), hours[-1] + timedelta(hours=1)
    )
    for previous, hour in itertools.pairwise(hours):
        increment = stored[hour] - stored[previous]
        assert increment == pytest.approx(truth.get(hour, 0) / 1000, abs=0.001), hour
    assert hours[-1] >= dt_util.utcnow() - timedelta(hours=14)  # v4 went on after v2


async def test_v4_429_is_read_as_the_month_when_the_minute_had_room(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    tokens: Tokens,
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = v4_entry(enlighten, [1001])
    await setup_entry(hass, entry)
    await advance(hass, enlighten, freezer, 20 * 60)
    usage = enlighten.usage(enlighten.config.v4_api_key)
    enlighten.config.v4_month_limit = usage.total  # 429 carries no period: Watt's month is spent
    await advance(hass, enlighten, freezer, 2 * 3600, step=300)
    assert usage.rejected_limit == 1
    status = entry.runtime_data.account.status()  # type: ignore[attr-defined]
    assert status.exhausted_until is not None
    issues = [key for (domain, key) in ir.async_get(hass).issues if domain == DOMAIN]
    assert [key.rsplit("_", 1)[0] for key in issues] == ["enlighten_budget_exhausted"]
    assert state_of(hass, "sensor", f"enlighten_account_{entry.entry_id}_budget_state") == (
        "exhausted"
    )
