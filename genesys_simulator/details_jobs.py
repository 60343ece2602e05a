"""The async details jobs (``.../details/jobs``): submission, state, cursor-paged results, cancellation.

docs/genesys-api.md, "Conversation details": a job is QUEUED, then PENDING, then FULFILLED; its
results come in pages that point at the next one with ``cursor`` until the last.
"""

from __future__ import annotations

import base64
import binascii
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from genesys_simulator.conversation_store import ConversationStore
from genesys_simulator.conversations import iso_millis
from genesys_simulator.details_query import Interval, matching, parse_filters, parse_interval
from genesys_simulator.responses import ApiResponse, BadRequest, not_found


@dataclass(frozen=True, slots=True)
class JobTimings:
    queued_s: float
    fulfilled_after_s: float
    results_page_size: int
    max_interval_days: int


@dataclass(slots=True)
class _Job:
    job_id: str
    created_at: float
    submitted: datetime
    interval: Interval
    filters: list[dict[str, Any]]
    cancelled: bool = False
    ids: list[str] | None = None  # frozen at the first look after fulfilment


class JobStore:
    """Thread-safe state of the submitted jobs; answers the four job endpoints."""

    def __init__(
        self, store: ConversationStore, clock: Callable[[], float], division: str, timings: JobTimings
    ) -> None:
        self._store = store
        self._clock = clock
        self._division = division
        self._timings = timings
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}

    def create(self, body: dict[str, Any]) -> ApiResponse:
        interval = parse_interval(body, self._timings.max_interval_days)
        filters = parse_filters(body)
        job = _Job(
            job_id=str(uuid.uuid4()),
            created_at=self._clock(),
            submitted=datetime.now(UTC),
            interval=interval,
            filters=filters,
        )
        with self._lock:
            self._jobs[job.job_id] = job
        return ApiResponse(202, {"jobId": job.job_id})

    def status(self, job_id: str, correlation_id: str) -> ApiResponse:
        job = self._get(job_id)
        if job is None:
            return not_found(f"Job {job_id} not found", correlation_id)
        body: dict[str, Any] = {
            "state": self._state(job),
            "submissionDate": iso_millis(job.submitted),
            "expirationDate": iso_millis(job.submitted + timedelta(days=1)),
        }
        return ApiResponse(200, body)

    def delete(self, job_id: str, correlation_id: str) -> ApiResponse:
        job = self._get(job_id)
        if job is None:
            return not_found(f"Job {job_id} not found", correlation_id)
        job.cancelled = True
        return ApiResponse(204, None)

    def results(self, job_id: str, query: dict[str, list[str]], correlation_id: str) -> ApiResponse:
        job = self._get(job_id)
        if job is None:
            return not_found(f"Job {job_id} not found", correlation_id)
        state = self._state(job)
        if state != "FULFILLED":
            raise BadRequest(f"Job {job_id} is {state}; results are available once it is FULFILLED")
        if job.ids is None:
            # Like Genesys, a job answers from the data as it was when it ran: freeze the ids once.
            now = self._clock()
            ids = [
                o.conversation_id
                for o in matching(self._store, job.interval, job.filters, now, self._division)
            ]
            with self._lock:
                if job.ids is None:
                    job.ids = ids
        ids = job.ids or []
        size_text = (query.get("pageSize") or [str(self._timings.results_page_size)])[0]
        if not size_text.isdigit() or int(size_text) < 1:
            raise BadRequest("pageSize must be a positive integer")
        size = min(int(size_text), self._timings.results_page_size)
        offset = _decode_cursor((query.get("cursor") or [""])[0])
        if offset > len(ids):
            raise BadRequest("Invalid cursor")
        page = self._store.visible(ids[offset : offset + size], self._clock())
        result: dict[str, Any] = {"conversations": self._store.render(page)}
        if offset + size < len(ids):
            result["cursor"] = _encode_cursor(offset + size)
        return ApiResponse(200, result)

    def _get(self, job_id: str) -> _Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _state(self, job: _Job) -> str:
        if job.cancelled:
            return "CANCELLED"
        age = self._clock() - job.created_at
        if age < self._timings.queued_s:
            return "QUEUED"
        if age < self._timings.fulfilled_after_s:
            return "PENDING"
        return "FULFILLED"


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix == "offset" and number.isdigit():
            return int(number)
    except (binascii.Error, UnicodeDecodeError):
        pass
    raise BadRequest("Invalid cursor")
