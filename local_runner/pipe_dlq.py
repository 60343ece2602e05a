"""The pipe's failing deliveries, as the local runner plays them, and the record Pipes dead-letters.

EventBridge Pipes retries a batch whose target put fails, and after its retries puts a pointer to the
batch in the pipe's DLQ: the stream ARN, the shard and the batch's first and last sequence numbers
(`DDBStreamBatchInfo`; https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-error-troubleshooting.html).
`TargetFaults` decides, reproducibly from the run's seed, which batches fail every attempt;
`pipe_dlq_record` writes what Pipes would then write. The pipe DLQ function (lambdas/pipe_dlq) reads
those pointers back from moto's stream, as it does on AWS. `create_pipe_dead_letter_queues` makes the
two queues as the stack does (stacks/pipe_dlq.py).
"""

from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from stacks.config_fixed import PIPE_DLQ_MAX_RECEIVE_COUNT, PIPE_DLQ_RESOLVER_TIMEOUT_SECONDS

# What Pipes writes as the failure condition after the retry attempts.
RETRIES_EXHAUSTED = "RetryAttemptsExhausted"


class TargetFaults:
    """Which pipe batches fail their target put on every attempt (so Pipes dead-letters them)."""

    def __init__(self, rate: float, seed: int) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"pipe target failure rate must be within 0..1, got {rate}")
        self.rate = rate
        self._random = random.Random(f"pipe-target-{seed}")
        self._lock = threading.Lock()
        self.failed_batches = 0

    def batch_fails(self) -> bool:
        if self.rate <= 0.0:
            return False
        with self._lock:
            fails = self._random.random() < self.rate
            self.failed_batches += int(fails)
            return fails


def _arrival(record: dict[str, Any]) -> str:
    created = record.get("dynamodb", {}).get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        moment = created if created.tzinfo else created.replace(tzinfo=UTC)
    elif isinstance(created, int | float):
        moment = datetime.fromtimestamp(created, tz=UTC)
    else:
        moment = datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pipe_dlq_record(records: list[dict[str, Any]], *, stream_arn: str, shard_id: str, pipe_arn: str) -> str:
    """The Pipes dead-letter record for a failed batch of stream `records` (oldest first)."""
    if not records:
        raise ValueError("a dead-lettered batch has at least one record")
    first, last = records[0], records[-1]
    return json.dumps(
        {
            "context": {"partnerResourceArn": pipe_arn, "condition": RETRIES_EXHAUSTED},
            "version": "1.0",
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": first["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": last["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _arrival(first),
                "approximateArrivalOfLastRecord": _arrival(last),
                "batchSize": len(records),
                "streamArn": stream_arn,
            },
        }
    )


@dataclass(frozen=True)
class LocalPipeDeadLetterQueues:
    url: str  # the pipe DLQ, read by the pipe DLQ function
    arn: str
    unresolved_url: str  # where a pointer goes after PIPE_DLQ_MAX_RECEIVE_COUNT deliveries
    visibility_s: int


def create_pipe_dead_letter_queues(
    sqs: Any, *, stack_name: str, scale: Any, min_visibility_s: int
) -> LocalPipeDeadLetterQueues:
    """The pipe DLQ as the stack builds it (stacks/pipe_dlq.py): read by the pipe DLQ function,
    with a redrive to the unresolved queue after PIPE_DLQ_MAX_RECEIVE_COUNT deliveries.
    `scale` is the run's local_runner.aws.TimeScale."""
    prefix = stack_name.lower()
    unresolved_url: str = sqs.create_queue(QueueName=f"{prefix}-pipe-unresolved")["QueueUrl"]
    unresolved_arn = _queue_arn(sqs, unresolved_url)
    # The stack's 6 x the function's timeout, scaled like the work queue's, never below the floor.
    visibility_s = max(scale.whole_seconds(6 * PIPE_DLQ_RESOLVER_TIMEOUT_SECONDS), min_visibility_s)
    url: str = sqs.create_queue(
        QueueName=f"{prefix}-pipe-dlq",
        Attributes={
            "VisibilityTimeout": str(visibility_s),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": unresolved_arn, "maxReceiveCount": PIPE_DLQ_MAX_RECEIVE_COUNT}
            ),
        },
    )["QueueUrl"]
    return LocalPipeDeadLetterQueues(
        url=url, arn=_queue_arn(sqs, url), unresolved_url=unresolved_url, visibility_s=visibility_s
    )


def _queue_arn(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])
