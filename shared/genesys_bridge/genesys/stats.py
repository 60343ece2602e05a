"""Thread-safe counters a caller can publish as metrics (e.g. once per Lambda invocation)."""

from __future__ import annotations

import threading


class GenesysStats:
    """Counts of what this client sent and got back.

    requests: API requests sent (token requests not included); throttled: 429 answers (API or token);
    not_found: 404 answers (the multi-get may answer 404 for ids analytics does not know yet: normal
    traffic, so not an error); errors: other non-2xx answers plus connection errors and timeouts;
    token_requests: token fetches.
    """

    _FIELDS = ("requests", "throttled", "not_found", "errors", "token_requests")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(self._FIELDS, 0)

    def increment(self, name: str, by: int = 1) -> None:
        if name not in self._counts:
            raise KeyError(name)
        with self._lock:
            self._counts[name] += by

    @property
    def requests(self) -> int:
        return self._get("requests")

    @property
    def throttled(self) -> int:
        return self._get("throttled")

    @property
    def errors(self) -> int:
        return self._get("errors")

    @property
    def token_requests(self) -> int:
        return self._get("token_requests")

    def snapshot(self) -> dict[str, int]:
        """A consistent copy of all counters, taken under the lock."""
        with self._lock:
            return dict(self._counts)

    def _get(self, name: str) -> int:
        with self._lock:
            return self._counts[name]

    def __repr__(self) -> str:
        return f"GenesysStats({self.snapshot()})"
