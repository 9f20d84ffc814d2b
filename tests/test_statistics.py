"""The statistics importer: pure placement of vendor rows into UTC hours, and the import job."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
import logging
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.models import StatisticMeanType
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.solarhub.api.errors import ApiConnectionError
from custom_components.solarhub.statistics import (
    HOUR,
    EnergyHistory,
    EnergyRow,
    EnergyStatistic,
    HourlyEnergy,
    LastImported,
    Series,
    StatisticsImporter,
    UnplaceableRowError,
    backfill_start,
    chunks,
    days_to_import,
    energy_statistic,
    hour_of,
    hours_to_import,
    statistic_id,
    utc_hour,
    with_sums,
    within,
)
from tests.constants import BERLIN

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
KOLKATA = ZoneInfo("Asia/Kolkata")
QUARTER = timedelta(minutes=15)
ZONES = (
    "Asia/Kolkata",
    "Australia/Adelaide",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Europe/Berlin",
    "Pacific/Kiritimati",  # +14
    "Pacific/Pago_Pago",  # -11
    "Australia/Lord_Howe",  # DST by half an hour
)


def _local(tz: ZoneInfo, day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def _day(tz: ZoneInfo, day: date, wh: float) -> EnergyRow:
    return EnergyRow(_local(tz, day), _local(tz, day + timedelta(days=1)), wh)


def _quarters(start: datetime, end: datetime, wh: float = 250.0) -> list[EnergyRow]:
    """15-minute rows over [start, end); ``wh`` each, but none at night (00:00-06:00 UTC)."""
    rows = []
    moment = start.astimezone(UTC)  # in UTC: local times would step by wall time
    while moment < end:
        if moment.hour >= 6:
            rows.append(EnergyRow(moment, moment + QUARTER, wh))
        moment += QUARTER
    return rows


async def stored_sums(
    hass: HomeAssistant, statistic_id: str, start: datetime
) -> dict[datetime, float]:
    """The running sum (kWh) stored at the end of each hour from ``start`` on."""
    await async_wait_recording_done(hass)
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period, hass, start, None, {statistic_id}, "hour", None, {"sum"}
    )
    return {
        dt_util.utc_from_timestamp(r["start"]): r["sum"] or 0.0 for r in rows.get(statistic_id, [])
    }


# ---- ids and names -------------------------------------------------------------------------


def test_statistic_ids_are_built_in_one_place() -> None:
    assert statistic_id("tigo", 42, Series.SOLAR) == "solarhub:tigo_42_solar_energy"
    assert [statistic_id("enlighten", 7, series) for series in Series] == [
        "solarhub:enlighten_7_solar_energy",
        "solarhub:enlighten_7_consumption_energy",
        "solarhub:enlighten_7_grid_import_energy",
        "solarhub:enlighten_7_grid_export_energy",
        "solarhub:enlighten_7_battery_charge_energy",
        "solarhub:enlighten_7_battery_discharge_energy",
    ]
    with pytest.raises(ValueError, match="statistic id"):
        statistic_id("tigo", "4-2", Series.SOLAR)


def test_statistic_names_and_metadata() -> None:
    statistic = energy_statistic("enlighten", "Enlighten", 7, "Roof", Series.GRID_IMPORT)
    assert statistic.name == "Roof grid import energy (Enlighten, hourly)"
    tigo = energy_statistic("tigo", "Tigo", 42, "Home", Series.SOLAR)
    assert tigo == EnergyStatistic(
        "solarhub:tigo_42_solar_energy", "Home solar energy (Tigo, hourly)"
    )
    metadata = tigo.metadata
    assert metadata["mean_type"] is StatisticMeanType.NONE
    assert metadata["unit_class"] == "energy"
    assert metadata["has_sum"] is True
    assert metadata["unit_of_measurement"] == "kWh"
    assert metadata["source"] == "solarhub"


# ---- placing rows --------------------------------------------------------------------------


def test_rows_are_kept_in_utc_and_must_be_aware() -> None:
    row = EnergyRow(_local(KOLKATA, date(2026, 6, 1), 12), _local(KOLKATA, date(2026, 6, 1), 13), 1)
    assert row.start == datetime(2026, 6, 1, 6, 30, tzinfo=UTC)
    assert row.start.tzinfo is UTC
    with pytest.raises(ValueError, match="naive"):
        EnergyRow(datetime(2026, 6, 1), datetime(2026, 6, 1, 1), 1)


def test_intervals_go_into_their_utc_hour() -> None:
    hour = datetime(2026, 6, 1, 10, tzinfo=UTC)
    assert hour_of(EnergyRow(hour, hour + QUARTER, 1)) == hour
    assert hour_of(EnergyRow(hour + 3 * QUARTER, hour + HOUR, 1)) == hour  # the hour's last
    assert hour_of(EnergyRow(hour, hour + HOUR, 1)) == hour
    for start, end in (
        (hour + 3 * QUARTER, hour + 5 * QUARTER),  # across the hour
        (hour - timedelta(minutes=30), hour + timedelta(minutes=30)),  # a local hour in Kolkata
        (hour, hour + 2 * HOUR),
        (hour, hour),
    ):
        with pytest.raises(UnplaceableRowError):
            hour_of(EnergyRow(start, end, 1))


@pytest.mark.parametrize("zone", ZONES)
def test_every_day_lands_on_its_own_local_day(zone: str) -> None:
    """A year of days (the DST days of 23 and 25 hours included): each one's hour is on it."""
    tz = ZoneInfo(zone)
    lengths = set()
    for n in range(366):
        day = date(2026, 1, 1) + timedelta(days=n)
        row = _day(tz, day, 1)
        hour = hour_of(row)
        lengths.add(row.end - row.start)
        assert hour.minute == 0
        assert hour.tzinfo is UTC
        assert row.start <= hour < row.end
        assert hour.astimezone(tz).date() == day
        assert (hour + HOUR).astimezone(tz).date() == day  # the whole hour: no neighbour's share
    if zone in ("Australia/Adelaide", "America/St_Johns", "Europe/Berlin"):
        assert lengths == {timedelta(hours=23), timedelta(hours=24), timedelta(hours=25)}


