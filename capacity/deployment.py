"""The deployed pipeline as numbers: every capacity and delay the model uses, each taken from the stack's
own configuration (stacks/config.py, cdk.json), the published quotas (benchmarks/quotas.toml) or this
project's measurements (capacity/measurements.json). Nothing here is a free-standing constant.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from capacity.measurements import Measurements
from capacity.quotas import Quotas
from genesys_bridge.backoff import NOT_READY_RETRY_BASE_SECONDS
from stacks.config import ConfigError, EnvironmentConfig, parse_environment_config
from stacks.config_fixed import PIPE_BATCH_SIZE

# The stage names are a contract (the JSON report's `stages` keys, docs/capacity.md): never rename.
STAGES = ("eventbridge_ingest", "buffer_writes", "stream_pipe", "work_queue_processor", "genesys", "s3")
UNITS = {
    "eventbridge_ingest": "events",
    "buffer_writes": "write units",
    "stream_pipe": "conversations",
    "work_queue_processor": "conversations",
    "genesys": "requests",
    "s3": "PUTs",
}


@dataclass(frozen=True)
class Pipeline:
    """What one conversation costs each stage, what each stage can do, and the delays between them."""

    events_per_conversation: float
    # eventbridge_ingest: rule invocations, the ingest function's concurrency and duration
    eventbridge_invocations_per_s: float
    ingest_seconds: float
    ingest_concurrency: float
    lambda_scaling_per_s: float
    # buffer_writes: the on-demand table
    writes_per_event: float
    processor_writes_per_conversation: float
    processor_reads_per_not_ready: float
    dynamodb_initial_per_s: float
    dynamodb_peak_multiplier: float
    dynamodb_scaling_s: float
    dynamodb_table_max_per_s: float
    partition_writes_per_s: float
    dynamodb_latency_s: float
    # stream_pipe: shards of the table's stream, the pipe's batches
    shards_per_partition: float
    stream_poll_s: float
    pipe_batch_size: int
    pipe_parallelization: int
    pipe_batch_s: float
    # work queue and processor
    settle_delay_s: float
    batch_size: int
    batching_window_s: float
    max_concurrency: int
    gatherers: int  # batches gathered at once while the queue is not backlogged
    esm_initial: float
    esm_scaling_per_s: float
    receive_poll_s: float  # an idle poller's wait between receives (AWS long-polls: 0)
    invocation_fixed_s: float
    invocation_per_conversation_s: float
    io_seconds_per_conversation: float  # S3 PUT + buffer update, on `workers` threads
    workers: int
    genesys_latency_s: float
    # genesys: the budget the processors pace at, ids per multi-get
    genesys_requests_per_minute: float
    ids_per_request: int
    # s3
    s3_puts_per_s: float
    s3_puts_per_conversation: float
    s3_latency_s: float
    # not ready at the first fetch: share, and when it comes back
    not_ready_share: float
    not_ready_retry_s: float

    def requests_per_batch(self, batch: float) -> int:
        return max(1, math.ceil(batch / self.ids_per_request - 1e-9))

    def invocation_seconds(self, batch: float) -> float:
        """One processor invocation for `batch` messages: CPU, one Genesys request per chunk of ids,
        then each conversation's S3 PUT and buffer update on the worker threads."""
        batch = max(1.0, batch)
        io_rounds = math.ceil(batch / max(1, min(self.workers, math.ceil(batch))) - 1e-9)
        return (
            self.invocation_fixed_s
            + self.invocation_per_conversation_s * batch
            + self.genesys_latency_s * self.requests_per_batch(batch)
            + self.io_seconds_per_conversation * io_rounds
        )

    def paced_invocation_seconds(self, batch: float) -> float:
        """An invocation's time when its requests wait for the budget: each of the max_concurrency
        processors paces at budget / max_concurrency, so a batch's requests take at least that long."""
        paced = self.requests_per_batch(batch) * 60 * self.max_concurrency / self.genesys_requests_per_minute
        return max(self.invocation_seconds(batch), paced)

    def batch_fill(self, visible_per_s: float, waiting: float) -> float:
        """Messages per invocation: each of the batches gathered at once takes its share of what waits
        in the queue, then what arrives within the batching window, up to batch_size (at least one)."""
        gathered = (waiting + visible_per_s * self.batching_window_s) / self.gatherers
        return min(float(self.batch_size), max(1.0, gathered))

    def steady_ids_per_request(self, conversations_per_s: float) -> float:
        """Ids in one multi-get at a steady rate without a backlog: min(ids per request, rate x window /
        pollers), at least one. The SQS event source starts with five pollers (AWS Lambda, "Configuring
        scaling behavior for SQS event source mappings",
        https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html), at most the maximum
        concurrency; each gathers what reaches it within its batching window."""
        return min(float(self.ids_per_request), self.batch_fill(conversations_per_s, 0.0))

    def batches_fill_per_s(self) -> float:
        """The steady rate from which every multi-get carries its full ids per request."""
        full = min(self.batch_size, self.ids_per_request) * self.gatherers
        return full / self.batching_window_s if self.batching_window_s > 0 else math.inf

    def batch_wait_s(self, visible_per_s: float, waiting: float) -> float:
        """The longest a message waits for its batch to close (a message's wait is 0 .. this): the
        window, unless what waits and arrives fills the batch first."""
        missing = self.batch_size - waiting / self.gatherers
        if missing <= 0:
            return 0.0
        if visible_per_s <= 0:
            return self.batching_window_s
        return min(self.batching_window_s, missing * self.gatherers / visible_per_s)

    # -- capacities in conversations per second ----------------------------------------------------

    def ingest_capacity(self) -> float:
        events = min(self.eventbridge_invocations_per_s, self.ingest_concurrency / self.ingest_seconds)
        return events / self.events_per_conversation

    def shards(self, table_writes_per_s: float) -> float:
        partitions = max(1, math.ceil(table_writes_per_s / self.partition_writes_per_s - 1e-9))
        return partitions * self.shards_per_partition

    def pipe_capacity(self, shards: float) -> float:
        return shards * self.pipe_parallelization * self.pipe_batch_size / self.pipe_batch_s

    def processor_capacity(self, concurrency: float, batch: float) -> float:
        return concurrency * batch / self.invocation_seconds(batch)

    def genesys_capacity(self, batch: float) -> float:
        return self.genesys_requests_per_minute / 60 * batch / self.requests_per_batch(batch)

    def s3_capacity(self) -> float:
        return self.s3_puts_per_s / max(self.s3_puts_per_conversation, 1e-9)


