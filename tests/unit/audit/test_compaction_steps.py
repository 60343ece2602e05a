"""The audit workflow compacts its day after the report (genesys_bridge.compaction): the marker after the
Parquet, a failed query cleared and run again after the plan's waits, a compaction that keeps failing
fails the execution loudly but keeps the report, and a rerun of such a day compacts only."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from catalog import local
from genesys_bridge import compaction, layout
from genesys_bridge.audit import plan
from genesys_bridge.audit.model import AuditMode, AuditRequest, AuditState
from genesys_bridge.audit.plan import End, Query, Step
from genesys_bridge.audit.workflow import AuditFailed, run_workflow
from tests.unit.audit.conftest import BUCKET, DAY, AuditRig
from tests.unit.audit.fakes import job_conversation
from tests.unit.audit.test_audit_mode import REPORT, ids

MARKER = layout.compaction_marker_key(DAY)


def export(rig: AuditRig, folder: Path) -> Path:
    """The bucket's objects under folder, with their modification times (as `aws s3 sync` does)."""
    for key in rig.keys(""):
        path = folder / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rig.object(key)["Body"].read())
    return folder


class Flaky:
    """The compaction query failing `failures` times (after writing part of its output, as a failed
    UNLOAD may), then the real one."""

    def __init__(self, rig: AuditRig, failures: int) -> None:
        self.rig, self.failures, self.calls = rig, failures, 0

    def __call__(self, query: Query, state: AuditState) -> Mapping[str, Any]:
        self.calls += 1
        if self.calls <= self.failures:
            self.rig.s3.put_object(Bucket=BUCKET, Key=layout.compacted_key(DAY, 7), Body=b"half a file")
            raise RuntimeError("Athena: HIVE_CURSOR_ERROR (query failed)")
        return self.rig.queries(query, state)


def run(rig: AuditRig, queries: Any, *, force: bool = False, seen: list[str] | None = None) -> Any:
    return run_workflow(
        rig.make_steps(),
        AuditRequest(mode=AuditMode.AUDIT, day=DAY, force=force),
        sleep=rig.time.sleep,
        queries=queries,
        on_step=(lambda step, _state: seen.append(step.value)) if seen is not None else None,
    )


def test_an_audited_day_ends_compacted_with_its_marker_over_its_parquet(
    rig: AuditRig, tmp_path: Path
) -> None:
    # Given a day of five conversations in Genesys, none landed
    rig.genesys.conversations = [job_conversation(cid) for cid in ids(5)]
    # When it is audited
    result = rig.run()
    # Then the report, the Parquet and, written after it, the marker are in the bucket
    assert result.end is End.COMPLETE
    parquet = rig.keys(layout.COMPACTED.day_prefix(DAY))
    assert parquet == [layout.compacted_key(DAY)]
    assert rig.object(MARKER)["LastModified"] >= rig.object(parquet[0])["LastModified"]
    marker = json.loads(rig.object(MARKER)["Body"].read())
    assert compaction.valid_marker(marker, DAY) == marker
    assert (marker["landed_objects"], marker["rows"], marker["mode"]) == (5, 5, "audit")
    assert marker["execution"] == result.state.execution
    # And a copy of the bucket reads the day from that Parquet, the same rows as from its JSON
    folder = export(rig, tmp_path / "bucket")
    assert sorted(local.survey(folder).compacted) == [DAY]
    landed_only = tmp_path / "json"
    for path in (folder / layout.CONVERSATIONS.prefix).rglob("*.json"):
        copied = landed_only / path.relative_to(folder)
        copied.parent.mkdir(parents=True, exist_ok=True)
        copied.write_bytes(path.read_bytes())
    query = "SELECT * FROM session_metrics"
    assert sorted(local.run_query(folder, query).rows, key=repr) == sorted(
        local.run_query(landed_only, query).rows, key=repr
    )


def test_a_failed_compaction_query_is_cleared_and_run_again_after_the_plans_waits(rig: AuditRig) -> None:
    # Given a day to audit and a compaction query that fails twice, leaving a file behind each time
    rig.genesys.conversations = [job_conversation(cid) for cid in ids(3)]
    flaky = Flaky(rig, failures=2)
    seen: list[str] = []
    # When the day is audited
    result = run(rig, flaky, seen=seen)
    # Then the compact step ran before each attempt, waiting the plan's retry delays between them
    assert result.end is End.COMPLETE
    assert flaky.calls == 3
    assert seen[seen.index(Step.REPORT) :] == ["report", "compact", "compact", "compact", "commit"]
    assert rig.time.sleeps[-2:] == plan.retry_delays()[:2]
    # And what the failed attempts wrote is gone: the day holds the last attempt's file, under its marker
    assert rig.keys(layout.COMPACTED.day_prefix(DAY)) == [layout.compacted_key(DAY)]
    assert json.loads(rig.object(MARKER)["Body"].read())["rows"] == 3


def test_a_compaction_that_keeps_failing_fails_the_execution_but_keeps_the_report(rig: AuditRig) -> None:
    # Given a compaction query that never succeeds
    rig.genesys.conversations = [job_conversation(cid) for cid in ids(3)]
    broken = Flaky(rig, failures=1000)
    # When the day is audited
    with pytest.raises(AuditFailed) as failed:
        run(rig, broken)
    # Then the execution fails with CompactionFailed after the first attempt and the plan's retries
    assert failed.value.error == "CompactionFailed"
    assert "failed 7 times, the last with RuntimeError: Athena: HIVE_CURSOR_ERROR" in failed.value.cause
    assert broken.calls == 1 + plan.RETRY_MAX_ATTEMPTS
    # And the day's report is kept, complete; the day has no marker, so the views read its JSON
    assert json.loads(rig.object(REPORT)["Body"].read())["status"] == "complete"
    assert MARKER not in rig.keys(layout.COMPACTION_MARKERS.prefix)
    # And a rerun (no force) compacts only: no details job, straight through the guard to the compaction
    jobs = len(rig.genesys.jobs)
    seen: list[str] = []
    result = run(rig, rig.queries, seen=seen)
    assert seen == ["start", "guard", "compact", "commit"]
    assert (result.end, len(rig.genesys.jobs)) == (End.COMPLETE, jobs)
    assert MARKER in rig.keys(layout.COMPACTION_MARKERS.prefix)
    # And one more rerun finds the day done
    assert run(rig, rig.queries).end is End.ALREADY_DONE


def test_a_day_whose_marker_is_older_than_its_report_is_compacted_again(rig: AuditRig) -> None:
    # Given an audited, compacted day, then audited again by force (a new report, a new compaction)
    rig.genesys.conversations = [job_conversation(cid) for cid in ids(2)]
    rig.run()
    first = json.loads(rig.object(MARKER)["Body"].read())
    rig.time.sleep(60)
    run(rig, rig.queries, force=True)
    second = json.loads(rig.object(MARKER)["Body"].read())
    assert compaction.parse_time(second["compacted_at"]) > compaction.parse_time(first["compacted_at"])
    # When the marker is removed (a compaction interrupted before its commit)
    rig.s3.delete_object(Bucket=BUCKET, Key=MARKER)
    # Then the next run of the day compacts it and nothing else
    seen: list[str] = []
    run(rig, rig.queries, seen=seen)
    assert seen == ["start", "guard", "compact", "commit"]
