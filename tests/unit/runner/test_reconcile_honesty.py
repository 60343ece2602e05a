"""The reconciliation's verdicts on runs against a real org (no simulator to foresee bodies): a conversation
the processor gave up on is lost, not excused, and a closing audit that audited no day says so."""

from __future__ import annotations

from genesys_bridge import contracts, layout
from genesys_simulator import render_details
from local_runner.closing_audit import AuditSummary
from local_runner.inventory import Inventory
from local_runner.reconcile import reconcile
from local_runner.workload import Workload, WorkloadSpec, synthesize


def _workload() -> Workload:
    return synthesize(
        WorkloadSpec(conversations=4, seed=3, late_rate=0.0, malformed_rate=0.0, duplicate_rate=0.0),
        "eu-west-1",
    )


def _inventory(workload: Workload, landed: list[str], failed: list[str]) -> Inventory:
    objects: dict[str, bytes] = {}
    for conversation_id in landed:
        body = render_details(
            workload.conversations[conversation_id].sim_conversation(), ended=True, division_id="d"
        )
        objects[layout.result_key(body)] = layout.serialize(body)
    items = {cid: {contracts.ATTR_STATUS: contracts.STATUS_FETCHED} for cid in landed}
    items.update(
        {
            cid: {
                contracts.ATTR_STATUS: contracts.STATUS_FAILED,
                contracts.ATTR_ERROR: "genesys_rejected: 400",
            }
            for cid in failed
        }
    )
    return Inventory(objects, {}, items, [], [], [], [], [])


def test_a_conversation_given_up_against_a_real_org_counts_as_lost() -> None:
    # Given a run against a real org in which the processor gave one ended conversation up (FAILED)
    workload = _workload()
    ids = list(workload.conversations)
    result = reconcile(workload, _inventory(workload, landed=ids[1:], failed=ids[:1]), simulator=None)

    # Then it is lost, the check says it was given up, and the run is not "landed once"
    assert result.lost == 1
    assert not result.landed_once
    first = result.checks[0]
    assert not first.ok
    assert "lost 1 (1 given up: FAILED)" in first.detail


def test_a_closing_audit_that_audited_no_day_fails_its_check_and_says_why() -> None:
    # Given a run against a real org where nothing landed, so the closing audit found no day to audit
    workload = _workload()
    result = reconcile(
        workload, _inventory(workload, landed=[], failed=[]), simulator=None, audit=AuditSummary(days=[])
    )

    # Then its check fails naming the cause, instead of passing over zero days
    audit_check = next(
        check for check in result.checks if check.name == "the closing audit reported every day"
    )
    assert not audit_check.ok
    assert "no day audited" in audit_check.detail
