"""Embedded AWS for a local run: the dev environment's resources on moto, from the stack's own config.

Names and numbers come from ``stacks.config.load_environment_config`` (what the CDK stack reads) and
variable names from ``genesys_bridge.contracts``; only the physical resource names, which CloudFormation
would generate, are made up here (derived from the config's stack name).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from genesys_bridge import contracts
from stacks.config import EnvironmentConfig

# Credentials and region for boto3 under moto. Fake on purpose: the run must never reach real AWS.
FAKE_AWS_ENV: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "local-runner",
    "AWS_SECRET_ACCESS_KEY": "local-runner",
    "AWS_SESSION_TOKEN": "local-runner",
    # moto 5 with current botocore needs this, or DynamoDB Streams calls fail with 404.
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    # X-Ray has no daemon here; Powertools' tracer would only log connection errors.
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
}
# The region the dev environment runs in when cdk.json leaves it unset (environment-agnostic stack).
DEFAULT_REGION = "eu-west-1"
# ProcessorSettings accepts at most this budget; "pacing off" asks for it.
UNPACED_REQUESTS_PER_MINUTE = 100_000
# SQS ReceiveMessage returns at most 10 messages; SendMessageBatch and DeleteMessageBatch take at most
# 10 entries (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html).
SQS_MAX_BATCH = 10


def apply_aws_env(region: str) -> dict[str, str | None]:
    """Set fake credentials and the region before any boto3 client exists; returns the old values."""
    values = {**FAKE_AWS_ENV, "AWS_DEFAULT_REGION": region, "AWS_REGION": region}
    previous = {name: os.environ.get(name) for name in [*values, "AWS_PROFILE"]}
    os.environ.pop("AWS_PROFILE", None)  # a developer's profile must not leak real credentials in
    os.environ.update(values)
    return previous


def restore_env(previous: dict[str, str | None]) -> None:
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@contextmanager
def env_overlay(values: dict[str, str]) -> Iterator[None]:
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        restore_env(previous)


@dataclass(frozen=True)
class TimeScale:
    """One factor turns the config's timings into the local run's: scaled = config seconds x factor.

    Delays, windows, backoffs, visibility timeouts and the max age shrink by the factor; request
    budgets (per minute) grow by 1/factor, so a scaled minute carries the configured number of
    requests. SQS and the processor's settings take whole seconds (and whole minutes for the max age),
    so those round up to at least 1; NOT_READY_MAX_AGE_MINUTES and SETTLE_MAX_MINUTES take fractional
    minutes.
    """

    factor: float

    def seconds(self, config_seconds: float) -> float:
        return config_seconds * self.factor

    def whole_seconds(self, config_seconds: float) -> int:
        if config_seconds <= 0:
            return 0
        return max(1, math.ceil(config_seconds * self.factor - 1e-9))

    def minutes(self, config_minutes: float) -> float:
        return config_minutes * self.factor

    def per_minute(self, config_rate: float) -> int:
        return max(1, math.ceil(config_rate / self.factor))


@dataclass(frozen=True)
class LocalResources:
    region: str
    account_id: str
    table_name: str
    stream_arn: str
    work_queue_url: str
    work_queue_arn: str
    work_dlq_url: str
    quarantine_queue_url: str
    ingest_failure_queue_url: str
    bucket_name: str
    secret_arn: str
    # scaled values the resources were created with
    delivery_delay_s: int
    visibility_timeout_s: int
    max_receive_count: int


def _resource_prefix(config: EnvironmentConfig) -> str:
    return config.stack_name.lower()


def create_resources(
    config: EnvironmentConfig, scale: TimeScale, region: str, credentials: dict[str, str]
) -> LocalResources:
    """Create the environment's stateful resources on moto (call inside mock_aws)."""
    import boto3

    prefix = _resource_prefix(config)
    dynamodb = boto3.client("dynamodb", region_name=region)
    sqs = boto3.client("sqs", region_name=region)
    s3 = boto3.client("s3", region_name=region)
    secrets = boto3.client("secretsmanager", region_name=region)
    sts = boto3.client("sts", region_name=region)
    account_id = sts.get_caller_identity()["Account"]

    table_name = f"{prefix}-buffer"
    table = dynamodb.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": contracts.ATTR_CONVERSATION_ID, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": contracts.ATTR_CONVERSATION_ID, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    dynamodb.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": contracts.ATTR_EXPIRES_AT},
    )
    stream_arn = table["TableDescription"]["LatestStreamArn"]

    def queue(name: str, attributes: dict[str, str] | None = None) -> tuple[str, str]:
        url = sqs.create_queue(QueueName=f"{prefix}-{name}", Attributes=attributes or {})["QueueUrl"]  # type: ignore[arg-type]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    dlq_url, dlq_arn = queue("work-dlq")
    delay = scale.whole_seconds(config.settle_delay_seconds)
    visibility = scale.whole_seconds(config.work_queue_visibility_timeout_seconds)
    work_url, work_arn = queue(
        "work",
        {
            "DelaySeconds": str(delay),
            "VisibilityTimeout": str(visibility),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": config.work_queue_max_receive_count}
            ),
        },
    )
    quarantine_url, _ = queue("quarantine")
    failure_url, _ = queue("ingest-failures")

    bucket = f"{prefix}-results-{account_id}"
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})  # type: ignore[typeddict-item]

    secret_name = config.credentials_secret_name or _secret_name_from_arn(config.credentials_secret_arn or "")
    secret_arn = secrets.create_secret(Name=secret_name, SecretString=json.dumps(credentials))["ARN"]

    return LocalResources(
        region=region,
        account_id=account_id,
        table_name=table_name,
        stream_arn=stream_arn,
        work_queue_url=work_url,
        work_queue_arn=work_arn,
        work_dlq_url=dlq_url,
        quarantine_queue_url=quarantine_url,
        ingest_failure_queue_url=failure_url,
        bucket_name=bucket,
        secret_arn=secret_arn,
        delivery_delay_s=delay,
        visibility_timeout_s=visibility,
        max_receive_count=config.work_queue_max_receive_count,
    )


