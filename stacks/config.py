"""One environment's settings, read from its block in cdk.json's context and validated at synth time.

This module must not import aws_cdk: the local runner reads the same blocks to run the dev environment
on moto, without the CDK installed in its process. The value formats (config_formats.py), the results
lifecycle (config_lifecycle.py), the error wording (config_errors.py) and the settings that are the same
in every environment (config_fixed.py) have modules of their own; EnvironmentConfig keeps its fields and
every rule between them here, so one model reads in one place. docs/configuration.md is generated from
the fields' descriptions (stacks/config_docs.py).
"""

from __future__ import annotations

import json
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
from genesys_bridge.audit import plan
from genesys_bridge.backoff import NOT_READY_RETRY_BASE_SECONDS, NOT_READY_RETRY_MAX_SECONDS, not_ready_delay
from genesys_bridge.events import check_topics
from stacks.config_errors import describe_error
from stacks.config_fixed import REMOVED_KEYS, SQS_MAX_DELIVERY_DELAY_SECONDS, THROTTLE_RECEIVE_HEADROOM
from stacks.config_formats import (
    ALLOWED,
    ALSO,
    LOG_RETENTION_DAYS,
    PARTNER_BUS_NAME,
    Email,
    Emails,
    GenesysRegion,
    KmsKeyArn,
    LogRetentionDays,
    PastDay,
    SecretArn,
    SnsTopicArn,
    arn_region,
    full_match,
)
from stacks.config_lifecycle import ResultsLifecycle

# LOG_RETENTION_DAYS and ResultsLifecycle are imported from this module too (constructs, tests).

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CDK_JSON = REPO_ROOT / "cdk.json"

