"""`python -m ops --environment prod <command>` (make ops ENV=prod ARGS="<command>"; make backfill).

Every argument is checked before the first AWS call (the argparse types, then check()): a bad one is a
one-line usage error, exit 2, and nothing is contacted. Exit statuses are ops.errors'.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ops import backfill
from ops.cli_options import OneLineParser, iso_day, seconds, whole_number
from ops.commands import (
    DEFAULT_SAMPLE,
    MAX_DELAY_SECONDS,
    Clients,
    Ops,
    ids_from_file,
    parse_ids,
    redrive_spec,
)
from ops.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    CommandFailed,
    OpsError,
    aws_failure,
)
from ops.render import (
    render_conversation,
    render_quarantine,
    render_redrive,
    render_refetch,
    render_status,
)
from ops.stack import REDRIVE_TARGETS, Bridge, describe_stack

# Bounds of the flags that count messages or seconds: beyond them a value is a typo, not a request.
MAX_MESSAGES = 100_000
MAX_WAIT_SECONDS = 3600.0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m ops",
        description="Operate a deployed Genesys Analytics Bridge (finds it by its stack's outputs).",
    )
    parser.add_argument("--environment", "-e", required=True, help="cdk.json environment, e.g. dev or prod")
    parser.add_argument(
        "--region",
        help="AWS region of the stack (default: cdk.json's, else the SDK's: AWS_DEFAULT_REGION, the profile)",
    )
    parser.add_argument("--stack-name", help="override the stack name (default: from the environment)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON (not for backfill)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    limit = whole_number(1, MAX_MESSAGES)

    status = commands.add_parser("status", help="queue depths, dead-letter reasons, alarms in ALARM")
    status.add_argument(
        "--sample",
        type=whole_number(0, MAX_MESSAGES),
        default=DEFAULT_SAMPLE,
        help=f"messages read per dead-letter queue for reasons (default {DEFAULT_SAMPLE}; 0: depths only)",
    )

    redrive = commands.add_parser("redrive", help="empty a dead-letter queue back into the pipeline")
    redrive.add_argument("queue", choices=REDRIVE_TARGETS)
    redrive.add_argument(
        "--wait",
        type=seconds(MAX_WAIT_SECONDS),
        default=60.0,
        help=f"seconds to follow an SQS move task (default 60, at most {MAX_WAIT_SECONDS:g})",
    )
    redrive.add_argument("--reason", help="replayed queues: only messages with this reason")
    redrive.add_argument("--limit", type=limit, help="replayed queues: at most this many messages")

    refetch = commands.add_parser("refetch", help="put conversation ids on the work queue")
    refetch.add_argument("ids", nargs="*", metavar="ID", help="conversation ids (UUIDs)")
    refetch.add_argument("--file", type=Path, help="a file of ids, one per line (# comments allowed)")
    refetch.add_argument(
        "--delay",
        type=whole_number(0, MAX_DELAY_SECONDS),
        help=f"seconds before the processor sees them (0-{MAX_DELAY_SECONDS})",
    )

    quarantine = commands.add_parser("quarantine", help="quarantined events by reason; --replay them")
    quarantine.add_argument("--replay", action="store_true", help="invoke the ingest function with them")
    quarantine.add_argument("--reason", help="with --replay: only events with this reason")
    quarantine.add_argument("--limit", type=limit, help="read (or with --replay, replay) at most this many")

    conversation = commands.add_parser("conversation", help="a conversation's buffer item and landed object")
    conversation.add_argument("id", metavar="ID")
    conversation.add_argument(
        "--date", type=iso_day, help="its start date (YYYY-MM-DD), to find it without an item"
    )

    backfill.add_arguments(
        commands.add_parser(
            "backfill",
            help="run the audit workflow over past days, oldest first (make backfill)",
            description="Run the audit workflow over past UTC days, oldest first, against the deployed "
            "stack (make backfill ENV=prod FROM=2026-01-01 TO=2026-06-30).",
        )
    )
    return parser


def check(args: argparse.Namespace) -> None:
    """What argparse cannot check alone, still before any AWS call: every conversation id (and the ids
    file), and the flags only some commands or queues take. Raises OpsError."""
    if args.json and args.command == "backfill":
        raise OpsError("--json does not apply to backfill: it prints its progress as it goes")
    if args.command == "refetch":
        values = [(f"argument {n}", value) for n, value in enumerate(args.ids, start=1)]
        if args.file is not None:
            values += ids_from_file(args.file)
        if not values:
            raise OpsError("give conversation ids, or --file with one per line")
        args.ids = parse_ids(values)
    elif args.command == "conversation":
        [args.id] = parse_ids([("argument", args.id)])
    elif args.command == "redrive":
        redrive_spec(args.queue, reason=args.reason, limit=args.limit)
    elif args.command == "quarantine" and args.reason is not None and not args.replay:
        raise OpsError("--reason selects what --replay replays; `quarantine` alone shows every reason")


def run(args: argparse.Namespace, ops: Ops) -> tuple[dict[str, Any], Callable[[dict[str, Any]], str]]:
    """The command's result and its text renderer (args as check() left them)."""
    if args.command == "status":
        return ops.status(sample=args.sample), render_status
    if args.command == "redrive":
        return ops.redrive(args.queue, wait_s=args.wait, reason=args.reason, limit=args.limit), render_redrive
    if args.command == "refetch":
        return ops.refetch(args.ids, delay_seconds=args.delay), render_refetch
    if args.command == "quarantine":
        if args.replay:
            return ops.redrive("quarantine", reason=args.reason, limit=args.limit), render_redrive
        return ops.quarantine(limit=args.limit or 1000), render_quarantine
    if args.command == "conversation":
        return ops.conversation(args.id, on_date=args.date), render_conversation
    raise OpsError(f"unknown command {args.command}")  # argparse refuses it first