def test_hours_sum_intervals_and_fill_the_gaps() -> None:
    since = datetime(2026, 6, 1, 5, tzinfo=UTC)
    until = datetime(2026, 6, 1, 9, 40, tzinfo=UTC)  # 09:00 is not complete
    rows = _quarters(since, until + HOUR)
    rows.append(EnergyRow(since - QUARTER, since, 1000))  # before the range
    hours = hours_to_import(rows, since=since, until=until)
    assert hours == [
        HourlyEnergy(datetime(2026, 6, 1, 5, tzinfo=UTC), 0.0),  # night: no rows
        HourlyEnergy(datetime(2026, 6, 1, 6, tzinfo=UTC), 1000.0),
        HourlyEnergy(datetime(2026, 6, 1, 7, tzinfo=UTC), 1000.0),
        HourlyEnergy(datetime(2026, 6, 1, 8, tzinfo=UTC), 1000.0),
    ]


def test_the_first_hour_holds_only_what_follows_a_half_hour_midnight() -> None:
    since = _local(KOLKATA, date(2026, 6, 1))  # 18:30 UTC
    rows = [EnergyRow(since - QUARTER, since, 7), EnergyRow(since, since + QUARTER, 3)]
    rows += [EnergyRow(since + QUARTER, since + 2 * QUARTER, 4)]
    hours = hours_to_import(rows, since=since, until=since + 2 * HOUR)
    assert hours[0] == HourlyEnergy(datetime(2026, 5, 31, 18, tzinfo=UTC), 7.0)


def test_hours_refuse_rows_they_would_have_to_split() -> None:
    start = _local(KOLKATA, date(2026, 6, 1), 12)
    local_hour = EnergyRow(start, start + HOUR, 100)  # 06:30-07:30 UTC
    with pytest.raises(UnplaceableRowError):
        hours_to_import([local_hour], since=start - 2 * HOUR, until=start + 2 * HOUR)
    day = _day(BERLIN, date(2026, 6, 1), 100)
    with pytest.raises(UnplaceableRowError, match="day"):
        hours_to_import([day], since=day.start, until=day.end)


def test_negative_hours_count_as_nothing() -> None:
    hour = datetime(2026, 6, 1, 10, tzinfo=UTC)
    rows = [EnergyRow(hour, hour + QUARTER, 5), EnergyRow(hour + QUARTER, hour + HOUR, -9)]
    assert hours_to_import(rows, since=hour, until=hour + HOUR) == [HourlyEnergy(hour, 0.0)]


