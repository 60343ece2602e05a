"""The pipe DLQ resolver: turns the pipe's dead-letter pointers back into work-queue messages.

When EventBridge Pipes gives up on a batch of the buffer's stream, its dead-letter queue receives a
pointer to the records (stream ARN, shard, first and last sequence numbers), not the records, which the
stream keeps 24 hours. This resolver reads the range while it can and sends each INSERT's conversation
id once to the work queue, as the pipe would have; what it cannot resolve goes to the unresolved queue
with a reason code (UnresolvedReason), and AWS errors are reported failed for SQS to deliver again.
docs/operations.md ("The pipe DLQ resolver") has the sources, each reason and its recovery. Re-sending
a conversation the pipe did deliver costs a fetch, never a copy: one key per conversation.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser.models.dynamodb import DDBStreamBatchInfo
from botocore.exceptions import ClientError, ParamValidationError
from pydantic import ValidationError, model_validator

from genesys_bridge import contracts
from genesys_bridge.metrics import COUNT, MetricName, MetricsSink
from genesys_bridge.work_queue import work_body

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_sqs import SQSClient

logger = logging.getLogger(__name__)

POINTER_KEY = "DDBStreamBatchInfo"
# GetRecords returns at most 1000 records per call
# (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetRecords.html).
GET_RECORDS_LIMIT = 1000
# A pipe batch holds at most 10,000 records: ten full reads, with room for short ones.
MAX_READS_PER_POINTER = 40
# Reads of an open shard that return nothing before the pointer is handed back to SQS for a later try.
MAX_EMPTY_READS = 5
SQS_MAX_BATCH = 10
MAX_REASON_CHARS = 1000
MIN_SHARD_ID_CHARS, MAX_SHARD_ID_CHARS = 28, 65


class UnresolvedReason(StrEnum):
    """Why a pointer (or one record of it) went to the unresolved queue instead of the work queue."""

    MALFORMED_POINTER = "malformed_pointer"  # not a Pipes dead-letter record of a DynamoDB stream
    UNEXPECTED_STREAM = "unexpected_stream"  # names a stream other than the buffer table's
    TRIMMED = "trimmed"  # the records are past the stream's 24 h retention
    EXPIRED_ITERATOR = "expired_iterator"  # the shard iterator expired before the range was read
    STREAM_NOT_FOUND = "stream_not_found"  # the stream or the shard no longer exists
    INVALID_POSITION = "invalid_position"  # the stream refused the shard id or sequence number
    RANGE_NOT_FOUND = "range_not_found"  # the shard ended before the pointer's last sequence number
    UNDELIVERABLE_RECORD = "undeliverable_record"  # an INSERT without a conversation id to send


# DynamoDB Streams errors that no retry of the same pointer can cure
# (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetShardIterator.html).
_TERMINAL_ERRORS = {
    "TrimmedDataAccessException": UnresolvedReason.TRIMMED,
    "ExpiredIteratorException": UnresolvedReason.EXPIRED_ITERATOR,
    "ResourceNotFoundException": UnresolvedReason.STREAM_NOT_FOUND,
    "ValidationException": UnresolvedReason.INVALID_POSITION,
}


class Unresolvable(Exception):
    """The pointer cannot be resolved, now or later: it goes to the unresolved queue with `reason`."""

    def __init__(self, reason: UnresolvedReason, message: str) -> None:
        super().__init__(f"{reason.value}: {message}")
        self.reason = reason
        self.message = message[:MAX_REASON_CHARS]


class RetryLater(Exception):
    """Not resolved on this delivery for a reason that may pass; SQS delivers the pointer again."""


class StreamBatchPointer(DDBStreamBatchInfo):
    """Powertools' model of `DDBStreamBatchInfo`, plus what resolving relies on: numeric sequence
    numbers, the first not after the last."""

    @model_validator(mode="after")
    def _numeric_range(self) -> StreamBatchPointer:
        # The lengths DynamoDB Streams accepts (API_streams_GetShardIterator.html): checked here so a
        # malformed pointer gets its reason instead of a client-side parameter error.
        if not MIN_SHARD_ID_CHARS <= len(self.shard_id) <= MAX_SHARD_ID_CHARS:
            raise ValueError(f"shardId must be {MIN_SHARD_ID_CHARS} to {MAX_SHARD_ID_CHARS} characters")
        for name in ("start_sequence_number", "end_sequence_number"):
            value = getattr(self, name)
            if not value.isascii() or not value.isdigit() or not 21 <= len(value) <= 40:
                raise ValueError(
                    f"{name} must be a decimal sequence number of 21 to 40 digits, got {value!r}"
                )
        if self.start > self.end:
            raise ValueError("startSequenceNumber is after endSequenceNumber")
        return self

    @property
    def start(self) -> int:
        return int(self.start_sequence_number)

    @property
    def end(self) -> int:
        return int(self.end_sequence_number)


def parse_pointer(body: str) -> tuple[StreamBatchPointer, dict[str, Any]]:
    """The pointer of a pipe DLQ message body, and the record that carried it.

    A message this resolver dead-lettered and an operator redrove (`make ops ARGS="redrive pipe-dlq"`)
    carries the original record under "record", and is resolved like the original.
    Raises Unresolvable(MALFORMED_POINTER) with the reason when the body is not a pointer.
    """
    try:
        payload = json.loads(body)
    except (TypeError, ValueError):
        raise Unresolvable(UnresolvedReason.MALFORMED_POINTER, "body is not JSON") from None
    if not isinstance(payload, dict):
        raise Unresolvable(UnresolvedReason.MALFORMED_POINTER, "body is not a JSON object")
    if isinstance(payload.get("record"), dict) and "reason" in payload:
        payload = payload["record"]
    info = payload.get(POINTER_KEY)
    if not isinstance(info, dict):
        raise Unresolvable(UnresolvedReason.MALFORMED_POINTER, f"no {POINTER_KEY} object in the body")
    try:
        pointer = StreamBatchPointer.model_validate(info)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or POINTER_KEY
        raise Unresolvable(
            UnresolvedReason.MALFORMED_POINTER, f"{POINTER_KEY}.{where}: {first['msg']}"
        ) from None
    return pointer, payload


class StreamRangeReader:
    """Reads the records of one pointer's range from its shard; the streams client is passed in."""

    def __init__(self, streams_client: DynamoDBStreamsClient) -> None:
        self._streams = streams_client

    def read(self, pointer: StreamBatchPointer) -> list[dict[str, Any]]:
        """Every record with start <= SequenceNumber <= end, oldest first.

        Raises Unresolvable for what a retry cannot cure and RetryLater for what it may; other AWS
        errors (throttling, internal errors) propagate, and SQS delivers the pointer again.
        """
        try:
            iterator: str | None = self._streams.get_shard_iterator(
                StreamArn=pointer.stream_arn,
                ShardId=pointer.shard_id,
                ShardIteratorType="AT_SEQUENCE_NUMBER",
                SequenceNumber=pointer.start_sequence_number,
            )["ShardIterator"]
            return self._read_from(iterator, pointer)
        except ClientError as error:
            terminal = _terminal(error, pointer)
            if terminal is None:
                raise
            raise terminal from error
        except ParamValidationError as error:
            raise Unresolvable(UnresolvedReason.MALFORMED_POINTER, str(error)) from None

    def _read_from(self, iterator: str | None, pointer: StreamBatchPointer) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        empty_reads = 0
        for _ in range(MAX_READS_PER_POINTER):
            if iterator is None:
                raise Unresolvable(
                    UnresolvedReason.RANGE_NOT_FOUND,
                    f"shard {pointer.shard_id} is closed and ended before sequence number "
                    f"{pointer.end_sequence_number} ({len(records)} records of the range read)",
                )
            response = self._streams.get_records(ShardIterator=iterator, Limit=GET_RECORDS_LIMIT)
            batch: list[Any] = list(response.get("Records", []))
            for record in batch:
                sequence_number = int(record["dynamodb"]["SequenceNumber"])
                if sequence_number > pointer.end:
                    return records
                if sequence_number >= pointer.start:
                    records.append(record)
                if sequence_number == pointer.end:
                    return records
            iterator = response.get("NextShardIterator")
            empty_reads = 0 if batch else empty_reads + 1
            if empty_reads >= MAX_EMPTY_READS:
                break
        raise RetryLater(
            f"range {pointer.start_sequence_number}..{pointer.end_sequence_number} of shard "
            f"{pointer.shard_id} not read to its end within {MAX_READS_PER_POINTER} reads"
        )


