"""What a Tigo owner may tune: which panel metrics get entities, and poll intervals.

The defaults keep a system under 60 cloud requests per hour: live values every 5 minutes (the cloud
is 10-40 minutes late anyway), alerts every 15 minutes, one hourly statistics import.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...runtime import SolarHubConfigEntry


class PanelMetric(StrEnum):
    """Per-panel values; the API's ``param`` for each is in ``PARAMS``."""

    POWER = "power"
    VOLTAGE = "voltage"
    CURRENT = "current"
    RSSI = "rssi"


PARAMS = {
    PanelMetric.POWER: "Pin",
    PanelMetric.VOLTAGE: "Vin",
    PanelMetric.CURRENT: "Iin",
    PanelMetric.RSSI: "RSSI",
}
MINIMUMS = {"live_interval": 120, "alerts_interval": 300}


@dataclass(frozen=True, kw_only=True, slots=True)
class TigoOptions:
    """The entry's options with defaults and floors applied."""

    panel_metrics: tuple[PanelMetric, ...] = (PanelMetric.POWER,)
    live_interval: int = 300
    alerts_interval: int = 900

    @classmethod
    def from_entry(cls, entry: SolarHubConfigEntry) -> TigoOptions:
        """Read the options; unknown metrics are dropped, intervals raised to their minimum."""
        options = entry.options
        metrics = options.get("panel_metrics", [PanelMetric.POWER.value])
        return cls(
            panel_metrics=tuple(m for m in PanelMetric if m.value in metrics),
            live_interval=max(int(options.get("live_interval", 300)), MINIMUMS["live_interval"]),
            alerts_interval=max(
                int(options.get("alerts_interval", 900)), MINIMUMS["alerts_interval"]
            ),
        )