# The event source prefix of every Genesys partner event (docs/genesys-api.md, "EventBridge integration").
GENESYS_PARTNER_SOURCE_PREFIX = "aws.partner/genesys.com"


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
    account: Annotated[str, full_match(r"[0-9]{12}", "a 12-digit AWS account id")] | None = Field(
        None,
        description="AWS account to deploy to; unset with `region` keeps the stack environment-agnostic "
        "(the CLI's credentials decide)",
        json_schema_extra={ALLOWED: "12 digits"},
    )
    region: (
        Annotated[str, full_match(r"[a-z]{2}(-[a-z]+)+-[0-9]", "an AWS region such as eu-west-1")] | None
    ) = Field(
        None,
        description="AWS region to deploy to",
        json_schema_extra={ALLOWED: "a region such as `eu-west-1`"},
    )

    event_bus_mode: Literal["partner_event_source", "existing", "create"] = Field(
        "partner_event_source",
        description="where events arrive: `partner_event_source` creates the bus for the Genesys partner "
        "event source named `event_bus_name` (no console step); `existing` imports a bus of that name; "
        "`create` makes a plain bus of that name (synthetic events, dev)",
    )
    # EventBridge's own pattern for bus names, also used for the source prefix.
    event_bus_name: Annotated[
        str, Field(min_length=1, max_length=256), full_match(r"[A-Za-z0-9/._-]+", "an EventBridge bus name")
    ] = Field(
        description="the bus; for `partner_event_source` the Genesys partner event source's name",
        json_schema_extra={
            ALLOWED: "1..256 of `A-Z a-z 0-9 / . _ -`; `aws.partner/genesys.com/cloud/<orgId>/<suffix>` for "
            "`partner_event_source`; not starting `aws.` for `create`"
        },
    )
    event_source_prefix: Annotated[
        str, Field(min_length=1, max_length=256), full_match(r"[A-Za-z0-9/._-]+", "an event source prefix")
    ] = Field(
        GENESYS_PARTNER_SOURCE_PREFIX,
        description="the rule's `source` prefix; PutEvents refuses `aws.` sources, so synthetic events "
        "into a `create` bus need another prefix",
        json_schema_extra={ALLOWED: "1..256 of `A-Z a-z 0-9 / . _ -`"},
    )
    topics: Annotated[list[str], Field(min_length=1, max_length=20)] = Field(
        ["customer.end"],
        description="conversation topic suffixes the rule matches (detail-type "
        "`v2.detail.events.conversation.{id}.<topic>`); ingest quarantines an event of any other topic. "
        "One end topic is enough with the audit as the net (docs/completeness.md)",
        json_schema_extra={ALLOWED: "1..20 distinct lower-case suffixes, e.g. `acw`, `user.end`"},
    )

    genesys_region: GenesysRegion = Field(
        "mypurecloud.com",
        description="the Genesys Cloud domain of the org",
        json_schema_extra={ALLOWED: 'a domain of docs/genesys-api.md, "Regions and hosts"'},
    )
    genesys_api_base_url: Annotated[str, full_match(r"https://\S+", "an https:// URL")] | None = Field(
        None,
        description="API host override (simulators, tests); unset: the region's host",
        json_schema_extra={ALLOWED: "`https://...`"},
    )
    genesys_login_base_url: Annotated[str, full_match(r"https://\S+", "an https:// URL")] | None = Field(
        None,
        description="login host override (simulators, tests); unset: the region's host",
        json_schema_extra={ALLOWED: "`https://...`"},
    )
    credentials_secret_name: (
        Annotated[
            str,
            Field(min_length=1, max_length=512),
            # Secrets Manager's characters for a secret name.
            full_match(r"[A-Za-z0-9/_+=.@-]+", "a Secrets Manager secret name"),
        ]
        | None
    ) = Field(
        None,
        description='the Secrets Manager secret holding `{"client_id", "client_secret"}`, by name; set '
        "exactly one of this and `credentials_secret_arn`",
        json_schema_extra={ALLOWED: "1..512 of `A-Z a-z 0-9 / _ + = . @ -`"},
    )
    credentials_secret_arn: SecretArn | None = Field(
        None,
        description="the same secret by its complete ARN",
        json_schema_extra={ALLOWED: "a secret ARN ending in its 6-character suffix"},
    )
    credentials_kms_key_arn: KmsKeyArn | None = Field(
        None,
        description="the customer-managed KMS key the secret is encrypted with; every function that reads "
        "the secret may then decrypt with it, through Secrets Manager only. Unset: Secrets Manager's own key",
        json_schema_extra={ALLOWED: "a KMS key ARN (not an alias), in the secret's region"},
    )
    genesys_max_requests_per_minute: Annotated[int, Field(ge=1, le=6000)] = Field(
        240,
        description="requests a minute the processors together send to Genesys: this deployment's share of "
        "the org's API budget, split across `processor_max_concurrency`",
        json_schema_extra={ALSO: "at least `processor_max_concurrency`"},
    )
    genesys_ids_per_request: Annotated[int, Field(ge=1, le=100)] = Field(
        100, description="conversation ids per multi-get request (Genesys allows 100)"
    )

    ingest_memory_mb: Annotated[int, Field(ge=128, le=10_240)] = Field(
        256,
        description="memory of the ingest function, in MB (its CPU share grows with it; `make capacity` says "
        "when it binds)",
    )

    buffer_ttl_hours: Annotated[int, Field(ge=1, le=8760)] = Field(
        48,
        description="hours a buffer item lives (`expiresAt`) after the conversation's first event",
        json_schema_extra={ALSO: "more than `settle_delay_seconds` + `not_ready_max_age_minutes`"},
    )
    # Pipes' ParallelizationFactor, at most 10: with 1, a shard's next batch waits for the previous one.
    pipe_parallelization_factor: Annotated[int, Field(ge=1, le=10)] = Field(
        1,
        description="batches the pipe sends from each stream shard at once (Pipes' ParallelizationFactor); "
        "raise it when `make capacity` names `stream_pipe` the bottleneck (docs/capacity.md)",
    )

    settle_delay_seconds: Annotated[int, Field(ge=0, le=SQS_MAX_DELIVERY_DELAY_SECONDS)] = Field(
        120,
        description="seconds the work queue delays each conversation before its first fetch: Genesys "
        "analytics needs time after the end event",
    )
    work_queue_max_receive_count: Annotated[int, Field(ge=1, le=1000)] = Field(
        50,
        description="receives of a work message before SQS moves it to the work DLQ (without a reason); "
        'the processor gives up first, with one (docs/operations.md, "The redrive budget")',
        json_schema_extra={ALSO: "at least the not-ready schedule's receives + 10"},
    )
    work_queue_age_alarm_minutes: Annotated[int, Field(ge=1, le=5760)] = Field(
        60,
        description="alarm when the work queue's oldest message is older, in minutes",
        json_schema_extra={ALSO: "more than `settle_delay_seconds`"},
    )
    # A stall: messages wait in the work queue and no conversation lands for this long (5-minute steps).
    work_queue_stall_alarm_minutes: Annotated[int, Field(ge=10, le=1440, multiple_of=5)] = Field(
        30,
        description="alarm when messages wait in the work queue and no conversation lands for this long, "
        "in minutes",
        json_schema_extra={ALSO: "more than two processor batches, 2 x (timeout + window)"},
    )
    genesys_error_rate_alarm_percent: Annotated[int, Field(ge=1, le=100)] = Field(
        5,
        description="alarm when more than this share of Genesys requests fail, 15 minutes in a row, in "
        "percent",
    )
    genesys_throttled_rate_alarm_percent: Annotated[int, Field(ge=1, le=100)] = Field(
        10,
        description="alarm when more than this share of Genesys requests are answered 429, 15 minutes in a "
        "row, in percent",
    )

    processor_batch_size: Annotated[int, Field(ge=1, le=10_000)] = Field(
        100,
        description="work messages per processor invocation",
        json_schema_extra={ALSO: "above 10 needs a batching window of at least 1 s"},
    )
    processor_batching_window_seconds: Annotated[int, Field(ge=0, le=300)] = Field(
        10, description="seconds the event source gathers a batch"
    )
    processor_max_concurrency: Annotated[int, Field(ge=2, le=1000)] = Field(
        4,
        description="processor invocations at once (the event source's MaximumConcurrency): the cap on "
        "parallel Genesys callers",
    )
    processor_timeout_seconds: Annotated[int, Field(ge=10, le=900)] = Field(
        120,
        description="processor timeout, in seconds; the work queue's visibility is 6 x this + the window",
        json_schema_extra={ALSO: "6 x this + the window at most 43200"},
    )
    processor_memory_mb: Annotated[int, Field(ge=128, le=10_240)] = Field(
        512, description="memory of the processor function, in MB"
    )

    not_ready_max_age_minutes: Annotated[int, Field(ge=5, le=2880)] = Field(
        240,
        description="minutes after its first event a conversation not yet ended stops being retried: never "
        "in analytics -> given up (work DLQ, item FAILED); in analytics but still open -> item LEFT_OPEN (no "
        "DLQ; the audit lands it, or its next end event); it is retried 60 s, 120 s, ... 15 min apart until "
        "then",
    )
    # docs/genesys-api.md, "Wrap-up after conversationEnd".
    settle_max_minutes: Annotated[int, Field(ge=1, le=2879)] = Field(
        60,
        description="minutes after its first event an ended conversation with a segment still open (an "
        "agent's wrap-up) is waited for, then landed as it is (`ConversationsLandedUnsettled`; "
        "finalization brings the final version)",
        json_schema_extra={ALSO: "below `not_ready_max_age_minutes`, more than the settle delay"},
    )
    # docs/design.md, "Refetches that share requests".
    wrapup_estimate_seconds: Annotated[int, Field(ge=0, le=3600)] = Field(
        180,
        description="seconds after its wrap-up segment started that an open wrap-up is expected to end: a "
        "conversation found in wrap-up is not fetched again before then. Set it near the 90th percentile of "
        "your org's after-call work (tAcw); 0: the not-ready schedule alone",
    )
    not_ready_retry_grid_seconds: Annotated[int, Field(ge=0, le=900)] = Field(
        60,
        description="every not-ready wait ends on a multiple of this many seconds of wall-clock time, so the "
        "refetches due in the same slot share a Genesys request; it adds up to this much latency to the "
        "conversations fetched again, and to no other. 0: no grid",
    )

    # Audit and finalization (docs/completeness.md).
    audit_enabled: bool = Field(
        True,
        description="the daily audit and finalization schedules; the workflow is deployed either way, "
        "for `make backfill`",
    )
    # Genesys reprocesses data at least 48 hours old every night (docs/genesys-api.md, "Nightly
    # reprocessing"): finalize once that window has passed, a day or more later.
    finalize_lag_days: Annotated[int, Field(ge=3, le=30)] = Field(
        4, description="finalize the UTC day this many days ago (after Genesys' nightly reprocessing)"
    )
    audit_schedule_hour_utc: Annotated[int, Field(ge=0, le=23)] = Field(
        1,
        description="hour (UTC) the schedules start: finalization at HH:00, the audit of yesterday at HH:15",
    )
    audit_max_requests_per_minute: Annotated[int, Field(ge=1, le=6000)] = Field(
        30,
        description="the audit's own Genesys pace, in requests a minute, on top of "
        "`genesys_max_requests_per_minute`",
    )
    audit_missing_alarm_threshold: Annotated[int, Field(ge=0, le=1_000_000)] = Field(
        0, description="alarm when one audit lands more conversations the live path missed than this"
    )
    # The upper bounds keep an execution's waiting within its history budget (docs/completeness.md,
    # "The largest day").
    audit_availability_max_wait_hours: Annotated[int, Field(ge=1, le=plan.MAX_AVAILABILITY_WAIT_HOURS)] = (
        Field(
            24,
            description="hours an execution waits for Genesys' data availability to pass its day, then fails",
        )
    )
    audit_job_timeout_minutes: Annotated[int, Field(ge=10, le=plan.MAX_JOB_TIMEOUT_MINUTES)] = Field(
        180, description="minutes a details job may run before the execution deletes it and fails"
    )
    audit_max_concurrent_executions: Annotated[int, Field(ge=1, le=5)] = Field(
        1,
        description="audit executions running a Genesys details job at once (Genesys caps an org's "
        "concurrent jobs)",
    )
    audit_memory_mb: Annotated[int, Field(ge=256, le=10_240)] = Field(
        1024, description="memory of the audit function, in MB (one results page of 1,000 conversations)"
    )
    audit_timeout_seconds: Annotated[int, Field(ge=60, le=900)] = Field(
        300, description="audit function timeout, in seconds (one step)"
    )
    # The lookups (docs/design.md, "Lookups").
    lookups_enabled: bool = Field(
        True,
        description="the daily lookups sync (queues, users, wrap-up codes, divisions, skills, languages: "
        "names beside ids, at the audit's Genesys pace, at HH:30 the hour before the audit's schedules) "
        "and its first run on deploy; the workflow is deployed either way, to run by hand",
    )

    log_retention_days: LogRetentionDays = Field(
        30,
        description="days the functions', the pipe's and the state machine's logs are kept",
        json_schema_extra={ALLOWED: "a CloudWatch period: " + ", ".join(map(str, LOG_RETENTION_DAYS))},
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="the functions' log level (Powertools)"
    )
    alarm_email: Email | None = Field(
        None,
        description="one more alarm recipient, merged with `alarm_emails` (the first key, still accepted)",
        json_schema_extra={ALLOWED: "an e-mail address"},
    )
    alarm_emails: Annotated[Emails, Field(max_length=20)] = Field(
        [],
        description="addresses subscribed to the alarm topic by e-mail (each confirms the mail SNS sends)",
        json_schema_extra={ALLOWED: "up to 20 e-mail addresses"},
    )
    alarm_topic_arn: SnsTopicArn | None = Field(
        None,
        description="an existing SNS topic (chat, paging) every alarm also publishes to",
        json_schema_extra={ALLOWED: "a standard SNS topic ARN in the stack's region"},
    )
    removal_policy: Literal["retain", "destroy"] = Field(
        "retain",
        description="`retain`: keep the table, buckets, queues, log groups and catalog on stack deletion, "
        "with table deletion protection and stack termination protection (docs/operations.md, "
        '"Teardown"); `destroy`: remove them, emptying the buckets first',
    )
    results_lifecycle: ResultsLifecycle = Field(
        default_factory=lambda: ResultsLifecycle.model_validate({}),
        description="storage classes and expiry of the results bucket (below)",
    )
    # The catalog (docs/query.md).
    catalog_first_day: PastDay = Field(
        "2026-01-01",
        description="first UTC day Athena's partition projection covers, and the first day the audit and "
        "`make backfill` accept: the day the bridge started landing, or the first day to backfill",
        json_schema_extra={ALLOWED: "`YYYY-MM-DD` from 2000-01-01 to the day of synth"},
    )
    # Athena refuses a per-query cutoff under 10,000,000 bytes.
    athena_bytes_scanned_cutoff_mb: Annotated[int, Field(ge=10, le=1_048_576)] = Field(
        10_240, description="Athena cancels a query of the workgroup past this many MiB scanned"
    )
    athena_query_results_expire_days: Annotated[int, Field(ge=1, le=365)] = Field(
        7, description="days Athena's query results (and the views' DDL results) are kept"
    )

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
        check_topics(topics)  # the ingest function validates CONVERSATION_TOPICS with the same rule
        return topics

    @model_validator(mode="after")
    def _consistent(self) -> EnvironmentConfig:
        problems = [
            *self._event_bus_problems(),
            *self._timing_problems(),
            *self._region_problems(),
            *self._compaction_problems(),
        ]
        if (self.credentials_secret_name is None) == (self.credentials_secret_arn is None):
            problems.append("set exactly one of credentials_secret_name and credentials_secret_arn")
        if problems:
            raise ValueError("\n  ".join(problems))
        return self

    def _compaction_problems(self) -> list[str]:
        """A landed object may expire only once its day is compacted: the audit workflow compacts a day
        after its audit and again after its finalization, finalize_lag_days + 1 days after the day."""
        days = self.results_lifecycle.expire_compacted_json_after_days
        if days is None:
            return []
        key = "results_lifecycle.expire_compacted_json_after_days"
        problems = []
        if not self.audit_enabled:
            problems.append(
                f"{key} needs audit_enabled: true (the daily audit and finalization compact each day)"
            )
        if days <= self.finalize_lag_days + 1:
            problems.append(
                f"{key} ({days}) must exceed finalize_lag_days + 1 ({self.finalize_lag_days + 1}): a day's "
                "objects must outlive the compaction after its finalization"
            )
        return problems

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
            elapsed += not_ready_delay(receives, NOT_READY_RETRY_BASE_SECONDS, NOT_READY_RETRY_MAX_SECONDS)
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
        details = "\n  ".join(
            describe_error(item, EnvironmentConfig, nested, REMOVED_KEYS) for item in error.errors()
        )
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
