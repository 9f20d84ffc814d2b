"""Vendor history written into the recorder's long-term statistics, one UTC hour per row.

Cloud data arrives late (Tigo: 10-40 minutes, Enlighten: 15 minutes to hours), so live sensors
cannot put energy in the right hour of the Energy dashboard. A vendor instead implements
:class:`EnergyHistory` (a statistic, a chunk size, a fetch of energy rows for a range) and
:class:`StatisticsImporter` does the rest: it continues the stored series from where it ends,
fetches the gap chunk by chunk, backfills ``backfill_days`` local days (plus, where the vendor
has them, the whole history as one value per local day) on the first run, and imports.

The recorder takes only rows that start at a UTC hour. Vendor rows are placed like this:

- A row of at most an hour that lies within one UTC hour (a 5- or 15-minute interval, a minute,
  a UTC hour) adds to that hour; an interval that is its hour's last ends on the next hour. A row
  that straddles a UTC hour boundary (a local hour in Asia/Kolkata) is refused, never split by
  guess: vendors whose hours are not UTC hours hand over finer rows.
- A local day (23, 24 or 25 hours) goes whole into the UTC hour containing the day's midpoint:
  local noon on ordinary days, 12:30 or 11:30 on the days the clocks change. That hour lies on the
  same local day in every zone, so the Energy dashboard's day view shows the day's energy on the
  right day. Days come only from before the hourly window of the first run: the window starts at
  a local midnight, and its first UTC hour (which starts before that midnight in zones offset by
  part of an hour) holds only the window's rows, so no energy is lost or doubled where the days
  hand over to the hours. Days and hours are written together, so a stored series always ends
  with an hourly row and "continue after the newest stored row" stays right.

Hours already stored are never written again, so an import after any downtime backfills the gap
without losing or doubling energy. An import that fails is logged and retried on the next call;
it never fails the caller (a live poll).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from enum import StrEnum
import logging
from typing import Final

from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
    get_last_statistics,
    valid_statistic_id,
)
from homeassistant.const import UnitOfEnergy
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import EnergyConverter

from .api.errors import SolarHubApiError
from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)

HOUR: Final = timedelta(hours=1)
SHORTEST_DAY: Final = timedelta(hours=23)
LONGEST_DAY: Final = timedelta(hours=25)
DEFAULT_BACKFILL_DAYS: Final = 7


class Series(StrEnum):
    """The energy series a system can have; the last part of its statistic id."""

    SOLAR = "solar_energy"
    CONSUMPTION = "consumption_energy"
    GRID_IMPORT = "grid_import_energy"
    GRID_EXPORT = "grid_export_energy"
    BATTERY_CHARGE = "battery_charge_energy"
    BATTERY_DISCHARGE = "battery_discharge_energy"

    @property
    def human(self) -> str:
        """``solar energy``, ``grid import energy``, ...: how statistic names spell it."""
        return self.value.replace("_", " ")


def statistic_id(vendor: str, system_id: int | str, series: Series) -> str:
    """``solarhub:tigo_42_solar_energy``: the one place statistic ids are built."""
    result = f"{DOMAIN}:{vendor}_{system_id}_{series}".lower()
    if not valid_statistic_id(result):
        raise ValueError(f"not a valid statistic id: {result!r}")
    return result


def energy_statistic(
    vendor: str, vendor_name: str, system_id: int | str, system_name: str, series: Series
) -> EnergyStatistic:
    """A system's series, named ``<system> solar energy (Tigo, hourly)`` for the pickers."""
    return EnergyStatistic(
        statistic_id=statistic_id(vendor, system_id, series),
        name=f"{system_name} {series.human} ({vendor_name}, hourly)",
    )


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
class EnergyRow:
    """Energy (Wh) over ``[start, end)``: an interval, an hour, or a local day.

    ``start`` and ``end`` are aware and kept in UTC, where (unlike in a local zone) subtracting
    them gives the real length of a day on which the clocks change.
    """

    start: datetime
    end: datetime
    wh: float

    def __post_init__(self) -> None:
        """Refuse naive times; keep the moments in UTC."""
        for name in ("start", "end"):
            moment: datetime = getattr(self, name)
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise ValueError(f"naive {name} in an energy row: {moment}")
            object.__setattr__(self, name, moment.astimezone(UTC))


