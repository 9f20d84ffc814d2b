"""The vendor side of the config flow: the interface each vendor implements, and shared pieces.

The handler in ``config_flow.py`` shows the vendor menu and hands every step to the chosen
vendor's ``VendorFlow``. Step ids are symmetric: ``<vendor>`` (set up), ``reauth_<vendor>``,
``reconfigure_<vendor>``; a vendor's further steps are ``<vendor>_<name>`` and run its
``async_step_<name>``. A vendor with several systems per account hands them to the shared
``systems`` step (``flow.async_pick_systems``), which returns the ids the user chose.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, override

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
from .probe import FieldError

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry, ConfigFlowResult
    from homeassistant.helpers.config_entry_oauth2_flow import AbstractOAuth2Implementation

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
        """Step ``reauth_<vendor>``: the vendor refused the stored credentials; ask again."""

    @abstractmethod
    async def async_step_reconfigure(self, user_input: StepInput) -> ConfigFlowResult:
        """Step ``reconfigure_<vendor>``: change what the entry connects to."""

    @staticmethod
    @abstractmethod
    def options_schema(entry: ConfigEntry) -> vol.Schema:
        """The options form for one of this vendor's entries, filled with its current options."""


class CredentialsFlow(VendorFlow):
    """A vendor whose credentials are typed into a form: one reauth step serves them all."""

    # What the default reauth asks for and stores, and where the form's {name} comes from.
    reauth_fields: ClassVar[tuple[str, ...]] = ()
    reauth_name: ClassVar[str] = ""
    different_device: ClassVar[str] = ""
    """Abort reason when new credentials reach another device or account than the entry's."""

    @abstractmethod
    async def async_unique_id(self, data: Mapping[str, Any]) -> str:
        """Test ``data`` against the vendor; the unique id it reaches, or a ``FieldError``."""

    @abstractmethod
    def reauth_schema(self, entry: ConfigEntry) -> vol.Schema:
        """The fields ``reauth_fields`` of the reauth form."""

    @override
    async def async_step_reauth(self, user_input: StepInput) -> ConfigFlowResult:
        """Ask for ``reauth_fields`` again; they must reach the entry's unique id.

        Then they are stored and the entry reloads.
        """
        flow = self.flow
        entry = flow._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                unique_id = await self.async_unique_id({**entry.data, **user_input})
            except FieldError as err:
                errors[err.field] = err.error
            else:
                await flow.async_set_unique_id(unique_id)
                flow._abort_if_unique_id_mismatch(reason=self.different_device)
                return flow.async_update_reload_and_abort(
                    entry, data_updates={key: user_input.get(key) for key in self.reauth_fields}
                )
        return flow.async_show_form(
            step_id=f"reauth_{self.vendor}",
            data_schema=self.reauth_schema(entry),
            description_placeholders={"name": entry.data[self.reauth_name]},
            errors=errors,
        )


class OAuthVendorFlow(VendorFlow):
    """A vendor whose set-up walks OAuth2 (``flow.async_start_oauth``) before its own steps."""

    oauth_abort_reasons: ClassVar[Mapping[str, str]] = {}
    """Home Assistant's OAuth2 abort reasons this vendor words itself (reason -> its key)."""

    @abstractmethod
    def oauth_implementation(
        self, implementation: AbstractOAuth2Implementation
    ) -> AbstractOAuth2Implementation:
        """The chosen application credential as this flow uses it (e.g. on another server)."""

    @abstractmethod
    async def async_oauth_done(self, data: dict[str, Any]) -> ConfigFlowResult:
        """OAuth2 succeeded: ``data`` holds ``auth_implementation`` and ``token``."""


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


class ListedSystem(Protocol):
    """A system as a cloud account lists it (Tigo, Enlighten)."""

    @property
    def system_id(self) -> int:
        """The vendor's id of the system."""

    @property
    def name(self) -> str:
        """The name the owner gave it."""

    @property
    def timezone(self) -> str | None:
        """Its time zone, where the vendor says it."""


def system_choices(systems: Iterable[ListedSystem]) -> list[SystemChoice]:
    """The account's systems as the shared picker shows them."""
    return [SystemChoice(s.system_id, s.name, s.timezone) for s in systems]


def systems_title(vendor: str, systems: Iterable[ListedSystem], chosen: Sequence[int]) -> str:
    """An entry's title: the vendor and the chosen systems' names, never personal data."""
    names = [s.name for s in systems if s.system_id in chosen]
    return f"{vendor} {', '.join(names)}"


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
