"""The Enlighten v2 steps of the config flow: key and user id, plan, systems; reauth, reconfigure.

The probe is one request (the systems list). When the key already has an account in this Home
Assistant (another entry), the probe's request goes into its ledger too. The v4 (OAuth2) steps
are ``flow_v4.py``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import TYPE_CHECKING, Any, override

from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import section
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.util import dt as dt_util
import probatio as vol
from yarl import URL

from ...api.enlighten.client import DEFAULT_V2_BASE_URL, EnlightenV2Client
from ...api.enlighten.errors import UnknownUserError
from ...api.enlighten.models import EnlightenSystem
from ...api.errors import (
    ApiConnectionError,
    AuthenticationError,
    RateLimitedError,
    RatePeriod,
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
from ..flow import StepInput, VendorFlow, system_choices, systems_title
from ..probe import FieldError
from .options import (
    CONF_HISTORY_IMPORT,
    CONF_PER_MINUTE,
    CONF_PER_MONTH,
    CONF_PLAN,
    PLAN_NAMES,
    EnlightenOptions,
)
from .plans import ApiVersion
from .runtime import CONF_USER_ID
from .scheduler import existing_account

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry, ConfigFlowResult

    from ...config_flow import SolarHubConfigFlow

_LOGGER = logging.getLogger(__name__)


class Throttled(FieldError):
    """Enphase refused the probe over a limit; ``placeholders`` say until when."""

    def __init__(self, error: str, placeholders: dict[str, str]) -> None:
        """A base error with its placeholders."""
        super().__init__("base", error)
        self.placeholders = placeholders


def flatten(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The form's values (stripped) with the collapsed advanced section merged in."""
    data = {k: v.strip() if isinstance(v, str) else v for k, v in user_input.items()}
    data.pop(CONF_ADVANCED, None)
    data[CONF_BASE_URL] = (user_input.get(CONF_ADVANCED) or {}).get(
        CONF_BASE_URL
    ) or DEFAULT_V2_BASE_URL
    return data


async def probe_enlighten(hass: HomeAssistant, data: Mapping[str, Any]) -> list[EnlightenSystem]:
    """List the systems (one request): proves the key and the user id."""
    raw_url = data.get(CONF_BASE_URL) or DEFAULT_V2_BASE_URL
    try:
        base_url = URL(raw_url)
    except ValueError as err:
        raise FieldError("base", "invalid_base_url") from err
    if base_url.scheme not in ("http", "https") or not base_url.host:
        raise FieldError("base", "invalid_base_url")
    account = existing_account(hass, data[CONF_API_KEY])
    client = EnlightenV2Client(
        async_get_clientsession(hass),
        data[CONF_API_KEY],
        data[CONF_USER_ID],
        base_url=raw_url,
        on_request=account.on_request if account is not None else None,
    )
    try:
        systems = await client.get_systems()
    except UnknownUserError as err:
        raise FieldError(CONF_USER_ID, "unknown_user_enlighten") from err
    except AuthenticationError as err:
        raise FieldError(CONF_API_KEY, "invalid_auth_enlighten") from err
    except RateLimitedError as err:
        if account is not None:
            account.record_rate_limited(err)
        raise _throttled(err) from err
    except ApiConnectionError as err:
        raise FieldError("base", "cannot_connect") from err
    except SolarHubApiError as err:
        _LOGGER.warning("Unexpected answer from Enlighten: %s", err)
        raise FieldError("base", "unexpected_response") from err
    if not systems:
        raise FieldError("base", "no_systems_enlighten")
    return systems


def _throttled(err: RateLimitedError) -> Throttled:
    if err.period is RatePeriod.MONTH:
        until = err.period_end or dt_util.utcnow()
        return Throttled(
            "throttled_month_enlighten",
            {"until": dt_util.as_local(until).strftime("%Y-%m-%d %H:%M")},
        )
    return Throttled("throttled_minute_enlighten", {"seconds": str(max(1, round(err.retry_after)))})


def credentials_schema(defaults: Mapping[str, Any], *, advanced: bool = True) -> vol.Schema:
    """API key and user id; the API address only in a collapsed advanced section."""
    fields: dict[vol.Marker, Any] = {
        vol.Required(CONF_API_KEY, default=defaults.get(CONF_API_KEY, vol.UNDEFINED)): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD)
        ),
        vol.Required(CONF_USER_ID, default=defaults.get(CONF_USER_ID, vol.UNDEFINED)): TextSelector(
            TextSelectorConfig(type=TextSelectorType.TEXT)
        ),
    }
    if advanced:
        fields[vol.Required(CONF_ADVANCED)] = section(
            vol.Schema(
                {
                    vol.Optional(
                        CONF_BASE_URL, default=defaults.get(CONF_BASE_URL, DEFAULT_V2_BASE_URL)
                    ): TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
                }
            ),
            {"collapsed": True},
        )
    return vol.Schema(fields)


def _limit() -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(min=1, max=10_000_000, step=1, mode=NumberSelectorMode.BOX)
    )


def plan_schema(defaults: Mapping[str, Any]) -> vol.Schema:
    """The plan; a custom plan's limits (ignored for the named plans)."""
    return vol.Schema(
        {
            vol.Required(CONF_PLAN, default=defaults.get(CONF_PLAN, "watt")): SelectSelector(
                SelectSelectorConfig(
                    options=list(PLAN_NAMES),
                    mode=SelectSelectorMode.LIST,
                    translation_key="enlighten_plan",
                )
            ),
            vol.Optional(CONF_PER_MINUTE, default=defaults.get(CONF_PER_MINUTE, 10)): _limit(),
            vol.Optional(CONF_PER_MONTH, default=defaults.get(CONF_PER_MONTH, 10_000)): _limit(),
        }
    )


