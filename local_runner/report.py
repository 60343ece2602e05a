"""The report of one local run: its counts and figures, the reconciliation's checks, and the summary.

Built by local_runner.harness once the inventory is taken and the function log is flushed; read by
`python -m local_runner`, `python -m local_runner.chaos`, the tests and the benchmarks (see
docs/local-runner.md for what each line of the summary means).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from genesys_bridge import contracts, layout
from genesys_bridge.metrics import MetricName
from local_runner.async_invoke import AsyncInvoker
from local_runner.aws import LocalResources, TimeScale
from local_runner.aws_hooks import AwsRecorder, InjectedCrash
from local_runner.closing_audit import CHANGED_RELANDED, MISSING_LANDED, AuditSummary
from local_runner.event_source import SqsEventSource
from local_runner.function_logs import FunctionLogFigures
from local_runner.functions import InvocationStats
from local_runner.inventory import Inventory
from local_runner.options import RunOptions
from local_runner.pipe import StreamPipe
from local_runner.reconcile import Check, Reconciliation
from local_runner.workload import Workload


@dataclass
class RunReport:
    """Counts and figures of one run."""

    # the run
    source: str
    faults: str
    time_scale: float
    elapsed_s: float
    timed_out: bool
    # events
    events: int  # deliveries handed to the ingest function (first attempts)
    valid_events: int
    malformed_events: int
    duplicate_deliveries: int  # EventBridge redeliveries in the input
    unique_conversations: int
    duplicates: int  # valid events that found their conversation already buffered
    quarantined: int
    ingest_errors: int
    ingest_retries: int
    ingest_error_causes: dict[str, int]  # "ErrorType: message" -> invocations that raised it
    # processing
    fetched: int  # conversations landed (unique keys)
    not_ready: int  # times Genesys had no settled (ended) details yet (the processor's own count)
    # messages handed back because Genesys could not be asked (429, 5xx, refused login...), by cause
    deferred: dict[str, int]
    visibility_changes: int  # backoffs the processor set (ChangeMessageVisibility), not-ready or deferred
    failed: int  # buffer items FAILED
    pending_left: int
    processor_invocations: int
    processor_crashes: int  # invocations that failed as a whole (an injected crash, a refused login...)
    # Genesys
    genesys_requests: int
    genesys_429: int
    genesys_token_requests: int
    genesys_5xx: int
    simulator_stats: dict[str, Any]
    genesys_client_stats: dict[str, int]  # the processor's client: requests, throttled, errors, tokens
    # queues
    work_dlq: int
    ingest_failure_queue: int
    pipe_dlq: int
    pipe_unresolved: int
    quarantine_queue: int
    # events dropped before ingest (--drop-rate), conversations without a subscribed end event, and
    # the closing audit (None: --no-audit)
    dropped_conversations: int
    silent_conversations: int
    audit: dict[str, Any] | None
    lookups: dict[str, str]  # lookup -> entities landed, or FORBIDDEN / FAILED and why
    # reconciliation
    expected: int
    landed: int
    lost: int
    duplicated: int
    body_mismatches: int
    reconciled: bool  # the first check: expected == landed, nothing lost or duplicated, bodies right
    checks: list[Check]
    verdict: bool  # every check: the summary's OK and the exit status
    # figures
    latencies_s: dict[str, float]  # conversation id -> first end event ingested .. object put
    invocations: dict[str, int]
    invocation_durations_s: dict[str, list[float]]
    invocation_errors: dict[str, int]
    invocations_over_timeout: dict[str, int]
    aws_requests: dict[str, int]  # "actor:service.Operation" -> calls
    aws_requests_by_service: dict[str, int]  # function calls only: dynamodb, sqs, s3, secretsmanager
    aws_throttles_injected: dict[str, int]
    pipe: dict[str, int]
    emf_metrics: dict[str, dict[str, float]]  # {service: {metric: exact sum}} from the function log
    quarantine_reasons: dict[str, int]
    failed_reasons: dict[str, str]  # conversation id -> buffer item error
    dlq_reasons: dict[str, int]
    log_path: str
    out_dir: str | None
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def conversations_per_second(self) -> float:
        return self.landed / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def latency_percentile(self, share: float) -> float | None:
        values = sorted(self.latencies_s.values())
        if not values:
            return None
        index = min(len(values) - 1, max(0, round(share * (len(values) - 1))))
        return values[index]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["conversations_per_second"] = self.conversations_per_second
        return data


class RunParts(Protocol):
    """What build_report reads of a finished run (local_runner.harness.Harness)."""

    options: RunOptions
    workload: Workload
    recorder: AwsRecorder
    invocations: InvocationStats
    invoker: AsyncInvoker
    pipe: StreamPipe
    source: SqsEventSource
    simulator: Any
    scale: TimeScale
    resources: LocalResources
    log_path: Path
    max_age_s: float
    dropped: frozenset[str]
    silent: frozenset[str]
    audit: AuditSummary | None
    lookups: list[Any]  # genesys_bridge.lookups.LookupResult of each lookup


def build_report(
    run: RunParts,
    inventory: Inventory,
    reconciliation: Reconciliation,
    figures: FunctionLogFigures,
    elapsed_s: float,
    timed_out: bool,
    client_stats: dict[str, int],
) -> RunReport:
    """The report of a finished run, from its parts, what landed, the checks and the function log."""
    options, workload, recorder = run.options, run.workload, run.recorder
    ingest, source = run.invoker.tally, run.source.tally
    latencies: dict[str, float] = {}
    for key, landed_at in recorder.landed_at.items():
        landed = layout.parse_result_key(key)
        first = ingest.first_seen.get(landed.conversation_id) if landed is not None else None
        if landed is not None and first is not None:
            latencies[landed.conversation_id] = round(landed_at - first, 4)
    sim_stats: dict[str, Any] = run.simulator.stats() if run.simulator is not None else {}
    operations = recorder.by_operation()
    by_service: Counter[str] = Counter()
    for name, n in operations.items():
        actor, rest = name.split(":", 1)
        if actor == "function":
            by_service[rest.split(".", 1)[0]] += n
    # messages handed back without a Genesys answer: the processor's deferrals, and every record
    # of an invocation that failed as a whole (a refused login, say), injected crashes apart
    deferred = Counter(figures.deferred)
    for error_type, records in source.records_returned_by_error.items():
        if error_type != InjectedCrash.__name__:
            deferred[error_type] += records
    processor_emf = figures.emf.get(contracts.PROCESSOR_SERVICE, {})
    pipe = run.pipe.tally
    lookups = check_lookups(run.lookups)
    return RunReport(
        source=workload.source,
        faults=options.faults if run.simulator is not None else "real org",
        time_scale=run.scale.factor,
        elapsed_s=round(elapsed_s, 3),
        timed_out=timed_out,
        events=ingest.deliveries,
        valid_events=workload.valid_event_count,
        malformed_events=len(workload.malformed_events),
        duplicate_deliveries=workload.duplicate_deliveries,
        unique_conversations=len(workload.conversations),
        duplicates=ingest.duplicate,
        quarantined=ingest.quarantined,
        ingest_errors=ingest.errors,
        ingest_retries=ingest.retries,
        ingest_error_causes=dict(ingest.error_causes),
        fetched=len(inventory.objects),
        not_ready=int(processor_emf.get(MetricName.CONVERSATIONS_NOT_READY, 0)),
        deferred=dict(deferred),
        visibility_changes=operations.get("function:sqs.ChangeMessageVisibility", 0),
        failed=len(reconciliation.failed_reasons),
        pending_left=reconciliation.pending_left,
        processor_invocations=source.invocations,
        processor_crashes=source.crashed_invocations,
        # the simulator counts what it answered; with a real org, the client's own counters stand in
        genesys_requests=int(sim_stats.get("api_requests", client_stats.get("requests", 0))),
        genesys_429=int(sim_stats.get("throttled_429", client_stats.get("throttled", 0))),
        genesys_token_requests=int(sim_stats.get("token_requests", client_stats.get("token_requests", 0))),
        genesys_5xx=int(sim_stats.get("server_errors_5xx", 0)),
        simulator_stats=sim_stats,
        genesys_client_stats=client_stats,
        work_dlq=len(inventory.work_dlq),
        ingest_failure_queue=len(inventory.ingest_failures),
        pipe_dlq=len(inventory.pipe_failures),
        pipe_unresolved=len(inventory.pipe_unresolved),
        quarantine_queue=len(inventory.quarantine),
        dropped_conversations=len(run.dropped),
        silent_conversations=len(run.silent),
        audit=_audit_figures(run.audit),
        lookups={r.lookup: _lookup_text(r) for r in run.lookups},
        expected=reconciliation.expected,
        landed=reconciliation.landed,
        lost=reconciliation.lost,
        duplicated=reconciliation.duplicated,
        body_mismatches=reconciliation.body_mismatches,
        reconciled=reconciliation.landed_once,
        checks=[*reconciliation.checks, lookups],
        verdict=reconciliation.verdict and lookups.ok,
        latencies_s=latencies,
        invocations={name: len(values) for name, values in run.invocations.durations.items()},
        invocation_durations_s={name: list(v) for name, v in run.invocations.durations.items()},
        invocation_errors=dict(run.invocations.errors),
        invocations_over_timeout=dict(run.invocations.timeouts),
        aws_requests=operations,
        aws_requests_by_service=dict(by_service),
        aws_throttles_injected=dict(recorder.throttles_injected),
        pipe={
            "polls": pipe.polls,
            "records_read": pipe.records_read,
            "moto_inserts_collapsed": pipe.collapsed,
            "filtered_out": pipe.filtered_out,
            "forwarded": pipe.forwarded,
            "failures": pipe.failures,
            "dead_lettered_batches": pipe.dead_lettered_batches,
            "dead_lettered_conversations": pipe.dead_lettered_conversations,
        },
        emf_metrics=figures.emf,
        quarantine_reasons=reconciliation.quarantine_reasons,
        failed_reasons=reconciliation.failed_reasons,
        dlq_reasons=reconciliation.dlq_reasons,
        log_path=str(run.log_path),
        out_dir=str(options.out_dir) if options.out_dir is not None else None,
        settings={"max_age_s": run.max_age_s, "visibility_timeout_s": run.resources.visibility_timeout_s},
    )


def check_lookups(results: list[Any]) -> Check:
    """Every lookup landed or was refused (a missing permission is reported, not a failed run); the
    detail counts the outcomes, or names each failed lookup and its error."""
    failed = [result.describe() for result in results if result.outcome == "failed"]
    outcomes = Counter(str(result.outcome) for result in results)
    counted = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items())) or "no lookup ran"
    return Check("lookups landed or refused", not failed, "; ".join(failed) or counted)


def _lookup_text(result: Any) -> str:
    """A lookup's entities landed, or why none were (genesys_bridge.lookups.LookupResult)."""
    if result.outcome == "landed":
        return str(result.entities)
    return f"{result.outcome.upper()} ({result.permission or result.error})"


