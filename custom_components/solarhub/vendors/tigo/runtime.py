"""Setting up a Tigo config entry: log in, read each chosen system's structure, start polling."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
import logging
import re
from typing import TYPE_CHECKING, Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util

from ...api.errors import AuthenticationError, PermissionDeniedError, SolarHubApiError
from ...api.tigo.client import DEFAULT_BASE_URL, TigoClient
from ...const import CONF_BASE_URL, CONF_SYSTEMS, DOMAIN
from ...devices import register_devices
from ...entity import EntitySpec, expect_requests
from ...statistics import EnergyStatistic
from .coordinator import TigoAlertsCoordinator, TigoLiveCoordinator
from .entities import system_entities
from .history import solar_statistic
from .options import TigoOptions
from .topology import Topology, build_topology

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from ...runtime import SolarHubConfigEntry

_LOGGER = logging.getLogger(__name__)

REQUEST_TIMEOUT = 30.0  # seconds; CSV answers of large systems take a moment

TO_REDACT = {
    CONF_PASSWORD,
    CONF_USERNAME,
    "auth",
    "user_id",
    "email",
    "street",
    "city",
    "zip",
    "latitude",
    "longitude",
    "serial",
    "serial_number",
    "identifiers",
    "unique_id",
    "title",
}


def energy_statistic(topology: Topology) -> EnergyStatistic:
    """The external statistic holding a system's hourly solar energy."""
    return solar_statistic(topology)


class TigoRuntime:
    """A set-up Tigo account: its client and, per chosen system, coordinators and entities."""

    def __init__(self, client: TigoClient) -> None:
        """Start with no systems; ``async_setup_tigo`` adds them."""
        self.client = client
        self.live: dict[int, TigoLiveCoordinator] = {}
        self.alerts: dict[int, TigoAlertsCoordinator] = {}
        self.specs: list[EntitySpec[Any]] = []

    def add_system(
        self,
        live: TigoLiveCoordinator,
        alerts: TigoAlertsCoordinator,
        specs: list[EntitySpec[Any]],
    ) -> None:
        """Register one system's coordinators and entities."""
        self.live[live.system_id] = live
        self.alerts[live.system_id] = alerts
        self.specs += specs

    async def async_diagnostics(self) -> dict[str, Any]:
        """Each system's structure and latest data, with anything identifying redacted."""
        systems = {}
        for system_id, live in self.live.items():
            topology = live.topology
            data = live.data
            systems[str(system_id)] = {
                "system": asdict(topology.system),
                "inverters": len(topology.inverters),
                "strings": len(topology.strings),
                "panels": len(topology.panels),
                "gateways": [asdict(source) for source in data.sources],
                "summary": asdict(data.summary),
                "data_minute": data.data_minute.isoformat() if data.data_minute else None,
                "reporting": data.reporting,
                "panel_readings": len(data.readings),
                "skipped_csv_rows": data.skipped_rows,
                "polled_params": sorted(live.wanted_params()),
                "poll_interval": str(live.update_interval),
                "active_alerts": [asdict(a) for a in self.alerts[system_id].data.active],
            }
        rate_limit = self.client.rate_limit
        return async_redact_data(
            {
                "systems": systems,
                "rate_limit": asdict(rate_limit) if rate_limit else None,
                "token_expires": str(self.client.token_expires),
            },
            TO_REDACT,
        )

    async def async_shutdown(self) -> None:
        """Invalidate the token."""
        await self.client.logout()


async def _async_migrate_unique_ids(hass: HomeAssistant, entry: SolarHubConfigEntry) -> None:
    """System entities were ``tigo_<id>_<key>``; now ``<device identifier>_<key>`` like all."""
    system_entity = re.compile(r"tigo_(\d+)_(.+)")

    @callback
    def migrate(registry_entry: er.RegistryEntry) -> dict[str, str] | None:
        if match := system_entity.fullmatch(registry_entry.unique_id):
            return {"new_unique_id": f"tigo_system_{match[1]}_{match[2]}"}
        return None

    await er.async_migrate_entries(hass, entry.entry_id, migrate)


async def _read_topology(client: TigoClient, system_id: int) -> Topology:
    system = await client.get_system(system_id)
    layout = await client.get_layout(system_id)
    objects = await client.get_objects(system_id)
    sources = await client.get_sources(system_id)
    return build_topology(system, layout, objects, sources)


async def async_setup_tigo(hass: HomeAssistant, entry: SolarHubConfigEntry) -> TigoRuntime:
    """Log in, read the chosen systems' layout, and fill the coordinators once."""
    client = TigoClient(
        async_get_clientsession(hass),
        entry.data[CONF_USERNAME],
        entry.data[CONF_PASSWORD],
        base_url=entry.data.get(CONF_BASE_URL) or DEFAULT_BASE_URL,
        request_timeout=REQUEST_TIMEOUT,
    )
    options = TigoOptions.from_entry(entry)
    with_statistics = "recorder" in hass.config.components
    runtime = TigoRuntime(client)
    try:
        await client.login()
        for system_id in entry.data[CONF_SYSTEMS]:
            topology = await _read_topology(client, int(system_id))
            tz = (
                await dt_util.async_get_time_zone(topology.system.timezone or "")
                or dt_util.get_default_time_zone()
            )
            live = TigoLiveCoordinator(
                hass,
                entry,
                client,
                topology=topology,
                tz=tz,
                interval=timedelta(seconds=options.live_interval),
                statistic=energy_statistic(topology) if with_statistics else None,
            )
            alerts = TigoAlertsCoordinator(
                hass,
                entry,
                client,
                topology=topology,
                interval=timedelta(seconds=options.alerts_interval),
            )
            runtime.add_system(live, alerts, system_entities(topology, options, live, alerts))
    except (AuthenticationError, PermissionDeniedError) as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="authentication_failed"
        ) from err
    except SolarHubApiError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"error": str(err)},
        ) from err
    register_devices(
        hass,
        entry,
        [
            (device, parent)
            for live in runtime.live.values()
            for device, parent in live.topology.devices()
        ],
    )
    await _async_migrate_unique_ids(hass, entry)
    expect_requests(hass, entry, runtime.specs)
    for system_id in runtime.live:
        await runtime.live[system_id].async_config_entry_first_refresh()
        await runtime.alerts[system_id].async_config_entry_first_refresh()
    return runtime
