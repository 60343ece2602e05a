"""Fixtures for the Genesys client tests: a fake clock whose sleep only moves time, a `responses` mock
(the suite blocks the network anyway), and a client wired to both."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import responses

from genesys_bridge.genesys import GenesysClient

REGION = "mypurecloud.ie"
API = "https://api.mypurecloud.ie"
TOKEN_URL = "https://login.mypurecloud.ie/oauth/token"
DETAILS_URL = f"{API}/api/v2/analytics/conversations/details"
QUERY_URL = f"{API}/api/v2/analytics/conversations/details/query"
JOBS_URL = f"{API}/api/v2/analytics/conversations/details/jobs"
CLIENT_ID = "bridge-client-id"
CLIENT_SECRET = "s3cr3t-Do-Not-Log-9f8e7d"
ACCESS_TOKEN = "tok-AAAA-secret-bearer-1111"

_FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "conversation-details.json"


class FakeClock:
    """time.monotonic and time.sleep in one: sleeping records the duration and moves time forward."""

    def __init__(self, start: float = 1_000.0) -> None:
        self._lock = threading.Lock()
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(float(seconds))
            self.now += float(seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def conversation(conversation_id: str) -> dict[str, Any]:
    """The fixture conversation (as the details endpoints return it) under another id."""
    body: dict[str, Any] = json.loads(_FIXTURE.read_text())
    body = copy.deepcopy(body)
    body["conversationId"] = conversation_id
    return body


def token_body(token: str = ACCESS_TOKEN, expires_in: int = 86_400) -> dict[str, Any]:
    return {"access_token": token, "token_type": "bearer", "expires_in": expires_in}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def token_endpoint(mocked: responses.RequestsMock) -> responses.BaseResponse:
    """A token endpoint that always grants ACCESS_TOKEN for a day."""
    return mocked.add(responses.POST, TOKEN_URL, json=token_body())


@pytest.fixture
def make_client(clock: FakeClock) -> Callable[..., GenesysClient]:
    def factory(**overrides: Any) -> GenesysClient:
        arguments: dict[str, Any] = {
            "region": REGION,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "max_requests_per_minute": 300,  # a budget the tests reach only where they set their own
            "sleep": clock.sleep,
            "clock": clock,
        }
        arguments.update(overrides)
        return GenesysClient(**arguments)

    return factory


def api_calls(rsps: responses.RequestsMock) -> list[Any]:
    """Recorded calls to the API host (token requests left out)."""
    return [call for call in rsps.calls if call.request.url is not None and call.request.url.startswith(API)]


def token_calls(rsps: responses.RequestsMock) -> list[Any]:
    return [call for call in rsps.calls if call.request.url == TOKEN_URL]