@dataclass(frozen=True, slots=True)
class HourlyEnergy:
    """The energy of one statistics row; ``start`` is the top of a UTC hour."""

    start: datetime
    wh: float


@dataclass(frozen=True, slots=True)
class LastImported:
    """The newest stored hour of a statistic and the running sum (kWh) at its end."""

    start: datetime
    sum: float


class UnplaceableRowError(ValueError):
    """A vendor row that no UTC hour can hold without guessing (it straddles hours)."""


class EnergyHistory(ABC):
    """What a vendor implements so that :class:`StatisticsImporter` can fill one statistic."""

    statistic: EnergyStatistic  # the statistic's id and name (see :func:`energy_statistic`)
    # The longest range one :meth:`async_fetch` may be asked for (the vendor's limit, less any
    # margin it adds); a gap is fetched in consecutive ranges of this size.
    chunk: timedelta

    @abstractmethod
    async def async_fetch(self, start: datetime, end: datetime) -> Iterable[EnergyRow]:
        """The rows of ``[start, end)`` (aware UTC, ``end - start <= chunk``).

        Each row is at most an hour long and lies within one UTC hour (minutes, 5- or 15-minute
        intervals, UTC hours). Rows starting outside the range are ignored, so a vendor may ask
        its API for more; omitted rows count as 0 Wh. Raise the client's errors: the importer
        logs them and retries on its next call.
        """

    async def async_fetch_days(self, end: datetime) -> Iterable[EnergyRow]:
        """Whole local days of history before ``end`` (a local midnight).

        Asked once, on the first run, for what lies before the hourly backfill. Vendors without
        a cheap daily history keep this default.
        """
        return ()


# ---- pure selection logic ------------------------------------------------------------------


def utc_hour(moment: datetime) -> datetime:
    """The start of the UTC hour containing ``moment`` (aware)."""
    return dt_util.as_utc(moment).replace(minute=0, second=0, microsecond=0)


def hour_of(row: EnergyRow) -> datetime:
    """The UTC hour a row adds to: its own hour if it lies within one, a day's midpoint hour."""
    length = row.end - row.start
    if length <= timedelta(0):
        raise UnplaceableRowError(f"row ending before it starts: {row}")
    if SHORTEST_DAY <= length <= LONGEST_DAY:
        return utc_hour(row.start + length / 2)
    hour = utc_hour(row.start)
    if length > HOUR or row.end > hour + HOUR:
        raise UnplaceableRowError(f"row across UTC hours: {row}")
    return hour


def backfill_start(now: datetime, tz: tzinfo, days: int) -> datetime:
    """The local midnight ``days`` days before today's, in ``tz`` (aware UTC)."""
    day = now.astimezone(tz).date() - timedelta(days=days)
    return dt_util.as_utc(datetime.combine(day, time(), tzinfo=tz))


def chunks(since: datetime, until: datetime, size: timedelta) -> list[tuple[datetime, datetime]]:
    """``[since, until)`` cut into consecutive ranges of at most ``size``."""
    if size <= timedelta(0):
        raise ValueError("the chunk size must be positive")
    result = []
    start = since
    while start < until:
        end = min(start + size, until)
        result.append((start, end))
        start = end
    return result


def within(rows: Iterable[EnergyRow], start: datetime, end: datetime) -> list[EnergyRow]:
    """The rows starting within ``[start, end)``: what a fetch of that range contributes.

    By start, so that a row across two chunks counts once, with the chunk it starts in.
    """
    return [row for row in rows if start <= row.start < end]


def hours_to_import(
    rows: Iterable[EnergyRow], *, since: datetime, until: datetime
) -> list[HourlyEnergy]:
    """Every UTC hour from the one containing ``since`` to the last one ending by ``until``.

    Each holds the sum of the rows that lie within it and within ``[since, until)``; the others
    are ignored (a vendor's partial newest hour, the margins it asked for). Hours without rows
    hold 0 Wh: a vendor omits hours without production (night), and ``until`` must be the end of
    the newest complete data, so an omitted hour really had no energy. Days are refused here.
    """
    first = utc_hour(since)
    end = utc_hour(until)
    totals: dict[datetime, float] = {}
    for row in rows:
        if row.start < since or row.end > end:
            continue
        if row.end - row.start > HOUR:
            raise UnplaceableRowError(f"a day where hours belong: {row}")
        hour = hour_of(row)
        totals[hour] = totals.get(hour, 0.0) + row.wh
    result = []
    hour = first
    while hour + HOUR <= end:
        result.append(HourlyEnergy(start=hour, wh=max(totals.get(hour, 0.0), 0.0)))
        hour += HOUR
    return result


