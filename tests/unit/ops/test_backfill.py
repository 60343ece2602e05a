"""`python -m ops backfill` (make backfill): the command as a user runs it, with the in-process executor
(the workflow's own step code) against moto S3 and the scripted Genesys jobs API, and the Step Functions
executor against moto."""

from __future__ import annotations

import argparse
import io
import json
import time
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import boto3
import pytest
from moto import mock_aws

from genesys_bridge.audit.model import AuditMode
from ops.backfill import Connection, Environment, Wiring
from ops.backfill_executors import InProcessExecutor, Progress, Status, StepFunctionsExecutor
from ops.cli import main
from ops.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from tests.unit.audit.conftest import AuditRig
from tests.unit.audit.fakes import job_conversation

DAYS = {"2026-11-17": 2, "2026-11-18": 3, "2026-11-19": 1}


@pytest.fixture
def days(rig: AuditRig) -> AuditRig:
    """Three days in Genesys (today is 2026-11-22), each job returning the conversations of its day."""
    rig.genesys.by_start_day = True
    rig.genesys.conversations = [
        job_conversation(str(uuid.uuid4()), start=f"{day}T10:00:00.000Z")
        for day, count in DAYS.items()
        for _ in range(count)
    ]
    return rig


class Backfill:
    """Runs the command against the rig, as `make backfill` would against AWS."""

    def __init__(self, rig: AuditRig, *, first_day: date | None = None, executor: Any = None) -> None:
        self.rig = rig
        self.between_polls: list[Any] = []  # callables run (once each) at the next polls
        self.first_day = first_day
        self.executor = executor or InProcessExecutor(
            rig.make_steps, sleep=rig.time.sleep, queries=rig.queries
        )
        self.out = io.StringIO()

    def environment(self, args: argparse.Namespace) -> Environment:
        reader = self.rig.make_steps()
        return Environment(
            name="test",
            first_day=self.first_day,
            finalize_lag_days=4,
            connect=lambda: Connection(executor=self.executor, reports=reader.read_report),
        )

    def __call__(self, *argv: str) -> int:
        wiring = Wiring(environment=self.environment, now=self.rig.time.now, sleep=self._sleep, out=self.out)
        return main(["--environment", "test", "backfill", *argv], backfill_wiring=wiring)

    def _sleep(self, _seconds: float) -> None:
        if self.between_polls:
            self.between_polls.pop(0)()
        time.sleep(0.005)

    @property
    def lines(self) -> list[str]:
        return self.out.getvalue().splitlines()


def test_each_day_is_audited_oldest_first_with_progress_and_totals(days: AuditRig) -> None:
    # When three days are backfilled
    backfill = Backfill(days)
    status = backfill("--from", "2026-11-17", "--to", "2026-11-19", "--mode", "audit")
    # Then every day has a complete report and every conversation is landed
    assert status == EXIT_OK
    assert days.keys("audits/") == [f"audits/conversation_date={day}/audit.json" for day in DAYS]
    assert len(days.keys("conversations/")) == sum(DAYS.values())
    # And the jobs ran oldest day first, one at a time
    assert [job.body["interval"][:10] for job in days.genesys.jobs] == list(DAYS)
    # And the progress says each day's figures, then the totals
    assert backfill.lines[0].startswith("backfill test 2026-11-17..2026-11-19: 3 days, 0 complete already")
    assert backfill.lines[1].startswith("[1/3] 2026-11-17 audit: complete, 2 in Genesys, 2 landed")
    assert backfill.lines[3].startswith("[3/3] 2026-11-19 audit: complete, 1 in Genesys, 1 landed")
    assert "6 conversations in Genesys, 6 landed" in backfill.lines[-1]


