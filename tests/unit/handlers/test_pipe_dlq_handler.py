"""The pipe DLQ Lambda handler end to end on moto: pointers in, work messages and metrics out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from genesys_bridge import contracts
from genesys_bridge.buffer import BufferTable
from lambdas.pipe_dlq import handler as pipe_dlq
from tests.unit.domain.builders import TABLE, Aws, LambdaContextStub, new_ids, sqs_event, sqs_record
from tests.unit.domain.stream_pointers import read_stream
from tests.unit.handlers.test_ingest_handler import emitted_metrics


@pytest.fixture
def resolver_env(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Aws:
    aws.queue_urls["pipe-unresolved"] = aws.sqs.create_queue(QueueName="pipe-unresolved")["QueueUrl"]
    stream_arn = aws.dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    monkeypatch.setenv(contracts.BUFFER_STREAM_ARN, stream_arn)
    monkeypatch.setenv(contracts.WORK_QUEUE_URL, aws.work_url)
    monkeypatch.setenv(contracts.PIPE_UNRESOLVED_QUEUE_URL, aws.queue_urls["pipe-unresolved"])
    return aws


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = pipe_dlq.handler(event, LambdaContextStub(function_name="pipe-dlq"))
    return result


def test_a_pointer_batch_requeues_its_conversations_and_reports_no_failures(
    resolver_env: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given two conversations whose pipe delivery failed, and the pipe's pointer to that batch
    aws = resolver_env
    ids = new_ids(2)
    buffer = BufferTable(aws.dynamodb, TABLE, ttl_hours=48)
    for conversation_id in ids:
        buffer.record_event(conversation_id)
    stream = read_stream(aws)
    first, last = stream.records[0], stream.records[-1]
    pointer = stream.pointer(first["dynamodb"]["SequenceNumber"], last["dynamodb"]["SequenceNumber"])

    # When the function gets it from the pipe DLQ, with a malformed message beside it
    response = invoke(sqs_event([sqs_record(pointer), sqs_record("not a pointer")]))

    # Then both conversations are on the work queue, the malformed message is unresolved with its
    # reason, nothing is handed back to SQS, and the counts are published as metrics
    assert response == {"batchItemFailures": []}
    assert sorted(body["conversationId"] for body in aws.messages("work")) == sorted(ids)
    assert [m["reason"] for m in aws.messages("pipe-unresolved")] == ["malformed_pointer"]
    assert emitted_metrics(capsys.readouterr().out) == {
        "PipePointersResolved": 1,
        "PipePointersUnresolved": 1,
        "ConversationsRequeued": 2,
    }


def test_a_missing_setting_fails_the_first_invocation_naming_the_variable(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given no resolver variables (the module imported fine without them)
    for name in (contracts.BUFFER_STREAM_ARN, contracts.PIPE_UNRESOLVED_QUEUE_URL):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(contracts.WORK_QUEUE_URL, aws.work_url)

    # When the function is invoked, Then it fails loudly naming each missing variable
    with pytest.raises(ValidationError) as raised:
        invoke(sqs_event([sqs_record(json.dumps({}))]))
    assert contracts.BUFFER_STREAM_ARN in str(raised.value)
    assert contracts.PIPE_UNRESOLVED_QUEUE_URL in str(raised.value)


def test_a_stream_arn_that_is_not_one_is_refused_at_the_first_invocation(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the table's ARN where the stream's belongs
    monkeypatch.setenv(contracts.BUFFER_STREAM_ARN, f"arn:aws:dynamodb:eu-west-1:123456789012:table/{TABLE}")
    monkeypatch.setenv(contracts.WORK_QUEUE_URL, aws.work_url)
    monkeypatch.setenv(contracts.PIPE_UNRESOLVED_QUEUE_URL, aws.work_url)

    # When the function is invoked, Then it names the variable
    with pytest.raises(ValidationError, match=contracts.BUFFER_STREAM_ARN):
        invoke(sqs_event([sqs_record("{}")]))