def days_to_import(rows: Iterable[EnergyRow], *, before: datetime) -> list[HourlyEnergy]:
    """The local days that end by ``before``, each in the UTC hour of its midpoint, oldest first.

    ``before`` is where the hourly window starts; the days' hours all lie well before its UTC
    hour, so the two never share a row.
    """
    totals: dict[datetime, float] = {}
    for row in rows:
        if row.end > before:
            continue
        if not SHORTEST_DAY <= row.end - row.start <= LONGEST_DAY:
            raise UnplaceableRowError(f"not a local day: {row}")
        hour = hour_of(row)
        totals[hour] = totals.get(hour, 0.0) + row.wh
    return [HourlyEnergy(start=hour, wh=max(wh, 0.0)) for hour, wh in sorted(totals.items())]


def with_sums(hours: Sequence[HourlyEnergy], last: LastImported | None) -> list[StatisticData]:
    """The recorder's rows: the running sum (kWh) continued from ``last``."""
    total = last.sum if last else 0.0
    rows: list[StatisticData] = []
    for hour in hours:
        total += hour.wh / 1000
        rows.append(StatisticData(start=hour.start, state=total, sum=total))
    return rows


# ---- recorder I/O --------------------------------------------------------------------------


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


def async_import(
    hass: HomeAssistant,
    statistic: EnergyStatistic,
    hours: Sequence[HourlyEnergy],
    last: LastImported | None,
) -> None:
    """Append ``hours`` (ascending, after ``last``, at least one) with the sum continued."""
    _LOGGER.debug(
        "Importing %d rows into %s (%s to %s)",
        len(hours),
        statistic.statistic_id,
        hours[0].start,
        hours[-1].start,
    )
    async_add_external_statistics(hass, statistic.metadata, with_sums(hours, last))


class StatisticsImporter:
    """Keeps one statistic up to date from an :class:`EnergyHistory`; one per series."""

    def __init__(
        self,
        hass: HomeAssistant,
        history: EnergyHistory,
        *,
        tz: tzinfo,
        backfill_days: int = DEFAULT_BACKFILL_DAYS,
    ) -> None:
        """``tz`` is the system's zone: the first run's backfill starts at its midnight."""
        self.hass = hass
        self.history = history
        self.tz = tz
        self.backfill_days = backfill_days
        self._imported_until: datetime | None = None
        self._failing = False

    async def async_import(self, until: datetime) -> None:
        """Import every complete UTC hour before ``until`` that is not stored yet.

        ``until`` is the end of the vendor's newest complete data. Never raises: a failure is
        logged and the next call tries again from where the stored series ends.
        """
        end = utc_hour(until)
        if self._imported_until is not None and end <= self._imported_until:
            return
        statistic = self.history.statistic
        try:
            await self._async_import(statistic, end)
        except (SolarHubApiError, HomeAssistantError, ValueError) as err:
            log = _LOGGER.debug if self._failing else _LOGGER.warning
            log("Statistics import of %s failed, retrying later: %s", statistic.statistic_id, err)
            self._failing = True
            return
        if self._failing:
            _LOGGER.info("Statistics import of %s works again", statistic.statistic_id)
        self._failing = False
        self._imported_until = end

    async def _async_import(self, statistic: EnergyStatistic, end: datetime) -> None:
        last = await async_last_imported(self.hass, statistic)
        if last is None:
            since = backfill_start(dt_util.utcnow(), self.tz, self.backfill_days)
        else:
            since = last.start + HOUR
        rows: list[EnergyRow] = []
        for start, stop in chunks(since, end, self.history.chunk):
            fetched = await self.history.async_fetch(start.astimezone(UTC), stop.astimezone(UTC))
            rows += within(fetched, start, stop)
        hours = hours_to_import(rows, since=since, until=end)
        if not hours:
            return
        if last is None:
            days = days_to_import(await self.history.async_fetch_days(since), before=since)
            hours = days + hours
        async_import(self.hass, statistic, hours, last)
