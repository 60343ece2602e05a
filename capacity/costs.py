"""Cost of the modelled period at the list prices of benchmarks/prices.toml, priced by the same code as
`make bench`'s figure 7 (benchmarks.cost): the model's counts go in as one run's counts."""

from __future__ import annotations

import math
from pathlib import Path

from benchmarks.cost import CostBreakdown, FunctionUsage, Prices, RunCounts, cost_per_million, load_prices
from capacity.model import Simulation
from genesys_bridge.runtime import SECRET_MAX_AGE_SECONDS


def run_counts(simulation: Simulation, ingest_memory_mb: int, processor_memory_mb: int) -> RunCounts:
    t = simulation.totals
    p = simulation.pipeline
    sqs_batch = p.pipe_batch_size  # receive and delete take up to 10 messages a call
    # One "duration" holding the whole billed time: FunctionUsage bills each entry rounded up to the
    # millisecond, and the model has already rounded every invocation.
    ingest = FunctionUsage(round(t.ingest_invocations), [t.ingest_billed_ms], ingest_memory_mb)
    processor = FunctionUsage(round(t.processor_invocations), [t.processor_billed_ms], processor_memory_mb)
    secret_reads = p.max_concurrency * math.ceil(simulation.end_s / SECRET_MAX_AGE_SECONDS)
    return RunCounts(
        conversations=max(1, round(t.conversations)),
        partner_events=round(t.events),
        ingest=ingest,
        processor=processor,
        dynamodb_write_units=round(t.dynamodb_writes),
        dynamodb_read_units=round(t.dynamodb_reads),
        pipe_requests=round(t.pipe_records),
        sqs_requests=round(
            t.pipe_batches  # SendMessageBatch by the pipe
            + 2 * t.messages_delivered / sqs_batch  # ReceiveMessage and DeleteMessageBatch, 10 at a time
            + t.visibility_changes  # the not-ready backoff
        ),
        s3_puts=round(t.s3_puts),
        secrets_manager_calls=secret_reads,
    )


def day_cost(
    simulation: Simulation, prices_path: Path, ingest_memory_mb: int, processor_memory_mb: int
) -> tuple[float, CostBreakdown, Prices]:
    """Total USD for the modelled period, the per-million breakdown it came from, and the prices."""
    prices = load_prices(prices_path)
    counts = run_counts(simulation, ingest_memory_mb, processor_memory_mb)
    breakdown = cost_per_million(counts, prices)
    return breakdown.total * counts.conversations / 1_000_000, breakdown, prices
