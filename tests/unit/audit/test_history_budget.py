"""An audit execution's history: Step Functions fails one at 25,000 events, so the waits an environment
may configure and the pages of the largest day must fit in it (genesys_bridge.audit.plan)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from genesys_bridge import contracts, layout
from genesys_bridge.audit import plan
from genesys_bridge.audit.model import AuditMode, AuditRequest, AuditState
from genesys_bridge.audit.plan import End, Query, Step, Wait
from genesys_bridge.audit.runtime import config_from_settings
from genesys_bridge.audit.workflow import AuditFailed, run_workflow
from genesys_bridge.settings import AuditSettings
from tests.unit.audit.conftest import DAY, AuditRig
from tests.unit.audit.fakes import job_conversation


def history_events(trace: list[tuple[Step, AuditState]]) -> int:
    """The events the state machine writes for a run of these steps: its start and end, each step's task
    (and the Choice after a step with more than one way on), each Wait, each query's tasks (an Athena
    UNLOAD per compacted dataset, as the state machine chains them), and the Succeed state."""
    events = 2
    for step, state in trace:
        events += plan.TASK_EVENTS + (plan.CHOICE_EVENTS if len(plan.FLOW[step]) > 1 else 0)
        if any(isinstance(t, Wait) and t.value == state.next for t in plan.FLOW[step]):
            events += plan.WAIT_EVENTS
        if any(isinstance(t, Query) and t.value == state.next for t in plan.FLOW[step]):
            events += plan.SYNC_TASK_EVENTS * len(layout.COMPACTED_DATASETS)
        if state.next == End.COMPLETE:
            events += plan.SUCCEED_EVENTS
    return events


def test_the_longest_waits_an_environment_may_configure_leave_the_pages_their_share() -> None:
    # Given an execution that waits as long as the config allows for data, for its turn, and for each
    # of its jobs
    besides_pages = plan.events_besides_pages(
        availability_wait_seconds=plan.MAX_AVAILABILITY_WAIT_HOURS * 3600,
        job_wait_seconds=plan.MAX_JOB_TIMEOUT_MINUTES * 60,
    )
    # Then that fits what the history keeps aside, and with it every page of the largest day
    assert besides_pages <= plan.RESERVED_EVENTS
    assert besides_pages + plan.MAX_RESULTS_PAGES * plan.PAGE_EVENTS <= plan.HISTORY_EVENT_LIMIT
    assert plan.LARGEST_DAY == plan.MAX_RESULTS_PAGES * plan.RESULTS_PAGE_SIZE


def test_a_busy_day_fits_only_with_pages_of_a_hundred_conversations_or_more() -> None:
    # Pages of 10 (the lowest the config used to accept) leave room for 20,000 conversations a day; the
    # fixed page size leaves room for a hundred times that
    pages_room = (plan.HISTORY_EVENT_LIMIT - plan.RESERVED_EVENTS) // plan.PAGE_EVENTS
    assert pages_room * 10 < 200_000 <= pages_room * 100 <= plan.LARGEST_DAY
    assert plan.RESULTS_PAGE_SIZE >= 100


def test_the_events_counted_for_the_waits_and_pages_are_those_of_a_run(rig: AuditRig) -> None:
    # Given data available after three checks, a job fulfilled at its fourth poll, and 7 conversations
    # read two to a page, each page paced (a request a minute)
    rig.genesys.conversations = [job_conversation(str(uuid.uuid4())) for _ in range(7)]
    rig.genesys.availability_before = [datetime(2026, 11, 20, 21, 0, tzinfo=UTC)] * 3
    rig.genesys.job_scripts = [["QUEUED", "RUNNING", "RUNNING", "FULFILLED"]]
    trace: list[tuple[Step, AuditState]] = []
    # When the day is audited
    result = run_workflow(
        rig.make_steps(max_requests_per_minute=1),
        AuditRequest(mode=AuditMode.AUDIT, day=DAY),
        sleep=rig.time.sleep,
        queries=rig.queries,
        on_step=lambda step, state: trace.append((step, state)),
    )
    assert result.end is End.COMPLETE
    # Then the history the run writes is what plan.events_besides_pages counts for those waits, plus a
    # page's events per page (the last page goes on to the report without a pacing Wait)
    availability_waited = sum(
        plan.backoff(plan.AVAILABILITY_FIRST_WAIT, plan.AVAILABILITY_MAX_WAIT, n) for n in range(3)
    )
    job_waited = sum(plan.backoff(plan.POLL_FIRST_WAIT, plan.POLL_MAX_WAIT, n) for n in range(4))
    pages = len([step for step, _ in trace if step is Step.PAGE])
    assert pages == 4
    expected = (
        plan.events_besides_pages(
            availability_wait_seconds=availability_waited,
            job_wait_seconds=job_waited,
            turn_wait_seconds=0,
            jobs=1,
            compaction_attempts=1,
        )
        + pages * plan.PAGE_EVENTS
        - plan.WAIT_EVENTS
    )
    assert history_events(trace) == expected


def test_a_day_past_the_pages_one_history_holds_fails_saying_so(
    rig: AuditRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a day with more results pages than an execution may read
    monkeypatch.setattr(plan, "MAX_RESULTS_PAGES", 2)
    rig.genesys.conversations = [job_conversation(str(uuid.uuid4())) for _ in range(5)]
    # When the day is audited two to a page
    with pytest.raises(AuditFailed) as failed:
        rig.run(page_size=2)
    # Then it fails before Step Functions would, naming the limit, and claims nothing for the day
    assert failed.value.error == "PagingError"
    assert "still had a cursor after 2 pages, the most one execution's history holds" in failed.value.cause
    assert rig.keys("audits/") == []


SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:genesys-AbCdEf"


def audit_environment(**overrides: str) -> dict[str, str]:
    return {
        contracts.RESULTS_BUCKET_NAME: "results",
        contracts.GENESYS_REGION: "mypurecloud.ie",
        contracts.GENESYS_CREDENTIALS_SECRET_ARN: SECRET_ARN,
        contracts.AUDIT_MAX_REQUESTS_PER_MINUTE: "30",
        contracts.AUDIT_AVAILABILITY_MAX_WAIT_HOURS: "24",
        contracts.AUDIT_JOB_TIMEOUT_MINUTES: "180",
        contracts.AUDIT_MAX_CONCURRENT_EXECUTIONS: "1",
        **overrides,
    }


def test_the_deployed_function_reads_pages_of_the_fixed_size() -> None:
    settings = AuditSettings.from_environment(audit_environment())
    assert config_from_settings(settings).page_size == plan.RESULTS_PAGE_SIZE


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (contracts.AUDIT_AVAILABILITY_MAX_WAIT_HOURS, str(plan.MAX_AVAILABILITY_WAIT_HOURS + 1)),
        (contracts.AUDIT_JOB_TIMEOUT_MINUTES, str(plan.MAX_JOB_TIMEOUT_MINUTES + 1)),
    ],
)
def test_waits_longer_than_the_history_budget_allows_fail_the_cold_start(name: str, value: str) -> None:
    # The stack never sets them (the config has the same bounds); an edited function must not either
    with pytest.raises(ValidationError, match=name):
        AuditSettings.from_environment(audit_environment(**{name: value}))
