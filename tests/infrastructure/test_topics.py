"""The environment's topics are judged by one rule, at synth (cdk.json `topics`) and in the ingest
function (CONVERSATION_TOPICS): a list one accepts the other accepts, and what one refuses, both do."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from genesys_bridge import contracts
from genesys_bridge.settings import IngestSettings
from stacks.config import ConfigError, parse_environment_config

BLOCK = {
    "event_bus_mode": "create",
    "event_bus_name": "test-bus",
    "credentials_secret_name": "test/genesys-credentials",
}


def _ingest_settings(monkeypatch: pytest.MonkeyPatch, topics: list[str]) -> IngestSettings:
    monkeypatch.setenv(contracts.BUFFER_TABLE_NAME, "buffer")
    monkeypatch.setenv(contracts.QUARANTINE_QUEUE_URL, "https://sqs/quarantine")
    monkeypatch.setenv(contracts.WORK_QUEUE_URL, "https://sqs/work")
    monkeypatch.setenv(contracts.BUFFER_TTL_HOURS, "48")
    # as the stack hands them over (stacks/ingestion.py)
    monkeypatch.setenv(contracts.CONVERSATION_TOPICS, ",".join(topics))
    return IngestSettings.from_environment()


@pytest.mark.parametrize(
    ("topics", "message"),
    [
        (["Customer.End"], "topic 'Customer.End' is not a topic suffix such as 'customer.end' or 'acw'"),
        (["customer.end", "acw "], "topic 'acw ' is not a topic suffix"),
        (["customer..end"], "topic 'customer..end' is not a topic suffix"),
        (["customer.end\n"], "is not a topic suffix"),
        (["acw", "acw"], "topics must not repeat"),
    ],
)
def test_a_bad_topic_list_is_refused_alike_at_synth_and_in_the_ingest_function(
    monkeypatch: pytest.MonkeyPatch, topics: list[str], message: str
) -> None:
    with pytest.raises(ConfigError) as at_synth:
        parse_environment_config("dev", {**BLOCK, "topics": topics})
    assert "topics" in str(at_synth.value)
    assert message in str(at_synth.value)

    with pytest.raises(ValidationError) as in_lambda:
        _ingest_settings(monkeypatch, topics)
    assert contracts.CONVERSATION_TOPICS in str(in_lambda.value)
    assert message in str(in_lambda.value)


def test_a_good_topic_list_is_accepted_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    topics = ["customer.end", "acw", "user.end"]
    assert parse_environment_config("dev", {**BLOCK, "topics": topics}).topics == topics
    assert _ingest_settings(monkeypatch, topics).conversation_topics == frozenset(topics)
