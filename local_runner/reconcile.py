"""After a run: compare the inventory of what landed with what the workload intended; the checks.

Expected: every conversation that ends lands once, at the key layout.result_key gives its details,
with the simulator's final details (wrap-up ended, reprocessing applied) as its body, landed by the
live path or by the closing audit; every never-ready conversation that analytics shows is LEFT_OPEN,
and every one it never shows is FAILED with its reason and in the work DLQ; every malformed event is
in quarantine with its reason. Anything else anywhere (an
unexpected object, a DLQ or failure-queue message, a PENDING leftover) breaks the reconciliation.
The run's verdict is every check; local_runner.report turns this into the summary.
"""

from __future__ import annotations

import json
import math
import uuid
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from genesys_bridge import contracts, layout
from genesys_bridge.processor import FailureReason
from local_runner.closing_audit import CHANGED_RELANDED, MISSING_LANDED, AuditSummary
from local_runner.inventory import Inventory
from local_runner.workload import Readiness, Workload

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
class Reconciliation:
    checks: list[Check]
    expected: int  # conversations that end
    landed: int  # objects in the bucket
    lost: int
    duplicated: int  # unexpected objects + conversations landed more than once
    body_mismatches: int
    landed_once: bool  # the first check: expected == landed, nothing lost or duplicated, bodies right
    failed_reasons: dict[str, str] = field(default_factory=dict)  # conversation id -> buffer item error
    dlq_reasons: dict[str, int] = field(default_factory=dict)
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    pending_left: int = 0

    @property
    def verdict(self) -> bool:
        """Every check holds: the run's OK and its exit status."""
        return all(check.ok for check in self.checks)


def simulator_id(conversation_id: str) -> str | None:
    """The id as the simulator (and Genesys) holds it: a canonical UUID, or None when it is not one."""
    try:
        canonical = str(uuid.UUID(conversation_id))
    except (ValueError, TypeError, AttributeError):
        return None
    return canonical if canonical == conversation_id.lower() else None


def _expected_key_and_body(conversation_id: str, simulator: Any) -> tuple[str, dict[str, Any]]:
    """Where the conversation must land and with what: the simulator's final body (wrap-up ended, and
    every reprocessing pass so far), the version the bridge must end up holding."""
    details: dict[str, Any] = simulator.final_details(conversation_id)
    return layout.result_key(details), details


