"""Retries: wait what Genesys asks, back off on transient failures, and never sleep past a deadline."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import pytest
import requests
import responses

from genesys_bridge.genesys import (
    GenesysApiError,
    GenesysClient,
    GenesysUnavailable,
    RateLimited,
    RetryLater,
)

from .conftest import DETAILS_URL, FakeClock, api_calls, conversation

THROTTLED = {"message": "Rate limit exceeded the maximum", "code": "too.many.requests.retry.after"}


def _ok(mocked: responses.RequestsMock) -> None:
    mocked.add(responses.GET, DETAILS_URL, json={"conversations": [conversation("c1")]})


def test_429_waits_exactly_the_retry_after_seconds(
    mocked: responses.RequestsMock,
    token_endpoint: Any,
    clock: FakeClock,
    make_client: Callable[..., GenesysClient],
) -> None:
    # Given an API that throttles once with Retry-After: 7
    mocked.add(responses.GET, DETAILS_URL, status=429, json=THROTTLED, headers={"Retry-After": "7"})
    _ok(mocked)
    client = make_client()
    # When a call is made
    result = client.get_conversation_details(["c1"])
    # Then it slept exactly 7 s, once, and then got the conversation
    assert clock.sleeps == [7.0]
    assert [c["conversationId"] for c in result] == ["c1"]
    assert client.stats.snapshot() == {
        "requests": 2,
        "throttled": 1,
        "not_found": 0,
        "errors": 0,
        "token_requests": 1,
    }


def test_429_without_retry_after_backs_off_exponentially_with_jitter(
    mocked: responses.RequestsMock,
    token_endpoint: Any,
    clock: FakeClock,
    make_client: Callable[..., GenesysClient],
) -> None:
    # Given two 429s that do not say how long to wait
    mocked.add(responses.GET, DETAILS_URL, status=429, json=THROTTLED)
    mocked.add(responses.GET, DETAILS_URL, status=429, json=THROTTLED)
    _ok(mocked)
    # When a call is made
    make_client().get_conversation_details(["c1"])
    # Then the waits grow (0.5 s then 1 s base) with up to 0.5 s of jitter each
    first, second = clock.sleeps
    assert 0.5 <= first <= 1.0
    assert 1.0 <= second <= 1.5


def test_retry_after_above_the_cap_raises_rate_limited_without_sleeping(
    mocked: responses.RequestsMock,
    token_endpoint: Any,
    clock: FakeClock,
    make_client: Callable[..., GenesysClient],
) -> None:
    # Given a 429 with Retry-After: 600 (a daily limit, not a burst)
    mocked.add(responses.GET, DETAILS_URL, status=429, json=THROTTLED, headers={"Retry-After": "600"})
    _ok(mocked)
    # When a call is made
    with pytest.raises(RateLimited) as raised:
        make_client().get_conversation_details(["c1"])
    # Then nothing was slept, the request was not repeated, and the caller learns when to come back
    assert clock.sleeps == []
    assert len(api_calls(mocked)) == 1
    assert raised.value.retry_after == 600
    assert isinstance(raised.value, RetryLater)
    assert "above the 180 s cap" in str(raised.value)


def test_a_retry_after_that_would_pass_the_deadline_raises_rate_limited_at_once(
    mocked: responses.RequestsMock,
    token_endpoint: Any,
    clock: FakeClock,
    make_client: Callable[..., GenesysClient],
) -> None:
    # Given a 429 asking for 30 s while the caller has 10 s left (e.g. a Lambda near its timeout)
    mocked.add(responses.GET, DETAILS_URL, status=429, json=THROTTLED, headers={"Retry-After": "30"})
    _ok(mocked)
    # When a call is made with that deadline
    with pytest.raises(RateLimited) as raised:
        make_client().get_conversation_details(["c1"], deadline=clock() + 10)
    # Then it gives up immediately, handing back the 30 s wait
    assert clock.sleeps == []
    assert len(api_calls(mocked)) == 1
    assert raised.value.retry_after == 30
    assert "would pass the deadline" in str(raised.value)


def test_a_retry_after_that_fits_the_deadline_is_slept(
    mocked: responses.RequestsMock,
    token_endpoint: Any,
    clock: FakeClock,
    make_client: Callable[..., GenesysClient],
) -> None:
    mocked.add(responses.GET, DETAILS_URL, status=429, json=THROTTLED, headers={"Retry-After": "3"})
    _ok(mocked)
    result = make_client().get_conversation_details(["c1"], deadline=clock() + 10)
    assert clock.sleeps == [3.0]
    assert len(result) == 1


def test_503_then_200_succeeds_after_a_backoff(
    mocked: responses.RequestsMock,
    token_endpoint: Any,
    clock: FakeClock,
    make_client: Callable[..., GenesysClient],
) -> None:
    # Given one 503 from a Genesys edge
    mocked.add(responses.GET, DETAILS_URL, status=503, body="Service Unavailable")
    _ok(mocked)
    client = make_client()
    # When a call is made
    result = client.get_conversation_details(["c1"])
    # Then the second attempt returned the conversation after the SDKs' first 5xx wait of 3 s
    assert [c["conversationId"] for c in result] == ["c1"]
    assert clock.sleeps == [3.0]
    assert client.stats.snapshot()["errors"] == 1


@pytest.mark.parametrize(
    "failure", [requests.ConnectionError("connection reset"), requests.ReadTimeout("read timed out")]
)
def test_connection_errors_and_timeouts_are_retried(
    mocked: responses.RequestsMock,
    token_endpoint: Any,
    clock: FakeClock,
    make_client: Callable[..., GenesysClient],
    failure: Exception,
) -> None:
    mocked.add(responses.GET, DETAILS_URL, body=failure)
    _ok(mocked)
    result = make_client().get_conversation_details(["c1"])
    assert len(result) == 1
    assert len(clock.sleeps) == 1


def test_persistent_502_gives_up_after_bounded_attempts(
    mocked: responses.RequestsMock,
    token_endpoint: Any,
    clock: FakeClock,
    make_client: Callable[..., GenesysClient],
) -> None:
    # Given an API that keeps answering 502
    mocked.add(responses.GET, DETAILS_URL, status=502)
    # When a call is made
    with pytest.raises(GenesysUnavailable) as raised:
        make_client().get_conversation_details(["c1"])
    # Then it tried 5 times, waiting 3, 9, 27 and 81 s between them (2 minutes of outage outlasted,
    # not a few seconds), and hands the work back
    assert len(api_calls(mocked)) == 5
    assert clock.sleeps == [3.0, 9.0, 27.0, 81.0]
    assert "after 5 attempts" in str(raised.value)
    assert raised.value.retry_after is not None


def test_a_transient_backoff_past_the_deadline_raises_unavailable_without_sleeping(
    mocked: responses.RequestsMock,
    token_endpoint: Any,
    clock: FakeClock,
    make_client: Callable[..., GenesysClient],
) -> None:
    mocked.add(responses.GET, DETAILS_URL, status=504)
    with pytest.raises(GenesysUnavailable):
        make_client().get_conversation_details(["c1"], deadline=clock() + 0.1)
    assert clock.sleeps == []
    assert len(api_calls(mocked)) == 1


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_5xx_with_retry_after_waits_that_long(
    mocked: responses.RequestsMock,
    token_endpoint: Any,
    clock: FakeClock,
    make_client: Callable[..., GenesysClient],
    status: int,
) -> None:
    # Given an outage answer that says when to come back
    mocked.add(responses.GET, DETAILS_URL, status=status, headers={"Retry-After": "12"})
    _ok(mocked)
    # When a call is made
    result = make_client().get_conversation_details(["c1"], deadline=clock() + 60)
    # Then the client waited exactly that long, once, and got the answer
    assert clock.sleeps == [12.0]
    assert len(result) == 1


def test_an_outage_is_retried_3_then_9_s_apart_until_the_deadline_and_handed_back(
    mocked: responses.RequestsMock,
    token_endpoint: Any,
    clock: FakeClock,
    make_client: Callable[..., GenesysClient],
) -> None:
    # Given Genesys answering 503 without Retry-After, and 20 s until the caller's deadline
    mocked.add(responses.GET, DETAILS_URL, status=503)
    # When a call is made
    with pytest.raises(GenesysUnavailable) as raised:
        make_client().get_conversation_details(["c1"], deadline=clock() + 20)
    # Then it waited 3 s and 9 s, did not start the 27 s wait that would pass the deadline, and says
    # when to come back
    assert clock.sleeps == [3.0, 9.0]
    assert len(api_calls(mocked)) == 3
    assert raised.value.retry_after == 27.0
    assert "would pass the deadline" in str(raised.value)


def test_a_5xx_retry_after_above_the_cap_hands_the_work_back_without_sleeping(
    mocked: responses.RequestsMock,
    token_endpoint: Any,
    clock: FakeClock,
    make_client: Callable[..., GenesysClient],
) -> None:
    # Given a maintenance window announced as an hour
    mocked.add(responses.GET, DETAILS_URL, status=503, headers={"Retry-After": "3600"})
    # When a call is made
    with pytest.raises(GenesysUnavailable) as raised:
        make_client().get_conversation_details(["c1"])
    # Then nothing was slept and the hour is passed on
    assert clock.sleeps == []
    assert raised.value.retry_after == 3600.0


def test_400_is_not_retried_and_carries_code_message_and_correlation_id(
    mocked: responses.RequestsMock,
    token_endpoint: Any,
    clock: FakeClock,
    make_client: Callable[..., GenesysClient],
) -> None:
    # Given a request Genesys rejects as invalid
    mocked.add(
        responses.GET,
        DETAILS_URL,
        status=400,
        json={"message": "Invalid conversation id", "code": "bad.request", "contextId": "ctx-body"},
        headers={"ININ-Correlation-Id": "corr-400"},
    )
    client = make_client()
    # When a call is made
    with pytest.raises(GenesysApiError) as raised:
        client.get_conversation_details(["not-a-uuid"])
    # Then it fails at once with what an operator needs to ask Genesys support
    error = raised.value
    assert (error.status, error.code, error.message, error.correlation_id) == (
        400,
        "bad.request",
        "Invalid conversation id",
        "corr-400",
    )
    assert "corr-400" in str(error)
    assert len(api_calls(mocked)) == 1
    assert clock.sleeps == []
    assert client.stats.snapshot()["errors"] == 1


def test_error_without_correlation_header_falls_back_to_the_body_context_id(
    mocked: responses.RequestsMock, token_endpoint: Any, make_client: Callable[..., GenesysClient]
) -> None:
    mocked.add(
        responses.GET, DETAILS_URL, status=403, json={"message": "Missing permission", "contextId": "ctx-9"}
    )
    with pytest.raises(GenesysApiError) as raised:
        make_client().get_conversation_details(["c1"])
    assert (raised.value.status, raised.value.correlation_id) == (403, "ctx-9")


def test_500_is_not_retried(
    mocked: responses.RequestsMock,
    token_endpoint: Any,
    clock: FakeClock,
    make_client: Callable[..., GenesysClient],
) -> None:
    # Given a 500 (Genesys does not signal it as recoverable)
    mocked.add(
        responses.GET, DETAILS_URL, status=500, json={"message": "Internal", "code": "internal.server.error"}
    )
    with pytest.raises(GenesysApiError) as raised:
        make_client().get_conversation_details(["c1"])
    assert raised.value.status == 500
    assert len(api_calls(mocked)) == 1
    assert clock.sleeps == []


def test_errors_survive_pickling() -> None:
    # Given the errors a worker process might hand back to its parent
    api_error = GenesysApiError(400, "bad.request", "nope", "corr")
    limited = RateLimited("slow down", retry_after=12.5)
    # When they are pickled and unpickled
    restored_api_error = pickle.loads(pickle.dumps(api_error))  # noqa: S301 - our own bytes
    restored_limited = pickle.loads(pickle.dumps(limited))  # noqa: S301 - our own bytes
    # Then every field is intact
    assert (restored_api_error.status, restored_api_error.code, restored_api_error.correlation_id) == (
        400,
        "bad.request",
        "corr",
    )
    assert restored_limited.retry_after == 12.5
