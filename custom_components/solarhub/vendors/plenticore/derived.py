"""Values the inverter does not report but users need, derived from the ones it does."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DERIVED_MODULE = "solarhub:derived"


@dataclass(frozen=True, kw_only=True, slots=True)
class DerivedValue:
    """``sum(plus) - sum(minus)`` over process-data points, stored under ``point``."""

    key: str
    plus: tuple[tuple[str, str], ...]
    minus: tuple[tuple[str, str], ...] = ()
    monotonic: bool = False  # a lifetime counter: never step back

    @property
    def point(self) -> tuple[str, str]:
        """Where the value is stored in the coordinator's data."""
        return (DERIVED_MODULE, self.key)

    @property
    def sources(self) -> frozenset[tuple[str, str]]:
        """The process-data points it is computed from."""
        return frozenset(self.plus + self.minus)

    def compute(self, values: Mapping[tuple[str, str], float]) -> float | None:
        """The derived value, or None when a source is missing; never below zero."""
        if not self.sources <= values.keys():
            return None
        total = sum(values[p] for p in self.plus) - sum(values[p] for p in self.minus)
        return max(total, 0.0)


def solar_production(
    period: str, available: frozenset[tuple[str, str]], module: str
) -> DerivedValue | None:
    """Solar production for the Energy dashboard: what the PV delivered to home, battery and grid.

    The inverter's yield is its AC output, so it contains what the battery delivered (to the home
    and to the grid) and lacks what the PV charged into the battery on the DC side. Taking the
    former out and putting the latter in leaves the PV's own share, which balances the dashboard:
    solar + (home + battery from grid) - feed-in + discharge - charge = the inverter's home counter.
    The yield grows at least by what the battery delivered, so the result never falls (and the
    coordinator keeps the lifetime total from stepping back). None without a yield counter.
    """

    def counter(name: str) -> tuple[str, str]:
        return (module, f"Statistic:{name}:{period}")

    if counter("Yield") not in available:
        return None
    return DerivedValue(
        key=f"solar_production_{period.lower()}",
        plus=(counter("Yield"), *_listed(available, counter("EnergyChargePv"))),
        minus=_listed(available, counter("EnergyHomeBat"), counter("EnergyDischargeGrid")),
        monotonic=period == "Total",
    )


def _listed(
    available: frozenset[tuple[str, str]], *points: tuple[str, str]
) -> tuple[tuple[str, str], ...]:
    """The points the inverter lists (one without a battery has no battery counters)."""
    return tuple(point for point in points if point in available)
