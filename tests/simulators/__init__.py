"""Simulators of the vendors' APIs on loopback HTTP, for tests, the demo and ``scripts/simulate``.

Each vendor lives in its own module; what they share lives here (the controllable clock) and in
``server`` (the loopback server, its lifecycle and its fault switches).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["SimClock"]


def _as_utc(dt: datetime) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("SimClock needs an aware datetime")
    return dt.astimezone(UTC)


class SimClock:
    """The simulated time a simulator lives in.

    A *real* clock follows wall time (``speed`` times as fast, for demos) from wherever it was
    last set; a *fixed* clock stands still until it is advanced or set, which is what tests want.
    Wall time is read with ``datetime.now`` so that time-freezing fixtures apply to real clocks.
    """

    def __init__(self, start: datetime | None = None, *, speed: float = 1.0) -> None:
        """A fixed clock at ``start``, or (``start`` None) a real one at ``speed`` x wall time."""
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._follows_wall = start is None
        self._speed = speed
        self._wall_anchor = datetime.now(UTC)
        self._anchor = self._wall_anchor if start is None else _as_utc(start)

    @classmethod
    def real(cls, *, speed: float = 1.0) -> SimClock:
        """A clock that follows wall time, starting now (``speed`` > 1 runs it faster)."""
        return cls(None, speed=speed)

    @classmethod
    def fixed(cls, dt: datetime) -> SimClock:
        """A clock standing at ``dt`` that only moves when advanced or set."""
        return cls(dt)

    @property
    def follows_wall(self) -> bool:
        """Whether the clock moves by itself."""
        return self._follows_wall

    def now(self) -> datetime:
        """The current simulated time (aware, UTC)."""
        if not self._follows_wall:
            return self._anchor
        return self._anchor + (datetime.now(UTC) - self._wall_anchor) * self._speed

    def set(self, dt: datetime) -> None:
        """Jump to ``dt``; a real clock keeps running from there."""
        self._anchor = _as_utc(dt)
        self._wall_anchor = datetime.now(UTC)

    def advance(self, seconds: float | timedelta) -> None:
        """Move the clock by ``seconds`` (negative moves it back)."""
        delta = seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds)
        self.set(self.now() + delta)
