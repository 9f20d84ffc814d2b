"""Vendor history written into the recorder's long-term statistics, hour by hour.

Cloud data arrives late (Tigo: 10-40 minutes), so live sensors cannot put energy in the right
hour of the Energy dashboard. Vendors instead hand over complete hours of energy; this module
appends them to an external statistic, continuing the running sum from the newest stored hour.
Hours already stored are never written again, so an import after any downtime backfills the gap
without losing or doubling energy. Vendor-neutral: it knows hours and watt-hours, nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
import logging

from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
    get_last_statistics,
)
from homeassistant.const import UnitOfEnergy
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import EnergyConverter

from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)

HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class HourlyEnergy:
    """The energy of one complete hour; ``start`` is the top of the hour (aware)."""

    start: datetime
    wh: float


@dataclass(frozen=True, slots=True)
class EnergyStatistic:
    """An external statistic with a running sum in kWh, e.g. ``solarhub:tigo_42_solar_energy``."""

    statistic_id: str
    name: str

    @property
    def metadata(self) -> StatisticMetaData:
        """Metadata the recorder needs, ``mean_type`` and ``unit_class`` included."""
        return StatisticMetaData(
            mean_type=StatisticMeanType.NONE,
            has_sum=True,
            name=self.name,
            source=DOMAIN,
            statistic_id=self.statistic_id,
            unit_class=EnergyConverter.UNIT_CLASS,
            unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        )


@dataclass(frozen=True, slots=True)
class LastImported:
    """The newest stored hour of a statistic and the running sum (kWh) at its end."""

    start: datetime
    sum: float


async def async_last_imported(
    hass: HomeAssistant, statistic: EnergyStatistic
) -> LastImported | None:
    """Where the stored series ends, or None when nothing was imported yet."""
    last = await get_instance(hass).async_add_executor_job(
        get_last_statistics, hass, 1, statistic.statistic_id, False, {"sum"}
    )
    rows = last.get(statistic.statistic_id)
    if not rows:
        return None
    row = rows[0]
    return LastImported(start=dt_util.utc_from_timestamp(row["start"]), sum=row.get("sum") or 0.0)


def hours_to_import(
    hours: Iterable[HourlyEnergy], last: LastImported | None, *, since: datetime, until: datetime
) -> list[HourlyEnergy]:
    """Every hour in ``[since, until)`` after ``last``; hours the vendor left out count as 0 Wh.

    A vendor omits hours without production (night) and ``until`` must be the end of the newest
    complete hour, so an omitted hour really had no energy rather than not being uploaded yet.
    """
    first = since if last is None else max(since, last.start + HOUR)
    first = first.replace(minute=0, second=0, microsecond=0)
    by_start = {dt_util.as_utc(hour.start): hour.wh for hour in hours}
    result = []
    start = dt_util.as_utc(first)
    end = dt_util.as_utc(until)
    while start + HOUR <= end:
        result.append(HourlyEnergy(start=start, wh=max(by_start.get(start, 0.0), 0.0)))
        start += HOUR
    return result


def async_import(
    hass: HomeAssistant,
    statistic: EnergyStatistic,
    hours: list[HourlyEnergy],
    last: LastImported | None,
) -> None:
    """Append ``hours`` (consecutive, after ``last``) with the running sum continued."""
    if not hours:
        return
    total = last.sum if last else 0.0
    rows: list[StatisticData] = []
    for hour in hours:
        total += hour.wh / 1000
        rows.append(StatisticData(start=hour.start, state=total, sum=total))
    _LOGGER.debug(
        "Importing %d hours into %s (%s to %s)",
        len(rows),
        statistic.statistic_id,
        hours[0].start,
        hours[-1].start,
    )
    async_add_external_statistics(hass, statistic.metadata, rows)
