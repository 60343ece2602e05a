"""Each function's environment variables, built once from an environment's config and its resource names.

The stack's constructs pass CloudFormation tokens as the names, the local runner (and the capacity probe)
the names of its moto resources; both get the same variables from the same config, so the functions run
locally with what they would be given in AWS (docs/design.md, "Environment variables"). The variable
names live in genesys_bridge.contracts. No aws_cdk import: the local runner has no CDK in its process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from genesys_bridge import contracts
from genesys_bridge.backoff import NOT_READY_RETRY_BASE_SECONDS, NOT_READY_RETRY_MAX_SECONDS
from stacks.config import EnvironmentConfig


class Timing(Protocol):
    """How the config's durations and rates are written: as configured (the stack) or on a faster clock
    (the local runner's local_runner.aws.TimeScale)."""

    def whole_seconds(self, config_seconds: float) -> int: ...
    def minutes(self, config_minutes: float) -> float: ...
    def per_minute(self, config_rate: float) -> int: ...


class AsConfigured:
    """The config's own durations and rates: what a deployed function gets."""

    def whole_seconds(self, config_seconds: float) -> int:
        return int(config_seconds)

    def minutes(self, config_minutes: float) -> float:
        return config_minutes

    def per_minute(self, config_rate: float) -> int:
        return int(config_rate)


AS_CONFIGURED = AsConfigured()


@dataclass(frozen=True)
class GenesysEndpoints:
    """Which Genesys the functions call: the region's hosts, or overrides (a simulator, tests)."""

    region: str
    api_base_url: str | None = None
    login_base_url: str | None = None

    @classmethod
    def of(cls, config: EnvironmentConfig) -> GenesysEndpoints:
        return cls(config.genesys_region, config.genesys_api_base_url, config.genesys_login_base_url)

    def variables(self) -> dict[str, str]:
        # An override is written only when set: unset means the region's hosts.
        overrides = {
            contracts.GENESYS_API_BASE_URL: self.api_base_url,
            contracts.GENESYS_LOGIN_BASE_URL: self.login_base_url,
        }
        return {
            contracts.GENESYS_REGION: self.region,
            **{name: url for name, url in overrides.items() if url is not None},
        }


def powertools_environment(service_name: str, log_level: str | None = None) -> dict[str, str]:
    """Powertools' own settings: the service (log field, metric dimension) and the metrics namespace."""
    variables = {
        contracts.POWERTOOLS_SERVICE_NAME: service_name,
        contracts.POWERTOOLS_METRICS_NAMESPACE: contracts.METRICS_NAMESPACE,
    }
    if log_level is not None:
        variables[contracts.POWERTOOLS_LOG_LEVEL] = log_level
    return variables


def ingest_environment(
    config: EnvironmentConfig, *, buffer_table_name: str, quarantine_queue_url: str, work_queue_url: str
) -> dict[str, str]:
    return {
        contracts.BUFFER_TABLE_NAME: buffer_table_name,
        contracts.QUARANTINE_QUEUE_URL: quarantine_queue_url,
        contracts.BUFFER_TTL_HOURS: str(config.buffer_ttl_hours),
        # The rule's topics again: ingest refuses the others when the rule is bypassed.
        contracts.CONVERSATION_TOPICS: ",".join(config.topics),
        # A conversation that ends again after its item concluded is queued from here.
        contracts.WORK_QUEUE_URL: work_queue_url,
    }


def processor_environment(
    config: EnvironmentConfig,
    *,
    buffer_table_name: str,
    results_bucket_name: str,
    credentials_secret_arn: str,
    work_queue_url: str,
    work_dlq_url: str,
    genesys: GenesysEndpoints | None = None,
    timing: Timing = AS_CONFIGURED,
) -> dict[str, str]:
    retry_base = timing.whole_seconds(NOT_READY_RETRY_BASE_SECONDS)
    return {
        contracts.BUFFER_TABLE_NAME: buffer_table_name,
        contracts.RESULTS_BUCKET_NAME: results_bucket_name,
        contracts.GENESYS_CREDENTIALS_SECRET_ARN: credentials_secret_arn,
        contracts.WORK_QUEUE_URL: work_queue_url,
        contracts.WORK_DLQ_URL: work_dlq_url,
        **(genesys or GenesysEndpoints.of(config)).variables(),
        contracts.GENESYS_MAX_REQUESTS_PER_MINUTE: str(
            timing.per_minute(config.genesys_max_requests_per_minute)
        ),
        contracts.GENESYS_IDS_PER_REQUEST: str(config.genesys_ids_per_request),
        # At most this many invocations call Genesys at once (the event source's MaximumConcurrency);
        # each paces at budget / callers.
        contracts.GENESYS_CONCURRENT_CALLERS: str(config.processor_max_concurrency),
        contracts.NOT_READY_MAX_AGE_MINUTES: _minutes(timing.minutes(config.not_ready_max_age_minutes)),
        contracts.SETTLE_MAX_MINUTES: _minutes(timing.minutes(config.settle_max_minutes)),
        contracts.NOT_READY_RETRY_BASE_SECONDS: str(retry_base),
        contracts.NOT_READY_RETRY_MAX_SECONDS: str(
            max(retry_base, timing.whole_seconds(NOT_READY_RETRY_MAX_SECONDS))
        ),
        # docs/design.md, "Refetches that share requests" (0 stays 0: no estimate, no grid)
        contracts.WRAPUP_ESTIMATE_SECONDS: str(timing.whole_seconds(config.wrapup_estimate_seconds)),
        contracts.NOT_READY_RETRY_GRID_SECONDS: str(
            timing.whole_seconds(config.not_ready_retry_grid_seconds)
        ),
    }


def pipe_dlq_environment(
    *, buffer_stream_arn: str, work_queue_url: str, unresolved_queue_url: str
) -> dict[str, str]:
    return {
        contracts.BUFFER_STREAM_ARN: buffer_stream_arn,
        contracts.WORK_QUEUE_URL: work_queue_url,
        contracts.PIPE_UNRESOLVED_QUEUE_URL: unresolved_queue_url,
    }


def audit_environment(
    config: EnvironmentConfig,
    *,
    results_bucket_name: str,
    credentials_secret_arn: str,
    genesys: GenesysEndpoints | None = None,
) -> dict[str, str]:
    return {
        **_genesys_to_bucket(config, results_bucket_name, credentials_secret_arn, genesys),
        contracts.AUDIT_MAX_REQUESTS_PER_MINUTE: str(config.audit_max_requests_per_minute),
        contracts.AUDIT_AVAILABILITY_MAX_WAIT_HOURS: str(config.audit_availability_max_wait_hours),
        contracts.AUDIT_JOB_TIMEOUT_MINUTES: str(config.audit_job_timeout_minutes),
        contracts.AUDIT_MAX_CONCURRENT_EXECUTIONS: str(config.audit_max_concurrent_executions),
        # No day before the catalog's first day: its partitions would not be queryable anyway.
        contracts.AUDIT_FIRST_DAY: config.catalog_first_day,
    }


def lookups_environment(
    config: EnvironmentConfig,
    *,
    results_bucket_name: str,
    credentials_secret_arn: str,
    genesys: GenesysEndpoints | None = None,
) -> dict[str, str]:
    return {
        **_genesys_to_bucket(config, results_bucket_name, credentials_secret_arn, genesys),
        # The audit's pace: the two take turns (docs/design.md, "Lookups").
        contracts.LOOKUPS_MAX_REQUESTS_PER_MINUTE: str(config.audit_max_requests_per_minute),
    }


def _minutes(minutes: float) -> str:
    # Whole minutes as integers ("240"); the local runner's scaled ones as short decimals ("0.25").
    return f"{minutes:.6g}"


def _genesys_to_bucket(
    config: EnvironmentConfig,
    results_bucket_name: str,
    credentials_secret_arn: str,
    genesys: GenesysEndpoints | None,
) -> dict[str, str]:
    """What a function that reads Genesys into the results bucket needs (the audit, the lookups)."""
    return {
        contracts.RESULTS_BUCKET_NAME: results_bucket_name,
        contracts.GENESYS_CREDENTIALS_SECRET_ARN: credentials_secret_arn,
        **(genesys or GenesysEndpoints.of(config)).variables(),
    }
