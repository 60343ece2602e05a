"""Genesys's details jobs endpoints answered by `responses` on their real URLs, a clock whose sleep moves
time, and builders for conversations in both shapes (job results with participant attributes, multi-get
without)."""

from __future__ import annotations

import copy
import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import responses

API = "https://api.mypurecloud.ie"
TOKEN_URL = "https://login.mypurecloud.ie/oauth/token"
JOBS = f"{API}/api/v2/analytics/conversations/details/jobs"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def job_conversation(
    conversation_id: str, *, start: str = "2026-11-20T13:59:53.179Z", ended: bool = True
) -> dict[str, Any]:
    """One conversation as a details job returns it (AnalyticsConversation: participant attributes)."""
    page = json.loads((FIXTURES / "details-job-results-page.json").read_text())
    body: dict[str, Any] = copy.deepcopy(page["conversations"][0])
    body["conversationId"] = conversation_id
    body["conversationStart"] = start
    if not ended:
        del body["conversationEnd"]
    return body


def multi_get_shape(job_body: dict[str, Any]) -> dict[str, Any]:
    """The same conversation as the multi-get returns it (AnalyticsConversationWithoutAttributes)."""
    body = copy.deepcopy(job_body)
    for participant in body["participants"]:
        participant.pop("attributes", None)
    return body


def reordered_lists(body: dict[str, Any]) -> dict[str, Any]:
    """The same conversation with participants, sessions, segments and metrics listed in reverse, as
    another endpoint might list them."""
    body = copy.deepcopy(body)
    body["participants"].reverse()
    for participant in body["participants"]:
        participant["sessions"].reverse()
        for session in participant["sessions"]:
            session["segments"].reverse()
            session["metrics"].reverse()
    return body


class FakeTime:
    """Wall clock (datetime) and monotonic clock in one; sleep() records and moves both forward."""

    def __init__(self, start: datetime = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)) -> None:
        self._lock = threading.Lock()
        self._wall = start
        self._mono = 1_000.0
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        with self._lock:
            return self._wall

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(float(seconds))
            self._wall += timedelta(seconds=seconds)
            self._mono += seconds


@dataclass
class FakeJob:
    job_id: str
    body: dict[str, Any]
    states: list[str]
    polls: int = 0
    pages_served: int = 0
    deleted: bool = False

    def state(self) -> str:
        return self.states[min(self.polls, len(self.states) - 1)]


