"""The pipeline on embedded AWS: the real handlers, driven the way AWS drives them.

events --(async invoke: retried, then the on-failure queue)--> ingest --> buffer table
buffer stream --(stream reader + the stack's pipe filter and template)--> work queue
work queue --(event source: batch size, batching window, max concurrency, partial failures)--> processor
processor --> results bucket (and the work DLQ for terminal failures; SQS redrive for the rest)

Every thread here stands in for AWS infrastructure; the functions' own code is not touched.
"""

from __future__ import annotations

import heapq
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from genesys_bridge import contracts
from local_runner.aws import LocalResources
from local_runner.aws_hooks import InjectedCrash, acting_as
from local_runner.functions import InvocationStats, LambdaContext
from local_runner.pipe import InsertCollapser, PipeDefinition
from local_runner.workload import PlannedEvent

# Lambda's asynchronous invocation retry schedule: the second attempt about a minute after the first,
# the third about two minutes after the second (AWS Lambda developer guide, "asynchronous invocation").
ASYNC_RETRY_DELAYS_S = (60.0, 120.0)
# SQS ReceiveMessage returns at most 10 messages; SendMessageBatch takes at most 10 entries.
SQS_MAX_BATCH = 10
# How often idle readers poll moto: short enough not to add latency, long enough not to burn a core.
IDLE_POLL_S = 0.05
# moto's ReceiveMessage scans every message of the queue (and works out each one's visibility), so
# an idle event source polls less often than the stream reader; AWS long-polls instead.
SOURCE_IDLE_POLL_S = 0.2
# DynamoDB Streams GetRecords returns at most 1000 records.
STREAM_LIMIT = 1000


Handler = Callable[[Any, Any], Any]


@dataclass
class IngestTally:
    created: int = 0
    duplicate: int = 0
    quarantined: int = 0
    errors: int = 0  # invocations that raised (each retried or sent to the on-failure queue)
    retries: int = 0
    failed_to_queue: int = 0
    deliveries: int = 0  # events handed to the function (first attempts)
    first_seen: dict[str, float] = field(default_factory=dict)  # conversation id -> monotonic


