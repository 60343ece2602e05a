"""When to retry, how long to wait, and when to hand the work back instead: tenacity, configured.

Retried, at most `max_attempts` attempts:
- 429: waiting exactly its Retry-After, or exponential backoff with jitter when it has none;
- 502/503/504: waiting their Retry-After when they carry one, else 3 s, 9 s, 27 s ... (x3 per attempt), so
  that an outage does not burn every attempt within seconds (our own schedule: the official SDKs retry
  nothing by default, and when enabled wait 3 s five times, then 3^n s with n stepping up every 5
  minutes; docs/genesys-api.md, "Rate limits and errors");
- connection errors and timeouts: exponential backoff with jitter (0.5, 1, 2 ... s).
Not slept: a wait that would pass the caller's deadline, or a Retry-After above the cap (a daily limit;
the official SDKs give up above 180 s). Those raise RateLimited / GenesysUnavailable at
once with retry_after, so a Lambda returns the message to its queue instead of burning its timeout.
Everything else propagates unchanged on the first attempt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final, NoReturn, TypeVar

from tenacity import RetryCallState, Retrying, wait_exponential_jitter

from .errors import GenesysUnavailable, RateLimited
from .transport import TRANSIENT_EXCEPTIONS, ThrottledResponse, TransientResponse

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_MAX_ATTEMPTS: Final = 5
MAX_RETRY_AFTER_SECONDS: Final = 180.0
# A 5xx without Retry-After: the first wait, multiplied by this factor for every further attempt. Read
# at every wait, so the local runner can compress it with the rest of its time (local_runner/harness.py).
TRANSIENT_FIRST_WAIT_SECONDS = 3.0
TRANSIENT_WAIT_FACTOR: Final = 3.0
_RETRYABLE: Final = (ThrottledResponse, TransientResponse, *TRANSIENT_EXCEPTIONS)


class RetryPolicy:
    """Runs a callable under the project's retry rules, sleeping only through the injected `sleep`."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        max_retry_after: float = MAX_RETRY_AFTER_SECONDS,
        backoff: Callable[[RetryCallState], float] | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._clock = clock
        self._sleep = sleep
        self.max_attempts = max_attempts
        self.max_retry_after = max_retry_after
        # 0.5, 1, 2, 4 ... s plus up to 0.5 s of jitter, so callers that failed together spread out.
        self._backoff = backoff or wait_exponential_jitter(multiplier=0.5, max=30.0, jitter=0.5)

    def call(self, fn: Callable[[], T], *, deadline: float | None, what: str) -> T:
        """`fn()` with retries; `what` names the request in log lines and errors (method and path only)."""
        retrying = Retrying(
            sleep=self._sleep,
            retry=self._should_retry,
            wait=self._wait,
            stop=lambda state: self._stop_reason(state, deadline) is not None,
            before_sleep=lambda state: self._log_retry(state, what),
            retry_error_callback=lambda state: self._give_up(state, deadline, what),
        )
        return retrying(fn)

    def _should_retry(self, state: RetryCallState) -> bool:
        outcome = state.outcome
        return outcome is not None and isinstance(outcome.exception(), _RETRYABLE)

    def _wait(self, state: RetryCallState) -> float:
        error = _failure(state)
        if isinstance(error, ThrottledResponse | TransientResponse) and error.retry_after is not None:
            return error.retry_after  # exactly what Genesys asked for: less gets another 429 or 503
        if isinstance(error, TransientResponse):
            # 3, 9, 27 ... s: Genesys is having an outage, which seconds-apart retries cannot outlast.
            exponent = min(state.attempt_number - 1, 10)
            return min(TRANSIENT_FIRST_WAIT_SECONDS * TRANSIENT_WAIT_FACTOR**exponent, self.max_retry_after)
        return float(self._backoff(state))

    def _stop_reason(self, state: RetryCallState, deadline: float | None) -> str | None:
        """Why not to sleep and retry, or None to go ahead. tenacity computes the wait before asking
        whether to stop, so `state.upcoming_sleep` is the wait in question."""
        error = _failure(state)
        if (
            isinstance(error, ThrottledResponse | TransientResponse)
            and error.retry_after is not None
            and error.retry_after > self.max_retry_after
        ):
            return f"Retry-After {error.retry_after:g} s is above the {self.max_retry_after:g} s cap"
        if deadline is not None and self._clock() + state.upcoming_sleep > deadline:
            return f"a wait of {state.upcoming_sleep:.3f} s would pass the deadline"
        if state.attempt_number >= self.max_attempts:
            return f"still failing after {state.attempt_number} attempts"
        return None

    def _give_up(self, state: RetryCallState, deadline: float | None, what: str) -> NoReturn:
        error = _failure(state)
        reason = self._stop_reason(state, deadline) or "gave up"
        message = f"{what}: {error}; {reason}"
        if isinstance(error, ThrottledResponse):
            if error.retry_after is not None and error.retry_after > self.max_retry_after:
                raise RateLimited(message, retry_after=error.retry_after) from error
            raise RateLimited(message, retry_after=state.upcoming_sleep) from error
        if isinstance(error, TransientResponse) and error.retry_after is not None:
            raise GenesysUnavailable(message, retry_after=error.retry_after) from error
        raise GenesysUnavailable(message, retry_after=state.upcoming_sleep) from error

    def _log_retry(self, state: RetryCallState, what: str) -> None:
        logger.warning(
            "%s: %s; retrying in %.3f s (attempt %d of %d)",
            what,
            _failure(state),
            state.upcoming_sleep,
            state.attempt_number,
            self.max_attempts,
        )


def _failure(state: RetryCallState) -> BaseException | None:
    return state.outcome.exception() if state.outcome is not None else None
