"""Client-side pacing, so that Genesys's 429s are the exception and not the control loop.

Requests get evenly spaced slots, `60 / max_requests_per_minute` seconds apart. Unlike a token bucket
with a burst allowance, evenly spaced slots can never put more than the budget into any 60-second
window, whatever the window's alignment, which is what a rolling server-side limit counts. The cost is
that an idle client earns no burst credit; for a processor that drains a queue, that is the right trade.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .errors import RateLimited


class RequestPacer:
    """Hands out send times at most `max_requests_per_minute` per minute; thread-safe."""

    def __init__(
        self, max_requests_per_minute: int, *, clock: Callable[[], float], sleep: Callable[[float], None]
    ) -> None:
        if max_requests_per_minute <= 0:
            raise ValueError(f"max_requests_per_minute must be positive, got {max_requests_per_minute}")
        self.max_requests_per_minute = max_requests_per_minute
        self.interval = 60.0 / max_requests_per_minute
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot: float | None = None

    def acquire(self, deadline: float | None = None) -> float:
        """Wait for this caller's slot and return its time (on the injected clock).

        The slot is reserved under the lock and slept for outside it, so concurrent callers queue up in
        order without holding each other up. A wait that would pass `deadline` reserves nothing and
        raises RateLimited at once, carrying the wait as retry_after.
        """
        with self._lock:
            now = self._clock()
            slot = now if self._next_slot is None else max(now, self._next_slot)
            wait = slot - now
            if deadline is not None and wait > 0 and slot > deadline:
                raise RateLimited(
                    f"pacing wait of {wait:.3f} s would pass the deadline "
                    f"(budget {self.max_requests_per_minute} requests per minute)",
                    retry_after=wait,
                )
            self._next_slot = slot + self.interval
        if wait > 0:
            self._sleep(wait)
        return slot
