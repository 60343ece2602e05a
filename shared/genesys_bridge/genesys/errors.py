"""The client's exceptions: one base, and a split the caller can act on without parsing messages.

- GenesysApiError: Genesys answered and said no (a 4xx other than 429, a 500, a second 401). Retrying the
  same request will not help; the caller records a failure.
- RetryLater and its two subclasses: the request may well succeed later, but not within this call's
  budget. The caller hands the work back to its queue, ideally after `retry_after` seconds.

Every exception passes all its fields to Exception.__init__, so `args` matches the constructor and the
exceptions survive pickling (multiprocessing, some test runners). No message ever contains a token or a
client secret: messages are built from status codes, Genesys error bodies and our own text only.
"""

from __future__ import annotations


class GenesysError(Exception):
    """Base class for everything this client raises on purpose."""


class _ErrorResponse(GenesysError):
    """An error answer from Genesys: status, Genesys error code, message and correlation id."""

    summary = "Genesys error"

    def __init__(self, status: int, code: str | None, message: str, correlation_id: str | None) -> None:
        super().__init__(status, code, message, correlation_id)
        self.status = status
        self.code = code
        self.message = message
        self.correlation_id = correlation_id

    def __str__(self) -> str:
        return (
            f"{self.summary} {self.status} (code={self.code or '-'}, "
            f"correlation_id={self.correlation_id or '-'}): {self.message}"
        )


class GenesysApiError(_ErrorResponse):
    """A non-retryable error response from Genesys."""

    summary = "Genesys API error"


class GenesysAuthError(_ErrorResponse):
    """The login endpoint refused the client credentials (wrong, revoked or rotated secret).

    Deliberately not a GenesysApiError: a 400 from the login endpoint says nothing about the ids of
    the request that needed the token, and must never be mistaken for one that does.
    """

    summary = "Genesys refused the client credentials:"


class RetryLater(GenesysError):
    """The work should go back to the queue; `retry_after` (seconds) is a hint, None if unknown."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message, retry_after)
        self.message = message
        self.retry_after = retry_after

    def __str__(self) -> str:
        if self.retry_after is None:
            return self.message
        return f"{self.message} (retry after {self.retry_after:g} s)"


class RateLimited(RetryLater):
    """A 429 whose wait does not fit (past the deadline, or Retry-After above the cap), or a pacing
    wait that does not fit the deadline."""


class GenesysUnavailable(RetryLater):
    """502/503/504, connection errors or timeouts that outlasted the bounded attempts or the deadline."""


class QueryTooLarge(GenesysError, ValueError):
    """A details query that would page past Genesys's 100,000-result cap; use the jobs API instead."""


class PagingError(GenesysError):
    """A pager saw the same nextUri or cursor twice, ran past its page budget, or was sent off-host."""


class JobFailed(GenesysError):
    """An analytics details job ended in FAILED, CANCELLED or EXPIRED."""

    def __init__(self, job_id: str, state: str, message: str) -> None:
        super().__init__(job_id, state, message)
        self.job_id = job_id
        self.state = state
        self.message = message

    def __str__(self) -> str:
        return f"analytics details job {self.job_id} ended {self.state}: {self.message}"