def plan_data(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The plan as stored: the limits only for a custom plan."""
    data: dict[str, Any] = {CONF_PLAN: user_input[CONF_PLAN]}
    if user_input[CONF_PLAN] == "custom":
        data[CONF_PER_MINUTE] = int(user_input[CONF_PER_MINUTE])
        data[CONF_PER_MONTH] = int(user_input[CONF_PER_MONTH])
    return data


class EnlightenFlow(VendorFlow):
    """An Enlighten v2 API key and user id: the user id is the unique id."""

    vendor = Vendor.ENLIGHTEN
    steps = ("plan",)

    def __init__(self, flow: SolarHubConfigFlow) -> None:
        """Nothing learned yet."""
        super().__init__(flow)
        self._data: dict[str, Any] = {}
        self._systems: list[EnlightenSystem] = []

    async def _probe(
        self, data: Mapping[str, Any], errors: dict[str, str], placeholders: dict[str, str]
    ) -> list[EnlightenSystem] | None:
        try:
            return await probe_enlighten(self.flow.hass, data)
        except Throttled as err:
            placeholders.update(err.placeholders)
            errors[err.field] = err.error
        except FieldError as err:
            errors[err.field] = err.error
        return None

    @override
    async def async_step_setup(self, user_input: StepInput) -> ConfigFlowResult:
        """API key and user id (the API address an advanced, collapsed field), then the plan."""
        flow = self.flow
        errors: dict[str, str] = {}
        placeholders = {"seconds": "", "until": ""}
        if user_input is not None:
            data = flatten(user_input)
            if (systems := await self._probe(data, errors, placeholders)) is not None:
                await flow.async_set_unique_id(f"enlighten_{data[CONF_USER_ID]}")
                flow._abort_if_unique_id_configured(error="already_configured_enlighten")
                self._data = {
                    CONF_VENDOR: Vendor.ENLIGHTEN,
                    CONF_API_VERSION: ApiVersion.V2,
                    **data,
                }
                self._systems = systems
                return await self.async_step_plan(None)
        return flow.async_show_form(
            step_id=self.vendor,
            data_schema=credentials_schema(flatten(user_input) if user_input else {}),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_plan(self, user_input: StepInput) -> ConfigFlowResult:
        """Step ``enlighten_plan``: which Enphase plan the key has."""
        if user_input is not None:
            self._data |= plan_data(user_input)
            return await self.flow.async_pick_systems(
                system_choices(self._systems), None, self._create
            )
        return self.flow.async_show_form(
            step_id=f"{self.vendor}_plan", data_schema=plan_schema(self._data)
        )

    async def _create(self, chosen: list[int]) -> ConfigFlowResult:
        return self.flow.async_create_entry(
            title=systems_title("Enlighten", self._systems, chosen),
            data={**self._data, CONF_SYSTEMS: chosen},
        )

    @override
    async def async_step_reauth(self, user_input: StepInput) -> ConfigFlowResult:
        """The API key and user id again (the same user: the unique id must match)."""
        flow = self.flow
        entry = flow._get_reauth_entry()
        errors: dict[str, str] = {}
        placeholders = {"seconds": "", "until": ""}
        if user_input is not None:
            data = {
                **entry.data,
                **flatten(user_input),
                CONF_BASE_URL: entry.data.get(CONF_BASE_URL),
            }
            if await self._probe(data, errors, placeholders) is not None:
                await flow.async_set_unique_id(f"enlighten_{data[CONF_USER_ID]}")
                flow._abort_if_unique_id_mismatch(reason="different_device_enlighten")
                return flow.async_update_reload_and_abort(
                    entry,
                    data_updates={
                        CONF_API_KEY: data[CONF_API_KEY],
                        CONF_USER_ID: data[CONF_USER_ID],
                    },
                )
        return flow.async_show_form(
            step_id=f"reauth_{self.vendor}",
            data_schema=credentials_schema(
                {CONF_USER_ID: entry.data[CONF_USER_ID]}, advanced=False
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    @override
    async def async_step_reconfigure(self, user_input: StepInput) -> ConfigFlowResult:
        """Choose the plan and the systems again (one request: the systems list)."""
        flow = self.flow
        entry = flow._get_reconfigure_entry()
        if user_input is None:
            try:
                self._systems = await probe_enlighten(flow.hass, entry.data)
            except FieldError as err:
                return flow.async_abort(reason=err.error)
            return flow.async_show_form(
                step_id=f"reconfigure_{self.vendor}", data_schema=plan_schema(entry.data)
            )
        plan = plan_data(user_input)

        async def update(chosen: list[int]) -> ConfigFlowResult:
            # The plan chosen now wins over limits set before (in the data or the options).
            limits = (CONF_PER_MINUTE, CONF_PER_MONTH)
            return flow.async_update_reload_and_abort(
                entry,
                title=systems_title("Enlighten", self._systems, chosen),
                data={
                    **{k: v for k, v in entry.data.items() if k not in limits},
                    **plan,
                    CONF_SYSTEMS: chosen,
                },
                options={k: v for k, v in entry.options.items() if k not in limits},
            )

        return await flow.async_pick_systems(
            system_choices(self._systems), entry.data[CONF_SYSTEMS], update
        )

    @override
    @staticmethod
    def options_schema(entry: ConfigEntry) -> vol.Schema:
        """The plan's limits (a custom plan) and the first run's history import."""
        current = EnlightenOptions.from_entry(entry)
        return vol.Schema(
            {
                vol.Required(CONF_PER_MINUTE, default=current.plan.per_minute): _limit(),
                vol.Required(CONF_PER_MONTH, default=current.plan.per_month): _limit(),
                vol.Required(
                    CONF_HISTORY_IMPORT, default=current.history_import
                ): BooleanSelector(),
            }
        )
