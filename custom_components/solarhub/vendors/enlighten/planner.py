"""The Enlighten request-budget planner: which request to send next, and when (pure).

One ``Planner`` per API key, shared by every config entry and system that uses the key; no
Home Assistant, no I/O and no clock of its own (``now`` is always an argument, an aware
datetime). The coordinator drives it like this::

    planner = Planner.from_dict(stored_or_None, plan, now)   # one Store per API key
    planner.add_system(system_id, statistics=("stats",), inventory=("inventory", "envoys"),
                       statistics_from=last_stored_statistic_end)
    planner.set_sun(system_id, sunrise, sunset)              # from HA's sun, any day
    loop:
        action = planner.next_action(now)                    # Action(kind, at, system_id, ...)
        sleep until action.at, then ask again (an answer may have changed the plan)
        planner.record_request(now, action.kind, ...)        # BEFORE sending; token refreshes too
        send; then on the answer:
          summary     -> planner.record_summary(id, now, last_report_at=...,
                                                last_interval_end_at=...)
          statistics  -> planner.record_intervals(id, [(end_at, wh), ...]) and
                         planner.record_statistics(id, endpoint, requested_end=action.end,
                                                   fetched_until=last end_at or None)
          409 / 429   -> planner.record_rate_limited(now, period=..., period_end=..., limit=...)
        store planner.to_dict() (debounced)
    planner.status(now)  -> requests this month, monthly limit, next poll, budget exhausted until

How the month is spent: a reserve (``Plan.reserve``) is kept for setup, catch-up and inventory;
the rest is spread evenly over the days left in the month. From each day's share come token
refreshes (v4), inventory (daily, weekly on small plans), statistics (hourly where the budget
allows, else once per series per day after dusk) and then summaries: one just after every
expected upload (``last_report_at + cadence + margin``) through the learned daylight window and
the upload that follows it, or every k-th upload when the share is too small; at night at most
one summary (the Envoy may still report: the user learns it is alive), none on tight plans.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import IntEnum, StrEnum
import math
from typing import Final

from .learning import DEFAULT_CADENCE, CadenceLearner, DaylightLearner, Window
from .ledger import Ledger, Period
from .plans import Plan

PLANNER_VERSION: Final = 1
MARGIN: Final = timedelta(seconds=90)
"""Wait this long after an expected upload before polling (processing delay, clock skew)."""
WIDE_MARGIN: Final = timedelta(seconds=150)
"""The margin where polls are scarce (every k-th upload): a late upload costs a second poll."""
_DAY: Final = timedelta(days=1)


class RequestKind(StrEnum):
    """What a request is for (``endpoint`` names the exact call where a kind has several)."""

    SYSTEMS = "systems"
    INVENTORY = "inventory"  # endpoint: inventory | envoys (v2) | devices (v4)
    HISTORY = "history"  # endpoint: energy_lifetime, consumption_lifetime, ... (one-shot)
    SUMMARY = "summary"
    STATISTICS = "statistics"  # endpoint: stats | rgm_stats | production_micro | ...
    TOKEN = "token"  # noqa: S105  (v4 OAuth2 refresh; never planned, only recorded)
    OTHER = "other"  # anything else (a config flow probe)


class _Priority(IntEnum):
    SYSTEMS = 0
    INVENTORY = 1
    HISTORY = 2
    SUMMARY = 3
    STATISTICS = 4


@dataclass(frozen=True, kw_only=True, slots=True)
class Action:
    """The next request: send it at ``at`` (never earlier), then record it."""

    kind: RequestKind
    at: datetime
    system_id: int | None = None
    endpoint: str | None = None
    start: datetime | None = None  # statistics: the range to ask for
    end: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class BudgetStatus:
    """What the budget sensors show."""

    requests_this_month: int
    monthly_limit: int
    requests_last_minute: int
    minute_limit: int
    month_ends: datetime
    next_poll: datetime | None
    exhausted_until: datetime | None  # a spent or refused month: polling resumes then
    blocked_until: datetime | None  # any refusal (minute or month)
    blocked_period: Period | None


@dataclass(frozen=True, slots=True)
class Allocation:
    """One day's share of the budget for each system (requests per day)."""

    daily: float
    statistics_per_series: int
    summaries: float


@dataclass(frozen=True, slots=True)
class Rhythm:
    """How one system's summaries are spaced."""

    spacing: timedelta
    night: bool
    probe: bool


