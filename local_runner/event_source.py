"""The Lambda SQS event source mapping that feeds the processor from the work queue.

`concurrency` pollers (the mapping's MaximumConcurrency), each gathering a batch until it is full or
the batching window has passed since its first message, invoking the processor, deleting what
succeeded and leaving reported failures (and every message of a failed invocation) to SQS's
visibility timeout and redrive policy.
https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local_runner.aws import SQS_MAX_BATCH
from local_runner.aws_hooks import InjectedCrash, acting_as
from local_runner.functions import Handler, InvocationStats, LambdaContext, log_invocation_error

# moto's ReceiveMessage scans every message of the queue (and works out each one's visibility), so an
# idle poller waits this long between receives; AWS long-polls instead.
SOURCE_IDLE_POLL_S = 0.2


@dataclass
class SourceTally:
    invocations: int = 0
    crashed_invocations: int = 0  # every function error: an injected crash, refused credentials, ...
    records_delivered: int = 0
    records_deleted: int = 0
    records_failed: int = 0
    receives: int = 0
    # records whose whole invocation failed, by the error's type (all of them come back)
    records_returned_by_error: Counter[str] = field(default_factory=Counter)


class SqsEventSource:
    """Batches from the work queue to the processor handler; see the module docstring."""

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
        failure: BaseException | None = None
        try:
            response = self.handler(event, context)
            failed_ids = {item["itemIdentifier"] for item in (response or {}).get("batchItemFailures", [])}
        except (Exception, InjectedCrash) as error:  # noqa: BLE001 - any function error, as Lambda sees it
            # A function error (or a crash): no message is deleted; each becomes visible again
            # after the queue's visibility timeout, and counts one more receive.
            failed_ids = None
            failure = error
            log_invocation_error(context, error, records=len(messages), then="every record back to SQS")
        self.invocations.record(
            "processor", time.monotonic() - started, error=failure is not None, timeout_s=self.timeout_s
        )
        with self._lock:
            self.tally.invocations += 1
            self.tally.records_delivered += len(messages)
            if failure is not None:
                self.tally.crashed_invocations += 1
                self.tally.records_failed += len(messages)
                self.tally.records_returned_by_error[type(failure).__name__] += len(messages)
            elif failed_ids is not None:
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
