"""Each function's environment comes from one builder (stacks/function_environments.py): the stack passes
its resources' tokens, the local runner moto's names, and the functions get the same variables."""

from __future__ import annotations

from typing import Any

import pytest

from genesys_bridge import contracts
from local_runner.aws import LocalResources, TimeScale, ingest_env, pipe_dlq_env, processor_env
from tests.infrastructure.conftest import SynthesizedEnvironment
from tests.infrastructure.test_resources import function_named

LOCAL = LocalResources(
    region="eu-west-1",
    account_id="123456789012",
    table_name="local-buffer",
    stream_arn="arn:aws:dynamodb:eu-west-1:123456789012:table/local-buffer/stream/2026-01-01T00:00:00.000",
    work_queue_url="https://sqs.eu-west-1.amazonaws.com/123456789012/local-work",
    work_queue_arn="arn:aws:sqs:eu-west-1:123456789012:local-work",
    work_dlq_url="https://sqs.eu-west-1.amazonaws.com/123456789012/local-work-dlq",
    quarantine_queue_url="https://sqs.eu-west-1.amazonaws.com/123456789012/local-quarantine",
    ingest_failure_queue_url="https://sqs.eu-west-1.amazonaws.com/123456789012/local-failures",
    bucket_name="local-results",
    secret_arn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:local-AbCdEf",
    delivery_delay_s=60,
    visibility_timeout_s=360,
    max_receive_count=50,
)
# The runner always writes the host overrides (empty: the region's hosts); the stack only when set.
# Powertools' log level is the stack's (the runner keeps the functions' logs at its own level).
RUNNER_ONLY = {contracts.GENESYS_API_BASE_URL, contracts.GENESYS_LOGIN_BASE_URL}
STACK_ONLY = {contracts.POWERTOOLS_LOG_LEVEL}


def local_environments(environment: SynthesizedEnvironment) -> dict[str, dict[str, str]]:
    config = environment.config
    return {
        contracts.INGEST_SERVICE: ingest_env(config, LOCAL),
        contracts.PROCESSOR_SERVICE: processor_env(
            config,
            LOCAL,
            TimeScale(1.0),
            genesys_region=config.genesys_region,
            api_base_url=None,
            login_base_url=None,
            paced=True,
        ),
        contracts.PIPE_DLQ_SERVICE: pipe_dlq_env(LOCAL, "https://sqs.eu-west-1.amazonaws.com/1/unresolved"),
    }


@pytest.mark.parametrize(
    "service", [contracts.INGEST_SERVICE, contracts.PROCESSOR_SERVICE, contracts.PIPE_DLQ_SERVICE]
)
def test_the_local_runner_gives_each_function_what_the_stack_gives_it(
    each_environment: SynthesizedEnvironment, service: str
) -> None:
    # Given the variables the stack sets on a function, and those the local runner sets on its handler
    _, properties = function_named(each_environment, service)
    deployed: dict[str, Any] = properties["Environment"]["Variables"]
    local = local_environments(each_environment)[service]
    # Then both set the same variables
    assert set(deployed) - STACK_ONLY == set(local) - RUNNER_ONLY
    # And, on an unscaled clock, the same values for everything that does not name a resource
    settings = {name: value for name, value in deployed.items() if isinstance(value, str)}
    assert {name: local[name] for name in settings if name not in STACK_ONLY} == {
        name: value for name, value in settings.items() if name not in STACK_ONLY
    }
