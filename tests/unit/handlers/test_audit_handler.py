"""The audit Lambda handler, driven as the state machine drives it: one invocation per step, the state
passed on, Wait states skipped (the scripted job needs no time). moto for AWS, `responses` for Genesys."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses

from catalog.compact import BucketCompaction
from genesys_bridge import contracts, layout
from genesys_bridge.audit import plan
from genesys_bridge.audit.model import AuditState
from genesys_bridge.audit.plan import End, Query, Step, Wait
from genesys_bridge.layout import canonical_form
from lambdas.audit import handler as audit
from tests.unit.audit.fakes import FakeGenesysJobs, job_conversation, multi_get_shape
from tests.unit.domain.builders import BUCKET, Aws, LambdaContextStub
from tests.unit.handlers.test_ingest_handler import emitted_metrics
from tests.unit.handlers.test_processor_handler import aws_secret

YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).date()


@pytest.fixture
def audit_env(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Aws:
    aws.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for name, value in {
        contracts.RESULTS_BUCKET_NAME: BUCKET,
        contracts.GENESYS_REGION: "mypurecloud.ie",
        contracts.GENESYS_CREDENTIALS_SECRET_ARN: aws_secret(aws),
        contracts.AUDIT_MAX_REQUESTS_PER_MINUTE: "6000",
        contracts.AUDIT_FIRST_DAY: "2026-01-01",
        contracts.AUDIT_AVAILABILITY_MAX_WAIT_HOURS: "24",
        contracts.AUDIT_JOB_TIMEOUT_MINUTES: "180",
        contracts.AUDIT_MAX_CONCURRENT_EXECUTIONS: "1",
    }.items():
        monkeypatch.setenv(name, value)
    # Pages of two, so three conversations take two page steps (the function reads RESULTS_PAGE_SIZE).
    monkeypatch.setattr(plan, "RESULTS_PAGE_SIZE", 2)
    return aws


@pytest.fixture
def genesys() -> Iterator[FakeGenesysJobs]:
    fake = FakeGenesysJobs(conversations=[], availability=datetime.now(UTC))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.install(mock)
        yield fake


def drive(start_input: dict[str, Any], s3: Any = None) -> tuple[list[str], dict[str, Any]]:
    """Invoke the handler step after step, following plan.FLOW as the state machine does; the query the
    state machine has Athena run runs on DuckDB over the same bucket."""
    context = {
        "execution": "exec-1",
        "execution_id": None,
        "state_machine": None,
        "started_at": datetime.now(UTC).isoformat(),
    }
    state = audit.handler({"step": "start", "input": start_input, "context": context}, LambdaContextStub())
    current, seen = Step.START, ["start"]
    while True:
        target = next(t for t in plan.FLOW[current] if t.value == state["next"])
        if isinstance(target, End):
            return seen, state
        target = plan.WAIT_THEN[target] if isinstance(target, Wait) else target
        if isinstance(target, Query):
            result = BucketCompaction(s3, BUCKET)(target, AuditState.model_validate(state))
            seen.append(target.value)
            state, target = {**state, plan.QUERY_RESULT: result}, plan.QUERY_THEN[target]
        current = target
        state = json.loads(json.dumps(state))  # as Step Functions passes it: JSON
        state = audit.handler({"step": current.value, "state": state}, LambdaContextStub())
        seen.append(current.value)


def test_the_handler_runs_each_step_and_the_day_gets_landed_and_reported(
    audit_env: Aws, genesys: FakeGenesysJobs, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given three conversations of yesterday in Genesys, none landed
    bodies = [
        job_conversation(str(uuid.uuid4()), start=f"{YESTERDAY.isoformat()}T08:00:00.000Z") for _ in range(3)
    ]
    genesys.conversations = bodies
    # When the scheduled input for yesterday's audit is run step by step through the handler
    scheduled = {"mode": "audit", "days_ago": 1, "scheduled_time": datetime.now(UTC).isoformat()}
    seen, final = drive(scheduled, audit_env.s3)
    # Then the steps ran in the plan's order, reading two results pages, and compacted the day
    assert seen[:4] == ["start", "availability", "guard", "submit"]
    assert seen[-6:] == ["page", "page", "report", "compact", "compaction", "commit"]
    assert final["next"] == End.COMPLETE
    # And the conversations landed, and the report is in the bucket
    keys = audit_env.object_keys()
    assert f"audits/conversation_date={YESTERDAY}/audit.json" in keys
    assert layout.compaction_marker_key(YESTERDAY) in keys
    landed = [key for key in keys if key.startswith("conversations/")]
    assert len(landed) == 3
    body = json.loads(audit_env.s3.get_object(Bucket=BUCKET, Key=landed[0])["Body"].read())
    assert body in [canonical_form(multi_get_shape(b)) for b in bodies]
    # And the report step emitted the audit metrics
    metrics = emitted_metrics(capsys.readouterr().out)
    assert metrics["AuditMissingConversations"] == 3
    assert metrics["AuditChangedConversations"] == 0


# A refused input fails before any step emits a metric; Powertools warns that it has none to flush.
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_a_bad_input_fails_the_invocation_with_an_input_error(
    audit_env: Aws, genesys: FakeGenesysJobs
) -> None:
    from genesys_bridge.audit.errors import AuditInputError

    with pytest.raises(AuditInputError, match="has not ended yet"):
        drive({"mode": "audit", "day": datetime.now(UTC).date().isoformat()})
    with pytest.raises(AuditInputError, match="before the configured first day 2026-01-01"):
        drive({"mode": "finalize", "day": "2025-12-31"})
    with pytest.raises(AuditInputError, match="invalid audit input"):
        drive({"mode": "sometimes", "day": "2026-03-01"})
    assert sum(genesys.calls.values()) == 0


AUDIT_PROBE = """
import json, socket, sys
attempts = []
def refuse(*args, **kwargs):
    attempts.append(repr(args[1:] if len(args) > 1 else args))
    raise OSError("network is off in this probe")
socket.socket.connect = refuse
socket.getaddrinfo = refuse
sys.path[:0] = [".", "shared"]
import lambdas.audit.handler
from genesys_bridge import runtime
print(json.dumps({"attempts": attempts, "cached": sorted(runtime._cache),
                  "callable": callable(lambdas.audit.handler.handler)}))
"""


def test_importing_the_audit_handler_with_an_empty_environment_touches_nothing() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    # Given a fresh interpreter with no environment and every socket refused, When the handler is imported
    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", AUDIT_PROBE],
        cwd=Path(__file__).resolve().parents[3],
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Then it made no connection and built nothing (settings, clients and secret wait for an invocation)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "attempts": [],
        "cached": [],
        "callable": True,
    }
