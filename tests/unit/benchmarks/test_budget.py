"""Figures 1 and 11: who was fetched with whom, counted from the simulator's multi-gets."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from benchmarks.pipeline import FetchCounts, budget_rows, count_fetches, refetch_rows
from benchmarks.table import Verdict

# a(t=0) b c first; d first with a again; a b again alone; e first; d again with nothing else
FETCHES = [
    (0.0, ("a", "b", "c")),
    (10.0, ("d", "a")),
    (20.0, ("a", "b")),
    (30.0, ()),  # a 429: the budget was asked, nothing fetched
    (40.0, ("e",)),
    (50.0, ("d",)),
]
PROD = SimpleNamespace(genesys_max_requests_per_minute=240, genesys_ids_per_request=100)


def test_a_conversation_is_refetched_when_an_earlier_multi_get_carried_it() -> None:
    counts = count_fetches(FETCHES, -1.0, 100.0, time_scale=1.0)
    assert (counts.requests, counts.with_refetches, counts.refetch_only) == (6, 3, 2)
    assert (counts.first_fetches, counts.refetches) == (5, 4)
    assert counts.fetched_again == 3  # a, b and d appear in more than one multi-get
    assert counts.ids == (3, 2, 2, 1, 1)


def test_a_window_counts_its_own_multi_gets_but_knows_what_came_before() -> None:
    # Given the window 15..45 s of a run at time scale 0.5 (so a local minute is two configured ones)
    counts = count_fetches(FETCHES, 15.0, 45.0, time_scale=0.5)
    # Then "a b" is a refetch though its first fetch lies before the window; e is a first fetch
    assert (counts.requests, counts.refetches, counts.refetch_only, counts.first_fetches) == (3, 2, 1, 1)
    assert counts.minutes == pytest.approx(1.0)
    assert counts.fetched_again == 0  # e, the one first fetch here, was fetched once


def _counts(**values: object) -> FetchCounts:
    fields: dict[str, object] = dict(minutes=10.0, ids=(1, 2, 2, 3), requests=240, with_refetches=20)
    fields |= dict(refetch_only=4, first_fetches=480, refetches=40, fetched_again=36)
    return FetchCounts(**(fields | values))  # type: ignore[arg-type]


def test_the_budget_share_is_requests_per_configured_minute_over_the_budget() -> None:
    # Given 240 multi-gets in 10 configured minutes against 240 a minute, and a model of 2 ids per request
    rows = budget_rows(2_880, _counts(), PROD, 2.0, (0.1, 2.5))
    # Then 24 a minute is 10 %; the model (48 first fetches a minute / 2) says 24 a minute too
    assert rows[0].measured == "10.0% (24.0 of 240 req/min)"
    assert rows[0].reference == "model 10.0% at 2.0 ids per request"
    assert rows[1].measured == "0.500 req/conv.; ids median 2, p10 1; 480 first fetches, 40 refetches"
    assert rows[1].reference == "7.5% fetched again; 20 of 240 requests with refetches (4 only)"


def test_a_processor_slower_than_a_fifth_of_the_window_is_not_measured() -> None:
    [row] = budget_rows(2_880, _counts(), PROD, 20.0, (0.6, 2.5))
    assert row.verdict is Verdict.NOT_MEASURED
    assert "a fifth of the batching window" in row.note


def test_a_window_that_did_not_keep_its_rate_is_not_measured() -> None:
    # Given 480 first fetches in 10 minutes (2,880 an hour) where 3,300 an hour were configured
    [row] = budget_rows(3_300, _counts(), PROD, 2.0, (0.1, 2.5))
    assert row.verdict is Verdict.NOT_MEASURED
    assert "did not keep its rate" in row.note


def test_refetch_sharing_is_judged_on_the_after_run_only() -> None:
    # Given 10 unsettled conversations: before, 15 refetches in 10 requests; after, 15 in 3
    before = _counts(fetched_again=10, refetches=15, with_refetches=10, refetch_only=6)
    after = _counts(fetched_again=10, refetches=15, with_refetches=3, refetch_only=2)
    rows = refetch_rows({"before": (before, 300.0, 900.0), "after": (after, 320.0, 700.0)})
    assert [row.measured for row in rows] == [
        "100 (60 nothing else); 1.5 refetched per request",
        "30 (20 nothing else); 5.0 refetched per request",
    ]
    assert [row.verdict for row in rows] == [Verdict.NO_TARGET, Verdict.MET]
    assert rows[1].reference == "unsettled landed median 320.00 s, p90 700.00 s"
