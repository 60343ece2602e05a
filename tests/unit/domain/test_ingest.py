"""Ingest: one buffer write per good event, bad input to quarantine with a reason, AWS errors raise."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from genesys_bridge import contracts
from genesys_bridge.buffer import BufferTable
from genesys_bridge.contracts import format_timestamp
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
        work_queue_url=aws.work_url,
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
        work_queue_url=aws.work_url,
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


# -- a conversation that ends again after its item concluded ---------------------------------------------

LANDED_AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def _concluded(aws: Aws, status: str) -> None:
    """The fixture conversation's item as the processor leaves it at LANDED_AT: FETCHED or LEFT_OPEN."""
    buffer = BufferTable(aws.dynamodb, TABLE, ttl_hours=48, clock=lambda: LANDED_AT - timedelta(hours=1))
    buffer.record_event(FIXTURE_CONVERSATION_ID)
    concluding = BufferTable(aws.dynamodb, TABLE, clock=lambda: LANDED_AT)
    if status == contracts.STATUS_FETCHED:
        concluding.mark_fetched(FIXTURE_CONVERSATION_ID, "conversations/conversation_date=2026-11-20/x.json")
    else:
        concluding.mark_left_open(FIXTURE_CONVERSATION_ID)


def _event_at(moment: datetime | None) -> dict[str, Any]:
    event = conversation_event()
    if moment is None:
        del event["detail"]["timestamp"]
    else:
        event["detail"]["timestamp"] = moment.isoformat().replace("+00:00", "Z")
    return event


def _service_at(aws: Aws, metrics: RecordingMetrics, now: datetime) -> IngestService:
    return IngestService(
        buffer=BufferTable(aws.dynamodb, TABLE, ttl_hours=48),
        sqs_client=aws.sqs,
        quarantine_queue_url=aws.quarantine_url,
        metrics=metrics,
        topics=DEV_TOPICS,
        work_queue_url=aws.work_url,
        clock=lambda: now,
    )


@pytest.mark.parametrize("status", [contracts.STATUS_FETCHED, contracts.STATUS_LEFT_OPEN])
def test_an_end_event_after_the_item_concluded_queues_a_fresh_fetch(aws: Aws, status: str) -> None:
    # Given a conversation whose item concluded (landed, or left open) at LANDED_AT
    _concluded(aws, status)
    metrics = RecordingMetrics()
    arrived = LANDED_AT + timedelta(hours=30)

    # When it ends again a day later (a reopened messaging thread) and its end event arrives
    result = _service_at(aws, metrics, arrived).handle(_event_at(LANDED_AT + timedelta(hours=29)))

    # Then ingest itself queues the work body the pipe would write, and the item starts a new round
    assert result.outcome is IngestOutcome.ENDED_AGAIN
    assert aws.messages("work") == [{"conversationId": FIXTURE_CONVERSATION_ID}]
    item = aws.item(FIXTURE_CONVERSATION_ID)
    assert item is not None
    assert item[contracts.ATTR_STATUS] == contracts.STATUS_PENDING
    assert item[contracts.ATTR_FIRST_EVENT_AT] == format_timestamp(arrived)
    assert item[contracts.ATTR_REQUEUES] == "1"
    assert metrics.counts[MetricName.CONVERSATIONS_ENDED_AGAIN] == 1


def test_an_end_event_without_a_timestamp_counts_from_its_arrival(aws: Aws) -> None:
    _concluded(aws, contracts.STATUS_FETCHED)
    result = _service_at(aws, RecordingMetrics(), LANDED_AT + timedelta(minutes=1)).handle(_event_at(None))
    assert result.outcome is IngestOutcome.ENDED_AGAIN
    assert aws.messages("work") == [{"conversationId": FIXTURE_CONVERSATION_ID}]


def test_a_late_redelivery_of_an_event_from_before_the_landing_queues_nothing(aws: Aws) -> None:
    # Given a landed conversation
    _concluded(aws, contracts.STATUS_FETCHED)
    metrics = RecordingMetrics()

    # When EventBridge redelivers, hours later, an end event that happened before the landing
    late = _service_at(aws, metrics, LANDED_AT + timedelta(hours=5))
    result = late.handle(_event_at(LANDED_AT - timedelta(minutes=2)))

    # Then it is a duplicate and nothing is queued
    assert result.outcome is IngestOutcome.DUPLICATE
    assert aws.messages("work") == []
    assert MetricName.CONVERSATIONS_ENDED_AGAIN not in metrics.counts


@pytest.mark.parametrize("timestamp", ["yesterday", "2999-01-01T00:00:00.000Z"])
def test_an_unreadable_or_future_timestamp_counts_as_the_arrival(aws: Aws, timestamp: str) -> None:
    # Given a landed conversation, and an end event arriving a minute later whose timestamp is not a
    # time, or lies in the future
    _concluded(aws, contracts.STATUS_FETCHED)
    event = conversation_event()
    event["detail"]["timestamp"] = timestamp
    arrived = LANDED_AT + timedelta(minutes=1)

    # When it arrives, then it counts as happening at its arrival: after the landing
    assert _service_at(aws, RecordingMetrics(), arrived).handle(event).outcome is IngestOutcome.ENDED_AGAIN
    item = aws.item(FIXTURE_CONVERSATION_ID)
    assert item is not None
    assert item[contracts.ATTR_FIRST_EVENT_AT] == format_timestamp(arrived)


def test_the_second_end_event_of_a_new_ending_queues_nothing_more(aws: Aws) -> None:
    # Given a landed conversation that ended again: customer.end, then acw of the same ending
    _concluded(aws, contracts.STATUS_FETCHED)
    service = _service_at(aws, RecordingMetrics(), LANDED_AT + timedelta(hours=2))
    again = LANDED_AT + timedelta(hours=1)

    # When both arrive
    outcomes = [
        service.handle(_event_at(again)).outcome,
        service.handle(_event_at(again + timedelta(minutes=3))).outcome,
    ]

    # Then one fetch is queued: the item is PENDING again after the first
    assert outcomes == [IngestOutcome.ENDED_AGAIN, IngestOutcome.DUPLICATE]
    assert len(aws.messages("work")) == 1


def test_a_pending_or_failed_item_is_never_requeued_by_an_end_event(aws: Aws) -> None:
    # Given a conversation whose item is FAILED (never in analytics), and a later event of it
    buffer = BufferTable(aws.dynamodb, TABLE, ttl_hours=48, clock=lambda: LANDED_AT)
    buffer.record_event(FIXTURE_CONVERSATION_ID)
    buffer.mark_failed(FIXTURE_CONVERSATION_ID, "not_ready_max_age: never showed up")
    result = _service_at(aws, RecordingMetrics(), LANDED_AT + timedelta(days=1)).handle(
        _event_at(LANDED_AT + timedelta(hours=20))
    )
    # Then it stays a duplicate: an operator redrives a FAILED conversation from the DLQ
    assert result.outcome is IngestOutcome.DUPLICATE
    assert aws.messages("work") == []
