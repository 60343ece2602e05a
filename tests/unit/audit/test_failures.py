"""What stops or delays an audit: data not yet available, failed or expired jobs, throttling, outages, a job
that never finishes, bad input. Each retries with backoff or fails with a clear error, and a failed
execution never writes a report."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from genesys_bridge import contracts
from genesys_bridge.audit import plan
from genesys_bridge.audit.model import AuditMode
from genesys_bridge.audit.plan import End
from genesys_bridge.audit.workflow import AuditFailed
from tests.unit.audit.conftest import AuditRig
from tests.unit.audit.fakes import job_conversation


def a_day(rig: AuditRig, count: int = 5) -> None:
    rig.genesys.conversations = [job_conversation(str(uuid.uuid4())) for _ in range(count)]


def long_waits(rig: AuditRig) -> list[float]:
    """The workflow's waits (the client's sub-second pacing left out)."""
    return [seconds for seconds in rig.time.sleeps if seconds >= 1]


def no_report(rig: AuditRig) -> bool:
    return rig.keys(contracts.AUDITS_PREFIX) == []


def test_the_audit_waits_until_genesys_data_is_available_past_the_end_of_the_day(rig: AuditRig) -> None:
    # Given Genesys data available only up to the evening of the day, for three checks
    a_day(rig)
    evening = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
    rig.genesys.availability_before = [evening, evening, evening]
    # When the day is audited
    result = rig.run()
    # Then it waited between checks with backoff (5, 10, 20 minutes), then ran the job
    assert long_waits(rig)[:3] == [300, 600, 1200]
    assert rig.genesys.calls["availability"] == 4
    assert result.end is End.COMPLETE
    # And no job was submitted before the data was available
    assert rig.genesys.calls["submit"] == 1


def test_data_that_never_becomes_available_fails_with_a_clear_error_and_no_job(rig: AuditRig) -> None:
    # Given Genesys data stuck before the end of the day
    a_day(rig)
    stuck = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
    rig.genesys.availability_before = [stuck] * 100
    # When the day is audited with a 2-hour limit
    with pytest.raises(AuditFailed) as failed:
        rig.run(availability_max_wait=timedelta(hours=2))
    # Then the execution fails naming what it saw
    assert failed.value.error == "DataNotAvailable"
    assert "2026-11-20T21:00:00.000Z" in failed.value.cause
    assert "not past the end of 2026-11-20" in failed.value.cause
    # And no job was submitted, no report written
    assert rig.genesys.calls["submit"] == 0
    assert no_report(rig)


def test_a_failed_job_is_submitted_again_after_a_backoff(rig: AuditRig) -> None:
    # Given a first job that FAILS and a second that is FULFILLED
    a_day(rig)
    rig.genesys.job_scripts = [["PENDING", "FAILED"], ["PENDING", "FULFILLED"]]
    # When the day is audited
    result = rig.run()
    # Then a second job ran after a backoff, and the day is complete
    assert result.end is End.COMPLETE
    assert len(rig.genesys.jobs) == 2
    assert plan.RESUBMIT_FIRST_WAIT in long_waits(rig)
    assert result.report is not None
    assert (result.report["job_attempts"], result.report["missing_landed"]) == (2, 5)


def test_a_job_that_keeps_failing_fails_the_execution_without_a_report(rig: AuditRig) -> None:
    # Given jobs that always FAIL
    a_day(rig)
    rig.genesys.job_scripts = [["FAILED"]]
    # When the day is audited
    with pytest.raises(AuditFailed) as failed:
        rig.run()
    # Then it tried MAX_JOB_ATTEMPTS jobs with growing waits between, then failed
    assert len(rig.genesys.jobs) == plan.MAX_JOB_ATTEMPTS
    assert failed.value.error == "JobGaveUp"
    assert "ended FAILED (the datalake query failed)" in failed.value.cause
    assert [w for w in long_waits(rig) if w >= plan.RESUBMIT_FIRST_WAIT] == [60, 120]
    # And nothing says the day is done
    assert no_report(rig)


def test_results_that_expire_while_read_are_read_again_from_a_new_job(rig: AuditRig) -> None:
    # Given a first job whose results expire after one page (of 2), and six conversations
    a_day(rig, 6)
    rig.genesys.expire_after_pages = {0: 1}
    # When the day is audited
    result = rig.run()
    # Then a second job was read from its first page, and the report counts the day exactly once
    assert result.end is End.COMPLETE
    assert len(rig.genesys.jobs) == 2
    assert rig.genesys.jobs[1].pages_served == 3
    assert result.report is not None
    assert (result.report["in_genesys"], result.report["missing_landed"]) == (6, 6)


def test_a_throttled_results_page_is_retried_with_backoff(rig: AuditRig) -> None:
    # Given results answered twice with 429 and a Retry-After above what the client sleeps for
    a_day(rig)
    throttled = (429, {"Retry-After": "600"})
    rig.genesys.faults["results"] = [throttled, throttled]
    # When the day is audited
    result = rig.run()
    # Then the page step was retried after the workflow's backoff (30 s, 60 s) and the day completed
    assert result.end is End.COMPLETE
    assert long_waits(rig) == [10, 20, 40, 30, 60]  # three polls, then the two retries
    assert result.report is not None
    assert result.report["missing_landed"] == 5


def test_an_outage_that_outlasts_the_retries_fails_the_execution_and_cancels_the_job(rig: AuditRig) -> None:
    # Given Genesys answering 503 to every status request
    a_day(rig)
    rig.genesys.faults["status"] = [(503, {})] * 1000
    # When the day is audited
    with pytest.raises(AuditFailed) as failed:
        rig.run()
    # Then the poll step was retried RETRY_MAX_ATTEMPTS times, then the execution failed
    assert failed.value.error == "GenesysUnavailable"
    assert [w for w in long_waits(rig) if w in plan.retry_delays()] == plan.retry_delays()
    # And the running job was cancelled, and no report says the day is done
    assert rig.genesys.jobs[0].deleted
    assert no_report(rig)


def test_a_job_that_never_finishes_fails_with_a_clear_error_and_is_cancelled(rig: AuditRig) -> None:
    # Given a job that stays PENDING
    a_day(rig)
    rig.genesys.job_scripts = [["QUEUED", "PENDING"]]
    # When the day is audited with a 30-minute job timeout
    with pytest.raises(AuditFailed) as failed:
        rig.run(job_timeout=timedelta(minutes=30))
    # Then it fails saying so, the job is deleted, and there is no report
    assert failed.value.error == "JobTimedOut"
    assert "still PENDING" in failed.value.cause
    assert "audit_job_timeout_minutes=30" in failed.value.cause
    assert rig.genesys.jobs[0].deleted
    assert no_report(rig)


@pytest.mark.parametrize(
    ("day", "first_day", "message"),
    [
        (date(2026, 11, 22), None, "has not ended yet"),
        (date(2026, 12, 1), None, "has not ended yet"),
        (date(2026, 11, 20), date(2026, 11, 21), "before the configured first day 2026-11-21"),
    ],
)
def test_a_day_that_cannot_be_audited_is_refused_before_any_request(
    rig: AuditRig, day: date, first_day: date | None, message: str
) -> None:
    # Given today is 2026-11-22 (UTC)
    # When a day in the future, today, or before the first day is asked for
    with pytest.raises(AuditFailed) as failed:
        rig.run(AuditMode.AUDIT, day=day, first_day=first_day)
    # Then the execution fails with a clear input error, and Genesys saw nothing
    assert failed.value.error == "AuditInputError"
    assert message in failed.value.cause
    assert sum(rig.genesys.calls.values()) == 0


def test_the_guard_waits_for_older_executions_then_runs(rig: AuditRig) -> None:
    # Given an older execution of the state machine still running for three checks
    a_day(rig)
    older = ("arn:older", datetime(2026, 11, 22, 1, 0, tzinfo=UTC))
    checks: list[int] = []

    def running(state_machine: str) -> list[tuple[str, datetime]]:
        checks.append(1)
        mine = ("arn:mine", datetime(2026, 11, 22, 2, 0, tzinfo=UTC))
        return [older, mine] if len(checks) <= 3 else [mine]

    steps = rig.make_steps(running_executions=running)
    from genesys_bridge.audit.model import AuditRequest

    state = steps.start(
        AuditRequest(mode=AuditMode.AUDIT, day=date(2026, 11, 20)),
        execution="mine",
        execution_id="arn:mine",
        state_machine="arn:machine",
    )
    # When the guard step runs until it lets the execution through
    outcomes = []
    for _ in range(4):
        state = steps.step(plan.Step.GUARD, state)
        outcomes.append(state.next)
    # Then it waited its turn three times, then went on to submit the job
    assert outcomes == ["wait_for_turn"] * 3 + ["submit"]
