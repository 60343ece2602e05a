"""Lambda's asynchronous invocation, as EventBridge's rule target uses it for the ingest function.

Each event is one invocation, up to `concurrency` at a time (Lambda runs async invocations in parallel,
and a throttled DynamoDB write sleeps through the SDK's backoff). A raised error is logged with its
cause, as the Lambda runtime logs an unhandled error, and retried INGEST_ASYNC_RETRY_ATTEMPTS times
(stacks/config_fixed.py; scaled delays); then the event goes to the on-failure queue as a Lambda
on-failure record.
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html
"""

from __future__ import annotations

import heapq
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local_runner.aws_hooks import acting_as
from local_runner.functions import Handler, InvocationStats, LambdaContext, log_invocation_error
from local_runner.workload import PlannedEvent

# Lambda's asynchronous invocation retry schedule: the second attempt about a minute after the first,
# the third about two minutes after the second (the page above, "Error handling and automatic retries").
ASYNC_RETRY_DELAYS_S = (60.0, 120.0)
# How often the idle invoker looks for due retries: short enough not to add latency, long enough not
# to burn a core.
IDLE_POLL_S = 0.05
# How often an event that ends its conversation again asks whether the conversation has landed yet.
REOPEN_RECHECK_S = 0.5


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
    error_causes: Counter[str] = field(default_factory=Counter)  # "ErrorType: message" -> invocations


class AsyncInvoker(threading.Thread):
    """Invokes the ingest function once per planned event, with Lambda's async retries."""

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
        before_reopen: Callable[[PlannedEvent], bool] = lambda planned: True,
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
        # Called when an event that ends its conversation again is due; False: not yet (asked again).
        self.before_reopen = before_reopen
        self.timeout_s = timeout_s
        self.interval = 1.0 / events_per_second if events_per_second else 0.0
        self.concurrency = max(1, concurrency)
        self.tally = IngestTally()
        self.done = threading.Event()
        self.stop_requested = threading.Event()
        self.error: BaseException | None = None
        # (due, seq, attempt, event): Lambda's retries, and first deliveries that wait (not_before_s)
        self._retries: list[tuple[float, int, int, PlannedEvent]] = []
        self._seq = 0
        self._lock = threading.Lock()
        # at most this many invocations started and not finished: keeps the input order roughly intact
        self._slots = threading.BoundedSemaphore(self.concurrency)

    def run(self) -> None:
        try:
            with ThreadPoolExecutor(self.concurrency, thread_name_prefix="ingest") as pool:
                # paced from the start, not from the last send: the rate holds however long a send takes
                paced_from, paced = time.monotonic(), 0
                for planned in self.events:
                    if self.stop_requested.is_set():
                        break
                    self._submit_due_retries(pool)
                    if planned.conversation_id and planned.conversation_id not in self.tally.first_seen:
                        self.on_first_event(planned.conversation_id)
                        self.tally.first_seen[planned.conversation_id] = time.monotonic()
                    self.tally.deliveries += 1
                    due = self._not_before(planned)
                    if due is not None or planned.reopens:
                        # Genesys sends it later (an acw event once wrap-up ends): its first attempt waits
                        with self._lock:
                            self._seq += 1
                            heapq.heappush(self._retries, (due or 0.0, self._seq, 1, planned))
                        continue
                    self._submit(pool, planned, attempt=1)
                    if self.interval:
                        paced += 1
                        time.sleep(max(0.0, paced_from + paced * self.interval - time.monotonic()))
                while not self.stop_requested.is_set():
                    self._submit_due_retries(pool)
                    if not self._retries and self._idle():
                        break
                    time.sleep(IDLE_POLL_S)
        except BaseException as error:  # noqa: BLE001 - reported by the runner, never swallowed
            self.error = error
        finally:
            self.done.set()

    def _not_before(self, planned: PlannedEvent) -> float | None:
        """When a planned event may be delivered at the earliest (monotonic), if that is still ahead:
        `not_before_s` after its conversation's first event (local_runner.workload)."""
        if planned.not_before_s <= 0 or planned.conversation_id is None:
            return None
        due = self.tally.first_seen[planned.conversation_id] + planned.not_before_s
        return due if due > time.monotonic() else None

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
                if attempt == 1 and planned.reopens and not self.before_reopen(planned):
                    self._seq += 1
                    heapq.heappush(self._retries, (now + REOPEN_RECHECK_S, self._seq, 1, planned))
                    return
                if attempt > 1:  # attempt 1: a first delivery that waited for its moment
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
            retry = attempt <= self.retry_attempts
            delay = self.retry_delays[min(attempt - 1, len(self.retry_delays) - 1)]
            log_invocation_error(
                context,
                error,
                attempt=attempt,
                then=f"retry in {delay:g} s" if retry else "on-failure queue",
            )
            with self._lock:
                self.tally.errors += 1
                self.tally.error_causes[f"{type(error).__name__}: {str(error)[:200]}"] += 1
                if retry:
                    self._seq += 1
                    heapq.heappush(self._retries, (time.monotonic() + delay, self._seq, attempt + 1, planned))
            if not retry:
                self._send_to_failure_queue(planned, attempt, error, context)
            return
        self.invocations.record("ingest", time.monotonic() - started, error=False, timeout_s=self.timeout_s)
        outcome = result.get("outcome") if isinstance(result, dict) else None
        with self._lock:
            if outcome == "created":
                self.tally.created += 1
            elif outcome in ("duplicate", "ended_again"):  # (ended again: a duplicate that re-fetches)
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
        try:
            body = json.dumps(record, default=str)
        except (RecursionError, ValueError):  # an event nested past the interpreter's recursion limit
            record["requestPayload"] = "(event nested too deeply to serialize here)"
            body = json.dumps(record, default=str)
        with acting_as("lambda-async"):
            self.sqs.send_message(QueueUrl=self.failure_queue_url, MessageBody=body)
        with self._lock:
            self.tally.failed_to_queue += 1