def test_days_already_complete_are_skipped_unless_forced(days: AuditRig) -> None:
    # Given the first two days backfilled already
    assert Backfill(days)("--from", "2026-11-17", "--to", "2026-11-18", "--mode", "audit") == EXIT_OK
    jobs_before = len(days.genesys.jobs)
    # When the three days are backfilled
    again = Backfill(days)
    assert again("--from", "2026-11-17", "--to", "2026-11-19", "--mode", "audit") == EXIT_OK
    # Then only the third day ran
    assert "2 complete already (skipped), 1 to run" in again.lines[0]
    assert len(days.genesys.jobs) == jobs_before + 1
    # And with --force all three run again
    forced = Backfill(days)
    assert forced("--from", "2026-11-17", "--to", "2026-11-19", "--mode", "audit", "--force") == EXIT_OK
    assert len(days.genesys.jobs) == jobs_before + 1 + 3


def test_a_dry_run_lists_the_days_and_starts_nothing(days: AuditRig) -> None:
    backfill = Backfill(days)
    assert backfill("--from", "2026-11-17", "--to", "2026-11-19", "--dry-run") == EXIT_OK
    assert days.genesys.jobs == []
    assert days.keys("audits/") == []
    # (auto: days at least finalize_lag_days old are finalized, more recent ones audited)
    assert backfill.lines[1:] == [
        "  2026-11-17 finalize: would start",
        "  2026-11-18 finalize: would start",
        "  2026-11-19 audit: would start",
    ]


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        ("2026-11-19", "2026-11-17", "--from 2026-11-19 is after --to 2026-11-17"),
        ("2026-11-20", "2026-11-22", "--to: day 2026-11-22 has not ended yet"),
        ("2026-11-20", "2026-12-05", "interval lies in the future"),
        ("2026-11-01", "2026-11-19", "--from: day 2026-11-01 is before the configured first day 2026-11-10"),
    ],
)
def test_bad_ranges_exit_2_with_a_clear_error_and_start_nothing(
    days: AuditRig, capsys: pytest.CaptureFixture[str], first: str, last: str, message: str
) -> None:
    backfill = Backfill(days, first_day=date(2026, 11, 10))
    assert backfill("--from", first, "--to", last) == EXIT_USAGE
    assert message in capsys.readouterr().err
    assert days.genesys.jobs == []


class InterruptedAfter:
    """An executor that is interrupted (Ctrl-C) when asked to start its n-th day."""

    def __init__(self, inner: InProcessExecutor, starts: int) -> None:
        self.inner, self.starts = inner, starts

    def running(self) -> dict[Any, str]:
        return self.inner.running()

    def start(self, day: date, mode: AuditMode, *, force: bool) -> str:
        self.starts -= 1
        if self.starts < 0:
            raise KeyboardInterrupt
        return self.inner.start(day, mode, force=force)

    def progress(self, handle: str) -> Progress:
        return self.inner.progress(handle)


def test_an_interrupted_backfill_resumes_where_it_stopped(days: AuditRig) -> None:
    # Given a backfill interrupted when it was about to start its second day
    interrupted = Backfill(
        days, executor=InterruptedAfter(InProcessExecutor(days.make_steps, sleep=days.time.sleep), starts=1)
    )
    assert interrupted("--from", "2026-11-17", "--to", "2026-11-19", "--mode", "audit") == EXIT_INTERRUPTED
    assert "Run the same command again to resume" in interrupted.out.getvalue()
    assert len(days.genesys.jobs) == 1
    # When the same command is run again
    resumed = Backfill(days)
    assert resumed("--from", "2026-11-17", "--to", "2026-11-19", "--mode", "audit") == EXIT_OK
    # Then the finished day is skipped and the other two run: each day once in all
    assert "1 complete already (skipped), 2 to run" in resumed.lines[0]
    assert [job.body["interval"][:10] for job in days.genesys.jobs] == list(DAYS)
    assert len(days.keys("conversations/")) == sum(DAYS.values())