def connect(args: argparse.Namespace) -> Ops:
    """Find the stack (by name, in the environment's region) and build the commands over its outputs."""
    import boto3

    from stacks.config import ConfigError, load_environment_config

    region = args.region
    stack_name = args.stack_name
    if stack_name is None or region is None:
        try:
            config = load_environment_config(args.environment)
        except ConfigError as error:
            raise OpsError(str(error)) from None
        stack_name = stack_name or config.stack_name
        region = region or config.region
    session = boto3.Session(region_name=region)
    info = describe_stack(session.client("cloudformation"), stack_name, environment=args.environment)
    clients = Clients(
        sqs=session.client("sqs"),
        dynamodb=session.client("dynamodb"),
        s3=session.client("s3"),
        cloudwatch=session.client("cloudwatch"),
        lambda_=session.client("lambda"),
    )
    return Ops(Bridge.from_stack(info), clients)


def main(
    argv: Sequence[str] | None = None,
    *,
    connect_to: Callable[[argparse.Namespace], Ops] = connect,
    backfill_wiring: backfill.Wiring | None = None,
) -> int:
    """Run one command; `connect_to` and `backfill_wiring` reach AWS unless a test replaces them."""
    args = build_parser().parse_args(argv)
    try:
        check(args)
        if args.command == "backfill":
            return backfill.command(args, backfill_wiring or backfill.Wiring())
        ops = connect_to(args)
        result, render = run(args, ops)
    except CommandFailed as error:
        print(f"ops: {error}", file=sys.stderr)
        return EXIT_FAILED
    except OpsError as error:
        print(f"ops: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (BotoCoreError, ClientError) as error:
        message, status = aws_failure(error)
        print(f"ops: {message}", file=sys.stderr)
        return status
    except KeyboardInterrupt:
        print("ops: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(json.dumps(result, indent=2, default=str) if args.json else render(result))
    return EXIT_OK