def reconcile(
    workload: Workload,
    inventory: Inventory,
    simulator: Any,
    *,
    timed_out: bool = False,
    dropped: frozenset[str] = frozenset(),
    audit: AuditSummary | None = None,
    snapshots: frozenset[str] = frozenset(),
) -> Reconciliation:
    """The checks of one run. `simulator` is None when a real org answered (bodies cannot be foreseen).

    `dropped`: conversations whose events never reached ingest. Those that end must land all the same
    (the closing audit lands them: what the live path and the audit landed together is what counts);
    a dropped never-ready one leaves no trace at all, as the bridge never heard of it.
    `snapshots`: the keys the lookups sync says it landed.
    `audit`: the closing audit's outcome (None: the run had none); its reports are checked against what
    the live path missed and, after finalize, against the conversations changed. Finalize lands what
    Genesys has for every conversation of the day, a never-ended one too (docs/completeness.md): after
    it, each never-ready conversation must be landed once, still without conversationEnd.
    """
    objects, items = inventory.objects, inventory.items
    never = workload.ids(Readiness.NEVER) - dropped
    # the never-ready conversations analytics shows, open: LEFT_OPEN at the max age, not dead-lettered
    open_in_analytics = {cid for cid in never if not math.isinf(workload.conversations[cid].visible_after_s)}
    ending = [cid for cid in workload.conversations if cid not in workload.ids(Readiness.NEVER)]
    checks: list[Check] = []

    # -- landed objects ----------------------------------------------------------------------------
    expected_keys: dict[str, str] = {}  # key -> conversation id
    bodies: dict[str, dict[str, Any]] = {}
    unforeseeable: list[str] = []  # ids no simulator can hold (not a UUID): they cannot land
    open_keys: dict[str, str] = {}  # never-ended conversations finalize landed as they are
    finalized = audit is not None and any(d.mode == "finalize" and d.error is None for d in audit.days)
    if simulator is not None and finalized:
        for cid in sorted(workload.ids(Readiness.NEVER)):
            if simulator_id(cid) is not None:
                with suppress(KeyError):
                    open_keys[_expected_key_and_body(cid, simulator)[0]] = cid
    if simulator is not None:
        for cid in ending:
            if simulator_id(cid) is None:
                unforeseeable.append(cid)
                continue
            try:
                key, details = _expected_key_and_body(cid, simulator)
            except KeyError:  # never registered with the simulator: nothing can have landed it
                unforeseeable.append(cid)
                continue
            expected_keys[key] = cid
            bodies[key] = details
    landed_ids: Counter[str] = Counter()
    unexpected_keys: list[str] = []
    # a real org or server: conversations of an audited day that were not in the events (the audit
    # lands every conversation of the day, as it does on AWS)
    audit_extra: list[str] = []
    audited_prefixes = tuple(layout.day_prefix(day.day) for day in audit.days) if audit is not None else ()
    mismatches = 0
    for key, raw in objects.items():
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, RecursionError):
            body = None
        landed_id = body.get("conversationId") if isinstance(body, dict) else None
        if simulator is not None:
            if key in open_keys:
                if landed_id != open_keys[key] or not isinstance(body, dict) or body.get("conversationEnd"):
                    mismatches += 1
            elif key not in expected_keys:
                unexpected_keys.append(key)
            elif body != layout.canonical_form(bodies[key]):  # landed with its lists in canonical order
                mismatches += 1
        else:
            # a real org: the key must be the one its own details give, for an id from the events
            # (or from an audited day)
            if not isinstance(body, dict) or _key_of(body) != key:
                unexpected_keys.append(key)
            elif landed_id not in workload.conversations:
                if key.startswith(audited_prefixes) and audited_prefixes:
                    audit_extra.append(key)
                else:
                    unexpected_keys.append(key)
            elif not body.get("conversationEnd"):
                mismatches += 1
        if isinstance(landed_id, str):
            landed_ids[landed_id] += 1
    twice = [cid for cid, n in landed_ids.items() if n > 1]
    failed_ids = {
        cid for cid, item in items.items() if item.get(contracts.ATTR_STATUS) == contracts.STATUS_FAILED
    }
    if simulator is not None:
        must_land = {**expected_keys, **open_keys}
        lost = [cid for key, cid in must_land.items() if key not in objects] + unforeseeable
    else:
        # a real org: an ended conversation of the events that did not land is lost, given up or not
        lost = [cid for cid in ending if cid not in landed_ids]
    given_up = [cid for cid in lost if cid in failed_ids]
    duplicated = len(unexpected_keys) + len(twice)
    landed_once = not lost and duplicated == 0 and mismatches == 0 and not timed_out
    checks.append(
        Check(
            "every ended conversation landed exactly once",
            landed_once,
            f"expected {len(ending) + len(open_keys)}"
            + (f" ({len(open_keys)} never ended, landed by finalize)" if open_keys else "")
            + f", landed {len(objects)}, lost {len(lost)}"
            + (f" ({len(given_up)} given up: FAILED)" if given_up else "")
            + f", duplicated {duplicated}, "
            f"wrong body {mismatches}" + (", run timed out" if timed_out else ""),
        )
    )

    # -- never-ready conversations ------------------------------------------------------------------
    dlq_by_id: Counter[str] = Counter()
    dlq_reasons: Counter[str] = Counter()
    unexpected_dlq = 0
    for body in inventory.work_dlq:
        if isinstance(body, dict) and "reason" in body:
            dlq_reasons[str(body["reason"])] += 1
            dead_id = body.get("conversationId")
            # (one open in analytics is given up only when Genesys failed at its last attempt)
            reasons = (
                (FailureReason.NOT_FETCHED_MAX_AGE.value,)
                if dead_id in open_in_analytics
                else GIVE_UP_REASONS
            )
            if body["reason"] in reasons and dead_id in never:
                dlq_by_id[str(dead_id)] += 1
                continue
        else:
            dlq_reasons["(redriven by SQS)"] += 1
        unexpected_dlq += 1
    failed_reasons = {cid: items[cid].get(contracts.ATTR_ERROR, "") for cid in failed_ids}
    left_open = {
        cid for cid, item in items.items() if item.get(contracts.ATTR_STATUS) == contracts.STATUS_LEFT_OPEN
    }
    never_ok = [
        cid
        for cid in never
        if (cid in open_in_analytics and cid in left_open and not dlq_by_id.get(cid))
        or (failed_reasons.get(cid, "").startswith(GIVE_UP_REASONS) and dlq_by_id.get(cid, 0) >= 1)
    ]
    checks.append(
        Check(
            "every never-ready conversation LEFT_OPEN if analytics shows it, else FAILED and in the DLQ",
            len(never_ok) == len(never),
            f"{len(never_ok)}/{len(never)} ({len(open_in_analytics)} in analytics)",
        )
    )

    # -- conversations that ended again after they landed -----------------------------------------------
    reopened = {p.conversation_id for p in workload.events if p.reopens and p.conversation_id} - dropped
    if reopened:
        again = [
            cid
            for cid in reopened
            if items.get(cid, {}).get(contracts.ATTR_STATUS) == contracts.STATUS_FETCHED
            and int(items.get(cid, {}).get(contracts.ATTR_REQUEUES, "0")) >= 1
        ]
        # (and the body check above holds only if the ended-again body is the one landed)
        checks.append(
            Check(
                "every conversation that ended again after it landed was fetched again",
                len(again) == len(reopened),
                f"{len(again)}/{len(reopened)}",
            )
        )

    # -- malformed events -----------------------------------------------------------------------------
    expected_reasons = Counter(p.expected_reason for p in workload.malformed_events if p.expected_reason)
    found_reasons = Counter(str(b.get("reason")) for b in inventory.quarantine if isinstance(b, dict))
    unmatched = _unmatched_quarantine(workload, inventory.quarantine)
    checks.append(
        Check(
            "every malformed event in quarantine with its reason",
            found_reasons == expected_reasons and unmatched == 0,
            f"expected {dict(sorted(expected_reasons.items()))}, found {dict(sorted(found_reasons.items()))}"
            + (f", {unmatched} not matching their event" if unmatched else ""),
        )
    )

    # -- the closing audit ----------------------------------------------------------------------------
    if audit is not None:
        missed_live = [cid for cid in ending if cid in dropped]
        checks.extend(
            _audit_checks(
                audit, missed_live, len(audit_extra), len(open_keys), simulator is not None, bool(ending)
            )
        )

    # -- nothing else anywhere ------------------------------------------------------------------------
    statuses = Counter(item.get(contracts.ATTR_STATUS, "") for item in items.values())
    stray_items = [cid for cid in items if cid not in workload.conversations or cid in dropped]
    unexpected_failed = [cid for cid in failed_reasons if cid not in never]
    extra_dlq = sum(max(0, n - 1) for n in dlq_by_id.values())
    problems = {
        "unexpected work DLQ messages": unexpected_dlq + extra_dlq,
        "ingest failure queue messages": len(inventory.ingest_failures),
        "pipe DLQ messages": len(inventory.pipe_failures),
        "unresolved pipe DLQ messages": len(inventory.pipe_unresolved),
        "PENDING items left": statuses.get(contracts.STATUS_PENDING, 0),
        "unexpected FAILED items": len(unexpected_failed),
        "unexpected LEFT_OPEN items": len(left_open - open_in_analytics),
        "buffer items for no conversation": len(stray_items),
        "unexpected objects": len(unexpected_keys),
        "objects outside the conversations prefix that no audit report or lookup explains": len(
            set(_unexplained_other_objects(inventory, audit)) - snapshots
        ),
    }
    checks.append(
        Check(
            "nothing else anywhere",
            not any(problems.values()),
            ", ".join(f"{name} {n}" for name, n in problems.items() if n) or "clean",
        )
    )
    return Reconciliation(
        checks=checks,
        expected=len(ending) + len(open_keys),
        landed=len(objects),
        lost=len(lost),
        duplicated=duplicated,
        body_mismatches=mismatches,
        landed_once=landed_once,
        failed_reasons=failed_reasons,
        dlq_reasons=dict(dlq_reasons),
        quarantine_reasons=dict(found_reasons),
        pending_left=statuses.get(contracts.STATUS_PENDING, 0),
    )


