"""`backfill`: run the audit workflow over past days, oldest first, one or two at a time.

    python -m ops --environment prod backfill --from 2026-01-01 --to 2026-06-30 [--mode auto|audit|finalize]
                  [--dry-run] [--force] [--parallel 1|2] [--poll-seconds N]
    make backfill ENV=prod FROM=2026-01-01 TO=2026-06-30 ARGS="..."      (the same command)

It starts executions of the deployed state machine with the user's AWS credentials (the state machine
and the results bucket come from the stack's outputs), skips days whose report says complete, shows
progress and, run again after an interruption, picks up what is still running and what is left.
Tests run the same command with an in-process executor (ops.backfill_executors): moto can run a state
machine, but not its Lambda tasks. docs/completeness.md, "Backfill".

Exit status (ops.errors): 0 all days complete (or already were); 1 some day failed or AWS failed
mid-run (run again to retry); 2 bad input or no stack / credentials, nothing started; 130 interrupted
(executions already started keep running in AWS; the same command picks them up).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from genesys_bridge import contracts
from genesys_bridge.audit.errors import AuditInputError, AwsUnavailable
from genesys_bridge.audit.model import AuditMode, check_day, report_key
from genesys_bridge.audit.steps import is_complete
from genesys_bridge.audit.store import AuditStore
from ops.backfill_executors import DayMode, Executor, Progress, Status, StepFunctionsExecutor
from ops.cli_options import iso_day, seconds
from ops.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, OpsError, aws_failure
from ops.stack import describe_stack

AUTO = "auto"
DEFAULT_POLL_SECONDS = 30.0
MAX_POLL_SECONDS = 600.0  # an execution takes minutes; a longer pause only hides its end
MAX_DAYS = 3660  # ten years of days; more is a typo
# The forms AWS documents for a state machine ARN and an S3 bucket name (a bad value is refused before
# anything is contacted rather than answered by AWS mid-run).
_STATE_MACHINE_ARN = re.compile(r"arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}")
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


ReportReader = Callable[[date, AuditMode], dict[str, Any] | None]


@dataclass(frozen=True)
class Plan:
    environment: str
    days: list[DayMode]
    force: bool
    parallel: int
    dry_run: bool


@dataclass
class Totals:
    complete: int = 0
    failed: list[str] = field(default_factory=list)
    skipped: int = 0
    in_genesys: int = 0
    landed: int = 0
    changed: int = 0
    requests: int = 0

    def add(self, report: dict[str, Any]) -> None:
        self.in_genesys += int(report.get("in_genesys") or 0)
        self.landed += int(report.get("missing_landed") or 0)
        self.changed += int(report.get("changed_relanded") or 0)
        self.requests += int(report.get("requests") or 0)


@dataclass(frozen=True)
class Connection:
    """How a run reaches the workflow and the reports (AWS with the user's credentials, or in process)."""

    executor: Executor
    reports: ReportReader


@dataclass(frozen=True)
class Environment:
    """What a run needs to know of the deployment: the first day and the finalization lag (cdk.json,
    read without AWS, so a bad range is refused before anything is contacted), and how to connect."""

    name: str
    first_day: date | None
    finalize_lag_days: int
    connect: Callable[[], Connection]


def _state_machine_arn(text: str) -> str:
    if not _STATE_MACHINE_ARN.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)"
        )
    return text


def _bucket_name(text: str) -> str:
    if not _BUCKET_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an S3 bucket name (3-63 lower-case letters, digits, dots and hyphens)"
        )
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The backfill sub-command's flags (the stack comes from --environment, --region, --stack-name)."""
    parser.add_argument(
        "--from", dest="first", type=iso_day, required=True, metavar="YYYY-MM-DD", help="first day (UTC)"
    )
    parser.add_argument(
        "--to",
        dest="last",
        type=iso_day,
        required=True,
        metavar="YYYY-MM-DD",
        help="last day (UTC), at the latest yesterday",
    )
    parser.add_argument(
        "--mode",
        choices=(AUTO, *(mode.value for mode in AuditMode)),
        default=AUTO,
        help="audit: land what is missing; finalize: also re-land what changed; auto (default): finalize "
        "the days past the finalization lag, audit the more recent ones",
    )
    parser.add_argument("--dry-run", action="store_true", help="show what would run; start nothing")
    parser.add_argument("--force", action="store_true", help="run days whose report already says complete")
    parser.add_argument(
        "--parallel", type=int, choices=(1, 2), default=1, help="days in flight at once (1 or 2)"
    )
    parser.add_argument(
        "--poll-seconds",
        type=seconds(MAX_POLL_SECONDS),
        default=DEFAULT_POLL_SECONDS,
        help=f"seconds between checks of the executions (default {DEFAULT_POLL_SECONDS:g}, at most "
        f"{MAX_POLL_SECONDS:g})",
    )
    parser.add_argument(
        "--state-machine-arn",
        type=_state_machine_arn,
        help="the workflow (default: the stack output AuditStateMachineArn)",
    )
    parser.add_argument(
        "--bucket", type=_bucket_name, help="the results bucket (default: the stack output ResultsBucketName)"
    )