@dataclass(slots=True)
class SystemState:
    """What the planner knows about one system; persisted with the ledger."""

    statistics: dict[str, datetime | None] = field(default_factory=dict)
    inventory: dict[str, datetime | None] = field(default_factory=dict)
    history: set[str] = field(default_factory=set)
    cadence: CadenceLearner = field(default_factory=CadenceLearner)
    daylight: DaylightLearner = field(default_factory=DaylightLearner)
    last_poll: datetime | None = None
    last_interval_end: datetime | None = None
    stale_polls: int = 0

    def to_dict(self) -> dict[str, object]:
        """JSON-safe state."""
        return {
            "statistics": {k: _epoch(v) for k, v in self.statistics.items()},
            "inventory": {k: _epoch(v) for k, v in self.inventory.items()},
            "history": sorted(self.history),
            "cadence": self.cadence.to_dict(),
            "daylight": self.daylight.to_dict(),
            "last_poll": _epoch(self.last_poll),
            "last_interval_end": _epoch(self.last_interval_end),
            "stale_polls": self.stale_polls,
        }

    @classmethod
    def from_dict(cls, data: object, now: datetime) -> SystemState:
        """State from ``to_dict``, keeping what is valid (future times are dropped)."""
        state = cls()
        if not isinstance(data, Mapping):
            return state
        for name in ("statistics", "inventory"):
            stored = data.get(name)
            if isinstance(stored, Mapping):
                target: dict[str, datetime | None] = getattr(state, name)
                for key, value in stored.items():
                    target[str(key)] = _past(value, now)
        history = data.get("history")
        if isinstance(history, list):
            state.history = {str(item) for item in history if isinstance(item, str)}
        state.cadence = CadenceLearner.from_dict(data.get("cadence"))
        state.daylight = DaylightLearner.from_dict(data.get("daylight"))
        state.last_poll = _past(data.get("last_poll"), now)
        state.last_interval_end = _past(data.get("last_interval_end"), now)
        stale = data.get("stale_polls")
        state.stale_polls = stale if isinstance(stale, int) and 0 <= stale < 100 else 0
        return state


