"""The async details jobs (``.../details/jobs``): submission, state, availability, results, cancellation.

docs/genesys-api.md, "Jobs" and "Availability": a job is QUEUED, then PENDING, then FULFILLED (or
FAILED); its results come in pages that point at the next one with ``cursor`` until the last, each
with the ``dataAvailabilityDate``; ``DELETE`` cancels it; results expire (EXPIRED); concurrent jobs
are limited (429 beyond). Unconfirmed for the real API, so configurable (SimulatorConfig): the
limit on concurrent jobs, how long results are kept, the default and largest page size, how far
the availability date lags, and what a job past that date leaves out.
"""

from __future__ import annotations

import base64
import binascii
import math
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from genesys_simulator.conversation_store import ConversationStore, Observed
from genesys_simulator.details_query import Interval, job_matches, parse_filters, parse_interval
from genesys_simulator.details_rendering import iso_millis
from genesys_simulator.faults import FaultProfile
from genesys_simulator.responses import ApiResponse, BadRequest, error_body, not_found

PastAvailability = Literal["omit", "include"]


@dataclass(frozen=True, slots=True)
class JobSettings:
    queued_s: float
    fulfilled_after_s: float
    results_ttl_s: float
    default_page_size: int
    max_page_size: int
    max_concurrent: int | None
    max_interval_days: int
    past_availability: PastAvailability


@dataclass(slots=True)
class _Job:
    job_id: str
    ordinal: int
    created_at: float  # simulator clock
    submitted: datetime  # simulated wall clock
    interval: Interval
    filters: list[dict[str, Any]]
    start_of_day: bool
    limit: int | None
    descending: bool
    fails: bool
    cancelled: bool = False
    # Frozen at the first look after fulfilment: a job answers from the data as it was when it ran.
    ids: list[str] | None = None
    availability: datetime | None = None


