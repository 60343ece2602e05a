"""Command line of `make bench`: runs every figure, prints one table, exits 0 unless it crashed.

Missing targets do not fail the command: these are benchmark figures for people to read, not tests;
`--strict` turns a missed or unmeasured target into exit status 1 for anyone who wants a gate.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import project_paths  # noqa: F401 - puts shared/ (the layer's genesys_bridge) on sys.path, as in Lambda
from benchmarks.cost import DEFAULT_PRICES, CostBreakdown, load_prices, whole_system_rows
from benchmarks.table import Row, Verdict, render_table, summary
from local_runner import cli_options
from ops.cli_options import OneLineParser, add_environment

FIGURES = (
    "imports",
    "size",
    "ingest",
    "catalog",
    "pipeline",
    "budget",
    "refetch",
    "audit",
    "topics",
    "lookups",
)
# One simulated day for the audit figure (9): a mid-sized contact centre's day.
AUDIT_DAY_CONVERSATIONS = 20_000
# Figure 7's parts that other figures do not measure yet, and why.
UNMEASURED_COSTS = {
    "lookups": "figure 11 counts the daily sync's Genesys requests and snapshot bytes, not the AWS requests"
    " of its workflow (a fixed cost per day, not per conversation)",
}


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m benchmarks",
        description="Measure the bridge's figures (Genesys budget, goodput, cold start, size, ingest CPU,"
        " latency, cost, refetch sharing) and print them in one table beside their references and targets.",
    )
    cli_options.add_conversations(
        parser, None, help_text="conversations in the burst run (default 2000; 400 with --quick)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller runs and 3 import samples: a smoke run, not the figures"
    )
    parser.add_argument(
        "--import-runs",
        type=cli_options.positive_int,
        default=None,
        help="import samples per module (default 7)",
    )
    parser.add_argument(
        "--only",
        default=",".join(FIGURES),
        help=f"comma-separated subset of {','.join(FIGURES)} (default: all)",
    )
    # prod, not the runner's dev: the figures are for batches of 100, as deployed
    add_environment(parser, "prod", help_extra=": batches of 100, as deployed")
    cli_options.add_time_scale(
        parser,
        None,
        help_text="local seconds per configured second in the burst run (default 1: real settle delay"
        " and batching window, since a shrunken window shrinks batches; 0.05 with --quick)",
    )
    parser.add_argument("--prices", type=Path, default=DEFAULT_PRICES, help="price file (TOML)")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a target is not met or not measured"
    )
    return parser


def machine_line() -> str:
    return (
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},"
        f" {platform.system()} {platform.release()}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = only - set(FIGURES)
    if unknown:
        _parser().error(f"unknown figure(s) {', '.join(sorted(unknown))}; choose from {', '.join(FIGURES)}")
    # "is None", not "or": an explicit 0 must be refused, not replaced by the default
    conversations = args.conversations if args.conversations is not None else (400 if args.quick else 2000)
    import_runs = args.import_runs if args.import_runs is not None else (3 if args.quick else 7)
    time_scale = args.time_scale if args.time_scale is not None else (0.05 if args.quick else 1.0)
    try:
        # read now: a typo in the price file should not surface after an eight-minute run
        load_prices(args.prices)
    except (OSError, KeyError, ValueError) as error:
        _parser().error(f"price file {args.prices}: {error!r}")
    # Imported late so `--help` stays instant and an import error of one part is a row, not a crash.
    from benchmarks import audit, catalog_scan, figures, lookups, pipeline, topics
    from stacks.config import load_environment_config

    started = time.monotonic()
    rows: list[Row] = []
    sdk = figures.prepare_sdk() if only & {"imports", "size"} else None

    def progress(message: str) -> None:
        print(f"[bench {time.monotonic() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    if "imports" in only and sdk is not None:
        progress(f"cold imports ({import_runs} samples each)")
        rows += figures.import_rows(import_runs, sdk)
    if "size" in only and sdk is not None:
        progress("layer build and sizes")
        rows += figures.size_rows(sdk)
    if "ingest" in only:
        progress("ingest CPU")
        rows += figures.ingest_rows(300 if args.quick else 2000)
    prices, costs = load_prices(args.prices), dict[str, CostBreakdown]()
    if "catalog" in only:
        objects = 6_000 if args.quick else catalog_scan.LOCAL_CONVERSATIONS
        progress(f"catalog: the KPI queries over {objects:,} objects, as landed and compacted")
        rows += catalog_scan.catalog_rows(objects, prices=prices, costs=costs)
    # last: they import moto, whose botocore hooks would otherwise sit in the ingest figure's calls
    if "pipeline" in only:
        burst = pipeline.LocalRun("burst run", conversations, time_scale, None)
        rows += pipeline.burst_rows(args.environment, burst, quick=args.quick, progress=progress)
    if "budget" in only:
        rows += pipeline.budget_figure(args.environment, prices, costs, quick=args.quick, progress=progress)
    if "refetch" in only:
        rows += pipeline.refetch_figure(args.environment, quick=args.quick, progress=progress)
    if "audit" in only:
        day = 2_000 if args.quick else AUDIT_DAY_CONVERSATIONS
        progress(f"audit and finalization of one simulated day of {day:,} conversations")
        rows += audit.audit_figure(args.environment, day, prices, costs)
    if "topics" in only:
        conversations = 200 if args.quick else topics.TOPIC_RUN_CONVERSATIONS
        rows += topics.topic_rows(
            args.environment, args.prices, conversations=conversations, progress=progress
        )
    if "lookups" in only:
        progress("a lookups sync of 1,000 queues and 10,000 users")
        pace = load_environment_config(args.environment).audit_max_requests_per_minute
        rows += lookups.lookup_rows(pace, *((50, 500) if args.quick else ()))
    if costs:
        rows += whole_system_rows(costs, UNMEASURED_COSTS, prices)
    # stable: keeps each figure's own row order; by number, so 10 follows 9
    rows.sort(key=lambda row: (len(row.number), row.number))

    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    options = " ".join(argv if argv is not None else sys.argv[1:]) or "(defaults)"
    footer = [
        machine_line(),
        f"run: {today}, {time.monotonic() - started:.0f} s, options: {options}",
        summary(rows),
    ]
    print(render_table(rows, title="Genesys Analytics Bridge: benchmark figures", footer=footer))
    missed = any(row.verdict in (Verdict.NOT_MET, Verdict.NOT_MEASURED) for row in rows)
    return 1 if args.strict and missed else 0