def cpu_share(memory_mb: int, quotas: Quotas) -> float:
    """A function's share of one vCPU: Lambda allocates CPU in proportion to memory."""
    return min(1.0, memory_mb / quotas.value("lambda.memory_mb_per_vcpu"))


def processor_workers() -> int:
    """Threads the processor lands a batch's conversations on (genesys_bridge.processor)."""
    import dataclasses

    from genesys_bridge.processor import ProcessorConfig

    default: object = next(f.default for f in dataclasses.fields(ProcessorConfig) if f.name == "workers")
    if not isinstance(default, int):
        raise TypeError("genesys_bridge.processor.ProcessorConfig.workers has no integer default")
    return default


def paced_budget(config: EnvironmentConfig) -> float:
    """Requests per minute all processors together send: each paces at budget // concurrency."""
    callers = config.processor_max_concurrency
    return callers * max(1, config.genesys_max_requests_per_minute // callers)


def aws_pipeline(
    config: EnvironmentConfig,
    quotas: Quotas,
    measurements: Measurements,
    *,
    region: str,
    events_per_conversation: float,
    not_ready_share: float = 0.0,
) -> Pipeline:
    """The pipeline as the stack would deploy it with `config` in `region`."""
    q = quotas.value
    ingest_cpu = measurements.ingest_cpu_seconds_per_event / cpu_share(config.ingest_memory_mb, quotas)
    processor_share = cpu_share(config.processor_memory_mb, quotas)
    writes_per_event = measurements.ingest_dynamodb_writes_per_event
    return Pipeline(
        events_per_conversation=events_per_conversation,
        eventbridge_invocations_per_s=quotas.fact("eventbridge.invocations_per_second").for_region(region),
        ingest_seconds=ingest_cpu + writes_per_event * q("dynamodb.write_latency_seconds"),
        # the processor's event source holds up to its maximum concurrency of the account's pool
        ingest_concurrency=max(1.0, q("lambda.concurrent_executions") - config.processor_max_concurrency),
        lambda_scaling_per_s=q("lambda.scaling_per_10_seconds") / 10,
        writes_per_event=writes_per_event,
        processor_writes_per_conversation=measurements.processor_dynamodb_writes_per_conversation,
        processor_reads_per_not_ready=1.0,  # the item's firstEventAt (genesys_bridge.processor._time_left)
        dynamodb_initial_per_s=q("dynamodb.on_demand_initial_writes_per_second"),
        dynamodb_peak_multiplier=q("dynamodb.on_demand_peak_multiplier"),
        dynamodb_scaling_s=q("dynamodb.on_demand_scaling_minutes") * 60,
        dynamodb_table_max_per_s=q("dynamodb.table_max_writes_per_second"),
        partition_writes_per_s=q("dynamodb.partition_max_writes_per_second"),
        dynamodb_latency_s=q("dynamodb.write_latency_seconds"),
        shards_per_partition=q("dynamodb_streams.shards_per_partition"),
        stream_poll_s=q("dynamodb_streams.poll_interval_seconds"),
        pipe_batch_size=min(PIPE_BATCH_SIZE, int(q("pipes.sqs_target_max_batch"))),
        pipe_parallelization=config.pipe_parallelization_factor,
        pipe_batch_s=q("pipes.batch_seconds"),
        settle_delay_s=float(config.settle_delay_seconds),
        batch_size=config.processor_batch_size,
        batching_window_s=float(config.processor_batching_window_seconds),
        max_concurrency=config.processor_max_concurrency,
        gatherers=int(min(config.processor_max_concurrency, q("sqs.event_source_initial_batches"))),
        esm_initial=min(config.processor_max_concurrency, q("sqs.event_source_initial_batches")),
        esm_scaling_per_s=q("sqs.event_source_scaling_per_minute") / 60,
        receive_poll_s=0.0,
        invocation_fixed_s=measurements.processor_cpu_seconds_per_batch / processor_share,
        invocation_per_conversation_s=measurements.processor_cpu_seconds_per_conversation / processor_share,
        io_seconds_per_conversation=(
            measurements.processor_s3_puts_per_conversation * q("s3.put_latency_seconds")
            + measurements.processor_dynamodb_writes_per_conversation * q("dynamodb.write_latency_seconds")
        ),
        workers=processor_workers(),
        genesys_latency_s=q("genesys.request_latency_seconds"),
        genesys_requests_per_minute=paced_budget(config),
        ids_per_request=min(config.genesys_ids_per_request, int(q("genesys.ids_per_request_max"))),
        s3_puts_per_s=q("s3.puts_per_second_per_prefix"),
        s3_puts_per_conversation=measurements.processor_s3_puts_per_conversation,
        s3_latency_s=q("s3.put_latency_seconds"),
        not_ready_share=not_ready_share,
        not_ready_retry_s=float(NOT_READY_RETRY_BASE_SECONDS),
    )


def parse_override(text: str) -> tuple[str, Any]:
    """`key=value` (the value as JSON when it parses, else as text)."""
    key, separator, raw = text.partition("=")
    if not separator or not key.strip():
        raise ConfigError(f"--set {text!r}: expected key=value, e.g. processor_max_concurrency=8")
    try:
        value: Any = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


def with_overrides(config: EnvironmentConfig, overrides: list[str]) -> EnvironmentConfig:
    """The environment with some cdk.json settings changed, validated by the stack's own rules (so an
    error names the key and its allowed range, exactly as `cdk synth` would)."""
    if not overrides:
        return config
    block = config.model_dump(exclude={"environment_name"}, exclude_unset=True)
    for text in overrides:
        key, value = parse_override(text)
        if key == "environment_name" or key not in EnvironmentConfig.model_fields:
            known = ", ".join(sorted(set(EnvironmentConfig.model_fields) - {"environment_name"}))
            raise ConfigError(f"--set {key}: not a setting of cdk.json; known settings: {known}")
        block[key] = value
    return parse_environment_config(config.environment_name, block)
