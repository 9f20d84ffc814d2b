"""What a vendor provides to the rest of the integration once its config entry is set up."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from homeassistant.config_entries import ConfigEntry

if TYPE_CHECKING:
    from homeassistant.const import Platform

    from .entity import EntitySpec


class VendorRuntime(Protocol):
    """A set-up vendor: its entities per platform, diagnostics and shutdown."""

    def entity_specs(self, platform: Platform) -> list[EntitySpec[Any]]:
        """Return the specs of the entities this vendor offers on ``platform``."""

    async def async_diagnostics(self) -> dict[str, Any]:
        """Return diagnostics, already redacted."""

    async def async_shutdown(self) -> None:
        """Release vendor resources (log out, stop timers)."""


type SolarHubConfigEntry = ConfigEntry[VendorRuntime]
