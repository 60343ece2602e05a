"""Where a day's audit runs for `backfill` (ops.backfill): as an execution of the deployed state
machine, or in this process (tests, local runs).

Both answer the same three questions, so the backfill loop does not care which it drives: what is
running already (to resume rather than start twice), start a day, and how is that execution doing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ValidationError

from genesys_bridge import contracts
from genesys_bridge.audit.model import AuditMode, AuditRequest
from genesys_bridge.audit.steps import AuditSteps
from genesys_bridge.audit.workflow import AuditFailed, QueryRunner, WorkflowResult, run_workflow

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

DayMode = tuple[date, AuditMode]


class Status(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"


@dataclass(frozen=True)
class Progress:
    status: Status
    error: str | None = None


class Executor(Protocol):
    def running(self) -> dict[DayMode, str]:
        """Executions in flight, by (day, mode): what an earlier, interrupted backfill (or a schedule)
        already started."""
        ...

    def start(self, day: date, mode: AuditMode, *, force: bool) -> str:
        """Start the day; returns a handle for progress()."""
        ...

    def progress(self, handle: str) -> Progress: ...


def execution_input(day: date, mode: AuditMode, *, force: bool) -> dict[str, Any]:
    return {
        contracts.AUDIT_INPUT_DAY: day.isoformat(),
        contracts.AUDIT_INPUT_MODE: mode.value,
        contracts.AUDIT_INPUT_FORCE: force,
    }


class StepFunctionsExecutor:
    """Executions of the deployed state machine, with the caller's AWS credentials."""

    def __init__(self, client: SFNClient, state_machine_arn: str) -> None:
        self._sfn = client
        self._arn = state_machine_arn

    def running(self) -> dict[DayMode, str]:
        found: dict[DayMode, str] = {}
        paginator = self._sfn.get_paginator("list_executions")
        for page in paginator.paginate(stateMachineArn=self._arn, statusFilter="RUNNING"):
            for item in page["executions"]:
                described = self._sfn.describe_execution(executionArn=item["executionArn"])
                day_mode = _day_mode(described.get("input"))
                if day_mode is not None:
                    found.setdefault(day_mode, item["executionArn"])
        return found

    def start(self, day: date, mode: AuditMode, *, force: bool) -> str:
        # A unique name: Step Functions keeps names of closed executions for 90 days, and a day that
        # failed must be able to run again.
        name = f"backfill-{mode.value}-{day.isoformat()}-{uuid.uuid4().hex[:8]}"
        started = self._sfn.start_execution(
            stateMachineArn=self._arn, name=name, input=json.dumps(execution_input(day, mode, force=force))
        )
        return started["executionArn"]

    def progress(self, handle: str) -> Progress:
        described = self._sfn.describe_execution(executionArn=handle)
        status = Status(described["status"]) if described["status"] in Status.__members__ else Status.FAILED
        error = None
        if status not in (Status.RUNNING, Status.SUCCEEDED):
            error = f"{described.get('error') or status.value}: {described.get('cause') or 'no cause given'}"
        return Progress(status, error)


class InProcessExecutor:
    """The workflow's steps run in this process (workflow.run_workflow), one thread per day in flight.

    For tests and local runs: the same step code as the deployed Lambda function, against whatever
    clients `make_steps` wires (moto and a Genesys simulator in the tests); `queries` runs what the
    state machine has Athena run (catalog.compact.BucketCompaction)."""

    def __init__(
        self,
        make_steps: Callable[[], AuditSteps],
        *,
        max_workers: int = 2,
        sleep: Callable[[float], None] | None = None,
        queries: QueryRunner | None = None,
    ) -> None:
        self._make_steps = make_steps
        self._queries = queries
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="backfill")
        self._sleep = sleep
        self._runs: dict[str, Future[WorkflowResult]] = {}

    def running(self) -> dict[DayMode, str]:
        return {}  # nothing survives this process

    def start(self, day: date, mode: AuditMode, *, force: bool) -> str:
        handle = f"local-{mode.value}-{day.isoformat()}-{uuid.uuid4().hex[:8]}"
        request = AuditRequest(mode=mode, day=day, force=force)
        arguments: dict[str, Any] = {"execution": handle, "queries": self._queries}
        if self._sleep is not None:
            arguments["sleep"] = self._sleep
        self._runs[handle] = self._pool.submit(run_workflow, self._make_steps(), request, **arguments)
        return handle

    def progress(self, handle: str) -> Progress:
        run = self._runs[handle]
        if not run.done():
            return Progress(Status.RUNNING)
        error = run.exception()
        if error is None:
            return Progress(Status.SUCCEEDED)
        if isinstance(error, AuditFailed):
            return Progress(Status.FAILED, str(error))
        return Progress(Status.FAILED, f"{type(error).__name__}: {error}")

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _day_mode(raw: str | None) -> DayMode | None:
    """The (day, mode) an execution's input names, or None if it is not an audit input."""
    try:
        request = AuditRequest.model_validate_json(raw or "")
    except ValidationError:
        return None
    return request.resolve_day(), request.mode
