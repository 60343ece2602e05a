"""The day's audit report: the page ledgers merged (each conversation counted once), the counts, the
execution's figures, and the metrics the report emits. `is_complete` tells a finished day's report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from genesys_bridge.audit.model import NOT_IN_GENESYS_SAMPLE, REPORT_STATUS_COMPLETE, AuditState, Outcome
from genesys_bridge.audit.store import AuditStore
from genesys_bridge.buffer import format_timestamp
from genesys_bridge.metrics import COUNT, MetricName, MetricsSink


def is_complete(report: Any) -> bool:
    """Does this report object say its day was audited to the end? (None: no report.)"""
    return isinstance(report, dict) and report.get("status") == REPORT_STATUS_COMPLETE


def build_day_report(
    state: AuditState,
    store: AuditStore,
    *,
    genesys_requests: int,
    s3_requests_before: int,
    now: Callable[[], datetime],
) -> dict[str, Any]:
    s3_at_merge = store.requests
    inventory = store.get_json_cached(state.inventory_key) if state.inventory_key else None
    landed: Mapping[str, str] = (inventory or {}).get("etags") or {}
    outcomes: dict[str, str] = {}
    other_days = 0
    unlandable: list[str] = []
    # Pages in order; a conversation on two pages counts once, as first judged.
    for key in sorted(store.keys(f"{state.work_prefix}attempt-{state.job_attempt}/")):
        ledger = store.get_json(key) or {}
        for conversation_id, outcome in (ledger.get("outcomes") or {}).items():
            outcomes.setdefault(conversation_id, outcome)
        other_days += int(ledger.get("other_days") or 0)
        unlandable.extend(ledger.get("unlandable") or [])
    tally = {outcome: 0 for outcome in Outcome}
    for outcome in outcomes.values():
        tally[Outcome(outcome)] += 1
    not_in_genesys = sorted(set(landed) - set(outcomes))
    s3_requests = s3_requests_before + (store.requests - s3_at_merge) + 1  # + the report's PUT
    finished = now()
    already = tally[Outcome.UNCHANGED] + tally[Outcome.CHANGED_RELANDED] + tally[Outcome.DIFFERING]
    availability = state.data_availability
    counts = {
        "in_genesys": len(outcomes),
        "already_landed": already,
        "missing_landed": tally[Outcome.MISSING_LANDED],
        "changed_relanded": tally[Outcome.CHANGED_RELANDED],
        "unchanged": tally[Outcome.UNCHANGED],
        "differing": tally[Outcome.DIFFERING],
        "open_not_landed": tally[Outcome.OPEN_NOT_LANDED],
        "not_in_genesys": len(not_in_genesys),
        "other_days": other_days,
        "unlandable": len(unlandable),
    }
    return {
        "day": state.day.isoformat(),
        "mode": state.mode.value,
        "status": REPORT_STATUS_COMPLETE,
        **counts,
        "duration_seconds": round((finished - state.started_at).total_seconds(), 3),
        # Genesys API requests of the whole execution (token requests not included) and S3 requests
        # up to this report (its own PutObject included; the scratch clean-up after it not).
        "requests": genesys_requests,
        "s3_requests": s3_requests,
        "started_at": format_timestamp(state.started_at),
        "finished_at": format_timestamp(finished),
        "execution": state.execution,
        "job_id": state.job_id,
        "job_attempts": state.job_attempt,
        "pages": state.page,
        "landed_before": state.landed_before,
        "data_availability": format_timestamp(availability) if availability else None,
        "body": "AnalyticsConversationWithoutAttributes",
        "not_in_genesys_sample": not_in_genesys[:NOT_IN_GENESYS_SAMPLE],
        "unlandable_ids": unlandable[:NOT_IN_GENESYS_SAMPLE],
    }


def emit_report_metrics(metrics: MetricsSink, report: Mapping[str, Any]) -> None:
    metrics.add_metric(MetricName.AUDIT_MISSING_CONVERSATIONS, COUNT, report["missing_landed"])
    metrics.add_metric(
        MetricName.AUDIT_CHANGED_CONVERSATIONS, COUNT, report["changed_relanded"] + report["differing"]
    )
    metrics.add_metric(MetricName.AUDIT_CONVERSATIONS, COUNT, report["in_genesys"])
