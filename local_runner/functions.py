"""The two Lambda functions as the runner calls them: loaded from their files, with a Lambda context.

Handlers are loaded by file path (as the Lambda runtime does from the asset), each with its own
environment applied while its module initialises, because Powertools reads the service name from the
environment when the module creates its Logger and Metrics. Their JSON output (logs, EMF metrics)
goes to a log file through ``StdoutRouter``, so the terminal keeps the progress bar and the summary.

Lambda runs one invocation per execution environment at a time; the runner runs many at once in one
process. ``isolate_metrics`` gives each thread (each invocation in flight) its own Powertools metric
set, as its own environment would: https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import itertools
import json
import logging
import sys
import threading
import time
import traceback
import uuid
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from local_runner.aws import env_overlay

REPO_ROOT = Path(__file__).resolve().parent.parent
INGEST_HANDLER = REPO_ROOT / "lambdas" / "ingest" / "handler.py"
PROCESSOR_HANDLER = REPO_ROOT / "lambdas" / "processor" / "handler.py"
PIPE_DLQ_HANDLER = REPO_ROOT / "lambdas" / "pipe_dlq" / "handler.py"

_load_counter = itertools.count(1)

Handler = Callable[[Any, Any], Any]


class StdoutRouter(io.TextIOBase):
    """A stand-in for sys.stdout whose destination can change between runs.

    Powertools' Logger keeps the stream it was created with; the router stays that stream, so a
    second run in the same process (tests, benchmarks) writes to its own log file, not a closed one.
    """

    def __init__(self, fallback: TextIO) -> None:
        super().__init__()
        self.fallback = fallback
        self.target: TextIO | None = None
        self._lock = threading.Lock()

    def _destination(self) -> TextIO:
        if self.target is not None:
            return self.target
        # Between runs: whatever stdout is now (a later test's capture, say), not a stale one.
        current = sys.stdout
        return self.fallback if current is self else current

    def write(self, text: str) -> int:
        with self._lock:
            return self._destination().write(text)

    def flush(self) -> None:
        with self._lock:
            self._destination().flush()

    def writable(self) -> bool:
        return True


_router: StdoutRouter | None = None


def route_stdout(target: TextIO | None) -> None:
    """Send function output to `target` (None: back to the real stdout)."""
    global _router
    if target is not None:
        if _router is None:
            _router = StdoutRouter(sys.stdout)
        if sys.stdout is not _router:
            # whatever stdout is now (a terminal, pytest's capture) is where it goes back to
            _router.fallback = sys.stdout
        _router.target = target
        sys.stdout = _router
    elif _router is not None:
        _router.target = None
        if sys.stdout is _router:
            sys.stdout = _router.fallback


@contextmanager
def logger_streams_to_stdout(names: list[str]) -> Iterator[None]:
    """Point the stream handlers of these loggers at the (routed) stdout for the run.

    Powertools configures a service's logger once per process, with the stdout of that moment; when
    something else in the process (a test suite, a benchmark) imported the handlers first, their logs
    would miss the run's log file. The previous streams are put back afterwards.
    """
    swapped: list[tuple[logging.StreamHandler[Any], Any]] = []
    for name in names:
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
                swapped.append((handler, handler.setStream(sys.stdout)))
    try:
        yield
    finally:
        for handler, stream in swapped:
            handler.setStream(stream)


def load_handler(path: Path, env: dict[str, str]) -> ModuleType:
    """Import a handler file as a fresh module, with its function's environment applied meanwhile."""
    name = f"local_runner_functions.{path.parent.name}_handler_{next(_load_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    with env_overlay(env):
        spec.loader.exec_module(module)
    return module