def _audit_figures(audit: AuditSummary | None) -> dict[str, Any] | None:
    if audit is None:
        return None
    return {
        "days": sorted({day.day.isoformat() for day in audit.days}),
        "missing_landed": audit.total("audit", MISSING_LANDED),
        "changed": len(audit.changed),
        "changed_relanded": audit.total("finalize", CHANGED_RELANDED),
        "failures": [f"{day.mode} {day.day}: {day.error}" for day in audit.failures],
        "genesys_requests": audit.genesys_requests,
        "s3_requests": audit.s3_requests,
        "duration_s": round(sum(day.duration_s for day in audit.days), 3),
        "reports": [day.report for day in audit.days],
    }


def _fmt_audit(report: RunReport) -> str:
    audit = report.audit
    if audit is None:
        return "skipped (--no-audit)"
    text = (
        f"{len(audit['days'])} day(s), missing landed {audit['missing_landed']}"
        + (
            f"; finalize: changed {audit['changed']}, re-landed {audit['changed_relanded']}"
            if audit["changed"] or audit["changed_relanded"]
            else ""
        )
        + f"; Genesys requests {audit['genesys_requests']}, S3 requests {audit['s3_requests']}, "
        f"{audit['duration_s']:.1f} s"
    )
    return text + (f"; {len(audit['failures'])} FAILED" if audit["failures"] else "")


