"""Fault profiles: which API requests the simulator fails, slows, throttles or meets with a revocation.

Every fault is scheduled by request ordinals, never by wall-clock time, so a run with the same
request sequence meets the same faults however fast it goes. Rates are spread evenly: a rate r puts
exactly one fault, at a seeded position, in each block of 1/r consecutive requests (10% = one in
every 10). A run of a few dozen requests, which is what 200 conversations cost the processor
(batches of up to 100 ids), therefore meets every fault of its profile; independent draws at 5%
would leave 36% of 20-request runs (0.95^20) without a single slow answer.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from fractions import Fraction


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultProfile:
    """Faults injected into API calls (not the token endpoint unless ``token_error_rate_5xx`` is set)
    and into details jobs (``job_failure_rate``, ``fail_jobs``: the job ends FAILED).

    Ordinals count from 1 since the profile was set. Rate faults count the requests they can hit:
    5xx the API requests admitted past authentication and the budget, slow answers those of them
    not failed (a 5xx is answered at once), token errors the token requests, job failures the
    jobs submitted.
    """

    name: str = "custom"
    # Share of admitted API requests answered 503 or 504 (seeded choice between them).
    error_rate_5xx: float = 0.0
    # Share of admitted API requests not failed by error_rate_5xx delayed by slow_seconds.
    slow_rate: float = 0.0
    slow_seconds: float = 0.0
    # 429 bursts regardless of the budget: API requests f..f+length-1, f+n..f+n+length-1, ... where
    # f is storm_first_at (0 = storm_every_n) and n is storm_every_n.
    storm_every_n: int = 0
    storm_length: int = 0
    storm_retry_after_s: int = 1
    storm_first_at: int = 0
    # Revoke every live token just before API request n, 2n, ... and before each listed ordinal.
    revoke_every_n: int = 0
    revoke_at_requests: tuple[int, ...] = ()
    # Share of token requests answered 503 (a flaky login service).
    token_error_rate_5xx: float = 0.0
    # Details jobs that end FAILED instead of FULFILLED: a share of submissions, and listed ordinals.
    job_failure_rate: float = 0.0
    fail_jobs: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for rate_name in ("error_rate_5xx", "slow_rate", "token_error_rate_5xx", "job_failure_rate"):
            rate = getattr(self, rate_name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{rate_name} must be between 0 and 1, got {rate}")
        for count_name in ("storm_every_n", "storm_length", "storm_first_at", "revoke_every_n"):
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
        if any(ordinal < 1 for ordinal in self.fail_jobs):
            raise ValueError("fail_jobs holds 1-based job submission ordinals")

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

    # ---- the schedule ------------------------------------------------------------------------------

    def storms_at(self, ordinal: int) -> bool:
        """API request ``ordinal`` falls in a 429 storm."""
        if self.storm_every_n <= 0 or self.storm_length <= 0:
            return False
        first = self.storm_first_at or self.storm_every_n
        return ordinal >= first and (ordinal - first) % self.storm_every_n < self.storm_length

    def revokes_at(self, ordinal: int) -> bool:
        """Every live token is revoked just before API request ``ordinal``."""
        return ordinal in self.revoke_at_requests or (
            self.revoke_every_n > 0 and ordinal % self.revoke_every_n == 0
        )

    def fails_at(self, admitted_ordinal: int, seed: int) -> bool:
        """Admitted API request ``admitted_ordinal`` is answered 503 or 504."""
        return spread_evenly(self.error_rate_5xx, admitted_ordinal, seed, "5xx")

    def slows_at(self, answered_ordinal: int, seed: int) -> bool:
        """The ``answered_ordinal``-th admitted request not failed waits ``slow_seconds`` first."""
        return spread_evenly(self.slow_rate, answered_ordinal, seed, "slow")

    def fails_job_at(self, job_ordinal: int, seed: int) -> bool:
        """The ``job_ordinal``-th details job submitted ends FAILED."""
        return job_ordinal in self.fail_jobs or spread_evenly(self.job_failure_rate, job_ordinal, seed, "job")

    def fails_token_at(self, token_ordinal: int, seed: int) -> bool:
        """Token request ``token_ordinal`` is answered 503."""
        return spread_evenly(self.token_error_rate_5xx, token_ordinal, seed, "token")


def spread_evenly(rate: float, ordinal: int, seed: int, kind: str) -> bool:
    """Whether the ``ordinal``-th (1-based) request gets a fault of ``kind`` at ``rate``.

    The requests are cut into consecutive blocks of 1/rate (exactly, as a fraction: 0.3 makes blocks
    of 3, 3 and 4) and each block has one fault at a position drawn from (seed, kind, block).
    """
    if rate <= 0 or ordinal < 1:
        return False
    share = Fraction(rate).limit_denominator(1_000_000)
    index = ordinal - 1
    block = math.floor(index * share)
    first = math.ceil(block / share)
    size = math.ceil((block + 1) / share) - first
    # A string seed hashes the same in every process (unlike hash()), so runs are reproducible.
    position = random.Random(f"{seed}:{kind}:{block}").randrange(size)
    return index == first + position


_FLAKY = FaultProfile(name="flaky", error_rate_5xx=0.10)
_SLOW = FaultProfile(name="slow", slow_rate=0.10, slow_seconds=0.5)
# The first storm early and then every 12 requests, so that even a run of a dozen requests meets one.
_STORM = FaultProfile(name="storm", storm_first_at=4, storm_every_n=12, storm_length=2, storm_retry_after_s=1)
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
        storm_first_at=_STORM.storm_first_at,
        revoke_every_n=_REVOKE.revoke_every_n,
        revoke_at_requests=_REVOKE.revoke_at_requests,
        # The first details job of a run fails: an audit must submit it again.
        fail_jobs=(1,),
    ),
}
