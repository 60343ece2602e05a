"""The statistics behind every figure: a wrong percentile or floor would mislead every reader."""

from __future__ import annotations

import pytest

from benchmarks.stats import median, percentile, requests_floor


def test_median_of_an_odd_sample_is_its_middle_value() -> None:
    assert median([5.0, 1.0, 3.0]) == 3.0


def test_median_of_an_even_sample_is_the_mean_of_the_two_middle_values() -> None:
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5


def test_p99_interpolates_between_the_closest_ranks_like_numpy() -> None:
    # Given 1..100, the 99th percentile sits 1% of the way from 99 to 100 (numpy's "linear" gives 99.01)
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 99) == pytest.approx(99.01)


def test_extreme_percentiles_are_the_minimum_and_maximum() -> None:
    values = [7.0, 2.0, 9.0]
    assert percentile(values, 0) == 2.0
    assert percentile(values, 100) == 9.0


def test_a_single_sample_is_every_percentile() -> None:
    assert percentile([42.0], 99) == 42.0


def test_percentile_refuses_an_empty_sample_and_an_out_of_range_rank() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match=r"0\.\.100"):
        percentile([1.0], 101)


@pytest.mark.parametrize(
    ("conversations", "expected"),
    [(1000, 0.01), (1001, 11 / 1001), (1, 1.0), (100, 0.01), (250, 3 / 250)],
)
def test_floor_is_one_full_multi_get_per_hundred_conversations(conversations: int, expected: float) -> None:
    assert requests_floor(conversations) == pytest.approx(expected)


def test_floor_follows_a_smaller_chunk_size() -> None:
    assert requests_floor(1000, ids_per_request=50) == pytest.approx(0.02)


def test_floor_needs_at_least_one_conversation() -> None:
    with pytest.raises(ValueError, match="at least one"):
        requests_floor(0)
