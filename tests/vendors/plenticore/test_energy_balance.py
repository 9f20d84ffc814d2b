"""README's Energy dashboard recipe for the PLENTICORE balances, hour by hour, in the recorder.

The integration polls the simulator through two days and nights with the battery cycling (empty
by the morning, full by noon, half an hour of grid charging in the evening); the recorder
compiles hourly statistics of the recipe's entities. The dashboard's home consumption, solar +
import - export + discharge - charge, must match the inverter's own home counter per day and
never be negative in any hour.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
from pathlib import Path
import re

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.const import CONF_HOST, CONF_PASSWORD
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)

from custom_components.solarhub.const import CONF_VENDOR, DOMAIN, Vendor
from custom_components.solarhub.vendors.plenticore.derived import solar_production
from tests.constants import BERLIN
from tests.simulators.plenticore import PlenticoreConfig, PlenticoreSimulator, SimClock
from tests.vendors.conftest import FAST_ROUNDS, setup_entry
from tests.vendors.helpers import entity_id, state_of, tick

START = datetime(2026, 3, 15, tzinfo=BERLIN).astimezone(UTC)  # local midnight, near equinox
DAYS = 2
STEP = timedelta(minutes=30)  # poll cadence of the test (the inverter's counters are continuous)
README = Path(__file__).parents[3] / "README.md"
RECIPE = re.compile(
    r"Energy\s+dashboard:\s+solar\s+production\s+=\s+\*(?P<solar>[^*]+)\*.*?"
    r"grid\s+consumption\s+=\s+\*(?P<imported>[^*]+)\*.*?"
    r"return\s+to\s+grid\s+=\s+\*(?P<exported>[^*]+)\*.*?"
    r"battery\s+in/out\s+=\s+\*(?P<charge>[^*]+)\*\s*/\s*\*(?P<discharge>[^*]+)\*",
    re.DOTALL,
)
HOME = "scb:statistic:EnergyFlow_Statistic:EnergyHome:Total"  # the inverter's home counter


def readme_recipe() -> dict[str, str]:
    """The entity names README's PLENTICORE section tells users to pick, per dashboard role."""
    match = RECIPE.search(README.read_text(encoding="utf-8"))
    assert match is not None, "README has no PLENTICORE Energy dashboard recipe"
    return {role: " ".join(name.split()) for role, name in match.groupdict().items()}


def entity_named(hass: HomeAssistant, name: str) -> str:
    """The one SolarHub sensor whose name (without the device's) is ``name``."""
    found = [
        entry.entity_id
        for entry in er.async_get(hass).entities.values()
        if entry.platform == DOMAIN
        and entry.domain == "sensor"
        and (state := hass.states.get(entry.entity_id)) is not None
        and str(state.attributes.get("friendly_name", "")).endswith(f" {name}")
    ]
    assert len(found) == 1, f"{name!r}: {found}"
    return found[0]


@pytest.fixture
async def simulator() -> AsyncGenerator[PlenticoreSimulator]:
    """A PLENTICORE at local midnight with a third of its battery left."""
    config = PlenticoreConfig(rounds=FAST_ROUNDS, battery_soc=30.0)
    async with PlenticoreSimulator(config, SimClock.fixed(START)) as simulator:
        yield simulator


async def hourly_changes(
    hass: HomeAssistant, statistic_ids: set[str], start: datetime, end: datetime
) -> dict[str, dict[datetime, float]]:
    """The recorder's hourly change per statistic."""
    await async_wait_recording_done(hass)
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period, hass, start, end, statistic_ids, "hour", None, {"change"}
    )
    return {
        statistic_id: {
            dt_util.utc_from_timestamp(row["start"]): row["change"] or 0.0
            for row in rows[statistic_id]
        }
        for statistic_id in statistic_ids
    }


