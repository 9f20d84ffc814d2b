"""Config flow: the vendor menu; every further step is the vendor's (``vendors/*/flow.py``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
import logging
from typing import Any, override

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.core import callback
from homeassistant.helpers.config_entry_oauth2_flow import AbstractOAuth2FlowHandler

from .const import CONF_API_VERSION, CONF_VENDOR, DOMAIN, Vendor
from .vendors.enlighten.flow import EnlightenFlow
from .vendors.enlighten.flow_v4 import ENLIGHTEN_V4, EnlightenV4Flow
from .vendors.flow import (
    OAuthVendorFlow,
    StepInput,
    SystemChoice,
    SystemPick,
    SystemsChosen,
    VendorFlow,
)
from .vendors.plenticore.flow import PlenticoreFlow
from .vendors.tigo.flow import TigoFlow

# The vendor menu, in the order shown: adding a vendor adds its package and one line here.
# A vendor with one flow per API keys the extra ones ``<vendor>_<api_version>``.
VENDOR_FLOWS: Mapping[str, type[VendorFlow]] = {
    Vendor.PLENTICORE: PlenticoreFlow,
    Vendor.TIGO: TigoFlow,
    Vendor.ENLIGHTEN: EnlightenFlow,
    ENLIGHTEN_V4: EnlightenV4Flow,
}

type Step = Callable[[StepInput], Awaitable[ConfigFlowResult]]


def flow_key(data: Mapping[str, Any]) -> str:
    """The ``VENDOR_FLOWS`` key of a stored entry: its vendor, or its vendor's flow for its API."""
    keyed = f"{data[CONF_VENDOR]}_{data.get(CONF_API_VERSION)}"
    return keyed if keyed in VENDOR_FLOWS else str(data[CONF_VENDOR])


class SolarHubConfigFlow(AbstractOAuth2FlowHandler, domain=DOMAIN):
    """Add a vendor account or device; the vendor's ``VendorFlow`` runs the steps.

    Home Assistant's OAuth2 steps (``pick_implementation``, ``auth``, ``creation``) run for a
    vendor that starts them with :meth:`async_start_oauth`; the vendor continues afterwards.
    """

    DOMAIN = DOMAIN
    VERSION = 1
    MINOR_VERSION = 2  # 1.2: Tigo titles carry system names instead of the account's e-mail

    def __init__(self) -> None:
        """No vendor chosen yet."""
        self._oauth: OAuthVendorFlow | None = None
        super().__init__()
        self._vendors: dict[str, VendorFlow] = {}
        self._pick: SystemPick | None = None

    @property
    @override
    def logger(self) -> logging.Logger:
        """The logger of Home Assistant's OAuth2 steps."""
        return logging.getLogger(__name__)

    @staticmethod
    @callback
    @override
    def async_get_options_flow(config_entry: ConfigEntry) -> SolarHubOptionsFlow:
        """Options: the vendor's poll intervals and choices."""
        return SolarHubOptionsFlow()

    @override
    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Let the user pick the vendor."""
        return self.async_show_menu(step_id="user", menu_options=[str(v) for v in VENDOR_FLOWS])

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The vendor refused the stored credentials: its ``reauth_<vendor>`` step asks again."""
        return await self._step(f"reauth_{flow_key(entry_data)}")(None)

    async def async_step_reconfigure(self, user_input: StepInput = None) -> ConfigFlowResult:
        """The entry's ``reconfigure_<vendor>`` step."""
        key = flow_key(self._get_reconfigure_entry().data)
        return await self._step(f"reconfigure_{key}")(user_input)

    async def async_start_oauth(
        self, vendor: OAuthVendorFlow, implementation: str | None = None
    ) -> ConfigFlowResult:
        """Walk OAuth2 for ``vendor`` (with the stored ``implementation`` on reauth)."""
        self._oauth = vendor
        picked = None if implementation is None else {"implementation": implementation}
        return await self.async_step_pick_implementation(picked)

    @override
    async def async_step_auth(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Send the user to the vendor's authorize URL (the vendor may place the server)."""
        if user_input is None and self._oauth is not None:
            self.flow_impl = self._oauth.oauth_implementation(self.flow_impl)
        return await super().async_step_auth(user_input)

    @override
    async def async_oauth_create_entry(self, data: dict[str, Any]) -> ConfigFlowResult:
        """OAuth2 done: the vendor that started it continues."""
        assert self._oauth is not None  # noqa: S101  (only a vendor's flow starts OAuth2)
        return await self._oauth.async_oauth_done(data)

    @callback
    @override
    def async_abort(
        self,
        *,
        reason: str,
        description_placeholders: Mapping[str, str] | None = None,
        translation_domain: str | None = None,
        next_flow: tuple[Any, str] | None = None,
    ) -> ConfigFlowResult:
        """Abort; an OAuth2 vendor words Home Assistant's OAuth2 reasons itself where it can."""
        if self._oauth is not None:
            reason = self._oauth.oauth_abort_reasons.get(reason, reason)
        return super().async_abort(
            reason=reason,
            description_placeholders=description_placeholders,
            translation_domain=translation_domain,
            next_flow=next_flow,
        )

    async def async_pick_systems(
        self,
        systems: Sequence[SystemChoice],
        selected: Sequence[int] | None,
        chosen: SystemsChosen,
    ) -> ConfigFlowResult:
        """Show the shared ``systems`` step; ``chosen`` gets the ids once at least one is ticked."""
        self._pick = SystemPick(tuple(systems), tuple(selected) if selected else None, chosen)
        return await self._pick.async_step(self, None)

    def __getattr__(self, name: str) -> Step:
        """Home Assistant looks up ``async_step_<step id>``: vendor step ids lead to the vendor.

        ``systems`` exists while a vendor has handed its systems to ``async_pick_systems``.
        """
        if name == "async_step_systems" and self._pick is not None:
            return partial(self._pick.async_step, self)
        if (target := STEPS.get(name.removeprefix("async_step_"))) is None:
            raise AttributeError(name)
        vendor, method = target
        if (flow := self._vendors.get(vendor)) is None:
            flow = self._vendors[vendor] = VENDOR_FLOWS[vendor](self)
        step: Step = getattr(flow, method)
        return step

    def _step(self, step_id: str) -> Step:
        step: Step = getattr(self, f"async_step_{step_id}")
        return step


def _steps() -> dict[str, tuple[str, str]]:
    """Each vendor step id and the ``VendorFlow`` method that runs it."""
    steps: dict[str, tuple[str, str]] = {}
    for vendor, flow in VENDOR_FLOWS.items():
        steps[vendor] = (vendor, "async_step_setup")
        steps[f"reauth_{vendor}"] = (vendor, "async_step_reauth")
        steps[f"reconfigure_{vendor}"] = (vendor, "async_step_reconfigure")
        steps.update({f"{vendor}_{name}": (vendor, f"async_step_{name}") for name in flow.steps})
    return steps


STEPS = _steps()


class SolarHubOptionsFlow(OptionsFlowWithReload):
    """The vendor's options form; the entry reloads with the new options."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the options; lists stay lists, everything else is a whole number of seconds."""
        if user_input is not None:
            return self.async_create_entry(
                data={k: v if isinstance(v, list) else int(v) for k, v in user_input.items()}
            )
        key = flow_key(self.config_entry.data)
        return self.async_show_form(
            step_id="init", data_schema=VENDOR_FLOWS[key].options_schema(self.config_entry)
        )
