"""The ingest Lambda handler end to end on moto: what the buffer, its stream and the quarantine see."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pydantic import ValidationError

from genesys_bridge import contracts
from lambdas.ingest import handler as ingest
from tests.unit.domain.builders import (
    FIXTURE_CONVERSATION_ID,
    TABLE,
    Aws,
    LambdaContextStub,
    conversation_event,
    load_fixture,
    stack_set_env,
)


@pytest.fixture
def ingest_env(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Aws:
    monkeypatch.setenv(contracts.BUFFER_TABLE_NAME, TABLE)
    monkeypatch.setenv(contracts.QUARANTINE_QUEUE_URL, aws.quarantine_url)
    monkeypatch.setenv(contracts.WORK_QUEUE_URL, aws.work_url)
    for name, value in stack_set_env(ingest=True).items():
        monkeypatch.setenv(name, value)
    return aws


def emitted_metrics(output: str) -> dict[str, float]:
    """Sum of each metric over the EMF documents Powertools printed."""
    totals: dict[str, float] = {}
    for line in output.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == contracts.METRICS_NAMESPACE
            for metric in directive["Metrics"]:
                values = document[metric["Name"]]
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + (
                    sum(values) if isinstance(values, list) else values
                )
    return totals


def invoke(event: Any) -> dict[str, Any]:
    result: dict[str, Any] = ingest.handler(event, LambdaContextStub(function_name="ingest"))
    return result


def test_three_events_of_one_conversation_give_one_item_and_no_second_insert(
    ingest_env: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the first end event of a conversation has been ingested
    aws = ingest_env
    first = invoke(load_fixture("customer-end-event.json"))
    inserts_after_first = aws.stream_event_names()

    # When EventBridge redelivers it and the acw event of the same conversation arrives
    second = invoke(load_fixture("customer-end-event.json"))
    third = invoke(load_fixture("acw-event.json"))

    # Then there is one PENDING item, and the later two events added only MODIFY records to the stream
    # (the pipe forwards INSERTs only, so the conversation is fetched once)
    assert [r["outcome"] for r in (first, second, third)] == ["created", "duplicate", "duplicate"]
    assert [item[contracts.ATTR_CONVERSATION_ID] for item in aws.items()] == [FIXTURE_CONVERSATION_ID]
    assert aws.items()[0][contracts.ATTR_STATUS] == contracts.STATUS_PENDING
    assert set(inserts_after_first) == {"INSERT"}
    assert aws.stream_event_names()[len(inserts_after_first) :] == ["MODIFY", "MODIFY"]
    # and the metrics say so
    assert emitted_metrics(capsys.readouterr().out) == {"EventsReceived": 3, "DuplicateEvents": 2}


def test_a_bad_event_is_quarantined_not_raised(ingest_env: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an event whose topic and body name different conversations
    event = conversation_event()
    event["detail"]["eventBody"]["conversationId"] = "7c1e4b52-0d3a-4f69-9e85-2b6a1d0c3f47"

    # When it is ingested
    result = invoke(event)

    # Then the handler returns normally, the quarantine holds it with its reason, nothing is buffered
    assert result == {"outcome": "quarantined", "conversationId": None, "reason": "conversation_id_mismatch"}
    [message] = ingest_env.messages("quarantine")
    assert (message["reason"], message["event"]) == ("conversation_id_mismatch", event)
    assert ingest_env.items() == []
    assert emitted_metrics(capsys.readouterr().out) == {"EventsReceived": 1, "EventsQuarantined": 1}


def test_an_aws_error_raises_so_lambda_retries_then_uses_the_failure_destination(
    ingest_env: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(contracts.BUFFER_TABLE_NAME, "no-such-table")
    with pytest.raises(ClientError):
        invoke(conversation_event())


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_missing_settings_fail_on_the_first_invocation(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no handler variables (the module imported fine without them)
    monkeypatch.delenv(contracts.BUFFER_TABLE_NAME, raising=False)
    monkeypatch.delenv(contracts.QUARANTINE_QUEUE_URL, raising=False)

    # When the function is invoked, then it fails loudly naming the variable
    with pytest.raises(ValidationError, match=contracts.QUARANTINE_QUEUE_URL):
        invoke(conversation_event())
