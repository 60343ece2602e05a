"""The client-credentials token endpoint and bearer checks on API calls."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from genesys_simulator import GenesysSimulator
from tests.unit.simulator.conftest import CLIENT_ID, CLIENT_SECRET, DETAILS, REQUEST_TIMEOUT_S, Api, FakeClock

SOME_ID = str(uuid.uuid4())


def test_valid_credentials_get_a_bearer_token_that_opens_the_api(api: Api) -> None:
    # Given the configured client credentials
    # When a token is requested with HTTP Basic auth and grant_type=client_credentials
    response = api.fetch_token()

    # Then a bearer token with the configured lifetime comes back and the API accepts it
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 86_400
    assert len(body["access_token"]) >= 32
    assert response.headers["ININ-Correlation-Id"]
    assert api.multi_get([SOME_ID]).status_code == 200


@pytest.mark.parametrize(
    ("request_kwargs", "status", "error"),
    [
        pytest.param({"auth": (CLIENT_ID, "not-" + CLIENT_SECRET)}, 401, "invalid_client", id="wrong-secret"),
        pytest.param({}, 401, "invalid_client", id="no-basic-auth"),
        pytest.param(
            {"auth": (CLIENT_ID, CLIENT_SECRET), "grant": "password"},
            400,
            "unsupported_grant_type",
            id="grant",
        ),
    ],
)
def test_a_token_request_without_valid_client_credentials_is_refused_in_the_oauth_shape(
    api: Api, request_kwargs: dict[str, Any], status: int, error: str
) -> None:
    # When the token endpoint is asked with a wrong secret, no Basic auth, or another grant type
    response = api.session.post(
        f"{api.base}/oauth/token",
        auth=request_kwargs.get("auth"),
        data={"grant_type": request_kwargs.get("grant", "client_credentials")},
        timeout=REQUEST_TIMEOUT_S,
    )

    # Then it is refused with the OAuth error shape, and no token is issued
    assert response.status_code == status
    assert response.json()["error"] == error
    assert api.simulator.stats()["tokens_issued"] == 0


def test_a_token_expires_after_its_lifetime(
    make_sim: Callable[..., GenesysSimulator], clock: FakeClock
) -> None:
    # Given a token that lives 300 s
    api = Api(make_sim(token_ttl_seconds=300))
    assert api.fetch_token().json()["expires_in"] == 300

    # When 299 s pass it still works; when the 300th second passes it does not
    clock.advance(299)
    assert api.multi_get([SOME_ID]).status_code == 200
    clock.advance(1)
    expired = api.multi_get([SOME_ID])

    # Then the API answers 401 in Genesys' error shape, and a fresh token works again
    assert expired.status_code == 401
    assert expired.json()["code"] == "bad.credentials"
    assert expired.json()["status"] == 401
    api.fetch_token()
    assert api.multi_get([SOME_ID]).status_code == 200


def test_unknown_or_missing_bearer_is_refused(api: Api) -> None:
    unknown = api.session.get(
        f"{api.base}{DETAILS}",
        params={"id": SOME_ID},
        headers={"Authorization": "Bearer forged"},
        timeout=REQUEST_TIMEOUT_S,
    )
    missing = api.session.get(f"{api.base}{DETAILS}", params={"id": SOME_ID}, timeout=REQUEST_TIMEOUT_S)

    assert unknown.status_code == 401
    assert unknown.json()["code"] == "bad.credentials"
    assert missing.status_code == 401
    assert missing.json()["code"] == "authentication.required"


def test_revoke_tokens_invalidates_issued_tokens(api: Api) -> None:
    # Given a working token
    assert api.multi_get([SOME_ID]).status_code == 200

    # When an operator revokes the client's tokens
    revoked = api.simulator.revoke_tokens()

    # Then the old token gets 401 and a new one is accepted
    assert revoked == 1
    assert api.multi_get([SOME_ID]).status_code == 401
    api.fetch_token()
    assert api.multi_get([SOME_ID]).status_code == 200
