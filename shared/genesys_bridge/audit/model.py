"""The audit's data: what an execution is asked (AuditRequest), what it carries between steps
(AuditState, small enough for a Step Functions payload) and what it reports (the day's report JSON).

Imports pydantic and the standard library only, so the stack and the backfill command can use it too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, model_validator

from genesys_bridge import contracts, layout
from genesys_bridge.audit.errors import AuditInputError


class AuditMode(StrEnum):
    AUDIT = "audit"  # land what is missing
    FINALIZE = "finalize"  # land what is missing and re-land what changed


REPORT_STATUS_COMPLETE: Final = "complete"
# The ids of landed conversations Genesys no longer returns are listed up to this many in the report
# (and so are the other lists of ids or entries a report carries).
NOT_IN_GENESYS_SAMPLE: Final = 100
# Every id or message a report (or a log line about a page) carries is cut to this many characters: a
# hostile or broken results page cannot blow a report up. A conversation id is 36.
MAX_REPORTED_CHARS: Final = 200


def capped(text: object, limit: int = MAX_REPORTED_CHARS) -> str:
    """`text` as a string of at most `limit` characters; a cut one ends with how long it was."""
    value = str(text)
    if len(value) <= limit:
        return value
    marker = f"...({len(value)} chars)"
    return value[: max(0, limit - len(marker))] + marker


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def job_interval(day: date) -> str:
    """[D, D+1) in UTC, as Genesys writes intervals."""
    start, end = day_start(day), day_start(day + timedelta(days=1))
    return f"{start:%Y-%m-%dT%H:%M:%S}.000Z/{end:%Y-%m-%dT%H:%M:%S}.000Z"


def report_key(day: date, mode: AuditMode | str) -> str:
    return layout.report_key(day, AuditMode(mode).value)


def work_prefix(day: date, mode: AuditMode | str, execution: str) -> str:
    return layout.audit_work_prefix(day, AuditMode(mode).value, execution)


def check_day(day: date, *, today: date, first_day: date | None) -> None:
    """A day can be audited once it has ended (UTC) and if it is not before the configured first day."""
    if day >= today:
        raise AuditInputError(
            f"day {day} has not ended yet (today is {today} UTC): its interval lies in the future"
        )
    if first_day is not None and day < first_day:
        raise AuditInputError(f"day {day} is before the configured first day {first_day}")


class AuditRequest(BaseModel):
    """An execution's input: an explicit day, or (from a schedule) `days_ago` before `scheduled_time`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: AuditMode
    day: date | None = None
    days_ago: int | None = Field(default=None, ge=1, le=3650)
    scheduled_time: datetime | None = None
    force: bool = False

    @model_validator(mode="after")
    def _one_way_to_name_the_day(self) -> AuditRequest:
        scheduled = self.days_ago is not None and self.scheduled_time is not None
        if (self.day is not None) == scheduled or (not scheduled and self.days_ago is not None):
            raise ValueError(
                f"give either {contracts.AUDIT_INPUT_DAY} or both {contracts.AUDIT_INPUT_DAYS_AGO} "
                f"and {contracts.AUDIT_INPUT_SCHEDULED_TIME}"
            )
        return self

    def resolve_day(self) -> date:
        if self.day is not None:
            return self.day
        # The validator saw to it that both are set.
        assert self.scheduled_time is not None
        assert self.days_ago is not None
        scheduled = (
            self.scheduled_time if self.scheduled_time.tzinfo else self.scheduled_time.replace(tzinfo=UTC)
        )
        return scheduled.astimezone(UTC).date() - timedelta(days=self.days_ago)


class AuditState(BaseModel):
    """What the workflow carries from step to step (a Step Functions payload: a few hundred bytes).

    Lists of conversations never travel here: the day's landed inventory and each page's outcomes are
    objects under the execution's work prefix in the results bucket.
    """

    model_config = ConfigDict(extra="forbid")

    day: date
    mode: AuditMode
    force: bool = False
    execution: str = Field(min_length=1, max_length=256)
    execution_id: str | None = None  # the execution's ARN (guard); None in process
    state_machine: str | None = None  # the state machine's ARN (guard); None in process
    started_at: datetime

    next: str = ""
    wait_seconds: int = Field(default=0, ge=0)

    availability_checks: int = 0
    first_availability_check_at: datetime | None = None
    data_availability: datetime | None = None
    turn_waits: int = 0
    first_turn_check_at: datetime | None = None

    inventory_key: str | None = None
    landed_before: int = 0

    job_id: str | None = None
    job_attempt: int = 0
    job_submitted_at: datetime | None = None
    job_polls: int = 0
    job_state: str | None = None
    cursor: str | None = None
    page: int = 0

    genesys_requests: int = 0
    s3_requests: int = 0

    # The day's compaction (genesys_bridge.compaction; plan.Query.COMPACTION). compact_only: the report
    # was complete at the start, only the compaction runs. The query's parameters, result and caught
    # error are plan.QUERY_PARAMETERS, QUERY_RESULT and QUERY_ERROR.
    compact_only: bool = False
    compaction_attempt: int = 0
    compaction_parameters: list[str] | None = None
    compaction_landed: dict[str, Any] | None = None  # genesys_bridge.compaction.landed_summary, before it
    compaction_result: dict[str, Any] | None = None
    compaction_error: dict[str, Any] | None = None

    # Added by the state machine's Catch (ResultPath $.error) before the cancel step.
    error: dict[str, Any] | None = None

    @property
    def work_prefix(self) -> str:
        return work_prefix(self.day, self.mode, self.execution)

    def payload(self) -> dict[str, Any]:
        """The JSON object Step Functions passes on."""
        return self.model_dump(mode="json")


class Outcome(StrEnum):
    """What the audit did with one conversation of the day (a page ledger records one per id)."""

    MISSING_LANDED = "missing_landed"  # not landed before: landed now
    OPEN_NOT_LANDED = "open_not_landed"  # not landed, not ended yet (audit mode leaves it to the live path)
    CHANGED_RELANDED = "changed_relanded"  # landed, differs: re-landed (finalize)
    DIFFERING = "differing"  # landed, differs: left for finalize (audit)
    UNCHANGED = "unchanged"  # landed, the same bytes
    # landed, differs, and Genesys shows it open again (a reopened messaging thread or email): the landed
    # body is kept, never replaced by an unended one; its next end lands it (live path or a finalize)
    REOPENED_KEPT = "reopened_kept"


# The outcomes that put a body under the key: when pages disagree about a conversation, the report
# gives the outcome of the body that landed last (the one the key holds).
LANDING_OUTCOMES: Final = frozenset({Outcome.MISSING_LANDED, Outcome.CHANGED_RELANDED})


REPORT_COUNTS: Final = (
    "in_genesys",
    "already_landed",
    "missing_landed",
    "changed_relanded",
    "unchanged",
    "differing",
    "open_not_landed",
    "reopened_kept",
    "not_in_genesys",
    "other_days",
    "unlandable",
    "not_objects",
)