def _audit_checks(
    audit: AuditSummary,
    missed_live: list[str],
    beyond_events: int,
    never_ended: int,
    simulated: bool,
    expected_any: bool,
) -> list[Check]:
    """The audit ran to its report for every day and mode; in audit mode it landed exactly what the live
    path missed (its events dropped, or none of them subscribed; with a real org also the day's
    conversations the events file did not name, `beyond_events`); finalize re-landed exactly the
    conversations changed since, and landed the `never_ended` ones nothing had landed. A run that
    expected conversations but audited no day (nothing landed, no --audit-day) fails: an audit of
    nothing vouches for nothing."""
    modes = sorted({day.mode for day in audit.days})
    nothing_audited = expected_any and not audit.days
    checks = [
        Check(
            "the closing audit reported every day",
            not audit.failures and not nothing_audited,
            (
                "no day audited: nothing landed to take a day from (name one with --audit-day)"
                if nothing_audited
                else f"{len({day.day for day in audit.days})} day(s), {len(audit.days)} execution(s) "
                f"({', '.join(modes)})"
            )
            + "".join(f"; {day.mode} {day.day} failed: {day.error}" for day in audit.failures),
        )
    ]
    missing = audit.total("audit", MISSING_LANDED)
    checks.append(
        Check(
            "the audit landed exactly the conversations the live path missed",
            missing == len(missed_live) + beyond_events,
            f"missed by the live path (events dropped or none subscribed) {len(missed_live)}"
            + (f", not in the events {beyond_events}" if beyond_events else "")
            + f"; landed by the audit {missing}",
        )
    )
    if "finalize" in modes and simulated:
        relanded = audit.total("finalize", CHANGED_RELANDED)
        opened = audit.total("finalize", MISSING_LANDED)
        checks.append(
            Check(
                "finalize re-landed exactly the conversations changed after landing",
                relanded == len(audit.changed) and opened == never_ended,
                f"changed {len(audit.changed)}, re-landed {relanded}; never ended {never_ended}, "
                f"landed as they are {opened}",
            )
        )
    return checks


