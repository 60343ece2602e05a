"""Builders shared by the domain and handler tests: inputs shaped as AWS delivers them, moto resources."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from genesys_bridge import contracts

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
FIXTURE_CONVERSATION_ID = "0a5f8e21-9c43-4d7b-b612-3e8d4c7a9f10"
REGION = "eu-west-1"
ACCOUNT = "123456789012"
TABLE = "buffer"
BUCKET = "results"


def stack_set_env(*, ingest: bool) -> dict[str, str]:
    """The variables the stack sets from the config model, as its builder writes them
    (stacks/function_environments.py) for the model's own defaults: the functions default none of them.
    Resource names are left out (each test names its own)."""
    from stacks.config import load_environment_config, parse_environment_config
    from stacks.function_environments import ingest_environment, processor_environment

    defaults = parse_environment_config(
        "defaults", {"event_bus_mode": "create", "event_bus_name": "bus", "credentials_secret_name": "secret"}
    )
    if ingest:
        # the dev environment's topics (customer.end and acw), which the fixtures carry
        dev_topics = defaults.model_copy(update={"topics": load_environment_config("dev").topics})
        environment = ingest_environment(
            dev_topics, buffer_table_name="", quarantine_queue_url="", work_queue_url=""
        )
        return {
            name: environment[name] for name in (contracts.BUFFER_TTL_HOURS, contracts.CONVERSATION_TOPICS)
        }
    environment = processor_environment(
        defaults,
        buffer_table_name="",
        results_bucket_name="",
        credentials_secret_arn="",
        work_queue_url="",
        work_dlq_url="",
    )
    return {name: value for name, value in environment.items() if value and name != contracts.GENESYS_REGION}


DEV_TOPICS = frozenset({"customer.end", "acw"})


def load_fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def conversation_event(
    conversation_id: str = FIXTURE_CONVERSATION_ID, topic: str = "customer.end"
) -> dict[str, Any]:
    """A Genesys conversation event as EventBridge hands it to a rule target."""
    event = load_fixture("customer-end-event.json")
    event["id"] = str(uuid.uuid4())
    event["detail-type"] = f"v2.detail.events.conversation.{{id}}.{topic}"
    event["detail"]["topicName"] = f"v2.detail.events.conversation.{conversation_id}.{topic}"
    event["detail"]["eventBody"]["conversationId"] = conversation_id
    return event


def conversation(
    conversation_id: str,
    *,
    start: str = "2026-11-20T13:59:53.179Z",
    ended: bool = True,
    wrapup_open: bool = False,
) -> dict[str, Any]:
    """Analytics details of one conversation, as the multi-get returns it: settled (its agent's wrap-up
    ended), or with `wrapup_open` ended but the wrap-up segment still running (no segmentEnd)."""
    fixture = "conversation-details-wrapup-open.json" if wrapup_open else "conversation-details.json"
    details = copy.deepcopy(load_fixture(fixture))
    details["conversationId"] = conversation_id
    details["conversationStart"] = start
    if not ended:
        del details["conversationEnd"]
    return details


def new_ids(count: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(count)]


def sqs_record(
    body: str | dict[str, Any],
    *,
    receive_count: int = 1,
    sent_at: datetime | None = None,
    queue: str = "work",
) -> dict[str, Any]:
    """One SQS record as Lambda's event source mapping delivers it."""
    sent = sent_at or datetime.now(UTC)
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": f"handle-{uuid.uuid4()}",
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": str(int(sent.timestamp() * 1000)),
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": str(int(datetime.now(UTC).timestamp() * 1000)),
        },
        "messageAttributes": {},
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}",
        "awsRegion": REGION,
    }


