"""Poll intervals a PLENTICORE owner may tune, with floors that keep the inverter healthy."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...runtime import SolarHubConfigEntry


@dataclass(frozen=True, kw_only=True, slots=True)
class PlenticoreOptions:
    """Seconds between polls of each cadence."""

    process_data_interval: int = 10
    settings_interval: int = 60
    events_interval: int = 60

    @classmethod
    def from_entry(cls, entry: SolarHubConfigEntry) -> PlenticoreOptions:
        """The entry's options, defaults where unset, raised to the minimum where too low."""
        return cls(
            **{
                f.name: max(int(entry.options.get(f.name, f.default)), MINIMUMS[f.name])
                for f in fields(cls)
            }
        )


MINIMUMS = {"process_data_interval": 5, "settings_interval": 30, "events_interval": 30}
