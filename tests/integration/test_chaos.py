"""`make chaos` in small: every fault at once, and the strict verdict."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from genesys_bridge.events import InvalidReason
from local_runner import render_summary, run_pipeline
from local_runner.chaos import chaos_options, render_chaos

pytestmark = pytest.mark.integration


def test_small_chaos_run_reconciles_every_conversation_and_event(tmp_path: Path) -> None:
    # Given Genesys faults (429 storms, 503/504, slow answers, token revocations), every event
    # delivered up to three times, 2% malformed events, late and never-ready conversations, a
    # processor crash between S3 writes and marking, throttled DynamoDB and S3 calls, pipe batches
    # whose target put always fails (dead-lettered as pointers into the stream), 2% of the
    # conversations' events dropped before ingest and 5% of the landed ones changed afterwards
    # (a third of the pipe's batches fail here, not make chaos's tenth: 100 conversations make few
    # batches, and the path must be exercised every time)
    options = replace(
        chaos_options(conversations=100, time_scale=0.002, out_dir=tmp_path / "chaos", progress=False),
        pipe_failure_rate=0.3,
    )
    report = run_pipeline(options)
    table = render_chaos(report)

    # Then the verdict holds, check by check
    assert report.verdict, table
    assert [check.ok for check in report.checks] == [True] * 8, table
    # (the lookups landed through Genesys' faults too: the client's retries absorbed them)
    assert all(entities.isdigit() for entities in report.lookups.values()), report.lookups
    assert report.lost == report.duplicated == report.body_mismatches == 0

    # And every never-ready conversation analytics never showed is FAILED with its reason, and in the
    # DLQ with it (or, when a fault met its last attempt, Genesys could not be asked in time); one that
    # analytics shows, still open, is LEFT_OPEN without a DLQ message (the reconciliation checks each)
    give_up = {"not_ready_max_age", "not_fetched_max_age"}
    assert report.failed >= 1
    assert report.emf_metrics["processor"].get("ConversationsLeftOpen", 0) >= 1
    assert all(error.split(":", 1)[0] in give_up for error in report.failed_reasons.values())
    assert set(report.dlq_reasons) <= give_up
    assert sum(report.dlq_reasons.values()) == report.failed
    assert report.work_dlq == report.failed
    # (finalize lands what Genesys has of the never-ended ones too, still without conversationEnd; a
    # conversation analytics never shows cannot land)
    assert report.landed == report.expected < report.unique_conversations

    # And the closing audit landed the dropped conversations, finalize re-landed the changed ones
    assert report.audit is not None
    # (exactly the dropped ones that end, and those without a subscribed end event: the check "the
    # audit landed exactly ..." above holds)
    assert report.dropped_conversations == 2
    assert 1 <= report.audit["missing_landed"] - report.silent_conversations <= 2
    assert report.audit["changed"] == report.audit["changed_relanded"] >= 1

    # And every malformed event is in quarantine with its reason code
    assert set(report.quarantine_reasons) <= {reason.value for reason in InvalidReason}
    assert sum(report.quarantine_reasons.values()) == report.malformed_events == report.quarantined
    assert report.ingest_failure_queue == report.pipe_dlq == report.pending_left == 0

    # And every batch the pipe dead-lettered was resolved by the pipe DLQ function, back to exactly the
    # conversations it carried, with nothing left unresolved
    resolver = report.emf_metrics["pipe-dlq"]
    assert report.pipe["dead_lettered_batches"] > 0
    assert resolver["PipePointersResolved"] == report.pipe["dead_lettered_batches"]
    assert resolver["ConversationsRequeued"] == report.pipe["dead_lettered_conversations"]
    assert resolver.get("PipePointersUnresolved", 0) == report.pipe_unresolved == 0

    # And the faults really happened; the injected crash is a failed invocation, not a deferral
    assert report.processor_crashes == 1
    assert "InjectedCrash" not in report.deferred
    assert report.genesys_429 > 0
    assert report.simulator_stats["revocations"] >= 1
    assert sum(report.aws_throttles_injected.values()) > 0
    assert report.duplicate_deliveries > 0
    assert "chaos verdict: PASS" in table
    assert render_summary(report).count("-> OK") == 1
