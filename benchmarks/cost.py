"""Figure 7: AWS list price per million conversations, from measured counts, by service.

The arithmetic is pure (counts in, dollars out) so it is unit-tested; the counts come from the local
run (the live path) and the audit figure's executions (audit, finalize), the prices from prices.toml,
an editable file, never from constants in code.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.table import Row, fmt_usd

# The services a cost line's item starts with (figure 7 sums the parts' lines per service).
SERVICES = (
    "EventBridge",
    "Lambda",
    "DynamoDB",
    "Pipes",
    "SQS",
    "S3",
    "Secrets Manager",
    "Step Functions",
    "Athena",
)
DEFAULT_PRICES = Path(__file__).with_name("prices.toml")
PER_MILLION = 1_000_000


@dataclass(frozen=True)
class Prices:
    region: str
    source: str
    lambda_request: float
    lambda_gb_second: float
    dynamodb_write_unit: float
    dynamodb_read_unit: float
    partner_event: float
    pipes_request: float
    sqs_request: float
    s3_put: float
    secrets_manager_call: float
    # the audit workflow (figure 9) and the catalog (figure 8)
    s3_get: float
    stepfunctions_transition: float
    athena_byte: float = 0.0
    athena_min_bytes: float = 0.0


def _number(table: dict[str, Any], key: str) -> float:
    value = table[key]
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise ValueError(f"price {key!r} must be a non-negative number, got {value!r}")
    return float(value)


def parse_prices(document: dict[str, Any]) -> Prices:
    """Prices per single unit, from the units AWS publishes them in (per million, per 1,000...)."""
    lam = document["lambda"]
    architecture = lam.get("architecture", "arm64")
    if architecture not in ("arm64", "x86_64"):
        raise ValueError(f"lambda.architecture must be arm64 or x86_64, got {architecture!r}")
    return Prices(
        region=str(document["region"]),
        source=str(document.get("source", "")),
        lambda_request=_number(lam, "requests_per_million") / PER_MILLION,
        lambda_gb_second=_number(lam, f"gb_second_{architecture}"),
        dynamodb_write_unit=_number(document["dynamodb"], "write_request_units_per_million") / PER_MILLION,
        dynamodb_read_unit=_number(document["dynamodb"], "read_request_units_per_million") / PER_MILLION,
        partner_event=_number(document["eventbridge"], "partner_events_per_million") / PER_MILLION,
        pipes_request=_number(document["pipes"], "requests_per_million") / PER_MILLION,
        sqs_request=_number(document["sqs"], "requests_per_million") / PER_MILLION,
        s3_put=_number(document["s3"], "puts_per_thousand") / 1000,
        secrets_manager_call=_number(document["secrets_manager"], "api_calls_per_ten_thousand") / 10_000,
        s3_get=_number(document["s3"], "gets_per_thousand") / 1000,
        stepfunctions_transition=_number(document["stepfunctions"], "state_transitions_per_thousand") / 1000,
        athena_byte=_number(document["athena"], "per_terabyte_scanned") / 1e12,
        athena_min_bytes=_number(document["athena"], "minimum_megabytes_per_query") * 1e6,
    )


def load_prices(path: Path = DEFAULT_PRICES) -> Prices:
    with path.open("rb") as handle:
        return parse_prices(tomllib.load(handle))


@dataclass(frozen=True)
class FunctionUsage:
    """One Lambda function's invocations in the run and their measured durations."""

    invocations: int
    durations_ms: list[float] = field(default_factory=list)
    memory_mb: int = 128

    def billed_gb_seconds(self) -> float:
        # Lambda bills each invocation's duration rounded up to the next millisecond
        # (less a nanosecond of float noise, so 700.0000000001 ms bills as 700)
        billed_ms = sum(math.ceil(duration - 1e-6) for duration in self.durations_ms)
        return billed_ms / 1000 * self.memory_mb / 1024


@dataclass(frozen=True)
class RunCounts:
    conversations: int
    partner_events: int
    ingest: FunctionUsage
    processor: FunctionUsage
    dynamodb_write_units: int
    dynamodb_read_units: int
    pipe_requests: int
    sqs_requests: int
    s3_puts: int
    secrets_manager_calls: int


@dataclass(frozen=True)
class CostLine:
    item: str
    quantity_per_million: float  # units per million conversations
    usd_per_million: float


@dataclass(frozen=True)
class CostBreakdown:
    lines: list[CostLine]
    notes: list[str] = field(default_factory=list)  # how the counts were measured (figure 7's note)

    @property
    def total(self) -> float:
        return sum(line.usd_per_million for line in self.lines)

    def usd(self, item: str) -> float:
        return next(line.usd_per_million for line in self.lines if line.item == item)


def cost_per_million(counts: RunCounts, prices: Prices) -> CostBreakdown:
    """Scale the run's counts to one million conversations and price each one."""
    if counts.conversations <= 0:
        raise ValueError("no conversation landed: nothing to price")
    scale = PER_MILLION / counts.conversations

    def line(item: str, quantity: float, unit_price: float) -> CostLine:
        return CostLine(item, quantity * scale, quantity * scale * unit_price)

    return CostBreakdown(
        [
            line("EventBridge partner events", counts.partner_events, prices.partner_event),
            line(
                "Lambda requests",
                counts.ingest.invocations + counts.processor.invocations,
                prices.lambda_request,
            ),
            line("Lambda GB-s (ingest)", counts.ingest.billed_gb_seconds(), prices.lambda_gb_second),
            line("Lambda GB-s (processor)", counts.processor.billed_gb_seconds(), prices.lambda_gb_second),
            line("DynamoDB write units", counts.dynamodb_write_units, prices.dynamodb_write_unit),
            line("DynamoDB read units", counts.dynamodb_read_units, prices.dynamodb_read_unit),
            line("Pipes requests", counts.pipe_requests, prices.pipes_request),
            line("SQS requests", counts.sqs_requests, prices.sqs_request),
            line("S3 PUTs", counts.s3_puts, prices.s3_put),
            line("Secrets Manager calls", counts.secrets_manager_calls, prices.secrets_manager_call),
        ]
    )


def whole_system_rows(parts: dict[str, CostBreakdown], missing: dict[str, str], prices: Prices) -> list[Row]:
    """Figure 7: the parts' cost per million conversations, then per service; a part not measured is named."""
    services: dict[str, dict[str, float]] = {}
    for part, breakdown in parts.items():
        for line in breakdown.lines:
            service = services.setdefault(next(name for name in SERVICES if line.item.startswith(name)), {})
            service[part] = service.get(part, 0.0) + line.usd_per_million
    notes = [note for breakdown in parts.values() for note in breakdown.notes]
    notes += [f"prices: {prices.source}, {prices.region}"] + [
        f"{p} not measured: {w}" for p, w in missing.items()
    ]
    measured = " + ".join(f"{part} {fmt_usd(breakdown.total)}" for part, breakdown in parts.items())
    total = Row(
        "7",
        "Cost per million conversations, whole system",
        fmt_usd(sum(b.total for b in parts.values())),
        measured + "".join(f"; {part}: not measured" for part in missing),
        note="; ".join(notes),
    )
    return [total] + [Row("7", f"  {service}", fmt_usd(sum(split.values())),
                          ", ".join(f"{part} {fmt_usd(usd)}" for part, usd in split.items()))
                      for service, split in services.items()]  # fmt: skip
