"""The ledger of requests made with one API key: this minute, this month, and any throttle.

Every request of a key (every config entry and system that uses it, token refreshes included)
is written here *before* it is sent, so the planner never lets a second entry push the key over
a limit. The ledger is a plain JSON dict (``to_dict`` / ``from_dict``) for a Home Assistant
``Store``; loading tolerates a corrupt, foreign or old dict by keeping what is valid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final

from .plans import Plan

LEDGER_VERSION: Final = 1
MINUTE: Final = timedelta(seconds=60)
SERVER_MONTH_SLACK: Final = timedelta(hours=14)
"""How long after a UTC month begins Enphase's month may still be the old one (UTC-12 … +14)."""


class Period(StrEnum):
    """Which limit stopped a key."""

    MINUTE = "minute"
    MONTH = "month"


def month_start(now: datetime) -> datetime:
    """The start of the UTC calendar month holding ``now``."""
    utc = now.astimezone(UTC)
    return utc.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def add_month(moment: datetime) -> datetime:
    """The same day and time one calendar month later (the day clamped to the month's length)."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month)


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def _moment(value: object) -> datetime | None:
    """An epoch from a stored dict, or None when it is not a finite plausible number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not 0 < value < 32_503_680_000:  # before year 3000
        return None
    return datetime.fromtimestamp(value, UTC)


