"""Configuration of the simulator: credentials, limits, timings and fault profiles."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from genesys_simulator.details_jobs import PastAvailability
from genesys_simulator.details_rendering import ATTRIBUTE_VALUE_MAX_CHARS
from genesys_simulator.faults import NAMED_PROFILES, FaultProfile
from genesys_simulator.listings import PERMISSIONS
from genesys_simulator.org import HOME_DIVISION_ID, OrgSpec

BudgetScope = Literal["token", "client"]

__all__ = ["NAMED_PROFILES", "BudgetScope", "FaultProfile", "SimulatorConfig"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatorConfig:
    """Everything a GenesysSimulator needs; the defaults mirror Genesys Cloud's documented ones, or
    say where they are assumptions."""

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
    # Details jobs (genesys_simulator.details_jobs). Unconfirmed for the real API: the delays, the
    # limits and the lag below are assumptions (docs/genesys-api.md, "Jobs" and "Availability" name
    # the limits without values); local runs scale the delays like their other timings.
    # QUEUED until job_queued_s after submission, PENDING until job_fulfilled_after_s, then
    # FULFILLED (or FAILED by a fault); results expire job_results_ttl_s after that (EXPIRED, 404).
    job_queued_s: float = 2.0
    job_fulfilled_after_s: float = 20.0
    job_results_ttl_s: float = 86_400.0
    # Results page size when none is asked for, and the largest accepted (public connectors use 1000).
    job_results_page_size: int = 1000
    job_results_max_page_size: int = 1000
    # Jobs QUEUED or PENDING at once; one more is refused with 429 and Retry-After. None: no limit.
    max_concurrent_jobs: int | None = 5
    # dataAvailabilityDate = simulated now - this lag (the fixture's results page shows a date 16 h
    # after its conversation). A job whose interval ends after that date finishes FULFILLED and,
    # with "omit", leaves out every conversation with activity after the date; "include" is lenient.
    data_availability_lag_s: float = 6 * 3600.0
    # A fixed dataAvailabilityDate instead of the lagging one (GenesysSimulator.set_data_availability_date
    # changes it at run time), e.g. past the end of today so a local run can audit today.
    data_availability_date: datetime | None = None
    job_results_past_availability: PastAvailability = "omit"
    # Participant attribute values in jobs results are cut at this many characters.
    attribute_value_max_chars: int = ATTRIBUTE_VALUE_MAX_CHARS
    faults: FaultProfile = field(default_factory=lambda: NAMED_PROFILES["none"])
    seed: int = 0
    port: int = 0
    # Per-request records kept in memory (oldest dropped first); None keeps all, 0 keeps none.
    # Counters in stats() are always complete.
    max_recorded_requests: int | None = 100_000
    # The org the conversations route through and the listings serve (genesys_simulator.org); its
    # home division has this id.
    org: OrgSpec = field(default_factory=OrgSpec)
    division_id: str = HOME_DIVISION_ID
    # Listings answered 403 (missing permission), by name: queues, users, wrapupcodes, divisions,
    # skills, languages (genesys_simulator.listings).
    forbidden_listings: frozenset[str] = frozenset()
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
        if self.job_results_max_page_size < self.job_results_page_size:
            raise ValueError("job_results_max_page_size must not be below job_results_page_size")
        if self.max_concurrent_jobs is not None and self.max_concurrent_jobs < 1:
            raise ValueError("max_concurrent_jobs must be at least 1 (None: no limit)")
        for name in ("job_queued_s", "job_results_ttl_s", "data_availability_lag_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.data_availability_date is not None and self.data_availability_date.tzinfo is None:
            raise ValueError("data_availability_date needs a time zone (UTC)")
        if self.job_results_past_availability not in ("omit", "include"):
            raise ValueError("job_results_past_availability must be 'omit' or 'include'")
        if self.attribute_value_max_chars < 1:
            raise ValueError("attribute_value_max_chars must be positive")
        if not 0 <= self.port <= 65_535:
            raise ValueError("port must be between 0 and 65535")
        if self.job_fulfilled_after_s < self.job_queued_s:
            raise ValueError("job_fulfilled_after_s must not be before job_queued_s")
        if unknown := sorted(set(self.forbidden_listings) - set(PERMISSIONS)):
            raise ValueError(f"forbidden_listings: unknown {unknown}; known: {', '.join(PERMISSIONS)}")
