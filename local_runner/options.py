"""What a local run can vary (RunOptions), its defaults, and the rules every option must meet.

The rules live here once: RunOptions checks them when it is built (run_pipeline callers), and the
command lines' argparse types (local_runner.cli_options) call the same functions, so a bad value is a
one-line usage error there and a UsageError here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from genesys_simulator import AcwDistribution
    from local_runner.workload import Workload

DEFAULT_TIME_SCALE = 0.05
DEFAULT_CONVERSATIONS = 600
DEFAULT_SEED = 7
DEFAULT_ENVIRONMENT = "dev"
DEFAULT_OUT = Path("out/demo")
DEFAULT_DUPLICATE_RATE = 0.2
DEFAULT_LATE_RATE = 0.1
DEFAULT_NEVER_RATE = 0.0
DEFAULT_MALFORMED_RATE = 0.01
# Conversations whose every event is lost before ingest (a paused integration, a dropped partner event):
# none by default; the closing audit is what finds them.
DEFAULT_DROP_RATE = 0.0
DEFAULT_REOPEN_RATE = 0.0
# With --finalize: the share of landed conversations changed afterwards, as nightly reprocessing would.
DEFAULT_CHANGE_RATE = 0.1
# Genesys' default client-credentials budget, which the simulator applies too
# (docs/genesys-api.md, "Rate limits and errors").
GENESYS_ORG_BUDGET_PER_MINUTE = 300


class UsageError(ValueError):
    """An option or input the run cannot use; the command lines print it as a usage error (exit 2)."""


def check_positive_int(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{name} must be a whole number of at least 1, not {value!r}")
    return value


def check_positive_finite(name: str, value: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise UsageError(f"{name} must be a finite number above 0, not {value!r}")
    return float(value)


def check_audit_day(name: str, value: date, today: date) -> date:
    """A day the audit can enumerate: one that has started (UTC); the audit of today's conversations
    is run as if tomorrow had come (local_runner.audit_days)."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise UsageError(f"{name} must be a date such as 2026-11-20, not {value!r}")
    if value > today:
        raise UsageError(f"{name} {value.isoformat()} lies in the future (today is {today.isoformat()} UTC)")
    return value


def check_genesys_base_url(name: str, value: str) -> str:
    """A Genesys-compatible server's base URL: https, or http on a loopback host only (the rule the
    processor's settings apply, genesys_bridge.regions)."""
    from genesys_bridge.regions import resolve_endpoints

    try:
        return resolve_endpoints("mypurecloud.com", value, value).api_base_url
    except ValueError as error:
        raise UsageError(str(error).replace("api_base_url", name)) from None


def check_rate(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        # "not 0 <= nan <= 1" is True, so NaN is refused here too
        raise UsageError(f"{name} must be a share between 0 and 1, not {value!r}")
    return float(value)


@dataclass(frozen=True)
class RunOptions:
    """Everything a run can vary. Rates are shares (0..1); times are config seconds unless named *_s."""

    conversations: int = DEFAULT_CONVERSATIONS
    seed: int = DEFAULT_SEED
    time_scale: float = DEFAULT_TIME_SCALE
    faults: str = "none"  # a genesys_simulator fault profile name
    environment: str = DEFAULT_ENVIRONMENT
    # The environment's subscribed topics replaced (None: cdk.json's): what another choice costs.
    topics: tuple[str, ...] | None = None
    # Other cdk.json settings replaced, checked by the config's rules (benchmarks: before and after).
    settings: tuple[tuple[str, object], ...] = ()
    out_dir: Path | None = DEFAULT_OUT  # None: export nothing, log to a temporary file
    events_file: Path | None = None
    workload: Workload | None = None  # a prepared workload (benchmarks); overrides the synthetic one
    # A real Genesys org instead of the simulator (read-only multi-gets for ids from events_file).
    genesys_region: str | None = None
    genesys_client_id: str | None = None
    genesys_client_secret: str | None = None
    # Any Genesys-compatible server instead of the simulator, for the processor and the audit alike
    # (ids from events_file; credentials as for a real org). https, or http on loopback.
    genesys_base_url: str | None = None
    # Pacing: the processor's budget (config, scaled) on or off; the simulator's budget per minute
    # (the org's, scaled) or None for no budget.
    paced: bool = True
    simulator_budget_per_minute: int | None = GENESYS_ORG_BUDGET_PER_MINUTE
    # Workload shape
    duplicate_rate: float = DEFAULT_DUPLICATE_RATE
    max_copies: int = 2
    late_rate: float = DEFAULT_LATE_RATE
    never_rate: float = DEFAULT_NEVER_RATE
    malformed_rate: float = DEFAULT_MALFORMED_RATE  # malformed events per valid event
    drop_rate: float = DEFAULT_DROP_RATE  # share of conversations whose events never reach ingest
    # share of conversations that end again after they landed (a reopened messaging thread)
    reopen_rate: float = DEFAULT_REOPEN_RATE
    acw: AcwDistribution | None = None  # agents' after-call work (None: the simulator's default shape)
    # The closing audit (the workflow's steps in order) of the days the conversations started on, as
    # landed, plus audit_days; finalize also changes change_rate of the landed conversations in the
    # simulator afterwards and runs the finalize mode over the same days.
    audit: bool = True
    audit_days: tuple[date, ...] = ()
    finalize: bool = False
    change_rate: float = DEFAULT_CHANGE_RATE
    events_per_second: float | None = None  # None: as fast as the ingest function takes them
    # AWS-side faults (chaos)
    aws_throttle_rate: float = 0.0
    # share of the pipe's batches whose target put fails every attempt, so Pipes dead-letters their
    # pointer and the pipe DLQ function has to resolve it
    pipe_failure_rate: float = 0.0
    crash_after_puts: int | None = None
    # Revoke every Genesys token this far into the run (seconds), on top of the fault profile.
    revoke_tokens_after_s: float | None = None
    progress: bool = True
    max_run_s: float = 600.0

    def __post_init__(self) -> None:
        check_positive_int("conversations", self.conversations)
        check_positive_int("max_copies", self.max_copies)
        check_positive_finite("time_scale", self.time_scale)
        check_positive_finite("max_run_s", self.max_run_s)
        for name in (
            "duplicate_rate",
            "late_rate",
            "never_rate",
            "malformed_rate",
            "drop_rate",
            "reopen_rate",
            "change_rate",
            "aws_throttle_rate",
            "pipe_failure_rate",
        ):
            check_rate(name, getattr(self, name))
        today = datetime.now(UTC).date()
        for day in self.audit_days:
            check_audit_day("audit_days", day, today)
        if not self.audit and (self.finalize or self.audit_days):
            raise UsageError("finalize and audit_days need the audit; do not combine them with audit=False")
        if self.genesys_base_url is not None:
            check_genesys_base_url("genesys_base_url", self.genesys_base_url)
        if self.events_per_second is not None:
            check_positive_finite("events_per_second", self.events_per_second)
        if self.simulator_budget_per_minute is not None:
            check_positive_int("simulator_budget_per_minute", self.simulator_budget_per_minute)
