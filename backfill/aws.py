"""The deployed environment as `make backfill` reaches it: cdk.json settings, the stack's outputs (the
state machine and the results bucket), and the user's AWS credentials through boto3's default chain."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from backfill.cli import Connection, Environment, UsageError
from backfill.executors import StepFunctionsExecutor
from genesys_bridge import contracts
from genesys_bridge.audit.model import AuditMode, report_key
from genesys_bridge.audit.store import AuditStore
from stacks.config import ConfigError, EnvironmentConfig, load_environment_config


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    """OutputKey -> OutputValue of the deployed stack; a clear UsageError if it cannot be read."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", str(error))
        raise UsageError(
            f"cannot read stack {stack_name}: {message} (deployed, and these credentials?)"
        ) from None
    except BotoCoreError as error:
        raise UsageError(f"cannot reach CloudFormation for stack {stack_name}: {error}") from None
    return {item["OutputKey"]: item["OutputValue"] for item in stacks[0].get("Outputs") or []}


def deployed_environment(args: argparse.Namespace) -> Environment:
    try:
        config = load_environment_config(args.environment)
    except ConfigError as error:
        raise UsageError(str(error)) from None

    def connect() -> Connection:
        try:
            return _connect(config, args.state_machine_arn, args.bucket)
        except (BotoCoreError, ClientError, ValueError) as error:
            # (botocore raises ValueError for an endpoint it cannot build, e.g. an empty region)
            raise UsageError(f"cannot reach AWS for stack {config.stack_name}: {error}") from None

    return Environment(
        name=args.environment,
        first_day=date.fromisoformat(config.catalog_first_day),
        finalize_lag_days=config.finalize_lag_days,
        connect=connect,
    )


def _connect(config: EnvironmentConfig, arn: str | None, bucket: str | None) -> Connection:
    session = boto3.session.Session(region_name=config.region) if config.region else boto3.session.Session()
    if arn is None or bucket is None:
        outputs = stack_outputs(session.client("cloudformation"), config.stack_name)
        arn = arn or outputs.get(contracts.OUTPUT_AUDIT_STATE_MACHINE_ARN)
        bucket = bucket or outputs.get(contracts.OUTPUT_RESULTS_BUCKET_NAME)
        if not arn or not bucket:
            raise UsageError(
                f"stack {config.stack_name} has no {contracts.OUTPUT_AUDIT_STATE_MACHINE_ARN} or "
                f"{contracts.OUTPUT_RESULTS_BUCKET_NAME} output: deploy a version with the audit workflow"
            )
    store = AuditStore(session.client("s3"), bucket)

    def reports(day: date, mode: AuditMode) -> dict[str, Any] | None:
        report = store.get_json(report_key(day, mode))
        return report if isinstance(report, dict) else None

    return Connection(executor=StepFunctionsExecutor(session.client("stepfunctions"), arn), reports=reports)
