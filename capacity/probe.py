"""Measure the processor function's own cost per batch and per conversation, as benchmarks/ingest.py does
for the ingest function: lambdas/processor/handler.py itself, its AWS clients answered in-process by
benchmarks.awsstub.StubAws, Genesys answered by the simulator running in ANOTHER process, so the CPU
time counted here is the function's alone (parsing, the Genesys client, serialization, signing).

Run as `python -m capacity.probe` (a fresh interpreter, as a Lambda container is one); prints one JSON
line. capacity.measure starts it and keeps the figures in capacity/measurements.json.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders

from benchmarks.awsstub import StubAws
from benchmarks.lambda_drive import LambdaContext, load_handler, project_env, stdout_silenced
from benchmarks.paths import REPO

BATCH_SIZES = (1, 10, 50, 100)
REPEATS = 3
WARMUP_BATCH = 10
# an ARN, not a secret: the stub hands the simulator's public test credentials to whoever asks
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:probe-genesys-AbCdEf"  # noqa: S105
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/111122223333/probe-work"


class _EmptyBody:
    """The one method of a urllib3 response that botocore reads a body through."""

    def stream(self, **_kwargs: Any) -> Iterator[bytes]:
        yield b""


class _ProbeAws(StubAws):
    """StubAws that also hands out the Genesys credentials secret the processor reads and answers S3
    PutObject (whose body is the conversation, streamed, and whose answer is headers only)."""

    def __init__(self, credentials: dict[str, str]) -> None:
        super().__init__()
        self._secret = json.dumps(credentials)

    def _answer(self, request: AWSPreparedRequest, event_name: str, **kwargs: Any) -> AWSResponse:
        _hook, service, operation = event_name.split(".", 2)
        if service != "s3":
            return super()._answer(request, event_name, **kwargs)
        self.calls[(service, operation)] += 1
        headers = HTTPHeaders()
        headers["x-amz-request-id"] = str(uuid.uuid4())
        headers["ETag"] = '"probe"'
        return AWSResponse(request.url, 200, headers, _EmptyBody())

    def _response(self, service: str, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        if service in ("secretsmanager", "secrets-manager") and operation == "GetSecretValue":
            return {"ARN": SECRET_ARN, "Name": "probe-genesys", "SecretString": self._secret}
        return super()._response(service, operation, body)


_CONTEXT = LambdaContext(
    function_name="probe-processor",
    memory_limit_in_mb=512,
    aws_request_id="00000000-0000-4000-8000-000000000001",
    log_stream_name="probe",
    remaining_ms=120_000,
)


@contextlib.contextmanager
def _simulator(conversations: int) -> Iterator[tuple[str, list[str], dict[str, str]]]:
    """The Genesys simulator in its own process: base URL, conversation ids, credentials."""
    from genesys_simulator import SimulatorConfig

    defaults = SimulatorConfig()
    with tempfile.TemporaryDirectory() as scratch:
        ids_file = Path(scratch) / "ids.txt"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "genesys_simulator",
                "--conversations",
                str(conversations),
                "--requests-per-minute",
                "0",
                "--ids-file",
                str(ids_file),
            ],
            cwd=REPO,
            env=project_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert process.stdout is not None
            base_url = process.stdout.readline().strip()
            if not base_url.startswith("http://127.0.0.1"):
                raise RuntimeError(f"the simulator did not start (first line {base_url!r})")
            ids = ids_file.read_text().split()
            yield base_url, ids, {"client_id": defaults.client_id, "client_secret": defaults.client_secret}
        finally:
            process.terminate()
            process.wait(timeout=10)


def _environment(base_url: str) -> dict[str, str]:
    from genesys_bridge import contracts
    from stacks.config import load_environment_config
    from stacks.function_environments import GenesysEndpoints, powertools_environment, processor_environment

    prod = load_environment_config("prod")  # the deployed not-ready schedule
    return {
        **powertools_environment(contracts.PROCESSOR_SERVICE),
        **processor_environment(
            prod,
            buffer_table_name="probe-buffer",
            results_bucket_name="probe-results",
            credentials_secret_arn=SECRET_ARN,
            work_queue_url=QUEUE_URL,
            work_dlq_url=QUEUE_URL + "-dlq",
            genesys=GenesysEndpoints("mypurecloud.ie", base_url, base_url),
        ),
        # no pacing wait in the figure: pacing is the model's business, from the deployed budget
        contracts.GENESYS_MAX_REQUESTS_PER_MINUTE: "100000",
        contracts.GENESYS_IDS_PER_REQUEST: "100",
        contracts.GENESYS_CONCURRENT_CALLERS: "1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "probe",
        "AWS_SECRET_ACCESS_KEY": "probe",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


def _sqs_event(ids: list[str]) -> dict[str, Any]:
    now_ms = str(int(time.time() * 1000))
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": f"probe-{uuid.uuid4()}",
                "body": json.dumps({"conversationId": conversation_id}),
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": now_ms},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:probe-work",
                "awsRegion": "us-east-1",
            }
            for conversation_id in ids
        ]
    }


def _handler(stub: StubAws) -> Callable[[dict[str, Any]], Any]:
    handle = load_handler("processor", "probe_processor_handler", stub, _CONTEXT)
    # Powertools' secrets provider builds its own boto3 session; hand it a client the stub answers.
    from aws_lambda_powertools.utilities.parameters import SecretsProvider, base

    base.DEFAULT_PROVIDERS["secrets"] = SecretsProvider(boto3_client=stub.client("secretsmanager"))
    return handle


def fit_line(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares intercept and slope of y = a + b * x (x: batch size, y: seconds)."""
    n = len(points)
    if n < 2 or len({x for x, _ in points}) < 2:
        raise ValueError("a line needs points at two batch sizes at least")
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x, _ in points)
    return mean_y - slope * mean_x, slope


