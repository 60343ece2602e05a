"""Load profiles hold the conversations they say they hold; a profile file that is not a per-minute
series is refused with the line and the value."""

from __future__ import annotations

from pathlib import Path

import pytest

from capacity.profiles import (
    DAY_SHAPE,
    MINUTES_PER_DAY,
    SPIKE_MINUTES,
    SPIKE_MULTIPLIER,
    SPIKE_START_MINUTE,
    ProfileError,
    load_profile_file,
    named_profile,
    parse_profile_text,
)


def day_total(name: str, peak_per_hour: float) -> float:
    """The conversations a named profile holds, stated from its definition, not from its minutes."""
    if name == "flat":
        return 24 * peak_per_hour
    total = sum(DAY_SHAPE) * peak_per_hour
    if name == "spike":
        spike_hour = SPIKE_START_MINUTE // 60
        total += (SPIKE_MULTIPLIER - DAY_SHAPE[spike_hour]) * peak_per_hour * SPIKE_MINUTES / 60
    return total


@pytest.mark.parametrize("name", ["flat", "day", "spike"])
def test_each_named_profile_integrates_to_its_stated_daily_total(name: str) -> None:
    # Given a peak of 120,000 conversations an hour, When the day's minutes are summed
    profile = named_profile(name, 120_000)
    # Then they hold the day's total that the profile's definition states, over exactly one day
    assert profile.minutes == MINUTES_PER_DAY
    assert profile.total == pytest.approx(day_total(name, 120_000), rel=1e-9)


def test_the_day_curve_peaks_at_the_stated_hour_and_is_quiet_at_night() -> None:
    profile = named_profile("day", 60_000)
    hours = [sum(profile.per_minute[h * 60 : (h + 1) * 60]) for h in range(24)]
    assert max(hours) == pytest.approx(60_000)  # the busiest hour is the stated peak
    assert hours.index(max(hours)) == DAY_SHAPE.index(1.0)
    assert hours[3] < 0.05 * max(hours)


def test_the_spike_is_ten_times_the_peak_for_fifteen_minutes_on_top_of_the_day() -> None:
    day = named_profile("day", 60_000)
    spike = named_profile("spike", 60_000)
    raised = [
        minute for minute, (a, b) in enumerate(zip(day.per_minute, spike.per_minute, strict=True)) if b > a
    ]
    assert len(raised) == SPIKE_MINUTES
    assert max(spike.per_minute) == pytest.approx(SPIKE_MULTIPLIER * 60_000 / 60)


def test_a_profile_file_takes_one_number_per_line_or_minute_value_pairs() -> None:
    plain = parse_profile_text("# busy morning\n10\n20\n\n30\n")
    pairs = parse_profile_text("minute,conversations\n0,10\n1,20\n2,30\n")
    assert plain.per_minute == pairs.per_minute == (10.0, 20.0, 30.0)


def test_a_profile_file_is_rescaled_to_the_given_peak(tmp_path: Path) -> None:
    path = tmp_path / "profile.csv"
    path.write_text("10\n40\n20\n")
    profile = load_profile_file(path, 6_000)  # busiest minute -> 100 conversations
    assert profile.per_minute == pytest.approx((25.0, 100.0, 50.0))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("10\nten\n", "line 2: 'ten' is not a number"),
        ("10\n-3\n", "line 2: '-3' is not a count of conversations (allowed: 0 or more)"),
        ("10\nnan\n", "'nan' is not a count of conversations"),
        ("0,10\n2,20\n", "minute 2 out of order; expected minute 1"),
        ("0,10,5\n", "has 3 fields; expected minute,conversations"),
        ("# nothing\n\n", "no minutes"),
        ("0\n0\n", "every minute is 0"),
        ('{"day": 1}\n', "line 1: '{\"day\": 1}' is not a number"),
    ],
)
def test_a_file_that_is_not_a_per_minute_series_is_refused_naming_the_problem(
    text: str, message: str
) -> None:
    with pytest.raises(ProfileError) as refused:
        parse_profile_text(text, "load.csv")
    assert message in str(refused.value)
    assert "load.csv" in str(refused.value)


def test_an_unknown_profile_name_lists_the_allowed_ones() -> None:
    with pytest.raises(ProfileError) as refused:
        named_profile("weekly", 1_000)
    assert "'weekly'" in str(refused.value)
    assert "flat, day, spike" in str(refused.value)