def plan_days(
    args: argparse.Namespace, *, today: date, first_day: date | None, finalize_lag_days: int
) -> list[DayMode]:
    first, last = args.first, args.last
    if first > last:
        raise OpsError(f"--from {first} is after --to {last}")
    if (last - first).days + 1 > MAX_DAYS:
        raise OpsError(f"{(last - first).days + 1} days is more than {MAX_DAYS}: split the range")
    for each, flag in ((last, "--to"), (first, "--from")):
        try:
            check_day(each, today=today, first_day=first_day)
        except AuditInputError as error:
            raise OpsError(f"{flag}: {error}") from None
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    final_before = today - timedelta(days=finalize_lag_days)
    return [(each, _mode(args.mode, each, final_before)) for each in days]


def _mode(choice: str, day: date, final_before: date) -> AuditMode:
    if choice != AUTO:
        return AuditMode(choice)
    return AuditMode.FINALIZE if day <= final_before else AuditMode.AUDIT


def deployed_environment(args: argparse.Namespace) -> Environment:
    """The deployment named by --environment: its cdk.json settings, its stack's outputs (found in
    --region / --stack-name, else cdk.json's), the user's credentials through boto3's default chain."""
    from stacks.config import ConfigError, load_environment_config

    try:
        config = load_environment_config(args.environment)
    except ConfigError as error:
        raise OpsError(str(error)) from None

    def connect() -> Connection:
        import boto3

        session = boto3.Session(region_name=args.region or config.region)
        given = {
            contracts.OUTPUT_AUDIT_STATE_MACHINE_ARN: args.state_machine_arn,
            contracts.OUTPUT_RESULTS_BUCKET_NAME: args.bucket,
        }
        needed = [key for key, value in given.items() if value is None]
        if needed:
            stack = describe_stack(
                session.client("cloudformation"),
                args.stack_name or config.stack_name,
                environment=args.environment,
            )
            given.update(stack.require(*needed))
        store = AuditStore(session.client("s3"), given[contracts.OUTPUT_RESULTS_BUCKET_NAME])

        def reports(day: date, mode: AuditMode) -> dict[str, Any] | None:
            report = store.get_json(report_key(day, mode))
            return report if isinstance(report, dict) else None

        executor = StepFunctionsExecutor(
            session.client("stepfunctions"), given[contracts.OUTPUT_AUDIT_STATE_MACHINE_ARN]
        )
        return Connection(executor=executor, reports=reports)

    return Environment(
        name=args.environment,
        first_day=date.fromisoformat(config.catalog_first_day),
        finalize_lag_days=config.finalize_lag_days,
        connect=connect,
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Wiring:
    """Where a backfill finds its deployment, its clock and its terminal (tests replace them)."""

    environment: Callable[[argparse.Namespace], Environment] = deployed_environment
    now: Callable[[], datetime] = _utc_now
    sleep: Callable[[float], None] = time.sleep
    out: TextIO | None = None  # None: sys.stdout as it is when the command runs


def command(args: argparse.Namespace, wiring: Wiring) -> int:
    """Plan the days (cdk.json only: a bad range starts nothing and contacts nothing), connect, run.

    OpsError (bad input, no stack) and AWS errors while connecting propagate to ops.cli.main."""
    env = wiring.environment(args)
    days = plan_days(
        args, today=wiring.now().date(), first_day=env.first_day, finalize_lag_days=env.finalize_lag_days
    )
    connection = env.connect()
    plan = Plan(env.name, days, args.force, args.parallel, args.dry_run)
    return run(
        plan,
        connection,
        poll_seconds=args.poll_seconds,
        sleep=wiring.sleep,
        out=wiring.out or sys.stdout,
    )


def run(
    plan: Plan, env: Connection, *, poll_seconds: float, sleep: Callable[[float], None], out: TextIO
) -> int:
    totals = Totals()
    todo: list[DayMode] = []
    in_flight: dict[DayMode, str] = {}
    started = False
    try:
        for day_mode in plan.days:
            if is_complete(env.reports(*day_mode)) and not plan.force:
                totals.skipped += 1
            else:
                todo.append(day_mode)
        in_flight_already = env.executor.running()
        _print_plan(plan, todo, totals.skipped, in_flight_already, out)
        if plan.dry_run:
            return EXIT_OK
        started = True
        done = 0
        while todo or in_flight:
            while todo and len(in_flight) < plan.parallel:
                day_mode = todo.pop(0)
                handle = in_flight_already.get(day_mode) or env.executor.start(*day_mode, force=plan.force)
                in_flight[day_mode] = handle
            sleep(poll_seconds)
            for day_mode, handle in list(in_flight.items()):
                progress = env.executor.progress(handle)
                if progress.status is Status.RUNNING:
                    continue
                del in_flight[day_mode]
                done += 1
                counter = f"[{done}/{done + len(todo) + len(in_flight)}]"
                _finished(day_mode, progress, env, totals, out, counter)
    except KeyboardInterrupt:
        print(f"\ninterrupted: {_left(started, in_flight, todo)}", file=out)
        return EXIT_INTERRUPTED
    except (BotoCoreError, ClientError, AwsUnavailable) as error:
        # One line, whatever AWS said (credentials gone, a bucket that is not there, S3 unavailable);
        # what was started keeps running and is picked up by the next run.
        message, status = (
            (f"AWS unavailable: {error}", EXIT_FAILED)
            if isinstance(error, AwsUnavailable)
            else aws_failure(error)
        )
        print(f"ops: {message}; {_left(started, in_flight, todo)}", file=sys.stderr)
        return status
    print(
        f"done: {totals.complete} days complete, {len(totals.failed)} failed, {totals.skipped} skipped; "
        f"{totals.in_genesys:,} conversations in Genesys, {totals.landed:,} landed, "
        f"{totals.changed:,} re-landed as changed, {totals.requests:,} Genesys requests",
        file=out,
    )
    if totals.failed:
        print(f"failed days (run again to retry): {', '.join(totals.failed)}", file=out)
        return EXIT_FAILED
    return EXIT_OK


def _print_plan(
    plan: Plan, todo: list[DayMode], skipped: int, in_flight_already: dict[DayMode, str], out: TextIO
) -> None:
    first, last = plan.days[0][0], plan.days[-1][0]
    resumed = sum(1 for day_mode in todo if day_mode in in_flight_already)
    print(
        f"backfill {plan.environment} {first}..{last}: {len(plan.days)} days, {skipped} complete "
        f"already (skipped), {len(todo)} to run, {plan.parallel} at a time"
        + (f", {resumed} already running (resumed)" if in_flight_already else ""),
        file=out,
    )
    if plan.dry_run:
        for each, mode in todo:
            state = "running, would wait for it" if (each, mode) in in_flight_already else "would start"
            print(f"  {each} {mode.value}: {state}", file=out)


def _left(started: bool, in_flight: dict[DayMode, str], todo: list[DayMode]) -> str:
    """What an interrupted or failed run leaves behind, and what to do about it."""
    if not started:
        return "nothing was started. Run the same command again."
    return (
        f"{len(in_flight)} execution(s) keep running in AWS; {len(todo)} day(s) not started. "
        "Run the same command again to resume."
    )


def _finished(
    day_mode: DayMode, progress: Progress, env: Connection, totals: Totals, out: TextIO, counter: str
) -> None:
    each, mode = day_mode
    report = env.reports(each, mode) if progress.status is Status.SUCCEEDED else None
    if is_complete(report):
        assert report is not None
        totals.complete += 1
        totals.add(report)
        print(
            f"{counter} {each} {mode.value}: complete, {report['in_genesys']:,} in Genesys, "
            f"{report['missing_landed']:,} landed, {report['changed_relanded']:,} re-landed, "
            f"{report['requests']:,} requests, {report['duration_seconds']:.0f} s",
            file=out,
        )
        return
    totals.failed.append(each.isoformat())
    why = progress.error or f"{progress.status.value} without a complete report at {report_key(each, mode)}"
    print(f"{counter} {each} {mode.value}: FAILED ({why})", file=out)
