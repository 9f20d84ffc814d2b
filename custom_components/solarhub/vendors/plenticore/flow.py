"""The PLENTICORE steps of the config flow: host and credentials, reauth, a new address, options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import logging
from typing import TYPE_CHECKING, Any, override

from homeassistant.const import CONF_HOST, CONF_PASSWORD
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio as vol

from ...api.errors import (
    AccountLockedError,
    ApiConnectionError,
    AuthenticationError,
    InvalidServiceCodeError,
    SolarHubApiError,
    UnsupportedDeviceError,
)
from ...api.plenticore.client import PlenticoreClient
from ...const import CONF_SERVICE_CODE, CONF_VENDOR, Vendor
from ..flow import StepInput, VendorFlow, interval_fields
from ..probe import FieldError
from .controls import LOCAL
from .options import MINIMUMS, PlenticoreOptions
from .runtime import NETWORK, read_device

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry, ConfigFlowResult

_LOGGER = logging.getLogger(__name__)

PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
TEXT = TextSelector(TextSelectorConfig(autocomplete="off"))


@dataclass(frozen=True, slots=True)
class Inverter:
    """What the probe learned: the serial (unique id) and a title."""

    serial: str
    title: str


async def probe_plenticore(hass: HomeAssistant, data: Mapping[str, Any]) -> Inverter:
    """Connect, check it is a PLENTICORE, log in with the given role, read its serial, log out."""
    host = data[CONF_HOST]
    try:
        client = PlenticoreClient(async_get_clientsession(hass), host)
    except ValueError as err:
        raise FieldError(CONF_HOST, "invalid_host") from err
    try:
        await client.get_version()
        await client.login(data[CONF_PASSWORD], data.get(CONF_SERVICE_CODE) or None)
        meta = await client.get_settings_meta()
        values, version = await read_device(client, meta)
    except UnsupportedDeviceError as err:
        raise FieldError(CONF_HOST, "not_plenticore") from err
    except ApiConnectionError as err:
        raise FieldError(CONF_HOST, "cannot_connect") from err
    except AccountLockedError as err:
        raise FieldError(CONF_PASSWORD, "account_locked") from err
    except InvalidServiceCodeError as err:
        raise FieldError(CONF_SERVICE_CODE, "invalid_service_code") from err
    except AuthenticationError as err:
        raise FieldError(CONF_PASSWORD, "invalid_auth_plenticore") from err
    except SolarHubApiError as err:
        _LOGGER.warning("Unexpected answer from %s: %s", host, err)
        raise FieldError("base", "unexpected_response") from err
    finally:
        await client.logout()
    serial = values.get((LOCAL, "Properties:SerialNo"))
    if not serial:
        raise FieldError("base", "no_serial")
    hostname = next((v for (module, _), v in values.items() if module == NETWORK), None)
    product = values.get((LOCAL, "Branding:ProductName1")) or version.name
    return Inverter(serial=serial, title=f"{product} ({hostname})" if hostname else product)


def credentials_schema(defaults: Mapping[str, Any], *, with_host: bool = True) -> vol.Schema:
    """Host (unless it is known), password and the optional installer service code."""
    fields: dict[vol.Marker, Any] = {}
    if with_host:
        fields[vol.Required(CONF_HOST, default=defaults.get(CONF_HOST, vol.UNDEFINED))] = TEXT
    fields[vol.Required(CONF_PASSWORD)] = PASSWORD
    fields[
        vol.Optional(
            CONF_SERVICE_CODE,
            description={"suggested_value": defaults.get(CONF_SERVICE_CODE)},
        )
    ] = PASSWORD
    return vol.Schema(fields)


def host_schema(host: str) -> vol.Schema:
    """The reconfigure form: a new address for the same inverter."""
    return vol.Schema({vol.Required(CONF_HOST, default=host): TEXT})


class PlenticoreFlow(VendorFlow):
    """An inverter on the local network: its serial is the unique id."""

    vendor = Vendor.PLENTICORE

    @override
    async def async_step_setup(self, user_input: StepInput) -> ConfigFlowResult:
        """Host and credentials; the probe logs in with them before anything is stored."""
        flow = self.flow
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input[CONF_HOST] = user_input[CONF_HOST].strip()
            try:
                inverter = await probe_plenticore(flow.hass, user_input)
            except FieldError as err:
                errors[err.field] = err.error
            else:
                await flow.async_set_unique_id(inverter.serial)
                flow._abort_if_unique_id_configured(
                    updates={CONF_HOST: user_input[CONF_HOST]},
                    error="already_configured_plenticore",
                )
                return flow.async_create_entry(
                    title=inverter.title, data={CONF_VENDOR: Vendor.PLENTICORE, **user_input}
                )
        return flow.async_show_form(
            step_id=self.vendor,
            data_schema=credentials_schema(user_input or {}),
            errors=errors,
        )

    @override
    async def async_step_reauth(self, user_input: StepInput) -> ConfigFlowResult:
        """The password (and, for an installer, the service code) again."""
        flow = self.flow
        entry = flow._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                inverter = await probe_plenticore(flow.hass, {**entry.data, **user_input})
            except FieldError as err:
                errors[err.field] = err.error
            else:
                await flow.async_set_unique_id(inverter.serial)
                flow._abort_if_unique_id_mismatch(reason="different_device_plenticore")
                return flow.async_update_reload_and_abort(
                    entry,
                    data_updates={
                        CONF_PASSWORD: user_input[CONF_PASSWORD],
                        CONF_SERVICE_CODE: user_input.get(CONF_SERVICE_CODE),
                    },
                )
        return flow.async_show_form(
            step_id=f"reauth_{self.vendor}",
            data_schema=credentials_schema(entry.data, with_host=False),
            description_placeholders={"name": entry.data[CONF_HOST]},
            errors=errors,
        )

    @override
    async def async_step_reconfigure(self, user_input: StepInput) -> ConfigFlowResult:
        """The same inverter (the same serial) at a new address."""
        flow = self.flow
        entry = flow._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            host = user_input[CONF_HOST].strip()
            try:
                inverter = await probe_plenticore(flow.hass, {**entry.data, CONF_HOST: host})
            except FieldError as err:
                errors[err.field if err.field == CONF_HOST else "base"] = err.error
            else:
                await flow.async_set_unique_id(inverter.serial)
                flow._abort_if_unique_id_mismatch(reason="different_device_plenticore")
                return flow.async_update_reload_and_abort(entry, data_updates={CONF_HOST: host})
        return flow.async_show_form(
            step_id=f"reconfigure_{self.vendor}",
            data_schema=host_schema(entry.data[CONF_HOST]),
            errors=errors,
        )

    @override
    @staticmethod
    def options_schema(entry: ConfigEntry) -> vol.Schema:
        """Poll intervals, never below the inverter's safe minimums."""
        return vol.Schema(interval_fields(PlenticoreOptions.from_entry(entry), MINIMUMS))
