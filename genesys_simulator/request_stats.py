"""Request statistics: a record per answered request and the counters behind ``GenesysSimulator.stats()``."""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from genesys_simulator.responses import FETCH_ENDPOINTS, TOKEN, ApiResponse


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One answered request: ``at`` on the simulator clock, ``duration_s`` the real time from reading
    the request to the encoded answer (slow faults included, the socket write not)."""

    at: float
    method: str
    path: str
    endpoint: str
    ids: int
    status: int
    duration_s: float
    correlation_id: str
    fault: str | None  # "storm", "budget", "revoked", "5xx", "slow", "job_limit", "job_failed" or None
    conversation_ids: tuple[str, ...] = ()  # a multi-get's ids (benchmarks: who was fetched with whom)


@dataclass(slots=True)
class _Counters:
    started_at: float
    by_endpoint: Counter[str] = field(default_factory=Counter)
    by_status: Counter[int] = field(default_factory=Counter)
    by_endpoint_status: dict[str, Counter[int]] = field(default_factory=dict)
    by_fault: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    token_requests: int = 0
    tokens_issued: int = 0
    ids_requested: int = 0
    ids_in_successful_fetches: int = 0
    successful_fetch_requests: int = 0
    conversations_returned: int = 0
    ended_conversations_returned: int = 0
    settled_conversations_returned: int = 0
    budget_used: int = 0
    revocations: int = 0
    dropped_records: int = 0


class RequestStats:
    """Thread-safe counters (always complete) and the newest ``max_records`` request records."""

    def __init__(self, clock: Callable[[], float], max_records: int | None, budget_per_minute: int) -> None:
        self._clock = clock
        self._budget_per_minute = budget_per_minute
        self._lock = threading.Lock()
        self._counters = _Counters(started_at=clock())
        self._records: deque[RecordedRequest] = deque(maxlen=max_records)

    def record(
        self, method: str, path: str, response: ApiResponse, duration_s: float, correlation_id: str
    ) -> None:
        record = RecordedRequest(
            at=self._clock(),
            method=method,
            path=path,
            endpoint=response.endpoint,
            ids=response.ids,
            status=response.status,
            duration_s=duration_s,
            correlation_id=correlation_id,
            fault=response.fault,
            conversation_ids=response.conversation_ids,
        )
        with self._lock:
            c = self._counters
            c.requests += 1
            c.by_endpoint[response.endpoint] += 1
            c.by_status[response.status] += 1
            c.by_endpoint_status.setdefault(response.endpoint, Counter())[response.status] += 1
            if response.fault:
                c.by_fault[response.fault] += 1
            if response.endpoint == TOKEN:
                c.token_requests += 1
                c.tokens_issued += response.status == 200
            c.ids_requested += response.ids
            if response.endpoint in FETCH_ENDPOINTS and response.status == 200:
                c.successful_fetch_requests += 1
                c.ids_in_successful_fetches += response.ids
                c.conversations_returned += response.conversations
                c.ended_conversations_returned += response.ended_conversations
                c.settled_conversations_returned += response.settled_conversations
            if self._records.maxlen is not None and len(self._records) == self._records.maxlen:
                c.dropped_records += 1
            if self._records.maxlen != 0:
                self._records.append(record)

    def count_admitted(self) -> None:
        """An API request passed authentication and the budget (it costs budget whatever follows)."""
        with self._lock:
            self._counters.budget_used += 1

    def count_revocation(self) -> None:
        with self._lock:
            self._counters.revocations += 1

    @property
    def records(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._records)

    def reset(self) -> None:
        with self._lock:
            self._counters = _Counters(started_at=self._clock())
            self._records.clear()

    def snapshot(self) -> dict[str, Any]:
        """The figures ``GenesysSimulator.stats()`` returns (see there)."""
        with self._lock:
            c = self._counters
            return {
                "requests_total": c.requests,
                "api_requests": c.requests - c.token_requests,
                "token_requests": c.token_requests,
                "tokens_issued": c.tokens_issued,
                "by_endpoint": dict(c.by_endpoint),
                "by_status": dict(c.by_status),
                "by_endpoint_status": {ep: dict(counts) for ep, counts in c.by_endpoint_status.items()},
                "by_fault": dict(c.by_fault),
                "throttled_429": c.by_status.get(429, 0),
                "storm_429": c.by_fault.get("storm", 0),
                "budget_429": c.by_fault.get("budget", 0),
                "unauthorized_401": c.by_status.get(401, 0),
                "server_errors_5xx": sum(n for status, n in c.by_status.items() if status >= 500),
                "bad_requests_400": c.by_status.get(400, 0),
                "slow_responses": c.by_fault.get("slow", 0),
                "revocations": c.revocations,
                "ids_requested": c.ids_requested,
                "ids_in_successful_fetches": c.ids_in_successful_fetches,
                "successful_fetch_requests": c.successful_fetch_requests,
                "conversations_returned": c.conversations_returned,
                "ended_conversations_returned": c.ended_conversations_returned,
                "settled_conversations_returned": c.settled_conversations_returned,
                "budget_used": c.budget_used,
                "budget_per_minute": self._budget_per_minute,
                "elapsed_s": self._clock() - c.started_at,
                "recorded_requests": len(self._records),
                "dropped_records": c.dropped_records,
            }