class IngestDriver(threading.Thread):
    """EventBridge's rule target with Lambda's async semantics: each event is one invocation, up to
    `concurrency` at a time (Lambda runs async invocations in parallel, and a throttled DynamoDB write
    sleeps through the SDK's backoff); a raised error is retried ingest_async_retry_attempts times
    (scaled delays), then the event goes to the on-failure queue as a Lambda on-failure record."""

    def __init__(
        self,
        *,
        events: list[PlannedEvent],
        handler: Handler,
        context_factory: Callable[[], LambdaContext],
        invocations: InvocationStats,
        sqs: Any,
        failure_queue_url: str,
        retry_attempts: int,
        retry_delay_scale: float,
        on_first_event: Callable[[str], None],
        timeout_s: float,
        events_per_second: float | None,
        concurrency: int = 4,
    ) -> None:
        super().__init__(name="ingest-async-invoke", daemon=True)
        self.events = events
        self.handler = handler
        self.context_factory = context_factory
        self.invocations = invocations
        self.sqs = sqs
        self.failure_queue_url = failure_queue_url
        self.retry_attempts = retry_attempts
        self.retry_delays = [delay * retry_delay_scale for delay in ASYNC_RETRY_DELAYS_S]
        self.on_first_event = on_first_event
        self.timeout_s = timeout_s
        self.interval = 1.0 / events_per_second if events_per_second else 0.0
        self.concurrency = max(1, concurrency)
        self.tally = IngestTally()
        self.done = threading.Event()
        self.stop_requested = threading.Event()
        self.error: BaseException | None = None
        self._retries: list[tuple[float, int, int, PlannedEvent]] = []  # (due, seq, attempt, event)
        self._seq = 0
        self._lock = threading.Lock()
        # at most this many invocations started and not finished: keeps the input order roughly intact
        self._slots = threading.BoundedSemaphore(self.concurrency)

    def run(self) -> None:
        try:
            with ThreadPoolExecutor(self.concurrency, thread_name_prefix="ingest") as pool:
                for planned in self.events:
                    if self.stop_requested.is_set():
                        break
                    self._submit_due_retries(pool)
                    if planned.conversation_id and planned.conversation_id not in self.tally.first_seen:
                        self.on_first_event(planned.conversation_id)
                        self.tally.first_seen[planned.conversation_id] = time.monotonic()
                    self.tally.deliveries += 1
                    self._submit(pool, planned, attempt=1)
                    if self.interval:
                        time.sleep(self.interval)
                while not self.stop_requested.is_set():
                    self._submit_due_retries(pool)
                    if not self._retries and self._idle():
                        break
                    time.sleep(IDLE_POLL_S)
        except BaseException as error:  # noqa: BLE001 - reported by the runner, never swallowed
            self.error = error
        finally:
            self.done.set()

    def _idle(self) -> bool:
        # every slot free: nothing in flight that could still schedule a retry
        acquired = 0
        try:
            while acquired < self.concurrency and self._slots.acquire(blocking=False):
                acquired += 1
            return acquired == self.concurrency
        finally:
            for _ in range(acquired):
                self._slots.release()

    def _submit(self, pool: ThreadPoolExecutor, planned: PlannedEvent, attempt: int) -> None:
        self._slots.acquire()
        pool.submit(self._invoke_in_slot, planned, attempt)

    def _invoke_in_slot(self, planned: PlannedEvent, attempt: int) -> None:
        try:
            self._invoke(planned, attempt)
        except BaseException as error:  # noqa: BLE001 - reported by the runner
            self.error = error
        finally:
            self._slots.release()

    def _submit_due_retries(self, pool: ThreadPoolExecutor) -> None:
        now = time.monotonic()
        while True:
            with self._lock:
                if not self._retries or self._retries[0][0] > now:
                    return
                _, _, attempt, planned = heapq.heappop(self._retries)
                self.tally.retries += 1
            self._submit(pool, planned, attempt)

    def _invoke(self, planned: PlannedEvent, attempt: int) -> None:
        context = self.context_factory()
        started = time.monotonic()
        try:
            result = self.handler(planned.event, context)
        except Exception as error:  # noqa: BLE001 - a function error, as Lambda sees it
            self.invocations.record(
                "ingest", time.monotonic() - started, error=True, timeout_s=self.timeout_s
            )
            if attempt <= self.retry_attempts:
                with self._lock:
                    self.tally.errors += 1
                    self._seq += 1
                    due = time.monotonic() + self.retry_delays[min(attempt - 1, len(self.retry_delays) - 1)]
                    heapq.heappush(self._retries, (due, self._seq, attempt + 1, planned))
            else:
                with self._lock:
                    self.tally.errors += 1
                self._send_to_failure_queue(planned, attempt, error, context)
            return
        self.invocations.record("ingest", time.monotonic() - started, error=False, timeout_s=self.timeout_s)
        outcome = result.get("outcome") if isinstance(result, dict) else None
        with self._lock:
            if outcome == "created":
                self.tally.created += 1
            elif outcome == "duplicate":
                self.tally.duplicate += 1
            elif outcome == "quarantined":
                self.tally.quarantined += 1

    def _send_to_failure_queue(
        self, planned: PlannedEvent, attempts: int, error: Exception, context: LambdaContext
    ) -> None:
        # The shape of a Lambda on-failure destination record for an asynchronous invocation.
        record = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "requestContext": {
                "requestId": context.aws_request_id,
                "functionArn": context.invoked_function_arn,
                "condition": "RetriesExhausted",
                "approximateInvokeCount": attempts,
            },
            "requestPayload": planned.event,
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "responsePayload": {"errorType": type(error).__name__, "errorMessage": str(error)[:1000]},
        }
        with acting_as("lambda-async"):
            self.sqs.send_message(
                QueueUrl=self.failure_queue_url, MessageBody=json.dumps(record, default=str)
            )
        with self._lock:
            self.tally.failed_to_queue += 1


@dataclass
class PipeTally:
    polls: int = 0
    records_read: int = 0
    filtered_out: int = 0
    forwarded: int = 0
    failures: int = 0
    collapsed: int = 0


