"""The backfill command: validate the range, plan the days, run them oldest first, report progress.

Exit status: 0 all days complete (or already were), 1 some day failed (run again to retry it), 2 bad
input (nothing started), 130 interrupted (executions already started keep running in AWS; the same
command picks them up).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from backfill.executors import Executor, Progress, Status
from genesys_bridge.audit.errors import AuditInputError
from genesys_bridge.audit.model import AuditMode, check_day, report_key
from genesys_bridge.audit.steps import is_complete
from local_runner.cli_options import add_environment

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
AUTO = "auto"
DEFAULT_POLL_SECONDS = 30.0
MAX_DAYS = 3660  # ten years of days; more is a typo


class UsageError(ValueError):
    """Bad input: the message says what to fix; nothing was started."""


ReportReader = Callable[[date, AuditMode], dict[str, Any] | None]


@dataclass(frozen=True)
class Plan:
    environment: str
    days: list[tuple[date, AuditMode]]
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


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m backfill",
        description="Run the audit workflow over past UTC days, oldest first, against a deployed stack "
        "(make backfill ENV=prod FROM=2026-01-01 TO=2026-06-30).",
    )
    add_environment(p, default="dev", help_text="cdk.json environment whose stack to use (default dev)")
    p.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD (UTC)")
    p.add_argument(
        "--to", dest="last", required=True, help="last day, YYYY-MM-DD (UTC), at the latest yesterday"
    )
    p.add_argument(
        "--mode",
        choices=(AUTO, *(mode.value for mode in AuditMode)),
        default=AUTO,
        help="audit: land what is missing; finalize: also re-land what changed; auto (default): finalize "
        "the days past the finalization lag, audit the more recent ones",
    )
    p.add_argument("--dry-run", action="store_true", help="show what would run; start nothing")
    p.add_argument("--force", action="store_true", help="run days whose report already says complete")
    p.add_argument("--parallel", type=int, choices=(1, 2), default=1, help="days in flight at once (1 or 2)")
    p.add_argument(
        "--poll-seconds", type=float, default=DEFAULT_POLL_SECONDS, help="how often to check executions"
    )
    p.add_argument(
        "--state-machine-arn", help="the workflow (default: the stack output AuditStateMachineArn)"
    )
    p.add_argument("--bucket", help="the results bucket (default: the stack output ResultsBucketName)")
    return p


def parse_day(text: str, flag: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not a day in the form YYYY-MM-DD") from None


def plan_days(
    args: argparse.Namespace, *, today: date, first_day: date | None, finalize_lag_days: int
) -> list[tuple[date, AuditMode]]:
    first, last = parse_day(args.first, "--from"), parse_day(args.last, "--to")
    if first > last:
        raise UsageError(f"--from {first} is after --to {last}")
    if (last - first).days + 1 > MAX_DAYS:
        raise UsageError(f"{(last - first).days + 1} days is more than {MAX_DAYS}: split the range")
    for day, flag in ((last, "--to"), (first, "--from")):
        try:
            check_day(day, today=today, first_day=first_day)
        except AuditInputError as error:
            raise UsageError(f"{flag}: {error}") from None
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    final_before = today - timedelta(days=finalize_lag_days)
    return [(day, _mode(args.mode, day, final_before)) for day in days]


def _mode(choice: str, day: date, final_before: date) -> AuditMode:
    if choice != AUTO:
        return AuditMode(choice)
    return AuditMode.FINALIZE if day <= final_before else AuditMode.AUDIT


def main(
    argv: Sequence[str] | None = None,
    *,
    environment: Callable[[argparse.Namespace], Environment] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
    out: TextIO = sys.stdout,
) -> int:
    """Run the command; `environment` builds the deployment's view (default: AWS from the stack outputs)."""
    args = parser().parse_args(argv)
    try:
        env = (environment or aws_environment)(args)
        days = plan_days(
            args, today=now().date(), first_day=env.first_day, finalize_lag_days=env.finalize_lag_days
        )
        connection = env.connect()
    except UsageError as error:
        print(f"backfill: {error}", file=sys.stderr)
        return EXIT_USAGE
    plan = Plan(env.name, days, args.force, args.parallel, args.dry_run)
    return run(plan, connection, poll_seconds=args.poll_seconds, sleep=sleep, out=out)


def run(
    plan: Plan, env: Connection, *, poll_seconds: float, sleep: Callable[[float], None], out: TextIO
) -> int:
    totals = Totals()
    todo: list[tuple[date, AuditMode]] = []
    for day, mode in plan.days:
        report = env.reports(day, mode)
        if is_complete(report) and not plan.force:
            totals.skipped += 1
        else:
            todo.append((day, mode))
    in_flight_already = env.executor.running()
    first, last = plan.days[0][0], plan.days[-1][0]
    print(
        f"backfill {plan.environment} {first}..{last}: {len(plan.days)} days, {totals.skipped} complete "
        f"already (skipped), {len(todo)} to run, {plan.parallel} at a time"
        + (
            f", {sum(1 for d in todo if d in in_flight_already)} already running (resumed)"
            if in_flight_already
            else ""
        ),
        file=out,
    )
    if plan.dry_run:
        for day, mode in todo:
            state = "running, would wait for it" if (day, mode) in in_flight_already else "would start"
            print(f"  {day} {mode.value}: {state}", file=out)
        return EXIT_OK

    in_flight: dict[tuple[date, AuditMode], str] = {}
    done = 0
    try:
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
                _finished(
                    day_mode, progress, env, totals, out, f"[{done}/{done + len(todo) + len(in_flight)}]"
                )
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: {len(in_flight)} execution(s) still running; {len(todo)} day(s) not started. "
            "Run the same command again to resume.",
            file=out,
        )
        return EXIT_INTERRUPTED
    except (BotoCoreError, ClientError) as error:
        print(
            f"\nAWS error: {error}. {len(in_flight)} execution(s) keep running; run the same command again "
            "to resume.",
            file=out,
        )
        return EXIT_FAILED
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


def _finished(
    day_mode: tuple[date, AuditMode],
    progress: Progress,
    env: Connection,
    totals: Totals,
    out: TextIO,
    counter: str,
) -> None:
    day, mode = day_mode
    report = env.reports(day, mode) if progress.status is Status.SUCCEEDED else None
    if is_complete(report):
        assert report is not None
        totals.complete += 1
        totals.add(report)
        print(
            f"{counter} {day} {mode.value}: complete, {report['in_genesys']:,} in Genesys, "
            f"{report['missing_landed']:,} landed, {report['changed_relanded']:,} re-landed, "
            f"{report['requests']:,} requests, {report['duration_seconds']:.0f} s",
            file=out,
        )
        return
    totals.failed.append(day.isoformat())
    why = progress.error or f"{progress.status.value} without a complete report at {report_key(day, mode)}"
    print(f"{counter} {day} {mode.value}: FAILED ({why})", file=out)


def aws_environment(args: argparse.Namespace) -> Environment:
    """The deployment named by --environment: its cdk.json settings, its stack's outputs, the user's
    credentials."""
    from backfill.aws import deployed_environment

    return deployed_environment(args)
