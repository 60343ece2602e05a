"""The audit workflow run in this process: the steps in the order the state machine runs them.

For the local runner, the tests and `make backfill` without a deployed stack. It follows plan.FLOW and
plan.WAIT_THEN as the state machine does (stacks/audit.py builds it from the same tables), sleeps through
each Wait state's `wait_seconds`, retries the errors plan.RETRYABLE_ERRORS names with the same backoff,
and on any other error (or retries exhausted) runs the cancel step and raises AuditFailed, as the state
machine's Catch -> cancel -> Fail does. No report is written on a failure before the report step.

The Athena queries the state machine runs itself (plan.Query) go to `queries`, a QueryRunner: DuckDB
over the same bucket (catalog.compact.BucketCompaction); its failure is caught into the state as the
state machine's Catch does, and the plan's step after it takes over.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from genesys_bridge.audit import plan
from genesys_bridge.audit.model import AuditRequest, AuditState
from genesys_bridge.audit.plan import End, Query, Step, Wait
from genesys_bridge.audit.steps import AuditSteps

logger = logging.getLogger(__name__)

StepObserver = Callable[[Step, AuditState], None]
# Runs one query of the plan for the state's day with the state's plan.QUERY_PARAMETERS; returns what
# the state machine's ResultSelector keeps (plan.QUERY_RESULT), or raises.
QueryRunner = Callable[[Query, AuditState], Mapping[str, Any]]


class NoQueryRunner(RuntimeError):
    """The workflow reached an Athena query and this executor was given nothing to run it with."""


class AuditFailed(Exception):
    """The execution failed: `error` is the failing step's error name (as Step Functions reports it)."""

    def __init__(self, error: str, cause: str, state: AuditState | None) -> None:
        super().__init__(error, cause, state)
        self.error = error
        self.cause = cause
        self.state = state

    def __str__(self) -> str:
        return f"{self.error}: {self.cause}"


@dataclass(frozen=True)
class WorkflowResult:
    state: AuditState
    end: End
    report: dict[str, Any] | None  # None when the day was already done


def run_workflow(
    steps: AuditSteps,
    request: AuditRequest,
    *,
    execution: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    on_step: StepObserver | None = None,
    queries: QueryRunner | None = None,
) -> WorkflowResult:
    """Run one execution to its end; returns the final state and the report, or raises AuditFailed."""
    name = execution or f"local-{uuid.uuid4()}"
    state: AuditState | None = None
    try:
        state = _attempt(partial(steps.start, request, execution=name), sleep, Step.START)
        current = Step.START
        while True:
            if on_step is not None:
                on_step(current, state)
            target = _follow(current, state)
            if isinstance(target, End):
                report = None if target is End.ALREADY_DONE else steps.read_report(state.day, state.mode)
                return WorkflowResult(state, target, report)
            if isinstance(target, Wait):
                if state.wait_seconds:
                    sleep(state.wait_seconds)
                target = plan.WAIT_THEN[target]
            if isinstance(target, Query):
                state = _query(queries, target, state)
                caught = getattr(state, plan.QUERY_ERROR) is not None
                target = plan.QUERY_CAUGHT_BY[target] if caught else plan.QUERY_THEN[target]
            current = target
            state = _attempt(partial(steps.step, current, state), sleep, current)
    except AuditFailed:
        raise
    except Exception as error:
        cause = str(error) or type(error).__name__
        if state is not None:
            try:
                state = steps.step(Step.CANCEL, state.model_copy(update={"error": _error(error)}))
            except Exception:  # the cancel step is best effort, as in the state machine
                logger.exception("the cancel step failed too")
        raise AuditFailed(type(error).__name__, cause, state) from error


def _query(queries: QueryRunner | None, query: Query, state: AuditState) -> AuditState:
    """The query's result into the state, or its error, as the state machine's task and Catch do."""
    if queries is None:
        raise NoQueryRunner(f"the workflow runs the {query} query and this executor has no query runner")
    try:
        result = queries(query, state)
    except Exception as error:  # noqa: BLE001 - the task's Catch takes States.ALL; the plan's next step decides
        logger.warning("the %s query of %s failed: %s", query, state.day, error)
        return state.model_copy(update={plan.QUERY_ERROR: _error(error), plan.QUERY_RESULT: None})
    return state.model_copy(update={plan.QUERY_RESULT: dict(result), plan.QUERY_ERROR: None})


def _follow(current: Step, state: AuditState) -> Step | Wait | Query | End:
    allowed = plan.FLOW[current]
    for target in allowed:
        if state.next == target.value:
            return target
    raise RuntimeError(f"step {current} returned next={state.next!r}; allowed: {[t.value for t in allowed]}")


def _attempt(call: Callable[[], AuditState], sleep: Callable[[float], None], step: Step) -> AuditState:
    """`call()`, retried on the errors the state machine retries, with its waits (jitter aside)."""
    delays = plan.retry_delays()
    for attempt in range(len(delays) + 1):
        try:
            return call()
        except Exception as error:
            if type(error).__name__ not in plan.RETRYABLE_ERRORS or attempt == len(delays):
                raise
            logger.warning("step %s: %s; retrying in %.0f s", step, error, delays[attempt])
            sleep(delays[attempt])
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _error(error: BaseException) -> dict[str, str]:
    """What the state machine's Catch puts at $.error."""
    return {"Error": type(error).__name__, "Cause": str(error)}
