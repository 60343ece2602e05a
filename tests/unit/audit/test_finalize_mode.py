"""Mode finalize: re-land what changed since it landed, judged by ETag alone (no GET per object)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from genesys_bridge import contracts
from genesys_bridge.audit.bodies import landed_bytes
from genesys_bridge.audit.model import AuditMode
from genesys_bridge.audit.store import content_md5
from genesys_bridge.layout import canonical_form, result_key
from genesys_bridge.metrics import MetricName
from tests.unit.audit.conftest import AuditRig
from tests.unit.audit.fakes import job_conversation, multi_get_shape, reordered_lists


def reprocessed(body: dict[str, Any]) -> dict[str, Any]:
    """The conversation after Genesys' nightly reprocessing corrected a metric."""
    changed = json.loads(json.dumps(body))
    changed["participants"][1]["sessions"][0]["metrics"][0]["value"] += 1000
    return changed


def test_changed_conversations_are_relanded_under_the_same_key_and_unchanged_ones_untouched(
    rig: AuditRig,
) -> None:
    # Given five conversations landed by the live path, two of which Genesys has changed since
    landed = [job_conversation(str(uuid.uuid4())) for _ in range(5)]
    for body in landed:
        rig.land_live(multi_get_shape(body))
    now = [reprocessed(body) if index in (1, 3) else body for index, body in enumerate(landed)]
    rig.genesys.conversations = now
    rig.s3_calls.clear()

    # When the day is finalized
    result = rig.run(AuditMode.FINALIZE)
    during_run = list(rig.s3_calls)

    # Then the two changed ones hold their new body, under the same key, the old one kept as a version
    for index in (1, 3):
        key = result_key(now[index])
        assert json.loads(rig.object(key)["Body"].read()) == canonical_form(multi_get_shape(now[index]))
        assert rig.versions(key) == 2
        assert rig.object(key)["Metadata"][contracts.RESULT_METADATA_SOURCE] == contracts.SOURCE_DETAILS_JOB
    # And the three unchanged ones were not written
    for index in (0, 2, 4):
        assert rig.versions(result_key(now[index])) == 1
    # And no landed conversation was read back: the comparison used the listing's ETags
    reads = [key for name, key in during_run if name in ("GetObject", "HeadObject")]
    assert [key for key in reads if key.startswith("conversations/")] == []
    writes = [key for name, key in during_run if name == "PutObject" and key.startswith("conversations/")]
    assert sorted(writes) == sorted(result_key(now[index]) for index in (1, 3))
    # And the report counts it
    assert result.report is not None
    counts = {
        name: result.report[name]
        for name in ("in_genesys", "already_landed", "changed_relanded", "unchanged")
    }
    assert counts == {"in_genesys": 5, "already_landed": 5, "changed_relanded": 2, "unchanged": 3}
    assert rig.metrics.counts[MetricName.AUDIT_CHANGED_CONVERSATIONS] == 2


