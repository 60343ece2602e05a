"""Figure 9 (the audit of one simulated day): its counting and pricing, checked by hand-computed figures,
and a small run whose report must be exact."""

from __future__ import annotations

import pytest

from benchmarks.audit import (
    ModeRun,
    StubS3,
    execution_cost,
    run_audit_bench,
    state_transitions,
)
from tests.unit.benchmarks.test_cost import ROUND_PRICES


def a_run(**overrides: object) -> ModeRun:
    values: dict[str, object] = {
        "mode": "audit",
        "report": {},
        "genesys_requests": 25,
        "s3_calls": {"PutObject": 222, "ListObjectsV2": 22, "GetObject": 23, "DeleteObjects": 1},
        "invocations": 29,
        "transitions": 59,
        "step_seconds": [0.1] * 10,
        "elapsed_seconds": 120.0,
    }
    values.update(overrides)
    return ModeRun(**values)  # type: ignore[arg-type]


def test_an_execution_is_priced_per_million_conversations_from_its_counts() -> None:
    # Given one execution over a day of 20,000 conversations (x50 to a million), at 1,024 MB
    cost = execution_cost(a_run(), 20_000, ROUND_PRICES, 1024)
    # Then each line is its count x 50 x its unit price
    assert cost.usd("Step Functions transitions") == pytest.approx(59 * 50 * 0.025 / 1000)
    assert cost.usd("Lambda requests") == pytest.approx(29 * 50 * 0.20 / 1e6)
    assert cost.usd("Lambda GB-s") == pytest.approx(1.0 * 50 * 0.0000133334)  # ten 100 ms steps at 1 GB
    assert cost.usd("S3 PUT/LIST") == pytest.approx((222 + 22) * 50 * 0.005 / 1000)
    assert cost.usd("S3 GET") == pytest.approx(23 * 50 * 0.0004 / 1000)  # DeleteObjects is free
    assert cost.total == pytest.approx(sum(line.usd_per_million for line in cost.lines))


def test_a_step_shorter_than_a_millisecond_is_billed_one() -> None:
    cost = execution_cost(a_run(step_seconds=[0.0001] * 1000), 1_000_000, ROUND_PRICES, 1024)
    assert cost.usd("Lambda GB-s") == pytest.approx(1.0 * 0.0000133334)


def test_state_transitions_count_tasks_choices_waits_and_the_end() -> None:
    path = [
        ("start", "availability"),  # task + its choice
        ("availability", "guard"),  # task + choice
        ("guard", "submit"),  # task + choice
        ("submit", "wait_for_job"),  # task (one way on, no choice) + the wait
        ("poll", "inventory"),  # task + choice
        ("inventory", "page"),  # task
        ("page", "report"),  # task + choice
        ("report", "complete"),  # task + the Succeed
    ]
    assert state_transitions(path) == 2 + 2 + 2 + 2 + 2 + 1 + 2 + 2


def test_the_s3_stand_in_pages_listings_by_1000_with_md5_etags() -> None:
    s3 = StubS3()
    for index in range(1500):
        s3.preload(f"p/{index:05d}", b"x")
    first = s3.list_objects_v2(Bucket="b", Prefix="p/")
    second = s3.list_objects_v2(Bucket="b", Prefix="p/", ContinuationToken=first["NextContinuationToken"])
    assert (len(first["Contents"]), first["IsTruncated"], len(second["Contents"]), second["IsTruncated"]) == (
        1000,
        True,
        500,
        False,
    )
    assert first["Contents"][0]["ETag"] == '"9dd4e461268c8034f5c8564e155c67a6"'  # md5 of b"x"
    assert s3.calls["ListObjectsV2"] == 2


def test_a_small_simulated_day_reports_exactly_what_was_missing_and_what_changed() -> None:
    # Given 60 conversations, 10% not landed by the live path, 10% changed before finalization
    bench = run_audit_bench(60, missing_share=0.1, changed_share=0.1, page_size=25, requests_per_minute=6000)
    # Then the audit landed the 6 missing and the finalization re-landed the 6 changed
    assert (bench.audit.report["missing_landed"], bench.audit.report["unchanged"]) == (6, 54)
    assert (bench.finalize.report["changed_relanded"], bench.finalize.report["unchanged"]) == (6, 54)
    # And both read three result pages, one step each
    assert bench.audit.report["pages"] == bench.finalize.report["pages"] == 3
    # inventory, ledgers, the cursors of pages 1 and 2 (a cycle check), landed, report, compaction
    # marker (the Parquet is Athena's to write)
    assert bench.audit.s3_calls["PutObject"] == 1 + 3 + 2 + 6 + 1 + 1