def measure_processor() -> dict[str, Any]:
    needed = WARMUP_BATCH + REPEATS * sum(BATCH_SIZES)
    with _simulator(needed) as (base_url, ids, credentials):
        os.environ.update(_environment(base_url))
        stub = _ProbeAws(credentials)
        handle = _handler(stub)
        from genesys_bridge import runtime

        remaining = iter(ids)

        def take(count: int) -> list[str]:
            return [next(remaining) for _ in range(count)]

        with stdout_silenced():
            handle(_sqs_event(take(WARMUP_BATCH)))  # settings, clients, token, secret: cold-start work
        stub.calls.clear()
        samples: list[dict[str, Any]] = []
        calls: Counter[str] = Counter()
        conversations = 0
        requests_before = runtime.genesys_client().stats.snapshot().get("requests", 0)
        for _ in range(REPEATS):
            for size in BATCH_SIZES:
                event = _sqs_event(take(size))
                stub.calls.clear()
                with stdout_silenced():
                    cpu_started, wall_started = time.process_time(), time.perf_counter()
                    response = handle(event)
                    cpu, wall = time.process_time() - cpu_started, time.perf_counter() - wall_started
                if response.get("batchItemFailures"):
                    raise RuntimeError(f"the probe batch of {size} had failures: {response}")
                samples.append({"batch": size, "cpu_s": round(cpu, 6), "wall_s": round(wall, 6)})
                for (service, operation), count in stub.calls.items():
                    calls[f"{service}.{operation}"] += count
                conversations += size
        requests = runtime.genesys_client().stats.snapshot().get("requests", 0) - requests_before
    # The fastest of the repeats per batch size: on shared cores, other processes only ever add time.
    fastest = [
        min((s for s in samples if s["batch"] == size), key=lambda s: s["cpu_s"]) for size in BATCH_SIZES
    ]
    fixed, per_conversation = fit_line([(s["batch"], s["cpu_s"]) for s in fastest])
    wall_fixed, wall_per_conversation = fit_line([(s["batch"], s["wall_s"]) for s in fastest])
    return {
        "path": "lambdas/processor/handler.py handler()",
        "cpu_seconds_per_batch": round(max(fixed, 0.0), 6),
        "cpu_seconds_per_conversation": round(per_conversation, 7),
        "wall_seconds_per_batch_loopback": round(max(wall_fixed, 0.0), 6),
        "wall_seconds_per_conversation_loopback": round(wall_per_conversation, 7),
        "samples": samples,
        "conversations": conversations,
        "genesys_requests": int(requests),
        "aws_calls_per_conversation": {
            name: round(count / conversations, 4) for name, count in sorted(calls.items())
        },
    }


if __name__ == "__main__":
    print(json.dumps(measure_processor()))
