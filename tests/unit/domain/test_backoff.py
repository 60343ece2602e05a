"""The not-ready backoff schedule: one function for the processor and the stack's redrive budget."""

from __future__ import annotations

import pytest

from genesys_bridge.backoff import not_ready_backoff, not_ready_delay


@pytest.mark.parametrize(
    ("receive_count", "seconds_left", "expected"),
    [(1, 10_000, 60), (2, 10_000, 120), (5, 10_000, 900), (100, 10_000, 900), (3, 100.2, 101), (1, 0.1, 1)],
)
def test_not_ready_backoff(receive_count: int, seconds_left: float, expected: int) -> None:
    assert not_ready_backoff(receive_count, 60, 900, seconds_left) == expected


def test_the_schedule_doubles_from_the_base_up_to_the_cap() -> None:
    # Given base 60 s and cap 900 s
    # When the first six receives are scheduled
    delays = [not_ready_delay(n, 60, 900) for n in range(1, 7)]
    # Then each doubles the last until the cap holds
    assert delays == [60, 120, 240, 480, 900, 900]


def test_a_huge_receive_count_stays_at_the_cap_without_huge_numbers() -> None:
    assert not_ready_delay(10**9, 60, 900) == 900


# 2026-11-20T15:00:00Z, a multiple of 60 s of epoch time
ON_THE_MINUTE = 1_795_186_800.0


@pytest.mark.parametrize(
    ("now_epoch", "grid", "expected"),
    [
        (ON_THE_MINUTE, 60, 60),  # already ends on the grid
        (ON_THE_MINUTE + 20, 60, 100),  # 60 s would end 20 s past a minute: stretched to the next one
        (ON_THE_MINUTE + 59.5, 60, 61),  # the grid moment is 60.5 s away: whole seconds, the second after
        (ON_THE_MINUTE + 20, 0, 60),  # no grid
    ],
)
def test_a_wait_ends_on_the_grid_of_wall_clock_time(now_epoch: float, grid: int, expected: int) -> None:
    assert not_ready_backoff(1, 60, 900, 10_000, now_epoch=now_epoch, grid_seconds=grid) == expected


def test_waits_started_apart_in_one_slot_end_together() -> None:
    # Given three messages handed back 40 s apart, each due 60 s later on the schedule
    ends = [
        start + not_ready_backoff(1, 60, 900, 10_000, now_epoch=start, grid_seconds=120)
        for start in (ON_THE_MINUTE + 1, ON_THE_MINUTE + 41, ON_THE_MINUTE + 81)
    ]
    # Then the first two come back at the same grid moment (their requests can be one), the third later
    assert ends == [ON_THE_MINUTE + 120, ON_THE_MINUTE + 120, ON_THE_MINUTE + 240]


@pytest.mark.parametrize(
    ("at_least", "seconds_left", "expected"),
    [
        (150.0, 10_000, 180),  # an expected end beyond the schedule: waited for, then on the grid
        (10.0, 10_000, 60),  # an expected end sooner than the schedule: the schedule holds
        (150.0, 130.0, 130),  # never past the time left until the max age
    ],
)
def test_an_expected_end_only_lengthens_the_wait(at_least: float, seconds_left: float, expected: int) -> None:
    assert (
        not_ready_backoff(
            1, 60, 900, seconds_left, at_least_seconds=at_least, now_epoch=ON_THE_MINUTE, grid_seconds=60
        )
        == expected
    )
