"""Setting up a PLENTICORE config entry: login, discovery of what the inverter has, coordinators."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import asdict
from datetime import timedelta
import logging
from typing import TYPE_CHECKING, Any, TypeGuard

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import (
    CONF_HOST,
    CONF_PASSWORD,
    EVENT_HOMEASSISTANT_STOP,
)
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import DeviceInfo

from ...api.errors import AccountLockedError, AuthenticationError, SolarHubApiError
from ...api.plenticore.client import PlenticoreClient
from ...const import CONF_SERVICE_CODE, DOMAIN
from ...devices import register_devices
from ...entity import EntitySpec, expect_requests
from .const import (
    LOCAL,
    MANUFACTURER,
    NETWORK,
)
from .controls import STRING_COUNT, PlenticoreControls
from .coordinator import (
    DataPoint,
    EventsCoordinator,
    ProcessDataCoordinator,
    SettingsCoordinator,
)
from .events import event_specs
from .options import PlenticoreOptions
from .sensors import derived_values, sensors

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from homeassistant.core import Event, HomeAssistant

    from ...api.plenticore.models import SettingsMeta, VersionInfo
    from ...runtime import SolarHubConfigEntry

_LOGGER = logging.getLogger(__name__)

REQUEST_TIMEOUT = 10.0  # seconds; the inverter answers in well under one
DEVICE_SETTINGS = (
    "Properties:SerialNo",
    "Branding:ProductName1",
    "Branding:ProductName2",
    "Properties:VersionIOC",
    "Properties:VersionMC",
)
TO_REDACT = {
    CONF_PASSWORD,
    CONF_SERVICE_CODE,
    CONF_HOST,
    "serial",
    "serial_number",
    "Properties:SerialNo",
    "Network:Hostname",
    "Hostname",
    "hostname",
    "identifiers",
    "configuration_url",
    "unique_id",
    "title",
}


def hostname_setting(meta: SettingsMeta) -> str | None:
    """Firmware names the hostname setting ``Network:Hostname``; older ones ``Hostname``."""
    network = meta.get(NETWORK, {})
    return next((sid for sid in ("Network:Hostname", "Hostname") if sid in network), None)


async def read_device(
    client: PlenticoreClient, meta: SettingsMeta
) -> tuple[dict[tuple[str, str], str], VersionInfo]:
    """Device settings (serial, product, versions, hostname) in one request, and the API version."""
    request: dict[str, list[str]] = {
        LOCAL: [sid for sid in (*DEVICE_SETTINGS, STRING_COUNT) if sid in meta.get(LOCAL, {})]
    }
    request[LOCAL] += [
        sid
        for sid in meta.get(LOCAL, {})
        if sid.startswith("Properties:String") and "Features" in sid
    ]
    if hostname := hostname_setting(meta):
        request[NETWORK] = [hostname]
    raw = await client.get_setting_values(request)
    values = {(module, sid): value for module, items in raw.items() for sid, value in items.items()}
    return values, await client.get_version()


class PlenticoreRuntime:
    """A set-up PLENTICORE: its client, coordinators and entities."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SolarHubConfigEntry,
        client: PlenticoreClient,
        *,
        meta: SettingsMeta,
        device_values: dict[tuple[str, str], str],
        version: VersionInfo,
        available: frozenset[tuple[str, str]],
    ) -> None:
        """Build coordinators and entity specs from what the inverter reported at setup."""
        options = PlenticoreOptions.from_entry(entry)
        self.client = client
        self.serial = device_values.get((LOCAL, "Properties:SerialNo")) or str(entry.unique_id)
        self.version = version
        self.meta = meta
        self.device_values = device_values
        product = " ".join(
            filter(None, (device_values.get((LOCAL, f"Branding:ProductName{n}")) for n in (1, 2)))
        )
        identifier = (DOMAIN, self.serial)
        self.device_info = DeviceInfo(
            identifiers={identifier},
            manufacturer=MANUFACTURER,
            model=product or version.name,
            name=device_name(hass, identifier, product or version.name or "PLENTICORE"),
            serial_number=self.serial,
            sw_version=version.sw_version,
            hw_version=_mc_ioc(device_values),
            configuration_url=f"http://{entry.data[CONF_HOST]}",
        )
        self.process_data = ProcessDataCoordinator(
            hass,
            entry,
            client,
            update_interval=timedelta(seconds=options.process_data_interval),
            known=(),
            derived=derived_values(available),
        )
        self.settings = SettingsCoordinator(
            hass,
            entry,
            client,
            update_interval=timedelta(seconds=options.settings_interval),
            known=(),
            meta=meta,
        )
        self.events = EventsCoordinator(
            hass, entry, client, update_interval=timedelta(seconds=options.events_interval)
        )
        controls = PlenticoreControls(self.settings, meta, client, identifier)
        sensor_specs = sensors(self.process_data, identifier, available)
        control_specs = controls.specs(device_values)
        self.process_data.known = _union(spec.polls for spec in sensor_specs)
        self.settings.known = _union(spec.polls for spec in control_specs)
        self.specs: list[EntitySpec[Any]] = [
            *sensor_specs,
            *control_specs,
            *event_specs(self.events, identifier),
        ]
        register_devices(hass, entry, [(self.device_info, None)])
        expect_requests(hass, entry, self.specs)

    async def async_first_refresh(self) -> None:
        """Fill every coordinator once before entities are added."""
        await self.process_data.async_config_entry_first_refresh()
        await self.settings.async_config_entry_first_refresh()
        await self.events.async_config_entry_first_refresh()

    async def async_diagnostics(self) -> dict[str, Any]:
        """What the inverter reported, with anything identifying redacted."""
        return async_redact_data(
            {
                "version": asdict(self.version),
                "role": self.client.role,
                "device": _nested(self.device_values),
                "settings_meta": {
                    module: {sid: asdict(meta) for sid, meta in items.items()}
                    for module, items in self.meta.items()
                },
                "process_data": _nested(self.process_data.data.values),
                "settings": _nested(self.settings.data or {}),
                "active_events": [asdict(e) for e in self.events.data.active],
                "polled": {
                    "process_data": sorted("/".join(p) for p in self.process_data.wanted()),
                    "settings": sorted("/".join(p) for p in self.settings.wanted()),
                },
            },
            TO_REDACT,
        )

    async def async_shutdown(self) -> None:
        """Log out so the inverter's session table does not fill up."""
        await self.client.logout()


