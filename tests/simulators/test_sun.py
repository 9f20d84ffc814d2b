"""The shared sun model: sunrise and sunset where they belong, clouds bounded, as in tigo.py."""

from __future__ import annotations

from datetime import UTC, datetime
import math

import pytest

from tests.simulators import sun, tigo
from tests.simulators.sun import Sky, seed_of, sun_position, unit

BERLIN = (52.52, 13.405)


def _epoch(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()


def test_unit_is_reproducible_and_in_range() -> None:
    values = [unit(7, i, 3) for i in range(1000)]
    assert values == [unit(7, i, 3) for i in range(1000)]
    assert all(0 <= v < 1 for v in values)
    assert 0.45 < sum(values) / len(values) < 0.55
    assert seed_of("Sonnenhof") == seed_of("Sonnenhof") != seed_of("Weinberg")


@pytest.mark.parametrize(
    ("day", "sunrise", "sunset"),
    [
        # Berlin, sunrise / sunset in UTC (almanac values, rounded to the minute)
        ((2026, 6, 21), (2, 43), (19, 33)),
        ((2026, 12, 21), (7, 16), (14, 54)),
        ((2026, 3, 20), (5, 9), (17, 22)),
    ],
)
def test_sunrise_and_sunset_within_a_quarter_hour_of_the_almanac(
    day: tuple[int, int, int], sunrise: tuple[int, int], sunset: tuple[int, int]
) -> None:
    start = _epoch(*day)
    sky = Sky(*BERLIN, seed=1)
    window = sky.daylight(start, start + 86400)
    assert window is not None
    rise, set_ = window
    assert abs(rise - _epoch(*day, *sunrise)) < 15 * 60
    assert abs(set_ - _epoch(*day, *sunset)) < 15 * 60


def test_solar_noon_has_hour_angle_zero_and_the_highest_sun() -> None:
    start = _epoch(2026, 6, 21)
    samples = [(sun_position(start + m * 60, *BERLIN), m) for m in range(1440)]
    best, minute = max(samples, key=lambda s: s[0].sin_elevation)
    assert abs(best.hour_angle) < math.radians(0.5)
    assert abs(minute - (11 * 60 + 8)) <= 3  # 13:08 CEST
    assert math.asin(best.sin_elevation) == pytest.approx(math.radians(90 - 52.52 + 23.44), 0.01)


def test_irradiance_zero_at_night_bounded_by_day_and_clouds_vary_by_day() -> None:
    sky = Sky(*BERLIN, seed=seed_of("x"))
    assert sky.irradiance(_epoch(2026, 6, 21, 23)) == 0.0
    noons = [sky.irradiance(_epoch(2026, 6, d, 11)) for d in range(1, 31)]
    assert all(0 < g <= 0.92 for g in noons)
    assert max(noons) - min(noons) > 0.05  # the weather changes from day to day
    assert {sky.cloudiness(_epoch(2026, 6, 5, h)) for h in range(4, 20)} == {
        sky.cloudiness(_epoch(2026, 6, 5, 12))
    }


def test_faithful_to_the_tigo_simulator() -> None:
    """sun.py is tigo.py's model: the same numbers, so tigo.py can switch with no change."""
    legacy = getattr(tigo, "_sun", None)
    if legacy is None:
        pytest.skip("tigo.py already uses tests.simulators.sun")
    for k in range(0, 400 * 86400, 3607 * 7):
        t = 1_750_000_000 + k
        sin_el, hour_angle = legacy(t, 48.1, 11.6)
        position = sun.sun_position(t, 48.1, 11.6)
        assert (position.sin_elevation, position.hour_angle) == (sin_el, hour_angle)
    spec = tigo.DEFAULT_SYSTEMS[0]
    physics = tigo._Physics(spec)
    sky = Sky(spec.latitude, spec.longitude, seed_of(spec.name))
    for m in range(29_000_000, 29_000_000 + 3 * 1440, 7):
        light = physics.light(m)
        expected = 0.0 if light is None else light.irradiance
        assert sky.irradiance(m * 60 + 30) == expected
    assert tigo._unit(5, 6, 7) == unit(5, 6, 7)


def test_batch_irradiances_equal_single_ones() -> None:
    sky = Sky(*BERLIN, seed=seed_of("batch"))
    times = [_epoch(2026, 3, 1) + 97.0 * k for k in range(3000)]
    assert sky.irradiances(times) == [sky.irradiance(t) for t in times]
