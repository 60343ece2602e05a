"""`python -m local_runner` (make demo): the whole pipeline locally, a summary, and a reconciliation.

Exit status: 0 when every check holds, 1 when one does not, 2 for a usage error (one line on stderr).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from local_runner import cli_options
from local_runner.harness import run_pipeline
from local_runner.options import DEFAULT_CHANGE_RATE, DEFAULT_ENVIRONMENT, DEFAULT_OUT, RunOptions, UsageError
from local_runner.report import dumps_report, render_summary
from ops.cli_options import OneLineParser, add_environment, existing_file


def _fault_profiles() -> list[str]:
    from genesys_simulator import NAMED_PROFILES

    return list(NAMED_PROFILES)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m local_runner",
        description="Run the dev environment's pipeline on moto and the Genesys simulator, "
        "with the real handlers.",
    )
    cli_options.add_conversations(parser)
    cli_options.add_seed(parser)
    cli_options.add_time_scale(parser)
    parser.add_argument("--faults", default="none", choices=_fault_profiles(), help="simulator fault profile")
    parser.add_argument(
        "--events",
        type=existing_file,
        help="EventBridge events as JSON lines (an archive replay)",
    )
    cli_options.add_out(parser, DEFAULT_OUT)
    add_environment(parser, DEFAULT_ENVIRONMENT)
    parser.add_argument(
        "--topics",
        type=lambda text: tuple(text.split(",")),
        help="subscribe these topics instead of the environment's, comma-separated (e.g. customer.end)",
    )
    parser.add_argument(
        "--genesys-region",
        help="read a real Genesys org in this region (ids from --events; credentials from "
        "GENESYS_CLIENT_ID / GENESYS_CLIENT_SECRET)",
    )
    parser.add_argument(
        "--no-pacing", action="store_true", help="turn the processor's client-side pacing off"
    )
    cli_options.add_genesys_base_url(parser)
    cli_options.add_workload_rates(parser)
    cli_options.add_audit(parser)
    parser.add_argument("--json", type=Path, help="also write the full report as JSON here")
    cli_options.add_quiet(parser)
    return parser


def options_from_args(args: argparse.Namespace) -> RunOptions:
    return RunOptions(
        conversations=args.conversations,
        seed=args.seed,
        time_scale=args.time_scale,
        faults=args.faults,
        environment=args.environment,
        topics=args.topics,
        out_dir=args.out,
        events_file=args.events,
        genesys_region=args.genesys_region,
        paced=not args.no_pacing,
        duplicate_rate=args.duplicate_rate,
        late_rate=args.late_rate,
        never_rate=args.never_rate,
        malformed_rate=args.malformed_rate,
        drop_rate=args.drop_rate,
        reopen_rate=args.reopen_rate,
        audit=not args.no_audit,
        audit_days=tuple(args.audit_day),
        finalize=args.finalize,
        change_rate=DEFAULT_CHANGE_RATE if args.change_rate is None else args.change_rate,
        genesys_base_url=args.genesys_base_url,
        progress=not args.quiet,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.change_rate is not None and not args.finalize:
        parser.error(
            "--change-rate changes conversations only for --finalize: add --finalize, or leave it out"
        )
    try:
        report = run_pipeline(options_from_args(args))
    except UsageError as error:  # input the run cannot use: an empty events file, a missing credential
        parser.error(str(error))
    print(render_summary(report))
    print(f"  landed objects in {report.out_dir}/, handler logs in {report.log_path}")
    if report.out_dir is not None:
        from catalog.local import kpi_summary  # the catalog views over what just landed (docs/query.md)

        print(kpi_summary(Path(report.out_dir)))
    if args.json:
        args.json.write_text(dumps_report(report), encoding="utf-8")
    return 0 if report.verdict else 1
