"""The options `python -m local_runner`, `python -m local_runner.chaos` and `python -m benchmarks` share:
one spelling, the runner's own defaults (local_runner.options), one rule per value.

A bad value is a usage error: one line on stderr, exit status 2 (argparse's convention). What the
product's commands share with these (the one-line parser, `--environment`) is in ops.cli_options.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from local_runner.options import (
    DEFAULT_CHANGE_RATE,
    DEFAULT_CONVERSATIONS,
    DEFAULT_DROP_RATE,
    DEFAULT_DUPLICATE_RATE,
    DEFAULT_LATE_RATE,
    DEFAULT_MALFORMED_RATE,
    DEFAULT_NEVER_RATE,
    DEFAULT_REOPEN_RATE,
    DEFAULT_SEED,
    DEFAULT_TIME_SCALE,
    UsageError,
    check_audit_day,
    check_genesys_base_url,
    check_positive_finite,
    check_positive_int,
    check_rate,
)


def _typed(check: Callable[[str, Any], Any], parse: Callable[[str], Any], what: str) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        try:
            return check(what, value)
        except UsageError as error:
            raise argparse.ArgumentTypeError(str(error).replace(f"{what} must", "must")) from None

    return convert


positive_int = _typed(check_positive_int, int, "a whole number")
positive_finite = _typed(check_positive_finite, float, "a number")
rate = _typed(check_rate, float, "a share")


def add_conversations(
    parser: argparse.ArgumentParser, default: int | None = DEFAULT_CONVERSATIONS, help_text: str = ""
) -> None:
    parser.add_argument(
        "--conversations",
        type=positive_int,
        default=default,
        help=help_text or f"synthetic conversations (default {default})",
    )


def add_time_scale(
    parser: argparse.ArgumentParser, default: float | None = DEFAULT_TIME_SCALE, help_text: str = ""
) -> None:
    parser.add_argument(
        "--time-scale",
        type=positive_finite,
        default=default,
        help=help_text
        or f"config seconds x this = local seconds (settle delay, batching window, backoff, max age); "
        f"request budgets per minute are divided by it (default {default})",
    )


def add_seed(parser: argparse.ArgumentParser, default: int = DEFAULT_SEED) -> None:
    parser.add_argument(
        "--seed",
        type=int,
        default=default,
        help=f"seed of the synthetic workload and the simulator (default {default})",
    )


def add_out(parser: argparse.ArgumentParser, default: Path) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=default,
        help=f"where landed objects and handlers.log go (default {default})",
    )


def add_workload_rates(parser: argparse.ArgumentParser) -> None:
    """--duplicate-rate, --late-rate, --never-rate, --malformed-rate, --drop-rate, --reopen-rate: 0..1."""
    for name, default, meaning in (
        ("duplicate", DEFAULT_DUPLICATE_RATE, "share of events delivered twice or more"),
        ("late", DEFAULT_LATE_RATE, "share of conversations ready only after retries"),
        ("never", DEFAULT_NEVER_RATE, "share of conversations that never end"),
        ("malformed", DEFAULT_MALFORMED_RATE, "malformed events per valid event"),
        (
            "drop",
            DEFAULT_DROP_RATE,
            "share of conversations whose every event is lost before ingest (the audit must find them)",
        ),
        (
            "reopen",
            DEFAULT_REOPEN_RATE,
            "share of conversations that end again after they landed (ingest must queue a fresh fetch)",
        ),
    ):
        parser.add_argument(
            f"--{name}-rate",
            type=rate,
            default=default,
            help=f"{meaning}, 0..1 (default {default:g})",
        )


def audit_day(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date such as 2026-11-20") from None
    try:
        return check_audit_day("day", day, datetime.now(UTC).date())
    except UsageError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("day ")) from None


def genesys_base_url(text: str) -> str:
    try:
        return check_genesys_base_url("the URL", text)
    except UsageError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_audit(parser: argparse.ArgumentParser) -> None:
    """--no-audit, --audit-day D (repeatable), --finalize, --change-rate R."""
    parser.add_argument(
        "--no-audit",
        action="store_true",
        help="skip the closing audit (by default every run ends with the audit of the UTC days its "
        "conversations started on, the workflow's steps in order)",
    )
    parser.add_argument(
        "--audit-day",
        type=audit_day,
        action="append",
        default=[],
        metavar="YYYY-MM-DD",
        help="also audit this UTC day (repeatable)",
    )
    parser.add_argument(
        "--finalize",
        action="store_true",
        help="after the audit, change some landed conversations in the simulator (as nightly "
        "reprocessing would), run the finalize mode and reconcile against the changed bodies",
    )
    parser.add_argument(
        "--change-rate",
        type=rate,
        default=None,  # None: not given (it means nothing without --finalize, so it is refused there)
        help="with --finalize: share of landed conversations changed, 0..1 "
        f"(default {DEFAULT_CHANGE_RATE:g})",
    )


def add_genesys_base_url(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--genesys-base-url",
        type=genesys_base_url,
        metavar="URL",
        help="any Genesys-compatible server (https, or http on loopback) instead of the simulator, for "
        "the processor and the audit; ids from --events, credentials from GENESYS_CLIENT_ID / "
        "GENESYS_CLIENT_SECRET",
    )


def add_quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="no progress output")
