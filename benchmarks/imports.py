"""Figure 3: cold-start import time, each module in a fresh interpreter, as Lambda would import it.

Timed by the interpreter itself (`python -X importtime`): the figure is the module's cumulative import
time, and the same output says which packages took it (their own time), for the note of a missed target.
Interpreter start-up is the same for every module and is left out, so the figure compares the modules,
not Python.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ImportTarget:
    label: str
    module: str
    sys_path: tuple[str, ...] = ()
    # e.g. ("-B",): write no .pyc, so a folder without __pycache__ compiles on every import, as a
    # layer built with pip --no-compile does on Lambda's read-only /opt
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportRun:
    seconds: float  # the module's cumulative import time
    own_seconds: dict[str, float]  # per top-level package, the time its own modules took


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

# "import time: <own us> | <cumulative us> | <one space per level of nesting><module>"
_IMPORTTIME = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)")


def _clean_env() -> dict[str, str]:
    # No project variables and no PYTHONPATH: importing a handler must need no configuration at all;
    # only what Lambda's runtime provides to every function, for every module timed alike.
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    return {key: value for key, value in os.environ.items() if key in keep} | LAMBDA_RUNTIME_ENV


def parse_importtime(stderr: str, module: str) -> ImportRun:
    """The import of `module` in `python -X importtime`'s report: its cumulative time, and the own time of
    every module it imported (itself included), by top-level package."""
    block: list[tuple[int, str]] = []  # the modules imported since the last top-level import
    for own_us, cumulative_us, indent, name in _IMPORTTIME.findall(stderr):
        block.append((int(own_us), name))
        if len(indent) > 1:
            continue
        if name == module:
            own: defaultdict[str, float] = defaultdict(float)
            for micros, imported in block:
                own[imported.split(".")[0]] += micros / 1e6
            return ImportRun(int(cumulative_us) / 1e6, dict(own))
        block = []  # a top-level import of start-up (site, ...): not the module's
    raise RuntimeError(f"import {module}: not in the -X importtime report")


def import_run(target: ImportTarget, python: str = sys.executable) -> ImportRun:
    """One fresh interpreter; -I keeps the user's site dir and PYTHON* variables out of it. The code
    dirs go first on sys.path, as Lambda puts the function's code dir and /opt/python there."""
    code = f"import sys; sys.path[:0] = {list(target.sys_path)!r}; import {target.module}"
    result = subprocess.run(
        [python, "-I", *target.flags, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        env=_clean_env(),
        check=False,
        timeout=300,
    )
    if result.returncode != 0:
        last = result.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"import {target.module} failed: {last[0]}")
    return parse_importtime(result.stderr, target.module)


def measure_imports(targets: Sequence[ImportTarget], runs: int) -> dict[str, list[ImportRun] | str]:
    """`runs` samples per target, or the reason a target could not be imported.

    One untimed warm-up each first (it writes the .pyc caches, as a deployed package would ship or
    build them), then the targets are interleaved run by run so a burst of load from other processes
    on this shared machine hits every target alike instead of one.
    """
    outcome: dict[str, list[ImportRun] | str] = {}
    for target in targets:
        try:
            import_run(target)
            outcome[target.label] = []
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            outcome[target.label] = str(error)
    for _ in range(runs):
        for target in targets:
            samples = outcome[target.label]
            if not isinstance(samples, list):
                continue
            try:
                samples.append(import_run(target))
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                outcome[target.label] = f"failed after {len(samples)} samples: {error}"
    return outcome


def medians(outcome: dict[str, list[ImportRun] | str]) -> dict[str, float]:
    return {
        label: statistics.median(run.seconds for run in samples)
        for label, samples in outcome.items()
        if isinstance(samples, list) and samples
    }


def heaviest(samples: list[ImportRun] | str, top: int = 6) -> list[tuple[str, float]]:
    """Top-level packages by their own import time in the median sample, heaviest first: what dominates
    a handler's import when it misses its target."""
    if isinstance(samples, str) or not samples:
        return []
    middle = sorted(samples, key=lambda run: run.seconds)[len(samples) // 2]
    return sorted(middle.own_seconds.items(), key=lambda item: item[1], reverse=True)[:top]


def handler_target(function: str, lambdas: Path, layer_dir: Path, *, bytecode: bool = True) -> ImportTarget:
    """Lambda imports `handler` from the function's code dir, with the layer's python/ dir on the path."""
    label = f"lambdas/{function}/handler.py" + ("" if bytecode else " (no .pyc)")
    flags = () if bytecode else ("-B",)
    return ImportTarget(label, "handler", (str(lambdas / function), str(layer_dir)), flags)
