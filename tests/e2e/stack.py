"""A deployed stack as the smoke test sees it: its outputs, the event it sends, what it waits for.

Names come from the project's own modules (contracts, buffer, layout, the environment's config), and
the outputs from the ops CLI's reader (ops.stack.describe_stack), so the smoke test checks the deployed
stack against the same contracts the code uses (docs/design.md, "Contracts").
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from genesys_bridge import contracts
from genesys_bridge.buffer import BufferItem, BufferTable
from genesys_bridge.contracts import format_timestamp
from ops.errors import OpsError
from ops.stack import describe_stack
from stacks.config import EnvironmentConfig

if TYPE_CHECKING:
    import boto3

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "customer-end-event.json"
# Stack outputs the smoke test reads (docs/design.md, "Stack outputs").
REQUIRED_OUTPUTS = (
    contracts.OUTPUT_EVENT_BUS_NAME,
    contracts.OUTPUT_BUFFER_TABLE_NAME,
    contracts.OUTPUT_RESULTS_BUCKET_NAME,
    contracts.OUTPUT_WORK_DLQ_URL,
)
POLL_SECONDS = 3.0

T = TypeVar("T")


class StackNotUsable(Exception):
    """The stack cannot be smoke-tested as deployed; the message says what to do."""


def synthetic_end_event(conversation_id: str, source_prefix: str, now: datetime) -> dict[str, Any]:
    """The fixture's customer.end event for `conversation_id`, as a PutEvents entry (without the bus).

    The source is under the environment's `event_source_prefix`, which the rule matches by prefix.
    """
    event = json.loads(FIXTURE.read_text(encoding="utf-8"))
    detail = event["detail"]
    template_id = detail["eventBody"]["conversationId"]
    detail["topicName"] = detail["topicName"].replace(template_id, conversation_id)
    detail["eventBody"]["conversationId"] = conversation_id
    detail["eventBody"]["eventTime"] = int(now.timestamp() * 1000)
    detail["timestamp"] = format_timestamp(now)
    detail["metadata"]["CorrelationId"] = str(uuid.uuid4())
    return {
        "Source": f"{source_prefix}/e2e-smoke-test",
        "DetailType": event["detail-type"],
        "Detail": json.dumps(detail),
        "Time": now,
    }


def as_received(entry: dict[str, Any]) -> dict[str, Any]:
    """The event EventBridge hands to the ingest function for a PutEvents `entry`."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "time": format_timestamp(entry["Time"]),
        "resources": [],
        "detail": json.loads(entry["Detail"]),
    }


