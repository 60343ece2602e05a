"""The smoke test's own plumbing, offline on moto: what it leaves behind in a shared dev stack.

These run in `make test` (no credentials needed): the smoke test must clean up after itself without
taking anything an operator needs, and say clearly when the stack is not there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from genesys_bridge import contracts
from genesys_bridge.buffer import BufferTable
from stacks.config import EnvironmentConfig, load_environment_config
from tests.e2e.stack import DeployedStack, StackNotUsable

REGION = "eu-west-1"
CONVERSATION = "0a5f8e21-9c43-4d7b-b612-3e8d4c7a9f10"
OTHER = "7d2c4f80-1a6b-4e39-8c0d-5b3e9f21a7c4"


@pytest.fixture
def dev() -> EnvironmentConfig:
    return load_environment_config("dev")


@pytest.fixture
def stack(dev: EnvironmentConfig) -> Iterator[DeployedStack]:
    """Stand-ins for the outputs the smoke test reads, on moto."""
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        dynamodb = session.client("dynamodb")
        dynamodb.create_table(
            TableName="buffer",
            KeySchema=[{"AttributeName": contracts.ATTR_CONVERSATION_ID, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": contracts.ATTR_CONVERSATION_ID, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dlq_url = session.client("sqs").create_queue(QueueName="work-dlq")["QueueUrl"]
        outputs = {
            "EventBusName": dev.event_bus_name,
            "BufferTableName": "buffer",
            "ResultsBucketName": "results",
            "WorkDeadLetterQueueUrl": dlq_url,
        }
        yield DeployedStack(config=dev, session=session, outputs=outputs, margin_seconds=5)


def _dead_letter(stack: DeployedStack, conversation_id: str, reason: str) -> None:
    body = {"reason": reason, "message": "m", "conversationId": conversation_id, "body": "{}"}
    url = stack.outputs["WorkDeadLetterQueueUrl"]
    stack.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps(body))


def test_taking_the_smoke_conversations_dead_letter_leaves_an_operators_messages_visible(
    stack: DeployedStack,
) -> None:
    # Given the work DLQ holds the smoke test's message and an unrelated one an operator still needs
    _dead_letter(stack, OTHER, "genesys_rejected")
    _dead_letter(stack, CONVERSATION, "not_ready_max_age")

    # When the smoke test takes its own
    taken = stack.take_dead_letters(CONVERSATION, timeout_seconds=5)

    # Then it got exactly its message, and the other one can be received again at once
    assert [body["conversationId"] for body in taken] == [CONVERSATION]
    left = stack.client("sqs").receive_message(
        QueueUrl=stack.outputs["WorkDeadLetterQueueUrl"], MaxNumberOfMessages=10
    )["Messages"]
    assert [json.loads(m["Body"])["conversationId"] for m in left] == [OTHER]


def test_backdating_moves_only_a_pending_items_first_event(stack: DeployedStack) -> None:
    # Given one PENDING item and one already FETCHED
    buffer = BufferTable(stack.client("dynamodb"), "buffer", ttl_hours=48)  # as ingest writes items
    buffer.record_event(CONVERSATION)
    buffer.record_event(OTHER)
    buffer.mark_fetched(OTHER, "conversations/conversation_date=2026-11-20/x.json")
    long_ago = datetime.now(UTC) - timedelta(days=1)

    # When the smoke test backdates both
    moved = [stack.backdate_first_event(CONVERSATION, long_ago), stack.backdate_first_event(OTHER, long_ago)]

    # Then only the PENDING one moved, to exactly that time
    assert moved == [True, False]
    pending, fetched = buffer.get(CONVERSATION), buffer.get(OTHER)
    assert pending is not None
    assert pending.first_event_at is not None
    assert abs((pending.first_event_at - long_ago).total_seconds()) < 0.001
    assert fetched is not None
    assert fetched.first_event_at is not None
    assert fetched.first_event_at > long_ago


def test_a_stack_that_is_not_deployed_is_named_with_the_command_that_deploys_it(
    dev: EnvironmentConfig,
) -> None:
    # Given an account where CloudFormation does not know the environment's stack
    cloudformation = boto3.Session(region_name=REGION).client("cloudformation")
    stubber = Stubber(cloudformation)
    stubber.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message="Stack with id GenesysAnalyticsBridge-dev does not exist",
        expected_params={"StackName": "GenesysAnalyticsBridge-dev"},
    )

    # When the smoke test looks it up
    with stubber, pytest.raises(StackNotUsable) as raised:
        DeployedStack.describe(dev, _SessionWith(cloudformation), margin_seconds=5)

    # Then the message says why and names the command that deploys it
    assert "does not exist" in str(raised.value)
    assert "npx cdk deploy -c env=dev" in str(raised.value)


class _SessionWith:
    """A boto3 session stand-in that hands out one prepared client."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.region_name = REGION

    def client(self, service: str) -> Any:
        assert service == "cloudformation"
        return self._client