class StreamPipe(threading.Thread):
    """The EventBridge Pipe: reads the buffer's stream from TRIM_HORIZON, collapses moto's double
    INSERT, applies the stack's filter and input template, and sends to the work queue."""

    def __init__(
        self,
        *,
        streams: Any,
        sqs: Any,
        resources: LocalResources,
        definition: PipeDefinition,
        pipe_dlq_url: str,
        batch_size: int,
    ) -> None:
        super().__init__(name="pipe", daemon=True)
        self.streams = streams
        self.sqs = sqs
        self.resources = resources
        self.definition = definition
        self.pipe_dlq_url = pipe_dlq_url
        self.batch_size = max(1, min(batch_size, SQS_MAX_BATCH))
        self.collapser = InsertCollapser()
        self.tally = PipeTally()
        self.stop_requested = threading.Event()
        self.caught_up = threading.Event()  # the last poll found nothing new and nothing is held
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with acting_as("pipe"):
                self._run()
        except BaseException as error:  # noqa: BLE001 - reported by the runner
            self.error = error

    def _run(self) -> None:
        arn = self.resources.stream_arn
        shard = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = self.streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while True:
            stopping = self.stop_requested.is_set()
            response = self.streams.get_records(ShardIterator=iterator, Limit=STREAM_LIMIT)
            iterator = response["NextShardIterator"]
            records = response.get("Records", [])
            self.tally.polls += 1
            self.tally.records_read += len(records)
            out = self.collapser.feed(records)
            if stopping:
                out += self.collapser.flush()
            self.tally.collapsed = self.collapser.collapsed
            self._deliver(out)
            if not records and not self.collapser.has_held:
                self.caught_up.set()
                if stopping:
                    return
                time.sleep(IDLE_POLL_S)
            else:
                self.caught_up.clear()

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        bodies: list[str] = []
        for record in records:
            try:
                body = self.definition.transform(record)
            except (KeyError, ValueError) as error:
                self.tally.failures += 1
                self.sqs.send_message(
                    QueueUrl=self.pipe_dlq_url,
                    MessageBody=json.dumps({"error": str(error), "record": record}, default=str),
                )
                continue
            if body is None:
                self.tally.filtered_out += 1
                continue
            bodies.append(body)
        for start in range(0, len(bodies), self.batch_size):
            chunk = bodies[start : start + self.batch_size]
            entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)]
            response = self.sqs.send_message_batch(QueueUrl=self.resources.work_queue_url, Entries=entries)
            failed = response.get("Failed", [])
            if failed:  # moto does not fail entries; AWS may, and Pipes retries them
                raise RuntimeError(f"work queue refused {len(failed)} messages: {failed[:1]}")
            self.tally.forwarded += len(chunk)


@dataclass
class SourceTally:
    invocations: int = 0
    crashed_invocations: int = 0
    records_delivered: int = 0
    records_deleted: int = 0
    records_failed: int = 0
    receives: int = 0


