"""The pure CSV parsers of Tigo's ``data/aggregate`` and ``data/combined`` answers.

Worked examples first (the seed's own answers, time zones, DST, every kind of bad row), then
properties: arbitrary text never raises anything but ``MalformedResponseError``, and files built
from a known ground truth — random columns, header switches, empty cells, garbage lines — always
parse back to exactly that truth, with no value ever under the wrong column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
import math
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.solarhub.api.errors import MalformedResponseError
from custom_components.solarhub.api.tigo.csv import parse_aggregate_csv, parse_combined_csv
from custom_components.solarhub.api.tigo.models import CsvSeries
from tests.constants import BERLIN

type Parser = Callable[..., CsvSeries]

PARSERS = [parse_aggregate_csv, parse_combined_csv]
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
LATER = datetime(2030, 1, 1, tzinfo=UTC)  # a `now` after every row of the examples


def points(series: CsvSeries, column: str) -> list[tuple[datetime, float]]:
    return list(series.columns[column])


def values(series: CsvSeries) -> dict[str, list[float]]:
    return {name: [value for _, value in pts] for name, pts in series.columns.items()}


# ---- the seed's examples --------------------------------------------------------------------

AGGREGATE_ID = """\
Datetime,1,2,3
2014/09/23 00:06:23,11,21,31
2014/09/23 00:06:24,12,22,32
2014/09/23 00:06:25,13,23,33
2014/09/23 00:06:26,14,24,34
2014/09/23 00:06:27,15,25,35
2014/09/23 00:06:28,16,26,36
Datetime,1,2
2014/09/23 00:06:28,17,27
"""

AGGREGATE_KEY = """\
Datetime,04C05B800ACE.panels.A1_Vin,04C05B800ACE.panels.A2_Vin
2014/09/23 00:06:23,30.5,31.5
2014/09/23 00:06:24,30.25,31.25
Datetime,04C05B800ACE.panels.A2_Vin
2014/09/23 00:06:25,31.75
"""

COMBINED = """\
DATE TIME, 1, 2

2016/08/16 08:00:00.000, 1170, 35

2016/08/16 08:01:00.000, 1175, 36

2016/08/16 08:02:00.000, 1195, 38

