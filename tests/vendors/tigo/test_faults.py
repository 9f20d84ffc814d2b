"""Tigo faults mid-run: a token refused twice after a successful re-login is no wrong password."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.simulators.tigo import TigoSimulator
from tests.vendors.conftest import setup_entry
from tests.vendors.helpers import state_of, tick

LIVE = 300  # the default live interval, seconds


def _reauth_started(hass: HomeAssistant) -> bool:
    return any(
        flow["context"]["source"] == "reauth" for flow in hass.config_entries.flow.async_progress()
    )


async def test_second_401_after_a_relogin_is_retried_next_cycle(
    hass: HomeAssistant,
    tigo: TigoSimulator,
    tigo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, tigo_entry)
    power = f"tigo_{tigo.systems[0].system_id}_system_power"
    logins = tigo.logins
    tigo.fail_next("401", count=2, path="data/summary")
    await tick(hass, tigo, LIVE, freezer)
    assert state_of(hass, "sensor", power) == STATE_UNAVAILABLE
    assert tigo.logins == logins + 1  # one silent re-login, which succeeded
    assert not _reauth_started(hass)
    await tick(hass, tigo, LIVE, freezer)
    assert state_of(hass, "sensor", power) != STATE_UNAVAILABLE
    assert tigo_entry.state is ConfigEntryState.LOADED


async def test_a_refused_fresh_login_starts_a_reauth(
    hass: HomeAssistant,
    tigo: TigoSimulator,
    tigo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, tigo_entry)
    tigo.config.password = "changed-on-the-web"
    tigo.fail_next("401", path="data/summary")  # the token is gone; the new login is refused
    await tick(hass, tigo, LIVE, freezer)
    assert _reauth_started(hass)