async def test_the_energy_dashboard_balances(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: PlenticoreSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(START)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="PLENTICORE plus (scb)",
        unique_id=simulator.config.serial,
        data={
            CONF_VENDOR: Vendor.PLENTICORE,
            CONF_HOST: simulator.host,
            CONF_PASSWORD: simulator.config.password,
        },
    )
    await setup_entry(hass, entry)
    recipe = {role: entity_named(hass, name) for role, name in readme_recipe().items()}
    home = entity_id(hass, "sensor", HOME)
    await async_wait_recording_done(hass)
    do_adhoc_statistics(hass, start=START)  # the first readings, as the recorder's own timer would

    socs: list[float] = []
    hours = DAYS * 24
    for hour in range(hours):
        for _ in range(timedelta(hours=1) // STEP):
            now = dt_util.utcnow().astimezone(BERLIN)
            grid_charge = "1" if now.hour == 21 else "0"  # 21:00-21:30 from the grid
            simulator.set_setting("devices:local", "Battery:ManualCharge", grid_charge)
            await tick(hass, simulator, STEP.total_seconds(), freezer)
            socs.append(float(state_of(hass, "sensor", "devices:local:battery_SoC")))
        # The hour is over: compile its last five minutes, which completes the hour.
        await async_wait_recording_done(hass)
        do_adhoc_statistics(hass, start=START + timedelta(hours=hour, minutes=55))
    assert min(socs) == 5  # emptied to the minimum state of charge …
    assert max(socs) == 100  # … and filled again

    changes = await hourly_changes(
        hass, {home, *recipe.values()}, START, START + timedelta(days=DAYS)
    )
    hours_seen = sorted(changes[home])
    assert len(hours_seen) == hours
    dashboard: dict[datetime, float] = {}
    for hour_start in hours_seen:
        change = {role: changes[statistic][hour_start] for role, statistic in recipe.items()}
        dashboard[hour_start] = (
            change["solar"]
            + change["imported"]
            - change["exported"]
            + change["discharge"]
            - change["charge"]
        )
    assert min(changes[recipe["solar"]].values()) >= 0  # a total that never dips
    negative = {h: v for h, v in dashboard.items() if v < 0}
    assert not negative, f"negative home consumption in {len(negative)} hours: {negative}"
    for hour_start, value in dashboard.items():  # the counters are kept to 10 Wh each
        assert value == pytest.approx(changes[home][hour_start], abs=0.05), hour_start
        assert value > 0, hour_start  # the home never sleeps

    for day in range(DAYS):
        day_hours = hours_seen[day * 24 : (day + 1) * 24]
        from_dashboard = sum(dashboard[h] for h in day_hours)
        from_inverter = sum(changes[home][h] for h in day_hours)
        assert from_inverter > 5  # kWh: a real day's consumption was measured
        assert from_dashboard == pytest.approx(from_inverter, rel=0.01), day
        for role in ("imported", "exported", "charge", "discharge", "solar"):
            assert sum(changes[recipe[role]][h] for h in day_hours) > 0.5, (day, role)


def test_without_a_battery_solar_production_is_the_yield() -> None:
    flow = "scb:statistic:EnergyFlow"
    counters = {"Yield": 5000.0, "EnergyHomePv": 3000.0, "EnergyHomeGrid": 800.0}
    available = frozenset((flow, f"Statistic:{name}:Total") for name in counters)
    solar = solar_production("Total", available, flow)
    assert solar is not None
    values = {(flow, f"Statistic:{name}:Total"): wh for name, wh in counters.items()}
    assert solar.compute(values) == 5000.0
    assert solar.monotonic
    assert solar_production("Day", available, flow) is None  # no Day counters listed


def test_with_a_battery_solar_production_is_the_pvs_own_share() -> None:
    flow = "scb:statistic:EnergyFlow"
    counters = {
        "Yield": 9000.0,  # home from PV 3000 + home from battery 1500 + feed-in 4500 (500 battery)
        "EnergyHomeBat": 1500.0,
        "EnergyDischargeGrid": 500.0,
        "EnergyChargePv": 2500.0,
    }
    values = {(flow, f"Statistic:{name}:Day"): wh for name, wh in counters.items()}
    solar = solar_production("Day", frozenset(values), flow)
    assert solar is not None
    assert not solar.monotonic
    assert solar.compute(values) == 3000.0 + 2500.0 + 4000.0  # home, battery and grid from PV
