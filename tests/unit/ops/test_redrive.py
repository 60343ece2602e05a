"""`redrive` and `quarantine --replay`: dead letters back into the pipeline, with counts before and after."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from ops.errors import CommandFailed, OpsError
from ops.queues import Queues
from tests.unit.domain.builders import REGION
from tests.unit.ops.conftest import INGEST_FUNCTION, Deployed

CONVERSATION_ID = "0a5f8e21-9c43-4d7b-b612-3e8d4c7a9f10"


def test_the_work_dlq_goes_back_to_the_work_queue(deployed: Deployed) -> None:
    # Given three conversations in the work DLQ and none waiting
    for _ in range(3):
        deployed.send("work-dlq", {"reason": "not_fetched_max_age", "conversationId": CONVERSATION_ID})

    # When the work DLQ is redriven
    result = deployed.ops.redrive("work-dlq", wait_s=5)

    # Then SQS moved them back to the work queue, and the counts before and after say so
    assert deployed.sqs.started == [{"SourceArn": deployed.ops.queues.arn(deployed.urls["work-dlq"])}]
    assert result["moved"] == 3
    assert result["finished"] is True
    assert result["before"] == {
        "work-dlq": {"visible": 3, "in_flight": 0, "delayed": 0},
        "work": {"visible": 0, "in_flight": 0, "delayed": 0},
    }
    assert result["after"]["work-dlq"]["visible"] == 0
    assert result["after"]["work"]["visible"] == 3


def test_redrive_pipe_dlq_gives_the_unresolved_pointers_back_to_the_resolver(deployed: Deployed) -> None:
    # Given a pointer the resolver could not resolve
    deployed.send("pipe-unresolved", {"reason": "expired_iterator", "record": {"DDBStreamBatchInfo": {}}})

    # When the pipe DLQ is redriven
    result = deployed.ops.redrive("pipe-dlq", wait_s=5)

    # Then the unresolved message is back in the pipe DLQ, where the resolver reads it again
    assert (result["queue"], result["to"], result["moved"]) == ("pipe-unresolved", "pipe-dlq", 1)
    assert [body["reason"] for body in deployed.bodies("pipe-dlq")] == ["expired_iterator"]


def test_an_empty_dead_letter_queue_starts_no_move_task(deployed: Deployed) -> None:
    result = deployed.ops.redrive("work-dlq", wait_s=5)
    assert result["moved"] == 0
    assert result["task"] is None
    assert deployed.sqs.started == []


def test_the_move_task_request_names_only_the_source_so_sqs_returns_messages_where_they_came_from() -> None:
    # Given SQS (stubbed: moto has no move tasks) with a task that finishes on the second poll
    sqs = boto3.client("sqs", region_name=REGION)
    source_arn = "arn:aws:sqs:eu-west-1:123456789012:work-dlq"
    with Stubber(sqs) as stubber:
        stubber.add_response(
            "get_queue_attributes",
            {"Attributes": {"QueueArn": source_arn}},
            {"QueueUrl": "u", "AttributeNames": ["QueueArn"]},
        )
        stubber.add_response("start_message_move_task", {"TaskHandle": "h"}, {"SourceArn": source_arn})
        for status in ("RUNNING", "COMPLETED"):
            stubber.add_response(
                "list_message_move_tasks",
                {"Results": [{"Status": status, "ApproximateNumberOfMessagesMoved": 7}]},
                {"SourceArn": source_arn, "MaxResults": 1},
            )
        naps: list[float] = []

        # When the move is started and followed
        task, finished = Queues(sqs, sleep=naps.append).move_back("u", wait_s=60, poll_s=0.5)

    # Then it finished with the count, after one pause between polls
    assert (task["Status"], task["ApproximateNumberOfMessagesMoved"], finished) == ("COMPLETED", 7, True)
    assert naps == [0.5]


def test_work_is_not_a_redrive_target(deployed: Deployed) -> None:
    with pytest.raises(OpsError, match="cannot redrive 'work'"):
        deployed.ops.redrive("work")


@pytest.fixture
def ingest(deployed: Deployed) -> Iterator[Stubber]:
    """The ingest function's Invoke, stubbed (moto cannot run a function without Docker)."""
    client = boto3.client("lambda", region_name=REGION)
    deployed.ops.clients.lambda_ = client
    with Stubber(client) as stubber:
        yield stubber