@dataclass
class FakeGenesysJobs:
    """Scripted jobs endpoints. `job_scripts[n]` is the sequence of states the n-th submitted job shows
    on successive polls (the last repeats); `expire_after_pages[n]` makes the n-th job's results vanish
    (404, state EXPIRED) after that many pages; `faults` answers the next requests of an endpoint with an
    error status first."""

    conversations: list[dict[str, Any]]
    availability: datetime = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
    # Successive answers of the availability endpoint before `availability` (e.g. a lagging datalake).
    availability_before: list[datetime] = field(default_factory=list)
    job_scripts: list[list[str]] = field(default_factory=lambda: [["QUEUED", "PENDING", "FULFILLED"]])
    expire_after_pages: dict[int, int] = field(default_factory=dict)
    faults: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    # True: a job returns only the conversations that started on its interval's first day (what
    # startOfDayIntervalMatching does for a one-day interval); False: every conversation it holds.
    by_start_day: bool = False
    jobs: list[FakeJob] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    # (page number from 0, the page's body) -> the body to answer instead: a broken or hostile page
    rewrite_page: Callable[[int, dict[str, Any]], Any] | None = None

    def install(self, mock: responses.RequestsMock) -> None:
        mock.add(
            responses.POST,
            TOKEN_URL,
            json={"access_token": "token-1", "token_type": "bearer", "expires_in": 86400},
        )
        mock.add_callback(responses.GET, f"{JOBS}/availability", callback=self._availability)
        mock.add_callback(responses.POST, JOBS, callback=self._submit)
        mock.add_callback(
            responses.GET, re.compile(rf"^{re.escape(JOBS)}/[^/?]+/results(\?.*)?$"), callback=self._results
        )
        # (responses drops a matched entry when another also matches: the job pattern must not match
        # the availability URL.)
        job = rf"^{re.escape(JOBS)}/(?!availability$)[^/?]+$"
        mock.add_callback(responses.GET, re.compile(job), callback=self._status)
        mock.add_callback(responses.DELETE, re.compile(job), callback=self._delete)

    # --- endpoints ---------------------------------------------------------------------------------

    def _fault(self, endpoint: str) -> tuple[int, dict[str, str], str] | None:
        self.calls[endpoint] += 1
        queue = self.faults.get(endpoint)
        if queue:
            status, headers = queue.pop(0)
            return (
                status,
                headers,
                json.dumps({"status": status, "code": "fault", "message": "scripted fault"}),
            )
        return None

    def _availability(self, request: Any) -> tuple[int, dict[str, str], str]:
        fault = self._fault("availability")
        if fault:
            return fault
        moment = self.availability_before.pop(0) if self.availability_before else self.availability
        stamp = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return 200, {}, json.dumps({"dataAvailabilityDate": stamp})

    def _submit(self, request: Any) -> tuple[int, dict[str, str], str]:
        fault = self._fault("submit")
        if fault:
            return fault
        index = len(self.jobs)
        script = self.job_scripts[min(index, len(self.job_scripts) - 1)]
        job = FakeJob(f"job-{index + 1}", json.loads(request.body), list(script))
        self.jobs.append(job)
        return 202, {}, json.dumps({"jobId": job.job_id})

    def _job(self, request: Any) -> FakeJob | None:
        job_id = urlsplit(request.url).path.split("/jobs/")[1].split("/")[0]
        return next((job for job in self.jobs if job.job_id == job_id), None)

    def _status(self, request: Any) -> tuple[int, dict[str, str], str]:
        fault = self._fault("status")
        if fault:
            return fault
        job = self._job(request)
        if job is None:
            return 404, {}, json.dumps({"status": 404, "code": "not.found", "message": "no such job"})
        state = self._expired_state(job) or job.state()
        job.polls += 1
        body: dict[str, Any] = {"id": job.job_id, "state": state}
        if state == "FAILED":
            body["errorMessage"] = "the datalake query failed"
        return 200, {}, json.dumps(body)

    def _expired_state(self, job: FakeJob) -> str | None:
        limit = self.expire_after_pages.get(self.jobs.index(job))
        return "EXPIRED" if limit is not None and job.pages_served >= limit else None

    def _results(self, request: Any) -> tuple[int, dict[str, str], str]:
        fault = self._fault("results")
        if fault:
            return fault
        job = self._job(request)
        if job is None or self._expired_state(job):
            return 404, {}, json.dumps({"status": 404, "code": "not.found", "message": "job results expired"})
        if job.state() != "FULFILLED":
            return 400, {}, json.dumps({"status": 400, "code": "bad.request", "message": "job not fulfilled"})
        query = parse_qs(urlsplit(request.url).query)
        size = int((query.get("pageSize") or ["1000"])[0])
        offset = int((query.get("cursor") or ["c0"])[0][1:])
        matching = self.conversations
        if self.by_start_day:
            day = job.body["interval"][:10]
            matching = [c for c in matching if c["conversationStart"][:10] == day]
        chunk = matching[offset : offset + size]
        job.pages_served += 1
        body: dict[str, Any] = {
            "conversations": copy.deepcopy(chunk),
            "dataAvailabilityDate": "2026-11-21T06:00:00.000Z",
        }
        if offset + size < len(matching):
            body["cursor"] = f"c{offset + size}"
        answer = body if self.rewrite_page is None else self.rewrite_page(job.pages_served - 1, body)
        return 200, {}, json.dumps(answer)

    def _delete(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.calls["delete"] += 1
        job = self._job(request)
        if job is None:
            return 404, {}, json.dumps({"status": 404, "code": "not.found", "message": "no such job"})
        job.deleted = True
        return 204, {}, ""
