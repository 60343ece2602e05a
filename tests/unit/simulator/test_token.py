"""The client-credentials token endpoint and bearer checks on API calls."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from genesys_simulator import GenesysSimulator
from tests.unit.simulator.conftest import CLIENT_SECRET, DETAILS, Api, FakeClock

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


def test_wrong_secret_is_refused_with_invalid_client(api: Api) -> None:
    # When the secret is wrong
    response = api.fetch_token(secret="not-" + CLIENT_SECRET)

    # Then 401 with the OAuth error shape, and no token is issued
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert api.simulator.stats()["tokens_issued"] == 0


def test_missing_basic_auth_is_refused(api: Api) -> None:
    response = api.session.post(
        f"{api.base}/oauth/token", data={"grant_type": "client_credentials"}, timeout=5
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_other_grant_types_are_refused(api: Api) -> None:
    response = api.fetch_token(grant="password")

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


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
        f"{api.base}{DETAILS}", params={"id": SOME_ID}, headers={"Authorization": "Bearer forged"}, timeout=5
    )
    missing = api.session.get(f"{api.base}{DETAILS}", params={"id": SOME_ID}, timeout=5)

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
