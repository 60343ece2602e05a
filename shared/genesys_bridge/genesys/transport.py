"""HTTP plumbing shared by the token provider and the API calls: the pooled session, one send that
counts what happened, and the mapping from a response to "done", "retry" or "give up"."""

from __future__ import annotations

import logging
from typing import Any, Final
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from .errors import GenesysApiError, GenesysError
from .stats import GenesysStats

logger = logging.getLogger(__name__)

# (connect, read) seconds. Connect is short because a healthy endpoint answers a SYN at once; read is
# long enough for a 100-id multi-get or a large query page, short enough to leave a Lambda room to react.
DEFAULT_TIMEOUT: Final = (3.05, 30.0)
# A few processor threads (or a local runner's workers) share one client; keep their connections warm.
POOL_SIZE: Final = 8
TRANSIENT_STATUSES: Final = frozenset({502, 503, 504})
# A connection that drops while the body is read surfaces as ChunkedEncodingError/ContentDecodingError,
# which are not ConnectionErrors, but just as transient.
TRANSIENT_EXCEPTIONS: Final = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
CORRELATION_HEADER: Final = "ININ-Correlation-Id"
_MAX_MESSAGE_CHARS: Final = 500


class ThrottledResponse(Exception):  # an outcome tenacity retries on, never raised to callers
    """A 429; `retry_after` is the Retry-After header in seconds, None when absent or unparseable."""

    def __init__(self, retry_after: float | None, correlation_id: str | None) -> None:
        super().__init__(retry_after, correlation_id)
        self.retry_after = retry_after
        self.correlation_id = correlation_id

    def __str__(self) -> str:
        header = "no Retry-After" if self.retry_after is None else f"Retry-After {self.retry_after:g} s"
        return f"429 Too Many Requests ({header})"


class TransientResponse(Exception):  # an outcome tenacity retries on, never raised to callers
    """A 502/503/504; `retry_after` is its Retry-After header in seconds, None when absent."""

    def __init__(self, status: int, correlation_id: str | None, retry_after: float | None = None) -> None:
        super().__init__(status, correlation_id, retry_after)
        self.status = status
        self.correlation_id = correlation_id
        self.retry_after = retry_after

    def __str__(self) -> str:
        if self.retry_after is None:
            return f"HTTP {self.status}"
        return f"HTTP {self.status} (Retry-After {self.retry_after:g} s)"


def new_session() -> requests.Session:
    """A session with a connection pool sized for a few threads."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=2, pool_maxsize=POOL_SIZE)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = "genesys-analytics-bridge"
    return session


def send(
    session: requests.Session, stats: GenesysStats, method: str, url: str, **kwargs: Any
) -> requests.Response:
    """One HTTP exchange with a timeout, never following redirects.

    Redirects are refused because a bearer token must only ever go to the configured host; Genesys's
    API does not redirect, so a 3xx is reported as an error rather than followed.
    """
    kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
    try:
        return session.request(method, url, allow_redirects=False, **kwargs)
    except TRANSIENT_EXCEPTIONS:
        stats.increment("errors")
        raise


def check_response(response: requests.Response, stats: GenesysStats) -> None:
    """Return if 2xx; else count it and raise what the retry policy needs to decide."""
    status = response.status_code
    if 200 <= status < 300:
        return
    correlation_id = response.headers.get(CORRELATION_HEADER)
    if status == 429:
        stats.increment("throttled")
        raise ThrottledResponse(parse_retry_after(response.headers.get("Retry-After")), correlation_id)
    # A 404 is no sign of a failing Genesys: the multi-get may answer it for ids not in analytics yet
    # (docs/genesys-api.md, "Multi-get"), and GenesysErrorRate must not alarm on normal traffic.
    stats.increment("not_found" if status == 404 else "errors")
    if status in TRANSIENT_STATUSES:
        raise TransientResponse(
            status, correlation_id, parse_retry_after(response.headers.get("Retry-After"))
        )
    raise api_error(response)


def api_error(response: requests.Response) -> GenesysApiError:
    """GenesysApiError from an error response: Genesys's body (message, code, contextId) or OAuth's
    (error, error_description), whichever is there, else the HTTP reason."""
    body = _json_or_none(response)
    fields = body if isinstance(body, dict) else {}
    message = _first_str(fields, "message", "error_description", "description") or response.reason or ""
    code = _first_str(fields, "code", "error")
    correlation_id = response.headers.get(CORRELATION_HEADER) or _first_str(fields, "contextId")
    return GenesysApiError(response.status_code, code, message[:_MAX_MESSAGE_CHARS], correlation_id)


def json_object(response: requests.Response) -> dict[str, Any]:
    """The JSON object in a 2xx body; anything else is a GenesysError (we never guess at partial data)."""
    body = _json_or_none(response)
    if not isinstance(body, dict):
        raise GenesysError(
            f"expected a JSON object from {response.request.method} {_path_of(response)}, "
            f"got {response.headers.get('Content-Type', 'no content type')}"
        )
    return body


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header. Genesys always sends delta-seconds; an HTTP-date or garbage
    yields None, and the retry policy falls back to exponential backoff."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _first_str(fields: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = fields.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _path_of(response: requests.Response) -> str:
    return urlsplit(response.url).path
