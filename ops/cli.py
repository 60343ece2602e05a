"""`python -m ops --environment prod <command>` (make ops ENV=prod ARGS="<command>")."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from botocore.exceptions import (
    ClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    TokenRetrievalError,
)

from ops.commands import DEFAULT_SAMPLE, Clients, Ops, ids_from_file, parse_ids
from ops.render import (
    render_conversation,
    render_quarantine,
    render_redrive,
    render_refetch,
    render_status,
)
from ops.stack import REDRIVE_TARGETS, Bridge, CommandFailed, OpsError, describe_stack

# ClientError codes that mean the credentials, not the request, are the problem.
_CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "AccessDenied",
        "AccessDeniedException",
        "AuthFailure",
    }
)
EXIT_FAILED = 1  # the command ran and something needs attention (refused messages, a failed task)
EXIT_USAGE = 2  # the command could not run (no stack, no credentials, bad input)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ops",
        description="Operate a deployed Genesys Analytics Bridge (finds it by its stack's outputs).",
    )
    parser.add_argument("--environment", "-e", required=True, help="cdk.json environment, e.g. dev or prod")
    parser.add_argument(
        "--region",
        help="AWS region of the stack (default: cdk.json's, else the SDK's: AWS_DEFAULT_REGION, the profile)",
    )
    parser.add_argument("--stack-name", help="override the stack name (default: from the environment)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    status = commands.add_parser("status", help="queue depths, dead-letter reasons, alarms in ALARM")
    status.add_argument(
        "--sample", type=int, default=DEFAULT_SAMPLE, help="messages read per dead-letter queue for reasons"
    )

    redrive = commands.add_parser("redrive", help="empty a dead-letter queue back into the pipeline")
    redrive.add_argument("queue", choices=REDRIVE_TARGETS)
    redrive.add_argument("--wait", type=float, default=60.0, help="seconds to follow an SQS move task")
    redrive.add_argument("--reason", help="replayed queues: only messages with this reason")
    redrive.add_argument("--limit", type=int, help="replayed queues: at most this many messages")

    refetch = commands.add_parser("refetch", help="put conversation ids on the work queue")
    refetch.add_argument("ids", nargs="*", metavar="ID", help="conversation ids (UUIDs)")
    refetch.add_argument("--file", type=Path, help="a file of ids, one per line (# comments allowed)")
    refetch.add_argument("--delay", type=int, help="seconds before the processor sees them (0-900)")

    quarantine = commands.add_parser("quarantine", help="quarantined events by reason; --replay them")
    quarantine.add_argument("--replay", action="store_true", help="invoke the ingest function with them")
    quarantine.add_argument("--reason", help="with --replay: only events with this reason")
    quarantine.add_argument("--limit", type=int, help="read (or with --replay, replay) at most this many")

    conversation = commands.add_parser("conversation", help="a conversation's buffer item and landed object")
    conversation.add_argument("id", metavar="ID")
    conversation.add_argument(
        "--date", type=date.fromisoformat, help="its start date (YYYY-MM-DD), to find it without an item"
    )
    return parser


def run(args: argparse.Namespace, ops: Ops) -> tuple[dict[str, Any], Callable[[dict[str, Any]], str]]:
    """The command's result and its text renderer."""
    if args.command == "status":
        return ops.status(sample=args.sample), render_status
    if args.command == "redrive":
        return ops.redrive(args.queue, wait_s=args.wait, reason=args.reason, limit=args.limit), render_redrive
    if args.command == "refetch":
        values = [(f"argument {n}", value) for n, value in enumerate(args.ids, start=1)]
        if args.file is not None:
            values += ids_from_file(args.file)
        if not values:
            raise OpsError("give conversation ids, or --file with one per line")
        return ops.refetch(parse_ids(values), delay_seconds=args.delay), render_refetch
    if args.command == "quarantine":
        if args.replay:
            return ops.redrive("quarantine", reason=args.reason, limit=args.limit), render_redrive
        if args.reason is not None:
            raise OpsError("--reason selects what --replay replays; `quarantine` alone shows every reason")
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
    info = describe_stack(session.client("cloudformation"), stack_name)
    clients = Clients(
        sqs=session.client("sqs"),
        dynamodb=session.client("dynamodb"),
        s3=session.client("s3"),
        cloudwatch=session.client("cloudwatch"),
        lambda_=session.client("lambda"),
    )
    return Ops(Bridge.from_stack(info), clients)


def main(
    argv: Sequence[str] | None = None, *, connect_to: Callable[[argparse.Namespace], Ops] = connect
) -> int:
    args = build_parser().parse_args(argv)
    try:
        ops = connect_to(args)
        result, render = run(args, ops)
    except CommandFailed as error:
        print(f"ops: {error}", file=sys.stderr)
        return EXIT_FAILED
    except OpsError as error:
        print(f"ops: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (NoCredentialsError, PartialCredentialsError, TokenRetrievalError) as error:
        print(
            f"ops: no usable AWS credentials ({error}): sign in first (e.g. `aws sso login`, or set "
            "AWS_PROFILE to a profile of the stack's account)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except NoRegionError:
        print(
            "ops: no AWS region: pass --region, set AWS_DEFAULT_REGION (or a profile's region), or set "
            "`region` in the environment's cdk.json block",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except ClientError as error:
        details = error.response.get("Error", {})
        code = details.get("Code", "?")
        hint = (
            ": check that the credentials are current and allowed to operate this stack"
            if code in _CREDENTIAL_CODES
            else ""
        )
        print(
            f"ops: AWS refused {error.operation_name} ({code}): {details.get('Message', '')}{hint}",
            file=sys.stderr,
        )
        return EXIT_USAGE if code in _CREDENTIAL_CODES else EXIT_FAILED
    print(json.dumps(result, indent=2, default=str) if args.json else render(result))
    return 0