class JobStore:
    """Thread-safe state of the submitted jobs; answers the five job endpoints."""

    def __init__(
        self,
        store: ConversationStore,
        clock: Callable[[], float],
        wall_clock: Callable[[], datetime],
        availability: Callable[[], datetime],
        faults: Callable[[], tuple[FaultProfile, int]],
        settings: JobSettings,
    ) -> None:
        self._store = store
        self._clock = clock
        self._wall_clock = wall_clock
        self._availability = availability
        self._faults = faults
        self._settings = settings
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self.submitted = 0
        self.refused = 0

    # ---- endpoints ---------------------------------------------------------------------------------

    def create(self, body: dict[str, Any], correlation_id: str) -> ApiResponse:
        interval = parse_interval(body, self._settings.max_interval_days)
        filters = parse_filters(body)
        start_of_day = body.get("startOfDayIntervalMatching", False)
        if not isinstance(start_of_day, bool):
            raise BadRequest("startOfDayIntervalMatching must be true or false")
        limit = body.get("limit")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise BadRequest("limit must be a positive integer")
        order = body.get("order", "asc")
        if order not in ("asc", "desc"):
            raise BadRequest("order must be asc or desc")
        now = self._clock()
        profile, seed = self._faults()
        with self._lock:
            running = [job for job in self._jobs.values() if self._state(job, now) in ("QUEUED", "PENDING")]
            cap = self._settings.max_concurrent
            if cap is not None and len(running) >= cap:
                self.refused += 1
                first_done = min(job.created_at + self._settings.fulfilled_after_s for job in running)
                return _too_many_jobs(max(1, math.ceil(first_done - now)), cap, correlation_id)
            self.submitted += 1
            job = _Job(
                job_id=str(uuid.uuid4()),
                ordinal=self.submitted,
                created_at=now,
                submitted=self._wall_clock(),
                interval=interval,
                filters=filters,
                start_of_day=start_of_day,
                limit=limit,
                descending=order == "desc",
                fails=profile.fails_job_at(self.submitted, seed),
            )
            self._jobs[job.job_id] = job
        return ApiResponse(202, {"jobId": job.job_id})

    def status(self, job_id: str, correlation_id: str) -> ApiResponse:
        job = self._get(job_id)
        if job is None:
            return not_found(f"Job {job_id} not found", correlation_id)
        state = self._state(job, self._clock())
        body: dict[str, Any] = {
            "state": state,
            "submissionDate": iso_millis(job.submitted),
            "expirationDate": iso_millis(self._expires(job)),
        }
        if state == "FAILED":
            body["errorMessage"] = "The job failed (simulated fault); submit it again"
        response = ApiResponse(200, body)
        if state == "FAILED":
            response.fault = "job_failed"
        return response

    def delete(self, job_id: str, correlation_id: str) -> ApiResponse:
        job = self._get(job_id)
        if job is None:
            return not_found(f"Job {job_id} not found", correlation_id)
        with self._lock:
            job.cancelled = True
        return ApiResponse(204, None)

    def results(self, job_id: str, query: dict[str, list[str]], correlation_id: str) -> ApiResponse:
        job = self._get(job_id)
        if job is None:
            return not_found(f"Job {job_id} not found", correlation_id)
        now = self._clock()
        state = self._state(job, now)
        if state == "EXPIRED":
            return not_found(f"The results of job {job_id} have expired", correlation_id)
        if state != "FULFILLED":
            raise BadRequest(f"Job {job_id} is {state}; results are available once it is FULFILLED")
        ids, availability = self._snapshot(job, now)
        size = self._page_size(query)
        offset = _decode_cursor(job.job_id, (query.get("cursor") or [""])[0])
        if offset > len(ids):
            raise BadRequest("Invalid cursor")
        page = self._store.visible(ids[offset : offset + size], now)
        result: dict[str, Any] = {"conversations": self._store.render(page, with_attributes=True)}
        if offset + size < len(ids):
            result["cursor"] = _encode_cursor(job.job_id, offset + size)
        result["dataAvailabilityDate"] = iso_millis(availability)
        return ApiResponse(200, result, conversations=len(page))

    # ---- state -------------------------------------------------------------------------------------

    def _get(self, job_id: str) -> _Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _state(self, job: _Job, now: float) -> str:
        if job.cancelled:
            return "CANCELLED"
        age = now - job.created_at
        if age < self._settings.queued_s:
            return "QUEUED"
        if age < self._settings.fulfilled_after_s:
            return "PENDING"
        if job.fails:
            return "FAILED"
        if age >= self._settings.fulfilled_after_s + self._settings.results_ttl_s:
            return "EXPIRED"
        return "FULFILLED"

    def _expires(self, job: _Job) -> datetime:
        return job.submitted + timedelta(
            seconds=self._settings.fulfilled_after_s + self._settings.results_ttl_s
        )

    def _snapshot(self, job: _Job, now: float) -> tuple[list[str], datetime]:
        with self._lock:
            if job.ids is not None and job.availability is not None:
                return job.ids, job.availability
        availability = self._availability()
        found = job_matches(self._store, job.interval, job.filters, now, job.start_of_day)
        if job.interval.end > availability and self._settings.past_availability == "omit":
            # Past the availability date the datalake may not hold everything yet: leave out what
            # had activity after it, the strict reading of "not guaranteed to be available".
            found = [o for o in found if _settled_before(o, availability)]
        if job.descending:
            found.reverse()
        ids = [o.conversation_id for o in found][: job.limit]
        with self._lock:
            if job.ids is None or job.availability is None:
                job.ids, job.availability = ids, availability
            return job.ids, job.availability

    def _page_size(self, query: dict[str, list[str]]) -> int:
        text = (query.get("pageSize") or [str(self._settings.default_page_size)])[0]
        if not text.isdigit() or not 1 <= int(text) <= self._settings.max_page_size:
            raise BadRequest(f"pageSize must be an integer between 1 and {self._settings.max_page_size}")
        return int(text)

    def counts(self) -> dict[str, int]:
        now = self._clock()
        with self._lock:
            states = [self._state(job, now) for job in self._jobs.values()]
            counts = {state.lower(): states.count(state) for state in set(states)}
            return {"submitted": self.submitted, "refused_429": self.refused, **counts}


def _settled_before(observed: Observed, moment: datetime) -> bool:
    last = observed.activity_end
    return last is not None and last <= moment


def _too_many_jobs(retry_after: int, cap: int, correlation_id: str) -> ApiResponse:
    body = error_body(
        429,
        "too.many.requests.retry.after",
        f"Too many concurrent analytics details jobs (at most {cap}). "
        f"Retry the request in [{retry_after}] seconds",
        correlation_id,
    )
    # The 429 body Genesys sends has no messageParams (docs/genesys-api.md, "Rate limits and errors").
    del body["messageParams"]
    return ApiResponse(429, body, {"Retry-After": str(retry_after)}, fault="job_limit")


def _encode_cursor(job_id: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{job_id}:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(job_id: str, cursor: str) -> int:
    """The offset a cursor points at; a cursor of another job, or none of ours, is a 400."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        owner, _, number = text.rpartition(":")
        if owner == job_id and number.isdigit():
            return int(number)
    except (binascii.Error, UnicodeDecodeError):
        pass
    raise BadRequest("Invalid cursor")
