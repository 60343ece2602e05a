"""The processor service: an SQS batch of conversation ids in, details in S3 and a partial batch response out.

The batch is worked in two phases. First, batch-wide: parse every body, fetch the unique ids from
Genesys (genesys_bridge.fetching: chunks, 400 bisection), and start each message's own work
(land + mark, back off, or dead-letter) on a small thread pool. Then Powertools' BatchProcessor walks
the records and each record's outcome becomes success or a reported failure. Outcomes are decided by
exception *types* (RetryLater, GenesysApiError.status), never by reading error messages. This module
keeps the decisions; the work queue's calls live in genesys_bridge.work_queue, the buffer's in
genesys_bridge.buffer, the not-ready schedule in genesys_bridge.backoff.

Each message ends in one outcome: landed, not ready yet (backed off on the not-ready schedule and
the refetch grid), landed unsettled, left open, deferred, or dead-lettered. docs/operations.md
("Outcomes") is the one table of them, with each outcome's buffer status, metric and alarm.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from genesys_bridge import contracts
from genesys_bridge.backoff import not_ready_backoff
from genesys_bridge.buffer import BufferTable, utc_now
from genesys_bridge.fetching import ConversationFetcher, ConversationSource, FetchResult
from genesys_bridge.genesys.errors import GenesysError, RetryLater
from genesys_bridge.metrics import COUNT, SECONDS, MetricName, MetricsSink
from genesys_bridge.results import InvalidConversation, ResultsWriter
from genesys_bridge.settlement import Readiness, readiness, wrapup_started_at
from genesys_bridge.work_queue import FailureReason, WorkQueue, parse_body

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


class _Tally:
    """What one batch's worker threads count and measure, for the metrics emitted after the batch."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.latencies: list[float] = []

    def count(self, name: str) -> None:
        with self._lock:
            self.counts[name] += 1

    def landed_after(self, seconds: float) -> None:
        with self._lock:
            self.latencies.append(seconds)


class RecordOutcome(StrEnum):
    FETCHED = "fetched"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"
    LEFT_OPEN = "left_open"


@dataclass(frozen=True)
class ProcessorConfig:
    """The processor's knobs; the deployed values come from the stack's config (stacks/config.py) through
    the environment (settings.ProcessorSettings), so none is defaulted here a second time."""

    work_queue_url: str
    dlq_url: str
    ids_per_request: int
    not_ready_max_age: timedelta
    # How long after its first event an ended conversation with an open segment (wrap-up) is waited for.
    settle_max: timedelta
    retry_base_seconds: int
    retry_max_seconds: int
    # An open wrap-up is not fetched again before its segmentStart plus this; not-ready waits end on
    # multiples of the grid of wall-clock time (0: no grid) (docs/design.md, "Refetches that share requests").
    wrapup_estimate: timedelta
    retry_grid_seconds: int
    # Threads for the per-message work (S3, DynamoDB, SQS calls); boto3 clients are thread-safe.
    workers: int = 16

    @classmethod
    def from_settings(cls, settings: ProcessorSettings) -> ProcessorConfig:
        return cls(
            work_queue_url=settings.work_queue_url,
            dlq_url=settings.work_dlq_url,
            ids_per_request=settings.genesys_ids_per_request,
            not_ready_max_age=timedelta(minutes=settings.not_ready_max_age_minutes),
            settle_max=timedelta(minutes=settings.settle_max_minutes),
            retry_base_seconds=settings.not_ready_retry_base_seconds,
            retry_max_seconds=settings.not_ready_retry_max_seconds,
            wrapup_estimate=timedelta(seconds=settings.wrapup_estimate_seconds),
            retry_grid_seconds=settings.not_ready_retry_grid_seconds,
        )


def invocation_deadline(remaining_ms: int, record_count: int, now: float) -> float:
    """The monotonic time by which Genesys calls must be done: now + remaining time - margin."""
    remaining = remaining_ms / 1000
    margin = min(DEADLINE_MARGIN_SECONDS + PER_RECORD_MARGIN_SECONDS * record_count, remaining / 2)
    return now + remaining - margin


