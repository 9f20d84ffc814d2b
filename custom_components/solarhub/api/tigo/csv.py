"""Pure parsers of the CSV answers of Tigo's ``data/aggregate`` and ``data/combined``.

Both answers are a header line (``Datetime,<col>,…`` or ``DATETIME,<col>,…``, spelled ``DATE TIME``
in places) followed by one row per timestamp, in the system's local time and without offset. The
columns are object ids (``header=id``) or keys ``<datasource>_<param>`` (``header=key``).

The rules, the same for both formats (each accepts the other's spelling and timestamps):

* A header line may appear again in the middle of the file and re-maps the columns from there on;
  a value is only ever filed under the column its own section's header names. Rows before the
  first header line have no columns and are skipped.
* A header with an empty or repeated column name ignores the cells of that name in its section
  (a trailing comma, or a name that cannot say which cell is which); the other columns stand.
* Timestamps are ``2014/09/23 00:06:23`` or ``2016/08/16 08:00:00.000`` (also with ``-`` in the
  date, ``T`` before the time, 1-6 fraction digits), read as wall time in ``tz``. Rows run
  forward in time, so when the wall time steps back within a section (the repeated
  hour when daylight saving time ends) the rows from there on are the second occurrence of that
  hour, until the wall time passes the latest one seen: no hour of energy is lost or merged.
* An empty cell gives no point, and so does a number that is not finite (``nan``, ``inf``,
  ``1e999``): the row itself is fine and not counted.
* Skipped and counted in ``skipped_rows``: rows dated after ``now``, rows before the first header,
  rows whose field count differs from their header's, rows with an unparsable date, and rows with
  any cell that is not a number (the whole row: one corrupt cell makes the others suspect).
  Blank lines are ignored without counting.
* Points per column are sorted oldest first; a timestamp repeated for a column keeps the later
  row's value. Every column named by a header is present, possibly without points.
* Text without any header line, or not text at all, is a :class:`MalformedResponseError` — the
  only exception these functions raise.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
import math
import re
from typing import Final

from ..errors import MalformedResponseError
from .models import CsvSeries

__all__ = ["parse_aggregate_csv", "parse_combined_csv"]

_HEADER_TIME: Final = "DATETIME"
_TIMESTAMP: Final = re.compile(
    r"([0-9]{4})[/-]([0-9]{1,2})[/-]([0-9]{1,2})[ T]([0-9]{1,2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,6}))?",
    re.ASCII,
)
_LINE_BREAK: Final = re.compile(r"\r\n|\r|\n")
_MAX_EXCERPT: Final = 120


def parse_aggregate_csv(text: str, tz: tzinfo, *, now: datetime) -> CsvSeries:
    """Parse a ``data/aggregate`` answer (``Datetime,<col>,…``; ``Pin``/``Vin``/``Iin``/``RSSI``).

    ``tz`` is the system's time zone; rows dated after ``now`` (a naive ``now`` is UTC) are dropped.
    """
    return _parse(text, tz, now, "data/aggregate")


def parse_combined_csv(text: str, tz: tzinfo, *, now: datetime) -> CsvSeries:
    """Parse a ``data/combined`` answer (``DATETIME,<col>,…``, one column per object id)."""
    return _parse(text, tz, now, "data/combined")


def _parse(text: object, tz: tzinfo, now: datetime, what: str) -> CsvSeries:
    if not isinstance(text, str) or "\x00" in text:
        raise MalformedResponseError(f"unexpected {what} answer: not text")
    if now.tzinfo is None or now.utcoffset() is None:
        now = now.replace(tzinfo=UTC)
    points: dict[str, dict[datetime, float]] = {}
    section: list[str | None] | None = None  # the column of each cell after the time, or None
    latest: datetime | None = None  # the latest wall time of the section, to spot the DST repeat
    skipped = 0
    for line in _LINE_BREAK.split(text.removeprefix("\ufeff")):
        if not line or line.isspace():
            continue
        cells = line.split(",")
        first = _unquote(cells[0].strip())
        if first.replace(" ", "").upper() == _HEADER_TIME:
            section = _column_map(cells[1:])
            latest = None
            for column in filter(None, section):
                points.setdefault(column, {})
            continue
        if section is None or len(cells) != len(section) + 1:
            skipped += 1
            continue
        wall = _wall_time(first)
        values = _values(cells[1:])
        if wall is None or values is None:
            skipped += 1
            continue
        repeated = latest is not None and wall <= latest
        latest = wall if latest is None else max(latest, wall)
        stamp = _moment(wall, tz, repeated=repeated)
        if stamp is None or stamp > now:
            skipped += 1
            continue
        for name, value in zip(section, values, strict=True):
            if name is not None and value is not None:
                points[name][stamp] = value
    if section is None:
        raise MalformedResponseError(
            f"unexpected {what} answer: no 'Datetime,…' header line in {_excerpt(text)}"
        )
    return CsvSeries(
        # Keyed in UTC, so the two occurrences of a repeated wall time stay apart; handed out in
        # the system's zone (``astimezone`` sets ``fold`` on the second occurrence).
        columns={
            name: tuple((stamp.astimezone(tz), value) for stamp, value in sorted(series.items()))
            for name, series in points.items()
        },
        skipped_rows=skipped,
    )


def _unquote(cell: str) -> str:
    if len(cell) >= 2 and cell[0] == cell[-1] == '"':
        return cell[1:-1].strip()
    return cell


def _column_map(cells: list[str]) -> list[str | None]:
    """Column names of a header line; empty and repeated names are ``None`` (ignored)."""
    names = [_unquote(cell.strip()) for cell in cells]
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return [name if name and counts[name] == 1 else None for name in names]


def _wall_time(cell: str) -> datetime | None:
    """The naive local time of a row, or None when it is not a valid timestamp."""
    match = _TIMESTAMP.fullmatch(cell)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int(fraction.ljust(6, "0")) if fraction else 0,
        )
    except ValueError:  # 2014/02/30, 25:00:00, ...
        return None


def _moment(wall: datetime, tz: tzinfo, *, repeated: bool) -> datetime | None:
    """The row's moment in UTC; None when that leaves the calendar (year 1 or 9999)."""
    try:
        return wall.replace(tzinfo=tz, fold=int(repeated)).astimezone(UTC)
    except OverflowError:
        return None


def _values(cells: list[str]) -> list[float | None] | None:
    """The cells of a row as numbers (``None``: no point); ``None`` if one is not a number."""
    values: list[float | None] = []
    for raw in cells:
        cell = raw.strip()
        if cell[:1] == '"':
            cell = _unquote(cell)
        if not cell:
            values.append(None)
            continue
        try:
            value = float(cell)
        except ValueError:
            return None
        # float() also takes "1_000" and non-ASCII digits, which no CSV writer produces.
        if "_" in cell or not cell.isascii():
            return None
        values.append(value if math.isfinite(value) else None)
    return values


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > _MAX_EXCERPT:
        text = text[:_MAX_EXCERPT] + "…"
    return repr(text)
