"""Config flow: pick a vendor, enter its credentials, test them before anything is stored."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import logging
from typing import Any, override

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_HOST, CONF_PASSWORD
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio as vol

from .api.errors import (
    AccountLockedError,
    ApiConnectionError,
    AuthenticationError,
    InvalidServiceCodeError,
    SolarHubApiError,
    UnsupportedDeviceError,
)
from .api.plenticore import PlenticoreClient
from .const import CONF_SERVICE_CODE, CONF_VENDOR, DOMAIN, Vendor
from .vendors.plenticore.controls import LOCAL
from .vendors.plenticore.options import MINIMUMS, PlenticoreOptions
from .vendors.plenticore.runtime import read_device

_LOGGER = logging.getLogger(__name__)

_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_TEXT = TextSelector(TextSelectorConfig(autocomplete="off"))


@dataclass(frozen=True, slots=True)
class _Inverter:
    serial: str
    title: str


class _FieldError(Exception):
    """A probe failed; ``field`` is the form field (or "base") the message belongs to."""

    def __init__(self, field: str, error: str) -> None:
        super().__init__(error)
        self.field = field
        self.error = error


async def _probe_plenticore(
    hass: HomeAssistant, host: str, password: str, service_code: str | None
) -> _Inverter:
    """Connect, check it is a PLENTICORE, log in with the given role, read its serial, log out."""
    try:
        client = PlenticoreClient(async_get_clientsession(hass), host)
    except ValueError as err:
        raise _FieldError(CONF_HOST, "invalid_host") from err
    try:
        await client.get_version()
        await client.login(password, service_code)
        meta = await client.get_settings_meta()
        values, version = await read_device(client, meta)
    except UnsupportedDeviceError as err:
        raise _FieldError(CONF_HOST, "not_plenticore") from err
    except ApiConnectionError as err:
        raise _FieldError(CONF_HOST, "cannot_connect") from err
    except AccountLockedError as err:
        raise _FieldError(CONF_PASSWORD, "account_locked") from err
    except InvalidServiceCodeError as err:
        raise _FieldError(CONF_SERVICE_CODE, "invalid_service_code") from err
    except AuthenticationError as err:
        raise _FieldError(CONF_PASSWORD, "invalid_auth") from err
    except SolarHubApiError as err:
        _LOGGER.warning("Unexpected answer from %s: %s", host, err)
        raise _FieldError("base", "unexpected_response") from err
    finally:
        await client.logout()
    serial = values.get((LOCAL, "Properties:SerialNo"))
    if not serial:
        raise _FieldError("base", "no_serial")
    hostname = next((v for (module, _), v in values.items() if module == "scb:network"), None)
    product = values.get((LOCAL, "Branding:ProductName1")) or version.name
    return _Inverter(serial=serial, title=f"{product} ({hostname})" if hostname else product)


def _plenticore_schema(defaults: Mapping[str, Any], *, with_host: bool = True) -> vol.Schema:
    fields: dict[vol.Marker, Any] = {}
    if with_host:
        fields[vol.Required(CONF_HOST, default=defaults.get(CONF_HOST, vol.UNDEFINED))] = _TEXT
    fields[vol.Required(CONF_PASSWORD)] = _PASSWORD
    fields[
        vol.Optional(
            CONF_SERVICE_CODE,
            description={"suggested_value": defaults.get(CONF_SERVICE_CODE)},
        )
    ] = _PASSWORD
    return vol.Schema(fields)


class SolarHubConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a vendor account or device."""

    VERSION = 1

    @staticmethod
    @callback
    @override
    def async_get_options_flow(config_entry: ConfigEntry) -> SolarHubOptionsFlow:
        """Options: poll intervals."""
        return SolarHubOptionsFlow()

    @override
    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Let the user pick the vendor."""
        return self.async_show_menu(step_id="user", menu_options=[Vendor.PLENTICORE.value])

    async def async_step_plenticore(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Host and credentials of a PLENTICORE."""
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input[CONF_HOST] = user_input[CONF_HOST].strip()
            try:
                inverter = await self._probe(user_input)
            except _FieldError as err:
                errors[err.field] = err.error
            else:
                await self.async_set_unique_id(inverter.serial)
                self._abort_if_unique_id_configured(updates={CONF_HOST: user_input[CONF_HOST]})
                return self.async_create_entry(
                    title=inverter.title, data={CONF_VENDOR: Vendor.PLENTICORE, **user_input}
                )
        return self.async_show_form(
            step_id="plenticore",
            data_schema=_plenticore_schema(user_input or {}),
            errors=errors,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The inverter refused the stored credentials."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the password (and service code) again."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                inverter = await self._probe({CONF_HOST: entry.data[CONF_HOST], **user_input})
            except _FieldError as err:
                errors[err.field] = err.error
            else:
                await self.async_set_unique_id(inverter.serial)
                self._abort_if_unique_id_mismatch(reason="different_device")
                return self.async_update_reload_and_abort(
                    entry,
                    data_updates={
                        CONF_PASSWORD: user_input[CONF_PASSWORD],
                        CONF_SERVICE_CODE: user_input.get(CONF_SERVICE_CODE),
                    },
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=_plenticore_schema(entry.data, with_host=False),
            description_placeholders={"host": entry.data[CONF_HOST]},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The inverter moved to another host name or IP address."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            host = user_input[CONF_HOST].strip()
            try:
                inverter = await self._probe({**entry.data, CONF_HOST: host})
            except _FieldError as err:
                errors[err.field if err.field == CONF_HOST else "base"] = err.error
            else:
                await self.async_set_unique_id(inverter.serial)
                self._abort_if_unique_id_mismatch(reason="different_device")
                return self.async_update_reload_and_abort(entry, data_updates={CONF_HOST: host})
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=vol.Schema({vol.Required(CONF_HOST, default=entry.data[CONF_HOST]): _TEXT}),
            errors=errors,
        )

    async def _probe(self, data: Mapping[str, Any]) -> _Inverter:
        return await _probe_plenticore(
            self.hass, data[CONF_HOST], data[CONF_PASSWORD], data.get(CONF_SERVICE_CODE) or None
        )


class SolarHubOptionsFlow(OptionsFlowWithReload):
    """Poll intervals, never below the vendor's safe minimum."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the intervals; the entry reloads with the new ones."""
        if user_input is not None:
            return self.async_create_entry(data={k: int(v) for k, v in user_input.items()})
        current = PlenticoreOptions.from_entry(self.config_entry)
        return self.async_show_form(
            step_id="init",
            data_schema=vol.Schema(
                {
                    vol.Required(name, default=getattr(current, name)): NumberSelector(
                        NumberSelectorConfig(
                            min=minimum,
                            max=3600,
                            step=1,
                            unit_of_measurement="s",
                            mode=NumberSelectorMode.BOX,
                        )
                    )
                    for name, minimum in MINIMUMS.items()
                }
            ),
        )
