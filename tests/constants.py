"""Constants the tests share, defined once: moments, the zone, the simulators' default secrets.

The simulators' configurations take their default credentials from here, so a test that needs
"the password the simulator expects" and the simulator itself cannot drift apart. Known-answer
vectors (SCRAM) keep their literals: their expected values belong to exactly those inputs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final
from zoneinfo import ZoneInfo

__all__ = [
    "BERLIN",
    "NIGHT",
    "NOON",
    "PLENTICORE_MASTER_KEY",
    "PLENTICORE_PASSWORD",
    "PLENTICORE_SERVICE_CODE",
    "TIGO_LIVE_SECONDS",
    "TIGO_PASSWORD",
    "TIGO_USERNAME",
]

BERLIN: Final = ZoneInfo("Europe/Berlin")  # the simulators' default zone
NOON: Final = datetime(2026, 6, 21, 10, 0, tzinfo=UTC)  # 12:00 in Berlin: the sun is up
NIGHT: Final = datetime(2026, 6, 21, 23, 0, tzinfo=UTC)  # 01:00 in Berlin: the sun is down

PLENTICORE_PASSWORD: Final = "Pass1234"  # the plant owner ("user")
PLENTICORE_MASTER_KEY: Final = "MASTERKEY123"  # the installer ("master"), with the service code
PLENTICORE_SERVICE_CODE: Final = "12345"

TIGO_USERNAME: Final = "owner@example.com"
TIGO_PASSWORD: Final = "Sunny-Day-42"
TIGO_LIVE_SECONDS: Final = 300  # the integration's default live interval
