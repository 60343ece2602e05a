"""The model built the way `make capacity` builds it: the real cdk.json environments and quotas file, and
a fixed set of measured figures (so a re-measurement cannot move what these tests expect)."""

from __future__ import annotations

from typing import Any

import pytest

from capacity.deployment import Pipeline, aws_pipeline, with_overrides
from capacity.measurements import Measurements, parse_measurements
from capacity.quotas import Quotas, load_quotas
from stacks.config import load_environment_config

# Of the order of what capacity/measurements.json holds (x86_64, 2 shared cores).
MEASURED: dict[str, Any] = {
    "measured_at": "test",
    "commit": "test",
    "machine": "machine: test",
    "ingest": {"cpu_us_per_event": 700.0, "dynamodb_requests_per_event": 1.0},
    "processor": {
        "cpu_seconds_per_batch": 0.005,
        "cpu_seconds_per_conversation": 0.002,
        "aws_calls_per_conversation": {"s3.PutObject": 1.0, "dynamodb.UpdateItem": 1.0},
    },
}


@pytest.fixture(scope="session")
def quotas() -> Quotas:
    return load_quotas()


@pytest.fixture(scope="session")
def measurements() -> Measurements:
    return parse_measurements(MEASURED)


@pytest.fixture(scope="session")
def prod_pipeline(quotas: Quotas, measurements: Measurements) -> Pipeline:
    return pipeline_for(quotas, measurements)


def pipeline_for(
    quotas: Quotas, measurements: Measurements, *overrides: str, epc: float = 3.5, not_ready: float = 0.0
) -> Pipeline:
    config = with_overrides(load_environment_config("prod"), list(overrides))
    return aws_pipeline(
        config,
        quotas,
        measurements,
        region="us-east-1",
        events_per_conversation=epc,
        not_ready_share=not_ready,
    )


def flat(per_hour: float, hours: float) -> list[float]:
    """Conversations per second, one value per minute, for `hours` hours."""
    return [per_hour / 3600] * round(hours * 60)