def test_s3_requests_of_a_finalize_are_a_handful_per_page_not_one_per_conversation(rig: AuditRig) -> None:
    # Given 40 landed conversations, none changed
    landed = [job_conversation(str(uuid.uuid4())) for _ in range(40)]
    for body in landed:
        rig.land_live(multi_get_shape(body))
    rig.genesys.conversations = landed
    rig.s3_calls.clear()

    # When the day is finalized in pages of 20
    result = rig.run(AuditMode.FINALIZE, page_size=20)

    # Then S3 saw a few requests per page and none per conversation
    assert result.report is not None
    operations = [name for name, _ in rig.s3_calls]
    assert operations == [
        "GetObject",  # start: is the day already done?
        "ListObjectsV2",  # inventory: the day's ids and ETags (1,000 keys a page)
        "PutObject",  # inventory kept for the page steps
        "GetObject",  # page 1 reads the inventory (a warm function keeps it)
        "PutObject",  # page 1's cursor recorded (a conditional write: a cycle fails the execution)
        "PutObject",  # page 1 ledger
        "PutObject",  # page 2 ledger
        "GetObject",  # report: written by this execution already?
        "ListObjectsV2",  # report: the page ledgers
        "GetObject",
        "GetObject",
        "PutObject",  # the report
        "ListObjectsV2",  # clean-up of the scratch objects
        "DeleteObjects",
        "DeleteObject",  # compact: the day's compaction marker first,
        "ListObjectsV2",  # then its Parquet files (none yet): the conversations',
        "ListObjectsV2",  # the session metrics'
        "ListObjectsV2",  # and the segments' folder,
        "ListObjectsV2",  # and the landed objects the query will read (their fingerprint)
        "ListObjectsV2",  # commit, after the queries (Athena's, not the audit's): the Parquet they wrote,
        "ListObjectsV2",  # in the three folders
        "ListObjectsV2",
        "PutObject",  # the day's compaction marker
        "GetObject",  # (the in-process runner reading the report it returns)
    ]
    # And the report's own count is what reached S3 up to and including its PUT
    assert result.report["s3_requests"] == 12
    assert result.report["unchanged"] == 40


def test_a_job_body_with_participant_attributes_matches_its_live_landed_body(rig: AuditRig) -> None:
    # Given a conversation landed by the live path from the multi-get (no participant attributes)
    body = job_conversation(str(uuid.uuid4()))
    assert all("attributes" in participant for participant in body["participants"])
    key = rig.land_live(multi_get_shape(body))
    # When the job (which returns participant attributes) is compared with it
    assert content_md5(landed_bytes(body)) == rig.s3.head_object(Bucket="results", Key=key)["ETag"].strip('"')
    rig.genesys.conversations = [body]
    result = rig.run(AuditMode.FINALIZE)
    # Then it is unchanged: one documented body per key, whichever endpoint landed it
    assert result.report is not None
    assert (result.report["unchanged"], result.report["changed_relanded"]) == (1, 0)
    assert "attributes" not in rig.object(key)["Body"].read().decode()


def test_a_job_body_listing_participants_sessions_segments_and_metrics_in_another_order_is_unchanged(
    rig: AuditRig,
) -> None:
    # Given a conversation landed by the live path, and the job returning the same conversation with
    # every participant, session, segment and metric list in reverse
    body = job_conversation(str(uuid.uuid4()))
    key = rig.land_live(multi_get_shape(body))
    reordered = reordered_lists(body)
    assert reordered["participants"] != body["participants"]
    rig.genesys.conversations = [reordered]

    # When the day is finalized
    result = rig.run(AuditMode.FINALIZE)

    # Then the conversation is unchanged and not written again: the lists land in one canonical order
    assert result.report is not None
    assert (result.report["unchanged"], result.report["changed_relanded"]) == (1, 0)
    assert rig.versions(key) == 1


def test_an_audit_counts_changed_conversations_but_leaves_them_for_finalize(rig: AuditRig) -> None:
    # Given a landed conversation that changed since
    body = job_conversation(str(uuid.uuid4()))
    key = rig.land_live(multi_get_shape(body))
    rig.genesys.conversations = [reprocessed(body)]
    # When the day is audited (not finalized)
    result = rig.run(AuditMode.AUDIT)
    # Then it is reported as differing, and not written
    assert result.report is not None
    assert (result.report["differing"], result.report["changed_relanded"]) == (1, 0)
    assert rig.versions(key) == 1


def test_finalize_also_lands_what_is_missing_even_if_still_open(rig: AuditRig) -> None:
    # Given a conversation never landed, still open four days on (an email thread)
    body = job_conversation(str(uuid.uuid4()), ended=False)
    rig.genesys.conversations = [body]
    # When the day is finalized
    result = rig.run(AuditMode.FINALIZE)
    # Then it is landed as Genesys has it
    assert result.report is not None
    assert result.report["missing_landed"] == 1
    assert json.loads(rig.object(result_key(body))["Body"].read()) == canonical_form(multi_get_shape(body))
