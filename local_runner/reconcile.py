"""After a run: take inventory of every place a conversation or an event can end up, compare it with
what the workload intended, and report.

Expected: every conversation that ends lands once, at the key results.result_key gives its details,
with the simulator's details as its body; every never-ready conversation is FAILED with its reason and
in the work DLQ; every malformed event is in quarantine with its reason. Anything else anywhere (an
unexpected object, a DLQ or failure-queue message, a PENDING leftover) breaks the reconciliation.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genesys_bridge import contracts
from genesys_bridge.metrics import MetricName
from genesys_bridge.processor import FailureReason
from genesys_bridge.results import result_key
from local_runner.workload import Readiness, Workload

if TYPE_CHECKING:
    from local_runner.aws import LocalResources
    from local_runner.aws_hooks import AwsRecorder
    from local_runner.engine import IngestDriver, SqsEventSource, StreamPipe
    from local_runner.functions import InvocationStats

# The processor's reason codes for giving up on a conversation at its max age: it never showed up
# ended, or Genesys was rate-limiting or failing on that last attempt (genesys_bridge.processor). Under
# chaos a never-ready conversation may meet either.
GIVE_UP_REASONS = (FailureReason.NOT_READY_MAX_AGE.value, FailureReason.NOT_FETCHED_MAX_AGE.value)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class RunReport:
    """Counts and figures of one run (see the README, "What `make demo` shows")."""

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
    # processing
    fetched: int  # conversations landed (unique keys)
    not_ready_retries: int  # not-ready backoffs the processor set (ChangeMessageVisibility)
    failed: int  # buffer items FAILED
    pending_left: int
    processor_invocations: int
    processor_crashes: int
    # Genesys
    genesys_requests: int
    genesys_429: int
    genesys_token_requests: int
    genesys_5xx: int
    simulator_stats: dict[str, Any]
    genesys_client_stats: dict[
        str, int
    ]  # the processor's client: requests, throttled, errors, token_requests
    # queues
    work_dlq: int
    ingest_failure_queue: int
    pipe_dlq: int
    quarantine_queue: int
    # reconciliation
    expected: int
    landed: int
    lost: int
    duplicated: int
    body_mismatches: int
    reconciled: bool  # expected == landed, nothing lost, nothing duplicated, every body right
    checks: list[Check]
    verdict: bool  # every check (the chaos verdict)
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
    emf_metrics: dict[str, dict[str, float]]
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


def _expected_key_and_body(conversation_id: str, plan: Any, simulator: Any) -> tuple[str, dict[str, Any]]:
    from genesys_simulator import SimConversation, render_details

    details = render_details(
        SimConversation(conversation_id, start=plan.start, visible_after_s=0.0, ended_after_s=0.0),
        ended=True,
        division_id=simulator.config.division_id,
    )
    return result_key(details), details


def reconcile(
    *,
    genesys_client_stats: dict[str, int],
    options: Any,
    workload: Workload,
    resources: LocalResources,
    pipe_dlq_url: str,
    simulator: Any,
    recorder: AwsRecorder,
    ingest: IngestDriver,
    pipe: StreamPipe,
    source: SqsEventSource,
    invocations: InvocationStats,
    emf: dict[str, dict[str, float]],
    elapsed_s: float,
    timed_out: bool,
    time_scale: float,
    log_path: Path,
    drain: Callable[[str], list[dict[str, Any]]],
    scan: Callable[[], dict[str, dict[str, str]]],
    max_age_s: float,
) -> RunReport:
    import boto3

    from local_runner.engine import parse_body
    from local_runner.runner import export_objects

    s3 = boto3.client("s3", region_name=resources.region)
    objects = export_objects(s3, resources.bucket_name, options.out_dir)
    items = scan()
    work_dlq = [parse_body(m) for m in drain(resources.work_dlq_url)]
    failures = [parse_body(m) for m in drain(resources.ingest_failure_queue_url)]
    pipe_failures = [parse_body(m) for m in drain(pipe_dlq_url)]
    quarantine = [parse_body(m) for m in drain(resources.quarantine_queue_url)]

    never = workload.ids(Readiness.NEVER)
    ending = [cid for cid in workload.conversations if cid not in never]
    checks: list[Check] = []

    # -- landed objects ----------------------------------------------------------------------------
    expected_keys: dict[str, str] = {}  # key -> conversation id
    bodies: dict[str, dict[str, Any]] = {}
    if simulator is not None:
        for cid in ending:
            key, details = _expected_key_and_body(cid, workload.conversations[cid], simulator)
            expected_keys[key] = cid
            bodies[key] = details
    landed_ids: Counter[str] = Counter()
    unexpected_keys: list[str] = []
    mismatches = 0
    for key, raw in objects.items():
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            body = None
        landed_id = body.get("conversationId") if isinstance(body, dict) else None
        if simulator is not None:
            if key not in expected_keys:
                unexpected_keys.append(key)
            elif body != bodies[key]:
                mismatches += 1
        else:
            # a real org: the key must be the one its own details give, for an id from the events
            if (
                not isinstance(body, dict)
                or landed_id not in workload.conversations
                or result_key(body) != key
            ):
                unexpected_keys.append(key)
            elif not body.get("conversationEnd"):
                mismatches += 1
        if isinstance(landed_id, str):
            landed_ids[landed_id] += 1
    twice = [cid for cid, n in landed_ids.items() if n > 1]
    if simulator is not None:
        lost = [cid for key, cid in expected_keys.items() if key not in objects]
    else:
        failed_ids = {
            cid for cid, item in items.items() if item.get(contracts.ATTR_STATUS) == contracts.STATUS_FAILED
        }
        lost = [cid for cid in ending if cid not in landed_ids and cid not in failed_ids]
    duplicated = len(unexpected_keys) + len(twice)
    reconciled = not lost and duplicated == 0 and mismatches == 0 and not timed_out
    checks.append(
        Check(
            "every ended conversation landed exactly once",
            reconciled,
            f"expected {len(ending)}, landed {len(objects)}, lost {len(lost)}, duplicated {duplicated}, "
            f"wrong body {mismatches}" + (", run timed out" if timed_out else ""),
        )
    )

    # -- never-ready conversations ------------------------------------------------------------------
    dlq_by_id: Counter[str] = Counter()
    dlq_reasons: Counter[str] = Counter()
    unexpected_dlq = 0
    for body in work_dlq:
        if isinstance(body, dict) and "reason" in body:
            dlq_reasons[str(body["reason"])] += 1
            dead_id = body.get("conversationId")
            if body["reason"] in GIVE_UP_REASONS and dead_id in never:
                dlq_by_id[str(dead_id)] += 1
                continue
        else:
            dlq_reasons["(redriven by SQS)"] += 1
        unexpected_dlq += 1
    failed_reasons = {
        cid: item.get(contracts.ATTR_ERROR, "")
        for cid, item in items.items()
        if item.get(contracts.ATTR_STATUS) == contracts.STATUS_FAILED
    }
    never_ok = [
        cid
        for cid in never
        if failed_reasons.get(cid, "").startswith(GIVE_UP_REASONS) and dlq_by_id.get(cid, 0) >= 1
    ]
    checks.append(
        Check(
            "every never-ready conversation FAILED with its reason and in the DLQ",
            len(never_ok) == len(never),
            f"{len(never_ok)}/{len(never)}",
        )
    )

    # -- malformed events -----------------------------------------------------------------------------
    expected_reasons = Counter(p.expected_reason for p in workload.malformed_events if p.expected_reason)
    found_reasons = Counter(str(b.get("reason")) for b in quarantine if isinstance(b, dict))
    unmatched = _unmatched_quarantine(workload, quarantine)
    checks.append(
        Check(
            "every malformed event in quarantine with its reason",
            found_reasons == expected_reasons and unmatched == 0,
            f"expected {dict(sorted(expected_reasons.items()))}, found {dict(sorted(found_reasons.items()))}"
            + (f", {unmatched} not matching their event" if unmatched else ""),
        )
    )

    # -- nothing else anywhere ------------------------------------------------------------------------
    statuses = Counter(item.get(contracts.ATTR_STATUS, "") for item in items.values())
    stray_items = [cid for cid in items if cid not in workload.conversations]
    unexpected_failed = [cid for cid in failed_reasons if cid not in never]
    extra_dlq = sum(max(0, n - 1) for n in dlq_by_id.values())
    problems = {
        "unexpected work DLQ messages": unexpected_dlq + extra_dlq,
        "ingest failure queue messages": len(failures),
        "pipe DLQ messages": len(pipe_failures),
        "PENDING items left": statuses.get(contracts.STATUS_PENDING, 0),
        "unexpected FAILED items": len(unexpected_failed),
        "buffer items for no conversation": len(stray_items),
        "unexpected objects": len(unexpected_keys),
    }
    checks.append(
        Check(
            "nothing else anywhere",
            not any(problems.values()),
            ", ".join(f"{name} {n}" for name, n in problems.items() if n) or "clean",
        )
    )

    # -- figures -----------------------------------------------------------------------------------------
    latencies: dict[str, float] = {}
    for key, landed_at in recorder.landed_at.items():
        cid = key.rsplit("/", 1)[-1].removesuffix(".json")
        first = ingest.tally.first_seen.get(cid)
        if first is not None:
            latencies[cid] = round(landed_at - first, 4)
    sim_stats: dict[str, Any] = simulator.stats() if simulator is not None else {}
    by_service: Counter[str] = Counter()
    for name, n in recorder.by_operation().items():
        actor, rest = name.split(":", 1)
        if actor == "function":
            by_service[rest.split(".", 1)[0]] += n
    cmv = sum(
        n for name, n in recorder.by_operation().items() if name == "function:sqs.ChangeMessageVisibility"
    )
    valid_events = workload.valid_event_count
    return RunReport(
        source=workload.source,
        faults=options.faults if simulator is not None else "real org",
        time_scale=time_scale,
        elapsed_s=round(elapsed_s, 3),
        timed_out=timed_out,
        events=ingest.tally.deliveries,
        valid_events=valid_events,
        malformed_events=len(workload.malformed_events),
        duplicate_deliveries=workload.duplicate_deliveries,
        unique_conversations=len(workload.conversations),
        duplicates=ingest.tally.duplicate,
        quarantined=ingest.tally.quarantined,
        ingest_errors=ingest.tally.errors,
        ingest_retries=ingest.tally.retries,
        fetched=len(objects),
        not_ready_retries=cmv,
        failed=len(failed_reasons),
        pending_left=statuses.get(contracts.STATUS_PENDING, 0),
        processor_invocations=source.tally.invocations,
        processor_crashes=source.tally.crashed_invocations,
        # the simulator counts what it answered; with a real org, the client's own counters stand in
        genesys_requests=int(sim_stats.get("api_requests", genesys_client_stats.get("requests", 0))),
        genesys_429=int(sim_stats.get("throttled_429", genesys_client_stats.get("throttled", 0))),
        genesys_token_requests=int(
            sim_stats.get("token_requests", genesys_client_stats.get("token_requests", 0))
        ),
        genesys_5xx=int(sim_stats.get("server_errors_5xx", 0)),
        simulator_stats=sim_stats,
        genesys_client_stats=genesys_client_stats,
        work_dlq=len(work_dlq),
        ingest_failure_queue=len(failures),
        pipe_dlq=len(pipe_failures),
        quarantine_queue=len(quarantine),
        expected=len(ending),
        landed=len(objects),
        lost=len(lost),
        duplicated=duplicated,
        body_mismatches=mismatches,
        reconciled=reconciled,
        checks=checks,
        verdict=all(check.ok for check in checks),
        latencies_s=latencies,
        invocations={name: len(values) for name, values in invocations.durations.items()},
        invocation_durations_s={name: list(values) for name, values in invocations.durations.items()},
        invocation_errors=dict(invocations.errors),
        invocations_over_timeout=dict(invocations.timeouts),
        aws_requests=recorder.by_operation(),
        aws_requests_by_service=dict(by_service),
        aws_throttles_injected=dict(recorder.throttles_injected),
        pipe={
            "polls": pipe.tally.polls,
            "records_read": pipe.tally.records_read,
            "moto_inserts_collapsed": pipe.tally.collapsed,
            "filtered_out": pipe.tally.filtered_out,
            "forwarded": pipe.tally.forwarded,
            "failures": pipe.tally.failures,
        },
        emf_metrics=emf,
        quarantine_reasons=dict(found_reasons),
        failed_reasons=failed_reasons,
        dlq_reasons=dict(dlq_reasons),
        log_path=str(log_path),
        out_dir=str(options.out_dir) if options.out_dir is not None else None,
        settings={"max_age_s": max_age_s, "visibility_timeout_s": resources.visibility_timeout_s},
    )


def _unmatched_quarantine(workload: Workload, quarantine: list[Any]) -> int:
    """Quarantine messages whose event is not one of the malformed inputs with that reason."""
    wanted: Counter[tuple[str, str]] = Counter()
    for planned in workload.malformed_events:
        wanted[(str(planned.expected_reason), json.dumps(planned.event, sort_keys=True, default=str))] += 1
    unmatched = 0
    for body in quarantine:
        if not isinstance(body, dict):
            unmatched += 1
            continue
        if body.get("eventTruncated"):
            # too large to quarantine whole: the reason and the original size are what is kept
            candidates = [k for k in wanted if k[0] == body.get("reason") and wanted[k] > 0]
        else:
            candidates = [
                (str(body.get("reason")), json.dumps(body.get("event"), sort_keys=True, default=str))
            ]
        match = next((k for k in candidates if wanted.get(k, 0) > 0), None)
        if match is None:
            unmatched += 1
        else:
            wanted[match] -= 1
    return unmatched


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
    )
    return ", ".join(f"{label} {totals[name]}" for name, label in shown) if totals else "-"


def _fmt_latency(report: RunReport) -> str:
    median = report.latency_percentile(0.5)
    p99 = report.latency_percentile(0.99)
    if median is None or p99 is None:
        return "-"
    return f"median {median:.2f} s, p99 {p99:.2f} s"


def summary_rows(report: RunReport) -> list[tuple[str, str]]:
    rows = [
        (
            "events (deliveries)",
            f"{report.events}  ({report.duplicate_deliveries} redelivered, "
            f"{report.malformed_events} malformed)",
        ),
        ("unique conversations", str(report.unique_conversations)),
        ("duplicates (already buffered)", str(report.duplicates)),
        ("quarantined", str(report.quarantined)),
        ("fetched (landed)", str(report.fetched)),
        ("not-ready retries", str(report.not_ready_retries)),
        ("failed", str(report.failed)),
        ("Genesys requests", str(report.genesys_requests)),
        ("429s", str(report.genesys_429)),
        ("5xx", str(report.genesys_5xx)),
        ("token requests", str(report.genesys_token_requests)),
        ("work DLQ", str(report.work_dlq)),
        ("ingest failure queue / pipe DLQ", f"{report.ingest_failure_queue} / {report.pipe_dlq}"),
        ("quarantine queue", str(report.quarantine_queue)),
        ("processor invocations (crashed)", f"{report.processor_invocations} ({report.processor_crashes})"),
        ("ingest errors (retries)", f"{report.ingest_errors} ({report.ingest_retries})"),
        (
            "AWS throttles injected",
            ", ".join(f"{k} {v}" for k, v in sorted(report.aws_throttles_injected.items())) or "0",
        ),
        ("functions' EMF metrics (approx.)", _fmt_emf(report)),
        ("event -> landed latency", _fmt_latency(report)),
        ("elapsed", f"{report.elapsed_s:.1f} s (time scale {report.time_scale:g})"),
        ("conversations per second", f"{report.conversations_per_second:.1f}"),
    ]
    return rows


def render_summary(report: RunReport, *, include_checks: bool = False) -> str:
    rows = summary_rows(report)
    width = max(len(name) for name, _ in rows)
    lines = [f"  {name.ljust(width)}  {value}" for name, value in rows]
    verdict = "OK" if report.reconciled else "FAILED"
    lines.append(
        f"  reconciliation: expected {report.expected}, landed {report.landed}, lost {report.lost}, "
        f"duplicated {report.duplicated}"
        + (f", wrong body {report.body_mismatches}" if report.body_mismatches else "")
        + f"  -> {verdict}"
    )
    if include_checks:
        for check in report.checks:
            lines.append(f"  [{'PASS' if check.ok else 'FAIL'}] {check.name}: {check.detail}")
    return "\n".join(lines)