def test_days_before_the_window_only() -> None:
    before = _local(BERLIN, date(2026, 3, 30))
    rows = [_day(BERLIN, date(2026, 3, d), d) for d in (30, 28, 29)]  # unordered, one too late
    assert days_to_import(rows, before=before) == [
        HourlyEnergy(datetime(2026, 3, 28, 11, tzinfo=UTC), 28),  # 12:00 CET
        HourlyEnergy(datetime(2026, 3, 29, 10, tzinfo=UTC), 29),  # 23 hours: 12:30 CEST
    ]
    with pytest.raises(UnplaceableRowError, match="not a local day"):
        days_to_import([EnergyRow(before - 2 * HOUR, before, 1)], before=before)


@pytest.mark.parametrize("zone", ZONES)
def test_days_hand_over_to_hours_without_loss_or_double(zone: str) -> None:
    """Days of history, then the hourly window from a local midnight: every Wh counted once."""
    tz = ZoneInfo(zone)
    first = date(2026, 3, 25)  # the week of Europe's spring change
    window = _local(tz, first + timedelta(days=5))
    until = window + timedelta(days=3, hours=7)
    intervals = _quarters(_local(tz, first), until)
    days = [
        _day(tz, first + timedelta(days=n), sum(r.wh for r in within(intervals, *_bounds(tz, n))))
        for n in range(5)
    ]
    placed = days_to_import(days, before=window) + hours_to_import(
        intervals, since=window, until=until
    )
    starts = [hour.start for hour in placed]
    assert starts == sorted(set(starts))  # strictly ascending: one row per hour
    assert all(s.minute == 0 and s.second == 0 for s in starts)
    complete = [r for r in intervals if r.end <= utc_hour(until)]
    assert sum(hour.wh for hour in placed) == pytest.approx(sum(r.wh for r in complete))


def _bounds(tz: ZoneInfo, n: int) -> tuple[datetime, datetime]:
    day = date(2026, 3, 25) + timedelta(days=n)
    return _local(tz, day), _local(tz, day + timedelta(days=1))


def test_chunks_cover_the_range() -> None:
    start = datetime(2026, 6, 1, 18, 30, tzinfo=UTC)
    end = start + timedelta(hours=50)
    parts = chunks(start, end, timedelta(hours=21))
    assert [(b - a) for a, b in parts] == [timedelta(hours=21)] * 2 + [timedelta(hours=8)]
    assert parts[0][0] == start
    assert parts[-1][1] == end
    assert all(parts[i][1] == parts[i + 1][0] for i in range(len(parts) - 1))
    assert chunks(end, start, HOUR) == []
    with pytest.raises(ValueError, match="positive"):
        chunks(start, end, timedelta(0))


def test_a_row_across_two_chunks_counts_once() -> None:
    cut = datetime(2026, 6, 1, 10, 30, tzinfo=UTC)
    row = EnergyRow(cut - timedelta(minutes=5), cut + timedelta(minutes=10), 9)
    assert within([row], cut - HOUR, cut) == [row]
    assert within([row], cut, cut + HOUR) == []


def test_backfill_starts_at_the_systems_midnight() -> None:
    now = datetime(2026, 6, 21, 10, tzinfo=UTC)
    assert backfill_start(now, KOLKATA, 7) == datetime(2026, 6, 13, 18, 30, tzinfo=UTC)
    assert backfill_start(now, BERLIN, 7) == datetime(2026, 6, 13, 22, tzinfo=UTC)
    spring = datetime(2026, 4, 1, 10, tzinfo=UTC)
    assert backfill_start(spring, BERLIN, 7) == datetime(2026, 3, 24, 23, tzinfo=UTC)  # CET


def test_running_sums_continue_from_the_stored_end() -> None:
    hour = datetime(2026, 6, 1, 10, tzinfo=UTC)
    last = LastImported(start=hour - HOUR, sum=2.0)
    rows = with_sums([HourlyEnergy(hour, 500), HourlyEnergy(hour + HOUR, 250)], last)
    assert [(r["start"], r["sum"]) for r in rows] == [(hour, 2.5), (hour + HOUR, 2.75)]
    assert with_sums([HourlyEnergy(hour, 500)], None)[0]["sum"] == 0.5


# ---- the import job against the recorder -------------------------------------------------


