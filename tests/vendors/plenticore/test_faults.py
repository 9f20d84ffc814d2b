"""Faults mid-run: restarts, 401, 503, timeouts, malformed answers, vanished ids."""

from __future__ import annotations

import logging

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.solarhub.vendors.plenticore import runtime as plenticore_runtime
from tests.simulators.plenticore import PlenticoreSimulator
from tests.vendors.conftest import setup_entry
from tests.vendors.helpers import state_of, tick

from .test_setup import PROCESS

DC_POWER = "devices:local_Dc_P"


async def test_inverter_restart_is_a_silent_relogin(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await setup_entry(hass, plenticore_entry)
    plenticore.restart()
    await tick(hass, plenticore, 10)
    assert state_of(hass, "sensor", DC_POWER) != STATE_UNAVAILABLE
    assert plenticore.logins == 2
    assert plenticore_entry.state is ConfigEntryState.LOADED
    assert "Error fetching" not in caplog.text


async def test_401_on_next_call_is_a_silent_relogin(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_entry: MockConfigEntry,
) -> None:
    await setup_entry(hass, plenticore_entry)
    plenticore.fail_next("401", path="/processdata")
    await tick(hass, plenticore, 10)
    assert state_of(hass, "sensor", DC_POWER) != STATE_UNAVAILABLE
    assert plenticore.logins == 2


@pytest.mark.parametrize("fault", ["503", "500", "timeout"])
async def test_transient_fault_makes_unavailable_once_and_recovers(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
) -> None:
    monkeypatch.setattr(plenticore_runtime, "REQUEST_TIMEOUT", 0.2)
    plenticore.config.hang_seconds = 1.0
    await setup_entry(hass, plenticore_entry)
    plenticore.fail_next(fault, count=2, path="/processdata")
    caplog.clear()
    with caplog.at_level(logging.INFO):
        await tick(hass, plenticore, 10)
        assert state_of(hass, "sensor", DC_POWER) == STATE_UNAVAILABLE
        await tick(hass, plenticore, 10)
        assert state_of(hass, "sensor", DC_POWER) == STATE_UNAVAILABLE
        await tick(hass, plenticore, 10)
        assert state_of(hass, "sensor", DC_POWER) != STATE_UNAVAILABLE
    failures = [r for r in caplog.records if "Error fetching" in r.getMessage()]
    assert len(failures) == 1  # logged once, not every cycle
    assert not any(r.exc_info for r in caplog.records if r.levelno >= logging.WARNING)
    assert any("recovered" in r.getMessage() for r in caplog.records)
    assert plenticore.logins == 1  # a transient fault is no reason to log in again


async def test_malformed_json_is_a_clear_update_failure(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await setup_entry(hass, plenticore_entry)
    plenticore.fail_next("malformed", path="/processdata")
    await tick(hass, plenticore, 10)
    assert state_of(hass, "sensor", DC_POWER) == STATE_UNAVAILABLE
    assert "could not be understood" in caplog.text or "malformed" in caplog.text.lower()
    assert not any(r.exc_info for r in caplog.records if r.levelno >= logging.WARNING)
    assert "Unexpected error" not in caplog.text
    await tick(hass, plenticore, 10)
    assert state_of(hass, "sensor", DC_POWER) != STATE_UNAVAILABLE


async def test_vanished_id_makes_only_that_entity_unavailable(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_entry: MockConfigEntry,
) -> None:
    await setup_entry(hass, plenticore_entry)
    before = plenticore.requests[PROCESS]
    plenticore.remove_process_data("devices:local:battery", "SoC")
    await tick(hass, plenticore, 10)
    assert state_of(hass, "sensor", "devices:local:battery_SoC") == STATE_UNAVAILABLE
    assert state_of(hass, "sensor", DC_POWER) != STATE_UNAVAILABLE
    await tick(hass, plenticore, 10)
    assert state_of(hass, "sensor", "devices:local:battery_SoC") == STATE_UNAVAILABLE
    # One failed request, one re-listing, then one request per cycle again.
    assert plenticore.requests[PROCESS] - before == 3


async def test_expired_credentials_mid_run_start_reauth(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_entry: MockConfigEntry,
) -> None:
    await setup_entry(hass, plenticore_entry)
    plenticore.config.password = "changed-in-the-web-ui"
    plenticore.restart()
    await tick(hass, plenticore, 10)
    flows = hass.config_entries.flow.async_progress()
    assert any(flow["context"]["source"] == "reauth" for flow in flows)


async def test_failed_first_poll_logs_out_and_retries(
    hass: HomeAssistant, plenticore: PlenticoreSimulator, plenticore_entry: MockConfigEntry
) -> None:
    plenticore.fail_next("503", path="/events/latest")  # the last of the first polls
    await setup_entry(hass, plenticore_entry)
    assert plenticore_entry.state is ConfigEntryState.SETUP_RETRY
    assert plenticore.requests["POST /api/v1/processdata"] == 1
    assert plenticore.active_sessions == 0  # no session left behind on the inverter


async def test_lock_during_a_silent_relogin_is_temporary(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Restart, then a lock at the re-login: unavailable, retried after the lock, no reauth."""
    await setup_entry(hass, plenticore_entry)
    plenticore.restart()
    plenticore.lock()  # for config.lock_seconds (600 s)
    caplog.clear()
    await tick(hass, plenticore, 10)
    assert state_of(hass, "sensor", DC_POWER) == STATE_UNAVAILABLE
    assert plenticore_entry.state is ConfigEntryState.LOADED
    assert not any(
        flow["context"]["source"] == "reauth" for flow in hass.config_entries.flow.async_progress()
    )
    locked = [r for r in caplog.records if "locked" in r.getMessage()]
    assert len(locked) == 1  # one line, no traceback
    assert not locked[0].exc_info
    starts = plenticore.requests["POST /api/v1/auth/start"]
    # The poll waits for the lock's time instead of its 10 s cadence: nothing is tried meanwhile.
    for _ in range(5):
        await tick(hass, plenticore, 10)
    assert plenticore.requests["POST /api/v1/auth/start"] - starts <= 1  # the settings' cadence
    # When the lock has expired, the stored credentials log in again and the poll recovers.
    await tick(hass, plenticore, 600)
    await tick(hass, plenticore, 10)
    assert state_of(hass, "sensor", DC_POWER) != STATE_UNAVAILABLE
    assert plenticore.logins == 2
    assert plenticore_entry.state is ConfigEntryState.LOADED
    assert not hass.config_entries.flow.async_progress()


async def test_second_401_after_a_relogin_is_retried_next_cycle(
    hass: HomeAssistant,
    plenticore: PlenticoreSimulator,
    plenticore_entry: MockConfigEntry,
) -> None:
    """The re-login succeeded, so the password is right: no reauth, the next cycle retries."""
    await setup_entry(hass, plenticore_entry)
    plenticore.fail_next("401", count=2, path="/processdata")
    await tick(hass, plenticore, 10)
    assert state_of(hass, "sensor", DC_POWER) == STATE_UNAVAILABLE
    assert not hass.config_entries.flow.async_progress()
    await tick(hass, plenticore, 10)
    assert state_of(hass, "sensor", DC_POWER) != STATE_UNAVAILABLE
    assert plenticore_entry.state is ConfigEntryState.LOADED
