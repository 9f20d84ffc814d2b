"""Every request of a key within its minute cap, the ledger = what Enphase counts, v4 spans.

The gate: whoever sends a request (the scheduler's action, the statistics importer's chunks and
daily history, a v4 token refresh) passes ``KeyAccount.async_gate`` first. The ledger counts
what the simulator counts: a request refused for a limit (409, 429) is free.
"""

from __future__ import annotations

from datetime import timedelta
import itertools
from unittest.mock import AsyncMock, patch

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.solarhub.vendors.enlighten.planner import RequestKind
from custom_components.solarhub.vendors.enlighten.scheduler import KeyAccount
from tests.api.enlighten.test_client_v4_simulator import Tokens
from tests.simulators.enlighten import EnlightenSimulator
from tests.test_statistics import stored_sums
from tests.vendors.conftest import setup_entry

from .conftest import advance
from .test_oauth import _expire, _signed_in_entry
from .test_v4 import v4_entry

SOLAR = "solarhub:enlighten_1001_solar_energy"


def _account(entry: MockConfigEntry) -> KeyAccount:
    account: KeyAccount = entry.runtime_data.account
    return account


async def _assert_solar_is_truth(
    hass: HomeAssistant, simulator: EnlightenSimulator, *, hours_at_least: int
) -> None:
    stored = await stored_sums(hass, SOLAR, dt_util.utcnow() - timedelta(days=9))
    hours = sorted(stored)
    assert len(hours) >= hours_at_least
    truth = simulator.truth_hourly(
        1001, hours[0] - timedelta(hours=1), hours[-1] + timedelta(hours=1)
    )
    for previous, hour in itertools.pairwise(hours):
        increment = stored[hour] - stored[previous]
        assert increment == pytest.approx(truth.get(hour, 0) / 1000, abs=0.001), hour


async def test_an_import_of_many_chunks_never_exceeds_the_minute(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    enlighten_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A statistics import sending a request per day-chunk never sends one past the cap."""
    await setup_entry(hass, enlighten_entry)
    await advance(hass, enlighten, freezer, 20 * 60)
    importer, _history = enlighten_entry.runtime_data.systems[1001].importers["stats"]
    freezer.tick(timedelta(days=12))  # twelve days pass before the scheduler's next wake-up
    enlighten.clock.advance(12 * 86_400)
    # Twelve days to catch up in one import: a stats request per day, more than the minute takes.
    await importer.async_import(dt_util.utcnow())
    usage = enlighten.usage()
    assert usage.rejected_limit == 0
    assert usage.max_per_minute <= 9
    await advance(hass, enlighten, freezer, 3 * 3600, step=60)
    assert usage.rejected_limit == 0
    assert usage.max_per_minute <= 9
    await _assert_solar_is_truth(hass, enlighten, hours_at_least=7 * 24)


async def test_requests_refused_for_a_limit_are_not_counted(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    enlighten_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, enlighten_entry)
    await advance(hass, enlighten, freezer, 20 * 60)
    account, usage = _account(enlighten_entry), enlighten.usage()
    assert account.planner.ledger.month_count == usage.total
    enlighten.config.minute_limit = 0  # someone else spends this key's minutes, for a while
    await advance(hass, enlighten, freezer, 30 * 60, step=20)
    assert usage.rejected_limit >= 3
    assert account.planner.ledger.month_count == usage.total  # 409s are free, as on Enphase
    enlighten.config.minute_limit = 10
    await advance(hass, enlighten, freezer, 3600, step=60)
    assert account.planner.ledger.month_count == usage.total


async def test_v4_micro_statistics_take_a_week_a_request(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    freezer: FrozenDateTimeFactory,
    http: aiohttp.ClientSession,
) -> None:
    """The first run's 7 hourly days of production_micro take one request (granularity week)."""
    tokens = Tokens(http, enlighten)
    await tokens.login()
    entry = v4_entry(enlighten, [1001])
    with patch(
        "custom_components.solarhub.vendors.enlighten.runtime.async_token_getter",
        AsyncMock(return_value=tokens),
    ):
        await setup_entry(hass, entry)
        await advance(hass, enlighten, freezer, 10 * 60)
    # The backfill's one request, and at most one more for the quarter-hours since.
    spent = _account(entry).planner.ledger.by_kind
    assert spent["statistics:telemetry/production_micro"] <= 2
    await _assert_solar_is_truth(hass, enlighten, hours_at_least=7 * 24)


async def test_v4_token_refreshes_are_in_the_ledger(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    http: aiohttp.ClientSession,
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = await _signed_in_entry(hass, enlighten, http)
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    await advance(hass, enlighten, freezer, 10 * 60)
    account = _account(entry)
    assert account.planner.ledger.by_kind.get(str(RequestKind.TOKEN), 0) == 0
    _expire(enlighten, freezer)
    await advance(hass, enlighten, freezer, 30 * 60)
    assert enlighten.oauth.refreshes >= 1
    assert account.planner.ledger.by_kind[str(RequestKind.TOKEN)] == enlighten.oauth.refreshes
    usage = enlighten.usage(enlighten.config.v4_api_key)
    assert usage.rejected_limit == 0
    # The simulator does not count token requests (for Enphase unconfirmed): the ledger holds
    # what it counted and the refreshes besides.
    assert account.planner.ledger.month_count == usage.total + enlighten.oauth.refreshes


async def test_a_token_refresh_waits_for_room_in_the_minute(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    http: aiohttp.ClientSession,
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = await _signed_in_entry(hass, enlighten, http)
    await setup_entry(hass, entry)
    await advance(hass, enlighten, freezer, 10 * 60)
    account = _account(entry)
    _expire(enlighten, freezer)
    now = dt_util.utcnow()
    for _ in range(account.planner.plan.minute_cap):  # the minute is full (another entry)
        account.planner.record_request(now, RequestKind.OTHER)
    await advance(hass, enlighten, freezer, 30, step=30)
    assert enlighten.oauth.refreshes == 0  # not sent into a full minute
    await advance(hass, enlighten, freezer, 10 * 60, step=30)
    assert enlighten.oauth.refreshes == 1
    assert enlighten.usage(enlighten.config.v4_api_key).max_per_minute <= 9
