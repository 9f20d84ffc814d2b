"""Enlighten API v4 in the config flow: OAuth2, then the API key, the plan and the systems.

Step ids: ``enlighten_v4`` (what comes next; the Enlighten address in a collapsed section, for
a simulator; then OAuth2),
``enlighten_v4_api_key`` (checked with one ``systems`` request, whose answer the picker shows),
``enlighten_v4_plan``, the shared ``systems``; ``reauth_enlighten_v4`` walks OAuth2 again for the
same Enphase user (``enl_uid``), ``reconfigure_enlighten_v4`` walks the whole way again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final, override

from homeassistant.config_entries import SOURCE_REAUTH, SOURCE_RECONFIGURE
from homeassistant.const import CONF_API_KEY
from homeassistant.data_entry_flow import section
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import TextSelector, TextSelectorConfig, TextSelectorType
import probatio as vol
from yarl import URL

from ...api.enlighten.client import DEFAULT_V4_BASE_URL, EnlightenV4Client
from ...api.enlighten.errors import KeyClientMismatchError
from ...api.enlighten.models import EnlightenSystem
from ...api.errors import (
    ApiConnectionError,
    AuthenticationError,
    RateLimitedError,
    SolarHubApiError,
)
from ...const import (
    CONF_ADVANCED,
    CONF_API_VERSION,
    CONF_BASE_URL,
    CONF_SYSTEMS,
    CONF_VENDOR,
    Vendor,
)
from ..flow import OAuthVendorFlow, StepInput, system_choices, systems_title
from .flow import EnlightenFlow, plan_data, plan_schema
from .oauth import CONF_ENL_UID, EnphaseOAuth2Implementation
from .options import CONF_PER_MINUTE, CONF_PER_MONTH
from .plans import V4_WATT, ApiVersion

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry, ConfigFlowResult
    from homeassistant.helpers.config_entry_oauth2_flow import AbstractOAuth2Implementation

    from ...config_flow import SolarHubConfigFlow

ENLIGHTEN_V4: Final = "enlighten_v4"
V4_PLAN_DEFAULTS: Final = {CONF_PER_MINUTE: V4_WATT.per_minute, CONF_PER_MONTH: V4_WATT.per_month}
KEY_CHECK_TIMEOUT: Final = 30.0


def unique_id(enl_uid: object) -> str:
    """The entry's unique id: the Enphase user the token belongs to."""
    return f"enlighten_v4_{enl_uid}"


def _base_url(value: str) -> str:
    """A v4 address as stored: an http(s) URL without a trailing slash."""
    url = URL(value.strip().rstrip("/"))
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(value)
    return str(url)


