"""A deployed bridge on moto: the resources the stack's outputs name, and the ops commands over them
(and, for `backfill`, the audit rig of tests/unit/audit)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from genesys_bridge import contracts
from ops.commands import Clients, Ops
from ops.stack import Bridge
from tests.unit.audit.conftest import rig  # noqa: F401 - the audit under test, for the backfill tests
from tests.unit.domain.builders import BUCKET, REGION, TABLE

STACK = "GenesysAnalyticsBridge-prod"
INGEST_FUNCTION = "GenesysAnalyticsBridge-prod-IngestFunction"


class MoveTaskSqs:
    """moto's SQS plus the message move task API, which moto does not implement.

    start_message_move_task does what SQS does without a DestinationArn: every visible message of the
    dead-letter queue goes back to the queue whose redrive policy names it; list_message_move_tasks
    then reports the task COMPLETED with the count moved.
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.started: list[dict[str, Any]] = []
        self._tasks: dict[str, dict[str, Any]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def start_message_move_task(self, **kwargs: Any) -> dict[str, Any]:
        self.started.append(kwargs)
        source_arn = kwargs["SourceArn"]
        source_url = self._inner.get_queue_url(QueueName=source_arn.rsplit(":", 1)[1])["QueueUrl"]
        [destination_url] = self._inner.list_dead_letter_source_queues(QueueUrl=source_url)["queueUrls"]
        moved = 0
        while True:
            messages = self._inner.receive_message(QueueUrl=source_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                break
            for message in messages:
                self._inner.send_message(QueueUrl=destination_url, MessageBody=message["Body"])
                self._inner.delete_message(QueueUrl=source_url, ReceiptHandle=message["ReceiptHandle"])
                moved += 1
        self._tasks[source_arn] = {
            "TaskHandle": f"task-{len(self.started)}",
            "Status": "COMPLETED",
            "SourceArn": source_arn,
            "ApproximateNumberOfMessagesMoved": moved,
            "ApproximateNumberOfMessagesToMove": moved,
        }
        return {"TaskHandle": f"task-{len(self.started)}"}

    def list_message_move_tasks(self, **kwargs: Any) -> dict[str, Any]:
        task = self._tasks.get(kwargs["SourceArn"])
        return {"Results": [task] if task else []}


@dataclass
class Deployed:
    ops: Ops
    sqs: MoveTaskSqs
    dynamodb: Any
    s3: Any
    cloudwatch: Any
    urls: dict[str, str]
    topic_arn: str

    def send(self, queue: str, body: Any, **kwargs: Any) -> None:
        text = body if isinstance(body, str) else json.dumps(body)
        self.sqs.send_message(QueueUrl=self.urls[queue], MessageBody=text, **kwargs)

    def bodies(self, queue: str) -> list[Any]:
        """Every body in the queue (received with a long visibility: drains it for the test)."""
        out: list[Any] = []
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.urls[queue], MaxNumberOfMessages=10, VisibilityTimeout=300
            ).get("Messages", [])
            if not messages:
                return out
            for message in messages:
                try:
                    out.append(json.loads(message["Body"]))
                except ValueError:
                    out.append(message["Body"])

    def visible(self, queue: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.urls[queue], AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])


def _queue(sqs: Any, name: str, dead_letter_url: str | None = None) -> str:
    attributes: dict[str, str] = {}
    if dead_letter_url is not None:
        arn = sqs.get_queue_attributes(QueueUrl=dead_letter_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "5"})
    url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url


@pytest.fixture
def deployed() -> Iterator[Deployed]:
    with mock_aws():
        sqs = MoveTaskSqs(boto3.client("sqs", region_name=REGION))
        urls: dict[str, str] = {}
        urls["work-dlq"] = _queue(sqs, "work-dlq")
        urls["work"] = _queue(sqs, "work", urls["work-dlq"])
        urls["pipe-unresolved"] = _queue(sqs, "pipe-unresolved")
        urls["pipe-dlq"] = _queue(sqs, "pipe-dlq", urls["pipe-unresolved"])
        for name in (
            "quarantine",
            "rule-dlq",
            "failed-invocations",
            "audit-schedule-dlq",
            "lookups-schedule-dlq",
        ):
            urls[name] = _queue(sqs, name)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": contracts.ATTR_CONVERSATION_ID, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": contracts.ATTR_CONVERSATION_ID, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        topic_arn = boto3.client("sns", region_name=REGION).create_topic(Name="alarms")["TopicArn"]
        outputs = {
            contracts.OUTPUT_WORK_QUEUE_URL: urls["work"],
            contracts.OUTPUT_WORK_DLQ_URL: urls["work-dlq"],
            contracts.OUTPUT_PIPE_DLQ_URL: urls["pipe-dlq"],
            contracts.OUTPUT_PIPE_UNRESOLVED_QUEUE_URL: urls["pipe-unresolved"],
            contracts.OUTPUT_QUARANTINE_QUEUE_URL: urls["quarantine"],
            contracts.OUTPUT_RULE_DLQ_URL: urls["rule-dlq"],
            contracts.OUTPUT_FAILED_INVOCATIONS_QUEUE_URL: urls["failed-invocations"],
            contracts.OUTPUT_AUDIT_SCHEDULE_DLQ_URL: urls["audit-schedule-dlq"],
            contracts.OUTPUT_LOOKUPS_SCHEDULE_DLQ_URL: urls["lookups-schedule-dlq"],
            contracts.OUTPUT_BUFFER_TABLE_NAME: TABLE,
            contracts.OUTPUT_RESULTS_BUCKET_NAME: BUCKET,
            contracts.OUTPUT_ALARM_TOPIC_ARN: topic_arn,
            contracts.OUTPUT_INGEST_FUNCTION_NAME: INGEST_FUNCTION,
        }
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        clients = Clients(
            sqs=sqs,  # type: ignore[arg-type]
            dynamodb=dynamodb,
            s3=s3,
            cloudwatch=cloudwatch,
            lambda_=boto3.client("lambda", region_name=REGION),
        )
        ops = Ops(
            Bridge(stack_name=STACK, status="UPDATE_COMPLETE", outputs=outputs),
            clients,
            receive_wait_seconds=0,
        )
        yield Deployed(
            ops=ops, sqs=sqs, dynamodb=dynamodb, s3=s3, cloudwatch=cloudwatch, urls=urls, topic_arn=topic_arn
        )
