"""Tigo alerts (problem sensor, events in Home Assistant's language), statistics, diagnostics."""

from __future__ import annotations

from datetime import datetime, time, timedelta
import json
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.const import STATE_ON, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.solarhub.const import DOMAIN
from custom_components.solarhub.diagnostics import async_get_config_entry_diagnostics
from tests.simulators.tigo import TigoConfig, TigoSimulator
from tests.vendors.conftest import setup_entry
from tests.vendors.helpers import entity_id, tick

LIVE = 300
ALERTS = 900


async def test_alerts_problem_sensor_and_event(
    hass: HomeAssistant,
    tigo: TigoSimulator,
    tigo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, tigo_entry)
    home = tigo.systems[0].system_id
    problem = entity_id(hass, "binary_sensor", f"tigo_system_{home}_alerts")
    event = entity_id(hass, "event", f"tigo_system_{home}_alert")
    assert hass.states.get(problem).state == "off"  # type: ignore[union-attr]
    assert hass.states.get(event).state == STATE_UNKNOWN  # type: ignore[union-attr]

    tigo.raise_alert(home, 106, message="String A")
    await tick(hass, tigo, ALERTS, freezer)
    state = hass.states.get(problem)
    assert state is not None
    assert state.state == STATE_ON
    assert [a["code"] for a in state.attributes["alerts"]] == [106]
    fired = hass.states.get(event)
    assert fired is not None
    assert fired.attributes["event_type"] == "string_shutdown"
    assert fired.attributes["message"] == "String A"
    fired_at = fired.state

    await tick(hass, tigo, ALERTS, freezer)
    assert hass.states.get(event).state == fired_at  # type: ignore[union-attr]  # once only


async def test_alert_titles_in_home_assistants_language(
    hass: HomeAssistant,
    tigo: TigoSimulator,
    tigo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await hass.config.async_update(language="de")
    await setup_entry(hass, tigo_entry)
    home = tigo.systems[0].system_id
    tigo.raise_alert(home, 300)
    await tick(hass, tigo, ALERTS, freezer)
    fired = hass.states.get(entity_id(hass, "event", f"tigo_system_{home}_alert"))
    assert fired is not None
    assert fired.attributes["event_type"] == "module_low_power"
    from tests.simulators.tigo import ALERT_CODES

    assert fired.attributes["title"] == ALERT_CODES[300][1]["DE"][0]


async def test_statistics_match_the_cloud_after_an_outage(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    tigo: TigoSimulator,
    tigo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, tigo_entry)
    home = tigo.systems[0]
    statistic_id = f"{DOMAIN}:tigo_{home.system_id}_solar_energy"
    await hass.config_entries.async_unload(tigo_entry.entry_id)  # Home Assistant is down ...
    tigo.clock.advance(5 * 3600)
    freezer.tick(timedelta(hours=5))
    await hass.config_entries.async_setup(tigo_entry.entry_id)  # ... and back five hours later
    await hass.async_block_till_done()
    for _ in range(3):
        await tick(hass, tigo, LIVE, freezer)

    newest = tigo.newest_minute(home.system_id)
    assert newest is not None
    complete_until = (newest + timedelta(minutes=1)).replace(minute=0, second=0, microsecond=0)
    # A week back from the system's own midnight (not Home Assistant's, which is elsewhere here).
    first = datetime.combine(newest.astimezone(home.tz).date(), time(), tzinfo=home.tz)
    first -= timedelta(days=7)
    stored = await _stored(hass, statistic_id, first)
    hour = dt_util.as_utc(first)
    expected_sum = 0.0
    checked = 0
    while hour + timedelta(hours=1) <= dt_util.as_utc(complete_until):
        expected_sum += tigo.hourly_energy_wh(home.system_id, hour) / 1000
        assert hour in stored, hour
        assert stored[hour] == pytest.approx(expected_sum, abs=1e-6), hour
        hour += timedelta(hours=1)
        checked += 1
    assert checked >= 7 * 24  # a week of history, the outage included
    assert min(stored) == dt_util.as_utc(first)  # from the system's midnight a week ago
    assert max(stored) == hour - timedelta(hours=1)  # nothing beyond what the cloud has complete


async def _stored(hass: HomeAssistant, statistic_id: str, start: datetime) -> dict[datetime, float]:
    """The running sum (kWh) stored at the end of each hour."""
    await async_wait_recording_done(hass)
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period, hass, start, None, {statistic_id}, "hour", None, {"sum"}
    )
    return {
        dt_util.utc_from_timestamp(r["start"]): r["sum"] or 0.0 for r in rows.get(statistic_id, [])
    }


async def test_statistics_are_never_written_twice(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    tigo: TigoSimulator,
    tigo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, tigo_entry)
    home = tigo.systems[0]
    statistic_id = f"{DOMAIN}:tigo_{home.system_id}_solar_energy"
    start = dt_util.utcnow() - timedelta(days=10)
    before = await _stored(hass, statistic_id, start)
    for _ in range(2):  # reloads read where the series ends and import nothing again
        await hass.config_entries.async_reload(tigo_entry.entry_id)
        await hass.async_block_till_done()
    after = await _stored(hass, statistic_id, start)
    assert after == before
    combined = sum(1 for key in tigo.requests if key.endswith("data/combined"))
    assert combined == 1


async def test_diagnostics_are_redacted(
    hass: HomeAssistant,
    tigo: TigoSimulator,
    tigo_config: TigoConfig,
    tigo_entry: MockConfigEntry,
) -> None:
    await setup_entry(hass, tigo_entry)
    # Called directly: the HTTP view's access token would predate the frozen clock.
    diagnostics: dict[str, Any] = await async_get_config_entry_diagnostics(hass, tigo_entry)
    text = json.dumps(diagnostics, default=str)
    home = tigo.systems[0]
    for secret in (
        tigo_config.username,
        tigo_config.password,
        home.panels[0].serial,
        home.gateways[0].serial,
    ):
        assert secret not in text
    system = diagnostics["vendor"]["systems"][str(home.system_id)]
    assert system["panels"] == home.panel_count
    assert system["system"]["latitude"] == "**REDACTED**"
    assert system["reporting"] is True
