"""The processor service: an SQS batch of conversation ids in, details in S3 and a partial batch response out.

The batch is worked in two phases. First, batch-wide: parse every body, fetch the unique ids from
Genesys in chunks (one request per chunk when nothing fails), and start each message's own work
(land + mark, back off, or dead-letter) on a small thread pool. Then Powertools' BatchProcessor walks
the records and each record's outcome becomes success or a reported failure. Outcomes are decided by
exception *types* (RetryLater, GenesysApiError.status), never by reading error messages.

Per message:
- ended conversation   -> S3 object, buffer item FETCHED with resultKey, message acknowledged
- absent or not ended   -> not ready: visibility pushed out with growing backoff, message reported failed;
                           once NOT_READY_MAX_AGE past firstEventAt: item FAILED, DLQ, acknowledged
- 400 for its chunk     -> the chunk is bisected; the ids Genesys rejects alone: FAILED, DLQ, acknowledged
- RetryLater / other API error -> deferred: reported failed, nothing marked, back on the queue on the
                           not-ready schedule (never before a Retry-After); past the max age: FAILED, DLQ
- credentials refused   -> the invocation fails (alarm): no conversation is blamed for it
- body not the contract -> DLQ with the reason, acknowledged
- duplicate id in batch -> acknowledged; the first message of that id carries the conversation
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from genesys_bridge import contracts
from genesys_bridge.buffer import BufferTable, utc_now
from genesys_bridge.events import UUID_RE
from genesys_bridge.genesys.errors import GenesysApiError, GenesysAuthError, GenesysError, RetryLater
from genesys_bridge.metrics import COUNT, MetricName, MetricsSink
from genesys_bridge.results import InvalidConversation, ResultsWriter

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_sqs import SQSClient

    from genesys_bridge.settings import ProcessorSettings

logger = logging.getLogger(__name__)

# What the deadline leaves for the work after the fetch (S3 puts, buffer updates, SQS calls, the
# response): a fixed part plus a little per record, and never more than half the time that is left.
DEADLINE_MARGIN_SECONDS = 5.0
PER_RECORD_MARGIN_SECONDS = 0.02
# Used when the caller has no Lambda context (scripts); Lambda always provides one.
DEFAULT_REMAINING_MS = 60_000
# The text of a failure kept on the item and in the DLQ message: enough to act on, bounded.
MAX_REASON_CHARS = 1000


class ConversationSource(Protocol):
    """The part of genesys_bridge.genesys.GenesysClient the processor uses."""

    def get_conversation_details(
        self, ids: Sequence[str], deadline: float | None = None
    ) -> list[dict[str, Any]]: ...


class FailureReason(StrEnum):
    """Why a message was dead-lettered (and its item marked FAILED, when there is an item)."""

    INVALID_BODY = "invalid_body"
    NOT_READY_MAX_AGE = "not_ready_max_age"
    GENESYS_REJECTED = "genesys_rejected"
    INVALID_CONVERSATION = "invalid_conversation"
    NOT_FETCHED_MAX_AGE = "not_fetched_max_age"


class RecordFailed(Exception):
    """Base of the outcomes that report a message as failed, so SQS delivers it again."""


class NotReady(RecordFailed):
    """The conversation is not (yet) ended in analytics; the message comes back after `visibility` s."""

    def __init__(self, conversation_id: str, visibility: int | None) -> None:
        super().__init__(f"conversation {conversation_id} not ready; retry in {visibility} s")
        self.conversation_id = conversation_id
        self.visibility = visibility


class Deferred(RecordFailed):
    """Genesys could not be asked within this invocation (rate limit, outage, non-400 API error)."""

    def __init__(self, conversation_id: str, cause: GenesysError) -> None:
        super().__init__(f"conversation {conversation_id} deferred: {type(cause).__name__}")
        self.conversation_id = conversation_id
        self.cause = cause


class RecordOutcome(StrEnum):
    FETCHED = "fetched"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"


@dataclass(frozen=True)
class ProcessorConfig:
    work_queue_url: str
    dlq_url: str
    ids_per_request: int = 100
    not_ready_max_age: timedelta = timedelta(minutes=240)
    retry_base_seconds: int = 60
    retry_max_seconds: int = 900
    # Threads for the per-message work (S3, DynamoDB, SQS calls); boto3 clients are thread-safe.
    workers: int = 16

    @classmethod
    def from_settings(cls, settings: ProcessorSettings) -> ProcessorConfig:
        return cls(
            work_queue_url=settings.work_queue_url,
            dlq_url=settings.work_dlq_url,
            ids_per_request=settings.genesys_ids_per_request,
            not_ready_max_age=timedelta(minutes=settings.not_ready_max_age_minutes),
            retry_base_seconds=settings.not_ready_retry_base_seconds,
            retry_max_seconds=settings.not_ready_retry_max_seconds,
        )


def invocation_deadline(remaining_ms: int, record_count: int, now: float) -> float:
    """The monotonic time by which Genesys calls must be done: now + remaining time - margin."""
    remaining = remaining_ms / 1000
    margin = min(DEADLINE_MARGIN_SECONDS + PER_RECORD_MARGIN_SECONDS * record_count, remaining / 2)
    return now + remaining - margin


def not_ready_backoff(receive_count: int, base_seconds: int, max_seconds: int, seconds_left: float) -> int:
    """base * 2**(receive_count - 1), capped at max_seconds and at the time left until the max age
    (so the final check happens on time), and at least 1 s."""
    exponent = min(max(receive_count, 1) - 1, 30)  # 2**30 s is far beyond any cap: avoids huge ints
    delay = min(base_seconds * 2**exponent, max_seconds, math.ceil(max(seconds_left, 0)))
    return int(max(1, min(delay, contracts.SQS_MAX_VISIBILITY_SECONDS)))


def parse_body(body: str) -> str:
    """The conversation id of a work-queue body `{"conversationId": "<uuid>"}` (extra fields allowed).

    Raises ValueError with the reason when the body is not the contract.
    """
    try:
        payload = json.loads(body)
    except (TypeError, ValueError):
        raise ValueError("body is not JSON") from None
    if not isinstance(payload, dict):
        raise ValueError("body is not a JSON object")
    conversation_id = payload.get("conversationId")
    if not isinstance(conversation_id, str):
        raise ValueError("conversationId is missing or not a string")
    if not UUID_RE.match(conversation_id):
        raise ValueError("conversationId is not a UUID")
    return conversation_id.lower()


@dataclass
class FetchResult:
    """What Genesys said about each id of the batch."""

    conversations: dict[str, dict[str, Any]] = field(default_factory=dict)  # returned, ended or not
    answered: set[str] = field(default_factory=set)  # in a chunk Genesys answered (absent = not known yet)
    rejected: dict[str, GenesysApiError] = field(default_factory=dict)  # a 400 isolated to this id
    deferred: dict[str, GenesysError] = field(default_factory=dict)  # not asked successfully this time


def _chunks(ids: Sequence[str], size: int) -> list[list[str]]:
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


class ProcessorService:
    """Processes work-queue batches; Genesys, AWS clients, metrics and clocks are passed in."""

    def __init__(
        self,
        *,
        genesys: ConversationSource,
        buffer: BufferTable,
        results: ResultsWriter,
        sqs_client: SQSClient,
        config: ProcessorConfig,
        metrics: MetricsSink,
        clock: Callable[[], datetime] = utc_now,
        stats: Callable[[], Mapping[str, int]] | None = None,
    ) -> None:
        self._genesys = genesys
        self._buffer = buffer
        self._results = results
        self._sqs = sqs_client
        self._config = config
        self._metrics = metrics
        self._clock = clock
        # Genesys client counters (GenesysClient.stats.snapshot); published as per-batch deltas.
        self._stats = stats

    # -- batch -----------------------------------------------------------------------------------

    def process_batch(
        self, event: dict[str, Any], *, deadline: float | None, context: LambdaContext | None = None
    ) -> PartialItemFailureResponse:
        """Process one SQS event; returns {"batchItemFailures": [{"itemIdentifier": messageId}, ...]}."""
        records: list[dict[str, Any]] = list(event.get("Records") or [])
        before = dict(self._stats()) if self._stats else {}
        counts: Counter[str] = Counter()
        workers = max(1, min(self._config.workers, len(records)))  # no idle threads for small batches
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="record") as pool:
            outcomes = self._start(records, deadline, pool, counts)

            def record_handler(record: SQSRecord) -> str:
                # Waits for the work started in phase one; its exception (if any) fails the record.
                return outcomes[record.message_id].result().value

            # raise_on_entire_batch_failure=False: a batch that is all "not ready yet" is normal, and
            # must come back as a list of failures, not as a function error that trips alarms.
            processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
            response = process_partial_response(
                event={"Records": records},
                record_handler=record_handler,
                processor=processor,
                context=context,
            )
        self._emit_metrics(counts, before)
        logger.info(
            "batch processed",
            extra={
                "records": len(records),
                "failures": len(response["batchItemFailures"]),
                **{f"count_{name}": value for name, value in counts.items()},
            },
        )
        return response

    def _start(
        self,
        records: list[dict[str, Any]],
        deadline: float | None,
        pool: ThreadPoolExecutor,
        counts: Counter[str],
    ) -> dict[str, Future[RecordOutcome]]:
        lock = threading.Lock()

        def count(name: str) -> None:
            with lock:
                counts[name] += 1

        parsed: dict[str, str | ValueError] = {}
        primary: dict[str, str] = {}  # conversation id -> messageId of its first message in the batch
        for raw in records:
            record = SQSRecord(raw)
            try:
                conversation_id = parse_body(record.body)
            except ValueError as error:
                parsed[record.message_id] = error
                continue
            parsed[record.message_id] = conversation_id
            primary.setdefault(conversation_id, record.message_id)

        fetch = self.fetch(list(primary), deadline)
        if fetch.deferred:
            causes = Counter(type(cause).__name__ for cause in fetch.deferred.values())
            logger.warning("conversations deferred to a later delivery", extra={"deferred": dict(causes)})

        outcomes: dict[str, Future[RecordOutcome]] = {}
        for raw in records:
            record = SQSRecord(raw)
            item = parsed[record.message_id]
            if isinstance(item, ValueError):
                outcomes[record.message_id] = pool.submit(self._reject_body, record, str(item))
            elif primary[item] != record.message_id:
                outcomes[record.message_id] = _done(RecordOutcome.DUPLICATE)
                logger.info(
                    "duplicate message acknowledged",
                    extra={"conversation_id": item, "message_id": record.message_id},
                )
            else:
                outcomes[record.message_id] = pool.submit(self._conclude, record, item, fetch, count)
        return outcomes

    # -- Genesys ---------------------------------------------------------------------------------

    def fetch(self, ids: Sequence[str], deadline: float | None) -> FetchResult:
        """Ask Genesys about `ids`, one chunk of ids_per_request per request.

        A RetryLater stops all further requests (more would meet the same limit or outage): every id
        not yet answered is deferred. A 400 means some id in the chunk is unacceptable to Genesys: the
        chunk is split in halves until the ids it rejects alone are found, so the rest still land.
        """
        result = FetchResult()
        try:
            for chunk in _chunks(ids, self._config.ids_per_request):
                self._fetch_chunk(chunk, deadline, result)
        except RetryLater as retry_later:
            for conversation_id in ids:
                if not (
                    conversation_id in result.answered
                    or conversation_id in result.rejected
                    or conversation_id in result.deferred
                ):
                    result.deferred[conversation_id] = retry_later
        return result

    def _fetch_chunk(self, chunk: list[str], deadline: float | None, result: FetchResult) -> None:
        try:
            conversations = self._genesys.get_conversation_details(chunk, deadline=deadline)
        except (RetryLater, GenesysAuthError):
            # Not about these ids: RetryLater ends this batch's requests; refused credentials fail the
            # invocation, so that an alarm says so instead of every conversation being blamed.
            raise
        except GenesysApiError as error:
            if error.status != 400:
                # Not about particular ids (a permission, a server error): the messages come back later.
                for conversation_id in chunk:
                    result.deferred[conversation_id] = error
                return
            if len(chunk) == 1:
                result.rejected[chunk[0]] = error
                return
            middle = len(chunk) // 2
            self._fetch_chunk(chunk[:middle], deadline, result)
            self._fetch_chunk(chunk[middle:], deadline, result)
            return
        except GenesysError as error:
            for conversation_id in chunk:
                result.deferred[conversation_id] = error
            return
        asked = set(chunk)
        result.answered.update(chunk)
        for conversation in conversations:
            returned_id = conversation.get("conversationId")
            if isinstance(returned_id, str) and returned_id.lower() in asked:
                result.conversations[returned_id.lower()] = conversation

    # -- per message -----------------------------------------------------------------------------

    def _conclude(
        self, record: SQSRecord, conversation_id: str, fetch: FetchResult, count: Callable[[str], None]
    ) -> RecordOutcome:
        if conversation_id in fetch.rejected:
            error = fetch.rejected[conversation_id]
            outcome = self._fail(
                record,
                conversation_id,
                FailureReason.GENESYS_REJECTED,
                f"Genesys answered {error.status} (code={error.code}, "
                f"correlation_id={error.correlation_id}): {error.message}",
            )
            count(MetricName.CONVERSATIONS_FAILED)
            return outcome
        if conversation_id in fetch.deferred:
            return self._deferred(record, conversation_id, fetch.deferred[conversation_id], count)

        conversation = fetch.conversations.get(conversation_id)
        if conversation is not None and conversation.get("conversationEnd"):
            try:
                key = self._results.put(conversation)
            except InvalidConversation as error:
                outcome = self._fail(record, conversation_id, FailureReason.INVALID_CONVERSATION, str(error))
                count(MetricName.CONVERSATIONS_FAILED)
                return outcome
            if not self._buffer.mark_fetched(conversation_id, key):
                # The item's TTL ran out; the details are landed, which is what matters.
                logger.warning(
                    "buffer item gone; details landed anyway",
                    extra={"conversation_id": conversation_id, "result_key": key},
                )
            count(MetricName.CONVERSATIONS_FETCHED)
            return RecordOutcome.FETCHED

        count(MetricName.CONVERSATIONS_NOT_READY)
        return self._not_ready(record, conversation_id, present=conversation is not None, count=count)

    def _not_ready(
        self, record: SQSRecord, conversation_id: str, *, present: bool, count: Callable[[str], None]
    ) -> RecordOutcome:
        first_seen, seconds_left = self._time_left(record, conversation_id)
        if seconds_left <= 0:
            state = "not ended" if present else "not in analytics"
            outcome = self._fail(
                record,
                conversation_id,
                FailureReason.NOT_READY_MAX_AGE,
                f"conversation still {state} {self._config.not_ready_max_age} after its first event "
                f"({first_seen.isoformat()})",
            )
            count(MetricName.CONVERSATIONS_FAILED)
            return outcome
        visibility = self._backoff(record, seconds_left)
        raise NotReady(conversation_id, visibility if self._set_visibility(record, visibility) else None)

    def _deferred(
        self, record: SQSRecord, conversation_id: str, cause: GenesysError, count: Callable[[str], None]
    ) -> RecordOutcome:
        """Genesys could not be asked (rate limit, outage, a non-400 API error): back on the queue on
        the not-ready schedule, never before a Retry-After, and given up at the same max age.

        Every delivery counts towards the queue's maxReceiveCount, which the stack sizes for that
        schedule: coming back at the queue's own timeout, or after a 1 s Retry-After again and again,
        would let SQS move the message to the DLQ with its item still PENDING and no reason.
        """
        first_seen, seconds_left = self._time_left(record, conversation_id)
        if seconds_left <= 0:
            outcome = self._fail(
                record,
                conversation_id,
                FailureReason.NOT_FETCHED_MAX_AGE,
                f"Genesys could not be asked within {self._config.not_ready_max_age} after the first "
                f"event ({first_seen.isoformat()}); last: {type(cause).__name__}: {cause}",
            )
            count(MetricName.CONVERSATIONS_FAILED)
            return outcome
        retry_after = cause.retry_after if isinstance(cause, RetryLater) and cause.retry_after else 0.0
        visibility = max(
            self._backoff(record, seconds_left),
            min(math.ceil(retry_after), contracts.SQS_MAX_VISIBILITY_SECONDS),
        )
        self._set_visibility(record, visibility)
        raise Deferred(conversation_id, cause)

    def _time_left(self, record: SQSRecord, conversation_id: str) -> tuple[datetime, float]:
        """When the bridge first saw the conversation, and the seconds left until its max age."""
        item = self._buffer.get(conversation_id)
        if item is not None and item.first_event_at is not None:
            first_seen = item.first_event_at
        else:
            # No item (its TTL ran out, or a message sent by hand): the message's own age stands in.
            first_seen = datetime.fromtimestamp(int(record.attributes.sent_timestamp) / 1000, tz=UTC)
        return first_seen, (first_seen + self._config.not_ready_max_age - self._clock()).total_seconds()

    def _backoff(self, record: SQSRecord, seconds_left: float) -> int:
        return not_ready_backoff(
            int(record.attributes.approximate_receive_count or 1),
            self._config.retry_base_seconds,
            self._config.retry_max_seconds,
            seconds_left,
        )

    def _set_visibility(self, record: SQSRecord, seconds: int) -> bool:
        """When the message comes back; False if SQS refused, which only loses the backoff (the queue's
        own visibility timeout applies), never the message."""
        try:
            self._sqs.change_message_visibility(
                QueueUrl=self._config.work_queue_url,
                ReceiptHandle=record.receipt_handle,
                VisibilityTimeout=seconds,
            )
        except Exception:
            logger.warning(
                "could not push visibility out; the queue's own timeout applies",
                extra={"message_id": record.message_id},
                exc_info=True,
            )
            return False
        return True

    def _fail(
        self, record: SQSRecord, conversation_id: str, reason: FailureReason, message: str
    ) -> RecordOutcome:
        # Item first, then the DLQ: if the DLQ send fails the message is retried and both steps are
        # repeated, and marking FAILED again is harmless.
        message = message[:MAX_REASON_CHARS]
        if not self._buffer.mark_failed(conversation_id, f"{reason.value}: {message}"):
            logger.info(
                "buffer item not marked FAILED (gone or already FETCHED)",
                extra={"conversation_id": conversation_id},
            )
        self._dead_letter(record, reason, message, conversation_id)
        return RecordOutcome.DEAD_LETTERED

    def _reject_body(self, record: SQSRecord, message: str) -> RecordOutcome:
        logger.error(
            "work message is not the contract; sent to the DLQ",
            extra={"message_id": record.message_id, "reason": message},
        )
        self._dead_letter(record, FailureReason.INVALID_BODY, message, None)
        return RecordOutcome.DEAD_LETTERED

    def _dead_letter(
        self, record: SQSRecord, reason: FailureReason, message: str, conversation_id: str | None
    ) -> None:
        body = {
            "reason": reason.value,
            "message": message,
            "conversationId": conversation_id,
            "body": record.body,
        }
        self._sqs.send_message(
            QueueUrl=self._config.dlq_url,
            MessageBody=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        )
        logger.warning(
            "message dead-lettered",
            extra={"reason": reason.value, "detail": message, "conversation_id": conversation_id},
        )

    # -- metrics ---------------------------------------------------------------------------------

    def _emit_metrics(self, counts: Counter[str], stats_before: Mapping[str, int]) -> None:
        # One data point per name and batch (not one per conversation): EMF keeps at most 100 values
        # per metric and the dashboards sum anyway.
        for name, value in counts.items():
            if value:
                self._metrics.add_metric(name, COUNT, value)
        if self._stats is None:
            return
        after = self._stats()
        for stat, name in (
            ("requests", MetricName.GENESYS_REQUESTS),
            ("throttled", MetricName.GENESYS_THROTTLED),
            ("errors", MetricName.GENESYS_ERRORS),
        ):
            delta = after.get(stat, 0) - stats_before.get(stat, 0)
            if delta:
                self._metrics.add_metric(name, COUNT, delta)


def _done(outcome: RecordOutcome) -> Future[RecordOutcome]:
    future: Future[RecordOutcome] = Future()
    future.set_result(outcome)
    return future
