"""Enlighten application plans: per-minute and per-month request limits (pure data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
import math


class ApiVersion(StrEnum):
    """Which Enlighten API the key belongs to (v2 throttles with 409, v4 with 429)."""

    V2 = "v2"
    V4 = "v4"


@dataclass(frozen=True, kw_only=True, slots=True)
class Plan:
    """A plan's limits and the cadences the planner derives from them."""

    name: str
    api: ApiVersion
    per_minute: int
    per_month: int

    def __post_init__(self) -> None:
        """Reject limits no plan can have."""
        if self.per_minute < 1 or self.per_month < 1:
            raise ValueError("plan limits must be positive")

    @property
    def minute_cap(self) -> int:
        """Requests the planner allows itself in any 60 s: the limit less 10 %, at least one less.

        The margin covers a request that is in flight but not yet in the ledger and clock skew
        against Enphase's minute boundaries. A one-per-minute plan keeps its one request.
        """
        return max(1, self.per_minute - max(1, math.ceil(self.per_minute * 0.1)))

    @property
    def reserve(self) -> int:
        """Requests of the month kept back for setup, catch-up and inventory (3 %, at least 10)."""
        return min(self.per_month // 2, max(10, math.ceil(self.per_month * 0.03)))

    @property
    def inventory_every(self) -> timedelta:
        """How often inventory, envoys or devices are re-read: weekly on tight plans, else daily."""
        return timedelta(days=7) if self.per_month < 5000 else timedelta(days=1)

    @property
    def token_refreshes_per_day(self) -> int:
        """Token refreshes the budget must expect per day (v4 access tokens live about a day)."""
        return 1 if self.api is ApiVersion.V4 else 0

    @property
    def statistics_span(self) -> timedelta:
        """The longest range one statistics request may cover (v2 stats: a day; v4 telemetry: 7)."""
        return timedelta(days=1) if self.api is ApiVersion.V2 else timedelta(days=7)


V2_WATT = Plan(name="watt", api=ApiVersion.V2, per_minute=10, per_month=10_000)
V4_WATT = Plan(name="watt", api=ApiVersion.V4, per_minute=10, per_month=1_000)
V2_KILOWATT = Plan(name="kilowatt", api=ApiVersion.V2, per_minute=50, per_month=50_000)
V4_KILOWATT = Plan(name="kilowatt", api=ApiVersion.V4, per_minute=50, per_month=50_000)
V2_MEGAWATT = Plan(name="megawatt", api=ApiVersion.V2, per_minute=100, per_month=300_000)
V4_MEGAWATT = Plan(name="megawatt", api=ApiVersion.V4, per_minute=100, per_month=300_000)

_PLANS = {
    (plan.api, plan.name): plan
    for plan in (V2_WATT, V4_WATT, V2_KILOWATT, V4_KILOWATT, V2_MEGAWATT, V4_MEGAWATT)
}


def plan_for(api: ApiVersion, name: str, *, per_minute: int = 0, per_month: int = 0) -> Plan:
    """The named plan of that API, or a custom one (``name == "custom"``) with the numbers given."""
    if name == "custom":
        return Plan(name="custom", api=api, per_minute=per_minute, per_month=per_month)
    try:
        return _PLANS[(api, name)]
    except KeyError:
        raise ValueError(f"unknown plan {name!r} for API {api}") from None
