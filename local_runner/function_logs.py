"""What the functions wrote to their log (CloudWatch Logs in AWS, handlers.log here), read after a run.

Read it only after the function output has been flushed (``Harness`` does), or the last invocations'
lines are still in the file's buffer.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class FunctionLogFigures:
    # {service: {metric: sum}}: every EMF record's values added up, as CloudWatch would sum them
    emf: dict[str, dict[str, float]] = field(default_factory=dict)
    # why the processor handed conversations back without asking Genesys successfully: cause -> ids
    deferred: Counter[str] = field(default_factory=Counter)


def _records(log_path: Path) -> Iterator[dict[str, Any]]:
    if not log_path.exists():
        return
    with log_path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if not line.startswith("{"):
                continue
            try:
                record = json.loads(line)
            except (json.JSONDecodeError, RecursionError):
                continue
            if isinstance(record, dict):
                yield record


def read_function_log(log_path: Path) -> FunctionLogFigures:
    """Sum the EMF metrics (docs: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
    CloudWatch_Embedded_Metric_Format_Specification.html) and the processor's deferral counts."""
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    deferred: Counter[str] = Counter()
    for record in _records(log_path):
        directives = record.get("_aws", {}).get("CloudWatchMetrics", []) if "_aws" in record else []
        if directives:
            service = str(record.get("service", "unknown"))
            for directive in directives:
                for metric in directive.get("Metrics", []):
                    name = metric.get("Name")
                    value = record.get(name)
                    for number in value if isinstance(value, list) else [value]:
                        if isinstance(number, int | float) and not isinstance(number, bool):
                            totals[service][name] += number
            continue
        # genesys_bridge.processor logs each batch's deferrals as {"deferred": {cause: count}}
        causes = record.get("deferred")
        if isinstance(causes, dict):
            for cause, count in causes.items():
                if isinstance(count, int) and not isinstance(count, bool):
                    deferred[str(cause)] += count
    return FunctionLogFigures(
        emf={service: dict(metrics) for service, metrics in totals.items()}, deferred=deferred
    )
