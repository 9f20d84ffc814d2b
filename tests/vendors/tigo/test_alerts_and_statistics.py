"""Tigo alerts (problem sensor, events in Home Assistant's language), statistics, diagnostics."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
import json
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_ON, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.solarhub.const import DOMAIN
from custom_components.solarhub.diagnostics import async_get_config_entry_diagnostics
from custom_components.solarhub.vendors.tigo.coordinator import TigoLiveCoordinator
from custom_components.solarhub.vendors.tigo.history import hours_are_utc_hours
from custom_components.solarhub.vendors.tigo.runtime import TigoRuntime
from tests.constants import TIGO_LIVE_SECONDS as LIVE
from tests.simulators.tigo import OFFSET_SYSTEMS, TigoConfig, TigoSimulator
from tests.test_statistics import stored_sums
from tests.vendors.conftest import setup_entry
from tests.vendors.helpers import entity_id, tick

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
    stored = await stored_sums(hass, statistic_id, first)
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


# Zones whose local hours are not UTC hours; the clocks move on from the fixtures' June noon to
# a moment whose week of history holds the zone's DST change, where it has one.
OFFSET_CASES = [
    ("Asia/Kolkata", timedelta(0)),
    ("Asia/Kathmandu", timedelta(0)),
    # 2026-10-08 02:00 UTC, 12:30 local: on to +10:30 (a day of 23 hours) on 4 October.
    ("Australia/Adelaide", timedelta(days=108, hours=16)),
    # 2026-11-04 15:00 UTC, 11:30 local: back to -03:30 (a day of 25 hours) on 1 November.
    ("America/St_Johns", timedelta(days=136, hours=5)),
]


@pytest.mark.parametrize(
    ("tigo_config", "later"),
    [(TigoConfig(systems=(OFFSET_SYSTEMS[zone],)), later) for zone, later in OFFSET_CASES],
    ids=[zone for zone, _ in OFFSET_CASES],
)
async def test_statistics_where_local_hours_are_not_utc_hours(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    tigo: TigoSimulator,
    tigo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    later: timedelta,
) -> None:
    """Every stored UTC hour holds exactly that hour's energy, built from the cloud's minutes."""
    tigo.clock.advance(later.total_seconds())
    freezer.tick(later)
    await setup_entry(hass, tigo_entry)
    assert tigo_entry.state is ConfigEntryState.LOADED
    for _ in range(3):
        await tick(hass, tigo, LIVE, freezer)
    system = tigo.systems[0]
    assert _live(tigo_entry, system.system_id).last_update_success

    newest = tigo.newest_minute(system.system_id)
    assert newest is not None
    until = dt_util.as_utc(newest + timedelta(minutes=1)).replace(minute=0)
    first = datetime.combine(newest.date() - timedelta(days=7), time(), tzinfo=system.tz)
    assert (first.utcoffset() != newest.utcoffset()) is (later > timedelta(0))  # a DST change
    hour = dt_util.as_utc(first).replace(minute=0)  # its first minutes are the day before's
    stored = await stored_sums(hass, f"{DOMAIN}:tigo_{system.system_id}_solar_energy", hour)
    assert min(stored) == hour
    previous = 0.0
    checked = 0
    while hour + timedelta(hours=1) <= until:
        assert hour in stored, hour
        truth = tigo.energy_wh(system.system_id, max(hour, first), hour + timedelta(hours=1))
        # The cloud prints each minute's power to 0.01 W: at most 0.005 Wh off per hour.
        assert (stored[hour] - previous) * 1000 == pytest.approx(truth, abs=0.006), hour
        previous = stored[hour]
        hour += timedelta(hours=1)
        checked += 1
    assert checked >= 7 * 24
    assert max(stored) == hour - timedelta(hours=1)
    total = tigo.energy_wh(system.system_id, first, until)
    assert total > 1000  # the sun did shine
    assert previous * 1000 == pytest.approx(total, abs=0.5)  # nothing lost or doubled


@pytest.mark.parametrize(
    ("zone", "whole"),
    [
        ("Europe/Berlin", True),
        ("America/Los_Angeles", True),
        ("UTC", True),
        ("Asia/Kolkata", False),
        ("Asia/Kathmandu", False),
        ("Australia/Adelaide", False),
        ("America/St_Johns", False),
        ("Australia/Lord_Howe", False),  # +10:30, and +11:00 in summer: minutes all year
    ],
)
def test_which_zones_have_utc_hours(zone: str, whole: bool) -> None:
    """Hour-level data where local hours are UTC hours, else the minutes (always, for a zone)."""
    for month in (1, 7):
        assert hours_are_utc_hours(ZoneInfo(zone), datetime(2026, month, 1, tzinfo=UTC)) is whole


def _live(entry: MockConfigEntry, system_id: int) -> TigoLiveCoordinator:
    runtime = entry.runtime_data
    assert isinstance(runtime, TigoRuntime)
    return runtime.live[system_id]


async def test_a_failing_statistics_import_does_not_fail_the_live_poll(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    tigo: TigoSimulator,
    tigo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    home = tigo.systems[0]
    statistic_id = f"{DOMAIN}:tigo_{home.system_id}_solar_energy"
    tigo.fail_next("500", path="data/combined")
    await setup_entry(hass, tigo_entry)
    assert tigo_entry.state is ConfigEntryState.LOADED
    live = _live(tigo_entry, home.system_id)
    assert live.last_update_success
    assert live.data.reporting
    start = dt_util.utcnow() - timedelta(days=10)
    assert await stored_sums(hass, statistic_id, start) == {}

    await tick(hass, tigo, LIVE, freezer)  # the next poll imports what the failed one missed
    assert live.last_update_success
    stored = await stored_sums(hass, statistic_id, start)
    assert len(stored) >= 7 * 24


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
    before = await stored_sums(hass, statistic_id, start)
    for _ in range(2):  # reloads read where the series ends and import nothing again
        await hass.config_entries.async_reload(tigo_entry.entry_id)
        await hass.async_block_till_done()
    after = await stored_sums(hass, statistic_id, start)
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
