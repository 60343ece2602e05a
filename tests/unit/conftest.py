"""Shared by the domain and handler tests: Genesys answered by `responses` on its real URLs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses

DETAILS_URL = "https://api.mypurecloud.ie/api/v2/analytics/conversations/details"
TOKEN_URL = "https://login.mypurecloud.ie/oauth/token"


@pytest.fixture
def genesys_api() -> Iterator[responses.RequestsMock]:
    """Genesys with a working token endpoint; every other call must be registered by the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(
            responses.POST,
            TOKEN_URL,
            json={"access_token": "token-1", "token_type": "bearer", "expires_in": 86400},
        )
        yield mock


def serve_details(mock: responses.RequestsMock, known: dict[str, dict[str, Any]]) -> None:
    """Answer multi-gets from `known`: asked-for ids that are not known are simply absent, as in Genesys."""

    def callback(request: Any) -> tuple[int, dict[str, str], str]:
        ids = request.params["id"].split(",")
        body = {"conversations": [known[i] for i in ids if i in known]}
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    mock.add_callback(responses.GET, DETAILS_URL, callback=callback)
