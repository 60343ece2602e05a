"""Results pages that are broken or hostile, and conversations that reopen: counted and named, bounded
in the report, never a crashed day, never a cursor loop, never an ended body replaced by an open one."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from genesys_bridge import contracts
from genesys_bridge.audit.model import MAX_REPORTED_CHARS, AuditMode, AuditRequest
from genesys_bridge.audit.workflow import AuditFailed, run_workflow
from genesys_bridge.layout import canonical_form, result_key
from genesys_bridge.metrics import MetricName
from tests.unit.audit.conftest import DAY, AuditRig
from tests.unit.audit.fakes import job_conversation, multi_get_shape
from tests.unit.audit.test_failures import no_report
from tests.unit.audit.test_finalize_mode import reprocessed


def conversations(count: int) -> list[dict[str, Any]]:
    return [job_conversation(str(uuid.uuid4())) for _ in range(count)]


def stored(rig: AuditRig, body: dict[str, Any]) -> Any:
    return json.loads(rig.object(result_key(body))["Body"].read())


def landed_shape(body: dict[str, Any]) -> dict[str, Any]:
    """What a key holds for a job's body: the multi-get's shape, its lists in canonical order."""
    return canonical_form(multi_get_shape(body))


# -- entries that are not conversations ------------------------------------------------------------------


def test_entries_that_are_not_objects_are_counted_named_and_skipped_and_the_day_completes(
    rig: AuditRig,
) -> None:
    # Given a first results page whose `conversations` holds a string, a null and a number beside a
    # conversation (pages of two: the conversations' own pages stay as they are)
    real = conversations(3)
    rig.genesys.conversations = real

    def broken(page: int, body: dict[str, Any]) -> dict[str, Any]:
        if page == 0:
            body["conversations"][1:1] = ["not a conversation", None, 42]
        return body

    rig.genesys.rewrite_page = broken

    # When the day is audited
    result = rig.run()

    # Then the day completes: the three conversations are landed, the three strays counted and named
    assert result.report is not None
    assert (result.report["missing_landed"], result.report["not_objects"]) == (3, 3)
    assert result.report["not_object_entries"] == [
        'conversations[1]: string "not a conversation"',
        "conversations[2]: null null",
        "conversations[3]: number 42",
    ]
    assert [stored(rig, body) for body in real] == [landed_shape(body) for body in real]


@pytest.mark.parametrize("value", ["conversations", {"conversationId": "x"}, 7])
def test_a_page_whose_conversations_is_not_a_list_is_counted_and_the_day_completes(
    rig: AuditRig, value: Any
) -> None:
    rig.genesys.conversations = conversations(4)
    rig.genesys.rewrite_page = lambda page, body: {**body, "conversations": value} if page == 1 else body

    result = rig.run()

    assert result.report is not None
    assert (result.report["missing_landed"], result.report["not_objects"]) == (2, 1)
    [entry] = result.report["not_object_entries"]
    assert entry.startswith("conversations: ")


@pytest.mark.parametrize(
    ("page_body", "error", "message"),
    [
        (["a", "list"], "GenesysError", "expected a JSON object"),  # the client refuses it
        ({"conversations": [], "cursor": 17}, "PagingError", "the cursor is not a string"),
    ],
    ids=["page-not-an-object", "cursor-not-a-string"],
)
def test_a_page_that_cannot_be_read_fails_the_execution_clearly(
    rig: AuditRig, page_body: Any, error: str, message: str
) -> None:
    rig.genesys.conversations = conversations(4)
    rig.genesys.rewrite_page = lambda page, body: page_body if page == 1 else body

    with pytest.raises(AuditFailed) as failed:
        rig.run()

    assert failed.value.error == error
    assert message in failed.value.cause
    assert no_report(rig)


# -- cursors ---------------------------------------------------------------------------------------------


def test_a_cursor_cycling_between_two_values_fails_the_execution_without_a_report(rig: AuditRig) -> None:
    # Given results whose third page points back to the second, for ever (c2 -> c4 -> c2 -> c4 ...)
    rig.genesys.conversations = conversations(10)

    def cycling(page: int, body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "cursor": "c2"} if body.get("cursor") == "c6" else body

    rig.genesys.rewrite_page = cycling

    # When the day is audited
    with pytest.raises(AuditFailed) as failed:
        rig.run()

    # Then the repeat is found at once (three pages read, no fourth, nothing of the third landed), the
    # execution fails naming it through the cancel step, and no report is written
    assert failed.value.error == "PagingError"
    assert "page 2 returned the cursor that page 0 returned: the cursors cycle" in failed.value.cause
    assert rig.genesys.jobs[0].pages_served == 3
    assert len(rig.keys(contracts.RESULTS_PREFIX)) == 4
    assert failed.value.state is not None
    assert failed.value.state.next == "failed"
    assert no_report(rig)


def test_a_page_step_run_again_after_recording_its_cursor_is_no_cycle(rig: AuditRig) -> None:
    # Given a day of three pages, and a page step that fails once after its cursor was recorded (the
    # S3 write of its ledger throttled), so the state machine runs it again
    rig.genesys.conversations = conversations(6)
    original = rig.s3.put_object
    failures = {"left": 1}

    def flaky_put(**kwargs: Any) -> Any:
        if "/attempt-1/page-000001" in kwargs["Key"] and failures["left"]:
            failures["left"] -= 1
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "slow down"}}, "PutObject")
        return original(**kwargs)

    rig.s3.put_object = flaky_put

    # When the day is audited
    result = rig.run()

    # Then the retried page finds its own record of the cursor, and the day completes
    assert result.report is not None
    assert result.report["missing_landed"] == 6


# -- the same conversation on two pages ------------------------------------------------------------------


def test_finalize_reports_the_outcome_of_the_body_that_landed_last(rig: AuditRig) -> None:
    # Given a landed conversation that the job returns twice: as landed on page one, changed on page two
    body = job_conversation(str(uuid.uuid4()))
    rig.land_live(multi_get_shape(body))
    other = job_conversation(str(uuid.uuid4()))
    rig.genesys.conversations = [body, other, reprocessed(body)]

    # When the day is finalized
    result = rig.run(AuditMode.FINALIZE)

    # Then the key holds the changed body, and the report says it was re-landed (not "unchanged")
    assert stored(rig, body) == landed_shape(reprocessed(body))
    assert result.report is not None
    assert (result.report["changed_relanded"], result.report["unchanged"]) == (1, 0)
    assert rig.metrics.counts[MetricName.AUDIT_CHANGED_CONVERSATIONS] == 1


# -- reopened conversations ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [AuditMode.FINALIZE, AuditMode.AUDIT])
def test_an_ended_landed_conversation_that_reopened_is_kept_and_counted_not_replaced(
    rig: AuditRig, mode: AuditMode
) -> None:
    # Given a conversation landed ended, which Genesys now shows open again (a new message joined it)
    body = job_conversation(str(uuid.uuid4()))
    key = rig.land_live(multi_get_shape(body))
    reopened = job_conversation(body["conversationId"], ended=False)
    reopened["participants"][0]["sessions"][0]["segments"][0]["segmentType"] = "interact"
    rig.genesys.conversations = [reopened]

    # When the day is finalized (or audited)
    result = rig.run(mode)

    # Then the ended body stays (no new version), the report counts and names it, and a metric says so
    assert rig.versions(key) == 1
    assert stored(rig, body) == landed_shape(body)
    assert result.report is not None
    assert (result.report["reopened_kept"], result.report["changed_relanded"]) == (1, 0)
    assert result.report["already_landed"] == 1
    assert result.report["reopened_ids"] == [body["conversationId"]]
    assert rig.metrics.counts[MetricName.AUDIT_REOPENED_CONVERSATIONS] == 1


def test_a_reopened_conversation_that_ended_again_is_relanded_by_the_next_finalize(rig: AuditRig) -> None:
    # Given a conversation kept as landed by a finalize while it was open again
    body = job_conversation(str(uuid.uuid4()))
    key = rig.land_live(multi_get_shape(body))
    rig.genesys.conversations = [job_conversation(body["conversationId"], ended=False)]
    rig.run(AuditMode.FINALIZE)

    # When it has ended again, with more in it, and the day is finalized again (forced)
    ended_again = reprocessed(body)
    rig.genesys.conversations = [ended_again]
    result = run_workflow(
        rig.make_steps(),
        AuditRequest(mode=AuditMode.FINALIZE, day=DAY, force=True),
        sleep=rig.time.sleep,
        queries=rig.queries,
    )

    # Then the new ended body is landed
    assert result.report is not None
    assert result.report["changed_relanded"] == 1
    assert rig.versions(key) == 2
    assert stored(rig, body) == landed_shape(ended_again)


# -- bounded reports -------------------------------------------------------------------------------------


def test_ids_and_entries_a_report_names_are_cut_to_a_bounded_length(rig: AuditRig) -> None:
    # Given a page with a conversation whose id is 100,000 characters (unlandable) and a stray string
    # as long (the landed ids a report names come from keys the layout parses as UUIDs)
    huge = "x" * 100_000
    unlandable = {**job_conversation(str(uuid.uuid4())), "conversationId": huge}
    rig.genesys.conversations = [unlandable, job_conversation(str(uuid.uuid4()))]
    rig.genesys.rewrite_page = lambda page, body: {**body, "conversations": [*body["conversations"], huge]}

    # When the day is audited
    result = rig.run()

    # Then the report counts them and names each in at most MAX_REPORTED_CHARS characters
    report = result.report
    assert report is not None
    assert (report["unlandable"], report["not_objects"]) == (1, 1)
    named = [*report["unlandable_ids"], *report["not_object_entries"]]
    assert len(named) == 2
    assert all(len(name) <= MAX_REPORTED_CHARS for name in named)
    assert named[0].startswith("xxxx")
    assert named[0].endswith("(100000 chars)")
    assert len(json.dumps(report)) < 10_000
