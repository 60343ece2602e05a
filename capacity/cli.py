"""Command line of `make capacity`: model the deployed pipeline under a day's load and print per stage
what it asks, what it gets, where it queues and what to change. Exit 0; 2 for bad input."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.cost import DEFAULT_PRICES
from benchmarks.paths import SHARED
from capacity.measurements import DEFAULT_MEASUREMENTS
from capacity.profiles import NAMES as PROFILE_NAMES
from capacity.profiles import PEAK_RANGE
from capacity.quotas import DEFAULT_QUOTAS
from ops.cli_options import OneLineParser, add_environment

DEFAULT_OUT = Path("out/capacity")
# Input ranges: beyond them a figure is a typo, not a contact centre.
EVENTS_RANGE = (1.0, 100.0)
NOT_READY_RANGE = (0.0, 0.95)
STEP_RANGE = (0.01, 60.0)


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m capacity",
        description="Model the deployed bridge (cdk.json settings, published quotas, measured costs) under a"
        " day's load: per stage peak demand vs capacity, backlog and when it drains, latency p50/p95/p99,"
        " the bottleneck and the setting that moves it, the day's cost, and a plot.",
    )
    add_environment(parser, default="prod", help_text="cdk.json environment to model (default prod)")
    parser.add_argument(
        "--peak-conversations-per-hour",
        type=float,
        default=None,
        help=f"conversations in the busiest normal hour ({PEAK_RANGE[0]:g}..{PEAK_RANGE[1]:,.0f});"
        " with --profile-file it rescales the file's busiest minute to this rate",
    )
    parser.add_argument(
        "--events-per-conversation",
        type=float,
        default=3.5,
        help="end events per conversation reaching the bus, redeliveries included (default 3.5)",
    )
    parser.add_argument(
        "--profile", default="day", choices=PROFILE_NAMES, help="load shape over the day (default day)"
    )
    parser.add_argument(
        "--profile-file",
        type=Path,
        help="a per-minute series instead of --profile: one number per line (conversations in that minute)"
        " or minute,conversations lines; see docs/capacity.md",
    )
    parser.add_argument(
        "--not-ready-share",
        type=float,
        default=0.0,
        help="share of conversations not yet ended in Genesys at the first fetch; they come back after"
        " the not-ready backoff's first wait, 60 s (default 0)",
    )
    parser.add_argument(
        "--region",
        help="AWS region for region-specific quotas (default: the environment's, else the price file's)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change a cdk.json setting for this run (validated like cdk synth),"
        " e.g. processor_max_concurrency=8",
    )
    parser.add_argument("--step", type=float, default=1.0, help="model time step in seconds (default 1)")
    parser.add_argument(
        "--plot", type=Path, help=f"PNG to write (default {DEFAULT_OUT}/<environment>-<profile>.png)"
    )
    parser.add_argument("--no-plot", action="store_true", help="write no plot")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    parser.add_argument("--prices", type=Path, default=DEFAULT_PRICES, help="price file (TOML)")
    parser.add_argument("--quotas", type=Path, default=DEFAULT_QUOTAS, help="published quotas file (TOML)")
    parser.add_argument(
        "--measurements", type=Path, default=DEFAULT_MEASUREMENTS, help="measured figures (JSON)"
    )
    return parser


def _in_range(
    parser: argparse.ArgumentParser, flag: str, value: float, bounds: tuple[float, float], unit: str
) -> None:
    low, high = bounds
    if not math.isfinite(value) or not low <= value <= high:
        upper = f"{high:,.0f}" if high == int(high) else f"{high:g}"
        parser.error(f"{flag} {value:g} is out of range: allowed {low:g}..{upper} {unit}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if str(SHARED) not in sys.path:
        sys.path.insert(0, str(SHARED))
    # imported late: `--help` and usage errors stay instant
    from capacity import run

    if args.peak_conversations_per_hour is None and args.profile_file is None:
        parser.error("--peak-conversations-per-hour is required (or give --profile-file)")
    if args.peak_conversations_per_hour is not None:
        _in_range(
            parser,
            "--peak-conversations-per-hour",
            args.peak_conversations_per_hour,
            PEAK_RANGE,
            "conversations per hour",
        )
    _in_range(
        parser,
        "--events-per-conversation",
        args.events_per_conversation,
        EVENTS_RANGE,
        "events per conversation",
    )
    _in_range(parser, "--not-ready-share", args.not_ready_share, NOT_READY_RANGE, "(a share)")
    _in_range(parser, "--step", args.step, STEP_RANGE, "seconds")
    try:
        report = run.model(
            environment=args.environment,
            peak_per_hour=args.peak_conversations_per_hour,
            events_per_conversation=args.events_per_conversation,
            profile_name=args.profile,
            profile_file=args.profile_file,
            not_ready_share=args.not_ready_share,
            region=args.region,
            overrides=args.overrides,
            step=args.step,
            prices=args.prices,
            quotas_path=args.quotas,
            measurements_path=args.measurements,
            plot_path=None
            if args.no_plot
            else (
                args.plot
                or DEFAULT_OUT
                / f"{args.environment}-{args.profile if args.profile_file is None else 'file'}.png"
            ),
        )
    except run.InputError as error:
        parser.error(str(error))
    from capacity.report import as_json, render

    print(render(report))
    if args.json:
        try:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(as_json(report), indent=2) + "\n", encoding="utf-8")
        except OSError as error:
            parser.error(f"--json {args.json}: cannot write ({error.strerror or error})")
    return 0