def _terminal(error: ClientError, pointer: StreamBatchPointer) -> Unresolvable | None:
    code = error.response.get("Error", {}).get("Code", "")
    reason = _TERMINAL_ERRORS.get(code)
    if reason is None:
        return None
    detail = error.response.get("Error", {}).get("Message", "")
    first = pointer.approximate_arrival_of_first_record
    age = datetime.now(UTC) - (first if first.tzinfo else first.replace(tzinfo=UTC))
    return Unresolvable(
        reason,
        f"{code} for shard {pointer.shard_id} from sequence number {pointer.start_sequence_number} "
        f"(first record about {age.total_seconds() / 3600:.1f} h old): {detail}",
    )


class ResolutionOutcome(StrEnum):
    REQUEUED = "requeued"  # the range was read; its conversations are on the work queue
    UNRESOLVED = "unresolved"  # sent to the unresolved queue with its reason


@dataclass(frozen=True)
class Resolution:
    outcome: ResolutionOutcome
    conversation_ids: list[str] = field(default_factory=list)
    reason: UnresolvedReason | None = None
    undeliverable: int = 0  # records of the range that went to the unresolved queue one by one


@dataclass(frozen=True)
class ResolverConfig:
    stream_arn: str  # the buffer table's stream: the only one pointers may name
    work_queue_url: str
    unresolved_queue_url: str


