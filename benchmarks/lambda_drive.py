"""Driving a Lambda handler in-process for a CPU figure, as benchmarks/ingest.py does.

The handler module is loaded from lambdas/<name>/handler.py, its boto3 clients answered by a StubAws,
and the figures are taken in a fresh interpreter (as a Lambda container is one) that prints one JSON
line: run_isolated starts it and reads that line.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

from benchmarks.awsstub import StubAws
from benchmarks.paths import LAMBDAS, REPO, SHARED


def project_env() -> dict[str, str]:
    """This process's environment, with the repository and the layer's package importable."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(SHARED)])}


@contextlib.contextmanager
def stdout_silenced() -> Iterator[None]:
    # Powertools writes one JSON log line and one EMF blob per invocation to fd 1; they still get
    # formatted (that CPU is real in Lambda too) but are kept out of what the measuring process prints.
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def load_handler(function: str, stub: StubAws, context: Any) -> Callable[[Any], Any]:
    """lambdas/<function>/handler.py itself, its boto3 clients answered by the stub.

    The stub is registered on boto3's default session, from which the runtime's clients copy their
    event hooks when it creates them: no private state of the runtime is touched.
    """
    import boto3

    from genesys_bridge import runtime
    from local_runner.functions import load_handler as load_file

    module = load_file(LAMBDAS / function / "handler.py", {})
    runtime.reset()
    session = boto3.session.Session(region_name="us-east-1")
    stub.attach(session.events)
    boto3.DEFAULT_SESSION = session  # what boto3.client(...) in the runtime uses
    return lambda event: module.handler(event, context)


def run_isolated(module: str, args: list[str], *, timeout: float, what: str) -> Any:
    """`python -m module args` in a fresh interpreter; the JSON of the last line it prints.

    Loading a handler configures Powertools' logging on the package's loggers, sets environment
    variables and boto3's default session; in its own process none of that leaks into what is measured
    after it (or into the printed table).
    """
    result = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=project_env(),
        check=False,
        timeout=timeout,
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"{what} failed: {result.stderr.strip()[-800:]}")
    return json.loads(lines[-1])