class SqsEventSource:
    """The Lambda SQS event source mapping: `concurrency` workers, each gathering a batch until it is
    full or the batching window has passed since its first message, invoking the processor, deleting
    what succeeded and leaving reported failures (and every message of a failed invocation) to SQS."""

    def __init__(
        self,
        *,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        region: str,
        handler: Handler,
        context_factory: Callable[[], LambdaContext],
        invocations: InvocationStats,
        batch_size: int,
        batching_window_s: float,
        concurrency: int,
        timeout_s: float,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.region = region
        self.handler = handler
        self.context_factory = context_factory
        self.invocations = invocations
        self.batch_size = batch_size
        self.batching_window_s = batching_window_s
        self.timeout_s = timeout_s
        self.tally = SourceTally()
        self.stop_requested = threading.Event()
        self.errors: list[BaseException] = []
        self._holding = [False] * concurrency
        self._lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._work, args=(n,), name=f"event-source-{n}", daemon=True)
            for n in range(concurrency)
        ]

    @property
    def in_flight(self) -> int:
        """Workers holding received messages (gathering a batch or invoking)."""
        with self._lock:
            return sum(self._holding)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self, timeout: float | None = None) -> None:
        for thread in self.threads:
            thread.join(timeout)

    def _work(self, index: int) -> None:
        try:
            while not self.stop_requested.is_set():
                batch = self._gather(index)
                if batch:
                    try:
                        self._invoke(batch)
                    finally:
                        self._set_holding(index, False)
        except BaseException as error:  # noqa: BLE001 - reported by the runner
            self.errors.append(error)

    def _set_holding(self, index: int, holding: bool) -> None:
        with self._lock:
            self._holding[index] = holding

    def _receive(self, count: int) -> list[dict[str, Any]]:
        with acting_as("event-source"):
            response = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=count,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            )
        with self._lock:
            self.tally.receives += 1
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def _gather(self, index: int) -> list[dict[str, Any]]:
        batch: list[dict[str, Any]] = []
        window_ends: float | None = None
        while len(batch) < self.batch_size and not self.stop_requested.is_set():
            messages = self._receive(min(SQS_MAX_BATCH, self.batch_size - len(batch)))
            now = time.monotonic()
            if messages:
                self._set_holding(index, True)
                batch.extend(messages)
                if window_ends is None:
                    window_ends = now + self.batching_window_s
                continue
            if window_ends is not None and now >= window_ends:
                break
            time.sleep(
                SOURCE_IDLE_POLL_S
                if window_ends is None
                else min(SOURCE_IDLE_POLL_S, max(0.0, window_ends - now))
            )
        return batch

    def _lambda_record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }

    def _invoke(self, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [self._lambda_record(message) for message in messages]}
        context = self.context_factory()
        started = time.monotonic()
        failed_ids: set[str] | None
        try:
            response = self.handler(event, context)
            failed_ids = {item["itemIdentifier"] for item in (response or {}).get("batchItemFailures", [])}
            error = False
        except (Exception, InjectedCrash):  # noqa: BLE001 - any function error, as Lambda sees it
            # A function error (or a crash): no message is deleted; each becomes visible again
            # after the queue's visibility timeout, and counts one more receive.
            failed_ids = None
            error = True
        self.invocations.record(
            "processor", time.monotonic() - started, error=error, timeout_s=self.timeout_s
        )
        with self._lock:
            self.tally.invocations += 1
            self.tally.records_delivered += len(messages)
            if failed_ids is None:
                self.tally.crashed_invocations += 1
                self.tally.records_failed += len(messages)
            else:
                self.tally.records_failed += len(failed_ids)
        if failed_ids is not None:
            self._delete([m for m in messages if m["MessageId"] not in failed_ids])

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        with acting_as("event-source"):
            for start in range(0, len(messages), SQS_MAX_BATCH):
                chunk = messages[start : start + SQS_MAX_BATCH]
                self.sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)
                    ],
                )
        with self._lock:
            self.tally.records_deleted += len(messages)


def queue_depth(sqs: Any, queue_url: str) -> dict[str, int]:
    """Visible, in flight and delayed messages of a queue."""
    with acting_as("runner"):
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
    return {
        "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
        "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        "delayed": int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
    }


def drain_queue(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message of a queue (after the run): received with a long visibility, not deleted."""
    out: list[dict[str, Any]] = []
    with acting_as("inventory"):
        while True:
            messages = sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=SQS_MAX_BATCH,
                VisibilityTimeout=3600,
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not messages:
                return out
            out.extend(messages)


def parse_body(message: dict[str, Any]) -> Any:
    try:
        return json.loads(message.get("Body", ""))
    except json.JSONDecodeError:
        return message.get("Body")


def scan_buffer(dynamodb: Any, table_name: str) -> dict[str, dict[str, str]]:
    """conversationId -> {attribute: value as text} for every buffer item."""
    items: dict[str, dict[str, str]] = {}
    with acting_as("inventory"):
        paginator = dynamodb.get_paginator("scan")
        for page in paginator.paginate(TableName=table_name, ConsistentRead=True):
            for item in page.get("Items", []):
                flat = {name: next(iter(value.values())) for name, value in item.items()}
                items[str(flat[contracts.ATTR_CONVERSATION_ID])] = {k: str(v) for k, v in flat.items()}
    return items
