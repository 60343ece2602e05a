"""The cost figure's counts come from a run report: which calls are billed, and which are modelled."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from benchmarks.cost import RunCounts
from benchmarks.pipeline import run_counts


def _report() -> SimpleNamespace:
    return SimpleNamespace(
        landed=100,
        events=350,
        visibility_changes=5,
        pipe={"forwarded": 100, "records_read": 450},
        invocation_durations_s={"ingest": [0.010] * 350, "processor": [0.5, 0.7]},
        aws_requests={
            "function:dynamodb.UpdateItem": 450,
            "function:dynamodb.GetItem": 3,
            "function:s3.PutObject": 100,
            "function:sqs.ChangeMessageVisibility": 5,
            "function:secretsmanager.GetSecretValue": 1,
            "pipe:sqs.SendMessageBatch": 10,
            "pipe:streams.dynamodb.GetRecords": 900,
            "event-source:sqs.ReceiveMessage": 4000,
            "event-source:sqs.DeleteMessageBatch": 11,
            "runner:sqs.CreateQueue": 5,
            "inventory:s3.GetObject": 100,
        },
    )


@pytest.fixture
def counts() -> tuple[RunCounts, str]:
    return run_counts(_report(), SimpleNamespace(ingest_memory_mb=256, processor_memory_mb=512))


def test_only_the_functions_and_the_services_on_their_behalf_are_billed(
    counts: tuple[RunCounts, str],
) -> None:
    billed, note = counts
    assert billed.conversations == 100
    assert billed.partner_events == 350
    assert billed.dynamodb_write_units == 450
    assert billed.dynamodb_read_units == 3
    assert billed.s3_puts == 100  # the runner's own GetObject inventory is not the pipeline's cost
    assert billed.secrets_manager_calls == 1
    assert billed.pipe_requests == 100
    # function 5 + pipe 10 + deletes 11 + receives modelled as ceil((100 + 5) / 10) = 11; not the 4000 polls
    assert billed.sqs_requests == 5 + 10 + 11 + 11
    assert "4000" in note


def test_lambda_usage_carries_invocations_durations_and_configured_memory(
    counts: tuple[RunCounts, str],
) -> None:
    billed, _ = counts
    assert billed.ingest.invocations == 350
    assert billed.processor.invocations == 2
    assert billed.processor.memory_mb == 512
    # 500 ms + 700 ms at 0.5 GB = 0.6 GB-s
    assert billed.processor.billed_gb_seconds() == pytest.approx(0.6)
