"""Configuration of the simulator: credentials, limits, timings and fault profiles."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from genesys_simulator.faults import NAMED_PROFILES, FaultProfile

BudgetScope = Literal["token", "client"]

__all__ = ["NAMED_PROFILES", "BudgetScope", "FaultProfile", "SimulatorConfig"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatorConfig:
    """Everything a GenesysSimulator needs; the defaults mirror Genesys Cloud's documented ones."""

    client_id: str = "simulator-client"
    client_secret: str = "simulator-secret"
    token_ttl_seconds: int = 86_400
    # Genesys' default client.credentials.token.rate.per.minute; None or 0 turns the budget off.
    requests_per_minute: int | None = 300
    # "token" as Genesys does; "client" keeps one budget across token renewals (stricter accounting).
    budget_scope: BudgetScope = "token"
    max_ids_per_request: int = 100
    max_query_page_size: int = 100
    max_query_results: int = 100_000
    max_interval_days: int = 31
    # Jobs are QUEUED until job_queued_s, PENDING until job_fulfilled_after_s, then FULFILLED.
    job_queued_s: float = 0.2
    job_fulfilled_after_s: float = 1.0
    job_results_page_size: int = 1000
    faults: FaultProfile = field(default_factory=lambda: NAMED_PROFILES["none"])
    seed: int = 0
    port: int = 0
    # Per-request records kept in memory (oldest dropped first); None keeps all, 0 keeps none.
    # Counters in stats() are always complete.
    max_recorded_requests: int | None = 100_000
    division_id: str = "3f9b1c77-6e24-4a08-b5d3-9c0e8a1f7b42"
    # Injected so tests can move time without waiting: monotonic seconds, and the delay of slow faults.
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        if not self.client_id or not self.client_secret:
            raise ValueError("client_id and client_secret must not be empty")
        if self.token_ttl_seconds < 1:
            raise ValueError("token_ttl_seconds must be positive")
        if self.requests_per_minute is not None and self.requests_per_minute < 0:
            raise ValueError("requests_per_minute must not be negative")
        if self.budget_scope not in ("token", "client"):
            raise ValueError("budget_scope must be 'token' or 'client'")
        if self.max_ids_per_request < 1 or self.max_query_page_size < 1 or self.job_results_page_size < 1:
            raise ValueError("id and page limits must be positive")
        if not 0 <= self.port <= 65_535:
            raise ValueError("port must be between 0 and 65535")
        if self.job_fulfilled_after_s < self.job_queued_s:
            raise ValueError("job_fulfilled_after_s must not be before job_queued_s")
