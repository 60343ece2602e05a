"""What the audit steps are given: the Genesys jobs API they call, the lister of the state machine's
running executions, their tuning (AuditConfig), and an execution's input, parsed or refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from pydantic import ValidationError

from genesys_bridge.audit import plan
from genesys_bridge.audit.errors import AuditInputError
from genesys_bridge.audit.model import AuditRequest
from genesys_bridge.buffer import parse_timestamp


class JobsApi(Protocol):
    """The part of GenesysClient the audit uses: the details jobs endpoints, one request per call."""

    def get_details_job_availability(self, deadline: float | None = None) -> datetime: ...
    def submit_details_job(self, body: Mapping[str, Any], deadline: float | None = None) -> str: ...
    def get_details_job(self, job_id: str, deadline: float | None = None) -> dict[str, Any]: ...
    def get_details_job_results_page(
        self,
        job_id: str,
        *,
        cursor: str | None = None,
        page_size: int | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]: ...
    def cancel_details_job(self, job_id: str, deadline: float | None = None) -> None: ...


# The state machine's running executions, as (execution ARN, start time); used by the guard step.
RunningExecutions = Callable[[str], Sequence[tuple[str, datetime]]]


@dataclass(frozen=True)
class AuditConfig:
    # The deployed function reads plan.RESULTS_PAGE_SIZE; tests read smaller pages to see many of them.
    page_size: int = plan.RESULTS_PAGE_SIZE
    max_requests_per_minute: int = 30
    first_day: date | None = None
    availability_max_wait: timedelta = timedelta(hours=24)
    job_timeout: timedelta = timedelta(hours=3)
    max_concurrent_executions: int = 1

    def __post_init__(self) -> None:
        if self.page_size < 1 or self.max_requests_per_minute < 1 or self.max_concurrent_executions < 1:
            raise ValueError("page_size, max_requests_per_minute and max_concurrent_executions must be >= 1")


def parse_request(value: Any) -> AuditRequest:
    if not isinstance(value, dict):
        raise AuditInputError("an audit execution's input must be a JSON object")
    try:
        return AuditRequest.model_validate(value)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc']) or 'input'}: {item['msg']}" for item in error.errors()
        )
        raise AuditInputError(f"invalid audit input: {problems}") from None


def parse_started_at(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return parse_timestamp(value)
