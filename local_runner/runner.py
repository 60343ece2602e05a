"""run_pipeline(RunOptions) -> RunReport: one local run of the dev environment, end to end.

Used by `python -m local_runner` (make demo), `python -m local_runner.chaos` (make chaos), the
integration tests and the benchmarks.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
import warnings
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from genesys_bridge import contracts
from local_runner import aws_hooks
from local_runner.aws import (
    DEFAULT_REGION,
    LocalResources,
    TimeScale,
    apply_aws_env,
    create_resources,
    env_overlay,
    ingest_env,
    processor_env,
    restore_env,
)
from local_runner.aws_hooks import AwsFaults, AwsRecorder, acting_as
from local_runner.engine import (
    IngestDriver,
    SqsEventSource,
    StreamPipe,
    drain_queue,
    queue_depth,
    scan_buffer,
)
from local_runner.functions import (
    INGEST_HANDLER,
    PROCESSOR_HANDLER,
    InvocationStats,
    LambdaContext,
    load_handler,
    logger_streams_to_stdout,
    reset_runtime,
    route_stdout,
    sum_emf_metrics,
)
from local_runner.pipe import PipeDefinition
from local_runner.reconcile import RunReport, reconcile
from local_runner.workload import (
    Readiness,
    Workload,
    WorkloadSpec,
    read_events_file,
    synthesize,
    workload_from_events,
)

DEFAULT_TIME_SCALE = 0.05
DEFAULT_CONVERSATIONS = 600
DEFAULT_OUT = Path("out/demo")
# The queue's visibility timeout never drops below this locally: an invocation is not faster for a
# smaller factor, and one that outlived the visibility timeout would see its batch delivered twice.
MIN_VISIBILITY_S = 5
# Genesys' default client-credentials budget (GENESYS_API.md); the simulator's default too.
GENESYS_ORG_BUDGET_PER_MINUTE = 300


@dataclass(frozen=True)
class RunOptions:
    """Everything a run can vary. Rates are shares; times are config seconds unless named *_s."""

    conversations: int = DEFAULT_CONVERSATIONS
    seed: int = 7
    time_scale: float = DEFAULT_TIME_SCALE
    faults: str = "none"  # a genesys_simulator fault profile name
    environment: str = "dev"
    out_dir: Path | None = DEFAULT_OUT  # None: export nothing, log to a temporary file
    events_file: Path | None = None
    workload: Workload | None = None  # a prepared workload (benchmarks); overrides the synthetic one
    # A real Genesys org instead of the simulator (read-only multi-gets for ids from events_file).
    genesys_region: str | None = None
    genesys_client_id: str | None = None
    genesys_client_secret: str | None = None
    # Pacing: the processor's budget (config, scaled) on or off; the simulator's budget per minute
    # (the org's, scaled) or None for no budget.
    paced: bool = True
    simulator_budget_per_minute: int | None = GENESYS_ORG_BUDGET_PER_MINUTE
    # Workload shape
    duplicate_rate: float = 0.2
    max_copies: int = 2
    late_rate: float = 0.1
    never_rate: float = 0.0
    malformed_rate: float = 0.01
    events_per_second: float | None = None  # None: as fast as the ingest function takes them
    # AWS-side faults (chaos)
    aws_throttle_rate: float = 0.0
    crash_after_puts: int | None = None
    # Revoke every Genesys token this far into the run (seconds), on top of the fault profile.
    revoke_tokens_after_s: float | None = None
    progress: bool = True
    max_run_s: float = 600.0


@dataclass
class _Live:
    """What the progress line shows."""

    started: float = field(default_factory=time.monotonic)


def _progress_line(
    live: _Live, ingest: IngestDriver, pipe: StreamPipe, landed: int, expected: int, depth: dict[str, int]
) -> str:
    total = len(ingest.events)
    done = ingest.tally.deliveries
    width = 24
    filled = int(width * landed / expected) if expected else width
    bar = "#" * filled + "-" * (width - filled)
    return (
        f"[{bar}] landed {landed}/{expected}  events {done}/{total}  pipe {pipe.tally.forwarded}  "
        f"queue {depth['visible']}+{depth['in_flight']}+{depth['delayed']}  "
        f"{time.monotonic() - live.started:5.1f}s"
    )


@contextmanager
def _handler_output(log_path: Path) -> Any:
    """Function output (Powertools JSON logs and EMF, the package's standard-library logs) to a file.

    In Lambda the runtime sends stdout and the root logger to CloudWatch Logs; here both go to
    log_path. The package's loggers created after the handler's copy_config_to_registered_loggers
    (modules loaded lazily) get a plain JSON line handler, as they would reach CloudWatch via the root.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w", encoding="utf-8") as log:
        route_stdout(log)
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(
            logging.Formatter('{"level":"%(levelname)s","logger":"%(name)s","message":"%(message)s"}')
        )
        package_logger = logging.getLogger("genesys_bridge")
        previous_level = package_logger.level
        package_logger.addHandler(handler)
        package_logger.setLevel(logging.INFO)
        try:
            with warnings.catch_warnings():
                # Powertools warns on stderr when an invocation emitted no metric (a batch of only
                # not-ready messages); in Lambda that lands in the function's log, so it does here.
                warnings.filterwarnings("ignore", message="No application metrics to publish")
                yield log
        finally:
            package_logger.removeHandler(handler)
            package_logger.setLevel(previous_level)
            route_stdout(None)


def run_pipeline(options: RunOptions, *, progress_stream: TextIO | None = None) -> RunReport:
    """Run the pipeline once on moto and the simulator (or a real org); return the report."""
    from moto import mock_aws

    from stacks.config import load_environment_config

    progress_stream = progress_stream or sys.stderr
    config = load_environment_config(options.environment)
    scale = TimeScale(options.time_scale)
    region = config.region or DEFAULT_REGION
    real_org = options.genesys_region is not None
    if real_org and options.events_file is None:
        raise ValueError("a real Genesys org is read for the conversation ids of --events only")

    out_dir = options.out_dir
    # without an output folder, a folder of its own, so concurrent runs (tests, benchmarks) never share a log
    log_dir = out_dir if out_dir is not None else Path(tempfile.mkdtemp(prefix="local_runner-"))
    if out_dir is not None:
        # Only what a previous run wrote (the bucket's prefix): --out may name a folder with other files.
        previous = out_dir / contracts.RESULTS_PREFIX
        if previous.is_dir():
            shutil.rmtree(previous)
    log_path = log_dir / "handlers.log"

    previous_env = apply_aws_env(region)
    # The client's 5xx waits (3 s, 9 s, 27 s ...) are real seconds: compress them with everything else,
    # or one outage wait would outlast a scaled max age.
    from genesys_bridge.genesys import retry as genesys_retry

    transient_wait = genesys_retry.TRANSIENT_FIRST_WAIT_SECONDS
    genesys_retry.TRANSIENT_FIRST_WAIT_SECONDS = scale.seconds(transient_wait)
    recorder = AwsRecorder(
        faults=AwsFaults(
            throttle_rate=options.aws_throttle_rate,
            crash_after_puts=options.crash_after_puts,
            seed=options.seed,
        )
    )
    aws_hooks.install(recorder)
    simulator: Any = None
    try:
        with ExitStack() as stack:
            stack.enter_context(mock_aws())
            import boto3

            # A session created now carries the hooks; the functions' cached clients are dropped.
            boto3.setup_default_session(region_name=region)
            reset_runtime()
            stack.callback(reset_runtime)
            stack.enter_context(_handler_output(log_path))

            if real_org:
                credentials = {
                    "client_id": options.genesys_client_id or os.environ.get("GENESYS_CLIENT_ID", ""),
                    "client_secret": options.genesys_client_secret
                    or os.environ.get("GENESYS_CLIENT_SECRET", ""),
                }
                if not credentials["client_id"] or not credentials["client_secret"]:
                    raise ValueError("a real org needs GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET")
                api_base = login_base = None
                genesys_region = options.genesys_region or config.genesys_region
            else:
                from genesys_simulator import FaultProfile, GenesysSimulator, SimulatorConfig

                budget = options.simulator_budget_per_minute
                simulator = GenesysSimulator(
                    SimulatorConfig(
                        seed=options.seed,
                        requests_per_minute=scale.per_minute(budget) if budget else None,
                        faults=FaultProfile.named(options.faults),
                    )
                )
                base_url = simulator.start()
                stack.callback(simulator.stop)
                credentials = {
                    "client_id": simulator.config.client_id,
                    "client_secret": simulator.config.client_secret,
                }
                api_base = login_base = base_url
                genesys_region = config.genesys_region

            with acting_as("runner"):
                resources = create_resources(config, scale, region, credentials)
                sqs = boto3.client("sqs", region_name=region)
                pipe_dlq_url = sqs.create_queue(QueueName=f"{config.stack_name.lower()}-pipe-dlq")["QueueUrl"]
                visibility = max(resources.visibility_timeout_s, MIN_VISIBILITY_S)
                if visibility != resources.visibility_timeout_s:
                    sqs.set_queue_attributes(
                        QueueUrl=resources.work_queue_url, Attributes={"VisibilityTimeout": str(visibility)}
                    )
                    resources = replace(resources, visibility_timeout_s=visibility)

            env_ingest = ingest_env(config, resources)
            env_processor = processor_env(
                config,
                resources,
                scale,
                genesys_region=genesys_region,
                api_base_url=api_base,
                login_base_url=login_base,
                paced=options.paced,
            )
            # All processor invocations share one process, hence one Genesys client and one pacer
            # (genesys_bridge.runtime caches it): that pacer gets the whole budget, not a share.
            env_processor[contracts.GENESYS_CONCURRENT_CALLERS] = "1"
            stack.enter_context(env_overlay({**env_ingest, **env_processor}))
            ingest_module = load_handler(INGEST_HANDLER, env_ingest)
            processor_module = load_handler(PROCESSOR_HANDLER, env_processor)
            stack.enter_context(
                logger_streams_to_stdout([contracts.INGEST_SERVICE, contracts.PROCESSOR_SERVICE])
            )
            max_age_s = float(env_processor[contracts.NOT_READY_MAX_AGE_MINUTES]) * 60

            now = datetime.now(UTC)
            if options.workload is not None:
                workload = options.workload
            elif options.events_file is not None:
                workload = workload_from_events(list(read_events_file(options.events_file)), now)
            else:
                workload = synthesize(
                    WorkloadSpec(
                        conversations=options.conversations,
                        seed=options.seed,
                        settle_delay_s=resources.delivery_delay_s,
                        not_ready_backoff_s=float(env_processor[contracts.NOT_READY_RETRY_BASE_SECONDS]),
                        duplicate_rate=options.duplicate_rate,
                        max_copies=options.max_copies,
                        late_rate=options.late_rate,
                        never_rate=options.never_rate,
                        malformed_rate=options.malformed_rate,
                        now=now,
                        topics=frozenset(config.topics),
                    ),
                    region,
                )

            return _drive(
                options=options,
                config=config,
                scale=scale,
                resources=resources,
                pipe_dlq_url=pipe_dlq_url,
                workload=workload,
                simulator=simulator,
                recorder=recorder,
                ingest_handler=ingest_module.handler,
                processor_handler=processor_module.handler,
                log_path=log_path,
                max_age_s=max_age_s,
                progress_stream=progress_stream,
            )
    finally:
        aws_hooks.install(None)
        restore_env(previous_env)
        genesys_retry.TRANSIENT_FIRST_WAIT_SECONDS = transient_wait


def _drive(
    *,
    options: RunOptions,
    config: Any,
    scale: TimeScale,
    resources: LocalResources,
    pipe_dlq_url: str,
    workload: Workload,
    simulator: Any,
    recorder: AwsRecorder,
    ingest_handler: Any,
    processor_handler: Any,
    log_path: Path,
    max_age_s: float,
    progress_stream: TextIO,
) -> RunReport:
    import boto3

    region = resources.region
    sqs = boto3.client("sqs", region_name=region)
    invocations = InvocationStats()
    live = _Live()
    # The stack keeps the visibility timeout >= 6 x the function timeout, so a batch is never handed to
    # a second invocation while the first still runs. Scaling the visibility timeout down, the runner
    # keeps that promise by giving the function no more time than the (scaled) visibility timeout.
    processor_timeout_s = float(min(config.processor_timeout_seconds, resources.visibility_timeout_s))

    def ingest_context() -> LambdaContext:
        return LambdaContext(
            function_name=f"{config.stack_name}-ingest",
            timeout_s=config.ingest_timeout_seconds,
            memory_limit_in_mb=config.ingest_memory_mb,
            region=region,
            account_id=resources.account_id,
        )

    def processor_context() -> LambdaContext:
        return LambdaContext(
            function_name=f"{config.stack_name}-processor",
            timeout_s=processor_timeout_s,
            memory_limit_in_mb=config.processor_memory_mb,
            region=region,
            account_id=resources.account_id,
        )

    planned = workload.conversations
    sim_lock = threading.Lock()

    def on_first_event(conversation_id: str) -> None:
        # The conversation's analytics clock starts with its first end event, as it does in Genesys.
        if simulator is None:
            return
        from genesys_simulator import SimConversation

        plan = planned.get(conversation_id)
        if plan is None:
            return
        with sim_lock:
            simulator.add_conversations(
                [
                    SimConversation(
                        plan.conversation_id,
                        start=plan.start,
                        visible_after_s=plan.visible_after_s,
                        ended_after_s=plan.ended_after_s,
                    )
                ]
            )

    ingest = IngestDriver(
        events=workload.events,
        handler=ingest_handler,
        context_factory=ingest_context,
        invocations=invocations,
        sqs=sqs,
        failure_queue_url=resources.ingest_failure_queue_url,
        retry_attempts=config.ingest_async_retry_attempts,
        retry_delay_scale=scale.factor,
        on_first_event=on_first_event,
        timeout_s=config.ingest_timeout_seconds,
        events_per_second=options.events_per_second,
    )
    pipe = StreamPipe(
        streams=boto3.client("dynamodbstreams", region_name=region),
        sqs=boto3.client("sqs", region_name=region),
        resources=resources,
        definition=PipeDefinition(contracts.PIPE_FILTER_PATTERN, contracts.PIPE_INPUT_TEMPLATE),
        pipe_dlq_url=pipe_dlq_url,
        batch_size=config.pipe_batch_size,
    )
    source = SqsEventSource(
        sqs=boto3.client("sqs", region_name=region),
        queue_url=resources.work_queue_url,
        queue_arn=resources.work_queue_arn,
        region=region,
        handler=processor_handler,
        context_factory=processor_context,
        invocations=invocations,
        batch_size=config.processor_batch_size,
        batching_window_s=scale.seconds(config.processor_batching_window_seconds),
        concurrency=config.processor_max_concurrency,
        timeout_s=processor_timeout_s,
    )
    if options.progress:
        print(
            f"local run: {config.stack_name} on moto, Genesys "
            f"{'simulator (faults: ' + options.faults + ')' if simulator else options.genesys_region}; "
            f"time scale {scale.factor:g} (config seconds x {scale.factor:g} = local seconds: settle "
            f"{config.settle_delay_seconds}s -> {resources.delivery_delay_s}s, batching window "
            f"{config.processor_batching_window_seconds}s -> "
            f"{scale.seconds(config.processor_batching_window_seconds):g}s, "
            f"not-ready backoff {config.not_ready_retry_base_seconds}s -> "
            f"{resources_backoff_s(config, scale)}s, max age {config.not_ready_max_age_minutes}min -> "
            f"{max_age_s:g}s, visibility {config.work_queue_visibility_timeout_seconds}s -> "
            f"{resources.visibility_timeout_s}s, processor timeout {config.processor_timeout_seconds}s -> "
            f"{processor_timeout_s:g}s)",
            file=progress_stream,
        )
    expected_landings = len(workload.conversations) - len(workload.ids(Readiness.NEVER))
    started = time.monotonic()
    ingest.start()
    pipe.start()
    source.start()
    revoked = False
    stable = 0
    last_progress = 0.0
    interactive = options.progress and progress_stream.isatty()
    timed_out = False
    try:
        while True:
            time.sleep(0.25)
            elapsed = time.monotonic() - started
            for thread_error in (ingest.error, pipe.error, *source.errors):
                if thread_error is not None:
                    raise RuntimeError(f"local runner thread failed: {thread_error!r}") from thread_error
            if (
                simulator is not None
                and options.revoke_tokens_after_s is not None
                and not revoked
                and elapsed >= options.revoke_tokens_after_s
            ):
                simulator.revoke_tokens()
                revoked = True
            show = options.progress and (elapsed - last_progress >= (1 if interactive else 5))
            quiet_upstream = ingest.done.is_set() and pipe.caught_up.is_set() and source.in_flight == 0
            # moto's GetQueueAttributes walks every message: ask only when it can end the run or is shown
            depth = queue_depth(sqs, resources.work_queue_url) if (quiet_upstream or show) else None
            if show and depth is not None:
                line = _progress_line(live, ingest, pipe, len(recorder.landed_at), expected_landings, depth)
                print(
                    ("\r" + line) if interactive else line,
                    end="" if interactive else "\n",
                    file=progress_stream,
                )
                last_progress = elapsed
            idle = quiet_upstream and depth is not None and sum(depth.values()) == 0
            stable = stable + 1 if idle else 0
            if stable >= 3:
                break
            if elapsed > options.max_run_s:
                timed_out = True
                break
    finally:
        ingest.stop_requested.set()
        source.stop_requested.set()
        source.join(timeout=processor_timeout_s + 5)
        pipe.stop_requested.set()
        pipe.join(timeout=10)
        ingest.join(timeout=10)
        if interactive:
            print(file=progress_stream)
    elapsed = time.monotonic() - started

    return reconcile(
        genesys_client_stats=_genesys_client_stats(source.tally.invocations),
        options=options,
        workload=workload,
        resources=resources,
        pipe_dlq_url=pipe_dlq_url,
        simulator=simulator,
        recorder=recorder,
        ingest=ingest,
        pipe=pipe,
        source=source,
        invocations=invocations,
        emf=sum_emf_metrics(log_path),
        elapsed_s=elapsed,
        timed_out=timed_out,
        time_scale=scale.factor,
        log_path=log_path,
        drain=lambda url: drain_queue(sqs, url),
        scan=lambda: scan_buffer(boto3.client("dynamodb", region_name=region), resources.table_name),
        max_age_s=max_age_s,
    )


def resources_backoff_s(config: Any, scale: TimeScale) -> int:
    return scale.whole_seconds(config.not_ready_retry_base_seconds)


def _genesys_client_stats(processor_invocations: int) -> dict[str, int]:
    """The processor's Genesys client counters (requests, 429s, errors, token requests), as the
    client saw them; the only Genesys figures when a real org is used. The runtime caches the client,
    so this is the one the invocations used (none exists before the first invocation)."""
    if processor_invocations == 0:
        return {}
    from genesys_bridge import runtime

    return dict(runtime.genesys_client().stats.snapshot())


def export_objects(s3: Any, bucket: str, out_dir: Path) -> dict[str, bytes]:
    """Every object of the results bucket, written under out_dir in the bucket's key layout."""
    objects: dict[str, bytes] = {}
    with acting_as("inventory"):
        paginator = s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket):
            for entry in page.get("Contents", []):
                key = entry["Key"]
                objects[key] = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    if out_dir is not None:
        for key, body in objects.items():
            path = out_dir / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
    return objects


def dumps_report(report: RunReport) -> str:
    return json.dumps(report.as_dict(), indent=2, default=str)
