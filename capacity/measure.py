"""`python -m capacity --measure`: re-measure the project's own figures and write measurements.json.

Both functions run in fresh interpreters (as Lambda containers are): the ingest figure is exactly the
one `make bench` prints (benchmarks.ingest), the processor figure comes from capacity.probe, the same
kind of drive of lambdas/processor/handler.py. About 20 s on two shared cores.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.cli import machine_line
from benchmarks.ingest import measure_ingest_isolated
from benchmarks.lambda_drive import run_isolated
from benchmarks.paths import REPO
from capacity.measurements import DEFAULT_MEASUREMENTS, Measurements, parse_measurements

INGEST_CONVERSATIONS = 300  # x 3 end topics = 900 events
INGEST_REPEATS = 3  # the lowest CPU per event of these is kept: on shared cores others only add time


def _commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "shared", "lambdas"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{' (shared/ or lambdas/ modified)' if dirty else ''}"


def _processor_figures() -> dict[str, Any]:
    figures: dict[str, Any] = run_isolated("capacity.probe", [], timeout=600, what="processor probe")
    return figures


def measure(path: Path = DEFAULT_MEASUREMENTS, progress: Callable[[str], None] = print) -> Measurements:
    progress(
        f"measuring ingest CPU ({INGEST_REPEATS} x {INGEST_CONVERSATIONS * 3} events through"
        " lambdas/ingest/handler.py, the lowest kept)"
    )
    ingest = min(
        (measure_ingest_isolated(INGEST_CONVERSATIONS) for _ in range(INGEST_REPEATS)),
        key=lambda figures: figures.cpu_us_per_event,
    )
    progress("measuring the processor (lambdas/processor/handler.py, Genesys simulator in its own process)")
    processor = _processor_figures()
    document = {
        "measured_at": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "machine": machine_line(),
        "note": "CPU seconds on this machine (x86_64, shared cores); the model scales them by each"
        " function's CPU share of a vCPU (memory / 1769 MB). Written by `python -m capacity --measure`.",
        "ingest": dataclasses.asdict(ingest),
        "processor": processor,
    }
    measurements = parse_measurements(document)  # refuse to write what the model could not read
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return measurements