2016/08/16 08:03:00.000, 1216, 50
"""


def test_aggregate_with_id_header_and_the_mid_file_header() -> None:
    series = parse_aggregate_csv(AGGREGATE_ID, UTC, now=LATER)
    assert values(series) == {
        "1": [11, 12, 13, 14, 15, 17],  # the repeated 00:06:28 row wins for 1 and 2 ...
        "2": [21, 22, 23, 24, 25, 27],
        "3": [31, 32, 33, 34, 35, 36],  # ... and leaves 3, which it does not name, alone
    }
    assert series.skipped_rows == 0
    first, *_ = points(series, "1")
    assert first == (datetime(2014, 9, 23, 0, 6, 23, tzinfo=UTC), 11.0)
    assert series.latest("3") == (datetime(2014, 9, 23, 0, 6, 28, tzinfo=UTC), 36.0)
    assert series.latest("4") is None


def test_aggregate_with_key_header() -> None:
    series = parse_aggregate_csv(AGGREGATE_KEY, BERLIN, now=LATER)
    a1, a2 = "04C05B800ACE.panels.A1_Vin", "04C05B800ACE.panels.A2_Vin"
    assert values(series) == {a1: [30.5, 30.25], a2: [31.5, 31.25, 31.75]}
    # The newest value per column, not per row: A2 is a minute fresher than A1.
    assert series.latest(a1) == (datetime(2014, 9, 23, 0, 6, 24, tzinfo=BERLIN), 30.25)
    assert series.latest(a2) == (datetime(2014, 9, 23, 0, 6, 25, tzinfo=BERLIN), 31.75)


def test_combined_with_spaces_blank_lines_and_milliseconds() -> None:
    series = parse_combined_csv(COMBINED, LOS_ANGELES, now=LATER)
    assert values(series) == {"1": [1170, 1175, 1195, 1216], "2": [35, 36, 38, 50]}
    assert series.skipped_rows == 0
    stamp, _ = series.columns["1"][0]
    assert stamp == datetime(2016, 8, 16, 8, 0, tzinfo=LOS_ANGELES)
    assert stamp.astimezone(UTC) == datetime(2016, 8, 16, 15, 0, tzinfo=UTC)  # PDT


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("header", ["Datetime", "DATETIME", "DATE TIME", "date time", '"Datetime"'])
def test_both_spellings_and_both_timestamp_formats_in_both(parser: Parser, header: str) -> None:
    text = (
        f"{header},7\n2016/08/16 08:00:00.000,1\n2016/08/16 08:01:00,2\n2016/08/16 08:02:00.5,3\n"
    )
    series = parser(text, UTC, now=LATER)
    assert [stamp.time().isoformat() for stamp, _ in series.columns["7"]] == [
        "08:00:00",
        "08:01:00",
        "08:02:00.500000",
    ]
    assert series.skipped_rows == 0


# ---- time zones -----------------------------------------------------------------------------


def test_times_are_wall_time_in_the_system_zone() -> None:
    text = "Datetime,1\n2026/01/15 12:00:00,1\n2026/07/15 12:00:00,2\n"
    series = parse_aggregate_csv(text, BERLIN, now=LATER)
    winter, summer = (stamp for stamp, _ in series.columns["1"])
    assert winter.tzinfo is BERLIN
    assert winter.astimezone(UTC).hour == 11  # CET
    assert summer.astimezone(UTC).hour == 10  # CEST


def test_spring_forward_day() -> None:
    # 2026-03-29 in Berlin: 02:00 CET becomes 03:00 CEST; minute rows jump from 01:59 to 03:00.
    text = "Datetime,1\n2026/03/29 01:59:00,1\n2026/03/29 03:00:00,2\n2026/03/29 03:01:00,3\n"
    series = parse_aggregate_csv(text, BERLIN, now=LATER)
    assert [stamp.astimezone(UTC).strftime("%H:%M") for stamp, _ in series.columns["1"]] == [
        "00:59",
        "01:00",
        "01:01",
    ]


def test_fall_back_day_repeated_hour_is_kept_apart() -> None:
    # 2026-10-25 in Berlin: 02:00-02:59 happens twice. Rows run forward in time, so the second
    # 02:30 is the second occurrence (fold 1): both hours keep their energy.
    text = (
        "DATETIME,1\n"
        "2026/10/25 01:30:00.000,10\n"
        "2026/10/25 02:30:00.000,20\n"
        "2026/10/25 02:30:00.000,21\n"
        "2026/10/25 03:30:00.000,30\n"
    )
    series = parse_combined_csv(text, BERLIN, now=LATER)
    assert [(stamp.astimezone(UTC).strftime("%H:%M"), v) for stamp, v in series.columns["1"]] == [
        ("23:30", 10.0),
        ("00:30", 20.0),
        ("01:30", 21.0),
        ("02:30", 30.0),
    ]
    assert [stamp.fold for stamp, _ in series.columns["1"]] == [0, 0, 1, 0]
    assert series.skipped_rows == 0


def test_a_repeated_unambiguous_time_keeps_the_later_row() -> None:
    text = "Datetime,1\n2026/06/21 12:00:00,1\n2026/06/21 12:00:00,2\n2026/06/21 12:01:00,3\n"
    series = parse_aggregate_csv(text, BERLIN, now=LATER)
    assert [v for _, v in series.columns["1"]] == [2.0, 3.0]


def test_future_rows_are_dropped_and_counted() -> None:
    # 12:05 local in Berlin summer is 10:05 UTC: the 12:06 and 12:07 rows are in the future.
    now = datetime(2026, 6, 21, 10, 5, 30, tzinfo=UTC)
    text = "Datetime,1\n" + "".join(f"2026/06/21 12:0{m}:00,{m}\n" for m in range(8))
    series = parse_aggregate_csv(text, BERLIN, now=now)
    assert values(series) == {"1": [0, 1, 2, 3, 4, 5]}
    assert series.skipped_rows == 2
    # A naive `now` is taken as UTC.
    assert parse_aggregate_csv(text, BERLIN, now=now.replace(tzinfo=None)) == series


# ---- the mid-file header --------------------------------------------------------------------


def test_a_new_header_remaps_every_column_from_there_on() -> None:
    text = (
        "Datetime,1,2,3\n"
        "2026/06/21 12:00:00,100,200,300\n"
        "Datetime,3,1\n"  # new order, one column gone
        "2026/06/21 12:01:00,301,101\n"
        "Datetime,4,2,1,3\n"  # a new column, another order
        "2026/06/21 12:02:00,402,202,102,302\n"
    )
    series = parse_aggregate_csv(text, UTC, now=LATER)
    assert values(series) == {
        "1": [100, 101, 102],
        "2": [200, 202],
        "3": [300, 301, 302],
        "4": [402],
    }
    assert series.skipped_rows == 0


def test_rows_that_do_not_fit_the_new_header_are_skipped() -> None:
    text = (
        "Datetime,1,2,3\n"
        "2026/06/21 12:00:00,100,200,300\n"
        "Datetime,1\n"
        "2026/06/21 12:01:00,101,201,301\n"  # three values under a one-column header
        "2026/06/21 12:02:00,102\n"
    )
    series = parse_aggregate_csv(text, UTC, now=LATER)
    assert values(series) == {"1": [100, 102], "2": [200], "3": [300]}
    assert series.skipped_rows == 1


def test_empty_and_repeated_column_names_are_ignored() -> None:
    text = (
        "Datetime,1,2,2,\n"  # "2" twice: which cell is it? and a trailing comma
        "2026/06/21 12:00:00,100,200,201,\n"
        "2026/06/21 12:01:00,101,,,\n"
    )
    series = parse_aggregate_csv(text, UTC, now=LATER)
    assert values(series) == {"1": [100, 101]}
    assert series.skipped_rows == 0


def test_header_only_gives_columns_without_points() -> None:
    series = parse_combined_csv("DATETIME,1,2\n", UTC, now=LATER)
    assert series == CsvSeries(columns={"1": (), "2": ()}, skipped_rows=0)
    assert series.latest("1") is None


# ---- cells and rows -------------------------------------------------------------------------


def test_empty_cells_give_no_point() -> None:
    text = (
        "Datetime,1,2,3\n"
        "2026/06/21 12:00:00,,200,\n"
        "2026/06/21 12:01:00, , 201 ,301\n"
        "2026/06/21 12:02:00,,,\n"
    )
    series = parse_aggregate_csv(text, UTC, now=LATER)
    assert values(series) == {"1": [], "2": [200, 201], "3": [301]}
    assert series.skipped_rows == 0


@pytest.mark.parametrize("cell", ["nan", "NaN", "-nan", "inf", "-Infinity", "1e999", "-1e400"])
def test_non_finite_numbers_give_no_point_and_keep_the_row(cell: str) -> None:
    text = f"Datetime,1,2\n2026/06/21 12:00:00,{cell},5\n"
    series = parse_aggregate_csv(text, UTC, now=LATER)
    assert values(series) == {"1": [], "2": [5]}
    assert series.skipped_rows == 0


def test_numbers() -> None:
    text = 'Datetime,1,2,3,4,5\n2026/06/21 12:00:00,-1.5,+2,.5,1e3,"7.25"\n'
    series = parse_aggregate_csv(text, UTC, now=LATER)
    assert values(series) == {"1": [-1.5], "2": [2], "3": [0.5], "4": [1000], "5": [7.25]}


@pytest.mark.parametrize(
    "row",
    [
        "2026/06/21 12:00:00,1",  # too few fields
        "2026/06/21 12:00:00,1,2,3",  # too many
        "2026/06/21 12:00:00,1,2,",  # a trailing comma the header does not have
        "2026/02/30 12:00:00,1,2",  # no such day
        "2026/06/21 24:00:00,1,2",
        "2026/06/21,1,2",  # no time
        "21.06.2026 12:00:00,1,2",
        "yesterday,1,2",
        ",1,2",
        "2026/06/21 12:00:00,abc,2",  # one bad number spoils the row
        "2026/06/21 12:00:00,1_000,2",  # float() takes it, no CSV writer makes it
        "2026/06/21 12:00:00,\u0661\u0662,2",  # non-ASCII digits
        "2026/06/21 12:00:00,0x10,2",
        "2026/06/21 12:00:00,1.2.3,2",
        "<html><body>Bad gateway</body></html>",
    ],
)
def test_garbage_rows_are_skipped_and_counted(row: str) -> None:
    text = f"Datetime,1,2\n2026/06/21 11:59:00,10,20\n{row}\n2026/06/21 12:01:00,11,21\n"
    series = parse_aggregate_csv(text, UTC, now=LATER)
    assert values(series) == {"1": [10, 11], "2": [20, 21]}
    assert series.skipped_rows == 1


def test_rows_before_the_first_header_are_skipped() -> None:
    text = "2026/06/21 11:59:00,10,20\nDatetime,1,2\n2026/06/21 12:00:00,11,21\n"
    series = parse_aggregate_csv(text, UTC, now=LATER)
    assert values(series) == {"1": [11], "2": [21]}
    assert series.skipped_rows == 1


def test_rows_out_of_order_are_sorted_and_a_repeat_wins() -> None:
    text = (
        "Datetime,1\n"
        "2026/06/21 12:02:00,3\n"
        "2026/06/21 12:00:00,1\n"
        "2026/06/21 12:01:00,2\n"
        "2026/06/21 12:00:00,9\n"
        "2026/06/21 12:01:00,\n"  # an empty repeat does not erase the earlier value
    )
    series = parse_aggregate_csv(text, UTC, now=LATER)
    assert [(stamp.minute, value) for stamp, value in series.columns["1"]] == [
        (0, 9.0),
        (1, 2.0),
        (2, 3.0),
    ]


def test_line_endings_bom_and_quotes() -> None:
    text = '\ufeff"Datetime","1","2"\r\n2026/06/21 12:00:00,"1",2\r2026/06/21 12:01:00,3,4\r\n'
    series = parse_aggregate_csv(text, UTC, now=LATER)
    assert values(series) == {"1": [1, 3], "2": [2, 4]}
    assert series.skipped_rows == 0


# ---- not CSV at all -------------------------------------------------------------------------


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n",
        "<html><body>Login</body></html>",
        '{"name":"Bad Request","message":"Range too large","code":0,"status":400}',
        "2026/06/21 12:00:00,1,2\n",  # rows without any header line
        "Datetime\x00,1\n2026/06/21 12:00:00,1\n",  # binary
    ],
)
def test_text_without_header_is_malformed(parser: Parser, text: str) -> None:
    with pytest.raises(MalformedResponseError, match=r"data/(aggregate|combined)"):
        parser(text, UTC, now=LATER)


@pytest.mark.parametrize("parser", PARSERS)
def test_bytes_are_not_text(parser: Parser) -> None:
    with pytest.raises(MalformedResponseError, match="not text"):
        parser(b"Datetime,1\n", UTC, now=LATER)


def test_long_garbage_is_shortened_in_the_message() -> None:
    with pytest.raises(MalformedResponseError) as err:
        parse_aggregate_csv("<html>" + "x" * 5000, UTC, now=LATER)
    assert len(str(err.value)) < 250


# ---- property: arbitrary text ---------------------------------------------------------------

ZONES: list[tzinfo] = [
    UTC,
    BERLIN,
    ZoneInfo("Pacific/Kiritimati"),  # +14
    ZoneInfo("Australia/Lord_Howe"),  # half-hour DST
    timezone(timedelta(hours=-12)),
]
HEADER_CELLS = ["Datetime", "DATETIME", "DATE TIME", '"Datetime"', "\ufeffDatetime"]
COLUMN_CELLS = ["1", "2", "3", " 1", "", "A1_Pin"]
DATE_CELLS = [
    "2014/09/23 00:06:23",
    "2016/08/16 08:00:00.000",
    "2026/10/25 02:30:00",
    "2014/02/30 00:00:00",
    "0001/01/01 00:00:00",
    "9999/12/31 23:59:59.999999",
    "",
]
CELLS = ["1", "2", "", " ", "23", "-1.5e3", "nan", "inf", "1e999", "abc", '"3"', "\r"]


@st.composite
def csv_like_text(draw: st.DrawFn) -> str:
    """Mostly CSV-shaped lines: headers, rows of about the header's width, and noise."""
    width = draw(st.integers(0, 3))
    lines = [] if draw(st.booleans()) else ["noise"]
    for index in range(draw(st.integers(1, 12))):
        kind = "header" if index == 0 else draw(st.sampled_from(["header", "row", "row", "noise"]))
        if kind == "header":
            width = draw(st.integers(0, 3))
            first = st.sampled_from(HEADER_CELLS)
            rest = st.lists(st.sampled_from(COLUMN_CELLS), min_size=width, max_size=width)
        elif kind == "row":
            size = width + draw(st.sampled_from([0, 0, 0, 1, -1]))
            first = st.sampled_from(DATE_CELLS)
            rest = st.lists(st.sampled_from(CELLS), min_size=max(size, 0), max_size=max(size, 0))
        else:
            first = st.text(max_size=6)
            rest = st.lists(st.sampled_from(CELLS) | st.text(max_size=3), max_size=3)
        lines.append(",".join([draw(first), *draw(rest)]))
    return "\n".join(lines)


