"""Analytics details jobs: submit, poll with backoff until FULFILLED, then read results by cursor."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from genesys_bridge.genesys import GenesysClient, JobFailed, PagingError, RetryLater

from .conftest import JOBS_URL, FakeClock, api_calls, conversation

JOB_BODY = {"interval": "2026-10-01T00:00:00.000Z/2026-10-31T00:00:00.000Z"}
JOB_URL = f"{JOBS_URL}/job-1"
RESULTS_URL = f"{JOB_URL}/results"
PACING_SLOT = 0.2  # 60 s / the default 300 requests per minute


def _submit(mocked: responses.RequestsMock) -> None:
    mocked.add(responses.POST, JOBS_URL, json={"jobId": "job-1"})


def _states(mocked: responses.RequestsMock, *states: str) -> None:
    for state in states:
        mocked.add(responses.GET, JOB_URL, json={"id": "job-1", "state": state})


def _results_page(
    mocked: responses.RequestsMock, cursor_in: str | None, ids: list[str], cursor_out: str | None
) -> None:
    body: dict[str, Any] = {"conversations": [conversation(conversation_id) for conversation_id in ids]}
    if cursor_out is not None:
        body["cursor"] = cursor_out
    mocked.add(
        responses.GET,
        RESULTS_URL,
        json=body,
        match=[responses.matchers.query_param_matcher({"cursor": cursor_in} if cursor_in else {})],
    )


def test_job_is_polled_with_backoff_then_results_are_read_by_cursor(
    mocked: responses.RequestsMock,
    token_endpoint: Any,
    clock: FakeClock,
    make_client: Callable[..., GenesysClient],
) -> None:
    # Given a job that is QUEUED, then PENDING, then FULFILLED, with results on three cursor pages
    _submit(mocked)
    _states(mocked, "QUEUED", "PENDING", "FULFILLED")
    _results_page(mocked, None, ["c1", "c2"], "cur-a")
    _results_page(mocked, "cur-a", ["c3"], "cur-b")
    _results_page(mocked, "cur-b", ["c4"], None)
    body = dict(JOB_BODY)
    # When the job is iterated
    result = list(make_client().iter_details_job(body))
    # Then the body was submitted as given, the status polled three times with growing waits,
    # and every conversation from every cursor page came back
    assert json.loads(api_calls(mocked)[0].request.body) == JOB_BODY
    poll_waits = [s for s in clock.sleeps if s != pytest.approx(PACING_SLOT)]
    assert poll_waits == [1.0, 2.0]
    assert [c["conversationId"] for c in result] == ["c1", "c2", "c3", "c4"]
    # And requests sent back to back (submit -> first poll, results pages) were paced one slot apart
    assert len(clock.sleeps) - len(poll_waits) == 4
    cursors = [
        parse_qs(urlsplit(call.request.url).query).get("cursor")
        for call in api_calls(mocked)
        if urlsplit(call.request.url).path.endswith("/results")
    ]
    assert cursors == [None, ["cur-a"], ["cur-b"]]


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED", "EXPIRED"])
def test_a_job_that_ends_badly_is_an_error_with_its_state(
    mocked: responses.RequestsMock, token_endpoint: Any, make_client: Callable[..., GenesysClient], state: str
) -> None:
    # Given a job that ends in a failure state
    _submit(mocked)
    mocked.add(
        responses.GET, JOB_URL, json={"id": "job-1", "state": state, "errorMessage": "interval too large"}
    )
    # When it is iterated
    with pytest.raises(JobFailed) as raised:
        list(make_client().iter_details_job(JOB_BODY))
    # Then the error names the job and its state, and no results were requested
    assert (raised.value.job_id, raised.value.state) == ("job-1", state)
    assert "interval too large" in str(raised.value)
    assert not any("/results" in str(call.request.url) for call in mocked.calls)


def test_a_job_still_running_at_the_poll_deadline_is_handed_back(
    mocked: responses.RequestsMock,
    token_endpoint: Any,
    clock: FakeClock,
    make_client: Callable[..., GenesysClient],
) -> None:
    # Given a job that stays PENDING, and 5 s to wait for it
    _submit(mocked)
    _states(mocked, "PENDING")
    # When it is iterated
    with pytest.raises(RetryLater, match="job-1 still PENDING") as raised:
        list(make_client().iter_details_job(JOB_BODY, poll_deadline=clock() + 5))
    # Then (after one 0.2 s pacing slot) it waited 1 s and 2 s, but not the 4 s that would pass the deadline
    assert clock.sleeps == [pytest.approx(PACING_SLOT), 1.0, 2.0]
    assert raised.value.retry_after == 4.0


def test_a_repeated_cursor_is_detected(
    mocked: responses.RequestsMock, token_endpoint: Any, make_client: Callable[..., GenesysClient]
) -> None:
    # Given results whose second page hands back the first page's cursor
    _submit(mocked)
    _states(mocked, "FULFILLED")
    _results_page(mocked, None, ["c1"], "cur-a")
    _results_page(mocked, "cur-a", ["c2"], "cur-a")
    # When the job is iterated
    with pytest.raises(PagingError, match="cursor loop"):
        list(make_client().iter_details_job(JOB_BODY))
    # Then it stopped after two results pages
    assert sum("/results" in str(call.request.url) for call in mocked.calls) == 2


@pytest.mark.parametrize("job_id", ["", 7, "j" * 201])
def test_a_submission_without_a_usable_job_id_is_an_error_naming_it(job_id: Any) -> None:
    # A jobId is carried in every state of the audit workflow and in its report: a missing one, or one
    # far longer than an id (a broken or hostile answer), is refused at once
    from genesys_bridge.genesys.errors import GenesysError
    from genesys_bridge.genesys.jobs import parse_job_id

    with pytest.raises(GenesysError, match="jobId"):
        parse_job_id({"jobId": job_id})
    assert parse_job_id({"jobId": "j" * 200}) == "j" * 200
