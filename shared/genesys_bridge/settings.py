"""Environment settings of the Lambda functions: the only module of the package that reads env vars.

One model per handler, validated on the first invocation (not at import), so a missing or malformed
variable fails loudly on the first event instead of being discovered on the thousandth. The variable
names come from contracts.py, which the CDK stack uses to set them. Every variable the stack always sets
is required here: its default lives once, in the stack's config model (stacks/config.py).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Self

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from genesys_bridge import contracts
from genesys_bridge.audit import plan
from genesys_bridge.events import parse_topics
from genesys_bridge.regions import resolve_endpoints

# Genesys documents no maximum for the multi-get; 100 is what public integrations use
# (docs/genesys-api.md, "Conversation details"), so anything above it is refused rather than risked.
MAX_IDS_PER_REQUEST = 100


def _whole_number_text(pattern: str, what: str) -> BeforeValidator:
    """Accept a variable's text only if `pattern` matches all of it: pydantic alone would take " 48\n",
    "4_8" or "48.0" for 48. Values given in code (tests, the local runner) pass through to pydantic."""
    regex = re.compile(pattern)

    def check(value: Any) -> Any:
        if isinstance(value, str) and regex.fullmatch(value) is None:
            raise ValueError(f"{value[:50]!r} is not {what}")
        return value

    return BeforeValidator(check)


# ASCII digits only ([0-9], not \d, which also matches other scripts' digits).
EnvInt = Annotated[int, _whole_number_text(r"[0-9]+", "a whole number written in digits 0-9")]
EnvFloat = Annotated[
    float,
    _whole_number_text(r"[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?", "a decimal number such as 240 or 0.25"),
]


def _env(name: str) -> Any:
    # validation_alias makes the model read exactly this variable; populate_by_name keeps the
    # snake_case field names usable when tests and the local runner build settings in code.
    return AliasChoices(name)


class _EnvironmentSettings(BaseModel):
    # A plain pydantic model validated from the environment mapping, rather than pydantic-settings:
    # the functions read nothing but flat, exactly named variables, and pydantic-settings added about
    # 30 ms (60 ms without bytecode caches) to every cold start for sources they never use.
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Validate the settings from `environ` (default: this process's environment variables)."""
        return cls.model_validate(dict(os.environ if environ is None else environ))


class _BaseSettings(_EnvironmentSettings):
    buffer_table_name: str = Field(validation_alias=_env(contracts.BUFFER_TABLE_NAME), min_length=1)


def _empty_is_none(value: Any) -> Any:
    # CloudFormation cannot omit a variable conditionally with ease; an empty value means "unset".
    if isinstance(value, str) and not value.strip():
        return None
    return value


class GenesysAccessSettings(_EnvironmentSettings):
    """What every function that calls Genesys needs: its region, endpoints and credentials, and the
    results bucket the details land in."""

    results_bucket_name: str = Field(validation_alias=_env(contracts.RESULTS_BUCKET_NAME), min_length=1)
    genesys_region: str = Field(validation_alias=_env(contracts.GENESYS_REGION), min_length=1)
    genesys_api_base_url: str | None = Field(
        default=None, validation_alias=_env(contracts.GENESYS_API_BASE_URL)
    )
    genesys_login_base_url: str | None = Field(
        default=None, validation_alias=_env(contracts.GENESYS_LOGIN_BASE_URL)
    )
    genesys_credentials_secret_arn: str = Field(
        validation_alias=_env(contracts.GENESYS_CREDENTIALS_SECRET_ARN), min_length=1
    )

    @field_validator("genesys_api_base_url", "genesys_login_base_url", mode="before")
    @classmethod
    def _empty_override_is_none(cls, value: Any) -> Any:
        return _empty_is_none(value)

    @model_validator(mode="after")
    def _genesys_endpoints_follow_client_rule(self) -> Self:
        # genesys_bridge.regions owns the rule (known region; overrides https, or http on loopback only).
        resolve_endpoints(self.genesys_region, self.genesys_api_base_url, self.genesys_login_base_url)
        return self


class IngestSettings(_BaseSettings):
    """What the ingest function needs: where to buffer, where to quarantine, how long items live, and the
    work queue (for a conversation that ended again)."""

    quarantine_queue_url: str = Field(validation_alias=_env(contracts.QUARANTINE_QUEUE_URL), min_length=1)
    # Where a conversation that ended again after its item concluded is queued for a fresh fetch.
    work_queue_url: str = Field(validation_alias=_env(contracts.WORK_QUEUE_URL), min_length=1)
    # A day at least, so EventBridge's retries and a conversation's many end events fall into one
    # item's lifetime; a year at most, as a guard against a typo in minutes or seconds.
    buffer_ttl_hours: EnvInt = Field(validation_alias=_env(contracts.BUFFER_TTL_HOURS), ge=1, le=8760)
    # Comma-separated topic suffixes ("customer.end,acw"); events of other topics are quarantined.
    conversation_topics: frozenset[str] = Field(validation_alias=_env(contracts.CONVERSATION_TOPICS))

    @field_validator("conversation_topics", mode="before")
    @classmethod
    def _topic_list(cls, value: Any) -> Any:
        return parse_topics(value) if isinstance(value, str) else value