def delivered(aws: Aws, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Send the bodies to the work queue and receive them back as Lambda records (real receipt handles,
    so ChangeMessageVisibility works), in the order of `bodies`."""
    for body in bodies:
        aws.sqs.send_message(QueueUrl=aws.work_url, MessageBody=json.dumps(body))
    received: dict[str, dict[str, Any]] = {}
    while len(received) < len(bodies):
        response = aws.sqs.receive_message(
            QueueUrl=aws.work_url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=30
        )
        for message in response.get("Messages", []):
            received[message["Body"]] = {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message["Attributes"],
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:work",
                "awsRegion": REGION,
            }
    return [received[json.dumps(body)] for body in bodies]


def work_message(conversation_id: str, **kwargs: Any) -> dict[str, Any]:
    return sqs_record({"conversationId": conversation_id}, **kwargs)


def sqs_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}


@dataclass
class LambdaContextStub:
    """What Powertools and the handlers read from Lambda's context object."""

    remaining_ms: int = 60_000
    function_name: str = "processor"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:processor"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@dataclass
class Aws:
    """moto resources of one test: clients, the buffer table (with its stream), bucket and queues."""

    dynamodb: Any
    streams: Any
    s3: Any
    sqs: Any
    queue_urls: dict[str, str]

    @property
    def work_url(self) -> str:
        return self.queue_urls["work"]

    @property
    def dlq_url(self) -> str:
        return self.queue_urls["work-dlq"]

    @property
    def quarantine_url(self) -> str:
        return self.queue_urls["quarantine"]

    def messages(self, queue: str) -> list[dict[str, Any]]:
        """Every message body currently in the queue, parsed (drains the queue)."""
        bodies: list[dict[str, Any]] = []
        while True:
            response = self.sqs.receive_message(
                QueueUrl=self.queue_urls[queue], MaxNumberOfMessages=10, VisibilityTimeout=300
            )
            batch = response.get("Messages", [])
            if not batch:
                return bodies
            bodies.extend(json.loads(message["Body"]) for message in batch)

    def item(self, conversation_id: str) -> dict[str, Any] | None:
        response = self.dynamodb.get_item(
            TableName=TABLE, Key={contracts.ATTR_CONVERSATION_ID: {"S": conversation_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        if item is None:
            return None
        return {name: next(iter(value.values())) for name, value in item.items()}

    def items(self) -> list[dict[str, Any]]:
        scanned = self.dynamodb.scan(TableName=TABLE)["Items"]
        return [{name: next(iter(value.values())) for name, value in item.items()} for item in scanned]

    def object_keys(self) -> list[str]:
        keys: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        return sorted(keys)

    def stream_event_names(self) -> list[str]:
        """eventName of every record in the table's stream so far, oldest first."""
        stream_arn = self.dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
        names: list[str] = []
        for shard in self.streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
            iterator = self.streams.get_shard_iterator(
                StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            names.extend(
                record["eventName"] for record in self.streams.get_records(ShardIterator=iterator)["Records"]
            )
        return names


def create_resources() -> Aws:
    """Create the pipeline's AWS resources; call inside mock_aws."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": contracts.ATTR_CONVERSATION_ID, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": contracts.ATTR_CONVERSATION_ID, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    sqs = boto3.client("sqs", region_name=REGION)
    urls = {name: sqs.create_queue(QueueName=name)["QueueUrl"] for name in ("work", "work-dlq", "quarantine")}
    return Aws(
        dynamodb=dynamodb,
        streams=boto3.client("dynamodbstreams", region_name=REGION),
        s3=s3,
        sqs=sqs,
        queue_urls=urls,
    )


def capture_calls(client: Any, operation: str) -> list[dict[str, Any]]:
    """Record the parameters of every `operation` call made with `client` (a botocore event hook)."""
    calls: list[dict[str, Any]] = []

    def hook(params: dict[str, Any], **_: Any) -> None:
        calls.append(dict(params))

    client.meta.events.register(
        f"provide-client-params.{client.meta.service_model.service_name}.{operation}", hook
    )
    return calls


def capture_errors(client: Any, operation: str) -> list[str]:
    """Error codes of `operation` calls made with `client` that AWS (moto) refused."""
    errors: list[str] = []

    def hook(parsed: dict[str, Any], **_: Any) -> None:
        if "Error" in parsed:
            errors.append(parsed["Error"].get("Code", "?"))

    client.meta.events.register(f"after-call.{client.meta.service_model.service_name}.{operation}", hook)
    return errors


def iter_chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