def wait_for(probe: Callable[[], T | None], timeout_seconds: float) -> T | None:
    """Call `probe` every few seconds until it returns something, or None after `timeout_seconds`."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        found = probe()
        if found is not None or time.monotonic() >= deadline:
            return found
        time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))


@dataclass
class DeployedStack:
    """Clients and outputs of `GenesysAnalyticsBridge-<env>`."""

    config: EnvironmentConfig
    session: boto3.Session
    outputs: dict[str, str]
    # Added to settle delay + batching window: cold starts, the pipe's polling, Genesys's answer.
    margin_seconds: float = 120.0
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def describe(
        cls, config: EnvironmentConfig, session: boto3.Session, margin_seconds: float
    ) -> DeployedStack:
        from botocore.exceptions import ClientError

        try:
            stack = describe_stack(
                session.client("cloudformation"), config.stack_name, environment=config.environment_name
            )
            stack.require(*REQUIRED_OUTPUTS)
        except OpsError as error:  # not deployed, or deployed without an output the test reads
            raise StackNotUsable(str(error)) from None
        except ClientError as error:
            raise StackNotUsable(
                f"cannot describe stack {config.stack_name} in {session.region_name}: "
                f"{error.response.get('Error', {}).get('Message', error)}; point AWS_PROFILE/AWS_REGION at "
                "its account"
            ) from None
        outputs = dict(stack.outputs)
        return cls(config=config, session=session, outputs=outputs, margin_seconds=margin_seconds)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service)
        return self._clients[service]

    @property
    def buffer(self) -> BufferTable:
        return BufferTable(self.client("dynamodb"), self.outputs[contracts.OUTPUT_BUFFER_TABLE_NAME])

    @property
    def settle_sla_seconds(self) -> float:
        """How long after the event a conversation should be concluded: settle delay + batching window
        + margin (docs/operations.md, "Throughput and latency")."""
        return (
            self.config.settle_delay_seconds
            + self.config.processor_batching_window_seconds
            + self.margin_seconds
        )

    def put_end_event(self, conversation_id: str, now: datetime) -> None:
        entry = synthetic_end_event(conversation_id, self.config.event_source_prefix, now)
        entry["EventBusName"] = self.outputs[contracts.OUTPUT_EVENT_BUS_NAME]
        answer = self.client("events").put_events(Entries=[entry])
        if answer.get("FailedEntryCount"):
            failed = answer["Entries"][0]
            raise AssertionError(
                f"EventBridge refused the event: {failed.get('ErrorCode')}: {failed.get('ErrorMessage')}"
            )

    def wait_for_item(self, conversation_id: str, timeout_seconds: float) -> BufferItem | None:
        return wait_for(lambda: self.buffer.get(conversation_id), timeout_seconds)

    def wait_for_conclusion(self, conversation_id: str, timeout_seconds: float) -> BufferItem | None:
        """The item once it is FETCHED or FAILED; the last one seen (or None) when time runs out."""
        last: BufferItem | None = None

        def concluded() -> BufferItem | None:
            nonlocal last
            last = self.buffer.get(conversation_id)
            done = (contracts.STATUS_FETCHED, contracts.STATUS_FAILED)
            return last if last is not None and last.status in done else None

        return wait_for(concluded, timeout_seconds) or last

    def backdate_first_event(self, conversation_id: str, first_event_at: datetime) -> bool:
        """Move a PENDING item's firstEventAt back; False if it is no longer PENDING.

        A MODIFY on the stream, which the pipe drops (contracts.PIPE_FILTER_PATTERN): the message the
        INSERT already produced is the only one.
        """
        from botocore.exceptions import ClientError

        try:
            self.client("dynamodb").update_item(
                TableName=self.outputs[contracts.OUTPUT_BUFFER_TABLE_NAME],
                Key={contracts.ATTR_CONVERSATION_ID: {"S": conversation_id}},
                UpdateExpression="SET #first = :first",
                ConditionExpression="#status = :pending",
                ExpressionAttributeNames={
                    "#first": contracts.ATTR_FIRST_EVENT_AT,
                    "#status": contracts.ATTR_STATUS,
                },
                ExpressionAttributeValues={
                    ":first": {"S": format_timestamp(first_event_at)},
                    ":pending": {"S": contracts.STATUS_PENDING},
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def take_dead_letters(self, conversation_id: str, timeout_seconds: float) -> list[dict[str, Any]]:
        """Remove the work DLQ messages about `conversation_id` and return their bodies.

        Other messages are made visible again at once, so an operator reading the queue loses nothing.
        """
        sqs = self.client("sqs")
        url = self.outputs[contracts.OUTPUT_WORK_DLQ_URL]
        taken: list[dict[str, Any]] = []

        def sweep() -> list[dict[str, Any]] | None:
            messages = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=2, VisibilityTimeout=30
            ).get("Messages", [])
            for message in messages:
                try:
                    body = json.loads(message["Body"])
                except ValueError:
                    body = None
                if isinstance(body, dict) and body.get("conversationId") == conversation_id:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                    taken.append(body)
                else:
                    sqs.change_message_visibility(
                        QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
            return taken or None

        wait_for(sweep, timeout_seconds)
        return taken

    def read_object(self, key: str) -> tuple[dict[str, Any], str | None, str]:
        """The landed conversation, its version id and its content type."""
        answer = self.client("s3").get_object(
            Bucket=self.outputs[contracts.OUTPUT_RESULTS_BUCKET_NAME], Key=key
        )
        body = json.loads(answer["Body"].read())
        return body, answer.get("VersionId"), answer.get("ContentType", "")

    def delete_object_version(self, key: str, version_id: str | None) -> None:
        """Delete exactly the version the test landed; an earlier version of the key stays current."""
        request: dict[str, Any] = {"Bucket": self.outputs[contracts.OUTPUT_RESULTS_BUCKET_NAME], "Key": key}
        if version_id:
            request["VersionId"] = version_id
        self.client("s3").delete_object(**request)

    def delete_item(self, conversation_id: str) -> None:
        # A REMOVE on the stream, which the pipe drops.
        self.client("dynamodb").delete_item(
            TableName=self.outputs[contracts.OUTPUT_BUFFER_TABLE_NAME],
            Key={contracts.ATTR_CONVERSATION_ID: {"S": conversation_id}},
        )