class ProcessorSettings(GenesysAccessSettings, _BaseSettings):
    """What the processor function needs: Genesys access and pacing, results bucket, queues, backoff."""

    genesys_max_requests_per_minute: EnvInt = Field(
        validation_alias=_env(contracts.GENESYS_MAX_REQUESTS_PER_MINUTE), ge=1, le=100_000
    )
    genesys_ids_per_request: EnvInt = Field(
        validation_alias=_env(contracts.GENESYS_IDS_PER_REQUEST),
        ge=1,
        le=MAX_IDS_PER_REQUEST,
    )
    genesys_concurrent_callers: EnvInt = Field(
        validation_alias=_env(contracts.GENESYS_CONCURRENT_CALLERS), ge=1, le=1000
    )
    # Fractional minutes are accepted so the local runner can compress time (seconds-long max ages).
    not_ready_max_age_minutes: EnvFloat = Field(
        validation_alias=_env(contracts.NOT_READY_MAX_AGE_MINUTES), gt=0, le=7 * 24 * 60
    )
    settle_max_minutes: EnvFloat = Field(
        validation_alias=_env(contracts.SETTLE_MAX_MINUTES), gt=0, le=7 * 24 * 60
    )
    not_ready_retry_base_seconds: EnvInt = Field(
        validation_alias=_env(contracts.NOT_READY_RETRY_BASE_SECONDS),
        ge=1,
        le=contracts.SQS_MAX_VISIBILITY_SECONDS,
    )
    not_ready_retry_max_seconds: EnvInt = Field(
        validation_alias=_env(contracts.NOT_READY_RETRY_MAX_SECONDS),
        ge=1,
        le=contracts.SQS_MAX_VISIBILITY_SECONDS,
    )
    wrapup_estimate_seconds: EnvInt = Field(
        validation_alias=_env(contracts.WRAPUP_ESTIMATE_SECONDS),
        ge=0,
        le=contracts.SQS_MAX_VISIBILITY_SECONDS,
    )
    not_ready_retry_grid_seconds: EnvInt = Field(
        validation_alias=_env(contracts.NOT_READY_RETRY_GRID_SECONDS),
        ge=0,
        le=contracts.SQS_MAX_VISIBILITY_SECONDS,
    )
    work_queue_url: str = Field(validation_alias=_env(contracts.WORK_QUEUE_URL), min_length=1)
    work_dlq_url: str = Field(validation_alias=_env(contracts.WORK_DLQ_URL), min_length=1)

    @model_validator(mode="after")
    def _backoff_is_ordered(self) -> ProcessorSettings:
        if self.not_ready_retry_base_seconds > self.not_ready_retry_max_seconds:
            base, cap = contracts.NOT_READY_RETRY_BASE_SECONDS, contracts.NOT_READY_RETRY_MAX_SECONDS
            raise ValueError(f"{base} must not exceed {cap}")
        return self

    @model_validator(mode="after")
    def _settle_wait_within_max_age(self) -> ProcessorSettings:
        # Past the max age the message is given up: a longer settle wait would never be reached.
        if self.settle_max_minutes >= self.not_ready_max_age_minutes:
            raise ValueError(
                f"{contracts.SETTLE_MAX_MINUTES} must be below {contracts.NOT_READY_MAX_AGE_MINUTES}"
            )
        return self

    @property
    def requests_per_minute_per_caller(self) -> int:
        """This process's share of the deployment's Genesys budget (callers run at the same time).

        Rounded down so the callers together never exceed the budget; at least 1 so a tiny budget
        split many ways still makes progress.
        """
        return max(1, self.genesys_max_requests_per_minute // self.genesys_concurrent_callers)


class AuditSettings(GenesysAccessSettings):
    """What the audit function needs: Genesys access at the audit's own pace, the results bucket, limits."""

    audit_max_requests_per_minute: EnvInt = Field(
        validation_alias=_env(contracts.AUDIT_MAX_REQUESTS_PER_MINUTE), ge=1, le=100_000
    )
    # The stack sets the catalog's first day; unset (scripts, tests): no lower bound.
    audit_first_day: date | None = Field(default=None, validation_alias=_env(contracts.AUDIT_FIRST_DAY))
    # The config's bounds again: longer waits would leave an execution's history too little room for
    # the largest day's pages (plan.RESERVED_EVENTS).
    audit_availability_max_wait_hours: EnvFloat = Field(
        validation_alias=_env(contracts.AUDIT_AVAILABILITY_MAX_WAIT_HOURS),
        gt=0,
        le=plan.MAX_AVAILABILITY_WAIT_HOURS,
    )
    audit_job_timeout_minutes: EnvFloat = Field(
        validation_alias=_env(contracts.AUDIT_JOB_TIMEOUT_MINUTES), gt=0, le=plan.MAX_JOB_TIMEOUT_MINUTES
    )
    audit_max_concurrent_executions: EnvInt = Field(
        validation_alias=_env(contracts.AUDIT_MAX_CONCURRENT_EXECUTIONS), ge=1, le=10
    )

    @field_validator("audit_first_day", mode="before")
    @classmethod
    def _empty_first_day_is_none(cls, value: Any) -> Any:
        return _empty_is_none(value)


class LookupsSettings(GenesysAccessSettings):
    """What the lookups function needs: Genesys access at its own pace and the results bucket."""

    lookups_max_requests_per_minute: EnvInt = Field(
        validation_alias=_env(contracts.LOOKUPS_MAX_REQUESTS_PER_MINUTE), ge=1, le=100_000
    )


class PipeDlqSettings(_EnvironmentSettings):
    """What the pipe DLQ resolver needs: the stream it may read, the work queue, its own unresolved queue."""

    # arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>; pointers into any other are refused.
    buffer_stream_arn: str = Field(
        validation_alias=_env(contracts.BUFFER_STREAM_ARN),
        pattern=r"^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[^/]+/stream/.+$",
    )
    work_queue_url: str = Field(validation_alias=_env(contracts.WORK_QUEUE_URL), min_length=1)
    pipe_unresolved_queue_url: str = Field(
        validation_alias=_env(contracts.PIPE_UNRESOLVED_QUEUE_URL), min_length=1
    )
