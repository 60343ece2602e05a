"""Figure 5: CPU per event in the ingest function, and DynamoDB requests per event, AWS stubbed locally."""

from __future__ import annotations

import dataclasses
import json
import random
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from benchmarks.awsstub import StubAws
from benchmarks.lambda_drive import load_handler, run_isolated, stdout_silenced
from local_runner.aws import env_overlay
from local_runner.functions import LambdaContext

# The end topics a conversation emits; several per conversation is the normal case the buffer dedupes.
END_TOPICS = ("customer.end", "user.end", "acw")


def synthetic_events(conversations: int, per_conversation: int = len(END_TOPICS)) -> list[dict[str, Any]]:
    """EventBridge events shaped like Genesys' (the local runner's), interleaved across conversations."""
    from local_runner.workload import conversation_event

    rng, at = random.Random(5), datetime(2026, 11, 20, 14, 3, 27, 412000, tzinfo=UTC)
    ids = [str(uuid.uuid4()) for _ in range(conversations)]
    topics = [END_TOPICS[round_ % len(END_TOPICS)] for round_ in range(per_conversation)]
    return [conversation_event(cid, topic, at, rng, "us-east-1") for topic in topics for cid in ids]


@dataclass(frozen=True)
class IngestFigures:
    events: int
    cpu_us_per_event: float
    dynamodb_requests_per_event: float
    other_aws_requests: int
    path: str  # what was driven


def _context() -> LambdaContext:
    return LambdaContext("bench-ingest", timeout_s=60, memory_limit_in_mb=256, region="us-east-1",
                         account_id="111122223333")  # fmt: skip


def _handler_env() -> dict[str, str]:
    from genesys_bridge import contracts

    return {
        contracts.BUFFER_TABLE_NAME: "bench-buffer",
        contracts.QUARANTINE_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/111122223333/bench-quarantine",
        contracts.BUFFER_TTL_HOURS: "48",
        contracts.CONVERSATION_TOPICS: ",".join(END_TOPICS),
        contracts.WORK_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/111122223333/bench-work",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        # tracing is off, as outside Lambda: X-Ray segments need the daemon Lambda runs beside the function
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


def measure_ingest(conversations: int, warmup: int = 60) -> IngestFigures:
    """Drive `conversations` x 3 events through the ingest handler (Powertools logger, metrics and tracer
    decorators included); CPU is process time, not wall time."""
    stub = StubAws()
    with env_overlay(_handler_env()):
        handle = load_handler("ingest", stub, _context())
        try:
            events = synthetic_events(conversations)
            # warm-up on other conversations: the first calls build settings, clients and caches (cold
            # start is figure 3's business; this figure is the steady cost per event)
            with stdout_silenced():
                for event in synthetic_events(max(1, warmup // len(END_TOPICS))):
                    handle(event)
            stub.calls.clear()
            with stdout_silenced():
                started = time.process_time()
                for event in events:
                    handle(event)
                cpu = time.process_time() - started
        finally:
            _reset_runtime()
    dynamodb = stub.count("dynamodb")
    other = sum(stub.calls.values()) - dynamodb
    return IngestFigures(
        len(events),
        cpu / len(events) * 1e6,
        dynamodb / len(events),
        other,
        "lambdas/ingest/handler.py handler()",
    )


def _reset_runtime() -> None:
    # the runtime caches clients wired to the stub; later figures must build their own
    import boto3

    from genesys_bridge import runtime

    runtime.reset()
    boto3.DEFAULT_SESSION = None


def measure_ingest_isolated(conversations: int) -> IngestFigures:
    """measure_ingest in a fresh interpreter, as a Lambda container is one (see run_isolated)."""
    figures = run_isolated(
        "benchmarks.ingest", [str(conversations)], timeout=900, what="ingest benchmark process"
    )
    return IngestFigures(**figures)


if __name__ == "__main__":
    print(json.dumps(dataclasses.asdict(measure_ingest(int(sys.argv[1])))))