def _secret_name_from_arn(arn: str) -> str:
    # arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 random chars>
    name = arn.split(":secret:", 1)[-1]
    return name.rsplit("-", 1)[0] if "-" in name else name


def ingest_env(config: EnvironmentConfig, resources: LocalResources) -> dict[str, str]:
    return {
        contracts.BUFFER_TABLE_NAME: resources.table_name,
        contracts.QUARANTINE_QUEUE_URL: resources.quarantine_queue_url,
        contracts.BUFFER_TTL_HOURS: str(config.buffer_ttl_hours),
        contracts.CONVERSATION_TOPICS: ",".join(config.topics),
        contracts.POWERTOOLS_SERVICE_NAME: contracts.INGEST_SERVICE,
        contracts.POWERTOOLS_METRICS_NAMESPACE: contracts.METRICS_NAMESPACE,
    }


def pipe_dlq_env(resources: LocalResources, unresolved_queue_url: str) -> dict[str, str]:
    """The pipe DLQ function's environment, as stacks/pipe_dlq.py sets it."""
    return {
        contracts.BUFFER_STREAM_ARN: resources.stream_arn,
        contracts.WORK_QUEUE_URL: resources.work_queue_url,
        contracts.PIPE_UNRESOLVED_QUEUE_URL: unresolved_queue_url,
        contracts.POWERTOOLS_SERVICE_NAME: contracts.PIPE_DLQ_SERVICE,
        contracts.POWERTOOLS_METRICS_NAMESPACE: contracts.METRICS_NAMESPACE,
    }


def processor_env(
    config: EnvironmentConfig,
    resources: LocalResources,
    scale: TimeScale,
    *,
    genesys_region: str,
    api_base_url: str | None,
    login_base_url: str | None,
    paced: bool,
) -> dict[str, Any]:
    budget = (
        scale.per_minute(config.genesys_max_requests_per_minute) if paced else UNPACED_REQUESTS_PER_MINUTE
    )
    base = scale.whole_seconds(config.not_ready_retry_base_seconds)
    return {
        contracts.BUFFER_TABLE_NAME: resources.table_name,
        contracts.RESULTS_BUCKET_NAME: resources.bucket_name,
        contracts.GENESYS_REGION: genesys_region,
        contracts.GENESYS_API_BASE_URL: api_base_url or "",
        contracts.GENESYS_LOGIN_BASE_URL: login_base_url or "",
        contracts.GENESYS_CREDENTIALS_SECRET_ARN: resources.secret_arn,
        contracts.GENESYS_MAX_REQUESTS_PER_MINUTE: str(min(budget, UNPACED_REQUESTS_PER_MINUTE)),
        contracts.GENESYS_IDS_PER_REQUEST: str(config.genesys_ids_per_request),
        # The event source's MaximumConcurrency: that many invocations share the budget.
        contracts.GENESYS_CONCURRENT_CALLERS: str(config.processor_max_concurrency),
        contracts.NOT_READY_MAX_AGE_MINUTES: f"{scale.minutes(config.not_ready_max_age_minutes):.6g}",
        contracts.SETTLE_MAX_MINUTES: f"{scale.minutes(config.settle_max_minutes):.6g}",
        contracts.NOT_READY_RETRY_BASE_SECONDS: str(base),
        contracts.NOT_READY_RETRY_MAX_SECONDS: str(
            max(base, scale.whole_seconds(config.not_ready_retry_max_seconds))
        ),
        contracts.WRAPUP_ESTIMATE_SECONDS: str(scale.whole_seconds(config.wrapup_estimate_seconds)),
        contracts.NOT_READY_RETRY_GRID_SECONDS: str(scale.whole_seconds(config.not_ready_retry_grid_seconds)),
        contracts.WORK_QUEUE_URL: resources.work_queue_url,
        contracts.WORK_DLQ_URL: resources.work_dlq_url,
        contracts.POWERTOOLS_SERVICE_NAME: contracts.PROCESSOR_SERVICE,
        contracts.POWERTOOLS_METRICS_NAMESPACE: contracts.METRICS_NAMESPACE,
    }
