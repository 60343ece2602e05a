"""Pipe DLQ resolver: pointers into the buffer's stream become work messages again, or a DLQ entry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from genesys_bridge import contracts
from genesys_bridge.buffer import BufferTable
from genesys_bridge.metrics import MetricName, RecordingMetrics
from genesys_bridge.pipe_dlq import (
    MAX_EMPTY_READS,
    PipeDlqResolver,
    ResolutionOutcome,
    ResolverConfig,
    RetryLater,
    UnresolvedReason,
)
from tests.unit.domain.builders import REGION, TABLE, Aws, new_ids, sqs_event, sqs_record
from tests.unit.domain.stream_pointers import Stream, pipe_dlq_body, read_stream

UNRESOLVED = "pipe-unresolved"
# Shapes DynamoDB Streams accepts (a shard id of 28+ characters, sequence numbers of 21+ digits).
ARN = f"arn:aws:dynamodb:{REGION}:123456789012:table/{TABLE}/stream/2026-11-20T00:00:00.000"
SHARD = "shardId-00000001763596800000-0a1b2c3d"
START, END = "100000000000000000100", "100000000000000000120"
THROTTLED_SHARD = "shardId-00000001763596800000-ffffffff"


@pytest.fixture
def stream_aws(aws: Aws) -> Aws:
    aws.queue_urls[UNRESOLVED] = aws.sqs.create_queue(QueueName=UNRESOLVED)["QueueUrl"]
    return aws


def make_resolver(
    aws: Aws,
    metrics: RecordingMetrics | None = None,
    *,
    streams: Any = None,
    sqs: Any = None,
    stream_arn: str | None = None,
) -> PipeDlqResolver:
    arn = stream_arn or aws.dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    return PipeDlqResolver(
        streams_client=streams or aws.streams,
        sqs_client=sqs or aws.sqs,
        config=ResolverConfig(
            stream_arn=arn, work_queue_url=aws.work_url, unresolved_queue_url=aws.queue_urls[UNRESOLVED]
        ),
        metrics=metrics or RecordingMetrics(),
    )


def buffer_conversations(aws: Aws, ids: list[str]) -> Stream:
    buffer = BufferTable(aws.dynamodb, TABLE, ttl_hours=48)
    for conversation_id in ids:
        buffer.record_event(conversation_id)
    return read_stream(aws)


def work_ids(aws: Aws) -> list[str]:
    return [body["conversationId"] for body in aws.messages("work")]


def test_a_pointer_over_three_new_items_puts_each_conversation_on_the_work_queue_once(
    stream_aws: Aws,
) -> None:
    # Given three conversations buffered (moto writes two INSERTs for each item an UpdateItem creates)
    aws = stream_aws
    ids = new_ids(3)
    stream = buffer_conversations(aws, ids)
    assert len(stream.sequence_numbers(ids[0])) == 2
    metrics = RecordingMetrics()

    # When the resolver gets the pipe's pointer to the batch holding all their records
    first, last = stream.records[0], stream.records[-1]
    resolution = make_resolver(aws, metrics).resolve(
        stream.pointer(first["dynamodb"]["SequenceNumber"], last["dynamodb"]["SequenceNumber"], batch_size=6)
    )

    # Then each conversation is on the work queue exactly once, as the pipe's template renders it
    assert resolution.outcome is ResolutionOutcome.REQUEUED
    assert sorted(work_ids(aws)) == sorted(ids)
    assert resolution.conversation_ids == ids
    assert aws.messages(UNRESOLVED) == []


def test_only_the_records_inside_the_pointers_range_are_requeued(stream_aws: Aws) -> None:
    # Given three conversations buffered one after another
    aws = stream_aws
    before, inside, after = new_ids(3)
    stream = buffer_conversations(aws, [before, inside, after])

    # When the pointer covers only the middle conversation's records
    sequence_numbers = stream.sequence_numbers(inside)
    make_resolver(aws).resolve(stream.pointer(sequence_numbers[0], sequence_numbers[-1]))

    # Then only that conversation is requeued
    assert work_ids(aws) == [inside]


def test_modify_records_in_range_are_filtered_out_as_the_pipe_does(stream_aws: Aws) -> None:
    # Given a conversation whose item was later touched by a duplicate event and marked FETCHED
    aws = stream_aws
    [conversation_id] = new_ids(1)
    buffer = BufferTable(aws.dynamodb, TABLE, ttl_hours=48)
    buffer.record_event(conversation_id)
    buffer.record_event(conversation_id)
    buffer.mark_fetched(conversation_id, "conversations/conversation_date=2026-11-20/x.json")
    stream = read_stream(aws)
    modifies = stream.sequence_numbers(conversation_id, "MODIFY")
    assert len(modifies) == 2

    # When a pointer covers only the MODIFY records
    resolution = make_resolver(aws).resolve(stream.pointer(modifies[0], modifies[-1]))

    # Then the pointer is resolved and nothing is sent: the pipe's filter passes INSERTs only
    assert resolution.outcome is ResolutionOutcome.REQUEUED
    assert resolution.conversation_ids == []
    assert work_ids(aws) == []
    assert aws.messages(UNRESOLVED) == []


def _pointer_fields(**overrides: Any) -> str:
    body = json.loads(
        pipe_dlq_body(
            stream_arn=f"arn:aws:dynamodb:{REGION}:123456789012:table/{TABLE}/stream/x",
            shard_id=SHARD,
            start=START,
            end=END,
        )
    )
    body["DDBStreamBatchInfo"].update(overrides)
    return json.dumps(body)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        pytest.param("not json", "body is not JSON", id="not-json"),
        pytest.param("[1, 2]", "not a JSON object", id="json-list"),
        pytest.param('{"Records": []}', "no DDBStreamBatchInfo", id="no-pointer"),
        pytest.param(_pointer_fields(shardId=None), "shardId", id="no-shard"),
        pytest.param(
            _pointer_fields(startSequenceNumber="100000000000000000300"),
            "after endSequenceNumber",
            id="reversed",
        ),
        pytest.param(_pointer_fields(endSequenceNumber="12a"), "decimal sequence number", id="not-numeric"),
        pytest.param(_pointer_fields(shardId="shard-1"), "shardId must be", id="short-shard-id"),
    ],
)
def test_a_message_that_is_not_a_pointer_goes_to_the_unresolved_queue_with_its_reason(
    stream_aws: Aws, body: str, detail: str
) -> None:
    # Given a resolver
    aws = stream_aws

    # When a pipe DLQ message is not a well-formed pointer
    resolution = make_resolver(aws).resolve(body)

    # Then it is acknowledged into the unresolved queue with the reason and the message itself
    assert (resolution.outcome, resolution.reason) == (
        ResolutionOutcome.UNRESOLVED,
        UnresolvedReason.MALFORMED_POINTER,
    )
    [dead] = aws.messages(UNRESOLVED)
    assert dead["reason"] == "malformed_pointer"
    assert detail in dead["message"]
    original = dead.get("record", dead.get("body"))
    assert original == (json.loads(body) if body.startswith("{") else body)
    assert work_ids(aws) == []


def test_a_pointer_into_another_stream_is_not_read(stream_aws: Aws) -> None:
    # Given the resolver of the buffer's stream
    aws = stream_aws
    stream = buffer_conversations(aws, new_ids(1))
    other = stream.arn.replace(f"table/{TABLE}/", "table/someone-elses/")

    # When a pointer names another table's stream
    resolution = make_resolver(aws).resolve(
        pipe_dlq_body(stream_arn=other, shard_id=stream.shard_id, start=START, end=END)
    )

    # Then it goes to the unresolved queue, and nothing is requeued
    assert resolution.reason is UnresolvedReason.UNEXPECTED_STREAM
    [dead] = aws.messages(UNRESOLVED)
    assert other in dead["message"]
    assert work_ids(aws) == []


@pytest.fixture
def stubbed_streams() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("dynamodbstreams", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("operation", "code", "reason"),
    [
        ("get_shard_iterator", "TrimmedDataAccessException", UnresolvedReason.TRIMMED),
        ("get_shard_iterator", "ResourceNotFoundException", UnresolvedReason.STREAM_NOT_FOUND),
        ("get_shard_iterator", "ValidationException", UnresolvedReason.INVALID_POSITION),
        ("get_records", "ExpiredIteratorException", UnresolvedReason.EXPIRED_ITERATOR),
        ("get_records", "TrimmedDataAccessException", UnresolvedReason.TRIMMED),
    ],
)
def test_what_the_stream_no_longer_has_goes_to_the_unresolved_queue_with_a_typed_reason(
    stream_aws: Aws, stubbed_streams: tuple[Any, Stubber], operation: str, code: str, reason: UnresolvedReason
) -> None:
    # Given a stream that answers the read of a day-old pointer with `code`
    aws = stream_aws
    client, stubber = stubbed_streams
    if operation == "get_records":
        stubber.add_response("get_shard_iterator", {"ShardIterator": "iterator-1"})
    stubber.add_client_error(operation, service_error_code=code, service_message="as AWS says it")
    body = pipe_dlq_body(
        stream_arn=ARN,
        shard_id=SHARD,
        start=START,
        end=END,
        first_arrival=datetime.now(UTC) - timedelta(hours=25),
    )

    # When the resolver gets the pointer
    resolution = make_resolver(aws, streams=client, stream_arn=ARN).resolve(body)

    # Then it is acknowledged into the unresolved queue with the typed reason, the error and the age
    assert resolution.reason is reason
    [dead] = aws.messages(UNRESOLVED)
    assert dead["reason"] == reason.value
    assert code in dead["message"]
    assert "25.0 h old" in dead["message"]
    assert dead["record"] == json.loads(body)


def test_a_closed_shard_that_ends_before_the_range_is_range_not_found(
    stream_aws: Aws, stubbed_streams: tuple[Any, Stubber]
) -> None:
    # Given a shard that returns one record of the range and then ends (no next iterator)
    aws = stream_aws
    client, stubber = stubbed_streams
    stubber.add_response("get_shard_iterator", {"ShardIterator": "iterator-1"})
    stubber.add_response(
        "get_records",
        {"Records": [{"eventName": "MODIFY", "dynamodb": {"SequenceNumber": START}}]},
    )

    # When the resolver reads the pointer 100..120
    resolution = make_resolver(aws, streams=client, stream_arn=ARN).resolve(
        pipe_dlq_body(stream_arn=ARN, shard_id=SHARD, start=START, end=END)
    )

    # Then it says the range is not in the shard
    assert resolution.reason is UnresolvedReason.RANGE_NOT_FOUND
    [dead] = aws.messages(UNRESOLVED)
    assert f"ended before sequence number {END}" in dead["message"]


def test_reads_that_stay_empty_hand_the_pointer_back_for_a_later_try(
    stream_aws: Aws, stubbed_streams: tuple[Any, Stubber]
) -> None:
    # Given an open shard whose reads keep coming back empty
    aws = stream_aws
    client, stubber = stubbed_streams
    stubber.add_response("get_shard_iterator", {"ShardIterator": "iterator-1"})
    for n in range(MAX_EMPTY_READS):
        stubber.add_response("get_records", {"Records": [], "NextShardIterator": f"iterator-{n + 2}"})

    # When the resolver reads the pointer, Then it raises for SQS to deliver it again, dead-lettering nothing
    with pytest.raises(RetryLater, match="not read to its end"):
        make_resolver(aws, streams=client, stream_arn=ARN).resolve(
            pipe_dlq_body(stream_arn=ARN, shard_id=SHARD, start=START, end=END)
        )
    assert aws.messages(UNRESOLVED) == []


def test_an_insert_without_a_conversation_id_is_dead_lettered_with_the_record_and_the_rest_requeued(
    stream_aws: Aws, stubbed_streams: tuple[Any, Stubber]
) -> None:
    # Given a range with an INSERT of a conversation and an INSERT whose image lacks conversationId.S
    # (what the pipe's input template cannot render)
    aws = stream_aws
    client, stubber = stubbed_streams
    [conversation_id] = new_ids(1)
    keys = {contracts.ATTR_CONVERSATION_ID: {"S": conversation_id}}
    stubber.add_response("get_shard_iterator", {"ShardIterator": "iterator-1"})
    records = [
        {"eventName": "INSERT", "dynamodb": {"Keys": keys, "NewImage": keys, "SequenceNumber": START}},
        {"eventName": "INSERT", "dynamodb": {"Keys": {"id": {"N": "7"}}, "SequenceNumber": END}},
    ]
    stubber.add_response("get_records", {"Records": records, "NextShardIterator": "iterator-2"})

    # When the pointer over both is resolved
    resolution = make_resolver(aws, streams=client, stream_arn=ARN).resolve(
        pipe_dlq_body(stream_arn=ARN, shard_id=SHARD, start=START, end=END)
    )

    # Then the conversation is requeued and the other record is kept, itself, with the reason
    assert work_ids(aws) == [conversation_id]
    [undeliverable] = aws.messages(UNRESOLVED)
    assert undeliverable["reason"] == "undeliverable_record"
    assert undeliverable["streamRecord"]["dynamodb"]["Keys"] == {"id": {"N": "7"}}
    assert resolution.undeliverable == 1


def test_a_redriven_unresolved_message_is_resolved_like_the_original(stream_aws: Aws) -> None:
    # Given a pointer the resolver could not read once (its iterator expired), now in the unresolved queue
    aws = stream_aws
    [conversation_id] = new_ids(1)
    stream = buffer_conversations(aws, [conversation_id])
    sequence_numbers = stream.sequence_numbers(conversation_id)
    pointer = stream.pointer(sequence_numbers[0], sequence_numbers[-1])
    failing = boto3.client("dynamodbstreams", region_name=REGION)
    with Stubber(failing) as stubber:
        stubber.add_client_error("get_shard_iterator", service_error_code="ExpiredIteratorException")
        make_resolver(aws, streams=failing).resolve(pointer)
    [dead] = aws.messages(UNRESOLVED)

    # When an operator redrives it to the pipe DLQ and the resolver gets it again, within the 24 h
    resolution = make_resolver(aws).resolve(json.dumps(dead))

    # Then the conversation is on the work queue
    assert resolution.outcome is ResolutionOutcome.REQUEUED
    assert work_ids(aws) == [conversation_id]


def test_a_batch_acknowledges_resolved_and_unresolved_pointers_and_retries_throttled_ones(
    stream_aws: Aws,
) -> None:
    # Given a batch with a good pointer, a malformed message and a pointer whose read is throttled
    aws = stream_aws
    [conversation_id] = new_ids(1)
    stream = buffer_conversations(aws, [conversation_id])
    sequence_numbers = stream.sequence_numbers(conversation_id)
    good = sqs_record(stream.pointer(sequence_numbers[0], sequence_numbers[-1]), queue="pipe-dlq")
    malformed = sqs_record("{}", queue="pipe-dlq")
    throttled = sqs_record(
        pipe_dlq_body(stream_arn=stream.arn, shard_id=THROTTLED_SHARD, start=START, end=END),
        queue="pipe-dlq",
    )

    class ThrottledShard:
        """moto's stream, except that reads of one shard are throttled."""

        def __init__(self, inner: Any, shard_id: str) -> None:
            self._inner, self._shard_id = inner, shard_id

        def get_shard_iterator(self, **kwargs: Any) -> Any:
            if kwargs["ShardId"] == self._shard_id:
                raise ClientError(
                    {"Error": {"Code": "LimitExceededException", "Message": "slow down"}}, "GetShardIterator"
                )
            return self._inner.get_shard_iterator(**kwargs)

        def get_records(self, **kwargs: Any) -> Any:
            return self._inner.get_records(**kwargs)

    metrics = RecordingMetrics()
    resolver = make_resolver(aws, metrics, streams=ThrottledShard(aws.streams, THROTTLED_SHARD))

    # When the batch is processed
    response = resolver.process_batch(sqs_event([good, malformed, throttled]))

    # Then only the throttled pointer is reported failed (SQS delivers it again), the others are done
    assert response["batchItemFailures"] == [{"itemIdentifier": throttled["messageId"]}]
    assert work_ids(aws) == [conversation_id]
    assert [m["reason"] for m in aws.messages(UNRESOLVED)] == ["malformed_pointer"]
    assert metrics.counts == {
        MetricName.PIPE_POINTERS_RESOLVED: 1,
        MetricName.PIPE_POINTERS_UNRESOLVED: 1,
        MetricName.CONVERSATIONS_REQUEUED: 1,
    }


def test_a_work_queue_that_refuses_messages_hands_the_pointer_back(stream_aws: Aws) -> None:
    # Given a work queue that refuses one message of the batch send
    aws = stream_aws
    ids = new_ids(2)
    stream = buffer_conversations(aws, ids)
    sqs = boto3.client("sqs", region_name=REGION)
    with Stubber(sqs) as stubber:
        stubber.add_response(
            "send_message_batch",
            {
                "Successful": [{"Id": "0", "MessageId": "m-0", "MD5OfMessageBody": "0" * 32}],
                "Failed": [{"Id": "1", "SenderFault": False, "Code": "InternalError"}],
            },
        )
        first, last = stream.records[0], stream.records[-1]

        # When the pointer is resolved, Then it raises so that SQS delivers the pointer again
        with pytest.raises(RetryLater, match="refused 1 of 2"):
            make_resolver(aws, sqs=sqs).resolve(
                stream.pointer(first["dynamodb"]["SequenceNumber"], last["dynamodb"]["SequenceNumber"])
            )