instants = st.just(LATER) | st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(max_size=200) | csv_like_text(),
    tz=st.sampled_from(ZONES),
    now=instants,
    combined=st.booleans(),
)
def test_arbitrary_text_parses_or_is_malformed(
    text: str, tz: tzinfo, now: datetime, combined: bool
) -> None:
    parser = parse_combined_csv if combined else parse_aggregate_csv
    try:
        series = parser(text, tz, now=now)
    except MalformedResponseError:
        return
    assert 0 <= series.skipped_rows <= text.count("\n") + text.count("\r") + 1
    for pts in series.columns.values():
        stamps = [stamp.astimezone(UTC) for stamp, _ in pts]  # UTC: fold-aware order
        assert stamps == sorted(set(stamps))
        for stamp, value in pts:
            assert stamp.tzinfo is tz
            assert stamp <= now
            assert isinstance(value, float)
            assert math.isfinite(value)


# ---- property: ground truth -----------------------------------------------------------------

GARBAGE_DATES = ["2014/13/45 00:00:00", "yesterday", "", "2014/09/23", "23.09.2014 00:06:23"]
GARBAGE_NUMBERS = ["abc", "1_0", "--1", "0x1f", "1.2.3", "\u0661"]
HEADER_SPELLINGS = ["Datetime", "DATETIME", "DATE TIME", "Date Time"]
# Minute rows around both Berlin DST changes of 2026 and an ordinary noon.
BASES = [datetime(2026, 3, 29, 1, 50), datetime(2026, 10, 25, 1, 50), datetime(2026, 6, 21, 12)]


