"""The PLENTICORE's module ids and names, defined once for the vendor's modules."""

from __future__ import annotations

from typing import Final

MANUFACTURER: Final = "KOSTAL"
LOCAL: Final = "devices:local"
AC: Final = "devices:local:ac"
BATTERY: Final = "devices:local:battery"
NETWORK: Final = "scb:network"
ENERGY_FLOW: Final = "scb:statistic:EnergyFlow"
