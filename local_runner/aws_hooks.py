"""botocore event hooks: count AWS requests, and inject the faults a chaos run needs.

Hooks go into botocore's BUILTIN_HANDLERS (ahead of moto's own stubber, which is registered the same
way), so every session created afterwards, including the one behind the handlers' clients, has them.
The runner creates a fresh default boto3 session per run and resets the handlers' cached clients.

Actors: the runner's own threads (stream reader, event source pollers, the final inventory) label
themselves with ``acting_as``; calls from any other thread (the handlers and the processor's own
thread pool) count as function calls, and only those receive injected faults, as on AWS, where the
service infrastructure is not throttled by your table's or bucket's limits.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.handlers import BUILTIN_HANDLERS

from genesys_bridge import contracts

FUNCTION_ACTOR = "function"
THROTTLED_URL = "https://throttled.local-runner.invalid/"
_local = threading.local()


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    previous = getattr(_local, "actor", None)
    _local.actor = actor
    try:
        yield
    finally:
        _local.actor = previous


class ActingAs:
    """A client whose every call runs as `actor`, in whichever thread makes it (a library's own thread
    pool included, which ``acting_as`` in the caller's thread would not reach)."""

    def __init__(self, actor: str, client: Any) -> None:
        self._actor = actor
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with acting_as(self._actor):
                return attribute(*args, **kwargs)

        return call


def current_actor() -> str:
    return getattr(_local, "actor", None) or FUNCTION_ACTOR


class InjectedCrash(BaseException):
    """The processor "dies" mid-batch. A BaseException, so no `except Exception` in the function
    turns it into a handled per-record failure: the whole invocation fails, as a crash would."""


class _RawBody:
    """The minimal raw-response object botocore reads a body from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def _headers(content_type: str) -> HTTPHeaders:
    headers = HTTPHeaders()
    headers["Content-Type"] = content_type
    return headers


def _throttle_response(url: str, service: str) -> AWSResponse:
    # The error shapes AWS sends, so botocore's retry logic treats them as throttling and retries.
    if service == "dynamodb":
        body = (
            b'{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",'
            b'"message":"Injected by the local runner"}'
        )
        return AWSResponse(url, 400, _headers("application/x-amz-json-1.0"), _RawBody(body))
    body = b"<Error><Code>SlowDown</Code><Message>Injected by the local runner</Message></Error>"
    return AWSResponse(url, 503, _headers("application/xml"), _RawBody(body))


@dataclass
class AwsFaults:
    """Which faults to inject into function calls."""

    throttle_rate: float = 0.0  # share of DynamoDB and S3 HTTP attempts answered with throttling
    throttled_services: tuple[str, ...] = ("dynamodb", "s3")
    # Crash the processor at its first "mark FETCHED" after this many results have been put.
    crash_after_puts: int | None = None
    crashes: int = 1
    seed: int = 0


@dataclass
class AwsRecorder:
    """Thread-safe counters of API calls, and the moments results land (for latencies)."""

    faults: AwsFaults = field(default_factory=AwsFaults)
    calls: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (actor, service, operation)
    throttles_injected: Counter[str] = field(default_factory=Counter)
    crashes_injected: int = 0
    landed_at: dict[str, float] = field(default_factory=dict)  # S3 key -> monotonic time of first put
    puts: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self._rng.seed(self.faults.seed)

    # before-parameter-build: once per API call (not per retry), with the caller's parameters
    def on_parameters(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        service = model.service_model.endpoint_prefix
        operation = model.name
        actor = current_actor()
        context["local_runner_actor"] = actor
        with self._lock:
            self.calls[(actor, service, operation)] += 1
        if service == "s3" and operation == "PutObject" and actor == FUNCTION_ACTOR:
            context["local_runner_key"] = params.get("Key")
        if (
            actor == FUNCTION_ACTOR
            and service == "dynamodb"
            and operation == "UpdateItem"
            and self._is_mark_fetched(params)
        ):
            self._maybe_crash()

    @staticmethod
    def _is_mark_fetched(params: dict[str, Any]) -> bool:
        values = params.get("ExpressionAttributeValues") or {}
        return any(value == {"S": contracts.STATUS_FETCHED} for value in values.values())

    def _maybe_crash(self) -> None:
        faults = self.faults
        with self._lock:
            if faults.crash_after_puts is None or self.crashes_injected >= faults.crashes:
                return
            if self.puts < faults.crash_after_puts:
                return
            self.crashes_injected += 1
        raise InjectedCrash("processor crashed after writing results and before marking them")

    # after-call: the call succeeded (after botocore's retries)
    def on_after_call(self, http_response: Any, context: dict[str, Any], **_: Any) -> None:
        key = context.get("local_runner_key")
        if key is None or getattr(http_response, "status_code", 500) >= 300:
            return
        now = time.monotonic()
        with self._lock:
            self.puts += 1
            self.landed_at.setdefault(key, now)

    # before-send: once per HTTP attempt; a response returned here is used instead of sending
    def on_send(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        faults = self.faults
        if faults.throttle_rate <= 0 or current_actor() != FUNCTION_ACTOR:
            return None
        service = event_name.split(".")[1] if event_name.count(".") >= 1 else ""
        if service not in faults.throttled_services:
            return None
        with self._lock:
            if self._rng.random() >= faults.throttle_rate:
                return None
            self.throttles_injected[service] += 1
        response = _throttle_response(request.url, service)
        # botocore calls every before-send handler and uses the first response; moto's stubber comes
        # after this one and would still carry the request out. Pointing this attempt (botocore builds
        # a fresh request for each retry) at a host no mock serves makes moto pass it by, so a throttled
        # attempt has no effect, as on AWS.
        request.url = THROTTLED_URL
        return response

    def count(self, service: str, actor: str | None = None) -> int:
        with self._lock:
            return sum(
                n for (a, s, _), n in self.calls.items() if s == service and (actor is None or a == actor)
            )

    def by_operation(self) -> dict[str, int]:
        with self._lock:
            out: Counter[str] = Counter()
            for (actor, service, operation), n in self.calls.items():
                out[f"{actor}:{service}.{operation}"] += n
            return dict(sorted(out.items()))


class _Dispatcher:
    """The one object botocore knows about; it forwards to the active recorder (or does nothing)."""

    def __init__(self) -> None:
        self.recorder: AwsRecorder | None = None

    def on_parameters(self, **kwargs: Any) -> None:
        recorder = self.recorder
        if recorder is not None:
            recorder.on_parameters(**kwargs)

    def on_after_call(self, **kwargs: Any) -> None:
        recorder = self.recorder
        if recorder is not None:
            recorder.on_after_call(**kwargs)

    def on_send(self, **kwargs: Any) -> AWSResponse | None:
        recorder = self.recorder
        return recorder.on_send(**kwargs) if recorder is not None else None


_dispatcher = _Dispatcher()
_installed = False
_install_lock = threading.Lock()


_moto_lock = threading.Lock()


def _serialize_moto() -> None:
    """One moto request at a time. moto's backends are not thread-safe (two concurrent UpdateItems
    creating the same item both "create" it, and both stream an INSERT), while each AWS request is
    atomic; the handlers and the runner call moto from many threads. No call in a run long-polls, so
    the lock is held for one request's processing only; outside a run it is not taken at all."""
    from moto.core.models import botocore_stubber

    process = type(botocore_stubber).process_request
    if getattr(botocore_stubber, "_local_runner_serialized", False):
        return

    def process_request(request: Any) -> Any:
        if _dispatcher.recorder is None:
            # no local run in progress: leave moto exactly as other code in this process expects it
            return process(botocore_stubber, request)
        with _moto_lock:
            return process(botocore_stubber, request)

    botocore_stubber.process_request = process_request  # type: ignore[method-assign]
    botocore_stubber._local_runner_serialized = True  # type: ignore[attr-defined]


def install(recorder: AwsRecorder | None) -> None:
    """Route hook calls to `recorder` (None: hooks do nothing). Sessions created after the first call
    carry the hooks; create clients (and boto3's default session) afterwards."""
    global _installed
    with _install_lock:
        if not _installed:
            _serialize_moto()
            # index 0: before moto's stubber, which answers before-send for every request it mocks
            BUILTIN_HANDLERS.insert(0, ("before-send", _dispatcher.on_send))
            BUILTIN_HANDLERS.append(("before-parameter-build", _dispatcher.on_parameters))
            BUILTIN_HANDLERS.append(("after-call", _dispatcher.on_after_call))
            _installed = True
        _dispatcher.recorder = recorder
