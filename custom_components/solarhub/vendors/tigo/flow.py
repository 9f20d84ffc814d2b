"""The Tigo part of the config flow: credentials, the systems to add, and the login probe."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
import logging
from typing import Any

from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import section
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio as vol
from yarl import URL

from ...api.errors import (
    ApiConnectionError,
    AuthenticationError,
    PermissionDeniedError,
    RateLimitedError,
    SolarHubApiError,
)
from ...api.tigo.client import DEFAULT_BASE_URL, TigoClient
from ...api.tigo.models import TigoSystem
from ...const import CONF_ADVANCED, CONF_BASE_URL, CONF_SYSTEMS
from ..probe import FieldError

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Account:
    """What the probe learned: the account's user id (unique id) and its systems."""

    user_id: int
    systems: tuple[TigoSystem, ...]


def flatten(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The form's values with the collapsed advanced section merged in."""
    data = {k: v for k, v in user_input.items() if k != CONF_ADVANCED}
    data[CONF_BASE_URL] = (user_input.get(CONF_ADVANCED) or {}).get(
        CONF_BASE_URL
    ) or DEFAULT_BASE_URL
    return data


async def probe_tigo(hass: HomeAssistant, data: Mapping[str, Any]) -> Account:
    """Log in (only Premium accounts may use the API), list the systems, log out."""
    base_url = URL(data.get(CONF_BASE_URL) or DEFAULT_BASE_URL)
    if base_url.scheme not in ("http", "https") or not base_url.host:
        raise FieldError("base", "invalid_base_url")
    try:
        client = TigoClient(
            async_get_clientsession(hass),
            data[CONF_USERNAME],
            data[CONF_PASSWORD],
            base_url=data.get(CONF_BASE_URL) or DEFAULT_BASE_URL,
        )
    except ValueError as err:
        raise FieldError("base", "invalid_base_url") from err
    try:
        token = await client.login()
        systems = await client.get_systems()
    except AuthenticationError as err:
        raise FieldError(CONF_PASSWORD, "invalid_auth") from err
    except PermissionDeniedError as err:
        raise FieldError("base", "not_premium") from err
    except RateLimitedError as err:
        raise FieldError("base", "rate_limited") from err
    except ApiConnectionError as err:
        raise FieldError("base", "cloud_unavailable") from err
    except SolarHubApiError as err:
        _LOGGER.warning("Unexpected answer from the Tigo cloud: %s", err)
        raise FieldError("base", "unexpected_response") from err
    finally:
        await client.logout()
    if not systems:
        raise FieldError("base", "no_systems")
    return Account(user_id=token.user_id, systems=tuple(systems))


def credentials_schema(defaults: Mapping[str, Any], *, with_username: bool = True) -> vol.Schema:
    """User name and password; the API address only in a collapsed advanced section."""
    fields: dict[vol.Marker, Any] = {}
    if with_username:
        fields[vol.Required(CONF_USERNAME, default=defaults.get(CONF_USERNAME, vol.UNDEFINED))] = (
            TextSelector(TextSelectorConfig(type=TextSelectorType.EMAIL, autocomplete="username"))
        )
    fields[vol.Required(CONF_PASSWORD)] = TextSelector(
        TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="current-password")
    )
    if with_username:
        fields[vol.Required(CONF_ADVANCED)] = section(
            vol.Schema(
                {
                    vol.Optional(
                        CONF_BASE_URL, default=defaults.get(CONF_BASE_URL, DEFAULT_BASE_URL)
                    ): TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
                }
            ),
            {"collapsed": True},
        )
    return vol.Schema(fields)


def systems_schema(systems: Sequence[TigoSystem], selected: Sequence[int] | None) -> vol.Schema:
    """Which of the account's systems to add (all by default)."""
    chosen = [str(s) for s in selected] if selected else [str(s.system_id) for s in systems]
    return vol.Schema(
        {
            vol.Required(CONF_SYSTEMS, default=chosen): SelectSelector(
                SelectSelectorConfig(
                    options=[
                        SelectOptionDict(value=str(s.system_id), label=s.name) for s in systems
                    ],
                    multiple=True,
                    mode=SelectSelectorMode.LIST,
                )
            )
        }
    )
