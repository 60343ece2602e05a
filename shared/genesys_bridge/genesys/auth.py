"""OAuth client-credentials tokens: fetched once, shared by every thread, refreshed before expiry.

The secret and the token live in objects whose repr is redacted, so neither can reach a log line, a
traceback's locals or an error message by accident. Token requests are not paced (they do not count
against the API budget), but they do go through the retry policy: a 503 from the login host is as
transient as one from the API.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import requests
from requests.auth import HTTPBasicAuth

from .errors import GenesysApiError, GenesysAuthError, GenesysError
from .retry import RetryPolicy
from .stats import GenesysStats
from .transport import check_response, json_object, send

logger = logging.getLogger(__name__)

# Refresh this long before expiry: the smaller of a minute and a tenth of the lifetime (tokens can be
# configured as short as 5 minutes), so a token is never sent in its last seconds of validity.
REFRESH_MARGIN_SECONDS: Final = 60.0
REFRESH_MARGIN_FRACTION: Final = 0.1


class Secret:
    """A string that never shows itself in repr or str."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


@dataclass(frozen=True)
class AccessToken:
    value: Secret
    refresh_at: float  # on the injected clock
    expires_in: float = field(default=0.0)


class TokenProvider:
    """One cached token per client; thread-safe, with at most one fetch in flight."""

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        session: requests.Session,
        clock: Callable[[], float],
        retry: RetryPolicy,
        stats: GenesysStats,
    ) -> None:
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret are required")
        self._token_url = token_url
        self._client_id = client_id
        self._client_secret = Secret(client_secret)
        self._session = session
        self._clock = clock
        self._retry = retry
        self._stats = stats
        self._lock = threading.Lock()
        self._token: AccessToken | None = None

    @property
    def client_id(self) -> str:
        return self._client_id

    def token(self, deadline: float | None = None) -> str:
        """A valid bearer token. Double-checked: the fast path reads the cached (immutable) token
        without the lock; only a missing or stale token takes the lock, and whoever gets it second
        finds the first one's fresh token instead of fetching again."""
        current = self._token
        if current is not None and self._clock() < current.refresh_at:
            return current.value.reveal()
        with self._lock:
            current = self._token
            if current is None or self._clock() >= current.refresh_at:
                current = self._fetch(deadline)
                self._token = current
            return current.value.reveal()

    def replace_credentials(self, client_id: str, client_secret: str) -> bool:
        """Use new credentials from now on (a rotated secret); True if they changed, which also drops
        the cached token so that the next request proves the new ones."""
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret are required")
        with self._lock:
            if client_id == self._client_id and client_secret == self._client_secret.reveal():
                return False
            self._client_id = client_id
            self._client_secret = Secret(client_secret)
            self._token = None
            return True

    def invalidate(self, rejected: str) -> None:
        """Drop the cached token after a 401, unless another thread already replaced it (then the
        rejected one is gone and the fresh one must not be thrown away)."""
        with self._lock:
            if self._token is not None and self._token.value.reveal() == rejected:
                self._token = None

    def _fetch(self, deadline: float | None) -> AccessToken:
        requested_at = self._clock()  # the lifetime starts no later than our request
        try:
            body = self._retry.call(self._request_once, deadline=deadline, what="POST /oauth/token")
        except GenesysApiError as refused:
            raise GenesysAuthError(
                refused.status, refused.code, refused.message, refused.correlation_id
            ) from refused
        access_token = body.get("access_token")
        expires_in = body.get("expires_in")
        if not isinstance(access_token, str) or not access_token:
            raise GenesysError("token response carried no access_token")
        if not isinstance(expires_in, int | float) or isinstance(expires_in, bool) or expires_in <= 0:
            raise GenesysError("token response carried no positive expires_in")
        margin = min(REFRESH_MARGIN_SECONDS, expires_in * REFRESH_MARGIN_FRACTION)
        logger.info("fetched a Genesys access token valid for %d s", expires_in)
        return AccessToken(Secret(access_token), requested_at + expires_in - margin, float(expires_in))

    def _request_once(self) -> dict[str, object]:
        self._stats.increment("token_requests")
        response = send(
            self._session,
            self._stats,
            "POST",
            self._token_url,
            auth=HTTPBasicAuth(self._client_id, self._client_secret.reveal()),
            data={"grant_type": "client_credentials"},
        )
        check_response(response, self._stats)
        return json_object(response)

    def __repr__(self) -> str:
        cached = "none" if self._token is None else "cached"
        return f"TokenProvider(token_url={self._token_url!r}, client_id={self._client_id!r}, token={cached})"
