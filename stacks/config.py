"""One environment's settings, read from its block in cdk.json's context and validated at synth time.

This module must not import aws_cdk: the local runner reads the same blocks to run the dev environment
on moto, without the CDK installed in its process. The value formats (config_formats.py), the results
lifecycle (config_lifecycle.py) and the error wording (config_errors.py) have modules of their own;
EnvironmentConfig keeps its fields and every rule between them here, so one model reads in one place.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from genesys_bridge import contracts
from genesys_bridge.backoff import not_ready_delay
from genesys_bridge.regions import REGIONS
from stacks.config_errors import describe_error
from stacks.config_formats import (
    EMAIL,
    KMS_KEY_ARN,
    LOG_RETENTION_DAYS,
    PARTNER_BUS_NAME,
    SECRET_ARN,
    SNS_TOPIC_ARN,
    TOPIC,
    arn_region,
    full_match,
)
from stacks.config_lifecycle import ResultsLifecycle

# LOG_RETENTION_DAYS and ResultsLifecycle are imported from this module too (constructs, tests).

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CDK_JSON = REPO_ROOT / "cdk.json"

# The event source prefix of every Genesys partner event (docs/genesys-api.md, "EventBridge integration").
GENESYS_PARTNER_SOURCE_PREFIX = "aws.partner/genesys.com"

# SQS limits the validators lean on.
SQS_MAX_DELIVERY_DELAY_SECONDS = 900
WORK_QUEUE_RETENTION_DAYS = 4
# Receives a message may spend on being handed back for rate limits or Genesys outages (RetryLater),
# on top of the not-ready schedule; each costs one receive of the work queue's redrive budget.
THROTTLE_RECEIVE_HEADROOM = 10
# The pipe DLQ resolver (stacks/pipe_dlq.py), which the local runner plays with the same numbers. One
# pointer costs a GetShardIterator, a few GetRecords (a pipe batch is at most 10,000 records, 1,000
# per read) and one SendMessageBatch per 10 conversations: seconds, not minutes.
PIPE_DLQ_RESOLVER_TIMEOUT_SECONDS = 60
PIPE_DLQ_RESOLVER_BATCH_SIZE = 10
# Deliveries of one pointer (throttling, AWS errors) before SQS parks it in the unresolved queue.
PIPE_DLQ_MAX_RECEIVE_COUNT = 5


class ConfigError(ValueError):
    """An environment block in cdk.json is missing or invalid; the message names the key and range."""


class EnvironmentConfig(BaseModel):
    """One deployable environment (a block such as `dev` or `prod` in cdk.json's context)."""

    # strict: numbers are JSON numbers without a fraction and booleans are not numbers (true would
    # synthesize as "1"), strings are strings; the error names the key.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    environment_name: Annotated[
        str, full_match(r"[a-z][a-z0-9-]{0,19}", "a lower-case name of up to 20 letters, digits and -")
    ]
    # Deploy target; both unset keeps the stack environment-agnostic (synth needs no credentials).
    account: Annotated[str, full_match(r"[0-9]{12}", "a 12-digit AWS account id")] | None = None
    region: (
        Annotated[str, full_match(r"[a-z]{2}(-[a-z]+)+-[0-9]", "an AWS region such as eu-west-1")] | None
    ) = None

    # Where events arrive. partner_event_source: the stack creates the partner bus for the Genesys
    # event source of that name; existing: a bus that already exists is imported by name; create: a
    # plain bus of this name (dev, synthetic events).
    event_bus_mode: Literal["partner_event_source", "existing", "create"] = "partner_event_source"
    # EventBridge's own pattern for bus names, also used for the source prefix.
    event_bus_name: Annotated[
        str, Field(min_length=1, max_length=256), full_match(r"[A-Za-z0-9/._-]+", "an EventBridge bus name")
    ]
    event_source_prefix: Annotated[
        str, Field(min_length=1, max_length=256), full_match(r"[A-Za-z0-9/._-]+", "an event source prefix")
    ] = GENESYS_PARTNER_SOURCE_PREFIX
    topics: Annotated[list[str], Field(min_length=1, max_length=20)] = ["customer.end"]

    genesys_region: str = "mypurecloud.com"
    genesys_api_base_url: Annotated[str, full_match(r"https://\S+", "an https:// URL")] | None = None
    genesys_login_base_url: Annotated[str, full_match(r"https://\S+", "an https:// URL")] | None = None
    credentials_secret_name: (
        Annotated[
            str,
            Field(min_length=1, max_length=512),
            # Secrets Manager's characters for a secret name.
            full_match(r"[A-Za-z0-9/_+=.@-]+", "a Secrets Manager secret name"),
        ]
        | None
    ) = None
    credentials_secret_arn: str | None = None
    # The customer-managed KMS key the secret is encrypted with, if not Secrets Manager's own key: the
    # processor may then decrypt with it, through Secrets Manager only.
    credentials_kms_key_arn: str | None = None
    genesys_max_requests_per_minute: Annotated[int, Field(ge=1, le=6000)] = 240
    genesys_ids_per_request: Annotated[int, Field(ge=1, le=100)] = 100

    ingest_memory_mb: Annotated[int, Field(ge=128, le=10_240)] = 256
    ingest_timeout_seconds: Annotated[int, Field(ge=3, le=60)] = 10
    # EventBridge rule target retries (before Lambda accepts the event) and Lambda's async retries.
    ingest_rule_retry_attempts: Annotated[int, Field(ge=0, le=185)] = 185
    ingest_rule_max_event_age_hours: Annotated[int, Field(ge=1, le=24)] = 24
    ingest_async_retry_attempts: Annotated[int, Field(ge=0, le=2)] = 2
    ingest_async_max_event_age_hours: Annotated[int, Field(ge=1, le=6)] = 6

    buffer_ttl_hours: Annotated[int, Field(ge=1, le=8760)] = 48
    # EventBridge Pipes caps a batch at 10 records when the target is an SQS queue; more fails at deploy.
    pipe_batch_size: Annotated[int, Field(ge=1, le=10)] = 10
    # Batches the pipe sends from each stream shard at once (Pipes' ParallelizationFactor, at most 10):
    # with 1, a shard's next batch waits for the previous one, which caps the pipe at about shards x 10
    # records per batch time; docs/capacity.md, "Settings that move a bottleneck", says when to raise it.
    pipe_parallelization_factor: Annotated[int, Field(ge=1, le=10)] = 1
    pipe_max_retry_attempts: Annotated[int, Field(ge=0, le=185)] = 10
    # Pipes retries its own internal errors until a record leaves the source: this age sends such a
    # record to the pipe DLQ instead. The DLQ message only points into the stream, which keeps records
    # 24 hours, so at most 12 leaves half a day to resolve the pointer.
    pipe_max_record_age_hours: Annotated[int, Field(ge=1, le=12)] = 6

    settle_delay_seconds: Annotated[int, Field(ge=0, le=SQS_MAX_DELIVERY_DELAY_SECONDS)] = 120
    work_queue_max_receive_count: Annotated[int, Field(ge=1, le=1000)] = 50
    work_queue_age_alarm_minutes: Annotated[int, Field(ge=1, le=5760)] = 60
    # A stall: messages wait in the work queue and no conversation lands for this long (5-minute steps).
    work_queue_stall_alarm_minutes: Annotated[int, Field(ge=10, le=1440, multiple_of=5)] = 30
    # Share of Genesys requests answered with an error or a 429, 15 minutes in a row, that raises an alarm.
    genesys_error_rate_alarm_percent: Annotated[int, Field(ge=1, le=100)] = 5
    genesys_throttled_rate_alarm_percent: Annotated[int, Field(ge=1, le=100)] = 10

    processor_batch_size: Annotated[int, Field(ge=1, le=10_000)] = 100
    processor_batching_window_seconds: Annotated[int, Field(ge=0, le=300)] = 10
    processor_max_concurrency: Annotated[int, Field(ge=2, le=1000)] = 4
    processor_timeout_seconds: Annotated[int, Field(ge=10, le=900)] = 120
    processor_memory_mb: Annotated[int, Field(ge=128, le=10_240)] = 512

    not_ready_max_age_minutes: Annotated[int, Field(ge=5, le=2880)] = 240
    # An ended conversation with a segment still open (an agent's wrap-up) is waited for this long after
    # its first event, then landed as it is (docs/genesys-api.md, "Wrap-up after conversationEnd").
    settle_max_minutes: Annotated[int, Field(ge=1, le=2879)] = 60
    not_ready_retry_base_seconds: Annotated[int, Field(ge=1, le=900)] = 60
    not_ready_retry_max_seconds: Annotated[int, Field(ge=1, le=contracts.SQS_MAX_VISIBILITY_SECONDS)] = 900
    # A conversation found in wrap-up is not fetched again before its wrap-up segment's start plus this:
    # a high quantile (about the 90th percentile) of the org's after-call work, tAcw. Every not-ready wait
    # then ends on a multiple of the grid of wall-clock time, so the refetches due in the same slot share
    # one Genesys request; 0 turns the grid off (docs/design.md, "Refetches that share requests").
    wrapup_estimate_seconds: Annotated[int, Field(ge=0, le=3600)] = 180
    not_ready_retry_grid_seconds: Annotated[int, Field(ge=0, le=900)] = 60

    # Audit and finalization (docs/completeness.md): a daily audit of yesterday, a daily finalization of
    # the day `finalize_lag_days` ago, and `make backfill` over past days, at their own Genesys pace.
    audit_enabled: bool = True
    # Genesys reprocesses data at least 48 hours old every night (docs/genesys-api.md, "Nightly
    # reprocessing"): finalize once that window has passed, a day or more later.
    finalize_lag_days: Annotated[int, Field(ge=3, le=30)] = 4
    # Finalization starts at HH:00 UTC, the audit of yesterday at HH:15 (it then waits for Genesys' data
    # availability date to pass the end of the day).
    audit_schedule_hour_utc: Annotated[int, Field(ge=0, le=23)] = 1
    # Public connectors page job results at 1,000; Genesys documents no maximum, so none above it.
    audit_page_size: Annotated[int, Field(ge=10, le=1000)] = 1000
    # The audit's own pace, on top of genesys_max_requests_per_minute (the live path's).
    audit_max_requests_per_minute: Annotated[int, Field(ge=1, le=6000)] = 30
    audit_missing_alarm_threshold: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    audit_availability_max_wait_hours: Annotated[int, Field(ge=1, le=48)] = 24
    audit_job_timeout_minutes: Annotated[int, Field(ge=10, le=1440)] = 180
    audit_max_concurrent_executions: Annotated[int, Field(ge=1, le=5)] = 1
    audit_memory_mb: Annotated[int, Field(ge=256, le=10_240)] = 1024
    audit_timeout_seconds: Annotated[int, Field(ge=60, le=900)] = 300

    log_retention_days: int = 30
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Alarm recipients: e-mail addresses (`alarm_email`, the first key, still works and is merged in)
    # and an existing SNS topic (chat or paging tools) that every alarm publishes to as well.
    alarm_email: str | None = None
    alarm_emails: Annotated[list[str], Field(max_length=20)] = []
    alarm_topic_arn: str | None = None
    removal_policy: Literal["retain", "destroy"] = "retain"
    results_lifecycle: ResultsLifecycle = ResultsLifecycle()
    # The catalog (docs/query.md): the first day Athena's partition projection covers (and the first day
    # the audit and `make backfill` accept, docs/completeness.md), the workgroup's
    # per-query scan cutoff (Athena refuses one under 10,000,000 bytes) and the query results' expiry.
    catalog_first_day: str = "2026-01-01"
    athena_bytes_scanned_cutoff_mb: Annotated[int, Field(ge=10, le=1_048_576)] = 10_240
    athena_query_results_expire_days: Annotated[int, Field(ge=1, le=365)] = 7

    @property
    def stack_name(self) -> str:
        return f"GenesysAnalyticsBridge-{self.environment_name}"

    @property
    def retain_data(self) -> bool:
        """Keep the buffer and results on stack deletion, with deletion protection on the table."""
        return self.removal_policy == "retain"

    @property
    def alarm_recipient_emails(self) -> tuple[str, ...]:
        """`alarm_emails` and `alarm_email`, each address once, in the order given."""
        single = [self.alarm_email] if self.alarm_email is not None else []
        return tuple(dict.fromkeys([*self.alarm_emails, *single]))

    @property
    def unheard_alarms_warning(self) -> str | None:
        """What synth says when a data-keeping environment's alarms would reach nobody."""
        if not self.retain_data or self.alarm_recipient_emails or self.alarm_topic_arn is not None:
            return None
        return (
            f"the alarms of environment '{self.environment_name}' reach nobody: it keeps data "
            "(removal_policy retain) but has no alarm_emails, alarm_email or alarm_topic_arn in its "
            "cdk.json block (or subscribe to the AlarmTopicArn output yourself)"
        )

    @property
    def work_queue_visibility_timeout_seconds(self) -> int:
        # AWS guidance for SQS event sources: at least 6 x the function timeout plus the batching
        # window, so a batch still in flight is not delivered to a second invocation.
        return 6 * self.processor_timeout_seconds + self.processor_batching_window_seconds

    @field_validator("topics")
    @classmethod
    def _topics_well_formed(cls, topics: list[str]) -> list[str]:
        for topic in topics:
            if not TOPIC.fullmatch(topic):
                raise ValueError(f"topic {topic!r} is not a topic suffix such as 'customer.end' or 'acw'")
        if len(set(topics)) != len(topics):
            raise ValueError("topics must not repeat")
        return topics

    @field_validator("genesys_region")
    @classmethod
    def _known_genesys_region(cls, region: str) -> str:
        if region not in REGIONS:
            raise ValueError(f"unknown Genesys region {region!r}; allowed: {', '.join(sorted(REGIONS))}")
        return region

    @field_validator("credentials_secret_arn")
    @classmethod
    def _secret_arn_well_formed(cls, arn: str | None) -> str | None:
        if arn is not None and not SECRET_ARN.fullmatch(arn):
            raise ValueError(
                "must be the complete ARN of a Secrets Manager secret, ending in its 6-character suffix"
            )
        return arn

    @field_validator("log_retention_days")
    @classmethod
    def _retention_cloudwatch_accepts(cls, days: int) -> int:
        if days not in LOG_RETENTION_DAYS:
            raise ValueError(f"allowed values: {', '.join(map(str, LOG_RETENTION_DAYS))}")
        return days

    @field_validator("catalog_first_day")
    @classmethod
    def _first_day_is_a_past_day(cls, day: str) -> str:
        try:
            first = date.fromisoformat(day) if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", day) else None
        except ValueError:
            first = None
        today = datetime.now(UTC).date()
        if first is None or not date(2000, 1, 1) <= first <= today:
            raise ValueError(
                f"{day!r} is not a YYYY-MM-DD day from 2000-01-01 to today ({today.isoformat()})"
            )
        return day

    @field_validator("alarm_email")
    @classmethod
    def _email_well_formed(cls, email: str | None) -> str | None:
        if email is not None and not EMAIL.fullmatch(email):
            raise ValueError(f"{email!r} is not an e-mail address")
        return email

    @field_validator("alarm_emails")
    @classmethod
    def _emails_well_formed(cls, emails: list[str]) -> list[str]:
        for email in emails:
            if not EMAIL.fullmatch(email):
                raise ValueError(f"{email[:100]!r} is not an e-mail address")
        return emails

    @field_validator("alarm_topic_arn")
    @classmethod
    def _topic_arn_well_formed(cls, arn: str | None) -> str | None:
        if arn is not None and not SNS_TOPIC_ARN.fullmatch(arn):
            raise ValueError(
                f"{arn[:100]!r} is not the ARN of a standard SNS topic "
                "(arn:aws:sns:<region>:<account>:<name>)"
            )
        return arn

    @field_validator("credentials_kms_key_arn")
    @classmethod
    def _kms_key_arn_well_formed(cls, arn: str | None) -> str | None:
        if arn is not None and not KMS_KEY_ARN.fullmatch(arn):
            raise ValueError(
                f"{arn[:100]!r} is not the ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<key id>; "
                "an alias is not accepted)"
            )
        return arn

    @model_validator(mode="after")
    def _consistent(self) -> EnvironmentConfig:
        problems = [*self._event_bus_problems(), *self._timing_problems(), *self._region_problems()]
        if (self.credentials_secret_name is None) == (self.credentials_secret_arn is None):
            problems.append("set exactly one of credentials_secret_name and credentials_secret_arn")
        if problems:
            raise ValueError("\n  ".join(problems))
        return self

    def _event_bus_problems(self) -> list[str]:
        problems = []
        if self.event_bus_mode == "partner_event_source" and not PARTNER_BUS_NAME.fullmatch(
            self.event_bus_name
        ):
            problems.append(
                "event_bus_name must be the Genesys partner event source name "
                "'aws.partner/genesys.com/cloud/<orgId>/<suffix>' when event_bus_mode is partner_event_source"
            )
        if self.event_bus_mode == "create" and self.event_bus_name.startswith("aws."):
            problems.append(
                "event_bus_name of a bus the stack creates (event_bus_mode create) may not start with 'aws.'"
            )
        return problems

    def _region_problems(self) -> list[str]:
        """ARNs that must live in the stack's region: CloudWatch alarms publish to topics of their own
        region, and a secret is encrypted with a key of its own region."""
        problems = []
        secret_region = arn_region(self.credentials_secret_arn) or self.region
        key_region = arn_region(self.credentials_kms_key_arn)
        if key_region is not None and secret_region is not None and key_region != secret_region:
            problems.append(
                f"credentials_kms_key_arn is in {key_region} but the secret is in {secret_region}: "
                "Secrets Manager encrypts a secret with a key of its own region"
            )
        topic_region = arn_region(self.alarm_topic_arn)
        if topic_region is not None and self.region is not None and topic_region != self.region:
            problems.append(
                f"alarm_topic_arn is in {topic_region} but the stack in {self.region}: "
                "CloudWatch alarms publish to topics of their own region"
            )
        return problems

    def _timing_problems(self) -> list[str]:
        problems = []
        if self.processor_batch_size > 10 and self.processor_batching_window_seconds < 1:
            problems.append(
                "processor_batching_window_seconds must be at least 1 when processor_batch_size is above 10 "
                "(an SQS event source rule)"
            )
        if self.work_queue_visibility_timeout_seconds > contracts.SQS_MAX_VISIBILITY_SECONDS:
            problems.append(
                "6 x processor_timeout_seconds + processor_batching_window_seconds (the work queue's "
                f"visibility timeout) must be at most {contracts.SQS_MAX_VISIBILITY_SECONDS}"
            )
        if self.not_ready_retry_max_seconds < self.not_ready_retry_base_seconds:
            problems.append(
                f"not_ready_retry_max_seconds must be at least not_ready_retry_base_seconds "
                f"({self.not_ready_retry_base_seconds}..{contracts.SQS_MAX_VISIBILITY_SECONDS})"
            )
        if self.genesys_max_requests_per_minute < self.processor_max_concurrency:
            # Each concurrent processor paces at budget // concurrency, at least 1 a minute: a budget
            # below the concurrency would be exceeded.
            problems.append(
                f"genesys_max_requests_per_minute ({self.genesys_max_requests_per_minute}) must be at least "
                f"processor_max_concurrency ({self.processor_max_concurrency}): each concurrent processor "
                "gets budget / concurrency requests a minute"
            )
        if self.settle_max_minutes >= self.not_ready_max_age_minutes:
            # The settle wait rides on the not-ready schedule, whose receives the redrive budget below
            # covers up to not_ready_max_age_minutes; past that the message is given up, not landed.
            problems.append(
                f"settle_max_minutes ({self.settle_max_minutes}) must be below not_ready_max_age_minutes "
                f"({self.not_ready_max_age_minutes}): allowed 1..{self.not_ready_max_age_minutes - 1}"
            )
        if self.settle_max_minutes * 60 <= self.settle_delay_seconds:
            problems.append(
                f"settle_max_minutes ({self.settle_max_minutes}) must exceed settle_delay_seconds "
                f"({self.settle_delay_seconds} s): every message waits that long before its first fetch, "
                "so no open wrap-up would ever be waited for"
            )
        longest_batch_seconds = self.processor_timeout_seconds + self.processor_batching_window_seconds
        if self.work_queue_stall_alarm_minutes * 60 <= 2 * longest_batch_seconds:
            problems.append(
                "work_queue_stall_alarm_minutes must exceed two processor batches (2 x (timeout + batching "
                f"window) = {2 * longest_batch_seconds} s): a batch reports what it fetched when it ends"
            )
        if self.work_queue_age_alarm_minutes * 60 <= self.settle_delay_seconds:
            problems.append(
                "work_queue_age_alarm_minutes must exceed settle_delay_seconds: every message waits that long"
            )
        # An item that expires before the processor gives up on it could be written again by a late
        # duplicate event and fetched twice.
        longest_life_minutes = self.settle_delay_seconds / 60 + self.not_ready_max_age_minutes
        if self.buffer_ttl_hours * 60 <= longest_life_minutes:
            problems.append(
                f"buffer_ttl_hours must exceed settle delay + not_ready_max_age_minutes "
                f"({longest_life_minutes / 60:.1f} h)"
            )
        minimum_receives = self.minimum_work_queue_receive_count()
        if self.work_queue_max_receive_count < minimum_receives:
            problems.append(
                f"work_queue_max_receive_count must be at least {minimum_receives} (allowed "
                f"{minimum_receives}..1000): {self.not_ready_receives_needed()} receives for the not-ready "
                f"backoff up to not_ready_max_age_minutes plus {THROTTLE_RECEIVE_HEADROOM} for rate limits"
            )
        return problems

    def not_ready_receives_needed(self) -> int:
        """Receives a never-ready conversation takes until the processor sees it past its max age.

        The first receive comes after the settle delay; after the n-th the processor pushes the
        message's visibility out by genesys_bridge.backoff.not_ready_delay(n, base, max), or longer
        (an open wrap-up's expected end, the refetch grid), which only means fewer receives. The receive
        that finds the conversation older than not_ready_max_age_minutes sends it to the DLQ itself, so
        SQS's redrive must not move it earlier.
        """
        elapsed = self.settle_delay_seconds
        receives = 1
        max_age_seconds = self.not_ready_max_age_minutes * 60
        while elapsed < max_age_seconds:
            elapsed += not_ready_delay(
                receives, self.not_ready_retry_base_seconds, self.not_ready_retry_max_seconds
            )
            receives += 1
        return receives

    def minimum_work_queue_receive_count(self) -> int:
        return self.not_ready_receives_needed() + THROTTLE_RECEIVE_HEADROOM


