"""Goodput and 429 share are shares of the requests the simulator saw; the fast clock keeps its ratio."""

from __future__ import annotations

import pytest

from benchmarks.goodput import FastClock, GoodputResult


def _result(api: int, successes: int, throttled: int) -> GoodputResult:
    return GoodputResult(
        paced=True,
        api_requests=api,
        successful_fetches=successes,
        throttled=throttled,
        handed_back=0,
        simulated_minutes=1.5,
    )


@pytest.mark.parametrize(
    ("api", "successes", "throttled", "goodput", "throttled_share"),
    [
        (400, 360, 40, 0.9, 0.1),
        (0, 0, 0, 0.0, 0.0),  # a run without requests reports zero, not a division error
    ],
)
def test_goodput_and_429_share_are_shares_of_every_api_request(
    api: int, successes: int, throttled: int, goodput: float, throttled_share: float
) -> None:
    result = _result(api=api, successes=successes, throttled=throttled)
    assert (result.goodput, result.throttled_share) == pytest.approx((goodput, throttled_share))


def test_fast_clock_runs_faster_by_its_speedup() -> None:
    clock = FastClock(speedup=1000.0)
    before = clock.now()
    clock.sleep(5.0)  # five simulated seconds are five real milliseconds
    assert clock.now() - before >= 5.0
