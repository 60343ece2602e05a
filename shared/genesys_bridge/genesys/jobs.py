"""Analytics conversation-details jobs: submit, poll until FULFILLED, then read results by cursor.

For anything the details query cannot return (more than 100,000 results). Polling is tenacity with a
result predicate rather than a hand-rolled loop: the same deadline rule applies as for retries, a wait
that would pass `poll_deadline` is not slept and raises RetryLater instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Final, NoReturn
from urllib.parse import quote

from tenacity import RetryCallState, Retrying, wait_exponential

from .errors import GenesysError, JobFailed, RetryLater
from .pagers import GetJson, iter_cursor_pages

logger = logging.getLogger(__name__)

JOBS_PATH: Final = "/api/v2/analytics/conversations/details/jobs"
AVAILABILITY_PATH: Final = f"{JOBS_PATH}/availability"
FAILED_STATES: Final = frozenset({"FAILED", "CANCELLED", "EXPIRED"})
DONE_STATE: Final = "FULFILLED"
MAX_POLLS: Final = 120  # at the 30 s cap, about an hour: beyond that, hand the job back to the caller


def run_details_job(
    *,
    submit: Callable[[dict[str, Any]], dict[str, Any]],
    get: GetJson,
    poll_get: GetJson,
    jobs_url: str,
    body: dict[str, Any],
    poll_deadline: float | None,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    max_polls: int = MAX_POLLS,
) -> Iterator[dict[str, Any]]:
    """Conversations of a details job. `submit` POSTs to `jobs_url`; `get(url, params)` GETs results;
    `poll_get` GETs the job status (the client binds it to `poll_deadline`, so a 429 while polling
    cannot sleep past it either)."""
    job_id = parse_job_id(submit(body))
    job_url = f"{jobs_url}/{job_id}"

    def poll() -> dict[str, Any]:
        status = poll_get(job_url, None)
        parse_job_state(job_id, status)
        return status

    def still_running(retry_state: RetryCallState) -> bool:
        outcome = retry_state.outcome
        if outcome is None or outcome.failed:
            return False  # errors from `get` propagate as they are
        state = outcome.result()["state"]
        # Anything not final counts as running (QUEUED, PENDING, or a state added later).
        return state != DONE_STATE and state not in FAILED_STATES

    def out_of_time(retry_state: RetryCallState) -> bool:
        if retry_state.attempt_number >= max_polls:
            return True
        return poll_deadline is not None and clock() + retry_state.upcoming_sleep > poll_deadline

    def give_up(retry_state: RetryCallState) -> NoReturn:
        state = retry_state.outcome.result()["state"] if retry_state.outcome is not None else "unknown"
        raise RetryLater(
            f"details job {job_id} still {state} after {retry_state.attempt_number} polls",
            retry_after=retry_state.upcoming_sleep,
        )

    status = Retrying(
        sleep=sleep,
        retry=still_running,
        wait=wait_exponential(multiplier=1, min=1, max=30),  # 1, 2, 4 ... 30 s
        stop=out_of_time,
        retry_error_callback=give_up,
    )(poll)
    state = status["state"]
    if state in FAILED_STATES:
        detail = status.get("errorMessage")
        raise JobFailed(job_id, state, detail if isinstance(detail, str) and detail else "no error message")
    logger.info("details job %s fulfilled; reading results", job_id)
    yield from iter_cursor_pages(get, f"{job_url}/results")


# --- one request per call, for callers that keep the job's state themselves (the audit workflow) ---


def job_path(job_id: str) -> str:
    """The job's path under the API base; the id is escaped, so it can never leave the jobs path."""
    if not job_id or not isinstance(job_id, str):
        raise ValueError(f"invalid details job id {job_id!r}")
    return f"{JOBS_PATH}/{quote(job_id, safe='')}"


# A jobId is a UUID in Genesys' examples; anything far longer is not one, and would be carried in every
# state of the audit workflow (a Step Functions payload) and every report.
MAX_JOB_ID_CHARS = 200


def parse_job_id(body: Mapping[str, Any]) -> str:
    job_id = body.get("jobId")
    if not isinstance(job_id, str) or not job_id:
        raise GenesysError("details job submission returned no jobId")
    if len(job_id) > MAX_JOB_ID_CHARS:
        raise GenesysError(f"details job submission returned a jobId of {len(job_id)} characters: not an id")
    return job_id


def parse_job_state(job_id: str, body: Mapping[str, Any]) -> str:
    state = body.get("state")
    if not isinstance(state, str) or not state:
        raise GenesysError(f"details job {job_id} status carried no state")
    return state


def parse_availability(body: Mapping[str, Any]) -> datetime:
    """`dataAvailabilityDate` as an aware UTC datetime: data before it is complete in the datalake."""
    text = body.get("dataAvailabilityDate")
    if not isinstance(text, str) or not text:
        raise GenesysError("details jobs availability carried no dataAvailabilityDate")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise GenesysError(f"unreadable dataAvailabilityDate {text!r}") from None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
