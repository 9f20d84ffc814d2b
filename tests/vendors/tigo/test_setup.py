"""A Tigo account against the simulator: devices, panel values, requests per hour, night, faults."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.solarhub.const import DOMAIN
from tests.constants import TIGO_LIVE_SECONDS as LIVE
from tests.simulators.tigo import TigoConfig, TigoSimulator
from tests.vendors.conftest import setup_entry
from tests.vendors.helpers import entity_id, state_of, tick


def requests_of(tigo: TigoSimulator) -> Counter[str]:
    return Counter({path.removeprefix("GET /api/v3/"): n for path, n in tigo.requests.items()})


async def test_devices_and_panel_values(
    hass: HomeAssistant, tigo: TigoSimulator, tigo_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, tigo_entry)
    assert tigo_entry.state is ConfigEntryState.LOADED
    home = tigo.systems[0]
    devices = dr.async_get(hass)
    system = devices.async_get_device_by_identifier(
        (DOMAIN, f"tigo_system_{home.system_id}"), tigo_entry.entry_id
    )
    assert system is not None
    assert system.name == home.name
    panel = home.panels[0]
    panel_device = devices.async_get_device_by_identifier(
        (DOMAIN, f"tigo_panel_{panel.serial}"), tigo_entry.entry_id
    )
    assert panel_device is not None
    string_device = devices.async_get(panel_device.via_device_id or "")
    assert string_device is not None
    inverter_device = devices.async_get(string_device.via_device_id or "")
    assert inverter_device is not None
    assert inverter_device.via_device_id == system.id

    newest = tigo.newest_minute(home.system_id)
    for sim_panel in home.panels:
        shown = float(state_of(hass, "sensor", f"tigo_panel_{sim_panel.serial}_power"))
        truth = tigo.panel_power(home.system_id, sim_panel.object_id, newest)
        assert shown == pytest.approx(truth, abs=0.051), sim_panel.label  # shown to 0.1 W
    assert float(state_of(hass, "sensor", f"tigo_system_{home.system_id}_system_power")) > 0

    registry = er.async_get(hass)
    panel_entities = [
        e for e in registry.entities.values() if e.unique_id.startswith("tigo_panel_")
    ]
    assert len(panel_entities) == home.panel_count  # power only, by default
    lifetime = hass.states.get(entity_id(hass, "sensor", "lifetime_energy"))
    assert lifetime is not None
    assert lifetime.attributes["state_class"] == "total_increasing"
    day = hass.states.get(entity_id(hass, "sensor", "day_energy"))
    assert day is not None
    assert "state_class" not in day.attributes


async def test_requests_per_cycle_do_not_grow_with_panels(
    hass: HomeAssistant,
    tigo: TigoSimulator,
    tigo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    farm = tigo.systems[2]  # 500 panels
    tigo_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        tigo_entry, data={**tigo_entry.data, "systems": [farm.system_id]}
    )
    await setup_entry(hass, tigo_entry)
    before = requests_of(tigo)
    await tick(hass, tigo, LIVE, freezer)
    made = requests_of(tigo) - before
    assert made == Counter({"sources/system": 1, "data/summary": 1, "data/aggregate": 1})


async def test_an_hour_stays_under_sixty_requests(
    hass: HomeAssistant,
    tigo: TigoSimulator,
    tigo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, tigo_entry)
    before = tigo.requests.total()
    for _ in range(12):
        await tick(hass, tigo, LIVE, freezer)
    per_hour = tigo.requests.total() - before
    assert per_hour <= 60
    assert tigo.logins <= 2  # the token lives an hour: renewed once, shortly before it expires


async def test_voltage_is_fetched_only_while_enabled(
    hass: HomeAssistant,
    tigo: TigoSimulator,
    tigo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    tigo_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        tigo_entry, options={"panel_metrics": ["power", "voltage"]}
    )
    await setup_entry(hass, tigo_entry)
    home = tigo.systems[0]
    panel = home.panels[0]
    voltage = entity_id(hass, "sensor", f"tigo_panel_{panel.serial}_voltage")
    # Chosen in the options, so enabled from the start and fetched in the first poll.
    reading = tigo.panel_reading(
        home.system_id, panel.object_id, tigo.newest_minute(home.system_id)
    )
    assert reading is not None
    assert float(state_of(hass, "sensor", f"tigo_panel_{panel.serial}_voltage")) == pytest.approx(
        reading.vin, abs=0.05
    )
    before = requests_of(tigo)
    await tick(hass, tigo, LIVE, freezer)
    assert (requests_of(tigo) - before)["data/aggregate"] == 2  # Pin and Vin

    registry = er.async_get(hass)
    for registry_entry in er.async_entries_for_config_entry(registry, tigo_entry.entry_id):
        if registry_entry.unique_id.endswith("_voltage"):  # every panel's
            registry.async_update_entity(
                registry_entry.entity_id, disabled_by=er.RegistryEntryDisabler.USER
            )
    await hass.config_entries.async_reload(tigo_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(voltage) is None  # disabled: not even fetched
    before = requests_of(tigo)
    await tick(hass, tigo, LIVE, freezer)
    assert (requests_of(tigo) - before)["data/aggregate"] == 1  # Pin only


async def test_system_entities_keep_their_entity_ids_under_the_shared_unique_id_scheme(
    hass: HomeAssistant, tigo: TigoSimulator, tigo_entry: MockConfigEntry
) -> None:
    """Before, system entities were ``tigo_<id>_<key>``; registered ones keep their entity id."""
    tigo_entry.add_to_hass(hass)
    home = tigo.systems[0]
    registry = er.async_get(hass)
    old = registry.async_get_or_create(
        "sensor",
        DOMAIN,
        f"tigo_{home.system_id}_system_power",
        config_entry=tigo_entry,
        suggested_object_id="home_power",
    )
    await setup_entry(hass, tigo_entry)
    migrated = registry.async_get(old.entity_id)
    assert migrated is not None
    assert migrated.unique_id == f"tigo_system_{home.system_id}_system_power"
    assert float(state_of(hass, "sensor", "system_power")) >= 0
    assert hass.states.get("sensor.home_power") is not None


async def test_night_reads_zero_and_offline_gateway_is_unavailable(
    hass: HomeAssistant,
    tigo: TigoSimulator,
    tigo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, tigo_entry)
    home = tigo.systems[0]
    panel = f"tigo_panel_{home.panels[0].serial}_power"
    await tick(hass, tigo, 12 * 3600, freezer)  # midnight in Berlin
    before = requests_of(tigo)
    await tick(hass, tigo, LIVE, freezer)
    assert state_of(hass, "sensor", panel) == "0.0"
    assert "data/aggregate" not in requests_of(tigo) - before  # nothing to fetch at night
    tigo.set_gateway_online(home.system_id, False)
    await tick(hass, tigo, 3600, freezer)
    assert state_of(hass, "sensor", panel) == STATE_UNAVAILABLE
    assert state_of(hass, "binary_sensor", "_connectivity") == "off"
    tigo.set_gateway_online(home.system_id, True)
    await tick(hass, tigo, LIVE, freezer)
    assert state_of(hass, "sensor", panel) != STATE_UNAVAILABLE


async def test_expired_token_is_a_silent_relogin(
    hass: HomeAssistant,
    tigo: TigoSimulator,
    tigo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, tigo_entry)
    tigo.expire_tokens()
    await tick(hass, tigo, LIVE, freezer)
    assert tigo.logins == 2
    assert state_of(hass, "sensor", "_system_power") != STATE_UNAVAILABLE


async def test_rate_limited_waits_as_told(
    hass: HomeAssistant,
    tigo: TigoSimulator,
    tigo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, tigo_entry)
    tigo.fail_next("429", path="sources/system")
    await tick(hass, tigo, LIVE, freezer)
    assert state_of(hass, "sensor", "_system_power") == STATE_UNAVAILABLE
    before = tigo.requests.total()
    await tick(hass, tigo, 10, freezer)  # well within Retry-After: no request storm
    assert tigo.requests.total() == before
    await tick(hass, tigo, 3600, freezer)
    assert state_of(hass, "sensor", "_system_power") != STATE_UNAVAILABLE


@pytest.mark.parametrize(
    "fault", ["500", "503"]
)  # timeouts: tests/api (the loop clock is frozen here)
async def test_cloud_faults_are_unavailable_once_and_recover(
    hass: HomeAssistant,
    tigo: TigoSimulator,
    tigo_config: TigoConfig,
    tigo_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, tigo_entry)
    tigo.fail_next(fault, count=2, path="data/summary")
    caplog.clear()
    await tick(hass, tigo, LIVE, freezer)
    await tick(hass, tigo, LIVE, freezer)
    assert state_of(hass, "sensor", "_system_power") == STATE_UNAVAILABLE
    await tick(hass, tigo, LIVE, freezer)
    assert state_of(hass, "sensor", "_system_power") != STATE_UNAVAILABLE
    failures = [r for r in caplog.records if "Error fetching" in r.getMessage()]
    assert len(failures) == 1
    assert not any(r.exc_info for r in caplog.records if r.levelno >= logging.WARNING)


async def test_malformed_csv_never_puts_a_value_on_the_wrong_panel(
    hass: HomeAssistant,
    tigo: TigoSimulator,
    tigo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, tigo_entry)
    home = tigo.systems[0]
    tigo.fail_next("malformed", path="data/aggregate")
    await tick(hass, tigo, LIVE, freezer)
    runtime = tigo_entry.runtime_data
    data = runtime.live[home.system_id].data  # type: ignore[attr-defined]
    assert data.skipped_rows > 0
    newest = tigo.newest_minute(home.system_id)
    for sim_panel in home.panels:
        state = state_of(hass, "sensor", f"tigo_panel_{sim_panel.serial}_power")
        truth = tigo.panel_power(home.system_id, sim_panel.object_id, newest)
        earlier = [
            tigo.panel_power(home.system_id, sim_panel.object_id, newest - timedelta(minutes=m))
            for m in range(11)
        ]
        assert float(state) in {round(v, 1) for v in [truth, *earlier]} | {0.0}


async def test_unreachable_at_setup_is_retried(
    hass: HomeAssistant, tigo: TigoSimulator, tigo_entry: MockConfigEntry
) -> None:
    tigo.fail_next("503", path="users/login")
    await setup_entry(hass, tigo_entry)
    assert tigo_entry.state is ConfigEntryState.SETUP_RETRY


async def test_wrong_password_at_setup_starts_reauth(
    hass: HomeAssistant, tigo: TigoSimulator, tigo_config: TigoConfig, tigo_entry: MockConfigEntry
) -> None:
    tigo_config.password = "changed-in-the-app"
    await setup_entry(hass, tigo_entry)
    assert tigo_entry.state is ConfigEntryState.SETUP_ERROR
    assert [f["context"]["source"] for f in hass.config_entries.flow.async_progress()] == ["reauth"]


async def test_changed_configuration_reloads_with_the_new_panel(
    hass: HomeAssistant,
    tigo: TigoSimulator,
    tigo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, tigo_entry)
    home = tigo.systems[0]
    old = home.panels[0].serial
    new = tigo.replace_panel(home.system_id, home.panels[0].label)
    await tick(hass, tigo, LIVE, freezer)
    await hass.async_block_till_done(wait_background_tasks=True)
    unique_ids = {e.unique_id for e in er.async_get(hass).entities.values()}
    assert f"tigo_panel_{new}_power" in unique_ids
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"tigo_panel_{old}"), tigo_entry.entry_id
    )
    assert device is None  # the replaced optimizer's device is gone


async def test_unload_logs_out(
    hass: HomeAssistant, tigo: TigoSimulator, tigo_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, tigo_entry)
    assert tigo.active_tokens == 1
    assert await hass.config_entries.async_unload(tigo_entry.entry_id)
    assert tigo.active_tokens == 0


@pytest.mark.parametrize("tigo_config", [TigoConfig(rate_limit=40)])
async def test_paces_down_before_the_budget_runs_out(
    hass: HomeAssistant,
    tigo: TigoSimulator,
    tigo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, tigo_entry)
    live = tigo_entry.runtime_data.live[tigo.systems[0].system_id]  # type: ignore[attr-defined]
    intervals = []
    for _ in range(12):
        await tick(hass, tigo, live.update_interval.total_seconds(), freezer)
        intervals.append(live.update_interval.total_seconds())
        limit = live.client.rate_limit
        if limit.remaining < 0.05 * limit.limit:  # nearly out: not before the window resets
            assert live.update_interval.total_seconds() >= limit.reset_seconds
    assert 2 * LIVE in intervals  # below a quarter of the budget: half the pace
    assert intervals[-1] == LIVE  # and back to normal in the new window
    assert tigo.rate_limited == 0  # never ran into a 429


async def test_layout_is_read_again_daily_and_reloads_only_on_change(
    hass: HomeAssistant,
    tigo: TigoSimulator,
    tigo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, tigo_entry)
    await tick(hass, tigo, 12 * 3600, freezer)
    assert requests_of(tigo)["systems/layout"] == 1
    await tick(hass, tigo, 12 * 3600 + LIVE, freezer)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert requests_of(tigo)["systems/layout"] == 2  # read again after a day ...
    assert requests_of(tigo)["systems/view"] == 1  # ... without a reload: nothing changed
    assert tigo_entry.state is ConfigEntryState.LOADED
