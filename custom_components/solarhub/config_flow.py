"""Config flow: the vendor menu; every further step is the vendor's (``vendors/*/flow.py``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import Any, override

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.core import callback

from .const import CONF_VENDOR, DOMAIN, Vendor
from .vendors.enlighten.flow import EnlightenFlow
from .vendors.flow import (
    StepInput,
    SystemChoice,
    SystemPick,
    SystemsChosen,
    VendorFlow,
)
from .vendors.plenticore.flow import PlenticoreFlow
from .vendors.tigo.flow import TigoFlow

# The vendor menu, in the order shown: adding a vendor adds its package and one line here.
VENDOR_FLOWS: Mapping[Vendor, type[VendorFlow]] = {
    Vendor.PLENTICORE: PlenticoreFlow,
    Vendor.TIGO: TigoFlow,
    Vendor.ENLIGHTEN: EnlightenFlow,
}

type Step = Callable[[StepInput], Awaitable[ConfigFlowResult]]


class SolarHubConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a vendor account or device; the vendor's ``VendorFlow`` runs the steps."""

    VERSION = 1
    MINOR_VERSION = 2  # 1.2: Tigo titles carry system names instead of the account's e-mail

    def __init__(self) -> None:
        """No vendor chosen yet."""
        self._vendors: dict[Vendor, VendorFlow] = {}
        self._pick: SystemPick | None = None

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
        return await self._step(f"reauth_{entry_data[CONF_VENDOR]}")(None)

    async def async_step_reconfigure(self, user_input: StepInput = None) -> ConfigFlowResult:
        """The entry's ``reconfigure_<vendor>`` step."""
        vendor = self._get_reconfigure_entry().data[CONF_VENDOR]
        return await self._step(f"reconfigure_{vendor}")(user_input)

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


def _steps() -> dict[str, tuple[Vendor, str]]:
    """Each vendor step id and the ``VendorFlow`` method that runs it."""
    steps: dict[str, tuple[Vendor, str]] = {}
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
        vendor = Vendor(self.config_entry.data[CONF_VENDOR])
        return self.async_show_form(
            step_id="init", data_schema=VENDOR_FLOWS[vendor].options_schema(self.config_entry)
        )