def dumps_report(report: RunReport) -> str:
    return json.dumps(report.as_dict(), indent=2, default=str)


def _fmt_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _fmt_emf(report: RunReport) -> str:
    """What the functions themselves counted (as CloudWatch would show it), beside the runner's counts."""
    totals: Counter[str] = Counter()
    for metrics in report.emf_metrics.values():
        for name, value in metrics.items():
            totals[name] += int(value)
    shown = (
        (MetricName.EVENTS_RECEIVED, "received"),
        (MetricName.DUPLICATE_EVENTS, "duplicate"),
        (MetricName.EVENTS_QUARANTINED, "quarantined"),
        (MetricName.CONVERSATIONS_FETCHED, "fetched"),
        (MetricName.CONVERSATIONS_NOT_READY, "not ready"),
        (MetricName.CONVERSATIONS_FAILED, "failed"),
        (MetricName.CONVERSATIONS_LEFT_OPEN, "left open"),
        (MetricName.CONVERSATIONS_ENDED_AGAIN, "ended again"),
    )
    return ", ".join(f"{label} {totals[name]}" for name, label in shown) if totals else "-"


def _fmt_pipe_dlq(report: RunReport) -> str:
    resolver = report.emf_metrics.get(contracts.PIPE_DLQ_SERVICE, {})
    batches = report.pipe.get("dead_lettered_batches", 0)
    if not batches and not resolver:
        return "0"
    return (
        f"{batches} ({report.pipe.get('dead_lettered_conversations', 0)} conversations) -> "
        f"{int(resolver.get(MetricName.PIPE_POINTERS_RESOLVED, 0))} pointers resolved, "
        f"{int(resolver.get(MetricName.CONVERSATIONS_REQUEUED, 0))} conversations requeued, "
        f"{int(resolver.get(MetricName.PIPE_POINTERS_UNRESOLVED, 0))} unresolved"
    )


