"""Ingest: one buffer write per good event, bad input to quarantine with a reason, AWS errors raise."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from genesys_bridge import contracts
from genesys_bridge.buffer import BufferTable
from genesys_bridge.events import MAX_EVENT_BYTES, InvalidReason
from genesys_bridge.ingest import SQS_MAX_MESSAGE_BYTES, IngestOutcome, IngestService, quarantine_body
from genesys_bridge.metrics import MetricName, RecordingMetrics
from tests.unit.domain.builders import DEV_TOPICS, FIXTURE_CONVERSATION_ID, TABLE, Aws, conversation_event
from tests.unit.domain.test_events import BAD_INPUT_CASES


def make_service(aws: Aws, metrics: RecordingMetrics, table: str = TABLE) -> IngestService:
    return IngestService(
        buffer=BufferTable(aws.dynamodb, table, ttl_hours=48),
        sqs_client=aws.sqs,
        quarantine_queue_url=aws.quarantine_url,
        metrics=metrics,
        topics=DEV_TOPICS,
    )


def test_events_of_one_conversation_buffer_once_and_count_duplicates(aws: Aws) -> None:
    # Given the ingest service
    metrics = RecordingMetrics()
    service = make_service(aws, metrics)

    # When three events of one conversation arrive (customer.end, a redelivery of it, acw)
    first = conversation_event(topic="customer.end")
    results = [service.handle(first), service.handle(first), service.handle(conversation_event(topic="acw"))]

    # Then the first created the item and the others were duplicates
    assert [r.outcome for r in results] == [
        IngestOutcome.CREATED,
        IngestOutcome.DUPLICATE,
        IngestOutcome.DUPLICATE,
    ]
    assert [item[contracts.ATTR_CONVERSATION_ID] for item in aws.items()] == [FIXTURE_CONVERSATION_ID]
    assert metrics.counts == {MetricName.EVENTS_RECEIVED: 3, MetricName.DUPLICATE_EVENTS: 2}
    assert aws.messages("quarantine") == []


@pytest.mark.parametrize(("event", "reason"), BAD_INPUT_CASES)
def test_each_kind_of_bad_input_lands_in_quarantine_with_its_reason(
    aws: Aws, event: Any, reason: InvalidReason
) -> None:
    # Given the ingest service
    metrics = RecordingMetrics()

    # When a bad input arrives
    result = make_service(aws, metrics).handle(event)

    # Then it is quarantined (not raised, not dropped) with its reason, and nothing is buffered
    assert (result.outcome, result.reason) == (IngestOutcome.QUARANTINED, reason)
    [message] = aws.messages("quarantine")
    assert message["reason"] == reason.value
    assert message["message"]
    if reason is InvalidReason.TOO_LARGE:
        assert message["eventTruncated"] is True
        assert isinstance(message["event"], str)
        assert len(message["event"]) > 200_000
    else:
        assert message["event"] == event
    assert aws.items() == []
    assert metrics.counts == {MetricName.EVENTS_RECEIVED: 1, MetricName.EVENTS_QUARANTINED: 1}


def test_a_quarantined_event_is_truncated_to_fit_sqs_even_when_escaping_inflates_it() -> None:
    # Given an event far over the limit whose text doubles in size when JSON-escaped (quotes)
    event = {"detail": {"eventBody": {"blob": '"' * MAX_EVENT_BYTES * 2}}}

    # When the quarantine body is built
    body = quarantine_body(InvalidReason.TOO_LARGE, "too big", event)

    # Then it fits SQS and keeps as much of the event as fits
    assert len(body.encode("utf-8")) <= SQS_MAX_MESSAGE_BYTES
    parsed = json.loads(body)
    assert parsed["eventTruncated"] is True
    assert parsed["eventBytes"] > SQS_MAX_MESSAGE_BYTES
    assert len(parsed["event"]) > 100_000
    assert json.dumps(event, separators=(",", ":")).startswith(parsed["event"])


def test_aws_errors_raise_so_lambda_retries(aws: Aws) -> None:
    # Given a buffer table that does not exist (or DynamoDB failing)
    service = make_service(aws, RecordingMetrics(), table="missing-table")

    # When a good event arrives, then the AWS error propagates (no quarantine: the event was fine)
    with pytest.raises(ClientError):
        service.handle(conversation_event())
    assert aws.messages("quarantine") == []


def test_a_quarantine_failure_raises_rather_than_drop_the_event(aws: Aws) -> None:
    # Given a quarantine queue URL that does not exist
    service = IngestService(
        buffer=BufferTable(aws.dynamodb, TABLE),
        sqs_client=aws.sqs,
        quarantine_queue_url=aws.quarantine_url + "-gone",
        metrics=RecordingMetrics(),
        topics=DEV_TOPICS,
    )

    # When a bad event arrives, then the failure raises so Lambda's retries and destination keep it
    with pytest.raises(ClientError):
        service.handle({"not": "an event"})


def test_a_deeply_nested_event_is_quarantined_down_to_the_depth_limit(aws: Aws) -> None:
    # Given an event nested a thousand levels deep (JSON encoding it whole would recurse)
    event = conversation_event()
    deep: Any = "bottom"
    for _ in range(1000):
        deep = [deep]
    event["detail"]["metadata"] = deep

    # When it arrives
    result = make_service(aws, RecordingMetrics()).handle(event)

    # Then it is quarantined as too_deep, its upper levels kept and marked pruned, nothing buffered
    assert (result.outcome, result.reason) == (IngestOutcome.QUARANTINED, InvalidReason.TOO_DEEP)
    [message] = aws.messages("quarantine")
    assert message["reason"] == "too_deep"
    assert message["event"]["eventPruned"] is True
    assert message["event"]["event"]["id"] == event["id"]
    assert aws.items() == []
