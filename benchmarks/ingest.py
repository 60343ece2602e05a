"""Figure 5: CPU per event in the ingest function, and DynamoDB requests per event, AWS stubbed locally."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from benchmarks.awsstub import StubAws
from benchmarks.lambda_drive import LambdaContext, load_handler, run_isolated, stdout_silenced

# The end topics a conversation emits; several per conversation is the normal case the buffer dedupes.
END_TOPICS = ("customer.end", "user.end", "acw")


def synthetic_events(conversations: int, per_conversation: int = len(END_TOPICS)) -> list[dict[str, Any]]:
    """EventBridge events shaped like Genesys' (see shared/fixtures), interleaved across conversations."""
    ids = [str(uuid.uuid4()) for _ in range(conversations)]
    events: list[dict[str, Any]] = []
    for round_ in range(per_conversation):
        topic = END_TOPICS[round_ % len(END_TOPICS)]
        for conversation_id in ids:
            events.append(
                {
                    "version": "0",
                    "id": str(uuid.uuid4()),
                    "detail-type": f"v2.detail.events.conversation.{{id}}.{topic}",
                    "source": "aws.partner/genesys.com/cloud/7d2c4f80-1a6b-4e39-8c0d-5b3e9f21a7c4/bench",
                    "account": "111122223333",
                    "time": "2026-11-20T14:03:27Z",
                    "region": "us-east-1",
                    "resources": [],
                    "detail": {
                        "topicName": f"v2.detail.events.conversation.{conversation_id}.{topic}",
                        "version": "2",
                        "eventBody": {
                            "eventTime": 1795183407412,
                            "conversationId": conversation_id,
                            "mediaType": "VOICE",
                            "direction": "INBOUND",
                        },
                        "metadata": {"CorrelationId": str(uuid.uuid4())},
                        "timestamp": "2026-11-20T14:03:27.412Z",
                    },
                }
            )
    return events


@dataclass(frozen=True)
class IngestFigures:
    events: int
    cpu_us_per_event: float
    dynamodb_requests_per_event: float
    other_aws_requests: int
    path: str  # what was driven: the Lambda handler or, failing that, the service


_CONTEXT = LambdaContext(
    function_name="bench-ingest",
    memory_limit_in_mb=256,
    aws_request_id="00000000-0000-4000-8000-000000000000",
    log_stream_name="bench",
    remaining_ms=60_000,
)


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    previous = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


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


def _handler_driver(stub: StubAws) -> Callable[[Any], Any]:
    """lambdas/ingest/handler.py itself, its boto3 clients answered by the stub."""
    return load_handler("ingest", "bench_ingest_handler", stub, _CONTEXT)


def _service_driver(stub: StubAws) -> Callable[[Any], Any]:
    from genesys_bridge.buffer import BufferTable
    from genesys_bridge.ingest import IngestService
    from genesys_bridge.metrics import NullMetrics

    service = IngestService(
        BufferTable(stub.client("dynamodb"), "bench-buffer", ttl_hours=48),
        stub.client("sqs"),
        "https://sqs.us-east-1.amazonaws.com/111122223333/bench-quarantine",
        NullMetrics(),
        topics=frozenset(END_TOPICS),
        work_queue_url="https://sqs.us-east-1.amazonaws.com/111122223333/bench-work",
    )
    return lambda event: service.handle(event)


def measure_ingest(conversations: int, warmup: int = 60) -> IngestFigures:
    """Drive `conversations` x 3 events through the ingest handler; CPU is process time, not wall time.

    The Lambda handler (Powertools logger, metrics and tracer decorators included) is preferred; the
    service alone is the fallback while the handler cannot be loaded, and the row says which ran.
    """
    stub = StubAws()
    with _environment(_handler_env()):
        try:
            handle = _handler_driver(stub)
            path = "lambdas/ingest/handler.py handler()"
        except Exception as error:  # noqa: BLE001 - fall back, and say so in the table
            handle = _service_driver(stub)
            path = f"IngestService only (handler not loadable: {error!r})"
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
    return IngestFigures(len(events), cpu / len(events) * 1e6, dynamodb / len(events), other, path)


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