def _fmt_latency(report: RunReport) -> str:
    median = report.latency_percentile(0.5)
    p99 = report.latency_percentile(0.99)
    if median is None or p99 is None:
        return "-"
    return f"median {median:.2f} s, p99 {p99:.2f} s"


def summary_rows(report: RunReport) -> list[tuple[str, str]]:
    deferred = sum(report.deferred.values())
    ingest_errors = f"{report.ingest_errors} ({report.ingest_retries})"
    if report.ingest_error_causes:
        ingest_errors += f": {_fmt_counts(report.ingest_error_causes)}"
    return [
        (
            "events (deliveries)",
            f"{report.events}  ({report.duplicate_deliveries} redelivered, "
            f"{report.malformed_events} malformed)",
        ),
        ("unique conversations", str(report.unique_conversations)),
        ("duplicates (already buffered)", str(report.duplicates)),
        ("quarantined", str(report.quarantined)),
        ("fetched (landed)", str(report.fetched)),
        ("not ready (no settled details yet)", str(report.not_ready)),
        (
            "deferred (Genesys errors, 429s, logins)",
            f"{deferred}" + (f"  ({_fmt_counts(report.deferred)})" if deferred else ""),
        ),
        ("failed", str(report.failed)),
        ("Genesys requests", str(report.genesys_requests)),
        ("429s", str(report.genesys_429)),
        ("5xx", str(report.genesys_5xx)),
        ("token requests", str(report.genesys_token_requests)),
        ("work DLQ", str(report.work_dlq)),
        (
            "ingest failure queue / pipe DLQ / unresolved",
            f"{report.ingest_failure_queue} / {report.pipe_dlq} / {report.pipe_unresolved}",
        ),
        ("pipe batches dead-lettered -> resolved", _fmt_pipe_dlq(report)),
        ("quarantine queue", str(report.quarantine_queue)),
        ("dropped before ingest (conversations)", str(report.dropped_conversations)),
        ("without a subscribed end event (conversations)", str(report.silent_conversations)),
        ("closing audit", _fmt_audit(report)),
        ("lookups (entities)", ", ".join(f"{name} {what}" for name, what in report.lookups.items()) or "-"),
        ("processor invocations (failed)", f"{report.processor_invocations} ({report.processor_crashes})"),
        ("ingest errors (retries)", ingest_errors),
        ("AWS throttles injected", _fmt_counts(report.aws_throttles_injected) or "0"),
        ("functions' EMF metrics", _fmt_emf(report)),
        ("event -> landed latency", _fmt_latency(report)),
        ("elapsed", f"{report.elapsed_s:.1f} s (time scale {report.time_scale:g})"),
        ("conversations per second", f"{report.conversations_per_second:.1f}"),
    ]


def render_summary(report: RunReport, *, include_checks: bool = False) -> str:
    """The summary table and the verdict line; OK only when every check holds, and a failed check is
    always shown with its detail."""
    rows = summary_rows(report)
    width = max(len(name) for name, _ in rows)
    lines = [f"  {name.ljust(width)}  {value}" for name, value in rows]
    lines.append(
        f"  reconciliation: expected {report.expected}, landed {report.landed}, lost {report.lost}, "
        f"duplicated {report.duplicated}"
        + (f", wrong body {report.body_mismatches}" if report.body_mismatches else "")
        + f"  -> {'OK' if report.verdict else 'FAILED'}"
    )
    for check in report.checks:
        if include_checks or not check.ok:
            lines.append(f"  [{'PASS' if check.ok else 'FAIL'}] {check.name}: {check.detail}")
    return "\n".join(lines)
