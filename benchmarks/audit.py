"""Figure 9: the audit and the finalization of one simulated day, and what they cost per million
conversations beside the live path.

One day of N conversations (20,000 by default) in the Genesys simulator; the live path is taken to have
landed all but `missing_share` of them (their objects are put straight into the bucket stand-in). The
audit runs with the workflow's own step code (genesys_bridge.audit, in process, as the local runner
runs it); then `changed_share` of the conversations change in Genesys (the nightly reprocessing) and
the finalization runs. Counted: Genesys requests, S3 requests by operation, Lambda invocations (one per
step), Step Functions state transitions (from the path the execution took), the steps' compute time;
the waits (job polling, pacing) run on a virtual clock, so the day's elapsed time is reported as it
would pass deployed without being slept here.

S3 is an in-process stand-in (per-operation counts exact; S3's own latency not measured): moto lists
20,000 keys at about a second per 1,000, which would measure moto, not the audit.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from benchmarks.cost import CostBreakdown, CostLine, Prices
from benchmarks.table import Row, fmt_seconds
from stacks.config import load_environment_config

PER_MILLION = 1_000_000
# The free S3 requests (DELETE is not billed); everything else is a PUT/COPY/POST/LIST or a GET.
_S3_CLASS_A = ("PutObject", "ListObjectsV2")
_S3_GET = ("GetObject", "HeadObject")


# --- a clock that waits without waiting ------------------------------------------------------------------


class VirtualTime:
    """Monotonic seconds and a wall clock that sleep() moves forward at once (thread-safe)."""

    def __init__(self, wall: datetime) -> None:
        self._lock = threading.Lock()
        self._wall = wall
        self._offset = 0.0

    def monotonic(self) -> float:
        with self._lock:
            return self._offset

    def now(self) -> datetime:
        with self._lock:
            return self._wall + timedelta(seconds=self._offset)

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self._offset += max(0.0, seconds)


# --- S3, in process ---------------------------------------------------------------------------------------


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self) -> bytes:
        return self._data


_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class StubS3:
    """The S3 calls AuditStore makes, answered from a dict; ETags are content MD5s, as S3 gives for a
    single-part PutObject with SSE-S3. Counts every call by operation."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def preload(self, key: str, data: bytes) -> None:
        """Put without counting (the live path's objects, before the measurement)."""
        self.objects[key] = (data, hashlib.md5(data, usedforsecurity=False).hexdigest())

    def _count(self, operation: str) -> None:
        with self._lock:
            self.calls[operation] += 1

    def put_object(self, *, Bucket: str, Key: str, Body: bytes, **_: Any) -> dict[str, Any]:
        self._count("PutObject")
        with self._lock:
            self.objects[Key] = (Body, hashlib.md5(Body, usedforsecurity=False).hexdigest())
        return {}

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        self._count("GetObject")
        with self._lock:
            found = self.objects.get(Key)
        if found is None:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "NoSuchKey", "Message": Key}}, "GetObject")
        return {"Body": _Body(found[0])}

    def list_objects_v2(
        self,
        *,
        Bucket: str,
        Prefix: str,
        ContinuationToken: str | None = None,
    ) -> dict[str, Any]:
        self._count("ListObjectsV2")
        with self._lock:
            keys = sorted(key for key in self.objects if key.startswith(Prefix))
            start = int(ContinuationToken or 0)
            page = keys[start : start + 1000]
            contents = [
                {
                    "Key": key,
                    "ETag": f'"{self.objects[key][1]}"',
                    "Size": len(self.objects[key][0]),
                    "LastModified": _EPOCH,
                }
                for key in page
            ]
        truncated = start + 1000 < len(keys)
        answer: dict[str, Any] = {"Contents": contents, "IsTruncated": truncated}
        if truncated:
            answer["NextContinuationToken"] = str(start + 1000)
        return answer

    def delete_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        self._count("DeleteObject")
        with self._lock:
            self.objects.pop(Key, None)
        return {}

    def delete_objects(self, *, Bucket: str, Delete: dict[str, Any]) -> dict[str, Any]:
        self._count("DeleteObjects")
        with self._lock:
            for item in Delete["Objects"]:
                self.objects.pop(item["Key"], None)
        return {}


# --- one measured execution ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModeRun:
    mode: str
    report: dict[str, Any]
    genesys_requests: int
    s3_calls: dict[str, int]
    invocations: int
    transitions: int
    step_seconds: list[float]
    elapsed_seconds: float  # virtual: job polling and pacing waits included, as deployed

    @property
    def compute_seconds(self) -> float:
        return sum(self.step_seconds)