@dataclass(slots=True)
class Ledger:
    """Requests made with one API key; every time is an aware datetime, kept in UTC."""

    month_begins: datetime
    month_ends: datetime
    month_count: int = 0
    recent: list[datetime] = field(default_factory=list)
    blocked_until: datetime | None = None
    blocked_period: Period | None = None
    by_kind: dict[str, int] = field(default_factory=dict)

    @classmethod
    def new(cls, now: datetime) -> Ledger:
        """An empty ledger for the UTC month holding ``now``."""
        begins = month_start(now)
        return cls(month_begins=begins, month_ends=add_month(begins))

    # -- what the coordinator reports ----------------------------------------------------------

    def record(self, now: datetime, kind: str) -> None:
        """One request sent (or about to be sent) at ``now``; ``kind`` is only for diagnostics."""
        self.roll(now)
        self.recent.append(now.astimezone(UTC))
        self.month_count += 1
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1

    def record_conflict(
        self,
        now: datetime,
        plan: Plan,
        *,
        period: Period | None,
        period_start: datetime | None = None,
        period_end: datetime | None = None,
        limit: int | None = None,
    ) -> datetime:
        """Enphase refused a request (v2 409, v4 429); returns when the key may ask again.

        With a ``period_end`` (v2 409) the key waits until exactly then, and a month period's
        bounds become the ledger's month. Without a period (v4 429) it is inferred: the minute if
        this ledger's last 60 s already hold the planner's own minute cap, else the month, until
        the end of the ledger's month (the next UTC month unless a 409 said otherwise) -- except
        in the first 14 hours of the month, when it is the old month in Enphase's time zone:
        then until those 14 hours have passed.
        """
        self.roll(now)
        if period is None:
            period = Period.MINUTE if self.minute_count(now) >= plan.minute_cap else Period.MONTH
        if period is Period.MONTH:
            if period_start is not None and period_end is not None and period_end > period_start:
                self.month_begins = period_start.astimezone(UTC)
                self.month_ends = period_end.astimezone(UTC)
            if period_end is not None:
                until = period_end.astimezone(UTC)
            elif now - self.month_begins < SERVER_MONTH_SLACK:
                # Just after our month began: Enphase's month (in its own time zone) has not.
                until = self.month_begins + SERVER_MONTH_SLACK
            else:
                until = self.month_ends
            if until >= self.month_ends:
                self.month_count = max(self.month_count, limit or plan.per_month)
        elif period_end is not None:
            until = period_end.astimezone(UTC)
        else:
            oldest = self.recent[0] + MINUTE if self.recent else now + MINUTE
            calendar = now.astimezone(UTC).replace(second=0, microsecond=0) + MINUTE
            until = max(oldest, calendar)
        if self.blocked_until is None or until > self.blocked_until:
            self.blocked_until, self.blocked_period = until, period
        return self.blocked_until

    # -- what the planner asks ------------------------------------------------------------------

    def roll(self, now: datetime) -> None:
        """Drop entries older than a minute, start a new month when it is due, lift an old block."""
        while now >= self.month_ends:
            self.month_begins, self.month_ends = self.month_ends, add_month(self.month_ends)
            self.month_count = 0
            self.by_kind = {}
        horizon = now - MINUTE
        self.recent = [moment for moment in self.recent if moment > horizon]
        if self.blocked_until is not None and now >= self.blocked_until:
            self.blocked_until = self.blocked_period = None

    def minute_count(self, now: datetime) -> int:
        """Requests in the 60 s before ``now`` (stricter than any calendar minute)."""
        horizon = now - MINUTE
        return sum(1 for moment in self.recent if moment > horizon)

    def month_remaining(self, plan: Plan) -> int:
        """Requests left in the ledger's month."""
        return max(0, plan.per_month - self.month_count)

    def earliest(self, now: datetime, plan: Plan, not_before: datetime | None = None) -> datetime:
        """The first moment from ``now`` (or ``not_before``) a request may go within every limit."""
        self.roll(now)
        moment = now if not_before is None else max(now, not_before)
        if self.blocked_until is not None:
            moment = max(moment, self.blocked_until)
        if self.month_remaining(plan) == 0:
            moment = max(moment, self.month_ends)
        window = [m for m in self.recent if m > moment - MINUTE]
        if len(window) >= plan.minute_cap:
            moment = max(moment, window[len(window) - plan.minute_cap] + MINUTE)
        return moment

    def exhausted_until(self, now: datetime, plan: Plan) -> datetime | None:
        """When a refused or spent month lets the key ask again; None while the month has budget."""
        self.roll(now)
        if self.blocked_period is Period.MONTH and self.blocked_until is not None:
            return self.blocked_until
        if self.month_remaining(plan) == 0:
            return self.month_ends
        return None

    # -- persistence ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, object]:
        """A JSON-safe dict of the ledger."""
        return {
            "version": LEDGER_VERSION,
            "month_begins": _epoch(self.month_begins),
            "month_ends": _epoch(self.month_ends),
            "month_count": self.month_count,
            "recent": [_epoch(moment) for moment in self.recent],
            "blocked_until": None if self.blocked_until is None else _epoch(self.blocked_until),
            "blocked_period": None if self.blocked_period is None else str(self.blocked_period),
            "by_kind": dict(self.by_kind),
        }

    @classmethod
    def from_dict(cls, data: object, now: datetime) -> Ledger:
        """The ledger stored in ``data``, keeping each valid field; a fresh one when unusable."""
        ledger = cls.new(now)
        if not isinstance(data, Mapping) or data.get("version") != LEDGER_VERSION:
            return ledger
        begins, ends = _moment(data.get("month_begins")), _moment(data.get("month_ends"))
        count = data.get("month_count")
        if (
            begins is not None
            and ends is not None
            and timedelta(days=27) <= ends - begins <= timedelta(days=32)
            and isinstance(count, int)
            and not isinstance(count, bool)
            and count >= 0
        ):
            ledger.month_begins, ledger.month_ends, ledger.month_count = begins, ends, count
            kinds = data.get("by_kind")
            if isinstance(kinds, Mapping):
                ledger.by_kind = {
                    str(k): v for k, v in kinds.items() if isinstance(v, int) and v >= 0
                }
        recent = data.get("recent")
        if isinstance(recent, list):
            moments = (_moment(value) for value in recent)
            ledger.recent = sorted(m for m in moments if m is not None and m <= now + MINUTE)
        until = _moment(data.get("blocked_until"))
        try:
            period = Period(str(data.get("blocked_period")))
        except ValueError:
            period = None
        if until is not None and period is not None and until - now <= timedelta(days=32):
            ledger.blocked_until, ledger.blocked_period = until, period
        ledger.roll(now)
        return ledger
