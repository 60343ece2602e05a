"""`python -m local_runner` (make demo): the whole pipeline locally, a summary, and a reconciliation."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from local_runner.reconcile import render_summary
from local_runner.runner import (
    DEFAULT_CONVERSATIONS,
    DEFAULT_OUT,
    DEFAULT_TIME_SCALE,
    RunOptions,
    run_pipeline,
)


def _fault_profiles() -> list[str]:
    from genesys_simulator import NAMED_PROFILES

    return list(NAMED_PROFILES)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local_runner",
        description="Run the dev environment's pipeline on moto and the Genesys simulator, "
        "with the real handlers.",
    )
    parser.add_argument(
        "--conversations", type=int, default=DEFAULT_CONVERSATIONS, help="synthetic conversations"
    )
    parser.add_argument(
        "--seed", type=int, default=7, help="seed of the synthetic workload and the simulator"
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=DEFAULT_TIME_SCALE,
        help="config seconds x this = local seconds (settle delay, batching window, backoff, max age); "
        "request budgets per minute are divided by it",
    )
    parser.add_argument("--faults", default="none", choices=_fault_profiles(), help="simulator fault profile")
    parser.add_argument("--events", type=Path, help="EventBridge events as JSON lines (an archive replay)")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="where landed objects and handlers.log go"
    )
    parser.add_argument("--env", default="dev", help="cdk.json environment whose config the run uses")
    parser.add_argument(
        "--genesys-region",
        help="read a real Genesys org in this region (ids from --events; credentials from "
        "GENESYS_CLIENT_ID / GENESYS_CLIENT_SECRET)",
    )
    parser.add_argument(
        "--no-pacing", action="store_true", help="turn the processor's client-side pacing off"
    )
    parser.add_argument(
        "--duplicate-rate", type=float, default=0.2, help="share of events delivered twice or more"
    )
    parser.add_argument(
        "--late-rate", type=float, default=0.1, help="share of conversations ready only after retries"
    )
    parser.add_argument("--never-rate", type=float, default=0.0, help="share of conversations that never end")
    parser.add_argument("--malformed-rate", type=float, default=0.01, help="malformed events per valid event")
    parser.add_argument("--json", type=Path, help="also write the full report as JSON here")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    return parser


def options_from_args(args: argparse.Namespace) -> RunOptions:
    return RunOptions(
        conversations=args.conversations,
        seed=args.seed,
        time_scale=args.time_scale,
        faults=args.faults,
        environment=args.env,
        out_dir=args.out,
        events_file=args.events,
        genesys_region=args.genesys_region,
        paced=not args.no_pacing,
        duplicate_rate=args.duplicate_rate,
        late_rate=args.late_rate,
        never_rate=args.never_rate,
        malformed_rate=args.malformed_rate,
        progress=not args.quiet,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.time_scale <= 0:
        print("--time-scale must be positive", file=sys.stderr)
        return 2
    try:
        report = run_pipeline(options_from_args(args))
    except ValueError as error:  # a usage problem (e.g. a real org without --events or credentials)
        print(f"local_runner: {error}", file=sys.stderr)
        return 2
    print(render_summary(report))
    print(f"  landed objects in {report.out_dir}/, handler logs in {report.log_path}")
    if report.out_dir is not None:
        from catalog.local import kpi_summary  # the catalog views over what just landed (docs/query.md)

        print(kpi_summary(Path(report.out_dir)))
    if args.json:
        from local_runner.runner import dumps_report

        args.json.write_text(dumps_report(report), encoding="utf-8")
    return 0 if report.reconciled else 1
