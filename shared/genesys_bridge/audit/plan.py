"""The audit workflow's shape: its steps, what may follow each, its waits and its retry rules.

Data only, importing nothing heavy: the stack (stacks/audit.py) builds the Step Functions state machine
from these tables, and the in-process executor (genesys_bridge.audit.workflow) walks the very same
tables, so the deployed workflow and the one the local runner and the tests run cannot drift apart.

Every step takes the workflow state and returns it with `next` set to one of the names FLOW allows after
that step, and `wait_seconds` set when `next` is a wait. The job is polled by Wait states between short
step invocations: no Lambda function ever idles while Genesys works.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Final

from genesys_bridge import layout


class Step(StrEnum):
    """One Lambda invocation each (the `step` field of the invocation's payload)."""

    START = "start"  # resolve and check the day; already done -> finish at once
    AVAILABILITY = "availability"  # is Genesys' dataAvailabilityDate past the end of the day?
    GUARD = "guard"  # one job at a time per deployment: wait for older executions
    SUBMIT = "submit"  # submit the details job
    POLL = "poll"  # read the job's state once
    INVENTORY = "inventory"  # list what is landed for the day (ids and ETags), once
    PAGE = "page"  # read one results page and land what is missing or changed
    REPORT = "report"  # write the day's report and metrics
    COMPACT = "compact"  # remove the day's compaction marker, then its Parquet (genesys_bridge.compaction)
    COMMIT = "commit"  # write the day's compaction marker over the Parquet the query wrote
    CANCEL = "cancel"  # on failure: cancel the job, if any (never writes a report)


class Query(StrEnum):
    """Athena queries the state machine runs itself, through Step Functions' athena:startQueryExecution.sync
    integration (no function waits for them); the in-process executor hands them to its query runner
    (DuckDB). A query's parameters are in the state (QUERY_PARAMETERS), its result goes to QUERY_RESULT,
    and a failure is caught into QUERY_ERROR and goes to QUERY_CAUGHT_BY."""

    COMPACTION = (
        "compaction"  # write the day's conversations as Parquet (catalog.sqlsource.compaction_unload)
    )


class Wait(StrEnum):
    """Wait states: each sleeps `wait_seconds`, then runs the step WAIT_THEN names."""

    FOR_AVAILABILITY = "wait_for_availability"
    FOR_TURN = "wait_for_turn"
    FOR_JOB = "wait_for_job"
    BEFORE_RESUBMIT = "back_off_before_resubmit"
    PACE_RESULTS = "pace_results"
    BEFORE_RECOMPACT = "back_off_before_recompact"


class End(StrEnum):
    ALREADY_DONE = "already_done"  # the day's report of this mode says complete (and no force)
    COMPLETE = "complete"  # the report is written


WAIT_THEN: Final[dict[Wait, Step | Query]] = {
    Wait.FOR_AVAILABILITY: Step.AVAILABILITY,
    Wait.FOR_TURN: Step.GUARD,
    Wait.FOR_JOB: Step.POLL,
    Wait.BEFORE_RESUBMIT: Step.SUBMIT,
    Wait.PACE_RESULTS: Step.PAGE,
    Wait.BEFORE_RECOMPACT: Query.COMPACTION,
}

# What may follow each step (the value of `next` it returns). CANCEL is reached only by catching an error.
# START goes on to GUARD, skipping the job, when the day's report is complete but its compaction is not
# (a compaction that failed after the report): the guard keeps compactions one at a time too.
FLOW: Final[dict[Step, tuple[Step | Wait | Query | End, ...]]] = {
    Step.START: (End.ALREADY_DONE, Step.AVAILABILITY, Step.GUARD),
    Step.AVAILABILITY: (Wait.FOR_AVAILABILITY, Step.GUARD),
    Step.GUARD: (Wait.FOR_TURN, Step.SUBMIT, Step.COMPACT),
    Step.SUBMIT: (Wait.FOR_JOB,),
    Step.POLL: (Wait.FOR_JOB, Wait.BEFORE_RESUBMIT, Step.INVENTORY, Step.PAGE),
    Step.INVENTORY: (Step.PAGE,),
    Step.PAGE: (Step.PAGE, Wait.PACE_RESULTS, Wait.BEFORE_RESUBMIT, Step.REPORT),
    Step.REPORT: (Step.COMPACT,),
    Step.COMPACT: (Query.COMPACTION, Wait.BEFORE_RECOMPACT),
    Step.COMMIT: (End.COMPLETE,),
}
FIRST_STEP: Final = Step.START

# The compaction query: on success the commit step, on failure (any error, caught into QUERY_ERROR) the
# compact step again, which clears what the failed query wrote, waits (Wait.BEFORE_RECOMPACT, the
# retry_delays() below) and runs it again, RETRY_MAX_ATTEMPTS times at most before CompactionFailed.
# Athena's UNLOAD does not remove what a failed run wrote, so a query is never retried in place.
QUERY_THEN: Final[dict[Query, Step]] = {Query.COMPACTION: Step.COMMIT}
QUERY_CAUGHT_BY: Final[dict[Query, Step]] = {Query.COMPACTION: Step.COMPACT}
QUERY_PARAMETERS: Final = "compaction_parameters"  # the state field with Athena's ExecutionParameters
QUERY_RESULT: Final = "compaction_result"  # where the query's id and bytes scanned go
QUERY_ERROR: Final = "compaction_error"  # where a failure is caught ({"Error", "Cause"})

# Errors a step raises that may well pass (the exception's class name is the error name Step Functions
# sees): Genesys throttling or outages (the client's RetryLater family), AWS throttling or outages.
STEP_RETRYABLE_ERRORS: Final = ("RetryLater", "RateLimited", "GenesysUnavailable", "AwsUnavailable")
# Errors Lambda itself reports for an invocation that may well pass: the function timing out
# (Sandbox.Timedout) or running out of memory (Runtime.OutOfMemory), the error types Lambda gives such
# an invocation (https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html), which
# Step Functions reports as the task's error; Lambda.Unknown, the name Step Functions documents for them
# (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html); and the
# function's concurrency limit (Lambda.TooManyRequestsException).
FUNCTION_RETRYABLE_ERRORS: Final = (
    "Sandbox.Timedout",
    "Runtime.OutOfMemory",
    "Lambda.Unknown",
    "Lambda.TooManyRequestsException",
)
# Every step is idempotent, so running one again is safe.
RETRYABLE_ERRORS: Final = STEP_RETRYABLE_ERRORS + FUNCTION_RETRYABLE_ERRORS
RETRY_INTERVAL_SECONDS: Final = 30
RETRY_BACKOFF_RATE: Final = 2.0
# Retries after the first attempt: waits of 30 s, 1, 2, 4, 8 and 15 min (capped), about half an hour of
# outage in all, then the execution fails.
RETRY_MAX_ATTEMPTS: Final = 6
RETRY_MAX_DELAY_SECONDS: Final = 900

# Waits, in seconds.
AVAILABILITY_FIRST_WAIT: Final = 300
AVAILABILITY_MAX_WAIT: Final = 1800
TURN_WAIT: Final = 60
TURN_MAX_WAIT_SECONDS: Final = 24 * 3600  # an older execution still running after a day: something is stuck
POLL_FIRST_WAIT: Final = 10
POLL_MAX_WAIT: Final = 120
RESUBMIT_FIRST_WAIT: Final = 60
RESUBMIT_MAX_WAIT: Final = 900
MAX_JOB_ATTEMPTS: Final = 3  # a job that ends FAILED or EXPIRED is submitted again this many times in all

# The longest an environment may let an execution wait for data availability, and a job run (the
# config's upper bounds for audit_availability_max_wait_hours and audit_job_timeout_minutes): the
# history budget below is sized for them.
MAX_AVAILABILITY_WAIT_HOURS: Final = 48
MAX_JOB_TIMEOUT_MINUTES: Final = 360

# The whole execution: the longest availability wait (48 h at most), a day's turn, the job and its
# pages fit in it; beyond it Step Functions times the execution out (an alarm, like a failure).
EXECUTION_TIMEOUT_HOURS: Final = 96

# --- Results pages and the execution's history ------------------------------------------------------
# Conversations per details-job results page, one page step each. Public connectors page job results at
# 1,000 and Genesys documents no maximum (docs/genesys-api.md, "Jobs"). Not a setting: fewer per page
# only means more page steps, and every step writes to the execution's history, which is capped.
RESULTS_PAGE_SIZE: Final = 1000
# Step Functions fails a standard execution whose history reaches 25,000 events
# (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
HISTORY_EVENT_LIMIT: Final = 25_000
# Events a state writes each time it runs (the event types of
# https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html): a task that invokes
# the function by its ARN TaskStateEntered, LambdaFunctionScheduled, LambdaFunctionStarted,
# LambdaFunctionSucceeded and TaskStateExited (3 more per retried attempt); a Choice, a Wait or a Succeed
# state its Entered and Exited.
TASK_EVENTS: Final = 5
CHOICE_EVENTS: Final = 2
WAIT_EVENTS: Final = 2
SUCCEED_EVENTS: Final = 2
# A task of a .sync service integration (the Athena query) writes TaskStateEntered, TaskScheduled,
# TaskStarted, TaskSubmitted, TaskSucceeded (or TaskFailed) and TaskStateExited.
SYNC_TASK_EVENTS: Final = 6
# One results page: its task, the Choice after it and the Wait that paces the next page.
PAGE_EVENTS: Final = TASK_EVENTS + CHOICE_EVENTS + WAIT_EVENTS
# How long an execution may wait for its turn behind another before its waiting eats into the pages'
# share (540 events an hour): a whole day's audit takes minutes at the default pace.
TURN_RESERVE_SECONDS: Final = 3600
# The history kept for everything but the pages; events_besides_pages() of the longest waits the config
# allows must fit in it (tests/unit/audit/test_history_budget.py).
RESERVED_EVENTS: Final = 7_000
# The pages an execution may read, and so the largest day it can audit: 2,000 pages of 1,000.
MAX_RESULTS_PAGES: Final = (HISTORY_EVENT_LIMIT - RESERVED_EVENTS) // PAGE_EVENTS
LARGEST_DAY: Final = MAX_RESULTS_PAGES * RESULTS_PAGE_SIZE


def backoff(first: int, cap: int, attempt: int) -> int:
    """first, 2 x first, 4 x first ... capped at `cap`; `attempt` counts from 0."""
    return int(min(cap, first * 2 ** min(attempt, 30)))


def waits_to_cover(first: int, cap: int, seconds: float) -> int:
    """How many waits of first, 2 x first, ... (capped at `cap`) it takes to have waited `seconds`."""
    waited, waits = 0, 0
    while waited < seconds:
        waited += backoff(first, cap, waits)
        waits += 1
    return waits


def events_besides_pages(
    *,
    availability_wait_seconds: float,
    job_wait_seconds: float,
    turn_wait_seconds: float = TURN_RESERVE_SECONDS,
    jobs: int = MAX_JOB_ATTEMPTS,
    compaction_attempts: int = 1 + RETRY_MAX_ATTEMPTS,
) -> int:
    """History events of an execution apart from its results pages, when it waits that long for data
    availability, that long for its turn, submits `jobs` jobs that each run that long (the step that
    finds a wait over fails the execution, so longer waits write no more), and runs its compaction query
    `compaction_attempts` times."""
    decision = TASK_EVENTS + CHOICE_EVENTS  # a step with more than one way on: its task and a Choice
    availability_waits = waits_to_cover(
        AVAILABILITY_FIRST_WAIT, AVAILABILITY_MAX_WAIT, availability_wait_seconds
    )
    turn_waits = math.ceil(turn_wait_seconds / TURN_WAIT)
    poll_waits = waits_to_cover(POLL_FIRST_WAIT, POLL_MAX_WAIT, job_wait_seconds)
    # One job: its submit task (one way on: a Wait), then a Wait and a poll per poll.
    job = TASK_EVENTS + poll_waits * (WAIT_EVENTS + decision)
    return (
        2  # ExecutionStarted, ExecutionSucceeded
        + decision  # start
        + (availability_waits + 1) * decision
        + availability_waits * WAIT_EVENTS
        + (turn_waits + 1) * decision
        + turn_waits * WAIT_EVENTS
        + jobs * job
        + (jobs - 1) * WAIT_EVENTS  # a job given up on waits before the next submit
        + TASK_EVENTS  # inventory (one way on: the first page)
        + TASK_EVENTS  # report (one way on: the compaction)
        + compaction_events(compaction_attempts)
        + SUCCEED_EVENTS  # the Succeed state
    )


def compaction_events(attempts: int = 1 + RETRY_MAX_ATTEMPTS) -> int:
    """History events of a day's compaction that runs its query `attempts` times: each attempt is the
    compact step, its Choice and the query, an Athena task per compacted dataset (and, after a failed
    one, a Wait); then the commit step."""
    attempt = TASK_EVENTS + CHOICE_EVENTS + SYNC_TASK_EVENTS * len(layout.COMPACTED_DATASETS)
    return attempts * attempt + (attempts - 1) * WAIT_EVENTS + TASK_EVENTS


def retry_delays() -> list[float]:
    """The waits between the attempts of a retried step, as Step Functions computes them (no jitter)."""
    return [
        min(RETRY_MAX_DELAY_SECONDS, RETRY_INTERVAL_SECONDS * RETRY_BACKOFF_RATE**attempt)
        for attempt in range(RETRY_MAX_ATTEMPTS)
    ]