def _nested[T](values: Mapping[DataPoint, T]) -> dict[str, dict[str, T]]:
    """``{(module, id): v}`` as ``{module: {id: v}}``, so redaction matches on the id."""
    nested: dict[str, dict[str, T]] = {}
    for (module_id, data_id), value in values.items():
        nested.setdefault(module_id, {})[data_id] = value
    return nested


def _union(point_sets: Iterable[frozenset[Hashable]]) -> frozenset[DataPoint]:
    return frozenset(point for points in point_sets for point in points if _is_point(point))


def _is_point(point: Hashable) -> TypeGuard[DataPoint]:
    return isinstance(point, tuple)


def device_name(hass: HomeAssistant, identifier: tuple[str, str], model: str) -> str:
    """The inverter's model, with a short serial suffix when another device has that name."""
    registry = dr.async_get(hass)
    taken = any(
        device.name == model and identifier not in device.identifiers
        for entry in hass.config_entries.async_entries(DOMAIN)
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
    )
    return f"{model} {identifier[1][-4:]}" if taken else model


def _mc_ioc(values: dict[tuple[str, str], str]) -> str | None:
    mc = values.get((LOCAL, "Properties:VersionMC"))
    ioc = values.get((LOCAL, "Properties:VersionIOC"))
    return f"MC {mc}, IOC {ioc}" if mc and ioc else None


async def async_setup_plenticore(
    hass: HomeAssistant, entry: SolarHubConfigEntry
) -> PlenticoreRuntime:
    """Log in, learn what the inverter has, and start the coordinators."""
    client = PlenticoreClient(
        async_get_clientsession(hass), entry.data[CONF_HOST], request_timeout=REQUEST_TIMEOUT
    )
    try:
        await client.login(entry.data[CONF_PASSWORD], entry.data.get(CONF_SERVICE_CODE) or None)
        meta = await client.get_settings_meta()
        listed = await client.get_process_data_ids()
        device_values, version = await read_device(client, meta)
    except AccountLockedError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN, translation_key="account_locked"
        ) from err
    except AuthenticationError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="authentication_failed"
        ) from err
    except SolarHubApiError as err:
        await client.logout()
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"error": str(err)},
        ) from err
    available = frozenset((module, pid) for module, ids in listed.items() for pid in ids)
    runtime = PlenticoreRuntime(
        hass,
        entry,
        client,
        meta=meta,
        device_values=device_values,
        version=version,
        available=available,
    )
    try:
        await runtime.async_first_refresh()
    except Exception:
        await client.logout()
        raise

    async def _logout_on_stop(_event: Event) -> None:
        await client.logout()

    entry.async_on_unload(hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _logout_on_stop))
    return runtime
