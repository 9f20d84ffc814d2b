"""An Enlighten system's energy series for the statistics importer, v2 and v4 alike.

Each :class:`Series` a site has is one :class:`EnlightenHistory`: intervals (v2 ``stats`` /
``rgm_stats``, v4 telemetry; 5 or 15 minutes, each within one UTC hour) for the hourly rows, and
the matching daily ``*_lifetime`` series for the whole history before them on the first run.
The statistic ids depend only on the system id, so a v4 entry continues a v2 entry's series.

The importer swallows client errors (it retries on its next call); the scheduler still needs to
see a 409/429 and an authentication failure, so the history keeps the last one in ``failure``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Final, NamedTuple, override

from ...api.enlighten.client import EnlightenV4Client
from ...api.enlighten.models import BatterySeries, DailyEnergy, EnergyInterval, IntervalSeries
from ...api.errors import SolarHubApiError
from ...const import Vendor
from ...statistics import EnergyHistory, EnergyRow, EnergyStatistic, Series, energy_statistic

if TYPE_CHECKING:
    from ...api.enlighten.client import EnlightenClient

BACKFILL_DAYS: Final = 7  # local days imported hourly on the first run
CHUNK: Final = timedelta(days=1)  # v2 stats: one day a call
WEEK: Final = timedelta(days=7)  # every v4 telemetry series ("week" granularity)
FIVE: Final = timedelta(minutes=5)
QUARTER: Final = timedelta(minutes=15)
HOUR: Final = timedelta(hours=1)
REUSE_BATTERY: Final = timedelta(minutes=2)
SPARSE: Final = frozenset({"stats", "production_micro"})  # 5-minute rows, none in dark hours

type Intervals = Callable[[datetime, datetime], Awaitable[Iterable[EnergyInterval]]]
type Days = Callable[[date], Awaitable[DailyEnergy]]


def statistic_for(system_id: int, system_name: str, series: Series) -> EnergyStatistic:
    """``solarhub:enlighten_<id>_<series>``, named for the Energy dashboard's pickers."""
    return energy_statistic(Vendor.ENLIGHTEN, "Enlighten", system_id, system_name, series)


@dataclass(frozen=True, slots=True)
class SeriesSource:
    """Where one series comes from: its planner name, intervals and daily history."""

    series: Series
    endpoint: str  # the planner's name for the series (its interval endpoint)
    intervals: Intervals
    days: Days
    chunk: timedelta = CHUNK  # the most one intervals request covers


def _series_intervals(
    fetch: Callable[[int, datetime, datetime], Awaitable[IntervalSeries]], system_id: int
) -> Intervals:
    async def intervals(start: datetime, end: datetime) -> Iterable[EnergyInterval]:
        return (await fetch(system_id, start, end)).intervals

    return intervals


class Reading(NamedTuple):
    """A value and the end of the interval it belongs to."""

    value: float
    at: datetime


def sources(
    client: EnlightenClient,
    system_id: int,
    *,
    metered: bool,
    consumption: bool,
    battery: bool,
    latest: dict[str, Reading],
) -> list[SeriesSource]:
    """The series a site has: solar always, the v4 site flows where it has meters and a battery.

    A metered system's solar energy comes from its revenue-grade / production meter. ``latest``
    receives the mean power of each v4 flow's newest quarter and the battery's newest state of
    charge, so the power sensors cost no request of their own.
    """

    async def production_days(end: date) -> DailyEnergy:
        return await client.get_energy_lifetime(system_id, end_date=end)

    solar = _series_intervals(
        client.get_meter_intervals if metered else client.get_production_intervals, system_id
    )
    solar_endpoint = "rgm_stats" if metered else "stats"
    if isinstance(client, EnlightenV4Client):
        solar_endpoint = "production_meter" if metered else "production_micro"
    result = [
        SeriesSource(
            Series.SOLAR,
            solar_endpoint,
            solar,
            production_days,
            WEEK if isinstance(client, EnlightenV4Client) else CHUNK,
        )
    ]
    if not isinstance(client, EnlightenV4Client):
        return result
    v4 = client

    async def start_only(
        fetch: Callable[[int, datetime | None], Awaitable[IntervalSeries]],
        start: datetime,
    ) -> Iterable[EnergyInterval]:
        return (await fetch(system_id, start)).intervals

    def telemetry(
        fetch: Callable[[int, datetime | None], Awaitable[IntervalSeries]], power: str
    ) -> Intervals:
        async def intervals(start: datetime, _end: datetime) -> Iterable[EnergyInterval]:
            rows = list(await start_only(fetch, start))
            if rows:
                latest[power] = Reading(rows[-1].energy_wh * (HOUR / QUARTER), rows[-1].end_at)
            return rows

        return intervals

    def lifetime(fetch: Callable[..., Awaitable[DailyEnergy]]) -> Days:
        async def days(end: date) -> DailyEnergy:
            return await fetch(system_id, end_date=end)

        return days

    # Charge and discharge come in one answer: the other series, asked from the same start within
    # a few minutes (the planner's next action), reuses it.
    fetched: dict[datetime, tuple[datetime, BatterySeries]] = {}

    async def battery_intervals(start: datetime, part: str) -> Iterable[EnergyInterval]:
        now = datetime.now(UTC)
        reused = fetched.pop(start, None)
        if reused is not None and now - reused[0] <= REUSE_BATTERY:
            series = reused[1]
        else:
            series = await v4.get_battery_telemetry(system_id, start, "week")
            fetched.clear()
            fetched[start] = (now, series)
        socs = [(r.soc_percent, r.end_at) for r in series.intervals if r.soc_percent is not None]
        if socs:
            latest["soc"] = Reading(*socs[-1])
        return [
            EnergyInterval(end_at=row.end_at, energy_wh=value)
            for row in series.intervals
            if (value := row.charge_wh if part == "charge" else row.discharge_wh) is not None
        ]

    def battery_series(part: str) -> tuple[Intervals, Days]:
        async def intervals(start: datetime, _end: datetime) -> Iterable[EnergyInterval]:
            return await battery_intervals(start, part)

        async def days(end: date) -> DailyEnergy:
            charge, discharge = await v4.get_battery_lifetime(system_id, end_date=end)
            return charge if part == "charge" else discharge

        return intervals, days

    if consumption:
        result += [
            SeriesSource(
                Series.CONSUMPTION,
                "consumption_meter",
                telemetry(
                    lambda sid, s: v4.get_consumption_meter(sid, s, "week"), "consumption_power"
                ),
                lifetime(v4.get_consumption_lifetime),
                WEEK,
            ),
            SeriesSource(
                Series.GRID_IMPORT,
                "energy_import_telemetry",
                telemetry(lambda sid, s: v4.get_energy_import(sid, s, "week"), "grid_import_power"),
                lifetime(v4.get_import_lifetime),
                WEEK,
            ),
            SeriesSource(
                Series.GRID_EXPORT,
                "energy_export_telemetry",
                telemetry(lambda sid, s: v4.get_energy_export(sid, s, "week"), "grid_export_power"),
                lifetime(v4.get_export_lifetime),
                WEEK,
            ),
        ]
    if battery:
        for series, part in (
            (Series.BATTERY_CHARGE, "charge"),
            (Series.BATTERY_DISCHARGE, "discharge"),
        ):
            intervals, days = battery_series(part)
            result.append(SeriesSource(series, f"battery_{part}", intervals, days, WEEK))
    return result


