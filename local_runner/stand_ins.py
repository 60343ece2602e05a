"""The threads that stand in for AWS between a local run's functions, wired as the stack wires them.

    events --(AsyncInvoker: EventBridge's async invoke)--> ingest
    buffer stream --(StreamPipe: the stack's filter and template)--> work queue
    pipe DLQ --(SqsEventSource)--> pipe DLQ function;  work queue --(SqsEventSource)--> processor

`build_stand_ins` reads what it needs of the harness (``StandInParts``); the harness starts them, polls
`first_error` and stops them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

from local_runner.async_invoke import AsyncInvoker
from local_runner.aws import LocalResources, TimeScale
from local_runner.drops import delivered_events
from local_runner.event_source import SqsEventSource
from local_runner.functions import InvocationStats, LambdaContext
from local_runner.options import RunOptions
from local_runner.pipe import StreamPipe
from local_runner.pipe_dlq import LocalPipeDeadLetterQueues, TargetFaults
from local_runner.workload import PlannedEvent, Workload
from stacks import config_fixed as fixed


class StandInParts(Protocol):
    """What the stand-ins are built from (local_runner.harness.Harness, once its functions are loaded)."""

    options: RunOptions
    config: Any  # stacks.config.EnvironmentConfig
    scale: TimeScale
    region: str
    resources: LocalResources
    pipe_dlq: LocalPipeDeadLetterQueues
    workload: Workload
    dropped: frozenset[str]
    invocations: InvocationStats
    processor_timeout_s: float
    ingest_module: ModuleType
    processor_module: ModuleType
    pipe_dlq_module: ModuleType

    def on_first_event(self, conversation_id: str) -> None: ...

    def before_reopen(self, planned: PlannedEvent) -> bool: ...


@dataclass
class StandIns:
    invoker: AsyncInvoker
    pipe: StreamPipe
    resolver_source: SqsEventSource  # the pipe DLQ's event source
    source: SqsEventSource  # the work queue's event source

    def start(self) -> None:
        self.invoker.start()
        self.pipe.start()
        self.source.start()
        self.resolver_source.start()

    def first_error(self) -> BaseException | None:
        """The first exception a stand-in thread died of (the run cannot go on), or None."""
        for thread_error in (
            self.invoker.error,
            self.pipe.error,
            *self.source.errors,
            *self.resolver_source.errors,
        ):
            if thread_error is not None:
                return thread_error
        return None

    def stop(self, *, processor_timeout_s: float, resolver_visibility_s: float) -> None:
        self.invoker.stop_requested.set()
        self.source.stop_requested.set()
        self.source.join(timeout=processor_timeout_s + 5)
        self.resolver_source.stop_requested.set()
        self.resolver_source.join(timeout=resolver_visibility_s + 5)
        self.pipe.stop_requested.set()
        self.pipe.join(timeout=10)
        self.invoker.join(timeout=10)


def lambda_context(run: StandInParts, function: str, timeout_s: float, memory_mb: int) -> LambdaContext:
    return LambdaContext(
        function_name=f"{run.config.stack_name}-{function}",
        timeout_s=timeout_s,
        memory_limit_in_mb=memory_mb,
        region=run.region,
        account_id=run.resources.account_id,
    )


def _context_factory(run: StandInParts, function: str, timeout_s: float, memory_mb: int) -> Callable[[], Any]:
    return lambda: lambda_context(run, function, timeout_s, memory_mb)


def build_stand_ins(run: StandInParts) -> StandIns:
    import boto3

    config, resources, region, options = run.config, run.resources, run.region, run.options
    invoker = AsyncInvoker(
        events=delivered_events(run.workload, run.dropped),
        handler=run.ingest_module.handler,
        context_factory=_context_factory(
            run, "ingest", fixed.INGEST_TIMEOUT_SECONDS, config.ingest_memory_mb
        ),
        invocations=run.invocations,
        sqs=boto3.client("sqs", region_name=region),
        failure_queue_url=resources.ingest_failure_queue_url,
        retry_attempts=fixed.INGEST_ASYNC_RETRY_ATTEMPTS,
        retry_delay_scale=run.scale.factor,
        on_first_event=run.on_first_event,
        before_reopen=run.before_reopen,
        timeout_s=fixed.INGEST_TIMEOUT_SECONDS,
        events_per_second=options.events_per_second,
    )
    pipe = StreamPipe(
        streams=boto3.client("dynamodbstreams", region_name=region),
        sqs=boto3.client("sqs", region_name=region),
        resources=resources,
        pipe_dlq_url=run.pipe_dlq.url,
        batch_size=fixed.PIPE_BATCH_SIZE,
        target_faults=TargetFaults(options.pipe_failure_rate, options.seed),
        pipe_arn=f"arn:aws:pipes:{region}:{resources.account_id}:pipe/{config.stack_name}-pipe",
    )
    # Lambda's SQS event source on the pipe DLQ, as stacks/pipe_dlq.py sets it up.
    resolver_timeout_s = float(min(fixed.PIPE_DLQ_RESOLVER_TIMEOUT_SECONDS, run.pipe_dlq.visibility_s))
    resolver_source = SqsEventSource(
        sqs=boto3.client("sqs", region_name=region),
        queue_url=run.pipe_dlq.url,
        queue_arn=run.pipe_dlq.arn,
        region=region,
        handler=run.pipe_dlq_module.handler,
        context_factory=_context_factory(run, "pipe-dlq", resolver_timeout_s, 256),
        invocations=run.invocations,
        batch_size=fixed.PIPE_DLQ_RESOLVER_BATCH_SIZE,
        batching_window_s=0.0,
        concurrency=1,
        timeout_s=resolver_timeout_s,
    )
    source = SqsEventSource(
        sqs=boto3.client("sqs", region_name=region),
        queue_url=resources.work_queue_url,
        queue_arn=resources.work_queue_arn,
        region=region,
        handler=run.processor_module.handler,
        context_factory=_context_factory(
            run, "processor", run.processor_timeout_s, config.processor_memory_mb
        ),
        invocations=run.invocations,
        batch_size=config.processor_batch_size,
        batching_window_s=run.scale.seconds(config.processor_batching_window_seconds),
        concurrency=config.processor_max_concurrency,
        timeout_s=run.processor_timeout_s,
    )
    return StandIns(invoker=invoker, pipe=pipe, resolver_source=resolver_source, source=source)
