"""Enlighten faults mid-run and at setup: 409 minute and month, 503, errorCode 7, 5xx, malformed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.solarhub.const import DOMAIN
from custom_components.solarhub.vendors.enlighten.scheduler import KeyAccount
from tests.simulators.enlighten import EnlightenSimulator
from tests.vendors.conftest import setup_entry
from tests.vendors.helpers import state_of

from .conftest import advance

POWER = "enlighten_system_1001_power"


def _account(entry: MockConfigEntry) -> KeyAccount:
    account: KeyAccount = entry.runtime_data.account
    return account


async def _running(
    hass: HomeAssistant,
    simulator: EnlightenSimulator,
    entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> KeyAccount:
    await setup_entry(hass, entry)
    await advance(hass, simulator, freezer, 20 * 60)
    return _account(entry)


async def test_minute_409_mid_run_waits_exactly_until_period_end(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    enlighten_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    account = await _running(hass, enlighten, enlighten_entry, freezer)
    usage = enlighten.usage()
    enlighten.config.minute_limit = 0  # someone else spent this key's minute
    while usage.rejected_limit == 0:
        await advance(hass, enlighten, freezer, 30, step=30)
    refused_at = dt_util.utcnow()
    period_end = refused_at.replace(second=0, microsecond=0) + timedelta(minutes=1)
    assert account.planner.ledger.blocked_until == period_end
    enlighten.config.minute_limit = 10
    total = usage.total
    assert account.planner.next_action(dt_util.utcnow()).at >= period_end  # type: ignore[union-attr]
    await advance(hass, enlighten, freezer, 15 * 60, step=10)
    assert usage.rejected_limit == 1  # no storm
    assert usage.total > total  # polling resumed after period_end
    assert float(state_of(hass, "sensor", POWER)) > 0
    assert not ir.async_get(hass).issues  # a minute's throttle is no issue


async def test_month_409_raises_a_repair_issue_and_keeps_the_values(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    enlighten_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await _running(hass, enlighten, enlighten_entry, freezer)
    usage = enlighten.usage()
    power = state_of(hass, "sensor", POWER)
    enlighten.config.month_limit = usage.total  # the month is spent (elsewhere)
    await advance(hass, enlighten, freezer, 3600, step=60)
    assert usage.rejected_limit == 1
    issues = [i for (domain, _), i in ir.async_get(hass).issues.items() if domain == DOMAIN]
    assert [i.translation_key for i in issues] == ["enlighten_budget_exhausted"]
    month_end = datetime(2026, 7, 1, tzinfo=UTC)
    assert issues[0].translation_placeholders == {
        "resumes": dt_util.as_local(month_end).strftime("%Y-%m-%d %H:%M")
    }
    assert state_of(hass, "sensor", POWER) == power  # available, the last value
    assert (
        state_of(hass, "sensor", "enlighten_account_" + enlighten_entry.entry_id + "_budget_state")
        == "exhausted"
    )
    assert enlighten_entry.state is ConfigEntryState.LOADED
    assert not hass.config_entries.flow.async_progress()  # no reauth
    await advance(hass, enlighten, freezer, 6 * 3600, step=600)
    assert usage.rejected_limit == 1  # nothing asked until the month ends


async def test_month_409_at_setup_waits_without_asking(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    enlighten_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    enlighten.config.month_limit = 1
    await setup_entry(hass, enlighten_entry)
    usage = enlighten.usage()
    assert enlighten_entry.state is ConfigEntryState.SETUP_RETRY
    assert usage.rejected_limit == 1
    await advance(hass, enlighten, freezer, 2 * 3600, step=300)  # Home Assistant retries setup
    assert usage.rejected_limit == 1  # every retry knew the month was spent
    assert not hass.config_entries.flow.async_progress()


async def test_minute_409_at_setup_then_setup_after_the_minute(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    enlighten_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    enlighten.config.minute_limit = 2
    await setup_entry(hass, enlighten_entry)
    assert enlighten_entry.state is ConfigEntryState.SETUP_RETRY
    enlighten.config.minute_limit = 10
    await advance(hass, enlighten, freezer, 5 * 60, step=30)
    assert enlighten_entry.state is ConfigEntryState.LOADED
    assert enlighten.usage().rejected_limit == 1


async def test_503_is_not_retried_at_once(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    enlighten_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    account = await _running(hass, enlighten, enlighten_entry, freezer)
    enlighten.fail_next("503", path="summary")
    sent = account.planner.ledger.month_count
    while account.planner.ledger.month_count == sent:
        await advance(hass, enlighten, freezer, 60)
    failed_at = dt_util.utcnow()
    sent = account.planner.ledger.month_count
    await advance(hass, enlighten, freezer, 4 * 60)
    assert account.planner.ledger.month_count == sent  # the key pauses after a failure
    assert dt_util.utcnow() - failed_at >= timedelta(minutes=4)
    assert enlighten.usage().rejected_busy == 0
    await advance(hass, enlighten, freezer, 20 * 60)
    assert account.planner.ledger.month_count > sent


@pytest.mark.parametrize("fault", ["unavailable", "500", "502", "malformed"])
async def test_faults_keep_the_last_data_and_log_once(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    enlighten_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    await _running(hass, enlighten, enlighten_entry, freezer)
    lifetime = state_of(hass, "sensor", "enlighten_system_1001_lifetime_energy")
    enlighten.fail_next(fault, count=2, path="summary")
    caplog.set_level(logging.INFO)
    caplog.clear()
    await advance(hass, enlighten, freezer, 40 * 60)
    warnings = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and "request failed" in r.getMessage()
    ]
    assert len(warnings) == 1  # logged once
    assert "key=" not in caplog.text
    assert enlighten.config.api_key not in caplog.text
    assert enlighten.config.user_id not in caplog.text
    if fault == "malformed":
        assert "Enlighten" in warnings[0].getMessage()
    # Never a wrong value: the last good one until a good answer, then a fresh one.
    assert state_of(hass, "sensor", POWER) not in ("unavailable", "unknown")
    assert float(state_of(hass, "sensor", "enlighten_system_1001_lifetime_energy")) >= float(
        lifetime
    )
    await advance(hass, enlighten, freezer, 60 * 60, step=300)
    assert any("answers again" in r.getMessage() for r in caplog.records)
