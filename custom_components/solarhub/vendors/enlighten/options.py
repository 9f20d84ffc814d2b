"""What an Enlighten owner may tune: the plan, the history import and (v4) the series imported.

The plan is part of the entry's data (chosen in the flow, changed by reconfigure); the options may
override it and a custom plan's limits. ``history_import`` adds the whole history as daily
values on the first statistics import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ...const import CONF_API_VERSION
from .plans import ApiVersion, Plan, plan_for

if TYPE_CHECKING:
    from ...runtime import SolarHubConfigEntry

CONF_PLAN: Final = "plan"
CONF_PER_MINUTE: Final = "per_minute"
CONF_PER_MONTH: Final = "per_month"
CONF_HISTORY_IMPORT: Final = "history_import"
CONF_SERIES: Final = "series"  # v4: the statistics series imported (all the site has by default)

PLAN_NAMES: Final = ("watt", "kilowatt", "megawatt", "custom")


@dataclass(frozen=True, kw_only=True, slots=True)
class EnlightenOptions:
    """The entry's plan and options with defaults applied."""

    plan: Plan
    history_import: bool = True
    series: frozenset[str] | None = None  # None: every series the site has

    @classmethod
    def from_entry(cls, entry: SolarHubConfigEntry) -> EnlightenOptions:
        """Read the plan from the entry's data and the rest from its options."""
        api = ApiVersion(entry.data.get(CONF_API_VERSION, ApiVersion.V2))
        options, data = entry.options, entry.data
        try:
            plan = plan_for(
                api,
                data.get(CONF_PLAN, "watt"),
                per_minute=int(data.get(CONF_PER_MINUTE) or 0),
                per_month=int(data.get(CONF_PER_MONTH) or 0),
            )
        except ValueError:
            plan = plan_for(api, "watt")
        # Limits set in the options win: the plan's numbers as the owner knows them.
        per_minute = int(options.get(CONF_PER_MINUTE) or plan.per_minute)
        per_month = int(options.get(CONF_PER_MONTH) or plan.per_month)
        if (per_minute, per_month) != (plan.per_minute, plan.per_month):
            plan = plan_for(api, "custom", per_minute=per_minute, per_month=per_month)
        series = options.get(CONF_SERIES)
        return cls(
            plan=plan,
            history_import=bool(options.get(CONF_HISTORY_IMPORT, True)),
            series=None if series is None else frozenset(series),
        )
