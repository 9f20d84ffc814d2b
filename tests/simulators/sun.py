"""One deterministic sun and sky for every simulator.

The Tigo, PLENTICORE and Enlighten simulators all make daylight with this one model: the sun's
elevation from the day of the year (declination and equation of time, good to a few minutes for
sunrise and sunset) and a clear-sky irradiance dimmed by clouds that change from day to day and
within the day, all pure functions of the epoch second and a seed. Nothing here keeps state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
import math
from typing import Final
import zlib

__all__ = ["Sky", "SunPosition", "seed_of", "sun_position", "unit"]

_MASK64: Final = (1 << 64) - 1
_GOLDEN: Final = 0x9E3779B97F4A7C15
_J2000: Final = 946_728_000  # 2000-01-01T12:00:00Z
_YEAR_DAYS: Final = 365.2422
_TILT: Final = math.radians(23.44)


def unit(*keys: int) -> float:
    """A reproducible pseudo-random number in [0, 1) from integers (splitmix64; no hash salt)."""
    x = _GOLDEN
    for key in keys:
        x = ((x ^ (key & _MASK64)) + _GOLDEN) & _MASK64
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
        x ^= x >> 31
    return (x >> 11) / float(1 << 53)


def seed_of(name: str) -> int:
    """The seed of a named installation (stable across runs: CRC-32, not ``hash``)."""
    return zlib.crc32(name.encode())


@dataclass(frozen=True, slots=True)
class SunPosition:
    """Where the sun stands: sine of its elevation and its hour angle (rad, 0 at solar noon)."""

    sin_elevation: float
    hour_angle: float

    @property
    def up(self) -> bool:
        return self.sin_elevation > 0


def sun_position(t: float, latitude: float, longitude: float) -> SunPosition:
    """The sun at epoch second ``t`` seen from ``latitude``/``longitude`` (degrees, east +)."""
    n = (t - _J2000) / 86400
    declination = _TILT * math.sin(2 * math.pi * (n - 79.6) / _YEAR_DAYS)
    b = 2 * math.pi * (n - 80.0) / _YEAR_DAYS
    eot_minutes = 9.87 * math.sin(2 * b) - 7.53 * math.cos(b) - 1.5 * math.sin(b)
    solar_hours = (t % 86400) / 3600 + longitude / 15 + eot_minutes / 60
    hour_angle = (math.radians(15 * (solar_hours - 12)) + math.pi) % (2 * math.pi) - math.pi
    lat = math.radians(latitude)
    sin_el = math.sin(lat) * math.sin(declination) + math.cos(lat) * math.cos(
        declination
    ) * math.cos(hour_angle)
    return SunPosition(sin_el, hour_angle)


@dataclass(frozen=True, slots=True)
class Sky:
    """The light at one place: irradiance on the panels as a share of STC (0 .. ~0.92).

    ``cloudiness`` of a solar day is ``cloud_cover * unit(seed, day, 11) ** 2``; within the day two
    slow sines move the clouds. ``seed`` makes neighbouring installations see different weather;
    ``cloud_cover`` 0 makes every day clear (a simulator whose tests count on a sunny day).
    """

    latitude: float
    longitude: float
    seed: int
    cloud_cover: float = 0.6

    def position(self, t: float) -> SunPosition:
        return sun_position(t, self.latitude, self.longitude)

    def cloudiness(self, t: float) -> float:
        """The day's cloudiness (0 clear .. cloud_cover); the weather changes at solar midnight."""
        day = math.floor(t / 86400 + self.longitude / 360)
        return self.cloud_cover * unit(self.seed, day, 11) ** 2

    def irradiance(self, t: float) -> float:
        """Plane-of-array irradiance at epoch second ``t``; 0 while the sun is down."""
        lit = self.sunlit(t)
        return 0.0 if lit is None else lit[1]

    def sunlit(self, t: float) -> tuple[SunPosition, float] | None:
        """The sun's place and the irradiance at ``t`` (one position computed); None at night.

        For a simulator that also needs the hour angle (panels facing east or west, shades).
        """
        sun = self.position(t)
        if not sun.up:
            return None
        wobble = 0.5 + 0.5 * math.sin(t / 1380 + self.seed % 97) * math.sin(
            t / 420 + self.seed % 89
        )
        clear: float = sun.sin_elevation**1.15
        return sun, 0.92 * clear * (1 - self.cloudiness(t) * wobble)

    def irradiances(self, times: Iterable[float]) -> list[float]:
        """:meth:`irradiance` of many moments: the same numbers, the clouds looked up once a day."""
        out: list[float] = []
        cloud_day: int | None = None
        cloudiness = 0.0
        seed97, seed89 = self.seed % 97, self.seed % 89
        for t in times:
            sun = sun_position(t, self.latitude, self.longitude)
            if sun.sin_elevation <= 0:
                out.append(0.0)
                continue
            day = math.floor(t / 86400 + self.longitude / 360)
            if day != cloud_day:
                cloud_day, cloudiness = day, self.cloud_cover * unit(self.seed, day, 11) ** 2
            wobble = 0.5 + 0.5 * math.sin(t / 1380 + seed97) * math.sin(t / 420 + seed89)
            clear: float = sun.sin_elevation**1.15
            out.append(0.92 * clear * (1 - cloudiness * wobble))
        return out

    def daylight(self, start: float, end: float, step: float = 60.0) -> tuple[float, float] | None:
        """First and last sample (every ``step`` s in ``[start, end)``) with the sun up."""
        first: float | None = None
        last: float | None = None
        t = start
        while t < end:
            if self.position(t).up:
                first = t if first is None else first
                last = t
            t += step
        return None if first is None or last is None else (first, last)