def test_a_failed_day_is_reported_the_others_run_and_the_exit_status_says_so(days: AuditRig) -> None:
    # Given Genesys refusing the first job submission (a 500: not retried)
    days.genesys.faults["submit"] = [(500, {})]
    backfill = Backfill(days)
    # When three days are backfilled
    status = backfill("--from", "2026-11-17", "--to", "2026-11-19", "--mode", "audit")
    # Then the first day failed, without a report, and the other two are complete
    assert status == EXIT_FAILED
    assert "2026-11-17 audit: FAILED (GenesysApiError" in backfill.out.getvalue()
    assert days.keys("audits/") == [
        f"audits/conversation_date={day}/audit.json" for day in ("2026-11-18", "2026-11-19")
    ]
    assert backfill.lines[-1] == "failed days (run again to retry): 2026-11-17"


def test_two_days_run_at_a_time_with_parallel_2(days: AuditRig) -> None:
    backfill = Backfill(days)
    assert (
        backfill("--from", "2026-11-17", "--to", "2026-11-19", "--mode", "audit", "--parallel", "2")
        == EXIT_OK
    )
    assert "2 at a time" in backfill.lines[0]
    assert len(days.keys("audits/")) == 3


# --- the Step Functions executor, against moto ------------------------------------------------------


@pytest.fixture
def sfn() -> Iterator[tuple[Any, str]]:
    with mock_aws():
        client = boto3.client("stepfunctions", region_name="eu-west-1")
        definition = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 3600, "End": True}}}
        arn = client.create_state_machine(
            name="GenesysAnalyticsBridge-test-audit",
            definition=json.dumps(definition),
            roleArn="arn:aws:iam::123456789012:role/audit",
        )["stateMachineArn"]
        yield client, arn


def test_step_functions_executions_are_found_again_by_their_day_and_mode(sfn: tuple[Any, str]) -> None:
    client, arn = sfn
    executor = StepFunctionsExecutor(client, arn)
    # Given one execution started by a backfill and one by the daily schedule (days_ago + scheduled_time)
    handle = executor.start(date(2026, 11, 18), AuditMode.FINALIZE, force=False)
    client.start_execution(
        stateMachineArn=arn,
        name="scheduled",
        input=json.dumps({"mode": "audit", "days_ago": 1, "scheduled_time": "2026-11-22T01:15:00Z"}),
    )
    # Then both are known as running, by the day and mode they audit
    running = executor.running()
    assert running[(date(2026, 11, 18), AuditMode.FINALIZE)] == handle
    assert (date(2026, 11, 21), AuditMode.AUDIT) in running
    assert executor.progress(handle) == Progress(Status.RUNNING)
    # And an execution that stopped is reported with its status
    client.stop_execution(executionArn=handle, error="Stopped", cause="by an operator")
    assert executor.progress(handle).status is Status.ABORTED


def test_a_resumed_backfill_waits_for_the_execution_already_running_instead_of_starting_another(
    days: AuditRig, sfn: tuple[Any, str]
) -> None:
    client, arn = sfn
    executor = StepFunctionsExecutor(client, arn)
    # Given an execution for 2026-11-19 still running from an interrupted backfill
    earlier = executor.start(date(2026, 11, 19), AuditMode.AUDIT, force=False)
    backfill = Backfill(days, executor=executor)
    # When the dry run is asked, Then it says it would wait for it
    assert backfill("--from", "2026-11-19", "--to", "2026-11-19", "--mode", "audit", "--dry-run") == EXIT_OK
    assert "2026-11-19 audit: running, would wait for it" in backfill.out.getvalue()
    # And a real run attaches to it (here it ends without a report: moto runs no Lambda task)
    backfill.between_polls.append(lambda: client.stop_execution(executionArn=earlier))
    assert backfill("--from", "2026-11-19", "--to", "2026-11-19", "--mode", "audit") == EXIT_FAILED
    assert len(client.list_executions(stateMachineArn=arn)["executions"]) == 1
