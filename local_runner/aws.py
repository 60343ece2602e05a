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

from genesys_bridge import contracts
from stacks import function_environments as environments
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
    """The ingest function's environment, from the stack's builder (stacks/function_environments.py)."""
    return {
        **environments.powertools_environment(contracts.INGEST_SERVICE),
        **environments.ingest_environment(
            config,
            buffer_table_name=resources.table_name,
            quarantine_queue_url=resources.quarantine_queue_url,
            work_queue_url=resources.work_queue_url,
        ),
    }


def pipe_dlq_env(resources: LocalResources, unresolved_queue_url: str) -> dict[str, str]:
    """The pipe DLQ function's environment, as stacks/pipe_dlq.py sets it."""
    return {
        **environments.powertools_environment(contracts.PIPE_DLQ_SERVICE),
        **environments.pipe_dlq_environment(
            buffer_stream_arn=resources.stream_arn,
            work_queue_url=resources.work_queue_url,
            unresolved_queue_url=unresolved_queue_url,
        ),
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
) -> dict[str, str]:
    """The processor's environment as the stack builds it, on the run's clock and Genesys."""
    env = {
        **environments.powertools_environment(contracts.PROCESSOR_SERVICE),
        # Written even when empty (the region's hosts), so a developer's shell cannot redirect the run.
        contracts.GENESYS_API_BASE_URL: "",
        contracts.GENESYS_LOGIN_BASE_URL: "",
        **environments.processor_environment(
            config,
            buffer_table_name=resources.table_name,
            results_bucket_name=resources.bucket_name,
            credentials_secret_arn=resources.secret_arn,
            work_queue_url=resources.work_queue_url,
            work_dlq_url=resources.work_dlq_url,
            genesys=environments.GenesysEndpoints(genesys_region, api_base_url, login_base_url),
            timing=scale,
        ),
    }
    budget = int(env[contracts.GENESYS_MAX_REQUESTS_PER_MINUTE]) if paced else UNPACED_REQUESTS_PER_MINUTE
    env[contracts.GENESYS_MAX_REQUESTS_PER_MINUTE] = str(min(budget, UNPACED_REQUESTS_PER_MINUTE))
    return env
