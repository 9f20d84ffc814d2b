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
