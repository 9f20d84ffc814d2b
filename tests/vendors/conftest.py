"""Fixtures for driving the integration against the vendor simulators over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.solarhub.const import (
    CONF_BASE_URL,
    CONF_SERVICE_CODE,
    CONF_SYSTEMS,
    CONF_VENDOR,
    DOMAIN,
    Vendor,
)
from tests.constants import NOON
from tests.simulators.plenticore import PlenticoreConfig, PlenticoreSimulator, SimClock
from tests.simulators.tigo import TigoConfig, TigoSimulator

FAST_ROUNDS = 1000  # SCRAM rounds for tests: the protocol is the same, PBKDF2 just costs less


@pytest.fixture
def plenticore_config() -> PlenticoreConfig:
    """The simulated inverter; tests change fields before the simulator starts."""
    return PlenticoreConfig(rounds=FAST_ROUNDS)


@pytest.fixture
async def plenticore(plenticore_config: PlenticoreConfig) -> AsyncGenerator[PlenticoreSimulator]:
    """A running PLENTICORE simulator on 127.0.0.1 with a clock that moves only when told."""
    simulator = PlenticoreSimulator(plenticore_config, SimClock.fixed(NOON))
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
def plenticore_entry(
    plenticore: PlenticoreSimulator, plenticore_config: PlenticoreConfig
) -> MockConfigEntry:
    """A config entry for the simulator, as the owner."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="PLENTICORE plus (scb)",
        unique_id=plenticore_config.serial,
        data={
            CONF_VENDOR: Vendor.PLENTICORE,
            CONF_HOST: plenticore.host,
            CONF_PASSWORD: plenticore_config.password,
        },
    )


@pytest.fixture
def plenticore_installer_entry(
    plenticore: PlenticoreSimulator, plenticore_config: PlenticoreConfig
) -> MockConfigEntry:
    """A config entry for the simulator, as the installer (Master Key + service code)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="PLENTICORE plus (scb)",
        unique_id=plenticore_config.serial,
        data={
            CONF_VENDOR: Vendor.PLENTICORE,
            CONF_HOST: plenticore.host,
            CONF_PASSWORD: plenticore_config.master_key,
            CONF_SERVICE_CODE: plenticore_config.service_code,
        },
    )


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add the entry (unless it is added already) and wait until it is set up (or failed)."""
    if hass.config_entries.async_get_entry(entry.entry_id) is None:
        entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
def tigo_config() -> TigoConfig:
    """The simulated Tigo account; tests change fields before the simulator starts."""
    return TigoConfig()


@pytest.fixture
async def tigo(
    tigo_config: TigoConfig, freezer: FrozenDateTimeFactory
) -> AsyncGenerator[TigoSimulator]:
    """A running Tigo cloud simulator on 127.0.0.1; it and Home Assistant at noon in Berlin.

    Unlike the inverter, the cloud's data carries timestamps that the integration compares with
    the current time (gateway check-ins, token expiry), so both clocks must agree.
    """
    freezer.move_to(NOON)
    simulator = TigoSimulator(tigo_config, SimClock.fixed(NOON))
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
def tigo_entry(tigo: TigoSimulator, tigo_config: TigoConfig) -> MockConfigEntry:
    """A config entry for the simulated account with its first system ("Home", 20 panels)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"Tigo ({tigo_config.username})",
        unique_id=f"tigo_{tigo_config.user_id}",
        data={
            CONF_VENDOR: Vendor.TIGO,
            CONF_USERNAME: tigo_config.username,
            CONF_PASSWORD: tigo_config.password,
            CONF_BASE_URL: tigo.base_url,
            CONF_SYSTEMS: [tigo.systems[0].system_id],
        },
    )
