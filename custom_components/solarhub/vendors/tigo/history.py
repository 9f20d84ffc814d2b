"""A Tigo system's solar energy history for the statistics importer, from ``data/combined``.

In zones whose UTC offset is a whole hour the cloud's local hours are UTC hours: one
``level=hour`` request covers a month. Elsewhere (Asia/Kolkata, Australia/Adelaide,
Asia/Kathmandu, America/St_Johns) a local hour straddles two UTC hours, so the UTC hours are built
from ``level=min`` data (one power value per minute, W), at most a day per request.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Final, override

from ...const import Vendor
from ...statistics import (
    HOUR,
    EnergyHistory,
    EnergyRow,
    EnergyStatistic,
    Series,
    energy_statistic,
)

if TYPE_CHECKING:
    from ...api.tigo.client import TigoClient
    from .topology import Topology

MINUTE: Final = timedelta(minutes=1)
# Each request reaches an hour beyond its range at both ends: wall times sent to the cloud are
# ambiguous around the autumn DST change, and the importer drops what lies outside the range.
MARGIN: Final = HOUR
# The cloud's soft limits are a local wall-time span (31 days of hours, 1 day of minutes), which
# the spring DST change stretches by an hour: the chunks leave room for it and the margins.
HOUR_LEVEL_CHUNK: Final = timedelta(days=30)
MINUTE_LEVEL_CHUNK: Final = timedelta(hours=21)
_SAMPLED_DAYS: Final = 400  # a year ahead and back covers both offsets of a zone with DST


def hours_are_utc_hours(tz: tzinfo, around: datetime) -> bool:
    """Whether every UTC offset ``tz`` has within a year of ``around`` is a whole hour."""
    for day in range(-_SAMPLED_DAYS, _SAMPLED_DAYS + 1, 7):
        offset = (around + timedelta(days=day)).astimezone(tz).utcoffset()
        if offset is not None and offset % HOUR:
            return False
    return True


def solar_statistic(topology: Topology) -> EnergyStatistic:
    """The external statistic holding a system's hourly solar energy."""
    system = topology.system
    return energy_statistic(Vendor.TIGO, "Tigo", system.system_id, system.name, Series.SOLAR)


class TigoHistory(EnergyHistory):
    """The system object's energy: per local hour where those are UTC hours, else per minute."""

    def __init__(
        self,
        client: TigoClient,
        topology: Topology,
        *,
        tz: tzinfo,
        statistic: EnergyStatistic,
        now: datetime,
    ) -> None:
        """Decide the level once: the zone's offsets do not change."""
        self.client = client
        self.topology = topology
        self.tz = tz
        self.statistic = statistic
        self.level = "hour" if hours_are_utc_hours(tz, now) else "min"
        self.chunk = HOUR_LEVEL_CHUNK if self.level == "hour" else MINUTE_LEVEL_CHUNK

    @override
    async def async_fetch(self, start: datetime, end: datetime) -> Iterable[EnergyRow]:
        root = self.topology.root_object_id
        if root is None:
            return ()
        series = await self.client.get_combined(
            self.topology.system.system_id,
            start - MARGIN,
            end + MARGIN - timedelta(seconds=1),
            tz=self.tz,
            level=self.level,
            object_ids=[root],
        )
        # In UTC: adding to a local time would add wall time, wrong at the DST changes.
        points = [
            (stamp.astimezone(UTC), value) for stamp, value in series.columns.get(str(root), ())
        ]
        if self.level == "hour":  # Wh of the hour starting at the stamp
            return [EnergyRow(start=stamp, end=stamp + HOUR, wh=wh) for stamp, wh in points]
        # The mean power (W) of the minute starting at the stamp.
        return [EnergyRow(start=stamp, end=stamp + MINUTE, wh=w / 60) for stamp, w in points]
