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
        other_errors=api - successes - throttled,
        handed_back=0,
        simulated_minutes=1.5,
    )


def test_goodput_is_successful_fetches_over_every_api_request() -> None:
    result = _result(api=400, successes=360, throttled=40)
    assert result.goodput == pytest.approx(0.9)
    assert result.throttled_share == pytest.approx(0.1)


def test_a_run_without_requests_reports_zero_not_a_division_error() -> None:
    result = _result(api=0, successes=0, throttled=0)
    assert result.goodput == 0.0
    assert result.throttled_share == 0.0


def test_fast_clock_runs_faster_by_its_speedup() -> None:
    clock = FastClock(speedup=1000.0)
    before = clock.now()
    clock.sleep(5.0)  # five simulated seconds are five real milliseconds
    assert clock.now() - before >= 5.0
