"""Command-line pieces every command of the project shares, the product's (`python -m ops`) and the
tools' (`python -m local_runner`, `local_runner.chaos`, `benchmarks`, `capacity`): the one-line usage
error, `--environment` (a cdk.json environment), and argparse types that refuse a bad value by name.

A bad value is a usage error: one line on stderr, exit status 2 (argparse's convention). The local
runner's own options (rates, time scale, audit days, ...) live in local_runner.cli_options.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import NoReturn

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line: `prog: error: message` (exit 2).

    Sub-commands' parsers are of the same class (argparse's default), so theirs are one line too."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def whole_number(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from `minimum` to `maximum` (inclusive; None: no maximum)."""
    bounds = f"from {minimum:,} to {maximum:,}" if maximum is not None else f"of at least {minimum:,}"

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"must be a whole number {bounds}, not {text}")
        return value

    return convert


def seconds(maximum: float) -> Callable[[str], float]:
    """An argparse type: a finite number of seconds above 0 and at most `maximum` (no nan, no inf)."""

    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
        if not math.isfinite(value) or not 0 < value <= maximum:
            raise argparse.ArgumentTypeError(f"must be a number of seconds above 0 and at most {maximum:g}")
        return value

    return convert


def iso_day(text: str) -> date:
    """An argparse type: a calendar day written YYYY-MM-DD."""
    try:
        if _DAY.fullmatch(text):  # (fromisoformat alone also takes 20261120 and 2026-W47-5)
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r} is not a day in the form YYYY-MM-DD")


def existing_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    return path


def add_environment(
    parser: argparse.ArgumentParser,
    default: str,
    help_extra: str = "",
    help_text: str = "",
) -> None:
    """--environment NAME (a cdk.json environment), the one spelling every command takes."""
    parser.add_argument(
        "--environment",
        default=default,
        help=(help_text or f"cdk.json environment whose config the run uses (default {default})")
        + help_extra,
    )
    # the runner's earlier spelling, kept so scripts keep working; not shown in --help
    parser.add_argument("--env", dest="environment", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
