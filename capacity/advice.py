"""Per stage: what limits it, the setting (or quota increase) that moves the limit, what one more unit of
that setting buys, and the value this load's peak needs. Pure arithmetic on the Pipeline."""

from __future__ import annotations

import math
from dataclasses import dataclass

from capacity.deployment import Pipeline
from capacity.quotas import Quotas
from stacks.config import EnvironmentConfig


@dataclass(frozen=True)
class Limit:
    stage: str
    capacity_per_s: float  # conversations per second the stage carries now
    limited_by: str  # what sets that number
    setting: str  # the cdk.json key or the quota that moves it
    current: float
    per_unit: str  # what one more unit of the setting buys
    needed: float | None  # the setting this load's peak needs (None: the current value carries it)
    action: str  # what to do, in words


def _ceil(value: float) -> int:
    return math.ceil(value - 1e-9)


def limits(
    pipeline: Pipeline, config: EnvironmentConfig, quotas: Quotas, peak_per_s: float, region: str
) -> list[Limit]:
    """One Limit per stage for a load whose busiest minute brings `peak_per_s` conversations a second."""
    p = pipeline
    epc = p.events_per_conversation
    passes = 1 + p.not_ready_share
    out: list[Limit] = []

    # eventbridge_ingest
    by_concurrency = p.ingest_concurrency / p.ingest_seconds / epc
    by_rule = p.eventbridge_invocations_per_s / epc
    need_events = peak_per_s * epc
    if by_concurrency <= by_rule:
        account = quotas.value("lambda.concurrent_executions")
        needed = _ceil(need_events * p.ingest_seconds + p.max_concurrency)
        out.append(
            Limit(
                "eventbridge_ingest",
                by_concurrency,
                f"Lambda concurrency left to ingest ({p.ingest_concurrency:.0f}) /"
                f" {p.ingest_seconds * 1000:.1f} ms per event / {epc:g} events per conversation",
                "Lambda concurrent executions (account quota)",
                account,
                f"{1 / p.ingest_seconds / epc:.1f} conversations/s per concurrent execution",
                needed if needed > account else None,
                "request a Lambda concurrency increase (Service Quotas), or raise ingest_memory_mb for more"
                " CPU per event",
            )
        )
    else:
        needed_rule = _ceil(need_events)
        out.append(
            Limit(
                "eventbridge_ingest",
                by_rule,
                f"EventBridge invocations quota in {region} ({p.eventbridge_invocations_per_s:,.0f}/s) /"
                f" {epc:g} events per conversation",
                f"EventBridge invocations throttle limit ({region})",
                p.eventbridge_invocations_per_s,
                f"{1 / epc:.2f} conversations/s per invocation/s",
                needed_rule if needed_rule > p.eventbridge_invocations_per_s else None,
                "request an EventBridge invocations quota increase (throttled invocations are delayed,"
                " not lost)",
            )
        )

    # buffer_writes
    writes_per_conversation = epc * p.writes_per_event + p.processor_writes_per_conversation
    table_now = p.dynamodb_initial_per_s
    need_writes = peak_per_s * writes_per_conversation
    out.append(
        Limit(
            "buffer_writes",
            table_now / writes_per_conversation,
            f"a new on-demand table's {table_now:,.0f} writes/s (then 2 x the previous peak after"
            f" {p.dynamodb_scaling_s / 60:.0f} min, at most {p.dynamodb_table_max_per_s:,.0f}/s) /"
            f" {writes_per_conversation:g} writes per conversation",
            "DynamoDB warm throughput (write units/s)",
            table_now,
            f"{1 / writes_per_conversation:.2f} conversations/s per write unit/s",
            _ceil(need_writes) if need_writes > table_now else None,
            "pre-warm the table's warm throughput to the peak (or let a day at that peak warm it);"
            " above the 40,000/s table quota request an increase",
        )
    )

    # stream_pipe
    shards = p.shards(p.dynamodb_initial_per_s)
    per_factor = shards * p.pipe_batch_size / p.pipe_batch_s
    needed_factor = _ceil(peak_per_s / per_factor)
    max_factor = quotas.value("pipes.max_parallelization_factor")
    out.append(
        Limit(
            "stream_pipe",
            p.pipe_capacity(shards),
            f"{shards:g} shards x pipe_parallelization_factor {p.pipe_parallelization} x {p.pipe_batch_size}"
            f" records per batch / {p.pipe_batch_s:g} s per batch (assumed)",
            "pipe_parallelization_factor",
            p.pipe_parallelization,
            f"{per_factor:.0f} conversations/s per unit of the factor",
            needed_factor if needed_factor > p.pipe_parallelization else None,
            f"raise pipe_parallelization_factor in cdk.json (1..{max_factor:.0f})"
            + (
                "; beyond 10, more shards: pre-warm the table's write throughput"
                if needed_factor > max_factor
                else ""
            ),
        )
    )

    # work_queue_processor
    batch = float(p.batch_size)
    invocation = p.invocation_seconds(batch)
    per_invocation = batch / invocation
    need = peak_per_s * passes
    needed_concurrency = _ceil(need / per_invocation)
    out.append(
        Limit(
            "work_queue_processor",
            p.processor_capacity(p.max_concurrency, batch),
            f"processor_max_concurrency {p.max_concurrency} x {p.batch_size} conversations per batch /"
            f" {invocation:.2f} s per invocation",
            "processor_max_concurrency",
            p.max_concurrency,
            f"{per_invocation:.1f} conversations/s per concurrent invocation",
            needed_concurrency if needed_concurrency > p.max_concurrency else None,
            "raise processor_max_concurrency in cdk.json (2..1000; genesys_max_requests_per_minute must"
            " stay >= it); processor_memory_mb buys CPU for the per-conversation work",
        )
    )

    # genesys
    requests = p.requests_per_batch(batch)
    conversations_per_request = batch / requests
    # each processor paces at budget // max_concurrency: round up to a multiple of it
    budget_needed = _ceil(need * 60 / conversations_per_request / p.max_concurrency) * p.max_concurrency
    client_limit = quotas.value("genesys.requests_per_minute_per_client")
    action = "raise genesys_max_requests_per_minute in cdk.json (1..6000)"
    if budget_needed > client_limit:
        action += (
            f"; above {client_limit:.0f}/min Genesys must first raise the OAuth client's limit"
            " (client.credentials.token.rate.per.minute)"
        )
    out.append(
        Limit(
            "genesys",
            p.genesys_capacity(batch),
            f"genesys_max_requests_per_minute {config.genesys_max_requests_per_minute} (paced"
            f" {p.genesys_requests_per_minute:.0f}) x {conversations_per_request:.0f} conversations per"
            " request / 60",
            "genesys_max_requests_per_minute",
            config.genesys_max_requests_per_minute,
            f"{conversations_per_request:.0f} conversations/min per request/min",
            budget_needed if budget_needed > p.genesys_requests_per_minute else None,
            action,
        )
    )

    # s3
    out.append(
        Limit(
            "s3",
            p.s3_capacity(),
            f"{p.s3_puts_per_s:,.0f} PUTs/s per prefix (one date prefix a day) /"
            f" {p.s3_puts_per_conversation:g} PUTs per conversation",
            "S3 request rate per prefix",
            p.s3_puts_per_s,
            f"{1 / p.s3_puts_per_conversation:g} conversations/s per PUT/s",
            _ceil(peak_per_s * p.s3_puts_per_conversation)
            if peak_per_s * p.s3_puts_per_conversation > p.s3_puts_per_s
            else None,
            "S3 partitions a busy prefix by itself (503 SlowDown meanwhile, retried by the SDK)",
        )
    )
    return out
