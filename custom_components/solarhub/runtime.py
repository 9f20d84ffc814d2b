"""What a vendor provides to the rest of the integration once its config entry is set up."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from homeassistant.config_entries import ConfigEntry

if TYPE_CHECKING:
    from .entity import EntitySpec


class VendorRuntime(Protocol):
    """A set-up vendor: its entities, diagnostics and shutdown."""

    @property
    def specs(self) -> Sequence[EntitySpec[Any]]:
        """Every entity this vendor offers; each platform takes those of its kind."""

    async def async_diagnostics(self) -> dict[str, Any]:
        """Return diagnostics, already redacted."""

    async def async_shutdown(self) -> None:
        """Release vendor resources (log out, stop timers)."""


type SolarHubConfigEntry = ConfigEntry[VendorRuntime]
