"""Constants shared across SolarHub."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

DOMAIN: Final = "solarhub"

CONF_VENDOR: Final = "vendor"
CONF_SERVICE_CODE: Final = "service_code"
CONF_BASE_URL: Final = "base_url"
CONF_SYSTEMS: Final = "systems"
CONF_ADVANCED: Final = "advanced"


class Vendor(StrEnum):
    """The systems SolarHub speaks to; stored in each config entry."""

    PLENTICORE = "plenticore"
    TIGO = "tigo"
    ENLIGHTEN = "enlighten"
