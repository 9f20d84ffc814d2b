"""The Tigo steps of the config flow: account, systems, reauth, reconfigure, options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import logging
from typing import TYPE_CHECKING, Any, override

from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import section
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    SelectSelector,
    SelectSelectorConfig,
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
from ...const import CONF_ADVANCED, CONF_BASE_URL, CONF_SYSTEMS, CONF_VENDOR, Vendor
from ..flow import CredentialsFlow, StepInput, interval_fields, system_choices, systems_title
from ..probe import FieldError
from .options import MINIMUMS, PanelMetric, TigoOptions

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry, ConfigFlowResult

    from ...config_flow import SolarHubConfigFlow

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
    raw_url = data.get(CONF_BASE_URL) or DEFAULT_BASE_URL
    try:
        base_url = URL(raw_url)
    except ValueError as err:
        raise FieldError("base", "invalid_base_url") from err
    if base_url.scheme not in ("http", "https") or not base_url.host:
        raise FieldError("base", "invalid_base_url")
    client = TigoClient(
        async_get_clientsession(hass), data[CONF_USERNAME], data[CONF_PASSWORD], base_url=raw_url
    )
    try:
        token = await client.login()
        systems = await client.get_systems()
    except AuthenticationError as err:
        raise FieldError(CONF_PASSWORD, "invalid_auth_tigo") from err
    except PermissionDeniedError as err:
        raise FieldError("base", "not_premium") from err
    except RateLimitedError as err:
        raise FieldError("base", "rate_limited") from err
    except ApiConnectionError as err:
        raise FieldError("base", "cannot_connect") from err
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


class TigoFlow(CredentialsFlow):
    """A Tigo cloud account: its user id is the unique id; it offers one or more systems."""

    vendor = Vendor.TIGO
    reauth_fields = (CONF_PASSWORD,)
    reauth_name = CONF_USERNAME
    different_device = "different_device_tigo"

    def __init__(self, flow: SolarHubConfigFlow) -> None:
        """Nothing learned yet."""
        super().__init__(flow)
        self._data: dict[str, Any] = {}
        self._systems: tuple[TigoSystem, ...] = ()

    @override
    async def async_step_setup(self, user_input: StepInput) -> ConfigFlowResult:
        """Account credentials (the API address is an advanced, collapsed field), then systems."""
        flow = self.flow
        errors: dict[str, str] = {}
        if user_input is not None:
            data = flatten(user_input)
            data[CONF_USERNAME] = data[CONF_USERNAME].strip()
            try:
                account = await probe_tigo(flow.hass, data)
            except FieldError as err:
                errors[err.field] = err.error
            else:
                await flow.async_set_unique_id(f"tigo_{account.user_id}")
                flow._abort_if_unique_id_configured(error="already_configured_tigo")
                self._data = {CONF_VENDOR: Vendor.TIGO, **data}
                self._systems = account.systems
                return await flow.async_pick_systems(
                    system_choices(account.systems), None, self._create
                )
        return flow.async_show_form(
            step_id=self.vendor,
            data_schema=credentials_schema(flatten(user_input) if user_input else {}),
            errors=errors,
        )

    async def _create(self, chosen: list[int]) -> ConfigFlowResult:
        return self.flow.async_create_entry(
            title=systems_title("Tigo", self._systems, chosen),
            data={**self._data, CONF_SYSTEMS: chosen},
        )

    @override
    async def async_unique_id(self, data: Mapping[str, Any]) -> str:
        """``tigo_<user id>`` of the account."""
        return f"tigo_{(await probe_tigo(self.flow.hass, data)).user_id}"

    @override
    def reauth_schema(self, entry: ConfigEntry) -> vol.Schema:
        """The account's password again (the user name stays: it is the same account)."""
        return credentials_schema(entry.data, with_username=False)

    @override
    async def async_step_reconfigure(self, user_input: StepInput) -> ConfigFlowResult:
        """Choose again which of the account's systems are added."""
        flow = self.flow
        entry = flow._get_reconfigure_entry()
        try:
            account = await probe_tigo(flow.hass, entry.data)
        except FieldError as err:
            return flow.async_abort(reason=err.error)

        async def update(chosen: list[int]) -> ConfigFlowResult:
            return flow.async_update_reload_and_abort(
                entry,
                title=systems_title("Tigo", account.systems, chosen),
                data_updates={CONF_SYSTEMS: chosen},
            )

        return await flow.async_pick_systems(
            system_choices(account.systems), entry.data[CONF_SYSTEMS], update
        )

    @override
    @staticmethod
    def options_schema(entry: ConfigEntry) -> vol.Schema:
        """Panel metrics and poll intervals (never below the cloud-friendly minimums)."""
        current = TigoOptions.from_entry(entry)
        fields: dict[vol.Marker, Any] = {
            vol.Required("panel_metrics", default=[m.value for m in current.panel_metrics]): (
                SelectSelector(
                    SelectSelectorConfig(
                        options=[m.value for m in PanelMetric],
                        multiple=True,
                        translation_key="panel_metrics",
                    )
                )
            )
        }
        return vol.Schema(fields | interval_fields(current, MINIMUMS))
