"""Mode audit: enumerate the day through a details job and land what the live path missed."""

from __future__ import annotations

import json
import uuid

from genesys_bridge import contracts
from genesys_bridge.audit.model import AuditMode, AuditRequest
from genesys_bridge.audit.plan import End, Step
from genesys_bridge.audit.workflow import run_workflow
from genesys_bridge.buffer import parse_timestamp
from genesys_bridge.layout import canonical_form, result_key
from genesys_bridge.metrics import MetricName
from tests.unit.audit.conftest import BUCKET, DAY, AuditRig
from tests.unit.audit.fakes import job_conversation, multi_get_shape

REPORT = "audits/conversation_date=2026-11-20/audit.json"


def ids(count: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(count)]


def test_a_day_with_missing_conversations_gets_them_landed_and_an_exact_report(rig: AuditRig) -> None:
    # Given seven conversations started on 2026-11-20 in Genesys, four of them landed by the live path
    day = [job_conversation(cid) for cid in ids(7)]
    rig.genesys.conversations = day
    for body in day[:4]:
        rig.land_live(multi_get_shape(body))

    # When the day is audited (pages of 2: four results pages)
    result = rig.run(AuditMode.AUDIT)

    # Then the three missing conversations are landed at their keys, in the multi-get's shape
    assert result.end is End.COMPLETE
    for body in day[4:]:
        landed = rig.object(result_key(body))
        assert json.loads(landed["Body"].read()) == canonical_form(multi_get_shape(body))
        # And their provenance is on the object: the jobs endpoint, and when
        assert landed["Metadata"][contracts.RESULT_METADATA_SOURCE] == contracts.SOURCE_DETAILS_JOB
        fetched_at = parse_timestamp(landed["Metadata"][contracts.RESULT_METADATA_FETCHED_AT])
        assert result.state.started_at < fetched_at <= rig.time.now()
    # And the live path's objects were not written again
    assert all(rig.versions(result_key(body)) == 1 for body in day)
    # And the report counts exactly that
    report = json.loads(rig.object(REPORT)["Body"].read())
    assert {
        name: report[name] for name in ("in_genesys", "already_landed", "missing_landed", "unchanged")
    } == {
        "in_genesys": 7,
        "already_landed": 4,
        "missing_landed": 3,
        "unchanged": 4,
    }
    assert (report["status"], report["changed_relanded"], report["not_in_genesys"]) == ("complete", 0, 0)
    assert report["pages"] == 4
    # And the requests it names are the Genesys requests sent: availability, submit, 3 polls, 4 pages
    assert report["requests"] == 1 + 1 + 3 + 4
    # And the metrics say how many were missing
    assert rig.metrics.counts[MetricName.AUDIT_MISSING_CONVERSATIONS] == 3
    assert rig.metrics.counts[MetricName.AUDIT_CHANGED_CONVERSATIONS] == 0


def test_the_job_asks_for_the_conversations_that_started_on_the_day(rig: AuditRig) -> None:
    # Given a day in Genesys
    rig.genesys.conversations = [job_conversation(cid) for cid in ids(1)]
    # When it is audited
    rig.run()
    # Then the details job covered [D, D+1) with startOfDayIntervalMatching
    assert rig.genesys.jobs[0].body == {
        "interval": "2026-11-20T00:00:00.000Z/2026-11-21T00:00:00.000Z",
        "startOfDayIntervalMatching": True,
        "order": "asc",
        "orderBy": "conversationStart",
    }


def test_conversations_of_other_days_or_not_ended_are_not_landed_by_an_audit(rig: AuditRig) -> None:
    # Given results holding one conversation of the day, one still open, one of the day before
    ended, still_open, day_before = ids(3)
    rig.genesys.conversations = [
        job_conversation(ended),
        job_conversation(still_open, ended=False),
        job_conversation(day_before, start="2026-11-19T23:59:00.000Z"),
    ]
    # When the day is audited
    result = rig.run()
    # Then only the ended conversation of the day is landed
    assert rig.keys("conversations/") == [f"conversations/conversation_date=2026-11-20/{ended}.json"]
    assert result.report is not None
    assert (result.report["open_not_landed"], result.report["other_days"]) == (1, 1)
    assert result.report["in_genesys"] == 2


def test_a_conversation_returned_twice_counts_once(rig: AuditRig) -> None:
    # Given results in which one conversation appears on two pages
    first, second, third = (job_conversation(cid) for cid in ids(3))
    rig.genesys.conversations = [first, second, first, third]
    # When the day is audited
    result = rig.run()
    # Then it is counted once (as first judged: missing, landed), and its object holds its body
    assert result.report is not None
    assert (result.report["in_genesys"], result.report["missing_landed"]) == (3, 3)
    assert json.loads(rig.object(result_key(first))["Body"].read()) == canonical_form(multi_get_shape(first))


