"""The closing audit of a local run: the audit workflow's own steps, in order, for each UTC day.

Every local run ends as a deployment's day does: `audit` mode for each UTC day its conversations
started on (the days of the landed keys and of the planned starts) plus any --audit-day, with the very
step code the Step Functions workflow runs (genesys_bridge.audit.workflow.run_workflow walks the same
plan); with --finalize, late changes (the simulator's reprocessing) to a share of the landed
conversations, then `finalize` mode over the same days. docs/completeness.md tells the whole story.

Local time is compressed (--time-scale): the audit sleeps its Wait states and retries scaled, and reads
a clock that runs 1/scale as fast, so its own timeouts (availability, job) keep their meaning. A day
only ends at midnight UTC, so the run audits as if the last of its days had ended: the audit's clock
starts past that midnight, and the simulator's dataAvailabilityDate is set there (a real server answers
for itself, and the audit waits for it, as the workflow would).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TextIO

from genesys_bridge import layout
from genesys_bridge.metrics import RecordingMetrics

logger = logging.getLogger(__name__)

# The report fields a summary adds up (genesys_bridge.audit.model.REPORT_COUNTS has them all).
MISSING_LANDED = "missing_landed"
CHANGED_RELANDED = "changed_relanded"
# A local run waits this long (real seconds) for Genesys' data availability before the audit gives up
# on a day with its DataNotAvailable error, instead of the deployment's hours.
LOCAL_AVAILABILITY_WAIT_S = 60.0


@dataclass(frozen=True)
class DayAudit:
    """One execution of the workflow for one day and mode."""

    day: date
    mode: str
    report: dict[str, Any] | None  # the day's report as the workflow wrote it; None when it failed
    error: str | None  # the execution's error (AuditFailed), None when it completed
    duration_s: float

    def count(self, name: str) -> int:
        value = (self.report or {}).get(name, 0)
        return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


@dataclass
class AuditSummary:
    days: list[DayAudit] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # conversations changed before finalize
    genesys_requests: int = 0  # the audit's own client
    s3_requests: int = 0

    def total(self, mode: str, name: str) -> int:
        return sum(day.count(name) for day in self.days if day.mode == mode)

    @property
    def failures(self) -> list[DayAudit]:
        return [day for day in self.days if day.error is not None]


def days_to_audit(
    landed_keys: Iterable[str], planned_starts: Iterable[datetime], extra: Iterable[date]
) -> list[date]:
    """The UTC days of the landed keys' conversation_date partitions, of the planned conversations'
    starts (a day whose every conversation the live path missed is still audited), and `extra`."""
    days = set(extra)
    for key in landed_keys:
        landed = layout.parse_result_key(key)
        if landed is not None:
            days.add(landed.day)
    days.update(start.astimezone(UTC).date() for start in planned_starts)
    return sorted(days)


class ScaledClock:
    """The audit's clock and sleep: `sleep(s)` sleeps s x factor real seconds, and `now()` advances
    1/factor times as fast as real time, starting `offset` ahead of the real UTC time."""

    def __init__(self, factor: float, offset: timedelta) -> None:
        self._factor = factor
        self._origin = datetime.now(UTC) + offset
        self._started = time.monotonic()

    def now(self) -> datetime:
        return self._origin + timedelta(seconds=(time.monotonic() - self._started) / self._factor)

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds) * self._factor)


def audit_local_run(
    *,
    bucket: str,
    aws_region: str,
    genesys_region: str,
    credentials: dict[str, str],
    base_url: str | None,
    config: Any,
    workload: Any,
    simulator: Any,
    options: Any,
    progress_stream: TextIO,
) -> AuditSummary:
    """The audit of the run's days (then, with --finalize, late changes and the finalize mode),
    once every conversation Genesys has is settled, as it is by the time a deployment audits.

    `config` is the run's stacks.config.EnvironmentConfig, `workload` its local_runner.workload.Workload,
    `options` its RunOptions; `simulator` is None when a real org or server is the run's Genesys.
    """
    import boto3

    from local_runner.aws_hooks import ActingAs, acting_as

    wait_until_settled(simulator, workload.conversations, options.max_run_s)
    with acting_as("runner"):
        s3 = boto3.client("s3", region_name=aws_region)
        landed = [
            entry["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=layout.CONVERSATIONS.prefix
            )
            for entry in page.get("Contents", [])
        ]
    planned = [plan.start for plan in workload.conversations.values()] if simulator else []
    days = days_to_audit(landed, planned, options.audit_days)
    progress = (lambda line: print(f"audit: {line}", file=progress_stream)) if options.progress else None
    return LocalAudit(
        s3_client=ActingAs("audit", s3),
        bucket=bucket,
        region=genesys_region,
        credentials=credentials,
        base_url=base_url,
        config=config,
        time_scale=options.time_scale,
        simulator=simulator,
        progress=progress,
    ).run(days, finalize=options.finalize, change_rate=options.change_rate, seed=options.seed)


def wait_until_settled(simulator: Any, conversation_ids: Iterable[str], max_wait_s: float) -> None:
    """Until the simulator's conversations that end have settled (wrap-up ended), within max_wait_s:
    a day is audited after it is over, when no wrap-up of it is still open. No simulator: no wait."""
    if simulator is None:
        return
    clock = simulator.config.clock
    settles = []
    for conversation_id in conversation_ids:
        try:
            settled_at = simulator.lifecycle(conversation_id).settled_at
        except KeyError:  # never registered (not a UUID)
            continue
        if settled_at is not None:
            settles.append(settled_at)
    wait = max(settles, default=0.0) - clock()
    if wait > 0:
        time.sleep(min(wait, max_wait_s))


def _midnight_after(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)


@dataclass
class LocalAudit:
    """Runs the workflow in process against the run's bucket (moto) and Genesys (simulator or server)."""

    s3_client: Any
    bucket: str
    region: str
    credentials: dict[str, str]
    base_url: str | None  # the simulator's or the server's; None: the region's hosts
    config: Any  # stacks.config.EnvironmentConfig
    time_scale: float
    simulator: Any = None  # GenesysSimulator, when it is the Genesys of the run
    progress: Callable[[str], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, days: list[date], *, finalize: bool, change_rate: float, seed: int) -> AuditSummary:
        from genesys_bridge.audit.model import AuditMode

        summary = AuditSummary()
        if not days:
            return summary
        clock = self._clock(days)
        steps, genesys = self._steps(clock)
        try:
            summary.days.extend(self._each_day(steps, days, AuditMode.AUDIT, clock))
            if finalize:
                summary.changed = self._change(days, change_rate, seed)
                summary.days.extend(self._each_day(steps, days, AuditMode.FINALIZE, clock))
            summary.genesys_requests = genesys.stats.requests
            summary.s3_requests = sum(day.count("s3_requests") for day in summary.days)
        finally:
            genesys.close()
        return summary

    # -- parts ------------------------------------------------------------------------------------------

    def _clock(self, days: list[date]) -> ScaledClock:
        # A day can be audited once it has ended: start the audit's clock just past the last day's
        # midnight when that is still ahead, and tell the simulator its data is complete up to there.
        end = _midnight_after(max(days))
        ahead = end - datetime.now(UTC)
        offset = ahead + timedelta(seconds=1) if ahead > timedelta(0) else timedelta(0)
        if self.simulator is not None:
            available = self.simulator.data_availability_date()
            if available < end:
                self.simulator.set_data_availability_date(end)
        return ScaledClock(self.time_scale, offset)

    def _steps(self, clock: ScaledClock) -> tuple[Any, Any]:
        from genesys_bridge.audit.steps import AuditConfig, AuditSteps
        from genesys_bridge.audit.store import AuditStore
        from genesys_bridge.genesys import GenesysClient

        config = self.config
        budget = max(1, round(config.audit_max_requests_per_minute / self.time_scale))
        genesys = GenesysClient(
            region=self.region,
            client_id=self.credentials["client_id"],
            client_secret=self.credentials["client_secret"],
            api_base_url=self.base_url,
            login_base_url=self.base_url,
            max_requests_per_minute=budget,
        )
        steps = AuditSteps(
            genesys=genesys,
            genesys_requests=lambda: genesys.stats.requests,
            store=AuditStore(self.s3_client, self.bucket),
            config=AuditConfig(
                max_requests_per_minute=budget,
                # the deployed audit's first day (stacks/audit.py sets AUDIT_FIRST_DAY from it)
                first_day=date.fromisoformat(config.catalog_first_day),
                availability_max_wait=timedelta(seconds=LOCAL_AVAILABILITY_WAIT_S / self.time_scale),
                job_timeout=timedelta(minutes=config.audit_job_timeout_minutes),
                max_concurrent_executions=1,
            ),
            metrics=RecordingMetrics(),
            now=clock.now,
        )
        return steps, genesys

    def _each_day(self, steps: Any, days: list[date], mode: Any, clock: ScaledClock) -> list[DayAudit]:
        from catalog.compact import BucketCompaction
        from genesys_bridge.audit.model import AuditRequest
        from genesys_bridge.audit.workflow import AuditFailed, run_workflow

        compaction = BucketCompaction(self.s3_client, self.bucket)  # Athena's UNLOAD, on DuckDB
        done: list[DayAudit] = []
        for day in days:
            started = time.monotonic()
            try:
                result = run_workflow(
                    steps, AuditRequest(mode=mode, day=day), sleep=clock.sleep, queries=compaction
                )
            except AuditFailed as failed:
                done.append(DayAudit(day, mode.value, None, str(failed), time.monotonic() - started))
                logger.warning("the %s of %s failed: %s", mode.value, day, failed)
            else:
                done.append(DayAudit(day, mode.value, result.report, None, time.monotonic() - started))
            if self.progress is not None:
                self.progress(_describe(done[-1]))
        return done

    def _change(self, days: list[date], rate: float, seed: int) -> list[str]:
        """Late changes, as the nightly reprocessing makes them: `rate` of the conversations landed
        for the days, changed in the simulator (at least one when the rate is above 0)."""
        if self.simulator is None or rate <= 0:
            return []
        landed = sorted(self._landed_ids(days))
        if not landed:
            return []
        count = min(len(landed), max(1, round(rate * len(landed))))
        chosen = random.Random(f"change:{seed}").sample(landed, count)
        return sorted(self.simulator.reprocess(chosen))

    def _landed_ids(self, days: list[date]) -> set[str]:
        ids: set[str] = set()
        paginator = self.s3_client.get_paginator("list_objects_v2")
        for day in days:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=layout.day_prefix(day)):
                for entry in page.get("Contents", []):
                    landed = layout.parse_result_key(entry["Key"])
                    if landed is not None:
                        ids.add(landed.conversation_id)
        return ids


def _describe(run: DayAudit) -> str:
    if run.error is not None:
        return f"{run.mode} {run.day}: FAILED {run.error}"
    report = run.report or {}
    counts = ", ".join(
        f"{name} {report[name]}"
        for name in ("in_genesys", "already_landed", MISSING_LANDED, CHANGED_RELANDED, "unchanged")
        if name in report
    )
    return f"{run.mode} {run.day}: {counts} ({run.duration_s:.1f} s)"