class PipeDlqResolver:
    """Resolves pipe DLQ batches; the streams and SQS clients and the metrics sink are passed in."""

    def __init__(
        self,
        *,
        streams_client: DynamoDBStreamsClient,
        sqs_client: SQSClient,
        config: ResolverConfig,
        metrics: MetricsSink,
    ) -> None:
        self._reader = StreamRangeReader(streams_client)
        self._sqs = sqs_client
        self._config = config
        self._metrics = metrics

    def process_batch(
        self, event: dict[str, Any], context: LambdaContext | None = None
    ) -> PartialItemFailureResponse:
        """One SQS event of pipe DLQ messages; returns the partial batch response."""
        counts: Counter[str] = Counter()

        def record_handler(record: SQSRecord) -> str:
            resolution = self.resolve(record.body)
            if resolution.outcome is ResolutionOutcome.REQUEUED:
                counts[MetricName.PIPE_POINTERS_RESOLVED] += 1
            counts[MetricName.PIPE_POINTERS_UNRESOLVED] += (
                int(resolution.outcome is ResolutionOutcome.UNRESOLVED) + resolution.undeliverable
            )
            counts[MetricName.CONVERSATIONS_REQUEUED] += len(resolution.conversation_ids)
            return resolution.outcome.value

        # A whole batch of throttled reads is a normal, retried outcome, not a function error.
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        response = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
        for name, value in counts.items():
            if value:
                self._metrics.add_metric(name, COUNT, value)
        logger.info(
            "pipe DLQ batch processed",
            extra={
                "records": len(event.get("Records") or []),
                "failures": len(response["batchItemFailures"]),
                **{f"count_{name}": value for name, value in counts.items()},
            },
        )
        return response

    def resolve(self, body: str) -> Resolution:
        """Resolve one pipe DLQ message body: requeue its conversations or dead-letter it with a reason.

        Raises (so SQS delivers the message again) on errors that may pass: RetryLater, AWS errors.
        """
        try:
            pointer, record = parse_pointer(body)
            if pointer.stream_arn != self._config.stream_arn:
                raise Unresolvable(
                    UnresolvedReason.UNEXPECTED_STREAM,
                    f"the pointer names {pointer.stream_arn}; this resolver reads {self._config.stream_arn}",
                )
            records = self._reader.read(pointer)
        except Unresolvable as unresolvable:
            self._dead_letter(unresolvable.reason, unresolvable.message, body)
            return Resolution(ResolutionOutcome.UNRESOLVED, reason=unresolvable.reason)

        ids, undeliverable = _inserted_ids(records)
        self._send([work_body(conversation_id) for conversation_id in ids])
        # After the sends: if one of these fails, the redelivery sends the bodies again (harmless).
        for stream_record, message in undeliverable:
            self._dead_letter(
                UnresolvedReason.UNDELIVERABLE_RECORD, message, body, stream_record=stream_record
            )
        logger.info(
            "pipe DLQ pointer resolved",
            extra={
                "shard_id": pointer.shard_id,
                "start_sequence_number": pointer.start_sequence_number,
                "end_sequence_number": pointer.end_sequence_number,
                "records": len(records),
                "requeued": len(ids),
                "undeliverable": len(undeliverable),
                "conversation_ids": ids,
                "pipe": record.get("context", {}).get("partnerResourceArn")
                if isinstance(record.get("context"), dict)
                else None,
            },
        )
        return Resolution(ResolutionOutcome.REQUEUED, conversation_ids=ids, undeliverable=len(undeliverable))

    def _send(self, bodies: list[str]) -> None:
        for start in range(0, len(bodies), SQS_MAX_BATCH):
            chunk = bodies[start : start + SQS_MAX_BATCH]
            response = self._sqs.send_message_batch(
                QueueUrl=self._config.work_queue_url,
                Entries=[{"Id": str(index), "MessageBody": text} for index, text in enumerate(chunk)],
            )
            failed = response.get("Failed") or []
            if failed:
                # The whole pointer is tried again: the bodies already sent are sent twice, harmlessly.
                codes = sorted({entry.get("Code", "?") for entry in failed})
                raise RetryLater(f"the work queue refused {len(failed)} of {len(chunk)} messages: {codes}")

    def _dead_letter(
        self,
        reason: UnresolvedReason,
        message: str,
        body: str,
        *,
        stream_record: dict[str, Any] | None = None,
    ) -> None:
        try:
            original: Any = json.loads(body)
        except (TypeError, ValueError):
            original = None
        if isinstance(original, dict) and isinstance(original.get("record"), dict) and "reason" in original:
            original = original["record"]  # a redriven message: keep the pipe's record, not our wrapper
        out: dict[str, Any] = {"reason": reason.value, "message": message[:MAX_REASON_CHARS]}
        if isinstance(original, dict):
            out["record"] = original
        else:
            out["body"] = body
        if stream_record is not None:
            out["streamRecord"] = stream_record
        self._sqs.send_message(
            QueueUrl=self._config.unresolved_queue_url,
            MessageBody=json.dumps(out, separators=(",", ":"), ensure_ascii=False, default=str),
        )
        logger.warning("pipe DLQ message unresolved", extra={"reason": reason.value, "detail": message})


def _inserted_ids(records: list[dict[str, Any]]) -> tuple[list[str], list[tuple[dict[str, Any], str]]]:
    """What the pipe sends for these records: each INSERT's conversation id, once (an item created again
    after its TTL removed it has a second INSERT in range), and the INSERTs it could not render."""
    ids: dict[str, None] = {}  # insertion-ordered set
    undeliverable: list[tuple[dict[str, Any], str]] = []
    for record in records:
        if record.get("eventName") != "INSERT":
            continue  # contracts.PIPE_FILTER_PATTERN: the pipe drops MODIFY and REMOVE
        image = record.get("dynamodb", {}).get("NewImage")
        attribute = image.get(contracts.ATTR_CONVERSATION_ID) if isinstance(image, dict) else None
        value = attribute.get("S") if isinstance(attribute, dict) else None
        if isinstance(value, str):
            ids.setdefault(value)
        else:
            reason = f"no string NewImage.{contracts.ATTR_CONVERSATION_ID}.S for the pipe's input template"
            undeliverable.append((record, reason))
    return list(ids), undeliverable