@dataclass
class Case:
    """A generated file and what the parser must make of it."""

    text: str
    tz: tzinfo
    now: datetime
    combined: bool
    expected: dict[str, dict[datetime, float]]
    skipped: int
    owner: dict[float, str]  # every value written, with the column it was written for


class FileBuilder:
    """Writes a CSV file line by line while keeping the truth the parser must find in it."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.tz = draw(st.sampled_from([UTC, BERLIN, LOS_ANGELES]))
        if draw(st.booleans()):
            ids = draw(st.lists(st.integers(1, 99_999), min_size=1, max_size=6, unique=True))
            self.names = [str(object_id) for object_id in ids]
        else:
            labels = draw(
                st.lists(st.sampled_from("ABCDEFGH"), min_size=1, max_size=6, unique=True)
            )
            param = draw(st.sampled_from(["Pin", "Vin", "Iin", "RSSI"]))
            self.names = [
                f"04C05B800ACE.panels.{label}{n}_{param}" for n, label in enumerate(labels)
            ]
        base = draw(st.sampled_from(BASES))
        step = timedelta(minutes=draw(st.sampled_from([1, 15, 60])))
        self.times = [base + step * k for k in range(draw(st.integers(1, 8)))]
        self.now = self.local(draw(st.sampled_from(self.times))).astimezone(UTC)
        self.lines: list[str] = []
        self.expected: dict[str, dict[datetime, float]] = {}
        self.owner: dict[float, str] = {}
        self.skipped = 0
        self.section: list[str] | None = None
        self.latest: datetime | None = None  # the section's latest wall time (the DST rule)
        self.ignored: set[str] = set()  # names of the section that say nothing (empty, repeated)
        self.serial = 0

    def local(self, moment: datetime, *, fold: int = 0) -> datetime:
        return datetime.combine(moment.date(), moment.time(), tzinfo=self.tz).replace(fold=fold)

    def stamp_text(self, moment: datetime) -> str:
        fraction = self.draw(st.sampled_from(["", ".000"]))  # aggregate or combined style
        return moment.strftime("%Y/%m/%d %H:%M:%S") + fraction

    def write(self, first: str, cells: list[str]) -> None:
        self.lines.append(self.draw(st.sampled_from([",", ", "])).join([first, *cells]))

    def header(self, section: list[str] | None = None) -> None:
        if section is None:
            size = self.draw(st.integers(1, len(self.names)))
            section = self.draw(st.permutations(self.names))[:size]
            if self.draw(st.integers(0, 4)) == 0:  # a name twice, or none (a trailing comma)
                extra = self.draw(st.sampled_from([*section, ""]))
                section.insert(self.draw(st.integers(0, len(section))), extra)
        self.section = section
        self.latest = None
        self.ignored = {name for name in section if not name or section.count(name) > 1}
        for name in set(section) - self.ignored:
            self.expected.setdefault(name, {})
        self.write(self.draw(st.sampled_from(HEADER_SPELLINGS)), section)

    def value(self, index: int, stamp: datetime) -> str:
        kind = self.draw(st.integers(0, 3))  # 0: empty, 1: not finite, else a value
        if kind == 0:
            return self.draw(st.sampled_from(["", " "]))
        if kind == 1:
            return self.draw(st.sampled_from(["nan", "inf", "-inf"]))
        self.serial += 1  # every value written is unique, so its column can be traced
        value = self.serial + self.draw(st.sampled_from([0.0, 0.125, -0.25]))
        value = -value if self.draw(st.booleans()) else value
        if self.section is not None:
            self.owner[value] = self.section[index]
            if stamp <= self.now and self.section[index] not in self.ignored:
                # Keyed in UTC: the two occurrences of a repeated wall time are different keys.
                self.expected[self.section[index]][stamp.astimezone(UTC)] = value  # later wins
        return repr(value)

    def row(self) -> None:
        moment = self.draw(st.sampled_from(self.times))
        # Rows run forward in time: a wall time at or before the section's latest one is the
        # second occurrence (it only matters in the hour repeated when DST ends).
        repeated = self.section is not None and self.latest is not None and moment <= self.latest
        if self.section is not None:
            self.latest = moment if self.latest is None else max(self.latest, moment)
        stamp = self.local(moment, fold=int(repeated))
        width = len(self.section) if self.section is not None else self.draw(st.integers(0, 3))
        self.write(self.stamp_text(moment), [self.value(i, stamp) for i in range(width)])
        if self.section is None or stamp > self.now:
            self.skipped += 1

    def garbage(self) -> None:
        """A row that must not be read: wrong field count, bad date, or a cell not a number."""
        self.skipped += 1
        first = self.stamp_text(self.draw(st.sampled_from(self.times)))
        width = len(self.section) if self.section is not None else 2
        cells = [str(self.draw(st.integers(1, 9))) for _ in range(width)]
        match self.draw(st.sampled_from(["count", "date", "number"])):
            case "count":
                cells = cells[:-1] if self.draw(st.booleans()) else [*cells, "1"]
            case "date":
                first = self.draw(st.sampled_from(GARBAGE_DATES))
            case _:
                spot = self.draw(st.integers(0, width - 1))
                cells[spot] = self.draw(st.sampled_from(GARBAGE_NUMBERS))
        self.write(first, cells)

    def case(self) -> Case:
        if self.section is None:  # the file needs one header line somewhere
            self.header(list(self.names))
        ending = self.draw(st.sampled_from(["\n", "\r\n"]))
        return Case(
            text=ending.join(self.lines) + ending,
            tz=self.tz,
            now=self.now,
            combined=self.draw(st.booleans()),
            expected=self.expected,
            skipped=self.skipped,
            owner=self.owner,
        )


@st.composite
def ground_truth_files(draw: st.DrawFn) -> Case:
    builder = FileBuilder(draw)
    for _ in range(draw(st.integers(1, 25))):
        kinds = ["header", "row", "row", "row", "row", "garbage", "blank"]
        if builder.section is None:
            kinds = ["header", "header", "garbage", "row", "blank"]
        match draw(st.sampled_from(kinds)):
            case "header":
                builder.header()
            case "row":
                builder.row()
            case "garbage":
                builder.garbage()
            case _:
                builder.lines.append(draw(st.sampled_from(["", " ", "\t"])))
    return builder.case()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=ground_truth_files())
def test_generated_files_parse_back_to_the_ground_truth(case: Case) -> None:
    parser = parse_combined_csv if case.combined else parse_aggregate_csv
    series = parser(case.text, case.tz, now=case.now)
    # (b) no value is ever filed under another column than the one it was written for ...
    for column, pts in series.columns.items():
        for _, value in pts:
            assert case.owner[value] == column
    # ... and the whole answer is exactly the truth: later rows win, oldest first, all counted.
    assert series.columns == {
        column: tuple((stamp.astimezone(case.tz), value) for stamp, value in sorted(truth.items()))
        for column, truth in case.expected.items()
    }
    assert series.skipped_rows == case.skipped