def _key_of(body: dict[str, Any]) -> str | None:
    try:
        return layout.result_key(body)
    except layout.InvalidConversation:  # no usable id or start
        return None


def _unexplained_other_objects(inventory: Inventory, audit: AuditSummary | None) -> list[str]:
    """Objects outside the conversations prefix other than the reports, compacted files and compaction
    markers of the audit's completed days (an execution's scratch objects must be gone once it reports)."""
    from genesys_bridge.audit.model import report_key

    done = [] if audit is None else [d for d in audit.days if d.error is None]
    reports = {report_key(d.day, d.mode) for d in done}
    compacted = tuple(
        p
        for d in done
        for p in (
            *(dataset.day_prefix(d.day) for dataset in layout.COMPACTED_DATASETS),
            layout.compaction_marker_key(d.day),
        )
    )
    return [key for key in inventory.other_objects if key not in reports and not key.startswith(compacted)]


def _canonical(event: Any) -> str | None:
    """A comparable text of an event; None when it is nested past the recursion limit."""
    try:
        return json.dumps(event, sort_keys=True, default=str)
    except (RecursionError, ValueError):
        return None


def _unmatched_quarantine(workload: Workload, quarantine: list[Any]) -> int:
    """Quarantine messages whose event is not one of the malformed inputs with that reason."""
    wanted: Counter[tuple[str, str | None]] = Counter()
    for planned in workload.malformed_events:
        wanted[(str(planned.expected_reason), _canonical(planned.event))] += 1
    unmatched = 0
    for body in quarantine:
        if not isinstance(body, dict):
            unmatched += 1
            continue
        reason = str(body.get("reason"))
        text = None if body.get("eventTruncated") else _canonical(body.get("event"))
        if text is None:
            # kept without its whole event (too large or too deep): the reason is what can be matched
            candidates = [k for k in wanted if k[0] == reason and wanted[k] > 0]
        else:
            candidates = [(reason, text)]
        match = next((k for k in candidates if wanted.get(k, 0) > 0), None)
        if match is None:
            unmatched += 1
        else:
            wanted[match] -= 1
    return unmatched
