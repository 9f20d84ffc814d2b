"""Diagnostics for a SolarHub config entry; each vendor redacts its own data."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .runtime import SolarHubConfigEntry

TO_REDACT = {"password", "service_code", "host", "username", "token", "api_key", "user_id"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: SolarHubConfigEntry
) -> dict[str, Any]:
    """The entry (credentials redacted) and what its vendor reports."""
    return {
        "entry": {
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": dict(entry.options),
        },
        "vendor": await entry.runtime_data.async_diagnostics(),
    }
