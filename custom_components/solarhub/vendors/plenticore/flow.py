"""The PLENTICORE part of the config flow: the form and the connection probe."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import logging
from typing import Any

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
from ...const import CONF_SERVICE_CODE
from ..probe import FieldError
from .const import LOCAL, NETWORK
from .runtime import read_device

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
        raise FieldError(CONF_PASSWORD, "invalid_auth") from err
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