def expect_invoke(stubber: Stubber, event: Any, status: int = 202) -> None:
    stubber.add_response(
        "invoke",
        {"StatusCode": status},
        {"FunctionName": INGEST_FUNCTION, "InvocationType": "Event", "Payload": json.dumps(event).encode()},
    )


def test_quarantine_replay_invokes_the_ingest_function_with_each_event_and_keeps_what_it_cannot(
    deployed: Deployed, ingest: Stubber
) -> None:
    # Given two quarantined events and one too large to have been kept whole
    events = [{"id": "event-1"}, {"id": "event-2"}]
    for event in events:
        deployed.send("quarantine", {"reason": "invalid_detail_type", "message": "m", "event": event})
    deployed.send("quarantine", {"reason": "too_large", "event": '{"id": "ev', "eventTruncated": True})
    for event in events:
        expect_invoke(ingest, event)

    # When the quarantine is replayed
    result = deployed.ops.redrive("quarantine")

    # Then each whole event went to the ingest function asynchronously and left the queue; the
    # truncated one stayed, with why
    ingest.assert_no_pending_responses()
    assert result["replayed"] == 2
    assert result["kept"] == {"the event was truncated to fit the queue": 1}
    assert (result["before"]["quarantine"]["visible"], result["after"]["quarantine"]["visible"]) == (3, 1)


def test_replay_by_reason_leaves_the_other_reasons_in_place(deployed: Deployed, ingest: Stubber) -> None:
    # Given events quarantined for two reasons
    deployed.send("quarantine", {"reason": "unknown_topic", "event": {"id": "new-topic"}})
    deployed.send("quarantine", {"reason": "invalid_conversation_id", "event": {"id": "bad-id"}})
    expect_invoke(ingest, {"id": "new-topic"})

    # When only one reason is replayed
    result = deployed.ops.redrive("quarantine", reason="unknown_topic")

    # Then only that event was invoked, and the other is still quarantined
    assert result["replayed"] == 1
    assert [body["reason"] for body in deployed.bodies("quarantine")] == ["invalid_conversation_id"]


def test_rule_dlq_and_failed_invocations_replay_the_original_events(
    deployed: Deployed, ingest: Stubber
) -> None:
    # Given an event EventBridge could not deliver and one the function failed on
    deployed.send("rule-dlq", {"id": "from-rule-dlq"})
    deployed.send("failed-invocations", {"requestContext": {}, "requestPayload": {"id": "from-destination"}})
    expect_invoke(ingest, {"id": "from-rule-dlq"})
    expect_invoke(ingest, {"id": "from-destination"})

    # When both are redriven
    results = [deployed.ops.redrive("rule-dlq"), deployed.ops.redrive("failed-invocations")]

    # Then each original event went to the ingest function and both queues are empty
    assert [r["replayed"] for r in results] == [1, 1]
    assert deployed.bodies("rule-dlq") == deployed.bodies("failed-invocations") == []


def test_a_refused_invocation_stops_the_replay_and_deletes_nothing_it_did_not_deliver(
    deployed: Deployed, ingest: Stubber
) -> None:
    # Given two quarantined events and a Lambda that throttles the first invocation
    deployed.send("quarantine", {"reason": "r", "event": {"id": "event-1"}})
    deployed.send("quarantine", {"reason": "r", "event": {"id": "event-2"}})
    ingest.add_client_error(
        "invoke",
        service_error_code="TooManyRequestsException",
        expected_params={"FunctionName": INGEST_FUNCTION, "InvocationType": "Event", "Payload": ANY},
    )

    # When the quarantine is replayed, Then the command fails saying why
    with pytest.raises(CommandFailed, match="TooManyRequestsException"):
        deployed.ops.redrive("quarantine")
    # and both events are still quarantined and visible
    assert deployed.visible("quarantine") == 2
