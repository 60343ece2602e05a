"""The day's audit report: the page ledgers merged (each conversation counted once), the counts, the
execution's figures, and the metrics the report emits. `is_complete` tells a finished day's report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from genesys_bridge.audit.model import (
    LANDING_OUTCOMES,
    NOT_IN_GENESYS_SAMPLE,
    REPORT_STATUS_COMPLETE,
    AuditState,
    Outcome,
    capped,
)
from genesys_bridge.audit.store import AuditStore
from genesys_bridge.contracts import format_timestamp
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
    other_days = unlandable_count = not_objects_count = 0
    unlandable: list[str] = []
    not_objects: list[str] = []
    # Pages in order; a conversation on two pages counts once: as the page that landed it last (its body
    # is the one the key holds), else as first judged.
    for key in sorted(store.keys(f"{state.work_prefix}attempt-{state.job_attempt}/")):
        ledger = store.get_json(key) or {}
        for conversation_id, outcome in (ledger.get("outcomes") or {}).items():
            if outcome in LANDING_OUTCOMES:
                outcomes[conversation_id] = outcome
            else:
                outcomes.setdefault(conversation_id, outcome)
        other_days += int(ledger.get("other_days") or 0)
        page_unlandable = ledger.get("unlandable") or []
        unlandable.extend(page_unlandable)
        unlandable_count += int(ledger.get("unlandable_count", len(page_unlandable)))
        page_not_objects = ledger.get("not_objects") or []
        not_objects.extend(page_not_objects)
        not_objects_count += int(ledger.get("not_objects_count", len(page_not_objects)))
    tally = {outcome: 0 for outcome in Outcome}
    for outcome in outcomes.values():
        tally[Outcome(outcome)] += 1
    not_in_genesys = sorted(set(landed) - set(outcomes))
    s3_requests = s3_requests_before + (store.requests - s3_at_merge) + 1  # + the report's PUT
    finished = now()
    already = (
        tally[Outcome.UNCHANGED]
        + tally[Outcome.CHANGED_RELANDED]
        + tally[Outcome.DIFFERING]
        + tally[Outcome.REOPENED_KEPT]
    )
    availability = state.data_availability
    counts = {
        "in_genesys": len(outcomes),
        "already_landed": already,
        "missing_landed": tally[Outcome.MISSING_LANDED],
        "changed_relanded": tally[Outcome.CHANGED_RELANDED],
        "unchanged": tally[Outcome.UNCHANGED],
        "differing": tally[Outcome.DIFFERING],
        "open_not_landed": tally[Outcome.OPEN_NOT_LANDED],
        "reopened_kept": tally[Outcome.REOPENED_KEPT],
        "not_in_genesys": len(not_in_genesys),
        "other_days": other_days,
        "unlandable": unlandable_count,
        "not_objects": not_objects_count,
    }
    reopened = sorted(cid for cid, outcome in outcomes.items() if outcome == Outcome.REOPENED_KEPT)
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
        "job_id": capped(state.job_id) if state.job_id is not None else None,
        "job_attempts": state.job_attempt,
        "pages": state.page,
        "landed_before": state.landed_before,
        "data_availability": format_timestamp(availability) if availability else None,
        "body": "AnalyticsConversationWithoutAttributes",
        # every id or entry named below is cut to MAX_REPORTED_CHARS, and each list to the sample size
        "not_in_genesys_sample": [capped(cid) for cid in not_in_genesys[:NOT_IN_GENESYS_SAMPLE]],
        "unlandable_ids": [capped(cid) for cid in unlandable[:NOT_IN_GENESYS_SAMPLE]],
        "not_object_entries": [capped(name) for name in not_objects[:NOT_IN_GENESYS_SAMPLE]],
        "reopened_ids": reopened[:NOT_IN_GENESYS_SAMPLE],
    }


def emit_report_metrics(metrics: MetricsSink, report: Mapping[str, Any]) -> None:
    metrics.add_metric(MetricName.AUDIT_MISSING_CONVERSATIONS, COUNT, report["missing_landed"])
    metrics.add_metric(
        MetricName.AUDIT_CHANGED_CONVERSATIONS, COUNT, report["changed_relanded"] + report["differing"]
    )
    metrics.add_metric(MetricName.AUDIT_CONVERSATIONS, COUNT, report["in_genesys"])
    metrics.add_metric(MetricName.AUDIT_REOPENED_CONVERSATIONS, COUNT, report["reopened_kept"])
