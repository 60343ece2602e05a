"""The figures the model takes from this project's own code, measured here (capacity/measurements.json).

Read by every model run, so a model run costs no measurement; how each figure was measured, and how to
measure it again, is in docs/capacity.md ("Measured here").
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_MEASUREMENTS = Path(__file__).with_name("measurements.json")


class MeasurementError(ValueError):
    """The measurements file is missing a figure or has an invalid one; the message names it."""


@dataclass(frozen=True)
class Measurements:
    measured_at: str
    commit: str
    machine: str
    # ingest function (make bench's figure 5): CPU per event, DynamoDB writes per event
    ingest_cpu_seconds_per_event: float
    ingest_dynamodb_writes_per_event: float
    # processor function: CPU per invocation = per_batch + per_conversation x batch
    processor_cpu_seconds_per_batch: float
    processor_cpu_seconds_per_conversation: float
    processor_s3_puts_per_conversation: float
    processor_dynamodb_writes_per_conversation: float
    processor_dynamodb_reads_per_conversation: float


def _number(document: dict[str, Any], *path: str, allow_zero: bool = True) -> float:
    value: Any = document
    for key in path:
        if not isinstance(value, dict) or key not in value:
            raise MeasurementError(f"measurements: missing {'.'.join(path)}")
        value = value[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise MeasurementError(f"measurements: {'.'.join(path)} must be a number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise MeasurementError(f"measurements: {'.'.join(path)} must be positive, got {value!r}")
    return float(value)


def parse_measurements(document: dict[str, Any]) -> Measurements:
    calls = document.get("processor", {}).get("aws_calls_per_conversation", {})
    if not isinstance(calls, dict):
        raise MeasurementError("measurements: processor.aws_calls_per_conversation must be an object")
    return Measurements(
        measured_at=str(document.get("measured_at", "")),
        commit=str(document.get("commit", "")),
        machine=str(document.get("machine", "")),
        ingest_cpu_seconds_per_event=_number(document, "ingest", "cpu_us_per_event", allow_zero=False) / 1e6,
        ingest_dynamodb_writes_per_event=_number(document, "ingest", "dynamodb_requests_per_event"),
        processor_cpu_seconds_per_batch=_number(document, "processor", "cpu_seconds_per_batch"),
        processor_cpu_seconds_per_conversation=_number(
            document, "processor", "cpu_seconds_per_conversation", allow_zero=False
        ),
        processor_s3_puts_per_conversation=float(calls.get("s3.PutObject", 0.0)),
        processor_dynamodb_writes_per_conversation=float(calls.get("dynamodb.UpdateItem", 0.0)),
        processor_dynamodb_reads_per_conversation=float(calls.get("dynamodb.GetItem", 0.0)),
    )


def load_measurements(path: Path = DEFAULT_MEASUREMENTS) -> Measurements:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MeasurementError(f"{path} not found (--measurements)") from None
    except json.JSONDecodeError as error:
        raise MeasurementError(f"{path}: not JSON ({error})") from None
    if not isinstance(document, dict):
        raise MeasurementError(f"{path}: must hold a JSON object")
    return parse_measurements(document)
