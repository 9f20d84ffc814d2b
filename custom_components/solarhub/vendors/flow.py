"""The vendor side of the config flow: the interface each vendor implements, and shared pieces.

The handler in ``config_flow.py`` shows the vendor menu and hands every step to the chosen
vendor's ``VendorFlow``. Step ids are symmetric: ``<vendor>`` (set up), ``reauth_<vendor>``,
``reconfigure_<vendor>``; a vendor's further steps are ``<vendor>_<name>`` and run its
``async_step_<name>``. A vendor with several systems per account hands them to the shared
``systems`` step (``flow.async_pick_systems``), which returns the ids the user chose.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import probatio as vol

from ..const import CONF_SYSTEMS

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry, ConfigFlowResult

    from ..config_flow import SolarHubConfigFlow
    from ..const import Vendor

type StepInput = dict[str, Any] | None
type SystemsChosen = Callable[[list[int]], Awaitable[ConfigFlowResult]]


class VendorFlow(ABC):
    """One vendor's steps, run on behalf of the config flow handler ``flow``.

    The vendor uses the handler for everything Home Assistant offers a flow (forms, unique ids,
    entries); the handler keeps no vendor knowledge. A vendor that needs OAuth2 starts the
    handler's ``async_step_pick_implementation`` from its set-up step and continues in
    ``async_oauth_done`` (see ``SolarHubConfigFlow.async_oauth_create_entry``).
    """

    vendor: ClassVar[Vendor]
    steps: ClassVar[tuple[str, ...]] = ()
    """Further steps: ``<name>`` is step id ``<vendor>_<name>``, run by ``async_step_<name>``."""

    def __init__(self, flow: SolarHubConfigFlow) -> None:
        """Remember the handler whose steps this vendor runs."""
        self.flow = flow

    @abstractmethod
    async def async_step_setup(self, user_input: StepInput) -> ConfigFlowResult:
        """Step ``<vendor>``: the first form after the menu, up to a new entry."""

    @abstractmethod
    async def async_step_reauth(self, user_input: StepInput) -> ConfigFlowResult:
        """Step ``reauth_<vendor>``: the vendor refused the stored credentials."""

    @abstractmethod
    async def async_step_reconfigure(self, user_input: StepInput) -> ConfigFlowResult:
        """Step ``reconfigure_<vendor>``: change what the entry connects to."""

    @staticmethod
    @abstractmethod
    def options_schema(entry: ConfigEntry) -> vol.Schema:
        """The options form for one of this vendor's entries, filled with its current options."""


@dataclass(frozen=True, slots=True)
class SystemChoice:
    """One system an account offers: its id, its name and, where known, its time zone."""

    system_id: int
    name: str
    time_zone: str | None = None

    @property
    def label(self) -> str:
        """What the picker shows: the name, and the time zone where the vendor says it."""
        return f"{self.name} ({self.time_zone})" if self.time_zone else self.name


@dataclass(frozen=True, slots=True)
class SystemPick:
    """What the shared ``systems`` step offers, what it preselects, and who gets the choice."""

    systems: tuple[SystemChoice, ...]
    selected: tuple[int, ...] | None
    chosen: SystemsChosen

    async def async_step(self, flow: SolarHubConfigFlow, user_input: StepInput) -> ConfigFlowResult:
        """Step ``systems``: at least one system must be ticked."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if chosen := chosen_systems(user_input):
                return await self.chosen(chosen)
            errors[CONF_SYSTEMS] = "no_system_chosen"
        return flow.async_show_form(step_id="systems", data_schema=self.schema(), errors=errors)

    def schema(self) -> vol.Schema:
        """A list of all systems, the selected ones (all, if none are given) ticked."""
        ticked = self.selected or tuple(s.system_id for s in self.systems)
        return vol.Schema(
            {
                vol.Required(CONF_SYSTEMS, default=[str(s) for s in ticked]): SelectSelector(
                    SelectSelectorConfig(
                        options=[
                            SelectOptionDict(value=str(s.system_id), label=s.label)
                            for s in self.systems
                        ],
                        multiple=True,
                        mode=SelectSelectorMode.LIST,
                    )
                )
            }
        )


def chosen_systems(user_input: Mapping[str, Any]) -> list[int]:
    """The ids the user ticked (the selector hands them over as strings)."""
    return [int(system_id) for system_id in user_input[CONF_SYSTEMS]]


def interval_fields(current: object, minimums: Mapping[str, int]) -> dict[vol.Marker, Any]:
    """Poll-interval fields in seconds, never below the vendor's minimum, from ``current``."""
    return {
        vol.Required(name, default=getattr(current, name)): NumberSelector(
            NumberSelectorConfig(
                min=minimum, max=3600, step=1, unit_of_measurement="s", mode=NumberSelectorMode.BOX
            )
        )
        for name, minimum in minimums.items()
    }
