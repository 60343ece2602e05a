"""The lookups Lambda handler, invoked as the workflow's Map and report tasks invoke it, against the
Genesys simulator (HTTP on loopback) and moto: a lookup lands; a refused one answers its permission,
logs it and emits a metric that names it; the report fails the execution naming a failed lookup."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from genesys_bridge import contracts, layout
from genesys_bridge.lookups import LookupsFailed
from genesys_bridge.metrics import MetricName
from genesys_simulator import GenesysSimulator
from genesys_simulator.config import SimulatorConfig
from lambdas.lookups import handler as lookups
from tests.unit.domain.builders import BUCKET, Aws, LambdaContextStub
from tests.unit.handlers.test_processor_handler import aws_secret

STARTED_AT = "2026-12-06T00:30:00.123Z"


@pytest.fixture
def simulator() -> Iterator[GenesysSimulator]:
    config = SimulatorConfig(
        client_id="id-1",
        client_secret="s3cret",
        forbidden_listings=frozenset({"queues"}),
        requests_per_minute=None,
    )
    with GenesysSimulator(config) as sim:
        yield sim


@pytest.fixture
def lookups_env(aws: Aws, simulator: GenesysSimulator, monkeypatch: pytest.MonkeyPatch) -> Aws:
    for name, value in {
        contracts.RESULTS_BUCKET_NAME: BUCKET,
        contracts.GENESYS_REGION: "mypurecloud.ie",
        contracts.GENESYS_API_BASE_URL: simulator.base_url,
        contracts.GENESYS_LOGIN_BASE_URL: simulator.base_url,
        contracts.GENESYS_CREDENTIALS_SECRET_ARN: aws_secret(aws),
        contracts.LOOKUPS_MAX_REQUESTS_PER_MINUTE: "6000",
    }.items():
        monkeypatch.setenv(name, value)
    return aws


def metric_documents(output: str) -> list[dict[str, Any]]:
    """Each EMF document Powertools printed: its dimensions and its metrics' values."""
    documents = []
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            document = json.loads(line)
            [directive] = document["_aws"]["CloudWatchMetrics"]
            names = [metric["Name"] for metric in directive["Metrics"]]
            dimensions = {name: document[name] for names_ in directive["Dimensions"] for name in names_}
            values = {name: document[name] for name in names}
            metrics = {name: sum(v) if isinstance(v, list) else v for name, v in values.items()}
            documents.append({"dimensions": dimensions, "metrics": metrics})
    return documents


def sync(lookup: str) -> dict[str, Any]:
    event = {"step": contracts.LOOKUPS_SYNC_STEP, "lookup": lookup, "started_at": STARTED_AT}
    result: dict[str, Any] = lookups.handler(event, LambdaContextStub(function_name="lookups"))
    return result


def test_a_lookup_lands_its_snapshot_of_the_executions_day(
    lookups_env: Aws, simulator: GenesysSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    result = sync("users")

    assert result["outcome"] == "landed"
    assert result["key"] == "lookups/users/snapshot_date=2026-12-06/users.jsonl"
    body = lookups_env.s3.get_object(Bucket=BUCKET, Key=result["key"])["Body"].read()
    assert len(body.splitlines()) == result["entities"] == len(simulator.org.agents)
    [document] = metric_documents(capsys.readouterr().out)
    assert document["dimensions"] == {
        "service": contracts.LOOKUPS_SERVICE,
        contracts.LOOKUP_DIMENSION: "users",
    }
    assert document["metrics"][MetricName.LOOKUP_ENTITIES] == result["entities"]
    assert document["metrics"][MetricName.LOOKUPS_FORBIDDEN] == 0


def test_a_refused_lookup_answers_its_permission_logs_it_and_its_metric_names_it(
    lookups_env: Aws, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        result = sync("queues")

    assert (result["outcome"], result["permission"]) == ("forbidden", "routing:queue:view")
    assert "missing.any.permissions" in result["error"]
    assert any(
        "lookup queues not landed" in record.getMessage() and "routing:queue:view" in record.getMessage()
        for record in caplog.records
    )
    [document] = metric_documents(capsys.readouterr().out)
    assert document["dimensions"][contracts.LOOKUP_DIMENSION] == "queues"
    assert document["metrics"][MetricName.LOOKUPS_FORBIDDEN] == 1
    assert lookups_env.s3.list_objects_v2(Bucket=BUCKET, Prefix=layout.LOOKUPS_PREFIX)["KeyCount"] == 0


def test_the_report_fails_the_execution_naming_a_failed_lookup_but_not_a_forbidden_one(
    lookups_env: Aws,
) -> None:
    forbidden = sync("queues")
    landed = sync("skills")
    caught = {"lookup": "users", "outcome": "failed", "error": {"Error": "PagingError", "Cause": "{}"}}
    event = {"step": contracts.LOOKUPS_REPORT_STEP, "results": [forbidden, landed]}

    summary = lookups.handler(event, LambdaContextStub(function_name="lookups"))
    assert summary["forbidden"] == {"queues": "routing:queue:view"}
    with pytest.raises(LookupsFailed, match="users: failed, PagingError"):
        lookups.handler({**event, "results": [forbidden, landed, caught]}, LambdaContextStub())


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"step": "sync", "lookup": "flows", "started_at": STARTED_AT}, "'flows' is not a lookup"),
        ({"step": "sync", "lookup": "users"}, "started_at must be an ISO 8601 time"),
        ({"step": "start"}, "unknown step 'start'"),
        ({"step": "report"}, "the report step needs `results`"),
    ],
)
def test_an_event_it_cannot_run_fails_naming_what_is_wrong(
    lookups_env: Aws, event: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        lookups.handler(event, LambdaContextStub())
