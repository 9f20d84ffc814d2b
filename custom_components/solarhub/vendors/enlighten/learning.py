"""What the planner learns per system: the upload cadence and the daylight window.

Both are robust medians over recent observations, so a gap, a late upload or a cloudy morning
does not move them much. Times are UTC; the daylight window is kept as offsets from UTC
midnight, so daylight saving time does not disturb it and a window across UTC midnight (east
of about 100° E) still works.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import median
from typing import Final

DEFAULT_CADENCE: Final = timedelta(minutes=15)
MIN_CADENCE: Final = timedelta(minutes=5)
MAX_CADENCE: Final = timedelta(hours=12)
_STEPS_KEPT: Final = 15
_DAYS_KEPT: Final = 7
_DAY: Final = 86_400.0


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass(slots=True)
class CadenceLearner:
    """Learns how often the Envoy uploads from the steps of ``last_report_at``.

    A skipped poll (night, a tight budget) or a missed upload makes a step a whole multiple of
    the cadence, so the estimate is the approximate common divisor of the last 15 steps: the
    lower quartile, or the largest fraction of it (a half, a third, ...) that 80 % of the steps
    are multiples of. Until three steps are known it is at most 15 minutes. Polls at exactly
    every k-th upload see only k-fold steps; the planner probes halfway between uploads when
    the budget allows, which finds the shorter cadence again.
    """

    steps: list[float] = field(default_factory=list)
    last_report: datetime | None = None

    @property
    def cadence(self) -> timedelta:
        """The learned upload cadence (15 minutes until there is a step), 5 min ... 12 h."""
        if not self.steps:
            return DEFAULT_CADENCE
        estimate = timedelta(seconds=_common_step(self.steps))
        if len(self.steps) < 3:
            estimate = min(estimate, DEFAULT_CADENCE)
        return min(MAX_CADENCE, max(MIN_CADENCE, estimate))

    def observe(self, last_report_at: datetime) -> bool:
        """A summary's ``last_report_at``; True when it is a new upload."""
        report = last_report_at.astimezone(UTC)
        previous = self.last_report
        if previous is not None and report <= previous:
            return False  # the same upload (or a stale answer from a lagging replica)
        self.last_report = report
        if previous is None:
            return True
        step = (report - previous).total_seconds()
        if step >= 60:  # two uploads within a minute say nothing about the cadence
            self.steps = [*self.steps, step][-_STEPS_KEPT:]
        return True

    def to_dict(self) -> dict[str, object]:
        """JSON-safe state."""
        return {
            "steps": list(self.steps),
            "last_report": None if self.last_report is None else self.last_report.timestamp(),
        }

    @classmethod
    def from_dict(cls, data: object) -> CadenceLearner:
        """State from ``to_dict``, keeping what is valid."""
        learner = cls()
        if not isinstance(data, Mapping):
            return learner
        steps = data.get("steps")
        if isinstance(steps, list):
            values = (_number(step) for step in steps)
            learner.steps = [v for v in values if v is not None and 60 <= v <= 2 * _DAY][
                -_STEPS_KEPT:
            ]
        last = _number(data.get("last_report"))
        if last is not None and last > 0:
            learner.last_report = datetime.fromtimestamp(last, UTC)
        return learner


