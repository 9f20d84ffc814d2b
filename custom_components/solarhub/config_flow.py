"""Config flow: pick a vendor, enter its credentials, test them before anything is stored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, override

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
)
import probatio as vol

from .api.tigo.models import TigoSystem
from .const import CONF_SERVICE_CODE, CONF_SYSTEMS, CONF_VENDOR, DOMAIN, Vendor
from .vendors.plenticore import flow as plenticore
from .vendors.plenticore.options import MINIMUMS as PLENTICORE_MINIMUMS, PlenticoreOptions
from .vendors.probe import FieldError
from .vendors.tigo import flow as tigo
from .vendors.tigo.options import MINIMUMS as TIGO_MINIMUMS, PanelMetric, TigoOptions


class SolarHubConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a vendor account or device."""

    VERSION = 1

    def __init__(self) -> None:
        """Nothing learned yet."""
        self._tigo_data: dict[str, Any] = {}
        self._tigo_systems: tuple[TigoSystem, ...] = ()

    @staticmethod
    @callback
    @override
    def async_get_options_flow(config_entry: ConfigEntry) -> SolarHubOptionsFlow:
        """Options: poll intervals (and, for Tigo, the panel metrics)."""
        return SolarHubOptionsFlow()

    @override
    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Let the user pick the vendor."""
        return self.async_show_menu(step_id="user", menu_options=[v.value for v in Vendor])

    # -- KOSTAL PLENTICORE ------------------------------------------------------------------------

    async def async_step_plenticore(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Host and credentials of a PLENTICORE."""
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input[CONF_HOST] = user_input[CONF_HOST].strip()
            try:
                inverter = await plenticore.probe_plenticore(self.hass, user_input)
            except FieldError as err:
                errors[err.field] = err.error
            else:
                await self.async_set_unique_id(inverter.serial)
                self._abort_if_unique_id_configured(updates={CONF_HOST: user_input[CONF_HOST]})
                return self.async_create_entry(
                    title=inverter.title, data={CONF_VENDOR: Vendor.PLENTICORE, **user_input}
                )
        return self.async_show_form(
            step_id="plenticore",
            data_schema=plenticore.credentials_schema(user_input or {}),
            errors=errors,
        )

    # -- Tigo -------------------------------------------------------------------------------------

    async def async_step_tigo(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Tigo account credentials (the API address is an advanced, collapsed field)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = tigo.flatten(user_input)
            data[CONF_USERNAME] = data[CONF_USERNAME].strip()
            try:
                account = await tigo.probe_tigo(self.hass, data)
            except FieldError as err:
                errors[err.field] = err.error
            else:
                await self.async_set_unique_id(f"tigo_{account.user_id}")
                self._abort_if_unique_id_configured()
                self._tigo_data = {CONF_VENDOR: Vendor.TIGO, **data}
                self._tigo_systems = account.systems
                return await self.async_step_tigo_systems()
        return self.async_show_form(
            step_id="tigo",
            data_schema=tigo.credentials_schema(tigo.flatten(user_input) if user_input else {}),
            errors=errors,
        )

    async def async_step_tigo_systems(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Which of the account's systems to add."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if chosen := [int(system_id) for system_id in user_input[CONF_SYSTEMS]]:
                return self.async_create_entry(
                    title=f"Tigo ({self._tigo_data[CONF_USERNAME]})",
                    data={**self._tigo_data, CONF_SYSTEMS: chosen},
                )
            errors[CONF_SYSTEMS] = "no_system_chosen"
        return self.async_show_form(
            step_id="tigo_systems",
            data_schema=tigo.systems_schema(self._tigo_systems, None),
            errors=errors,
        )

    # -- reauth and reconfigure -------------------------------------------------------------------

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The vendor refused the stored credentials."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the password (and, for a PLENTICORE installer, the service code) again."""
        entry = self._get_reauth_entry()
        vendor = Vendor(entry.data[CONF_VENDOR])
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, **user_input}
            try:
                unique_id = await self._probe(vendor, data)
            except FieldError as err:
                errors[err.field] = err.error
            else:
                await self.async_set_unique_id(unique_id)
                self._abort_if_unique_id_mismatch(reason="different_device")
                updates = {CONF_PASSWORD: user_input[CONF_PASSWORD]}
                if vendor is Vendor.PLENTICORE:
                    updates[CONF_SERVICE_CODE] = user_input.get(CONF_SERVICE_CODE)
                return self.async_update_reload_and_abort(entry, data_updates=updates)
        if vendor is Vendor.PLENTICORE:
            schema = plenticore.credentials_schema(entry.data, with_host=False)
            placeholders = {"name": entry.data[CONF_HOST]}
        else:
            schema = tigo.credentials_schema(entry.data, with_username=False)
            placeholders = {"name": entry.data[CONF_USERNAME]}
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=schema,
            description_placeholders=placeholders,
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A PLENTICORE moved to another address; a Tigo account adds or drops systems."""
        entry = self._get_reconfigure_entry()
        if entry.data[CONF_VENDOR] == Vendor.TIGO:
            return await self.async_step_reconfigure_tigo(user_input)
        errors: dict[str, str] = {}
        if user_input is not None:
            host = user_input[CONF_HOST].strip()
            try:
                unique_id = await self._probe(Vendor.PLENTICORE, {**entry.data, CONF_HOST: host})
            except FieldError as err:
                errors[err.field if err.field == CONF_HOST else "base"] = err.error
            else:
                await self.async_set_unique_id(unique_id)
                self._abort_if_unique_id_mismatch(reason="different_device")
                return self.async_update_reload_and_abort(entry, data_updates={CONF_HOST: host})
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=plenticore.host_schema(entry.data[CONF_HOST]),
            errors=errors,
        )

    async def async_step_reconfigure_tigo(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose again which of the account's systems are added."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if not self._tigo_systems:
            try:
                account = await tigo.probe_tigo(self.hass, entry.data)
            except FieldError as err:
                return self.async_abort(reason=err.error)
            self._tigo_systems = account.systems
        if user_input is not None:
            if chosen := [int(system_id) for system_id in user_input[CONF_SYSTEMS]]:
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_SYSTEMS: chosen}
                )
            errors[CONF_SYSTEMS] = "no_system_chosen"
        return self.async_show_form(
            step_id="reconfigure_tigo",
            data_schema=tigo.systems_schema(self._tigo_systems, entry.data[CONF_SYSTEMS]),
            errors=errors,
        )

    async def _probe(self, vendor: Vendor, data: Mapping[str, Any]) -> str:
        """Test the credentials; return the unique id they belong to."""
        if vendor is Vendor.PLENTICORE:
            return (await plenticore.probe_plenticore(self.hass, data)).serial
        return f"tigo_{(await tigo.probe_tigo(self.hass, data)).user_id}"


def _seconds(minimum: int) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum, max=3600, step=1, unit_of_measurement="s", mode=NumberSelectorMode.BOX
        )
    )


class SolarHubOptionsFlow(OptionsFlowWithReload):
    """Poll intervals never below the vendor's safe minimum; for Tigo also the panel metrics."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the options; the entry reloads with the new ones."""
        vendor = Vendor(self.config_entry.data[CONF_VENDOR])
        if user_input is not None:
            return self.async_create_entry(
                data={k: v if isinstance(v, list) else int(v) for k, v in user_input.items()}
            )
        fields: dict[vol.Marker, Any] = {}
        if vendor is Vendor.PLENTICORE:
            current: Any = PlenticoreOptions.from_entry(self.config_entry)
            minimums = PLENTICORE_MINIMUMS
        else:
            current = TigoOptions.from_entry(self.config_entry)
            minimums = TIGO_MINIMUMS
            fields[
                vol.Required("panel_metrics", default=[m.value for m in current.panel_metrics])
            ] = SelectSelector(
                SelectSelectorConfig(
                    options=[m.value for m in PanelMetric],
                    multiple=True,
                    translation_key="panel_metrics",
                )
            )
        for name, minimum in minimums.items():
            fields[vol.Required(name, default=getattr(current, name))] = _seconds(minimum)
        return self.async_show_form(step_id="init", data_schema=vol.Schema(fields))
