"""Tokens: one client-credentials fetch serves every call and thread until shortly before expiry."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses

from genesys_bridge.genesys import GenesysApiError, GenesysAuthError, GenesysClient

from .conftest import (
    ACCESS_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    DETAILS_URL,
    TOKEN_URL,
    FakeClock,
    api_calls,
    conversation,
    token_body,
    token_calls,
)


def _bearer(call: Any) -> str:
    return str(call.request.headers["Authorization"])


def test_token_request_is_client_credentials_with_basic_auth(
    mocked: responses.RequestsMock, token_endpoint: Any, make_client: Callable[..., GenesysClient]
) -> None:
    # Given a client and an API that knows one conversation
    mocked.add(responses.GET, DETAILS_URL, json={"conversations": [conversation("c1")]})
    # When it makes its first call
    make_client().get_conversation_details(["c1"])
    # Then it first asked the login host for a token the way Genesys documents
    (token_call,) = token_calls(mocked)
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert token_call.request.headers["Authorization"] == f"Basic {expected}"
    assert token_call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(str(token_call.request.body)) == {"grant_type": ["client_credentials"]}
    # And sent that token as a bearer to the API
    assert _bearer(api_calls(mocked)[0]) == f"Bearer {ACCESS_TOKEN}"


def test_one_token_serves_fifty_calls(
    mocked: responses.RequestsMock, token_endpoint: Any, make_client: Callable[..., GenesysClient]
) -> None:
    # Given a client whose token lives a day
    mocked.add(responses.GET, DETAILS_URL, json={"conversations": []})
    client = make_client()
    # When it makes 50 API calls
    for index in range(50):
        client.get_conversation_details([f"c{index}"])
    # Then exactly one token was requested, and every call carried it
    assert len(token_calls(mocked)) == 1
    assert len(api_calls(mocked)) == 50
    assert {_bearer(call) for call in api_calls(mocked)} == {f"Bearer {ACCESS_TOKEN}"}
    assert client.stats.snapshot()["token_requests"] == 1


def test_eight_threads_share_one_token_fetch(
    mocked: responses.RequestsMock, make_client: Callable[..., GenesysClient]
) -> None:
    # Given a slow token endpoint (50 ms, so every thread arrives while the fetch is in flight)
    fetches = 0

    def slow_token(_: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        nonlocal fetches
        fetches += 1
        time.sleep(0.05)  # real time on purpose: it is what makes the threads overlap
        return 200, {"Content-Type": "application/json"}, '{"access_token": "shared", "expires_in": 3600}'

    mocked.add_callback(responses.POST, TOKEN_URL, callback=slow_token)
    mocked.add(responses.GET, DETAILS_URL, json={"conversations": []})
    client = make_client(max_requests_per_minute=100_000)
    start = threading.Barrier(8)
    errors: list[Exception] = []

    def worker(index: int) -> None:
        start.wait()
        try:
            client.get_conversation_details([f"c{index}"])
        except Exception as error:  # noqa: BLE001 - surfaced in the main thread's assertion below
            errors.append(error)

    # When 8 threads make their first call at the same moment
    threads = [threading.Thread(target=worker, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    # Then all 8 calls went out with one token from one fetch
    assert errors == []
    assert fetches == 1
    assert len(api_calls(mocked)) == 8
    assert {_bearer(call) for call in api_calls(mocked)} == {"Bearer shared"}


def test_token_is_refreshed_shortly_before_it_expires(
    mocked: responses.RequestsMock, clock: FakeClock, make_client: Callable[..., GenesysClient]
) -> None:
    # Given tokens that live 300 s (the refresh margin is then 30 s: a tenth of the lifetime)
    mocked.add(responses.POST, TOKEN_URL, json=token_body("token-1", expires_in=300))
    mocked.add(responses.POST, TOKEN_URL, json=token_body("token-2", expires_in=300))
    mocked.add(responses.GET, DETAILS_URL, json={"conversations": []})
    client = make_client()
    # When calls are made at 0 s, 269 s (inside the margin-adjusted lifetime) and 271 s (past it)
    client.get_conversation_details(["c1"])
    clock.advance(269)
    client.get_conversation_details(["c2"])
    clock.advance(2)
    client.get_conversation_details(["c3"])
    # Then the third call used a freshly fetched token
    assert [_bearer(call) for call in api_calls(mocked)] == [
        "Bearer token-1",
        "Bearer token-1",
        "Bearer token-2",
    ]
    assert len(token_calls(mocked)) == 2


def test_a_401_refreshes_the_token_once_and_retries(
    mocked: responses.RequestsMock, make_client: Callable[..., GenesysClient]
) -> None:
    # Given a token revoked server-side: the API rejects it once, then accepts the new one
    mocked.add(responses.POST, TOKEN_URL, json=token_body("revoked"))
    mocked.add(responses.POST, TOKEN_URL, json=token_body("fresh"))
    mocked.add(responses.GET, DETAILS_URL, status=401, json={"code": "bad.credentials", "status": 401})
    mocked.add(responses.GET, DETAILS_URL, json={"conversations": [conversation("c1")]})
    client = make_client()
    # When a call is made
    result = client.get_conversation_details(["c1"])
    # Then it succeeded with a second token, on the second try
    assert [c["conversationId"] for c in result] == ["c1"]
    assert [_bearer(call) for call in api_calls(mocked)] == ["Bearer revoked", "Bearer fresh"]
    assert client.stats.snapshot() == {
        "requests": 2,
        "throttled": 0,
        "not_found": 0,
        "errors": 1,
        "token_requests": 2,
    }


def test_a_second_401_is_an_api_error_without_further_retries(
    mocked: responses.RequestsMock, make_client: Callable[..., GenesysClient]
) -> None:
    # Given an OAuth client the API keeps rejecting (e.g. its role was removed)
    mocked.add(responses.POST, TOKEN_URL, json=token_body())
    mocked.add(
        responses.GET,
        DETAILS_URL,
        status=401,
        json={"message": "Authentication failed", "code": "authentication.required"},
        headers={"ININ-Correlation-Id": "corr-401"},
    )
    client = make_client()
    # When a call is made
    with pytest.raises(GenesysApiError) as raised:
        client.get_conversation_details(["c1"])
    # Then it fails after exactly one refresh: two API calls, two token requests, no sleeping
    assert raised.value.status == 401
    assert raised.value.code == "authentication.required"
    assert raised.value.correlation_id == "corr-401"
    assert len(api_calls(mocked)) == 2
    assert len(token_calls(mocked)) == 2


def test_rejected_credentials_at_the_token_endpoint_are_an_auth_error_not_an_api_error(
    mocked: responses.RequestsMock, make_client: Callable[..., GenesysClient]
) -> None:
    # Given a wrong client secret
    mocked.add(
        responses.POST,
        TOKEN_URL,
        status=400,
        json={"error": "invalid_client", "description": "client not found"},
    )
    # When a call is made
    with pytest.raises(GenesysAuthError) as raised:
        make_client().get_conversation_details(["c1"])
    # Then the OAuth error is reported as a credentials problem (never as a 400 about the ids asked
    # for), and the API was never called
    assert not isinstance(raised.value, GenesysApiError)
    assert (raised.value.status, raised.value.code, raised.value.message) == (
        400,
        "invalid_client",
        "client not found",
    )
    assert len(mocked.calls) == 1


def test_rotated_credentials_drop_the_cached_token_and_are_used_for_the_next_one(
    mocked: responses.RequestsMock, make_client: Callable[..., GenesysClient]
) -> None:
    # Given a client that holds a token fetched with the old credentials
    mocked.add(responses.POST, TOKEN_URL, json={"access_token": "t-old", "expires_in": 86400})
    mocked.add(responses.POST, TOKEN_URL, json={"access_token": "t-new", "expires_in": 86400})
    mocked.add(responses.GET, DETAILS_URL, json={"conversations": []})
    client = make_client()
    client.get_conversation_details(["c1"])

    # When the same credentials are offered again, nothing changes; when new ones are, they are used
    assert client.use_credentials(CLIENT_ID, CLIENT_SECRET) is False
    assert client.use_credentials("client-id-2", "rotated-secret") is True
    client.get_conversation_details(["c2"])

    # Then a second token was fetched with the new Basic credentials, and the API got the new token
    token_calls = [call for call in mocked.calls if call.request.url == TOKEN_URL]
    assert len(token_calls) == 2
    assert (
        token_calls[1].request.headers["Authorization"]
        == "Basic " + base64.b64encode(b"client-id-2:rotated-secret").decode()
    )
    assert mocked.calls[-1].request.headers["Authorization"] == "Bearer t-new"
