"""Learning a system's upload cadence and daylight window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json

from custom_components.solarhub.vendors.enlighten.learning import (
    DEFAULT_CADENCE,
    CadenceLearner,
    DaylightLearner,
    Window,
)

T0 = datetime(2026, 6, 10, 8, 2, 40, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
FIVE = timedelta(minutes=5)


def _feed(learner: CadenceLearner, minutes: list[float]) -> None:
    moment = T0
    learner.observe(moment)
    for step in minutes:
        moment += timedelta(minutes=step)
        learner.observe(moment)


def test_cadence_is_fifteen_minutes_until_learned() -> None:
    learner = CadenceLearner()
    assert learner.cadence == DEFAULT_CADENCE
    assert learner.observe(T0) is True
    assert learner.cadence == DEFAULT_CADENCE


def test_cadence_from_regular_steps_with_jitter() -> None:
    learner = CadenceLearner()
    _feed(learner, [15.5, 14.6, 15.2, 15.0, 14.9])
    assert abs(learner.cadence - timedelta(minutes=15)) <= MINUTE


def test_skipped_polls_and_missed_uploads_do_not_lengthen_it() -> None:
    learner = CadenceLearner()
    _feed(learner, [15, 30, 15, 45, 15, 210, 15, 30, 15, 15, 60])
    assert learner.cadence == timedelta(minutes=15)


def test_a_rare_short_outlier_is_ignored() -> None:
    learner = CadenceLearner()
    _feed(learner, [15, 15, 2, 13, 15, 15, 15, 15])
    assert learner.cadence == timedelta(minutes=15)


def test_a_cellular_envoy_every_six_hours() -> None:
    learner = CadenceLearner()
    _feed(learner, [360, 361])
    assert learner.cadence == DEFAULT_CADENCE  # two steps are not enough to trust a long one
    _feed(learner, [359, 360, 362])
    assert abs(learner.cadence - timedelta(hours=6)) <= 2 * MINUTE


def test_cadence_is_clamped() -> None:
    learner = CadenceLearner()
    _feed(learner, [24 * 60] * 4)
    assert learner.cadence == timedelta(hours=12)
    learner = CadenceLearner()
    _feed(learner, [2, 2, 2, 2])
    assert learner.cadence == timedelta(minutes=5)


def test_repeated_stale_and_sub_minute_reports() -> None:
    learner = CadenceLearner()
    assert learner.observe(T0) is True
    assert learner.observe(T0) is False  # the same upload
    assert learner.observe(T0 - MINUTE) is False  # an older answer is ignored
    assert learner.last_report == T0
    assert learner.observe(T0 + timedelta(seconds=30)) is True
    assert learner.steps == []  # 30 s says nothing about the cadence


def test_cadence_round_trip_and_corrupt_state() -> None:
    learner = CadenceLearner()
    _feed(learner, [15, 15, 16])
    restored = CadenceLearner.from_dict(json.loads(json.dumps(learner.to_dict())))
    assert restored == learner
    assert CadenceLearner.from_dict(None) == CadenceLearner()
    junk = CadenceLearner.from_dict({"steps": [900, "x", -3, 10, 10**9, True], "last_report": "y"})
    assert junk.steps == [900.0]
    assert junk.last_report is None


def _day(learner: DaylightLearner, day: datetime, first: timedelta, last: timedelta) -> None:
    """One day of producing 5-minute intervals, with zero intervals around them."""
    moment = day + first - 2 * FIVE
    rows = []
    while moment <= day + last + 2 * FIVE:
        producing = day + first <= moment <= day + last
        rows.append((moment, 120.0 if producing else 0.0))
        moment += FIVE
    learner.observe(rows)


def _utc(hours: float) -> timedelta:
    return timedelta(hours=hours)


def test_daylight_from_the_sun_guess() -> None:
    learner = DaylightLearner()
    learner.guess(datetime(2026, 6, 1, 4, 0, tzinfo=UTC), datetime(2026, 6, 1, 19, 30, tzinfo=UTC))
    window = learner.window(datetime(2026, 6, 10, 2, 0, tzinfo=UTC))
    assert window == Window(
        datetime(2026, 6, 10, 4, 0, tzinfo=UTC), datetime(2026, 6, 10, 19, 30, tzinfo=UTC)
    )
    assert datetime(2026, 6, 10, 12, tzinfo=UTC) in window
    assert "noon" not in window
    # after today's window: tomorrow's
    assert learner.window(datetime(2026, 6, 10, 20, 0, tzinfo=UTC)).start == datetime(
        2026, 6, 11, 4, 0, tzinfo=UTC
    )


def test_daylight_without_any_guess_is_six_to_six() -> None:
    window = DaylightLearner().window(datetime(2026, 6, 10, 1, 0, tzinfo=UTC))
    assert (window.start.hour, window.end.hour) == (6, 18)


def test_learned_days_replace_the_guess_and_todays_partial_day_is_not_used() -> None:
    learner = DaylightLearner()
    learner.guess(datetime(2026, 6, 1, 4, 0, tzinfo=UTC), datetime(2026, 6, 1, 19, 0, tzinfo=UTC))
    for d in range(3):
        _day(learner, datetime(2026, 6, 7 + d, tzinfo=UTC), _utc(3.5), _utc(20))
    _day(learner, datetime(2026, 6, 10, tzinfo=UTC), _utc(3.5), _utc(9))  # today, in progress
    window = learner.window(datetime(2026, 6, 10, 9, 30, tzinfo=UTC))
    assert window.start == datetime(2026, 6, 10, 3, 30, tzinfo=UTC)
    assert window.end == datetime(2026, 6, 10, 20, 0, tzinfo=UTC)


def test_an_outage_day_does_not_move_the_median() -> None:
    learner = DaylightLearner()
    for d in range(4):
        _day(learner, datetime(2026, 6, 5 + d, tzinfo=UTC), _utc(4), _utc(19))
    _day(learner, datetime(2026, 6, 9, tzinfo=UTC), _utc(13), _utc(14))  # Envoy offline all morning
    window = learner.window(datetime(2026, 6, 10, 1, 0, tzinfo=UTC))
    assert (window.start.hour, window.end.hour) == (4, 19)


def test_daylight_across_utc_midnight() -> None:
    """East of about 100 degrees E the day spans UTC midnight (here 20:30 to 07:00 UTC)."""
    learner = DaylightLearner()
    learner.guess(datetime(2026, 6, 1, 20, 30, tzinfo=UTC), datetime(2026, 6, 2, 7, 0, tzinfo=UTC))
    now = datetime(2026, 6, 10, 23, 0, tzinfo=UTC)
    guessed = learner.window(now)
    assert guessed.start == datetime(2026, 6, 10, 20, 30, tzinfo=UTC)
    assert guessed.end == datetime(2026, 6, 11, 7, 0, tzinfo=UTC)
    for d in range(3):
        _day(learner, datetime(2026, 6, 7 + d, tzinfo=UTC), _utc(21), _utc(30.5))
    learned = learner.window(now)
    assert learned.start == datetime(2026, 6, 10, 21, 0, tzinfo=UTC)
    assert learned.end == datetime(2026, 6, 11, 6, 30, tzinfo=UTC)


def test_only_the_last_days_are_kept() -> None:
    learner = DaylightLearner()
    for d in range(12):
        _day(learner, datetime(2026, 6, 1 + d, tzinfo=UTC), _utc(4), _utc(19))
    assert len(learner.days) == 8


def test_daylight_round_trip_and_corrupt_state() -> None:
    learner = DaylightLearner()
    learner.guess(datetime(2026, 6, 1, 4, 0, tzinfo=UTC), datetime(2026, 6, 1, 19, 0, tzinfo=UTC))
    _day(learner, datetime(2026, 6, 7, tzinfo=UTC), _utc(4), _utc(19))
    restored = DaylightLearner.from_dict(json.loads(json.dumps(learner.to_dict())))
    assert restored == learner
    assert DaylightLearner.from_dict("x") == DaylightLearner()
    stored = learner.to_dict()["days"]
    assert isinstance(stored, list)
    junk_days: list[object] = [
        [1, 2],
        "x",
        [20_000, 9e9, 1.0],
        [20_000, 5.0, 1.0],
        [20_000, 20_000 * 86_400 - 10.0, 20_000 * 86_400 + 10.0],  # before its own day
        *stored,
    ]
    junk = DaylightLearner.from_dict({"sunrise": 90_000, "sunset": 10, "days": junk_days})
    assert junk.sunrise is None
    assert junk.days == learner.days


def test_polling_every_second_or_third_upload_still_finds_fifteen_minutes() -> None:
    learner = CadenceLearner()
    _feed(learner, [30, 45, 30, 30, 45, 30, 60, 30])
    assert learner.cadence == timedelta(minutes=15)


def test_irregular_steps_fall_back_to_the_lower_quartile() -> None:
    learner = CadenceLearner()
    _feed(learner, [41, 67, 53, 97, 29, 83, 71, 113])
    assert learner.cadence == timedelta(minutes=53)
