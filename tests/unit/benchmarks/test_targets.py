"""The verdicts printed beside each figure follow docs/benchmarks.md's targets exactly, at their edges too;
the floor they are measured against; and the p99 of the latency figure."""

from __future__ import annotations

import pytest

from benchmarks.pipeline import p99
from benchmarks.targets import goodput_met, import_met, layer_met, refetch_sharing_met, requests_floor


@pytest.mark.parametrize(
    ("conversations", "ids_per_request", "expected"),
    [(1000, 100, 0.01), (1001, 100, 11 / 1001), (1, 100, 1.0), (250, 100, 3 / 250), (1000, 50, 0.02)],
)
def test_floor_is_one_full_multi_get_per_chunk_of_ids(
    conversations: int, ids_per_request: int, expected: float
) -> None:
    assert requests_floor(conversations, ids_per_request) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("conversations", "ids_per_request", "message"),
    [(0, 100, "at least one conversation"), (100, 0, "ids_per_request must be positive")],
)
def test_floor_needs_conversations_and_a_chunk_size(
    conversations: int, ids_per_request: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        requests_floor(conversations, ids_per_request)


@pytest.mark.parametrize(("per_request", "met"), [(5.0, True), (4.99, False), (12.0, True)])
def test_refetches_share_when_five_or_more_ride_in_each_request_that_carries_any(
    per_request: float, met: bool
) -> None:
    assert refetch_sharing_met(per_request) is met


@pytest.mark.parametrize(
    ("goodput", "throttled", "met"), [(0.90, 0.02, True), (0.89, 0.0, False), (0.99, 0.021, False)]
)
def test_goodput_needs_both_enough_successful_fetches_and_few_429s(
    goodput: float, throttled: float, met: bool
) -> None:
    assert goodput_met(goodput, throttled) is met


@pytest.mark.parametrize(
    ("handler_s", "sdk_s", "met"),
    [
        (0.25, 1.25, True),
        (0.26, 10.0, False),  # 2.6 x boto3
        (0.20, 0.99, False),  # SDK < 5 x slower
        (0.10, None, False),  # no SDK figure, no claim
    ],
)
def test_import_must_be_close_to_boto3_and_far_below_the_sdk(
    handler_s: float, sdk_s: float | None, met: bool
) -> None:
    assert import_met(handler_s=handler_s, boto3_s=0.10, sdk_s=sdk_s) is met


@pytest.mark.parametrize(("size", "met"), [(25_000_000, True), (25_000_001, False)])
def test_layer_limit_is_25_decimal_megabytes(size: int, met: bool) -> None:
    assert layer_met(size) is met


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([float(v) for v in range(1, 101)], 99.01),  # 1% of the way from 99 to 100, as numpy's "linear"
        ([7.0, 2.0, 9.0], 8.96),  # 98% of the way from 7 to 9
        ([42.0], 42.0),  # one value is every percentile of itself
    ],
)
def test_p99_interpolates_between_the_closest_ranks(values: list[float], expected: float) -> None:
    assert p99(values) == pytest.approx(expected)