def test_a_landed_conversation_genesys_no_longer_has_is_reported(rig: AuditRig) -> None:
    # Given a landed conversation that the day's job does not return (deleted in Genesys)
    gone = job_conversation(ids(1)[0])
    rig.land_live(multi_get_shape(gone))
    rig.genesys.conversations = [job_conversation(cid) for cid in ids(2)]
    # When the day is audited
    result = rig.run()
    # Then the report names it, and its object is left alone
    assert result.report is not None
    assert result.report["not_in_genesys"] == 1
    assert result.report["not_in_genesys_sample"] == [gone["conversationId"]]
    assert rig.versions(result_key(gone)) == 1


def test_a_day_already_reported_complete_is_not_audited_again_unless_forced(rig: AuditRig) -> None:
    # Given a day audited once
    rig.genesys.conversations = [job_conversation(cid) for cid in ids(2)]
    rig.run()
    assert len(rig.genesys.jobs) == 1
    # When it is asked again
    again = rig.run()
    # Then it ends at once, without a job
    assert again.end is End.ALREADY_DONE
    assert len(rig.genesys.jobs) == 1
    # And with force it runs again
    forced = run_workflow(
        rig.make_steps(),
        AuditRequest(mode=AuditMode.AUDIT, day=again.state.day, force=True),
        sleep=rig.time.sleep,
        queries=rig.queries,
    )
    assert forced.end is End.COMPLETE
    assert len(rig.genesys.jobs) == 2


def test_the_execution_leaves_only_its_report_behind(rig: AuditRig) -> None:
    # Given a day in Genesys
    rig.genesys.conversations = [job_conversation(cid) for cid in ids(3)]
    # When it is audited
    rig.run()
    # Then the scratch objects (inventory, page ledgers) are gone and the report is there
    assert rig.keys(contracts.AUDIT_WORK_PREFIX) == []
    assert rig.keys(contracts.AUDITS_PREFIX) == [REPORT]


def test_steps_are_run_in_the_order_the_plan_allows(rig: AuditRig) -> None:
    # Given a day of three conversations (two pages of 2)
    rig.genesys.conversations = [job_conversation(cid) for cid in ids(3)]
    seen: list[str] = []
    # When it is audited
    run_workflow(
        rig.make_steps(),
        AuditRequest(mode=AuditMode.AUDIT, day=DAY),
        sleep=rig.time.sleep,
        queries=rig.queries,
        on_step=lambda step, _state: seen.append(step.value),
    )
    # Then the job is polled between waits, and each page is its own step
    assert seen == [
        Step.START,
        Step.AVAILABILITY,
        Step.GUARD,
        Step.SUBMIT,
        Step.POLL,
        Step.POLL,
        Step.POLL,
        Step.INVENTORY,
        Step.PAGE,
        Step.PAGE,
        Step.REPORT,
        Step.COMPACT,
        Step.COMMIT,
    ]
    # And the waits between polls back off: 10 s after submitting, then 20 s, 40 s (pacing aside)
    assert [s for s in rig.time.sleeps if s >= 1][:3] == [10, 20, 40]


def test_report_lives_in_the_results_bucket(rig: AuditRig) -> None:
    rig.genesys.conversations = [job_conversation(cid) for cid in ids(1)]
    rig.run()
    assert rig.s3.head_object(Bucket=BUCKET, Key=REPORT)["ContentType"] == "application/json"


def test_results_pages_are_paced_under_the_audits_share_of_the_budget(rig: AuditRig) -> None:
    # Given a day of six conversations (three pages of 2) and an audit budget of 6 requests a minute
    rig.genesys.conversations = [job_conversation(cid) for cid in ids(6)]
    seen: list[tuple[str, str]] = []
    # When it is audited
    run_workflow(
        rig.make_steps(max_requests_per_minute=6),
        AuditRequest(mode=AuditMode.AUDIT, day=DAY),
        sleep=rig.time.sleep,
        queries=rig.queries,
        on_step=lambda step, state: seen.append((step.value, state.next)),
    )
    # Then each page but the last is followed by a Wait of the 10 s the budget leaves between requests
    assert [following for step, following in seen if step == "page"] == [
        "pace_results",
        "pace_results",
        "report",
    ]
    assert sorted(s for s in rig.time.sleeps if s >= 1).count(10) >= 2