class EnlightenHistory(EnergyHistory):
    """One series of one system: intervals per request, days once (when ``with_days``)."""

    def __init__(
        self,
        source: SeriesSource,
        statistic: EnergyStatistic,
        *,
        tz: tzinfo,
        with_days: bool,
        on_intervals: Callable[[list[EnergyInterval]], None],
    ) -> None:
        """``on_intervals`` hears every interval fetched (the planner learns the daylight)."""
        self.source = source
        self.chunk = source.chunk
        self.statistic = statistic
        self.tz = tz
        self.with_days = with_days
        self._on_intervals = on_intervals
        self.failure: SolarHubApiError | None = None
        self.fetched_until: datetime | None = None
        self.imported = False  # an import succeeded since setup (the days are in, if asked)
        self._prefetched: tuple[datetime, list[EnergyRow]] | None = None

    def reset(self) -> None:
        """Forget the previous import's outcome."""
        self.failure = None
        self.fetched_until = None
        self._prefetched = None

    @property
    def contiguous(self) -> bool:
        """Whether every interval has a row, dark ones too (meters, site flows; not micro data).

        For these a missing row means "not uploaded yet", never 0 Wh.
        """
        return self.source.endpoint not in SPARSE

    async def async_prefetch(self, start: datetime, end: datetime) -> datetime | None:
        """Fetch ``[start, end)`` now; the importer's fetch from ``start`` then costs nothing.

        Returns the end of the newest interval, so the import stops where the data does.
        """
        rows = list(await self.async_fetch(start, end))
        self._prefetched = (start, rows)
        return self.fetched_until

    @override
    async def async_fetch(self, start: datetime, end: datetime) -> Iterable[EnergyRow]:
        if self._prefetched is not None and self._prefetched[0] == start:
            rows, self._prefetched = self._prefetched[1], None
            return rows
        try:
            intervals = list(await self.source.intervals(start, end))
        except SolarHubApiError as err:
            self.failure = err
            raise
        self._on_intervals(intervals)
        rows = []
        for interval in intervals:
            length = QUARTER if self.contiguous else FIVE
            rows.append(
                EnergyRow(
                    start=interval.end_at - length, end=interval.end_at, wh=interval.energy_wh
                )
            )
            if self.fetched_until is None or interval.end_at > self.fetched_until:
                self.fetched_until = interval.end_at
        return rows

    @override
    async def async_fetch_days(self, end: datetime) -> Iterable[EnergyRow]:
        if not self.with_days:
            return ()
        last_day = end.astimezone(self.tz).date() - timedelta(days=1)
        try:
            daily = await self.source.days(last_day)
        except SolarHubApiError as err:
            self.failure = err
            raise
        rows = []
        for day, wh in daily.days():
            if day > last_day:
                break
            begins = datetime.combine(day, time(), tzinfo=self.tz).astimezone(UTC)
            ends = datetime.combine(day + timedelta(days=1), time(), tzinfo=self.tz)
            rows.append(EnergyRow(start=begins, end=ends.astimezone(UTC), wh=wh))
        return rows