class _History(EnergyHistory):
    """A vendor with 15-minute rows and daily history in one zone, recording what it was asked."""

    def __init__(self, tz: ZoneInfo, start: datetime, *, chunk: timedelta) -> None:
        self.statistic = energy_statistic("enlighten", "Enlighten", 7, "Roof", Series.SOLAR)
        self.chunk = chunk
        self.tz = tz
        self.start = start  # the history's first local midnight
        self.asked: list[tuple[datetime, datetime]] = []
        self.days_asked: list[datetime] = []
        self.fail = False

    def intervals(self, end: datetime) -> list[EnergyRow]:
        return _quarters(self.start, end)

    async def async_fetch(self, start: datetime, end: datetime) -> Iterable[EnergyRow]:
        if self.fail:
            raise ApiConnectionError("unreachable")
        self.asked.append((start, end))
        # A little more than asked, as vendors do: the importer keeps what lies in the range.
        return within(self.intervals(end + HOUR), start - HOUR, end + HOUR)

    async def async_fetch_days(self, end: datetime) -> Iterable[EnergyRow]:
        self.days_asked.append(end)
        days = []
        day = self.start
        while day < end:
            following = datetime.combine(
                day.astimezone(self.tz).date() + timedelta(days=1), time(), self.tz
            )
            days.append(EnergyRow(day, following, sum(r.wh for r in self._between(day, following))))
            day = following
        return days

    def _between(self, start: datetime, end: datetime) -> list[EnergyRow]:
        return within(self.intervals(end), start, end)


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "Europe/Berlin", "America/St_Johns"])
async def test_the_importer_backfills_days_then_hours_then_continues(
    recorder_mock: Recorder, hass: HomeAssistant, freezer: FrozenDateTimeFactory, zone: str
) -> None:
    tz = ZoneInfo(zone)
    now = datetime(2026, 4, 2, 15, 20, tzinfo=UTC)
    freezer.move_to(now)
    history = _History(tz, _local(tz, date(2026, 3, 1)), chunk=timedelta(days=1))
    importer = StatisticsImporter(hass, history, tz=tz, backfill_days=7)

    await importer.async_import(now - timedelta(minutes=20))
    window = backfill_start(now, tz, 7)
    assert history.days_asked == [window]
    assert history.asked[0][0] == window
    assert all(end - start <= history.chunk for start, end in history.asked)
    stored = await stored_sums(hass, history.statistic.statistic_id, EPOCH)
    assert all(s.minute == 0 for s in stored)
    days = [s for s in stored if s < utc_hour(window)]
    assert len(days) == (window.astimezone(tz).date() - date(2026, 3, 1)).days
    assert max(stored) == datetime(2026, 4, 2, 14, tzinfo=UTC)
    complete = history.intervals(datetime(2026, 4, 2, 15, tzinfo=UTC))
    assert stored[max(stored)] * 1000 == pytest.approx(sum(r.wh for r in complete))

    asked = len(history.asked)
    await importer.async_import(now + timedelta(minutes=30))  # no new complete hour: no request
    assert len(history.asked) == asked

    freezer.tick(timedelta(hours=3))
    importer = StatisticsImporter(hass, history, tz=tz)  # a restart: continues where it ends
    await importer.async_import(now + timedelta(hours=3))
    assert history.asked[asked:] == [
        (datetime(2026, 4, 2, 15, tzinfo=UTC), datetime(2026, 4, 2, 18, tzinfo=UTC))
    ]
    assert len(history.days_asked) == 1
    stored = await stored_sums(hass, history.statistic.statistic_id, EPOCH)
    complete = history.intervals(datetime(2026, 4, 2, 18, tzinfo=UTC))
    assert stored[max(stored)] * 1000 == pytest.approx(sum(r.wh for r in complete))
    assert max(stored) == datetime(2026, 4, 2, 17, tzinfo=UTC)


async def test_a_failing_import_is_logged_and_retried(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = datetime(2026, 6, 2, 12, 20, tzinfo=UTC)
    freezer.move_to(now)
    history = _History(KOLKATA, _local(KOLKATA, date(2026, 5, 1)), chunk=timedelta(days=2))
    importer = StatisticsImporter(hass, history, tz=KOLKATA, backfill_days=1)
    history.fail = True
    with caplog.at_level(logging.DEBUG):
        await importer.async_import(now)  # does not raise
        await importer.async_import(now)
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1  # once, not every poll
        assert "unreachable" in warnings[0].getMessage()
        assert await stored_sums(hass, history.statistic.statistic_id, EPOCH) == {}

        history.fail = False
        await importer.async_import(now)
    stored = await stored_sums(hass, history.statistic.statistic_id, EPOCH)
    assert max(stored) == datetime(2026, 6, 2, 11, tzinfo=UTC)
    assert "works again" in caplog.text