def parse_environment_config(name: str, block: Any) -> EnvironmentConfig:
    """Validate one environment block; errors name the key and, for numbers, the allowed range."""
    if not isinstance(block, dict):
        raise ConfigError(
            f"cdk.json context '{name}' must be an object of settings, got {type(block).__name__}"
        )
    try:
        return EnvironmentConfig.model_validate({"environment_name": name, **block})
    except ValidationError as error:
        nested: dict[str, type[BaseModel]] = {"results_lifecycle": ResultsLifecycle}
        details = "\n  ".join(describe_error(item, EnvironmentConfig, nested) for item in error.errors())
        raise ConfigError(f"invalid settings for environment '{name}' in cdk.json:\n  {details}") from None


def load_environment_config(name: str, cdk_json_path: Path = DEFAULT_CDK_JSON) -> EnvironmentConfig:
    """Read the block `name` (e.g. "dev") from cdk.json's context and validate it."""
    context = json.loads(cdk_json_path.read_text(encoding="utf-8")).get("context", {})
    if name not in context:
        available = sorted(
            key for key, value in context.items() if isinstance(value, dict) and ":" not in key
        )
        raise ConfigError(
            f"no environment '{name}' in {cdk_json_path} context; available: {', '.join(available)}"
        )
    return parse_environment_config(name, context[name])
