"""Figure 3: cold-start import time, each module in a fresh interpreter, as Lambda would import it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.stats import median

# Run in the child: put the given directories first on sys.path (Lambda puts the function's code dir
# and /opt/python there), then time nothing but the import itself. Interpreter start-up is the same
# for every module and is left out so the figure compares the modules, not Python.
_CHILD = """
import importlib, json, sys, time
sys.path[:0] = json.loads(sys.argv[1])
started = time.perf_counter()
importlib.import_module(sys.argv[2])
print(time.perf_counter() - started)
"""


@dataclass(frozen=True)
class ImportTarget:
    label: str
    module: str
    sys_path: tuple[str, ...] = ()
    # e.g. ("-B",): write no .pyc, so a folder without __pycache__ compiles on every import, as a
    # layer built with pip --no-compile does on Lambda's read-only /opt
    flags: tuple[str, ...] = ()


# What the Lambda runtime itself sets in every function's environment before it imports the handler
# (none of it is the function's own configuration). It matters: the X-Ray SDK, loaded by Powertools'
# Tracer, checks LAMBDA_TASK_ROOT at import and, outside Lambda, builds a centralised sampler with two
# botocore X-Ray clients (about 100 ms) that a Lambda container never creates. Without these, the
# figure would time a code path that does not run on Lambda.
LAMBDA_RUNTIME_ENV = {
    "LAMBDA_TASK_ROOT": "/var/task",
    "LAMBDA_RUNTIME_DIR": "/var/runtime",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.14",
    "AWS_LAMBDA_FUNCTION_NAME": "import-benchmark",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _clean_env() -> dict[str, str]:
    # No project variables and no PYTHONPATH: importing a handler must need no configuration at all;
    # only what Lambda's runtime provides to every function, for every module timed alike.
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    return {key: value for key, value in os.environ.items() if key in keep} | LAMBDA_RUNTIME_ENV


def import_seconds(target: ImportTarget, python: str = sys.executable) -> float:
    """One fresh interpreter; -I keeps the user's site dir and PYTHON* variables out of it."""

    result = subprocess.run(
        [python, "-I", *target.flags, "-c", _CHILD, json.dumps(list(target.sys_path)), target.module],
        capture_output=True,
        text=True,
        env=_clean_env(),
        check=False,
        timeout=300,
    )
    if result.returncode != 0:
        last = result.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"import {target.module} failed: {last[0]}")
    return float(result.stdout.strip().splitlines()[-1])


def measure_imports(targets: Sequence[ImportTarget], runs: int) -> dict[str, list[float] | str]:
    """Median-ready samples per target, or the reason a target could not be imported.

    One untimed warm-up each first (it writes the .pyc caches, as a deployed package would ship or
    build them), then the targets are interleaved run by run so a burst of load from other processes
    on this shared machine hits every target alike instead of one.
    """
    outcome: dict[str, list[float] | str] = {}
    for target in targets:
        try:
            import_seconds(target)
            outcome[target.label] = []
        except (RuntimeError, subprocess.TimeoutExpired, ValueError) as error:
            outcome[target.label] = str(error)
    for _ in range(runs):
        for target in targets:
            samples = outcome[target.label]
            if not isinstance(samples, list):
                continue
            try:
                samples.append(import_seconds(target))
            except (RuntimeError, subprocess.TimeoutExpired, ValueError) as error:
                outcome[target.label] = f"failed after {len(samples)} samples: {error}"
    return outcome


def medians(outcome: dict[str, list[float] | str]) -> dict[str, float]:
    return {label: median(samples) for label, samples in outcome.items() if isinstance(samples, list)}


_IMPORTTIME = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def import_profile(
    target: ImportTarget, top: int = 6, python: str = sys.executable
) -> list[tuple[str, float]]:
    """Top-level packages by their own import time (`python -X importtime`), heaviest first.

    Used to say what dominates a handler's import when it misses its target.
    """

    result = subprocess.run(
        [
            python,
            "-I",
            *target.flags,
            "-X",
            "importtime",
            "-c",
            _CHILD,
            json.dumps(list(target.sys_path)),
            target.module,
        ],
        capture_output=True,
        text=True,
        env=_clean_env(),
        check=False,
        timeout=300,
    )
    per_package: dict[str, int] = defaultdict(int)
    for match in _IMPORTTIME.finditer(result.stderr):
        self_us, _cumulative, _indent, name = match.groups()
        per_package[name.split(".")[0]] += int(self_us)
    ranked = sorted(per_package.items(), key=lambda item: item[1], reverse=True)[:top]
    return [(name, micros / 1e6) for name, micros in ranked]


def handler_target(function: str, lambdas: Path, layer_dir: Path, *, bytecode: bool = True) -> ImportTarget:
    """Lambda imports `handler` from the function's code dir, with the layer's python/ dir on the path."""
    label = f"lambdas/{function}/handler.py" + ("" if bytecode else " (no .pyc)")
    flags = () if bytecode else ("-B",)
    return ImportTarget(label, "handler", (str(lambdas / function), str(layer_dir)), flags)