class EnlightenV4Flow(OAuthVendorFlow):
    """Set up, reauthorise or reconfigure an Enlighten v4 account."""

    vendor = Vendor.ENLIGHTEN
    steps = ("api_key", "plan")
    oauth_abort_reasons: ClassVar[Mapping[str, str]] = {
        "user_rejected_authorize": "consent_denied_enlighten",
        "oauth_unauthorized": "client_refused_enlighten",
    }

    def __init__(self, flow: SolarHubConfigFlow) -> None:
        """Nothing known before the user signs in."""
        super().__init__(flow)
        self._base_url: str | None = None
        self._oauth: dict[str, Any] = {}
        self._api_key = ""
        self._systems: list[EnlightenSystem] = []
        self._plan: dict[str, Any] = {}

    # -- set up ------------------------------------------------------------------------------

    @override
    async def async_step_setup(self, user_input: StepInput) -> ConfigFlowResult:
        """Step ``enlighten_v4``: what comes next; the Enlighten address in a collapsed section."""
        errors: dict[str, str] = {}
        if user_input is not None:
            advanced = user_input.get(CONF_ADVANCED) or {}
            try:
                self._base_url = _base_url(advanced.get(CONF_BASE_URL) or DEFAULT_V4_BASE_URL)
            except ValueError:
                errors["base"] = "invalid_base_url"
            else:
                return await self.flow.async_start_oauth(self)
        address = vol.Schema(
            {
                vol.Optional(CONF_BASE_URL, default=DEFAULT_V4_BASE_URL): TextSelector(
                    TextSelectorConfig(type=TextSelectorType.URL)
                )
            }
        )
        return self.flow.async_show_form(
            step_id=ENLIGHTEN_V4,
            data_schema=vol.Schema(
                {vol.Required(CONF_ADVANCED): section(address, {"collapsed": True})}
            ),
            errors=errors,
        )

    @override
    def oauth_implementation(
        self, implementation: AbstractOAuth2Implementation
    ) -> AbstractOAuth2Implementation:
        """Enphase's credential on the chosen Enlighten address's OAuth2 server."""
        if isinstance(implementation, EnphaseOAuth2Implementation):
            return implementation.at(self._base_url)
        return implementation

    @override
    async def async_oauth_done(self, data: dict[str, Any]) -> ConfigFlowResult:
        """Signed in: the token names the Enphase user; a reauth ends here, set-up goes on."""
        flow = self.flow
        enl_uid = data["token"].get(CONF_ENL_UID)
        if not enl_uid:
            return flow.async_abort(reason="oauth_error")
        await flow.async_set_unique_id(unique_id(enl_uid))
        if flow.source == SOURCE_REAUTH:
            flow._abort_if_unique_id_mismatch(reason="different_user_enlighten_v4")
            return flow.async_update_reload_and_abort(flow._get_reauth_entry(), data_updates=data)
        if flow.source == SOURCE_RECONFIGURE:
            flow._abort_if_unique_id_mismatch(reason="different_user_enlighten_v4")
        else:
            flow._abort_if_unique_id_configured(error="already_configured_enlighten")
        self._oauth = data
        return await self.async_step_api_key(None)

    async def async_step_api_key(self, user_input: StepInput) -> ConfigFlowResult:
        """Step ``enlighten_v4_api_key``: the app's key, checked with one ``systems`` request."""
        errors: dict[str, str] = {}
        if user_input is not None:
            key = str(user_input[CONF_API_KEY]).strip()
            try:
                systems = await self._client(key).get_systems()
            except KeyClientMismatchError:
                errors[CONF_API_KEY] = "key_client_mismatch_enlighten"
            except AuthenticationError:
                errors[CONF_API_KEY] = "invalid_auth_enlighten"
            except RateLimitedError:
                errors[CONF_API_KEY] = "throttled_enlighten_v4"
            except ApiConnectionError:
                errors["base"] = "cannot_connect"
            except SolarHubApiError:
                errors["base"] = "unexpected_response"
            else:
                if systems:
                    self._api_key, self._systems = key, systems
                    return await self.async_step_plan(None)
                errors["base"] = "no_systems_enlighten"
        current = self._current().get(CONF_API_KEY, vol.UNDEFINED)
        return self.flow.async_show_form(
            step_id=f"{ENLIGHTEN_V4}_api_key",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_API_KEY, default=current): TextSelector(
                        TextSelectorConfig(type=TextSelectorType.PASSWORD)
                    )
                }
            ),
            errors=errors,
        )

    async def async_step_plan(self, user_input: StepInput) -> ConfigFlowResult:
        """Step ``enlighten_v4_plan``: the app's plan (custom: its limits), then the systems."""
        current = self._current()
        if user_input is not None:
            self._plan = plan_data(user_input)
            chosen = current.get(CONF_SYSTEMS)
            return await self.flow.async_pick_systems(
                system_choices(self._systems), chosen, self._async_chosen
            )
        return self.flow.async_show_form(
            step_id=f"{ENLIGHTEN_V4}_plan", data_schema=plan_schema({**V4_PLAN_DEFAULTS, **current})
        )

    async def _async_chosen(self, chosen: list[int]) -> ConfigFlowResult:
        data = {
            **self._oauth,
            CONF_VENDOR: Vendor.ENLIGHTEN,
            CONF_API_VERSION: ApiVersion.V4,
            CONF_API_KEY: self._api_key,
            CONF_BASE_URL: self._base_url or DEFAULT_V4_BASE_URL,
            **self._plan,
            CONF_SYSTEMS: chosen,
        }
        name = systems_title("Enlighten", self._systems, chosen)
        if self.flow.source == SOURCE_RECONFIGURE:
            return self.flow.async_update_reload_and_abort(
                self.flow._get_reconfigure_entry(), title=name, data=data
            )
        return self.flow.async_create_entry(title=name, data=data)

    # -- reauth and reconfigure ----------------------------------------------------------------

    @override
    async def async_step_reauth(self, user_input: StepInput) -> ConfigFlowResult:
        """Step ``reauth_enlighten_v4``: Enphase refused the refresh token; sign in again."""
        if user_input is None:
            return self.flow.async_show_form(step_id=f"reauth_{ENLIGHTEN_V4}")
        entry = self.flow._get_reauth_entry()
        return await self._async_oauth_again(entry)

    @override
    async def async_step_reconfigure(self, user_input: StepInput) -> ConfigFlowResult:
        """Step ``reconfigure_enlighten_v4``: sign in again, then key, plan and systems."""
        return await self._async_oauth_again(self.flow._get_reconfigure_entry())

    async def _async_oauth_again(self, entry: ConfigEntry) -> ConfigFlowResult:
        self._base_url = entry.data.get(CONF_BASE_URL)
        return await self.flow.async_start_oauth(self, entry.data.get("auth_implementation"))

    @staticmethod
    @override
    def options_schema(entry: ConfigEntry) -> vol.Schema:
        """The same options as a v2 entry's (plan limits, history import)."""
        return EnlightenFlow.options_schema(entry)

    # -- helpers -------------------------------------------------------------------------------

    def _current(self) -> Mapping[str, Any]:
        """The entry being reconfigured (its key, plan and systems as defaults), else nothing."""
        if self.flow.source == SOURCE_RECONFIGURE:
            return self.flow._get_reconfigure_entry().data
        return {}

    def _client(self, key: str) -> EnlightenV4Client:
        access_token = str(self._oauth["token"]["access_token"])

        async def token() -> str:
            return access_token

        return EnlightenV4Client(
            async_get_clientsession(self.flow.hass),
            key,
            token,
            base_url=self._base_url or DEFAULT_V4_BASE_URL,
            request_timeout=KEY_CHECK_TIMEOUT,
        )