@dataclass(frozen=True)
class AuditBench:
    conversations: int
    missing: int
    changed: int
    page_size: int
    requests_per_minute: int
    memory_mb: int
    audit: ModeRun
    finalize: ModeRun


def state_transitions(path: Sequence[tuple[str, str]]) -> int:
    """Billed transitions of a path of (step, next) pairs: each task, the Choice after a task that has
    more than one way on, each Wait, and the final Succeed (stacks/audit.py builds it so)."""
    from genesys_bridge.audit import plan

    total = 0
    for step, following in path:
        total += 1 + (1 if len(plan.FLOW[plan.Step(step)]) > 1 else 0)
        if following in {wait.value for wait in plan.Wait}:
            total += 1
        if following in {end.value for end in plan.End} | {query.value for query in plan.Query}:
            total += 1  # the Succeed state, or the query's own task
    return total


def run_audit_bench(
    conversations: int = 20_000,
    *,
    missing_share: float = 0.01,
    changed_share: float = 0.02,
    page_size: int = 1000,
    requests_per_minute: int = 30,
    memory_mb: int = 1024,
    job_seconds: float = 60.0,
) -> AuditBench:
    """Audit, then finalize, one simulated day; see the module docstring."""
    from genesys_bridge.audit.model import AuditMode, AuditRequest
    from genesys_bridge.audit.steps import AuditConfig, AuditSteps
    from genesys_bridge.audit.store import AuditStore
    from genesys_bridge.audit.workflow import run_workflow
    from genesys_bridge.genesys import GenesysClient
    from genesys_bridge.layout import result_key, serialize
    from genesys_bridge.metrics import RecordingMetrics
    from genesys_simulator import GenesysSimulator, SimConversation, render_details
    from genesys_simulator.config import SimulatorConfig

    if conversations < 1:
        raise ValueError("conversations must be at least 1")
    clock = VirtualTime(datetime.now(UTC))
    day = clock.now().date() - timedelta(days=1)
    day_start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    spacing = 86_400 / conversations
    sims = [
        SimConversation(str(uuid.uuid4()), day_start + timedelta(seconds=index * spacing))
        for index in range(conversations)
    ]
    sim_config = SimulatorConfig(
        requests_per_minute=None,  # the audit paces itself; the org's budget is not this figure's subject
        job_queued_s=min(5.0, job_seconds),
        job_fulfilled_after_s=job_seconds,
        job_results_page_size=page_size,
        clock=clock.monotonic,
        max_recorded_requests=0,
    )
    s3 = StubS3()
    missing = round(conversations * missing_share)
    for conversation in sims[missing:]:
        body = render_details(conversation, ended=True, division_id=sim_config.division_id)
        s3.preload(result_key(body), serialize(body))

    with GenesysSimulator(sim_config) as sim:
        sim.add_conversations(sims)

        def execute(mode: AuditMode) -> ModeRun:
            client = GenesysClient(
                region="mypurecloud.com",
                client_id=sim_config.client_id,
                client_secret=sim_config.client_secret,
                api_base_url=sim.base_url,
                login_base_url=sim.base_url,
                max_requests_per_minute=requests_per_minute,
                clock=clock.monotonic,
                sleep=clock.sleep,
            )
            steps = AuditSteps(
                genesys=client,
                genesys_requests=lambda: client.stats.requests,
                store=AuditStore(cast(Any, s3), "results"),
                config=AuditConfig(page_size=page_size, max_requests_per_minute=requests_per_minute),
                metrics=RecordingMetrics(),
                now=clock.now,
                monotonic=clock.monotonic,
            )
            timed = _TimedSteps(steps)
            calls_before = Counter(s3.calls)
            virtual_before = clock.monotonic()
            path: list[tuple[str, str]] = []
            result = run_workflow(
                cast(AuditSteps, timed),
                AuditRequest(mode=mode, day=day),
                sleep=clock.sleep,
                on_step=lambda step, state: path.append((step.value, str(state.next))),
                # Athena's UNLOAD reads the bucket, not the audit function: figure 8 prices it.
                queries=lambda query, state: {"engine": "athena"},
            )
            client.close()
            assert result.report is not None, "the bench's execution ended without a report"
            calls = Counter(s3.calls)
            calls.subtract(calls_before)
            calls["GetObject"] -= 1  # run_workflow reading the report it returns is not the workflow's
            return ModeRun(
                mode=mode.value,
                report=result.report,
                genesys_requests=int(result.report["requests"]),
                s3_calls={name: count for name, count in calls.items() if count},
                invocations=len(path),
                transitions=state_transitions(path),
                step_seconds=timed.durations,
                elapsed_seconds=clock.monotonic() - virtual_before,
            )

        audit = execute(AuditMode.AUDIT)
        changed = round(conversations * changed_share)
        # The nightly reprocessing: the same conversations, now with other durations (other details).
        sim.add_conversations(
            SimConversation(c.conversation_id, c.start, duration_s=777.0 + index)
            for index, c in enumerate(sims[:changed])
        )
        finalize = execute(AuditMode.FINALIZE)
    return AuditBench(
        conversations, missing, changed, page_size, requests_per_minute, memory_mb, audit, finalize
    )


