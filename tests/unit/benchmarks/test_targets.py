"""The verdicts printed beside each figure follow docs/benchmarks.md's targets exactly, at their edges too."""

from __future__ import annotations

from benchmarks.stats import requests_floor
from benchmarks.targets import goodput_met, import_met, layer_met, requests_met


def test_requests_within_five_percent_of_the_floor_meet_the_target() -> None:
    floor = requests_floor(1000)  # 0.01
    assert requests_met(0.0105, floor)
    assert not requests_met(0.0106, floor)


def test_goodput_needs_both_enough_successful_fetches_and_few_429s() -> None:
    assert goodput_met(0.90, 0.02)
    assert not goodput_met(0.89, 0.0)
    assert not goodput_met(0.99, 0.021)


def test_import_must_be_close_to_boto3_and_far_below_the_sdk() -> None:
    assert import_met(handler_s=0.25, boto3_s=0.10, sdk_s=1.25)
    assert not import_met(handler_s=0.26, boto3_s=0.10, sdk_s=10.0)  # 2.6 x boto3
    assert not import_met(handler_s=0.20, boto3_s=0.10, sdk_s=0.99)  # SDK < 5 x slower
    assert not import_met(handler_s=0.10, boto3_s=0.10, sdk_s=None)  # no SDK figure, no claim


def test_layer_limit_is_25_decimal_megabytes() -> None:
    assert layer_met(25_000_000)
    assert not layer_met(25_000_001)