def _common_step(steps: list[float]) -> float:
    """The approximate common divisor of jittery steps (seconds), see ``CadenceLearner``."""
    quartile = sorted(steps)[len(steps) // 4]
    for parts in range(1, 7):
        candidate = quartile / parts
        if candidate < MIN_CADENCE.total_seconds():
            break
        tolerance = max(120.0, 0.15 * candidate)
        fits = sum(
            1
            for step in steps
            if abs(step - candidate * max(1, round(step / candidate))) <= tolerance
        )
        if fits >= 0.8 * len(steps):
            return candidate
    return quartile


@dataclass(frozen=True, slots=True)
class Window:
    """A daylight window: [start, end) in UTC."""

    start: datetime
    end: datetime

    def __contains__(self, moment: object) -> bool:
        """Whether ``moment`` falls in the window."""
        return isinstance(moment, datetime) and self.start <= moment < self.end


@dataclass(slots=True)
class DaylightLearner:
    """Learns each day's first and last producing 5-minute interval.

    Days are "solar days" centred on solar noon, so a window never splits at midnight. The first
    guess is Home Assistant's sunrise and sunset; once completed days are known, the medians of
    the last 7 days' first and last producing interval take over.
    """

    sunrise: float | None = None  # seconds after UTC midnight
    sunset: float | None = None
    days: dict[int, tuple[float, float]] = field(default_factory=dict)  # solar day → first, last

    def guess(self, sunrise: datetime, sunset: datetime) -> None:
        """Home Assistant's sun for the system's location (any day's rising and setting)."""
        rise = sunrise.astimezone(UTC)
        length = (sunset - sunrise).total_seconds() % _DAY
        self.sunrise = rise.hour * 3600 + rise.minute * 60 + rise.second
        self.sunset = self.sunrise + length

    def _noon(self) -> float:
        """Seconds after UTC midnight of solar noon (first learned, else guessed, else 12:00)."""
        if self.days:
            firsts, lasts = self._offsets()
            return (median(firsts) + median(lasts)) / 2
        if self.sunrise is not None and self.sunset is not None:
            return (self.sunrise + self.sunset) / 2
        return 12 * 3600.0

    def _solar_day(self, epoch: float) -> int:
        return int((epoch - self._noon() + _DAY / 2) // _DAY)

    def _offsets(self) -> tuple[list[float], list[float]]:
        firsts = [first - day * _DAY for day, (first, _) in self.days.items()]
        lasts = [last - day * _DAY for day, (_, last) in self.days.items()]
        return firsts, lasts

    def observe(self, intervals: Iterable[tuple[datetime, float]]) -> None:
        """5-minute intervals as (end, energy Wh); only producing ones (energy > 0) count."""
        for end, energy in intervals:
            if energy <= 0:
                continue
            epoch = end.timestamp()
            day = self._solar_day(epoch)
            first, last = self.days.get(day, (epoch, epoch))
            self.days[day] = (min(first, epoch), max(last, epoch))
        for day in sorted(self.days)[: -(_DAYS_KEPT + 1)]:
            del self.days[day]

    def window(self, now: datetime) -> Window:
        """Today's daylight window, or the next one when today's has ended (UTC)."""
        epoch = now.timestamp()
        today = self._solar_day(epoch)
        complete = {day: span for day, span in self.days.items() if day < today}
        if complete:
            firsts = [first - day * _DAY for day, (first, _) in complete.items()]
            lasts = [last - day * _DAY for day, (_, last) in complete.items()]
            start, end = median(firsts), median(lasts)
        elif self.sunrise is not None and self.sunset is not None:
            start, end = self.sunrise, self.sunset
        else:
            start, end = 6 * 3600.0, 18 * 3600.0
        day = next((d for d in (today - 1, today) if d * _DAY + end > epoch), today + 1)
        return Window(
            datetime.fromtimestamp(day * _DAY + start, UTC),
            datetime.fromtimestamp(day * _DAY + end, UTC),
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-safe state."""
        return {
            "sunrise": self.sunrise,
            "sunset": self.sunset,
            "days": [[day, first, last] for day, (first, last) in sorted(self.days.items())],
        }

    @classmethod
    def from_dict(cls, data: object) -> DaylightLearner:
        """State from ``to_dict``, keeping what is valid."""
        learner = cls()
        if not isinstance(data, Mapping):
            return learner
        rise, down = _number(data.get("sunrise")), _number(data.get("sunset"))
        if rise is not None and down is not None and 0 <= rise < _DAY and rise < down:
            learner.sunrise, learner.sunset = rise, down
        days = data.get("days")
        if isinstance(days, list):
            for row in days[-_DAYS_KEPT - 1 :]:
                if not isinstance(row, list) or len(row) != 3:
                    continue
                day, first, last = (_number(value) for value in row)
                if day is None or first is None or last is None or not first <= last:
                    continue
                if not 0 <= first - day * _DAY < 2 * _DAY or last - first > _DAY:
                    continue
                learner.days[int(day)] = (first, last)
        return learner