class PerThreadDict(MutableMapping[str, Any]):
    """A dict whose contents belong to the thread that reads or writes it."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _own(self) -> dict[str, Any]:
        own: dict[str, Any] | None = getattr(self._local, "data", None)
        if own is None:
            own = self._local.data = {}
        return own

    def __getitem__(self, key: str) -> Any:
        return self._own()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._own()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._own()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._own())

    def __len__(self) -> int:
        return len(self._own())


def isolate_metrics(module: ModuleType) -> None:
    """Give the handler module's Powertools ``Metrics`` a metric context per invocation thread.

    Powertools keeps metrics, dimensions and metadata in dicts shared by every ``Metrics`` instance of
    the process (class attributes, aws_lambda_powertools/metrics/metrics.py), which ``log_metrics``
    serializes and clears after each invocation. In Lambda that process serves one invocation at a
    time; here concurrent invocations would flush each other's values, or find the set emptied between
    the check and the serialization (``SchemaValidationError: Must contain at least one metric``). The
    provider behind the handler's decorator reads these dicts through its attributes on every call, so
    per-thread dicts there make each invocation's flush its own. The services add their metrics on the
    invocation's own thread (genesys_bridge.processor emits per batch, after its worker pool).
    """
    metrics = getattr(module, "metrics", None)
    provider = getattr(metrics, "provider", None)
    if provider is None:
        return
    for name in ("metric_set", "dimension_set", "metadata_set"):
        if isinstance(getattr(provider, name, None), dict):
            setattr(provider, name, PerThreadDict())
            setattr(metrics, name, getattr(provider, name))


def log_invocation_error(context: LambdaContext, error: BaseException, **extra: Any) -> None:
    """Write a function error to the function's log, as the Lambda runtime does for an unhandled one.

    The runner's own note (what happens next: a retry, the on-failure queue) goes with it.
    """
    record = {
        "level": "ERROR",
        "logger": "local_runner",
        "message": "function invocation failed",
        "function": context.function_name,
        "requestId": context.aws_request_id,
        "errorType": type(error).__name__,
        "errorMessage": str(error)[:1000],
        "stackTrace": traceback.format_exception(error)[-6:],
        **extra,
    }
    print(json.dumps(record, default=str), flush=True)


def reset_runtime() -> None:
    """Drop the functions' cached settings and clients (a new "cold start") if the runtime offers it."""
    try:
        runtime = importlib.import_module("genesys_bridge.runtime")
    except ImportError:
        return
    for name in ("reset", "reset_runtime", "reset_cache", "clear_cache"):
        reset = getattr(runtime, name, None)
        if callable(reset):
            reset()
            return


@dataclass
class LambdaContext:
    """What the handlers use of Lambda's context object; the remaining time counts down for real."""

    function_name: str
    timeout_s: float
    memory_limit_in_mb: int
    region: str
    account_id: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local-runner"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self._started)) * 1000))


@dataclass
class InvocationStats:
    """Invocations per function: counts, durations, errors, and runs past the timeout."""

    durations: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    timeouts: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, function: str, seconds: float, *, error: bool, timeout_s: float) -> None:
        with self._lock:
            self.durations[function].append(seconds)
            if error:
                self.errors[function] += 1
            if seconds > timeout_s:
                self.timeouts[function] += 1

    def count(self, function: str) -> int:
        with self._lock:
            return len(self.durations.get(function, []))


@contextmanager
def function_output(log_path: Path) -> Iterator[TextIO]:
    """Function output (Powertools JSON logs and EMF, the package's standard-library logs) to a file.

    In Lambda the runtime sends stdout and the root logger to CloudWatch Logs; here both go to
    log_path. The package's loggers created after the handler's copy_config_to_registered_loggers
    (modules loaded lazily) get a plain JSON line handler, as they would reach CloudWatch via the root.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w", encoding="utf-8") as log:
        route_stdout(log)
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(
            logging.Formatter('{"level":"%(levelname)s","logger":"%(name)s","message":"%(message)s"}')
        )
        package_logger = logging.getLogger("genesys_bridge")
        previous_level = package_logger.level
        package_logger.addHandler(handler)
        package_logger.setLevel(logging.INFO)
        try:
            with warnings.catch_warnings():
                # Powertools warns on stderr when an invocation emitted no metric (a batch of only
                # not-ready messages); in Lambda that lands in the function's log, so it does here.
                warnings.filterwarnings("ignore", message="No application metrics to publish")
                yield log
        finally:
            package_logger.removeHandler(handler)
            package_logger.setLevel(previous_level)
            route_stdout(None)
