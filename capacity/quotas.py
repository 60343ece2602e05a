"""The published AWS and Genesys quotas the model uses, read from benchmarks/quotas.toml (one editable file).

Every number the model takes from outside this project comes through here with its source, so a
report can say where each capacity figure came from and which of them are assumptions.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.paths import REPO

DEFAULT_QUOTAS = REPO / "benchmarks" / "quotas.toml"
KINDS = ("published", "assumed", "derived")


class QuotaError(ValueError):
    """quotas.toml is missing an entry or has an invalid one; the message names it."""


@dataclass(frozen=True)
class Fact:
    name: str  # "section.key", e.g. "lambda.concurrent_executions"
    value: float
    unit: str
    kind: str
    source: str
    note: str = ""
    by_region: tuple[tuple[str, float], ...] = ()

    def for_region(self, region: str) -> float:
        return dict(self.by_region).get(region, self.value)


# Every entry the model reads; a missing one is an error at load time, not in the middle of a run.
REQUIRED = (
    "lambda.concurrent_executions",
    "lambda.scaling_per_10_seconds",
    "lambda.memory_mb_per_vcpu",
    "lambda.async_throttle_retry_hours",
    "eventbridge.invocations_per_second",
    "dynamodb.on_demand_initial_writes_per_second",
    "dynamodb.on_demand_peak_multiplier",
    "dynamodb.on_demand_scaling_minutes",
    "dynamodb.table_max_writes_per_second",
    "dynamodb.partition_max_writes_per_second",
    "dynamodb.write_latency_seconds",
    "dynamodb_streams.shards_per_partition",
    "dynamodb_streams.poll_interval_seconds",
    "pipes.sqs_target_max_batch",
    "pipes.max_parallelization_factor",
    "pipes.batch_seconds",
    "sqs.event_source_initial_batches",
    "sqs.event_source_scaling_per_minute",
    "sqs.receive_max_messages",
    "sqs.in_flight_max",
    "s3.puts_per_second_per_prefix",
    "s3.put_latency_seconds",
    "genesys.requests_per_minute_per_client",
    "genesys.ids_per_request_max",
    "genesys.request_latency_seconds",
)


@dataclass(frozen=True)
class Quotas:
    facts: dict[str, Fact]
    as_of: str
    path: Path

    def value(self, name: str) -> float:
        return self.facts[name].value

    def fact(self, name: str) -> Fact:
        return self.facts[name]

    def assumed(self) -> list[Fact]:
        return [fact for fact in self.facts.values() if fact.kind == "assumed"]


def _positive_number(name: str, value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise QuotaError(f"{name}: value must be a positive number, got {value!r}")
    return float(value)


def _fact(name: str, table: Any) -> Fact:
    if not isinstance(table, dict):
        raise QuotaError(f"{name}: must be a table with value, unit, kind and source")
    missing = [key for key in ("value", "unit", "kind", "source") if key not in table]
    if missing:
        raise QuotaError(f"{name}: missing {', '.join(missing)}")
    kind = table["kind"]
    if kind not in KINDS:
        raise QuotaError(f"{name}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    source = table["source"]
    if not isinstance(source, str) or not source.startswith("https://"):
        raise QuotaError(f"{name}: source must be the https:// address of a public page, got {source!r}")
    regions = table.get("regions", {})
    if not isinstance(regions, dict):
        raise QuotaError(f"{name}.regions must be a table of region = number")
    by_region = tuple(
        (str(region), _positive_number(f"{name}.regions.{region}", number))
        for region, number in regions.items()
    )
    return Fact(
        name=name,
        value=_positive_number(name, table["value"]),
        unit=str(table["unit"]),
        kind=str(kind),
        source=source,
        note=str(table.get("note", "")),
        by_region=by_region,
    )


def parse_quotas(document: dict[str, Any], path: Path = DEFAULT_QUOTAS) -> Quotas:
    facts: dict[str, Fact] = {}
    for section, entries in document.items():
        if not isinstance(entries, dict):
            continue  # top-level scalars such as as_of
        for key, table in entries.items():
            name = f"{section}.{key}"
            facts[name] = _fact(name, table)
    missing = [name for name in REQUIRED if name not in facts]
    if missing:
        raise QuotaError(f"{path}: missing entries {', '.join(missing)}")
    return Quotas(facts=facts, as_of=str(document.get("as_of", "")), path=path)


def load_quotas(path: Path = DEFAULT_QUOTAS) -> Quotas:
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise QuotaError(f"{path}: not valid TOML: {error}") from None
    return parse_quotas(document, path)