def _epoch(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _past(value: object, now: datetime) -> datetime | None:
    """A stored epoch as a datetime, or None when invalid or later than ``now``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    try:
        moment = datetime.fromtimestamp(value, UTC)
    except OverflowError, OSError, ValueError:
        return None
    return moment if moment <= now else None


class Planner:
    """Plans every request of one API key; see the module docstring for the protocol."""

    def __init__(self, plan: Plan, ledger: Ledger) -> None:
        """A planner on ``plan`` spending from ``ledger``."""
        self.plan = plan
        self.ledger = ledger
        self.systems: dict[int, SystemState] = {}
        self.systems_listed_at: datetime | None = None
        self._stored: dict[int, SystemState] = {}

    # -- setup and persistence --------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: object, plan: Plan, now: datetime) -> Planner:
        """The planner stored in ``data`` (``None`` or anything unusable: a fresh one)."""
        stored = data if isinstance(data, Mapping) else {}
        valid = stored.get("version") == PLANNER_VERSION
        planner = cls(plan, Ledger.from_dict(stored.get("ledger") if valid else None, now))
        if not valid:
            return planner
        planner.systems_listed_at = _past(stored.get("systems_listed_at"), now)
        systems = stored.get("systems")
        if isinstance(systems, Mapping):
            for key, value in systems.items():
                try:
                    system_id = int(key)
                except TypeError, ValueError:
                    continue
                planner._stored[system_id] = SystemState.from_dict(value, now)
        return planner

    def to_dict(self) -> dict[str, object]:
        """A JSON-safe dict of the ledger and everything learned (systems not added kept too)."""
        systems = {**self._stored, **self.systems}
        return {
            "version": PLANNER_VERSION,
            "ledger": self.ledger.to_dict(),
            "systems_listed_at": _epoch(self.systems_listed_at),
            "systems": {str(key): state.to_dict() for key, state in sorted(systems.items())},
        }

    def add_system(
        self,
        system_id: int,
        *,
        statistics: Sequence[str] = (),
        inventory: Sequence[str] = (),
        statistics_from: datetime | None = None,
    ) -> None:
        """Plan for a system: its statistics series and inventory endpoints.

        ``statistics_from`` is where the stored statistics end (the first statistics request
        starts there); a cursor learned before (stored) wins when it is later. Without either,
        that series is not fetched until ``record_statistics`` or a later ``add_system`` sets it.
        """
        state = self.systems.get(system_id) or self._stored.pop(system_id, None) or SystemState()
        state.statistics = {
            name: max(
                (m for m in (state.statistics.get(name), statistics_from) if m is not None),
                default=None,
            )
            for name in statistics
        }
        state.inventory = {name: state.inventory.get(name) for name in inventory}
        self.systems[system_id] = state

    def remove_system(self, system_id: int) -> None:
        """Stop planning for a system (its learned state is kept for a later ``add_system``)."""
        if (state := self.systems.pop(system_id, None)) is not None:
            self._stored[system_id] = state

    def set_sun(self, system_id: int, sunrise: datetime, sunset: datetime) -> None:
        """Home Assistant's sunrise and sunset at the system: the first guess of its daylight."""
        self.systems[system_id].daylight.guess(sunrise, sunset)

    def refresh_systems_list(self) -> None:
        """Ask for the systems list again (reconfigure, an unknown system)."""
        self.systems_listed_at = None

    def request_history(self, system_id: int, endpoint: str) -> None:
        """Plan a one-shot history request (e.g. ``energy_lifetime`` at first setup)."""
        self.systems[system_id].history.add(endpoint)

    # -- what the coordinator reports ------------------------------------------------------------

    def record_request(
        self,
        now: datetime,
        kind: RequestKind,
        *,
        system_id: int | None = None,
        endpoint: str | None = None,
    ) -> None:
        """A request of this key is being sent (call it before sending, failures included)."""
        self.ledger.record(now, str(kind) if endpoint is None else f"{kind}:{endpoint}")
        state = self.systems.get(system_id) if system_id is not None else None
        if kind is RequestKind.SYSTEMS:
            self.systems_listed_at = now
        elif state is None:
            return
        elif kind is RequestKind.SUMMARY:
            state.last_poll = now
        elif kind is RequestKind.INVENTORY and endpoint in state.inventory:
            state.inventory[endpoint] = now
        elif kind is RequestKind.HISTORY and endpoint is not None:
            state.history.discard(endpoint)

    def record_rate_limited(
        self,
        now: datetime,
        *,
        period: Period | None = None,
        period_start: datetime | None = None,
        period_end: datetime | None = None,
        limit: int | None = None,
    ) -> datetime:
        """A 409 (with its period fields) or a v4 429 (without); returns when polling resumes."""
        return self.ledger.record_conflict(
            now,
            self.plan,
            period=period,
            period_start=period_start,
            period_end=period_end,
            limit=limit,
        )

    def record_summary(
        self,
        system_id: int,
        now: datetime,
        *,
        last_report_at: datetime | None,
        last_interval_end_at: datetime | None,
    ) -> None:
        """A summary's ``last_report_at`` and ``last_interval_end_at`` (either may be absent)."""
        state = self.systems[system_id]
        previous, cadence = state.cadence.last_report, state.cadence.cadence
        new = last_report_at is not None and state.cadence.observe(last_report_at)
        if new:
            state.stale_polls = 0
        elif previous is None or now >= previous + cadence:  # an expected upload is missing
            state.stale_polls += 1
        if last_interval_end_at is not None and (
            state.last_interval_end is None or last_interval_end_at > state.last_interval_end
        ):
            state.last_interval_end = min(last_interval_end_at, now)

    def record_intervals(self, system_id: int, intervals: Iterable[tuple[datetime, float]]) -> None:
        """5-minute (or 15-minute) intervals as (end_at, Wh): they teach the daylight window."""
        state = self.systems[system_id]
        intervals = list(intervals)
        state.daylight.observe(intervals)
        if intervals:
            latest = max(end for end, _ in intervals)
            if state.last_interval_end is None or latest > state.last_interval_end:
                state.last_interval_end = latest

    def record_statistics(
        self,
        system_id: int,
        endpoint: str,
        *,
        requested_end: datetime,
        fetched_until: datetime | None,
    ) -> None:
        """A statistics answer: ``fetched_until`` is its last interval's end (None: empty, 422).

        The series continues from there; when the whole requested range lies before the
        newest interval the summary announced, an empty range is done too (dark hours, gaps).
        """
        state = self.systems[system_id]
        cursor = state.statistics.get(endpoint)
        candidates = [m for m in (cursor, fetched_until) if m is not None]
        if state.last_interval_end is not None and requested_end <= state.last_interval_end:
            candidates.append(requested_end)
        if candidates:
            state.statistics[endpoint] = max(candidates)

    # -- what the coordinator asks ---------------------------------------------------------------

    def allocation(self, now: datetime) -> dict[int, Allocation]:
        """Each system's share of one day, from what is left of the month after the reserve.

        Token refreshes and inventory come off the top; statistics get up to 15 % of a
        generous share (hourly at most), else one request per series per day; summaries share
        the rest, a system that needs fewer (a cellular Envoy uploading every few hours) leaving
        its surplus to the others.
        """
        plan, ledger = self.plan, self.ledger
        ledger.roll(now)
        if not self.systems:
            return {}
        spendable = max(0, ledger.month_remaining(plan) - plan.reserve)
        days_left = max(1.0, (ledger.month_ends - now) / _DAY)
        inventory_days = plan.inventory_every / _DAY
        fixed = plan.token_refreshes_per_day + sum(
            len(state.inventory) / inventory_days for state in self.systems.values()
        )
        daily = max(0.0, spendable / days_left - fixed)
        per_system = daily / len(self.systems)
        series = max(len(state.statistics) for state in self.systems.values())
        statistics = 1
        if per_system >= 60 and series:
            statistics = max(1, min(16, math.floor(per_system * 0.15 / series)))
        left = daily - statistics * sum(len(state.statistics) for state in self.systems.values())
        needs = {
            system_id: self._summary_need(state, now, generous=per_system >= 60)
            for system_id, state in self.systems.items()
        }
        shares: dict[int, Allocation] = {}
        for count, system_id in enumerate(sorted(needs, key=needs.__getitem__)):
            summaries = max(1.0, min(needs[system_id], left / (len(needs) - count)))
            left -= summaries
            shares[system_id] = Allocation(
                daily=per_system, statistics_per_series=statistics, summaries=summaries
            )
        return shares

    def _summary_need(self, state: SystemState, now: datetime, *, generous: bool) -> float:
        """Summaries a day that serve a system fully: every upload, a night poll (and probes)."""
        cadence = state.cadence.cadence
        window = self._poll_window(state, now)
        uploads = (window.end - window.start) / cadence + 1
        probes = uploads + 2 if generous and cadence > DEFAULT_CADENCE else 0.0
        return uploads + 3 + probes

    def _poll_window(self, state: SystemState, moment: datetime) -> Window:
        """The summary window holding or following ``moment``: daylight plus the upload after it."""
        tail = state.cadence.cadence + MARGIN
        daylight = state.daylight.window(moment - tail)
        return Window(daylight.start, daylight.end + tail)

    def summary_rhythm(
        self, system_id: int, now: datetime, share: Allocation | None = None
    ) -> Rhythm:
        """How a system's summaries are spaced today.

        After every upload while the day's share allows it, else on an even grid of the share
        through the window, each poll just after the first upload past its grid point; one
        night poll when the share covers every daylight upload with room to spare; a probe
        halfway between uploads when the share is twice what the uploads need and the cadence
        looks longer than usual (it may be a multiple of the real one).
        """
        state = self.systems[system_id]
        share = share or self.allocation(now)[system_id]
        cadence = state.cadence.cadence
        window = self._poll_window(state, now)
        uploads = (window.end - window.start) / cadence + 1
        night = share.summaries >= uploads + 3
        polls = max(1.0, share.summaries - night)
        spacing = max(cadence, (window.end - window.start) / polls)
        probe = share.summaries >= 2 * uploads + 2 and cadence > DEFAULT_CADENCE
        return Rhythm(spacing=spacing, night=night, probe=probe)

    def _summary_at(self, system_id: int, now: datetime, share: Allocation) -> datetime:
        """When this system's next summary is due."""
        state = self.systems[system_id]
        last_report, last_poll = state.cadence.last_report, state.last_poll
        if last_report is None or last_poll is None:
            return now
        cadence = state.cadence.cadence
        rhythm = self.summary_rhythm(system_id, now, share)
        window = self._poll_window(state, now)
        if state.stale_polls:  # the expected upload did not come: look again, backing off
            retry = max(cadence / 20, timedelta(minutes=3)) * (1 << min(state.stale_polls - 1, 10))
            target = last_poll + min(rhythm.spacing, retry)
        elif rhythm.spacing <= cadence:
            target = max(last_report + cadence + MARGIN, last_poll + cadence / 2)
            if rhythm.probe and last_poll < last_report + cadence / 2:
                target = last_report + cadence / 2 + MARGIN
        else:  # the first upload after the next point of an even grid through the window
            done = max(0.0, (last_poll - MARGIN - window.start) / rhythm.spacing)
            grid = window.start + rhythm.spacing * (math.floor(done) + 1 if done else 0)
            uploads = max(1, math.ceil((grid - last_report) / cadence))
            target = max(last_report + cadence * uploads + WIDE_MARGIN, last_poll + cadence / 2)
        target = max(target, now)
        if window.start <= target <= window.end:
            return target
        if target > window.end:
            if last_poll < window.end - cadence:  # the upload after the day's last interval
                return max(now, window.end)
            window = self._poll_window(state, window.end + timedelta(seconds=1))
        dark = _DAY - (window.end - window.start)
        middle = window.start - dark / 2
        if rhythm.night and last_poll < middle - dark / 4 and target < window.start - dark / 4:
            return max(target, middle)
        uploads = math.ceil(max(0.0, (window.start - last_report) / cadence))
        return max(target, last_report + cadence * uploads + MARGIN)

    def _statistics_at(
        self, system_id: int, name: str, now: datetime, share: Allocation
    ) -> datetime | None:
        """When a statistics series is due: it needs a newer interval than it has."""
        state = self.systems[system_id]
        cursor, newest = state.statistics.get(name), state.last_interval_end
        if cursor is None or newest is None or newest <= cursor:
            return None
        if newest - cursor >= self.plan.statistics_span:
            return now  # catching up after an outage
        per_day = share.statistics_per_series
        window = self._poll_window(state, newest)
        if per_day > 1 and newest - cursor >= (window.end - window.start) / per_day:
            return now
        return max(now, window.end)  # the day's data is in after its last upload

    def candidates(self, now: datetime) -> list[Action]:
        """Every planned request with its earliest time, ignoring the ledger's limits."""
        shares = self.allocation(now)
        actions: list[Action] = []
        if self.systems_listed_at is None:
            actions.append(Action(kind=RequestKind.SYSTEMS, at=now))
        for system_id, state in self.systems.items():
            for name, fetched in state.inventory.items():
                at = now if fetched is None else max(now, fetched + self.plan.inventory_every)
                actions.append(
                    Action(kind=RequestKind.INVENTORY, at=at, system_id=system_id, endpoint=name)
                )
            actions.extend(
                Action(kind=RequestKind.HISTORY, at=now, system_id=system_id, endpoint=name)
                for name in sorted(state.history)
            )
            actions.append(
                Action(
                    kind=RequestKind.SUMMARY,
                    at=self._summary_at(system_id, now, shares[system_id]),
                    system_id=system_id,
                )
            )
            for name, cursor in state.statistics.items():
                due = self._statistics_at(system_id, name, now, shares[system_id])
                if due is None or cursor is None:
                    continue
                actions.append(
                    Action(
                        kind=RequestKind.STATISTICS,
                        at=due,
                        system_id=system_id,
                        endpoint=name,
                        start=cursor,
                        end=min(cursor + self.plan.statistics_span, due),
                    )
                )
        return sorted(actions, key=lambda a: (a.at, _Priority[a.kind.name]))

    def next_action(self, now: datetime) -> Action | None:
        """The next request and the moment to send it within every limit (None: none planned).

        Of the requests due at ``now`` the most urgent kind wins (systems list, inventory,
        history, summary, statistics); the time is moved past any block, a spent month and the
        minute cap. Ask again after sleeping: what was recorded meanwhile may change the answer.
        """
        actions = self.candidates(now)
        if not actions:
            return None
        due = [a for a in actions if a.at <= now] or actions[:1]
        chosen = min(due, key=lambda a: (_Priority[a.kind.name], a.at))
        return replace(chosen, at=self.ledger.earliest(now, self.plan, chosen.at))

    def allowed_at(self, now: datetime) -> datetime:
        """The first moment an unplanned request (a token refresh) may be sent."""
        return self.ledger.earliest(now, self.plan)

    def status(self, now: datetime) -> BudgetStatus:
        """The figures for the budget sensors."""
        ledger, plan = self.ledger, self.plan
        ledger.roll(now)
        polls = [a.at for a in self.candidates(now) if a.kind is RequestKind.SUMMARY]
        next_poll = ledger.earliest(now, plan, min(polls)) if polls else None
        return BudgetStatus(
            requests_this_month=ledger.month_count,
            monthly_limit=plan.per_month,
            requests_last_minute=ledger.minute_count(now),
            minute_limit=plan.per_minute,
            month_ends=ledger.month_ends,
            next_poll=next_poll,
            exhausted_until=ledger.exhausted_until(now, plan),
            blocked_until=ledger.blocked_until,
            blocked_period=ledger.blocked_period,
        )
