"""The shared sun model: sunrise and sunset where they belong, clouds bounded, numbers pinned."""

from __future__ import annotations

from datetime import UTC, datetime
import math

import pytest

from tests.simulators.sun import Sky, seed_of, sun_position, unit

BERLIN_LAT_LON = (52.52, 13.405)


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
    sky = Sky(*BERLIN_LAT_LON, seed=1)
    window = sky.daylight(start, start + 86400)
    assert window is not None
    rise, set_ = window
    assert abs(rise - _epoch(*day, *sunrise)) < 15 * 60
    assert abs(set_ - _epoch(*day, *sunset)) < 15 * 60


def test_solar_noon_has_hour_angle_zero_and_the_highest_sun() -> None:
    start = _epoch(2026, 6, 21)
    samples = [(sun_position(start + m * 60, *BERLIN_LAT_LON), m) for m in range(1440)]
    best, minute = max(samples, key=lambda s: s[0].sin_elevation)
    assert abs(best.hour_angle) < math.radians(0.5)
    assert abs(minute - (11 * 60 + 8)) <= 3  # 13:08 CEST
    assert math.asin(best.sin_elevation) == pytest.approx(math.radians(90 - 52.52 + 23.44), 0.01)


def test_irradiance_zero_at_night_bounded_by_day_and_clouds_vary_by_day() -> None:
    sky = Sky(*BERLIN_LAT_LON, seed=seed_of("x"))
    assert sky.irradiance(_epoch(2026, 6, 21, 23)) == 0.0
    noons = [sky.irradiance(_epoch(2026, 6, d, 11)) for d in range(1, 31)]
    assert all(0 < g <= 0.92 for g in noons)
    assert max(noons) - min(noons) > 0.05  # the weather changes from day to day
    assert {sky.cloudiness(_epoch(2026, 6, 5, h)) for h in range(4, 20)} == {
        sky.cloudiness(_epoch(2026, 6, 5, 12))
    }


@pytest.mark.parametrize(
    ("t", "sin_elevation", "hour_angle", "irradiance"),
    [
        (1_750_000_000, 0.6184962708234274, 1.015187546833232, 0.32387880808743225),
        (1_750_010_000, 0.19052525979057633, 1.7423032880200502, 0.1015414960120651),
        (1_766_000_000, -0.6527746398943117, 2.1924990195647567, 0.0),
    ],
)
def test_pinned_to_the_numbers_the_tigo_figures_were_made_with(
    t: int, sin_elevation: float, hour_angle: float, irradiance: float
) -> None:
    """The Tigo snapshots and figures rest on these numbers (Tigo's model before it moved here)."""
    position = sun_position(t, 48.1, 11.6)
    assert position.sin_elevation == pytest.approx(sin_elevation, rel=1e-12)
    assert position.hour_angle == pytest.approx(hour_angle, rel=1e-12)
    assert Sky(48.14, 11.58, seed_of("Home")).irradiance(t) == pytest.approx(irradiance, rel=1e-12)
    assert unit(5, 6, 7) == 0.8347591310720254


def test_sunlit_is_the_position_and_the_irradiance() -> None:
    sky = Sky(*BERLIN_LAT_LON, seed=seed_of("lit"))
    for k in range(0, 2 * 86400, 611):
        t = _epoch(2026, 9, 1) + k
        lit = sky.sunlit(t)
        if lit is None:
            assert not sky.position(t).up
            assert sky.irradiance(t) == 0.0
        else:
            assert lit == (sky.position(t), sky.irradiance(t))
            assert lit[1] > 0


def test_batch_irradiances_equal_single_ones() -> None:
    sky = Sky(*BERLIN_LAT_LON, seed=seed_of("batch"))
    times = [_epoch(2026, 3, 1) + 97.0 * k for k in range(3000)]
    assert sky.irradiances(times) == [sky.irradiance(t) for t in times]


def test_no_cloud_cover_is_the_clear_sky_every_day() -> None:
    clear = Sky(*BERLIN_LAT_LON, seed=seed_of("clear"), cloud_cover=0.0)
    cloudy = Sky(*BERLIN_LAT_LON, seed=seed_of("clear"))
    noons = [_epoch(2026, 6, d, 11) for d in range(1, 31)]
    assert all(clear.cloudiness(t) == 0.0 for t in noons)
    assert all(clear.irradiance(t) == 0.92 * clear.position(t).sin_elevation ** 1.15 for t in noons)
    assert all(cloudy.irradiance(t) <= clear.irradiance(t) for t in noons)
    assert any(cloudy.irradiance(t) < clear.irradiance(t) for t in noons)
    assert clear.irradiances(noons) == [clear.irradiance(t) for t in noons]
