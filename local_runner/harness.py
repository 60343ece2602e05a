"""run_pipeline(RunOptions) -> RunReport: one local run of an environment's pipeline, end to end.

``Harness`` holds one run: the resources on moto (local_runner.aws), Genesys (the simulator or a
real org), the two real handlers (local_runner.functions) and the threads that stand in for AWS
between them:

    events --(async invoke: retried, then the on-failure queue)--> ingest --> buffer table
    buffer stream --(the pipe: the stack's filter and template)--> work queue
    pipe DLQ (a failed batch's pointer) --(SQS event source)--> pipe DLQ function --> work queue
    work queue --(SQS event source: batch size, window, max concurrency, partial failures)--> processor
    processor --> results bucket (and the work DLQ for terminal failures; SQS redrive for the rest)

(built and stopped in local_runner.stand_ins), then takes the inventory, runs the closing audit
(local_runner.closing_audit), reconciles it with the workload and reports. Used by `python -m
local_runner` (make demo), `python -m local_runner.chaos` (make chaos), the integration tests and the
benchmarks; docs/local-runner.md describes what is imitated and how.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from genesys_bridge import contracts, layout
from genesys_bridge.buffer import BufferTable
from genesys_bridge.contracts import format_timestamp
from local_runner import aws_hooks
from local_runner.aws import (
    DEFAULT_REGION,
    LocalResources,
    TimeScale,
    apply_aws_env,
    create_resources,
    env_overlay,
    ingest_env,
    pipe_dlq_env,
    processor_env,
    restore_env,
)
from local_runner.aws_hooks import AwsFaults, AwsRecorder, acting_as
from local_runner.closing_audit import AuditSummary, audit_local_run
from local_runner.drops import choose_dropped
from local_runner.function_logs import read_function_log
from local_runner.functions import (
    INGEST_HANDLER,
    PIPE_DLQ_HANDLER,
    PROCESSOR_HANDLER,
    InvocationStats,
    function_output,
    isolate_metrics,
    load_handler,
    logger_streams_to_stdout,
    reset_runtime,
)
from local_runner.inventory import queue_depth, take_inventory
from local_runner.options import RunOptions, UsageError
from local_runner.pipe_dlq import create_pipe_dead_letter_queues
from local_runner.progress import progress_line, settings_line
from local_runner.reconcile import reconcile, simulator_id
from local_runner.report import RunReport, build_report
from local_runner.stand_ins import build_stand_ins
from local_runner.workload import (
    PlannedEvent,
    Readiness,
    Workload,
    WorkloadSpec,
    read_events_file,
    synthesize,
    workload_from_events,
)

# The queue's visibility timeout never drops below this locally: an invocation is not faster for a
# smaller factor, and one that outlived the visibility timeout would see its batch delivered twice.
MIN_VISIBILITY_S = 5


def clear_previous_output(out_dir: Path, log_path: Path) -> None:
    """Remove what an earlier run exported under out_dir (the bucket's prefixes), before this run exports
    its own. Only a folder an earlier run wrote (it holds that run's handlers.log) is cleared: anything
    else that holds those prefixes is the user's, and the run refuses to delete it."""
    prefixes = (layout.CONVERSATIONS.prefix, layout.COMPACTED_PREFIX, layout.LOOKUPS_PREFIX)
    previous = [out_dir / prefix for prefix in prefixes]
    present = [path for path in previous if path.exists()]
    if present and not log_path.is_file():
        raise UsageError(
            f"--out {out_dir} already holds {present[0].name}/ that no earlier run wrote there (no "
            f"{log_path.name}): choose another folder, or remove it yourself"
        )
    for path in present:
        shutil.rmtree(path)


def run_pipeline(options: RunOptions, *, progress_stream: TextIO | None = None) -> RunReport:
    """Run the pipeline once on moto and the Genesys simulator (or a real org); return the report.

    Raises UsageError for input the run cannot use (an unreadable or empty events file, a real org
    without credentials); every other outcome, good or bad, is in the report.

    Example:
        >>> from local_runner import RunOptions, run_pipeline
        >>> report = run_pipeline(RunOptions(conversations=50, faults="flaky", out_dir=None))
        >>> report.verdict, report.landed
        (True, 50)
    """
    return Harness(options, progress_stream or sys.stderr).run()


def _read_events(path: Path) -> list[Any]:
    try:
        events = list(read_events_file(path))
    except OSError as error:
        raise UsageError(f"--events {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise UsageError(f"--events {path}: not UTF-8 text (JSON lines expected)") from None
    if not events:
        raise UsageError(f"--events {path} holds no events (it is empty or has only blank lines)")
    return events


@dataclass(frozen=True)
class _Genesys:
    credentials: dict[str, str]
    region: str
    base_url: str | None  # the simulator's or --genesys-base-url; None for a real org by its region


class Harness:
    """One local run; see the module docstring. Use ``run_pipeline``; ``run`` may be called once."""

    def __init__(self, options: RunOptions, progress_stream: TextIO) -> None:
        from stacks.config import ConfigError, load_environment_config, parse_environment_config

        self.options = options
        self.progress_stream = progress_stream
        try:
            self.config = load_environment_config(options.environment)
        except ConfigError as error:  # an unknown --environment or a broken cdk.json block: its message
            raise UsageError(str(error)) from None
        overrides = dict(options.settings)
        if options.topics is not None:
            overrides["topics"] = list(options.topics)
        if overrides:
            # the environment as if cdk.json said so, checked by the config's own rules
            block = {**self.config.model_dump(exclude={"environment_name"}), **overrides}
            try:
                self.config = parse_environment_config(options.environment, block)
            except ConfigError as error:
                what = "--topics" if options.topics is not None else "settings"
                raise UsageError(f"{what}: " + str(error).splitlines()[-1].strip()) from None
        self.scale = TimeScale(options.time_scale)
        self.region = self.config.region or DEFAULT_REGION
        # A real org (by region) or any Genesys-compatible server (by base URL) instead of the simulator.
        self.real_org = options.genesys_region is not None or options.genesys_base_url is not None
        if self.real_org and options.events_file is None:
            raise UsageError("a real Genesys org or server is read for the conversation ids of --events only")
        # read before anything starts: a bad file is a usage error, not a crash half-way
        self.events = _read_events(options.events_file) if options.events_file is not None else None
        # without an output folder, a folder of its own, so concurrent runs never share a log
        log_dir = options.out_dir or Path(tempfile.mkdtemp(prefix="local_runner-"))
        self.log_path = log_dir / "handlers.log"
        self.recorder = AwsRecorder(
            faults=AwsFaults(
                throttle_rate=options.aws_throttle_rate,
                crash_after_puts=options.crash_after_puts,
                seed=options.seed,
            )
        )
        self.invocations = InvocationStats()
        self.dropped: frozenset[str] = frozenset()
        # conversations with no end event the environment subscribes to: only the audit lands them
        self.silent: frozenset[str] = frozenset()
        self.audit: AuditSummary | None = None  # the closing audit's outcome (None: not run)
        self.lookups: list[Any] = []  # genesys_bridge.lookups.LookupResult of each lookup
        self.simulator: Any = None
        self._simulator_lock = threading.Lock()
        self._shifts: dict[str, timedelta] = {}  # how far each conversation's details moved (_ending_now)

    # -- the run ---------------------------------------------------------------------------------------

    def run(self) -> RunReport:
        from moto import mock_aws

        if self.options.out_dir is not None:
            clear_previous_output(self.options.out_dir, self.log_path)
        previous_env = apply_aws_env(self.region)
        # The client's 5xx waits (3 s, 9 s, 27 s ...) are real seconds: compress them with everything else,
        # or one outage wait would outlast a scaled max age.
        from genesys_bridge.genesys import retry as genesys_retry

        transient_wait = genesys_retry.TRANSIENT_FIRST_WAIT_SECONDS
        genesys_retry.TRANSIENT_FIRST_WAIT_SECONDS = self.scale.seconds(transient_wait)
        aws_hooks.install(self.recorder)
        try:
            with ExitStack() as stack:
                stack.enter_context(mock_aws())
                import boto3

                # A session created now carries the hooks; the functions' cached clients are dropped.
                boto3.setup_default_session(region_name=self.region)
                reset_runtime()
                stack.callback(reset_runtime)
                log = stack.enter_context(function_output(self.log_path))
                genesys = self._start_genesys(stack)
                self._create_resources(genesys)
                self._load_functions(stack, genesys)
                self.workload = self._workload()
                self.dropped = choose_dropped(self.workload, self.options.drop_rate, self.options.seed)
                self.silent = self.workload.silent_ids() - self.dropped
                elapsed, timed_out = self._drive()
                self.lookups = self._sync_lookups(genesys)
                if self.options.audit and not timed_out:
                    self.audit = audit_local_run(
                        bucket=self.resources.bucket_name,
                        aws_region=self.region,
                        genesys_region=genesys.region,
                        credentials=genesys.credentials,
                        base_url=genesys.base_url,
                        config=self.config,
                        workload=self.workload,
                        simulator=self.simulator,
                        options=self.options,
                        progress_stream=self.progress_stream,
                    )
                inventory = take_inventory(
                    self.resources, self.pipe_dlq.url, self.pipe_dlq.unresolved_url, self.options.out_dir
                )
                # every line the functions wrote is in the file before it is read
                sys.stdout.flush()
                log.flush()
                figures = read_function_log(self.log_path)
                reconciliation = reconcile(
                    self.workload,
                    inventory,
                    self.simulator,
                    timed_out=timed_out,
                    dropped=self.dropped | self.silent,
                    audit=self.audit,
                    snapshots=frozenset(r.key for r in self.lookups if r.key),
                )
                return build_report(
                    self, inventory, reconciliation, figures, elapsed, timed_out, self._genesys_client_stats()
                )
        finally:
            aws_hooks.install(None)
            restore_env(previous_env)
            genesys_retry.TRANSIENT_FIRST_WAIT_SECONDS = transient_wait

    def _start_genesys(self, stack: ExitStack) -> _Genesys:
        options = self.options
        if self.real_org:
            credentials = {
                "client_id": options.genesys_client_id or os.environ.get("GENESYS_CLIENT_ID", ""),
                "client_secret": options.genesys_client_secret or os.environ.get("GENESYS_CLIENT_SECRET", ""),
            }
            if not credentials["client_id"] or not credentials["client_secret"]:
                raise UsageError("a real org or server needs GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET")
            return _Genesys(
                credentials, options.genesys_region or self.config.genesys_region, options.genesys_base_url
            )
        from genesys_simulator import FaultProfile, GenesysSimulator, SimulatorConfig

        budget = options.simulator_budget_per_minute
        genesys_defaults = SimulatorConfig()
        self.simulator = GenesysSimulator(
            SimulatorConfig(
                seed=options.seed,
                requests_per_minute=self.scale.per_minute(budget) if budget else None,
                faults=FaultProfile.named(options.faults),
                # Genesys' own durations shrink with the run's: a details job's time to fulfil
                job_queued_s=self.scale.seconds(genesys_defaults.job_queued_s),
                job_fulfilled_after_s=self.scale.seconds(genesys_defaults.job_fulfilled_after_s),
            )
        )
        base_url = self.simulator.start()
        stack.callback(self.simulator.stop)
        credentials = {
            "client_id": self.simulator.config.client_id,
            "client_secret": self.simulator.config.client_secret,
        }
        return _Genesys(credentials, self.config.genesys_region, base_url)

    def _sync_lookups(self, genesys: _Genesys) -> list[Any]:
        """Today's lookups snapshots: the deployed sync's own code (genesys_bridge.lookups), in process,
        against the run's Genesys and bucket, at the audit's pace on the run's clock."""
        import boto3

        from genesys_bridge.genesys import GenesysClient
        from genesys_bridge.lookups import sync_lookups
        from genesys_bridge.metrics import RecordingMetrics

        with (
            GenesysClient(
                region=genesys.region,
                client_id=genesys.credentials["client_id"],
                client_secret=genesys.credentials["client_secret"],
                api_base_url=genesys.base_url,
                login_base_url=genesys.base_url,
                max_requests_per_minute=self.scale.per_minute(self.config.audit_max_requests_per_minute),
            ) as client,
            acting_as("lookups"),
        ):
            s3, bucket = boto3.client("s3", region_name=self.region), self.resources.bucket_name
            today = datetime.now(UTC).date()
            return sync_lookups(today, genesys=client, s3=s3, bucket=bucket, metrics=RecordingMetrics())

    def _create_resources(self, genesys: _Genesys) -> None:
        import boto3

        with acting_as("runner"):
            resources = create_resources(self.config, self.scale, self.region, genesys.credentials)
            sqs = boto3.client("sqs", region_name=self.region)
            self.pipe_dlq = create_pipe_dead_letter_queues(
                sqs, stack_name=self.config.stack_name, scale=self.scale, min_visibility_s=MIN_VISIBILITY_S
            )
            visibility = max(resources.visibility_timeout_s, MIN_VISIBILITY_S)
            if visibility != resources.visibility_timeout_s:
                sqs.set_queue_attributes(
                    QueueUrl=resources.work_queue_url, Attributes={"VisibilityTimeout": str(visibility)}
                )
                resources = replace(resources, visibility_timeout_s=visibility)
        self.resources: LocalResources = resources
        # The stack keeps the visibility timeout >= 6 x the function timeout, so a batch is never handed
        # to a second invocation while the first still runs. Scaling the visibility timeout down, the
        # runner keeps that promise by giving the function no more time than the visibility timeout.
        self.processor_timeout_s = float(
            min(self.config.processor_timeout_seconds, resources.visibility_timeout_s)
        )

    def _load_functions(self, stack: ExitStack, genesys: _Genesys) -> None:
        env_ingest = ingest_env(self.config, self.resources)
        env_processor = processor_env(
            self.config,
            self.resources,
            self.scale,
            genesys_region=genesys.region,
            api_base_url=genesys.base_url,
            login_base_url=genesys.base_url,
            paced=self.options.paced,
        )
        # All processor invocations share one process, hence one Genesys client and one pacer
        # (genesys_bridge.runtime caches it): that pacer gets the whole budget, not a share.
        env_processor[contracts.GENESYS_CONCURRENT_CALLERS] = "1"
        self.env_processor = env_processor
        env_pipe_dlq = pipe_dlq_env(self.resources, self.pipe_dlq.unresolved_url)
        stack.enter_context(env_overlay({**env_ingest, **env_processor, **env_pipe_dlq}))
        self.ingest_module = load_handler(INGEST_HANDLER, env_ingest)
        self.processor_module = load_handler(PROCESSOR_HANDLER, env_processor)
        self.pipe_dlq_module = load_handler(PIPE_DLQ_HANDLER, env_pipe_dlq)
        for module in (self.ingest_module, self.processor_module, self.pipe_dlq_module):
            isolate_metrics(module)
        stack.enter_context(
            logger_streams_to_stdout(
                [contracts.INGEST_SERVICE, contracts.PROCESSOR_SERVICE, contracts.PIPE_DLQ_SERVICE]
            )
        )
        self.max_age_s = float(env_processor[contracts.NOT_READY_MAX_AGE_MINUTES]) * 60

    def _workload(self) -> Workload:
        from genesys_simulator import DEFAULT_ACW

        options, now = self.options, datetime.now(UTC)
        if options.workload is not None:
            return options.workload
        if self.events is not None:
            return workload_from_events(self.events, now)
        return synthesize(
            WorkloadSpec(
                conversations=options.conversations,
                seed=options.seed,
                settle_delay_s=self.resources.delivery_delay_s,
                not_ready_backoff_s=float(self.env_processor[contracts.NOT_READY_RETRY_BASE_SECONDS]),
                duplicate_rate=options.duplicate_rate,
                max_copies=options.max_copies,
                late_rate=options.late_rate,
                never_rate=options.never_rate,
                reopen_rate=options.reopen_rate,
                malformed_rate=options.malformed_rate,
                now=now,
                topics=frozenset(self.config.topics),
                # wrap-up waits (ACW) shrink with the run's other timings
                time_scale=self.scale.factor,
                acw=DEFAULT_ACW if options.acw is None else options.acw,
            ),
            self.region,
        )

    # -- the stand-ins for AWS ---------------------------------------------------------------------------

    def on_first_event(self, conversation_id: str) -> None:
        # The conversation's analytics clock starts with its first end event, as it does in Genesys.
        plan = self.workload.conversations.get(conversation_id)
        if self.simulator is None or plan is None or simulator_id(conversation_id) is None:
            return  # an id that is no UUID exists in no Genesys: reconcile reports it lost
        if math.isinf(plan.visible_after_s):
            return  # a never-ready conversation analytics never shows (local_runner.workload)
        with self._simulator_lock:
            self.simulator.add_conversations([self._ending_now(plan.sim_conversation())])

    def _ending_now(self, conversation: Any) -> Any:
        """The conversation with its details moved to end now, when its first end event came: an open
        wrap-up's segmentStart, from which the processor expects its end, then lies on the run's clock
        as deployed. The events keep their own (past) times; a reopen moves by the same amount."""
        from genesys_simulator import timeline

        end = timeline(conversation, self.simulator.org).end
        shift = self._shifts.setdefault(conversation.conversation_id, self.simulator.now() - end)
        return replace(conversation, start=conversation.start + shift)

    def before_reopen(self, planned: PlannedEvent) -> bool:
        """An event that ends its conversation again is due: once the bridge has concluded the
        conversation, reopen it in the simulator with a body of its own (a new message and more
        after-call work) that has ended again by now, and date the event now. False: not concluded yet."""
        import boto3

        assert planned.conversation_id is not None  # workload._endings_again names one
        table = BufferTable(boto3.client("dynamodb", region_name=self.region), self.resources.table_name)
        with acting_as("runner"):
            item = table.get(planned.conversation_id)
        if item is None or item.status == contracts.STATUS_PENDING:
            return False
        plan = self.workload.conversations[planned.conversation_id]
        if self.simulator is not None:
            again = replace(
                self._ending_now(plan.sim_conversation()), ended_after_s=0.0, settled_after_s=None
            )
            with self._simulator_lock:
                self.simulator.add_conversations([replace(again, acw_s=(plan.acw_s or 0.0) + 60)])
        planned.event["detail"]["timestamp"] = format_timestamp(datetime.now(UTC))
        return True

    def _drive(self) -> tuple[float, bool]:
        """Run the stand-ins until every event is in and the work queue has stayed empty; returns the
        elapsed seconds and whether the run hit max_run_s first."""
        import boto3

        options = self.options
        stand_ins = build_stand_ins(self)
        # what build_report and the progress lines read of them
        self.invoker, self.pipe, self.source = stand_ins.invoker, stand_ins.pipe, stand_ins.source
        sqs = boto3.client("sqs", region_name=self.region)
        if options.progress:
            print(settings_line(self), file=self.progress_stream)
        # what the live path can land: the conversations that end, less those it hears nothing of
        missed = self.dropped | self.silent
        expected = len(set(self.workload.conversations) - self.workload.ids(Readiness.NEVER) - missed)
        started = time.monotonic()
        for conversation_id in sorted(missed):
            # Genesys has them all the same: their analytics clock starts now, as if their events
            # had been sent and lost on the way.
            self.on_first_event(conversation_id)
        stand_ins.start()
        revoked = False
        stable = 0
        last_progress = 0.0
        interactive = options.progress and self.progress_stream.isatty()
        timed_out = False
        try:
            while True:
                time.sleep(0.25)
                elapsed = time.monotonic() - started
                thread_error = stand_ins.first_error()
                if thread_error is not None:
                    raise RuntimeError(f"local runner thread failed: {thread_error!r}") from thread_error
                if (
                    self.simulator is not None
                    and options.revoke_tokens_after_s is not None
                    and not revoked
                    and elapsed >= options.revoke_tokens_after_s
                ):
                    self.simulator.revoke_tokens()
                    revoked = True
                show = options.progress and (elapsed - last_progress >= (1 if interactive else 5))
                quiet_upstream = (
                    stand_ins.invoker.done.is_set()
                    and stand_ins.pipe.caught_up.is_set()
                    and stand_ins.source.in_flight == 0
                    and stand_ins.resolver_source.in_flight == 0
                    # a dead-lettered batch is not done until the pipe DLQ function has resolved it
                    and sum(queue_depth(sqs, self.pipe_dlq.url).values()) == 0
                )
                # moto's GetQueueAttributes walks every message: ask only when it can end the run or is shown
                depth = queue_depth(sqs, self.resources.work_queue_url) if (quiet_upstream or show) else None
                if show and depth is not None:
                    line = progress_line(self, started, expected, depth)
                    print(
                        ("\r" + line) if interactive else line,
                        end="" if interactive else "\n",
                        file=self.progress_stream,
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
            stand_ins.stop(
                processor_timeout_s=self.processor_timeout_s, resolver_visibility_s=self.pipe_dlq.visibility_s
            )
            if interactive:
                print(file=self.progress_stream)
        return time.monotonic() - started, timed_out

    # -- the report --------------------------------------------------------------------------------------

    def _genesys_client_stats(self) -> dict[str, int]:
        """The processor's Genesys client counters (requests, 429s, errors, token requests), as the
        client saw them; the only Genesys figures when a real org is used. The runtime caches the
        client, so this is the one the invocations used (none exists before the first invocation)."""
        if self.source.tally.invocations == 0:
            return {}
        from genesys_bridge import runtime

        return dict(runtime.genesys_client().stats.snapshot())
