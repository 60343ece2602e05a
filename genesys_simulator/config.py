"""Configuration of the simulator: credentials, limits, timings and fault profiles."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

BudgetScope = Literal["token", "client"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultProfile:
    """Faults injected into API calls (not the token endpoint unless ``token_error_rate_5xx`` is set).

    Rates are shares of API requests drawn from the simulator's seeded random generator. Storms and
    revocations are scheduled by the ordinal of the API request since the profile was set, so a run
    with the same request sequence sees the same faults whatever the wall-clock timing.
    """

    name: str = "custom"
    # Share of API requests answered 503 or 504 (half each) after auth and budget checks.
    error_rate_5xx: float = 0.0
    # Share of API requests delayed by slow_seconds before they are answered.
    slow_rate: float = 0.0
    slow_seconds: float = 0.0
    # 429 bursts regardless of the budget: API requests n..n+length-1, 2n..2n+length-1, ...
    storm_every_n: int = 0
    storm_length: int = 0
    storm_retry_after_s: int = 1
    # Revoke every live token just before API request n, 2n, ... and before each listed ordinal.
    revoke_every_n: int = 0
    revoke_at_requests: tuple[int, ...] = ()
    # Share of token requests answered 503 (a flaky login service).
    token_error_rate_5xx: float = 0.0

    def __post_init__(self) -> None:
        for rate_name in ("error_rate_5xx", "slow_rate", "token_error_rate_5xx"):
            rate = getattr(self, rate_name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{rate_name} must be between 0 and 1, got {rate}")
        for count_name in ("storm_every_n", "storm_length", "revoke_every_n"):
            if getattr(self, count_name) < 0:
                raise ValueError(f"{count_name} must not be negative")
        if self.slow_seconds < 0:
            raise ValueError("slow_seconds must not be negative")
        if self.storm_retry_after_s < 1:
            raise ValueError("storm_retry_after_s must be at least 1 (Genesys sends whole seconds)")
        if self.storm_every_n and self.storm_length >= self.storm_every_n:
            raise ValueError("storm_length must be shorter than storm_every_n, or nothing gets through")
        if any(ordinal < 1 for ordinal in self.revoke_at_requests):
            raise ValueError("revoke_at_requests holds 1-based request ordinals")

    @classmethod
    def named(cls, name: str) -> FaultProfile:
        """One of NAMED_PROFILES: none, flaky, slow, storm, revoke, chaos."""
        try:
            return NAMED_PROFILES[name]
        except KeyError:
            raise ValueError(f"unknown fault profile {name!r}; known: {', '.join(NAMED_PROFILES)}") from None

    @property
    def active(self) -> bool:
        return self != replace(FaultProfile(), name=self.name)


_FLAKY = FaultProfile(name="flaky", error_rate_5xx=0.10)
_SLOW = FaultProfile(name="slow", slow_rate=0.05, slow_seconds=0.5)
# Frequent and short so that even a run of a few dozen requests meets a storm.
_STORM = FaultProfile(name="storm", storm_every_n=25, storm_length=3, storm_retry_after_s=1)
_REVOKE = FaultProfile(name="revoke", revoke_every_n=30, revoke_at_requests=(5,))

NAMED_PROFILES: dict[str, FaultProfile] = {
    "none": FaultProfile(name="none"),
    "flaky": _FLAKY,
    "slow": _SLOW,
    "storm": _STORM,
    "revoke": _REVOKE,
    "chaos": FaultProfile(
        name="chaos",
        error_rate_5xx=_FLAKY.error_rate_5xx,
        slow_rate=_SLOW.slow_rate,
        slow_seconds=_SLOW.slow_seconds,
        storm_every_n=_STORM.storm_every_n,
        storm_length=_STORM.storm_length,
        storm_retry_after_s=_STORM.storm_retry_after_s,
        revoke_every_n=_REVOKE.revoke_every_n,
        revoke_at_requests=_REVOKE.revoke_at_requests,
    ),
}


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
