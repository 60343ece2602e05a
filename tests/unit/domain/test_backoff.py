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
