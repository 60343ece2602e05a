"""Per-process wiring of the audit function: settings, its own Genesys client, S3, Step Functions, steps.

Built on first use and cached for the life of the container through genesys_bridge.runtime's cache (so
runtime.reset() forgets these too), never at import. The audit has a Genesys client of its own, paced at
AUDIT_MAX_REQUESTS_PER_MINUTE, so its requests are counted apart from anything else in the process.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from genesys_bridge import runtime
from genesys_bridge.audit import plan
from genesys_bridge.settings import AuditSettings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_stepfunctions import SFNClient

    from genesys_bridge.audit.steps import AuditConfig, AuditSteps
    from genesys_bridge.genesys import GenesysClient
    from genesys_bridge.metrics import MetricsSink

# Left of the invocation's time when no Genesys wait may start any more: the step still has to write
# its page ledger, and a throttled request is handed back to the state machine's retry instead.
DEADLINE_MARGIN_SECONDS: Final = 15.0
# Scripts that call run_step without a Lambda context get this much time.
DEFAULT_REMAINING_SECONDS: Final = 300.0


def audit_settings() -> AuditSettings:
    settings: AuditSettings = runtime.cached_per_process("audit_settings", AuditSettings.from_environment)
    return settings


def stepfunctions_client() -> SFNClient:
    client: SFNClient = runtime.boto_client("stepfunctions")
    return client


def genesys_client() -> GenesysClient:
    """The audit's Genesys client with the current credentials (a rotated secret is picked up within
    runtime.SECRET_MAX_AGE_SECONDS, as for the processor)."""
    settings = audit_settings()
    return runtime.cached_genesys_client(
        "audit_genesys", settings, max_requests_per_minute=settings.audit_max_requests_per_minute
    )


def running_executions(state_machine_arn: str) -> Sequence[tuple[str, datetime]]:
    """The state machine's RUNNING executions (ARN, start time), for the guard step."""
    found: list[tuple[str, datetime]] = []
    paginator = stepfunctions_client().get_paginator("list_executions")
    for page in paginator.paginate(stateMachineArn=state_machine_arn, statusFilter="RUNNING"):
        found.extend((item["executionArn"], item["startDate"]) for item in page["executions"])
    return found


def audit_steps(metrics: MetricsSink) -> AuditSteps:
    def build() -> AuditSteps:
        from genesys_bridge.audit.steps import AuditSteps
        from genesys_bridge.audit.store import AuditStore

        settings = audit_settings()
        genesys = genesys_client()
        return AuditSteps(
            genesys=genesys,
            genesys_requests=lambda: genesys.stats.requests,
            store=AuditStore(runtime.s3_client(), settings.results_bucket_name),
            config=config_from_settings(settings),
            metrics=metrics,
            running_executions=running_executions,
        )

    steps: AuditSteps = runtime.cached_per_process("audit_steps", build)
    return steps


def config_from_settings(settings: AuditSettings) -> AuditConfig:
    from genesys_bridge.audit.steps import AuditConfig

    return AuditConfig(
        page_size=plan.RESULTS_PAGE_SIZE,
        max_requests_per_minute=settings.audit_max_requests_per_minute,
        first_day=settings.audit_first_day,
        availability_max_wait=timedelta(hours=settings.audit_availability_max_wait_hours),
        job_timeout=timedelta(minutes=settings.audit_job_timeout_minutes),
        max_concurrent_executions=settings.audit_max_concurrent_executions,
    )


def run_step(event: dict[str, Any], context: LambdaContext | None, metrics: MetricsSink) -> dict[str, Any]:
    """The audit handler's one call: a deadline from the invocation's remaining time, then the step."""
    genesys_client()  # picks up a rotated secret before the step needs a token
    steps = audit_steps(metrics)
    getter = getattr(context, "get_remaining_time_in_millis", None)
    remaining_s = int(getter()) / 1000 if callable(getter) else DEFAULT_REMAINING_SECONDS
    deadline = time.monotonic() + max(1.0, remaining_s - DEADLINE_MARGIN_SECONDS)
    return steps.run(event, deadline)