def remaining_ms(context: LambdaContext | None) -> int:
    """Time left in this invocation; scripts without a Lambda context get DEFAULT_REMAINING_MS."""
    getter = getattr(context, "get_remaining_time_in_millis", None)
    return int(getter()) if callable(getter) else DEFAULT_REMAINING_MS


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
        monotonic: Callable[[], float] = time.monotonic,
        stats: Callable[[], Mapping[str, int]] | None = None,
    ) -> None:
        self._fetcher = ConversationFetcher(genesys, config.ids_per_request)
        self._buffer = buffer
        self._results = results
        self._work_queue = WorkQueue(sqs_client, config.work_queue_url, config.dlq_url)
        self._config = config
        self._metrics = metrics
        self._clock = clock
        # The clock of Genesys deadlines (the client's own is time.monotonic too).
        self._monotonic = monotonic
        # Genesys client counters (GenesysClient.stats.snapshot); published as per-batch deltas.
        self._stats = stats

    # -- batch -----------------------------------------------------------------------------------

    def process_batch(
        self,
        event: dict[str, Any],
        context: LambdaContext | None = None,
        *,
        deadline: float | None = None,
    ) -> PartialItemFailureResponse:
        """Process one SQS event; returns {"batchItemFailures": [{"itemIdentifier": messageId}, ...]}.

        Genesys calls end by `deadline` (a time of the monotonic clock); by default it is derived from
        the invocation's remaining time (invocation_deadline), as the handler needs.
        """
        records: list[dict[str, Any]] = list(event.get("Records") or [])
        if deadline is None:
            deadline = invocation_deadline(remaining_ms(context), len(records), self._monotonic())
        before = dict(self._stats()) if self._stats else {}
        tally = _Tally()
        workers = max(1, min(self._config.workers, len(records)))  # no idle threads for small batches
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="record") as pool:
            outcomes = self._start(records, deadline, pool, tally)

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
        self._emit_metrics(tally, before)
        logger.info(
            "batch processed",
            extra={
                "records": len(records),
                "failures": len(response["batchItemFailures"]),
                **{f"count_{name}": value for name, value in tally.counts.items()},
            },
        )
        return response

    def _start(
        self,
        records: list[dict[str, Any]],
        deadline: float | None,
        pool: ThreadPoolExecutor,
        tally: _Tally,
    ) -> dict[str, Future[RecordOutcome]]:
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

        fetch = self._fetcher.fetch(list(primary), deadline)
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
                outcomes[record.message_id] = pool.submit(self._conclude, record, item, fetch, tally)
        return outcomes

    # -- per message -----------------------------------------------------------------------------

    def _conclude(
        self, record: SQSRecord, conversation_id: str, fetch: FetchResult, tally: _Tally
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
            tally.count(MetricName.CONVERSATIONS_FAILED)
            return outcome
        if conversation_id in fetch.deferred:
            return self._deferred(record, conversation_id, fetch.deferred[conversation_id], tally)

        conversation = fetch.conversations.get(conversation_id)
        state = readiness(conversation)
        if state is Readiness.SETTLED:
            assert conversation is not None  # settled details were returned
            return self._land(record, conversation_id, conversation, tally)
        if state is Readiness.WRAPPING_UP:
            assert conversation is not None  # so were ended ones
            first_seen, settle_left = self._time_left(record, conversation_id, self._config.settle_max)
            if settle_left <= 0:
                # Waited long enough: land what there is; the finalize run re-lands the final version.
                logger.info(
                    "landing a conversation with a segment still open",
                    extra={"conversation_id": conversation_id, "first_event_at": first_seen.isoformat()},
                )
                outcome = self._land(record, conversation_id, conversation, tally)
                if outcome is RecordOutcome.FETCHED:
                    tally.count(MetricName.CONVERSATIONS_LANDED_UNSETTLED)
                return outcome
            tally.count(MetricName.CONVERSATIONS_NOT_READY)
            started = wrapup_started_at(conversation)
            expected_end = None if started is None else started + self._config.wrapup_estimate
            return self._wait(record, conversation_id, settle_left, expected_end)

        tally.count(MetricName.CONVERSATIONS_NOT_READY)
        return self._not_ready(record, conversation_id, present=conversation is not None, tally=tally)

    def _land(
        self, record: SQSRecord, conversation_id: str, conversation: dict[str, Any], tally: _Tally
    ) -> RecordOutcome:
        try:
            key = self._results.put(conversation)
        except InvalidConversation as error:
            outcome = self._fail(record, conversation_id, FailureReason.INVALID_CONVERSATION, str(error))
            tally.count(MetricName.CONVERSATIONS_FAILED)
            return outcome
        item = self._buffer.mark_fetched(conversation_id, key)
        if item is None:
            # The item's TTL ran out; the details are landed, which is what matters. Without its
            # firstEventAt there is no latency to tell.
            logger.warning(
                "buffer item gone; details landed anyway",
                extra={"conversation_id": conversation_id, "result_key": key},
            )
        elif item.first_event_at is not None:
            tally.landed_after(max(0.0, (self._clock() - item.first_event_at).total_seconds()))
        tally.count(MetricName.CONVERSATIONS_FETCHED)
        return RecordOutcome.FETCHED

    def _not_ready(
        self, record: SQSRecord, conversation_id: str, *, present: bool, tally: _Tally
    ) -> RecordOutcome:
        first_seen, seconds_left = self._time_left(record, conversation_id, self._config.not_ready_max_age)
        if seconds_left > 0:
            return self._wait(record, conversation_id, seconds_left)
        if present:
            return self._leave_open(conversation_id, first_seen, tally)
        outcome = self._fail(
            record,
            conversation_id,
            FailureReason.NOT_READY_MAX_AGE,
            f"conversation still not in analytics {self._config.not_ready_max_age} after its first event "
            f"({first_seen.isoformat()})",
        )
        tally.count(MetricName.CONVERSATIONS_FAILED)
        return outcome

    def _leave_open(self, conversation_id: str, first_seen: datetime, tally: _Tally) -> RecordOutcome:
        """Known to analytics, still open at the max age: normal traffic for a scheduled callback or an
        open messaging thread, so no DLQ message and no alarm. The item says LEFT_OPEN; the audit and
        finalize land the conversation once it has ended, and so does its next end event (ingest queues a
        fresh fetch for it)."""
        if not self._buffer.mark_left_open(conversation_id):
            logger.info(
                "buffer item not marked LEFT_OPEN (gone or already FETCHED)",
                extra={"conversation_id": conversation_id},
            )
        logger.info(
            "conversation still open at the max age: left to the audit",
            extra={"conversation_id": conversation_id, "first_event_at": first_seen.isoformat()},
        )
        tally.count(MetricName.CONVERSATIONS_LEFT_OPEN)
        return RecordOutcome.LEFT_OPEN

    def _wait(
        self,
        record: SQSRecord,
        conversation_id: str,
        seconds_left: float,
        expected_end: datetime | None = None,
    ) -> RecordOutcome:
        """Not ready: the message comes back on the backoff schedule, or at `expected_end` (an open
        wrap-up's) when that is later, on the refetch grid, and never later than `seconds_left` (the
        moment its wait ends, so that check happens on time)."""
        now = self._clock()
        visibility = not_ready_backoff(
            int(record.attributes.approximate_receive_count or 1),
            self._config.retry_base_seconds,
            self._config.retry_max_seconds,
            seconds_left,
            at_least_seconds=0.0 if expected_end is None else (expected_end - now).total_seconds(),
            now_epoch=now.timestamp(),
            grid_seconds=self._config.retry_grid_seconds,
        )
        raise NotReady(
            conversation_id, visibility if self._work_queue.set_visibility(record, visibility) else None
        )

    def _deferred(
        self, record: SQSRecord, conversation_id: str, cause: GenesysError, tally: _Tally
    ) -> RecordOutcome:
        """Genesys could not be asked (rate limit, outage, a non-400 API error): back on the queue on
        the not-ready schedule, never before a Retry-After, and given up at the same max age.

        Every delivery counts towards the queue's maxReceiveCount, which the stack sizes for that
        schedule: coming back at the queue's own timeout, or after a 1 s Retry-After again and again,
        would let SQS move the message to the DLQ with its item still PENDING and no reason.
        """
        first_seen, seconds_left = self._time_left(record, conversation_id, self._config.not_ready_max_age)
        if seconds_left <= 0:
            outcome = self._fail(
                record,
                conversation_id,
                FailureReason.NOT_FETCHED_MAX_AGE,
                f"Genesys could not be asked within {self._config.not_ready_max_age} after the first "
                f"event ({first_seen.isoformat()}); last: {type(cause).__name__}: {cause}",
            )
            tally.count(MetricName.CONVERSATIONS_FAILED)
            return outcome
        retry_after = cause.retry_after if isinstance(cause, RetryLater) and cause.retry_after else 0.0
        visibility = max(
            self._backoff(record, seconds_left),
            min(math.ceil(retry_after), contracts.SQS_MAX_VISIBILITY_SECONDS),
        )
        self._work_queue.set_visibility(record, visibility)
        raise Deferred(conversation_id, cause)

    def _time_left(self, record: SQSRecord, conversation_id: str, limit: timedelta) -> tuple[datetime, float]:
        """When the bridge first saw the conversation, and the seconds left until `limit` after it."""
        item = self._buffer.get(conversation_id)
        if item is not None and item.first_event_at is not None:
            first_seen = item.first_event_at
        else:
            # No item (its TTL ran out, or a message sent by hand): the message's own age stands in.
            first_seen = datetime.fromtimestamp(int(record.attributes.sent_timestamp) / 1000, tz=UTC)
        return first_seen, (first_seen + limit - self._clock()).total_seconds()

    def _backoff(self, record: SQSRecord, seconds_left: float) -> int:
        return not_ready_backoff(
            int(record.attributes.approximate_receive_count or 1),
            self._config.retry_base_seconds,
            self._config.retry_max_seconds,
            seconds_left,
        )

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
        self._work_queue.dead_letter(record, reason, message, conversation_id)
        return RecordOutcome.DEAD_LETTERED

    def _reject_body(self, record: SQSRecord, message: str) -> RecordOutcome:
        logger.error(
            "work message is not the contract; sent to the DLQ",
            extra={"message_id": record.message_id, "reason": message},
        )
        self._work_queue.dead_letter(record, FailureReason.INVALID_BODY, message, None)
        return RecordOutcome.DEAD_LETTERED

    # -- metrics ---------------------------------------------------------------------------------

    def _emit_metrics(self, tally: _Tally, stats_before: Mapping[str, int]) -> None:
        # One data point per count and batch (not one per conversation): the dashboards sum anyway.
        for name, value in tally.counts.items():
            if value:
                self._metrics.add_metric(name, COUNT, value)
        # The latency is a distribution (its percentiles are what matter), so one value per landing;
        # emitted here, on one thread, because Powertools' metric set is not guarded by a lock. EMF takes
        # at most 100 values of a metric per document: Powertools publishes a full set by itself.
        for seconds in tally.latencies:
            self._metrics.add_metric(MetricName.LANDING_LATENCY, SECONDS, seconds)
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
