"""The audit workflow's steps for one UTC day D and a mode (audit | finalize), one call each.

The Step Functions state machine invokes them one Lambda invocation at a time (lambdas/audit/handler.py)
and the in-process executor (workflow.py) calls them in the same order: each takes the workflow state and
returns it with `next` (plan.FLOW) and, before a Wait, `wait_seconds`. Clients come in as arguments.

The steps keep the workflow's decisions (when to wait, resubmit, give up); a results page is judged in
ledger.py and the day's report is built from the page ledgers in day_report.py.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, Final

from pydantic import ValidationError

from genesys_bridge import compaction
from genesys_bridge.audit import plan
from genesys_bridge.audit.day_report import build_day_report, emit_report_metrics, is_complete
from genesys_bridge.audit.errors import (
    AuditInputError,
    CompactionFailed,
    DataNotAvailable,
    JobGaveUp,
    JobTimedOut,
    TurnTimedOut,
)
from genesys_bridge.audit.inputs import (
    AuditConfig,
    JobsApi,
    RunningExecutions,
    parse_request,
    parse_started_at,
)
from genesys_bridge.audit.ledger import cursor_key, judge_page, ledger_key
from genesys_bridge.audit.model import (
    REPORT_COUNTS,
    AuditMode,
    AuditRequest,
    AuditState,
    capped,
    check_day,
    day_start,
    job_interval,
    report_key,
)
from genesys_bridge.audit.plan import End, Query, Step, Wait
from genesys_bridge.audit.store import AuditStore
from genesys_bridge.buffer import utc_now
from genesys_bridge.contracts import format_timestamp
from genesys_bridge.genesys.errors import GenesysApiError, GenesysError, PagingError
from genesys_bridge.metrics import COUNT, MetricName, MetricsSink

logger = logging.getLogger(__name__)
# AuditConfig, JobsApi (inputs.py) and is_complete (day_report.py) are imported from here too.

FULFILLED: Final = "FULFILLED"
RESUBMITTABLE_STATES: Final = frozenset({"FAILED", "EXPIRED"})
CANCELLED: Final = "CANCELLED"
# How much of a failed query's cause the compaction keeps in its log line and error.
CAUSE_CHARACTERS: Final = 1000


class AuditSteps:
    """The steps, bound to their clients. `requests` counting relies on `genesys` being this audit's own
    client (GenesysClient.stats counts every request the client sends)."""

    def __init__(
        self,
        *,
        genesys: JobsApi,
        genesys_requests: Callable[[], int],
        store: AuditStore,
        config: AuditConfig,
        metrics: MetricsSink,
        running_executions: RunningExecutions | None = None,
        now: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._genesys = genesys
        self._genesys_requests = genesys_requests
        self._store = store
        self.config = config
        self._metrics = metrics
        self._running = running_executions
        self._now = now
        self._monotonic = monotonic

    # --- dispatch (the Lambda handler's one call) -------------------------------------------------------

    def run(self, event: Mapping[str, Any], deadline: float | None = None) -> dict[str, Any]:
        """One invocation: `{"step": "start", "input": {...}, "context": {...}}` or
        `{"step": <name>, "state": {...}}` -> the new state as JSON."""
        try:
            step = Step(str(event.get("step")))
        except ValueError:
            raise AuditInputError(f"unknown audit step {event.get('step')!r}") from None
        if step is Step.START:
            context = event.get("context") or {}
            state = self.start(
                parse_request(event.get("input")),
                execution=str(context.get("execution") or ""),
                execution_id=context.get("execution_id"),
                state_machine=context.get("state_machine"),
                started_at=parse_started_at(context.get("started_at")),
            )
        else:
            try:
                state = AuditState.model_validate(event.get("state"))
            except ValidationError as error:
                raise AuditInputError(f"malformed audit state for step {step}: {error}") from None
            before = state.genesys_requests
            state = self.step(step, state, deadline)
            # One value per invocation (also 0): the audit's share of the Genesys budget in CloudWatch,
            # beside the processor's under the same name.
            self._metrics.add_metric(MetricName.GENESYS_REQUESTS, COUNT, state.genesys_requests - before)
            return state.payload()
        self._metrics.add_metric(MetricName.GENESYS_REQUESTS, COUNT, 0)
        return state.payload()

    def step(self, step: Step, state: AuditState, deadline: float | None = None) -> AuditState:
        """Run one step (not START) and count the Genesys and S3 requests it made into the state."""
        handlers: dict[Step, Callable[[AuditState, float | None], AuditState]] = {
            Step.AVAILABILITY: self.availability,
            Step.GUARD: self.guard,
            Step.SUBMIT: self.submit,
            Step.POLL: self.poll,
            Step.INVENTORY: self.inventory,
            Step.PAGE: self.page,
            Step.REPORT: self.report,
            Step.COMPACT: self.compact,
            Step.COMMIT: self.commit,
            Step.CANCEL: self.cancel,
        }
        if step not in handlers:
            raise AuditInputError(f"step {step} takes an execution's input, not a state")
        genesys_before, s3_before = self._genesys_requests(), self._store.requests
        result = handlers[step](state, deadline)
        return result.model_copy(
            update={
                "genesys_requests": result.genesys_requests + self._genesys_requests() - genesys_before,
                "s3_requests": result.s3_requests + self._store.requests - s3_before,
            }
        )

    def read_report(self, day: date, mode: AuditMode | str) -> dict[str, Any] | None:
        """The day's report of this mode, or None if there is none yet."""
        report = self._store.get_json(report_key(day, mode))
        return report if isinstance(report, dict) else None

    # --- the steps -------------------------------------------------------------------------------------

    def start(
        self,
        request: AuditRequest,
        *,
        execution: str,
        execution_id: str | None = None,
        state_machine: str | None = None,
        started_at: datetime | None = None,
    ) -> AuditState:
        if not execution:
            raise AuditInputError("an audit execution needs a name (its scratch objects are kept under it)")
        now = self._now()
        day = request.resolve_day()
        check_day(day, today=now.date(), first_day=self.config.first_day)
        s3_before = self._store.requests
        state = AuditState(
            day=day,
            mode=request.mode,
            force=request.force,
            execution=execution,
            execution_id=execution_id,
            state_machine=state_machine,
            started_at=started_at or now,
            next=Step.AVAILABILITY,
        )
        report = self._store.get_json(report_key(day, request.mode))
        if not request.force and is_complete(report):
            finished = compaction.parse_time(report.get("finished_at"))
            if compaction.is_current(self._store.get_compaction_marker(day), day, finished):
                logger.info("the %s report of %s says complete: nothing to do", request.mode, day)
                state.next = End.ALREADY_DONE
            else:
                # The compaction after that report failed (or never ran): only it runs again.
                logger.info("the %s report of %s says complete; compacting the day", request.mode, day)
                state.compact_only = True
                state.next = Step.GUARD
        state.s3_requests = self._store.requests - s3_before
        return state

    def availability(self, state: AuditState, deadline: float | None) -> AuditState:
        now = self._now()
        first_check = state.first_availability_check_at or now
        available = self._genesys.get_details_job_availability(deadline)
        end_of_day = day_start(state.day + timedelta(days=1))
        update: dict[str, Any] = {
            "availability_checks": state.availability_checks + 1,
            "first_availability_check_at": first_check,
            "data_availability": available,
        }
        if available >= end_of_day:
            return state.model_copy(update={**update, "next": Step.GUARD, "wait_seconds": 0})
        waited = now - first_check
        if waited >= self.config.availability_max_wait:
            raise DataNotAvailable(
                f"Genesys data is available up to {format_timestamp(available)}, still not past the end of "
                f"{state.day} ({format_timestamp(end_of_day)}) after {_hours(waited)} of checks "
                f"(audit_availability_max_wait_hours={_hours(self.config.availability_max_wait)})"
            )
        wait = plan.backoff(
            plan.AVAILABILITY_FIRST_WAIT, plan.AVAILABILITY_MAX_WAIT, state.availability_checks
        )
        return state.model_copy(update={**update, "next": Wait.FOR_AVAILABILITY, "wait_seconds": wait})

    def guard(self, state: AuditState, deadline: float | None) -> AuditState:
        """At most `max_concurrent_executions` executions past this point, oldest first."""
        after = Step.COMPACT if state.compact_only else Step.SUBMIT
        if self._running is None or state.state_machine is None or state.execution_id is None:
            return state.model_copy(update={"next": after, "wait_seconds": 0})
        now = self._now()
        first_check = state.first_turn_check_at or now
        running = sorted(self._running(state.state_machine), key=lambda item: (item[1], item[0]))
        arns = [arn for arn, _ in running]
        # Not listed yet (the listing is eventually consistent): count it as last in line.
        ahead = arns.index(state.execution_id) if state.execution_id in arns else len(arns)
        if ahead < self.config.max_concurrent_executions:
            return state.model_copy(update={"next": after, "wait_seconds": 0})
        if now - first_check >= timedelta(seconds=plan.TURN_MAX_WAIT_SECONDS):
            raise TurnTimedOut(
                f"{ahead} older audit execution(s) still running after {_hours(now - first_check)}: "
                f"{', '.join(arns[:ahead])}"
            )
        return state.model_copy(
            update={
                "next": Wait.FOR_TURN,
                "wait_seconds": plan.TURN_WAIT,
                "turn_waits": state.turn_waits + 1,
                "first_turn_check_at": first_check,
            }
        )

    def submit(self, state: AuditState, deadline: float | None) -> AuditState:
        body = {
            "interval": job_interval(state.day),
            # Only conversations that started on D (docs/genesys-api.md, "Interval semantics").
            "startOfDayIntervalMatching": True,
            "order": "asc",
            "orderBy": "conversationStart",
        }
        job_id = self._genesys.submit_details_job(body, deadline)
        logger.info("details job %s submitted for %s (%s, attempt %d)", job_id, state.day, state.mode,
                    state.job_attempt + 1)  # fmt: skip
        return state.model_copy(
            update={
                "job_id": job_id,
                "job_attempt": state.job_attempt + 1,
                "job_submitted_at": self._now(),
                "job_polls": 0,
                "job_state": None,
                "cursor": None,
                "page": 0,
                "next": Wait.FOR_JOB,
                "wait_seconds": plan.POLL_FIRST_WAIT,
            }
        )

    def poll(self, state: AuditState, deadline: float | None) -> AuditState:
        job_id = _job_id(state)
        status = self._genesys.get_details_job(job_id, deadline)
        job_state = capped(status["state"])  # carried in the state: a hostile one stays small
        update: dict[str, Any] = {"job_state": job_state, "job_polls": state.job_polls + 1}
        if job_state == FULFILLED:
            follow = Step.INVENTORY if state.inventory_key is None else Step.PAGE
            return state.model_copy(update={**update, "next": follow, "wait_seconds": 0})
        if job_state in RESUBMITTABLE_STATES:
            return self._resubmit(state.model_copy(update=update), job_state, _message(status))
        if job_state == CANCELLED:
            raise JobGaveUp(f"details job {job_id} for {state.day} was cancelled outside the audit")
        submitted = state.job_submitted_at or self._now()
        if self._now() - submitted >= self.config.job_timeout:
            raise JobTimedOut(
                f"details job {job_id} for {state.day} still {job_state} {_hours(self._now() - submitted)} "
                f"after submission (audit_job_timeout_minutes="
                f"{int(self.config.job_timeout.total_seconds() // 60)})"
            )
        wait = plan.backoff(plan.POLL_FIRST_WAIT, plan.POLL_MAX_WAIT, state.job_polls + 1)
        return state.model_copy(update={**update, "next": Wait.FOR_JOB, "wait_seconds": wait})

    def inventory(self, state: AuditState, deadline: float | None) -> AuditState:
        """The day's landed conversations, listed once per execution and kept for the page steps."""
        etags = self._store.landed(state.day)
        key = f"{state.work_prefix}inventory.json"
        self._store.put_json(key, {"day": state.day.isoformat(), "etags": etags})
        return state.model_copy(
            update={"inventory_key": key, "landed_before": len(etags), "next": Step.PAGE, "wait_seconds": 0}
        )

    def page(self, state: AuditState, deadline: float | None) -> AuditState:
        job_id = _job_id(state)
        if state.inventory_key is None:
            raise AuditInputError("the page step needs the inventory step's result first")
        if state.page >= plan.MAX_RESULTS_PAGES:
            # Past it the execution's history would run out (plan.HISTORY_EVENT_LIMIT): fail with the
            # reason now rather than with Step Functions' own error later.
            raise PagingError(
                f"details job {job_id} still had a cursor after {plan.MAX_RESULTS_PAGES:,} pages, the most "
                f"one execution's history holds (a day of at most {plan.LARGEST_DAY:,} conversations at "
                f"{plan.RESULTS_PAGE_SIZE:,} a page)"
            )
        inventory = self._store.get_json_cached(state.inventory_key)
        if inventory is None:
            raise AuditInputError(f"the execution's inventory {state.inventory_key} is gone")
        etags: dict[str, str] = inventory["etags"]
        started = self._monotonic()
        requests_before = self._genesys_requests()
        try:
            body = self._genesys.get_details_job_results_page(
                job_id, cursor=state.cursor, page_size=self.config.page_size, deadline=deadline
            )
        except GenesysApiError as error:
            return self._results_refused(state, error, deadline)
        cursor = self._next_cursor(state, body)
        ledger, landings = judge_page(
            body,
            etags,
            day=state.day,
            mode=state.mode,
            page=state.page,
            fetched_at=format_timestamp(self._now()),
        )
        self._store.land(landings)
        self._store.put_json(ledger_key(state, state.page), ledger)
        # Pace the next page under this audit's share of the budget, counting this step's requests. A
        # Wait state counts whole seconds; less than one is left to the client's own pacer.
        spacing = 60.0 / self.config.max_requests_per_minute
        due = spacing * (self._genesys_requests() - requests_before) - (self._monotonic() - started)
        wait = math.ceil(due) if due >= 1 else 0
        follow: Step | Wait = Step.REPORT if cursor is None else (Wait.PACE_RESULTS if wait else Step.PAGE)
        return state.model_copy(
            update={"cursor": cursor, "page": state.page + 1, "next": follow, "wait_seconds": wait}
        )

    def _next_cursor(self, state: AuditState, body: Mapping[str, Any]) -> str | None:
        """The page's cursor to the next page (None: the last page), checked before anything lands.

        A cursor this execution was given before means the job's results cycle (A, B, A, ...): every
        further page would land the same conversations again, a new object version each, until the page
        cap. Each cursor is recorded under the job attempt's scratch prefix with a conditional write, so
        the check costs one request per page and holds across invocations; finding one recorded by
        another page fails the execution (PagingError: the cancel step deletes the job, no report).
        A retried page finds its own record, which is no cycle.
        """
        job_id = capped(_job_id(state))
        cursor = body.get("cursor")
        if cursor is None or cursor == "":
            return None
        if not isinstance(cursor, str):
            raise PagingError(f"details job {job_id} results page {state.page}: the cursor is not a string")
        if cursor == state.cursor:
            raise PagingError(f"details job {job_id} results: the cursor came back unchanged")
        seen = self._store.put_json_if_absent(cursor_key(state, cursor), {"page": state.page})
        if seen is not None and seen.get("page") != state.page:
            raise PagingError(
                f"details job {job_id} results: page {state.page} returned the cursor that page "
                f"{seen.get('page')} returned: the cursors cycle"
            )
        return cursor

    def report(self, state: AuditState, deadline: float | None) -> AuditState:
        genesys_at_start, s3_at_start = self._genesys_requests(), self._store.requests
        key = report_key(state.day, state.mode)
        existing = self._store.get_json(key)
        if not (is_complete(existing) and existing.get("execution") == state.execution):
            # (A retry after the report was written but before the scratch objects were deleted keeps it.)
            report = build_day_report(
                state,
                self._store,
                genesys_requests=state.genesys_requests + self._genesys_requests() - genesys_at_start,
                s3_requests_before=state.s3_requests + self._store.requests - s3_at_start,
                now=self._now,
            )
            self._store.put_json(key, report)
            emit_report_metrics(self._metrics, report)
            logger.info("audit report %s: %s", key, {name: report[name] for name in REPORT_COUNTS})
        self._store.delete_prefix(state.work_prefix)
        return state.model_copy(update={"next": Step.COMPACT, "wait_seconds": 0})

    def compact(self, state: AuditState, deadline: float | None) -> AuditState:
        """Clear the day's compaction (its marker, then its Parquet) and hand the query its day. After a
        failed query (plan.QUERY_ERROR set by the Catch) the same, then a wait before the next attempt;
        after the last one CompactionFailed: the report stays, the day reads as JSON."""
        attempt = state.compaction_attempt + 1
        error = state.compaction_error
        if error is not None and attempt > 1 + plan.RETRY_MAX_ATTEMPTS:
            raise CompactionFailed(
                f"the compaction of {state.day} failed {attempt - 1} times, the last with "
                f"{_caught(error)}; its report is kept and its JSON objects are read until it succeeds"
            )
        removed = compaction.clear(self._store, state.day)
        landed = compaction.landed_summary(self._store.landed_files(state.day))
        update: dict[str, Any] = {
            "compaction_attempt": attempt,
            plan.QUERY_PARAMETERS: [f"'{state.day.isoformat()}'"],
            "compaction_landed": landed,
            plan.QUERY_RESULT: None,
            plan.QUERY_ERROR: None,
            "next": Query.COMPACTION,
            "wait_seconds": 0,
        }
        if error is not None:
            wait = int(plan.retry_delays()[attempt - 2])
            logger.warning("the compaction query of %s failed (%s); %d file(s) removed, again in %d s",
                           state.day, _caught(error), removed, wait)  # fmt: skip
            update.update({"next": Wait.BEFORE_RECOMPACT, "wait_seconds": wait})
        return state.model_copy(update=update)

    def commit(self, state: AuditState, deadline: float | None) -> AuditState:
        """The day's marker over what the query wrote: from now on the views read its Parquet."""
        result = dict(state.compaction_result or {})
        marker = compaction.commit(
            self._store,
            state.day,
            landed=state.compaction_landed or {},
            engine=str(result.pop("engine", compaction.ATHENA)),
            compacted_at=self._now(),
            details={"execution": state.execution, "mode": state.mode.value, **result},
        )
        logger.info("compacted %s: %d file(s), %d bytes, %s landed objects", state.day, len(marker["files"]),
                    sum(item["bytes"] for item in marker["files"]), marker.get("landed_objects"))  # fmt: skip
        return state.model_copy(update={"next": End.COMPLETE, "wait_seconds": 0})

    def cancel(self, state: AuditState, deadline: float | None) -> AuditState:
        """After a failure: delete the job so it stops holding one of the org's concurrent jobs. Best
        effort: the execution fails with the original error either way, and no report is written."""
        if state.job_id is not None and state.job_state not in {FULFILLED, *RESUBMITTABLE_STATES, CANCELLED}:
            try:
                self._genesys.cancel_details_job(state.job_id, deadline)
            except GenesysError as error:
                logger.warning("could not cancel details job %s: %s", state.job_id, error)
        return state.model_copy(update={"next": "failed", "wait_seconds": 0})

    # --- job resubmission ------------------------------------------------------------------------------

    def _results_refused(
        self, state: AuditState, error: GenesysApiError, deadline: float | None
    ) -> AuditState:
        """Results refused: if the job expired meanwhile, run it again (from the first page); else fail."""
        job_id = _job_id(state)
        try:
            job_state = str(self._genesys.get_details_job(job_id, deadline)["state"])
        except GenesysApiError as status_error:
            if status_error.status != 404:
                raise error from status_error
            job_state = "EXPIRED"  # the job is gone altogether
        if job_state not in RESUBMITTABLE_STATES:
            raise error
        return self._resubmit(state.model_copy(update={"job_state": job_state}), job_state, str(error))

    def _resubmit(self, state: AuditState, job_state: str, message: str) -> AuditState:
        if state.job_attempt >= plan.MAX_JOB_ATTEMPTS:
            raise JobGaveUp(
                f"details job {state.job_id} for {state.day} ended {job_state} ({message}); "
                f"{state.job_attempt} jobs submitted, giving up"
            )
        logger.warning("details job %s ended %s (%s); submitting it again", state.job_id, job_state, message)
        wait = plan.backoff(plan.RESUBMIT_FIRST_WAIT, plan.RESUBMIT_MAX_WAIT, state.job_attempt - 1)
        return state.model_copy(
            update={"cursor": None, "page": 0, "next": Wait.BEFORE_RESUBMIT, "wait_seconds": wait}
        )


def _job_id(state: AuditState) -> str:
    if not state.job_id:
        raise AuditInputError("this step needs a submitted details job, and the state has none")
    return state.job_id


def _caught(error: Mapping[str, Any]) -> str:
    return f"{error.get('Error')}: {str(error.get('Cause'))[:CAUSE_CHARACTERS]}"


def _message(status: Mapping[str, Any]) -> str:
    message = status.get("errorMessage")
    return capped(message) if isinstance(message, str) and message else "no error message"


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:.1f} h"
