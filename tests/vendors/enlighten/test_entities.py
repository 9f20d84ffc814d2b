"""Enlighten entities over a simulated day: 0 W after dusk, unavailable when silent, lifetime."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ATTRIBUTION, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.solarhub.const import DOMAIN
from tests.simulators.enlighten import EnlightenSimulator
from tests.vendors.conftest import setup_entry
from tests.vendors.helpers import entity_id, state_of

from .conftest import advance

POWER = "enlighten_system_1001_power"
LIFETIME = "enlighten_system_1001_lifetime_energy"


async def test_power_reads_zero_after_dusk_and_lifetime_never_dips(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    enlighten_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, enlighten_entry)
    await advance(hass, enlighten, freezer, 60)
    assert float(state_of(hass, "sensor", POWER)) > 0
    lifetimes = [float(state_of(hass, "sensor", LIFETIME))]
    # From noon in Berlin over its midnight (22:00 UTC) into the next morning.
    for _ in range(20 * 4):
        await advance(hass, enlighten, freezer, 900, step=300)
        lifetimes.append(float(state_of(hass, "sensor", LIFETIME)))
        local = dt_util.utcnow().astimezone(enlighten.system(1001).tz)
        if local.hour in (23, 0, 1):  # dark, the Envoy still reports: 0 W, not the dusk value
            assert float(state_of(hass, "sensor", POWER)) == 0
    assert lifetimes == sorted(lifetimes)  # total_increasing, never dipping at midnight
    assert lifetimes[-1] > lifetimes[0]


async def test_power_unavailable_when_the_envoy_stops_reporting(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    enlighten_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, enlighten_entry)
    await advance(hass, enlighten, freezer, 60)
    enlighten.stop_reporting(1001)
    await advance(hass, enlighten, freezer, 3 * 3600, step=300)
    assert state_of(hass, "sensor", POWER) == STATE_UNAVAILABLE
    assert state_of(hass, "binary_sensor", "enlighten_envoy_121900010001_connectivity") == "off"
    assert state_of(hass, "sensor", "enlighten_system_1001_status") == "comm"
    assert state_of(hass, "binary_sensor", "enlighten_system_1001_problem") == "on"
    # The last values stay where they mean something.
    assert float(state_of(hass, "sensor", LIFETIME)) > 0


async def test_problem_event_fires_once_per_change_into_a_problem(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    enlighten_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, enlighten_entry)
    await advance(hass, enlighten, freezer, 60)
    event = entity_id(hass, "event", "enlighten_system_1001_status_change")
    assert state_of(hass, "event", "enlighten_system_1001_status_change") == STATE_UNKNOWN
    now = dt_util.utcnow()
    enlighten.set_comm_outage(1001, now, now + timedelta(hours=2))
    await advance(hass, enlighten, freezer, 3600, step=300)
    fired = hass.states.get(event)
    assert fired is not None
    assert fired.attributes["event_type"] == "comm"
    fired_at = fired.state
    await advance(hass, enlighten, freezer, 1800, step=300)
    assert hass.states.get(event).state == fired_at  # type: ignore[union-attr]  # once only
    await advance(hass, enlighten, freezer, 2 * 3600, step=300)
    assert state_of(hass, "sensor", "enlighten_system_1001_status") == "normal"
    assert state_of(hass, "binary_sensor", "enlighten_system_1001_problem") == "off"


async def test_every_entity_carries_the_attribution(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    enlighten_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, enlighten_entry)
    await advance(hass, enlighten, freezer, 60)
    entries = er.async_entries_for_config_entry(er.async_get(hass), enlighten_entry.entry_id)
    assert len(entries) >= 15
    for registry_entry in entries:
        assert registry_entry.platform == DOMAIN
        state = hass.states.get(registry_entry.entity_id)
        assert state is not None, registry_entry.entity_id
        assert state.attributes[ATTR_ATTRIBUTION] == "Powered by Enphase Energy"


async def test_budget_sensors(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    enlighten_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, enlighten_entry)
    await advance(hass, enlighten, freezer, 60)
    account = f"enlighten_account_{enlighten_entry.entry_id}"
    assert (
        int(state_of(hass, "sensor", f"{account}_requests_this_month")) == enlighten.usage().total
    )
    assert state_of(hass, "sensor", f"{account}_monthly_limit") == "10000"
    assert state_of(hass, "sensor", f"{account}_budget_state") == "ok"
    next_poll = dt_util.parse_datetime(state_of(hass, "sensor", f"{account}_next_poll"))
    assert next_poll is not None
    assert next_poll > dt_util.utcnow()