class _TimedSteps:
    """AuditSteps with each step's compute time recorded (what a Lambda invocation would bill)."""

    def __init__(self, steps: Any) -> None:
        self._steps, self.durations = steps, list[float]()

    def __getattr__(self, name: str) -> Any:
        call = getattr(self._steps, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                self.durations.append(time.perf_counter() - started)

        return call if name == "read_report" else timed


# --- prices and rows ---------------------------------------------------------------------------------------


def execution_cost(run: ModeRun, conversations: int, prices: Prices, memory_mb: int) -> CostBreakdown:
    """One execution's AWS cost, scaled to a million conversations (pure: counts in, dollars out)."""
    if conversations <= 0:
        raise ValueError("no conversation: nothing to price")
    scale = PER_MILLION / conversations
    billed_ms = sum(max(1, round(seconds * 1000)) for seconds in run.step_seconds)
    gb_seconds = billed_ms / 1000 * memory_mb / 1024
    class_a = sum(run.s3_calls.get(name, 0) for name in _S3_CLASS_A)
    gets = sum(run.s3_calls.get(name, 0) for name in _S3_GET)

    def line(item: str, quantity: float, unit_price: float) -> CostLine:
        return CostLine(item, quantity * scale, quantity * scale * unit_price)

    return CostBreakdown(
        [
            line("Step Functions transitions", run.transitions, prices.stepfunctions_transition),
            line("Lambda requests", run.invocations, prices.lambda_request),
            line("Lambda GB-s", gb_seconds, prices.lambda_gb_second),
            line("S3 PUT/LIST", class_a, prices.s3_put),
            line("S3 GET", gets, prices.s3_get),
            # one secret read per execution (a cold function), the processor's cache rule
            line("Secrets Manager calls", 1, prices.secrets_manager_call),
        ]
    )


def audit_rows(bench: AuditBench) -> list[Row]:
    """Figure 9's requests and time per execution; their cost is in figure 7 (whole system)."""
    rows: list[Row] = []
    for run, what in ((bench.audit, f"{bench.missing:,} missing landed"),
                      (bench.finalize, f"{bench.changed:,} changed re-landed")):  # fmt: skip
        s3 = ", ".join(f"{count} {name}" for name, count in sorted(run.s3_calls.items()))
        rows.append(
            Row(
                "9",
                f"{run.mode.capitalize()} of one day ({bench.conversations:,} conv.)",
                f"{run.genesys_requests} Genesys, {sum(run.s3_calls.values())} S3 requests;"
                f" {fmt_seconds(run.compute_seconds)} compute",
                f"{run.report['pages']} result pages of {bench.page_size};"
                f" {run.elapsed_seconds / 60:.1f} min elapsed at {bench.requests_per_minute} req/min",
                note=f"{run.mode}: {what}; report {_counts(run.report)}; S3 {s3}; {run.invocations} Lambda"
                f" invocations, {run.transitions} state transitions; compute = the steps' time in this"
                " process (Genesys simulator on loopback, S3 stand-in), elapsed = compute + the job's run and"
                " the polling and pacing waits on a virtual clock; cost (figure 7): Lambda at"
                f" {bench.memory_mb} MB",
            )
        )
    return rows


def _counts(report: dict[str, Any]) -> str:
    names = ("in_genesys", "already_landed", "missing_landed", "changed_relanded", "unchanged", "differing")
    return ", ".join(f"{name} {report[name]}" for name in names)


def audit_figure(environment: str, day: int, prices: Prices, costs: dict[str, CostBreakdown]) -> list[Row]:
    """Figure 9 over a simulated day of `day` conversations; the executions' cost goes to figure 7."""
    try:
        config = load_environment_config(environment)
        bench = run_audit_bench(
            day, requests_per_minute=config.audit_max_requests_per_minute, memory_mb=config.audit_memory_mb
        )
    except Exception as error:  # noqa: BLE001 - reported in the table
        return [Row.not_measured("9", "Audit and finalization of a day", f"the audit run failed: {error!r}")]
    for run in (bench.audit, bench.finalize):
        costs[run.mode] = execution_cost(run, bench.conversations, prices, bench.memory_mb)
    return audit_rows(bench)
