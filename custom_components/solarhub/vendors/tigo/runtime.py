"""Setting up a Tigo config entry: log in, read each chosen system's structure, start polling."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME, Platform
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.util import dt as dt_util

from ...api.errors import AuthenticationError, PermissionDeniedError, SolarHubApiError
from ...api.tigo.client import DEFAULT_BASE_URL, TigoClient
from ...const import CONF_BASE_URL, CONF_SYSTEMS, DOMAIN
from ...entity import EntitySpec
from ...statistics import EnergyStatistic
from .coordinator import TigoAlertsCoordinator, TigoLiveCoordinator
from .entities import TigoEntity, system_entities
from .history import solar_statistic
from .options import PARAMS, PanelMetric, TigoOptions
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
        self.entities: dict[int, list[TigoEntity]] = {}

    def add_system(
        self,
        live: TigoLiveCoordinator,
        alerts: TigoAlertsCoordinator,
        entities: list[TigoEntity],
    ) -> None:
        """Register one system's coordinators and entities."""
        self.live[live.system_id] = live
        self.alerts[live.system_id] = alerts
        self.entities[live.system_id] = entities

    def entity_specs(self, platform: Platform) -> list[EntitySpec[Any]]:
        """The specs of every system's entities on ``platform``."""
        return [
            EntitySpec(
                coordinator=self.alerts[system_id] if entity.alerts else self.live[system_id],
                description=entity.description,
                # Devices are registered at setup, parents first; entities only link to them.
                device_info=DeviceInfo(identifiers=entity.device["identifiers"]),
                unique_id=entity.unique_id,
                polls=entity.polls,
            )
            for system_id, entities in self.entities.items()
            for entity in entities
            if entity.platform is platform
        ]

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


def _enabled_params(hass: HomeAssistant, entry: SolarHubConfigEntry) -> frozenset[str]:
    """Panel params with an enabled entity in the registry, to fetch them from the first poll."""
    params = set()
    for registry_entry in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
        if registry_entry.disabled_by is None and registry_entry.unique_id.startswith(
            "tigo_panel_"
        ):
            metric = registry_entry.unique_id.rsplit("_", 1)[1]
            if metric in PanelMetric.__members__.values():
                params.add(PARAMS[PanelMetric(metric)])
    return frozenset(params)


def _register_devices(
    hass: HomeAssistant, entry: SolarHubConfigEntry, topologies: list[Topology]
) -> None:
    """Create each system's devices, parents first: a child names its parent's registry id.

    Devices of this entry the cloud no longer lists (a replaced optimizer, a dropped system) go.
    """
    registry = dr.async_get(hass)
    device_ids: dict[tuple[str, str], str] = {}
    for topology in topologies:
        system = registry.async_get_or_create(config_entry_id=entry.entry_id, **topology.device)
        device_ids[next(iter(topology.device["identifiers"]))] = system.id
        for device, parent in topology.child_devices():
            linked = DeviceInfo(**device)
            linked["via_device_id"] = device_ids[parent]
            created = registry.async_get_or_create(config_entry_id=entry.entry_id, **linked)
            device_ids[next(iter(device["identifiers"]))] = created.id
    current = set(device_ids.values())
    for device_entry in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if device_entry.id not in current:
            registry.async_update_device(device_entry.id, remove_config_entry_id=entry.entry_id)


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
    initial_params = _enabled_params(hass, entry)
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
                initial_params=initial_params,
                statistic=energy_statistic(topology) if with_statistics else None,
            )
            alerts = TigoAlertsCoordinator(
                hass,
                entry,
                client,
                topology=topology,
                interval=timedelta(seconds=options.alerts_interval),
            )
            runtime.add_system(live, alerts, system_entities(topology, options))
        _register_devices(hass, entry, [live.topology for live in runtime.live.values()])
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
    for system_id in runtime.live:
        await runtime.live[system_id].async_config_entry_first_refresh()
        await runtime.alerts[system_id].async_config_entry_first_refresh()
    return runtime
