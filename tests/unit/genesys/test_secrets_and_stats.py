"""Nothing secret leaks; the counters tell an operator what the client did."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
import requests
import responses

from genesys_bridge.genesys import GenesysApiError, GenesysClient, GenesysUnavailable, RateLimited

from .conftest import ACCESS_TOKEN, CLIENT_SECRET, DETAILS_URL, TOKEN_URL, conversation, token_body


def test_the_secret_and_tokens_never_reach_logs_reprs_or_errors(
    mocked: responses.RequestsMock,
    make_client: Callable[..., GenesysClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given every logger at DEBUG (urllib3 and requests included) and a run that exercises token fetch,
    # 401 refresh, 429 and 503 retries, and finally a hard error
    caplog.set_level(logging.DEBUG)
    mocked.add(responses.POST, TOKEN_URL, json=token_body(ACCESS_TOKEN))
    mocked.add(responses.POST, TOKEN_URL, json=token_body("tok-BBBB-second-bearer-2222"))
    mocked.add(responses.GET, DETAILS_URL, status=401, json={"code": "bad.credentials"})
    mocked.add(responses.GET, DETAILS_URL, status=429, headers={"Retry-After": "1"})
    mocked.add(responses.GET, DETAILS_URL, status=503)
    mocked.add(responses.GET, DETAILS_URL, json={"conversations": [conversation("c1")]})
    mocked.add(responses.GET, DETAILS_URL, status=429, headers={"Retry-After": "900"})
    mocked.add(responses.GET, DETAILS_URL, status=400, json={"message": "bad id", "code": "bad.request"})
    client = make_client()
    errors: list[Exception] = []
    # When the client works and fails
    client.get_conversation_details(["c1"])
    for _ in range(2):
        try:
            client.get_conversation_details(["c2"])
        except (RateLimited, GenesysApiError) as error:
            errors.append(error)
    # Then the run was logged (so the check below means something) ...
    assert "retrying in" in caplog.text
    assert [type(error) for error in errors] == [RateLimited, GenesysApiError]
    # ... and neither the secret nor any token appears in a log line, a repr or an error
    visible = "\n".join(
        [
            caplog.text,
            repr(client),
            str(client.__dict__),
            repr(client._auth),
            repr(client.stats),
            *(f"{error!s} {error!r}" for error in errors),
        ]
    )
    for secret in (CLIENT_SECRET, ACCESS_TOKEN, "tok-BBBB-second-bearer-2222"):
        assert secret not in visible
    assert "mypurecloud.ie" in repr(client)


def test_stats_count_requests_throttles_errors_and_token_fetches(
    mocked: responses.RequestsMock, token_endpoint: Any, make_client: Callable[..., GenesysClient]
) -> None:
    # Given an API that throttles once, fails with a connection error once, then answers
    mocked.add(responses.GET, DETAILS_URL, status=429, headers={"Retry-After": "2"})
    mocked.add(responses.GET, DETAILS_URL, body=requests.ConnectionError("reset by peer"))
    mocked.add(responses.GET, DETAILS_URL, json={"conversations": []})
    client = make_client()
    # When one call rides through all of that
    client.get_conversation_details(["c1"])
    # Then the counters say: 3 requests, 1 throttled, 1 error, 1 token fetch
    assert client.stats.snapshot() == {
        "requests": 3,
        "throttled": 1,
        "not_found": 0,
        "errors": 1,
        "token_requests": 1,
    }
    assert (
        client.stats.requests,
        client.stats.throttled,
        client.stats.errors,
        client.stats.token_requests,
    ) == (
        3,
        1,
        1,
        1,
    )


def test_every_request_has_a_timeout_and_goes_through_one_pooled_session(
    mocked: responses.RequestsMock,
    token_endpoint: Any,
    make_client: Callable[..., GenesysClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a client and a record of what its session is asked to do
    mocked.add(responses.GET, DETAILS_URL, json={"conversations": []})
    client = make_client()
    seen: list[dict[str, Any]] = []
    original = client._session.request

    def spy(method: str, url: str, **kwargs: Any) -> requests.Response:
        seen.append(
            {"url": url, "timeout": kwargs.get("timeout"), "redirects": kwargs.get("allow_redirects")}
        )
        return original(method, url, **kwargs)

    monkeypatch.setattr(client._session, "request", spy)
    # When it fetches a token and calls the API twice
    client.get_conversation_details(["c1"])
    client.get_conversation_details(["c2"])
    # Then all three exchanges had a (connect, read) timeout and refused redirects
    assert len(seen) == 3
    assert all(entry["timeout"] == (3.05, 30.0) and entry["redirects"] is False for entry in seen)
    adapter = client._session.get_adapter("https://api.mypurecloud.ie")
    assert adapter._pool_maxsize >= 4  # type: ignore[attr-defined]


def test_unavailable_is_a_retry_later_with_a_hint(
    mocked: responses.RequestsMock, token_endpoint: Any, make_client: Callable[..., GenesysClient]
) -> None:
    mocked.add(responses.GET, DETAILS_URL, body=requests.ConnectTimeout("connect timed out"))
    with pytest.raises(GenesysUnavailable) as raised:
        make_client().get_conversation_details(["c1"])
    assert raised.value.retry_after is not None
    assert "GET /api/v2/analytics/conversations/details" in str(raised.value)


def test_an_injected_session_is_used_and_left_open(
    mocked: responses.RequestsMock, token_endpoint: Any, make_client: Callable[..., GenesysClient]
) -> None:
    # Given a session the caller owns (e.g. shared with other code in the process)
    mocked.add(responses.GET, DETAILS_URL, json={"conversations": []})
    session = requests.Session()
    closed: list[bool] = []
    session.close = lambda: closed.append(True)  # type: ignore[method-assign]
    # When a client uses it and is closed
    with make_client(session=session) as client:
        client.get_conversation_details(["c1"])
    # Then the calls went through that session, and closing the client did not close it
    assert client._session is session
    assert closed == []


def test_a_404_is_counted_apart_from_errors(
    mocked: responses.RequestsMock, token_endpoint: Any, make_client: Callable[..., GenesysClient]
) -> None:
    # Given a multi-get that Genesys may answer 404 when it knows none of the ids yet (normal traffic:
    # it must not raise the processor's GenesysErrors, and with it the GenesysErrorRate alarm)
    mocked.add(responses.GET, DETAILS_URL, status=404, json={"status": 404, "code": "not.found"})
    mocked.add(responses.GET, DETAILS_URL, status=403, json={"status": 403, "code": "missing.permissions"})
    client = make_client()
    # When it answers 404, then 403
    for _ in range(2):
        with pytest.raises(GenesysApiError):
            client.get_conversation_details(["c1"])
    # Then the 404 is counted as not found, and only the 403 as an error
    assert client.stats.snapshot() == {
        "requests": 2,
        "throttled": 0,
        "not_found": 1,
        "errors": 1,
        "token_requests": 1,
    }
