"""After a run: everything that landed anywhere (objects, buffer items, every queue's messages).

The inventory reads as the runner ("inventory" actor), so its calls never receive injected faults and
are not counted as the functions' own.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genesys_bridge import contracts, layout
from local_runner.aws import SQS_MAX_BATCH, LocalResources
from local_runner.aws_hooks import acting_as


@dataclass(frozen=True)
class Inventory:
    objects: dict[str, bytes]  # results bucket, the conversations (layout.CONVERSATIONS): key -> body
    other_objects: dict[str, bytes]  # the rest of the results bucket: the audit's reports and scratch
    items: dict[str, dict[str, str]]  # buffer: conversation id -> {attribute: value as text}
    work_dlq: list[Any]  # message bodies, JSON-decoded where they are JSON
    ingest_failures: list[Any]
    pipe_failures: list[Any]  # pointers still in the pipe DLQ (the pipe DLQ function drains it)
    pipe_unresolved: list[Any]  # what the pipe DLQ function could not resolve
    quarantine: list[Any]


def take_inventory(
    resources: LocalResources, pipe_dlq_url: str, pipe_unresolved_url: str, out_dir: Path | None
) -> Inventory:
    """Read every place a conversation or an event can end up (call inside the run's mock_aws)."""
    import boto3

    sqs = boto3.client("sqs", region_name=resources.region)
    every = export_objects(boto3.client("s3", region_name=resources.region), resources.bucket_name, out_dir)
    return Inventory(
        objects={key: body for key, body in every.items() if key.startswith(layout.CONVERSATIONS.prefix)},
        other_objects={
            key: body for key, body in every.items() if not key.startswith(layout.CONVERSATIONS.prefix)
        },
        items=scan_buffer(boto3.client("dynamodb", region_name=resources.region), resources.table_name),
        work_dlq=[message_body(m) for m in drain_queue(sqs, resources.work_dlq_url)],
        ingest_failures=[message_body(m) for m in drain_queue(sqs, resources.ingest_failure_queue_url)],
        pipe_failures=[message_body(m) for m in drain_queue(sqs, pipe_dlq_url)],
        pipe_unresolved=[message_body(m) for m in drain_queue(sqs, pipe_unresolved_url)],
        quarantine=[message_body(m) for m in drain_queue(sqs, resources.quarantine_queue_url)],
    )


def queue_depth(sqs: Any, queue_url: str) -> dict[str, int]:
    """Visible, in flight and delayed messages of a queue."""
    with acting_as("runner"):
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
    return {
        "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
        "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        "delayed": int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
    }


def drain_queue(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message of a queue (after the run): received with a long visibility, not deleted."""
    out: list[dict[str, Any]] = []
    with acting_as("inventory"):
        while True:
            messages = sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=SQS_MAX_BATCH,
                VisibilityTimeout=3600,
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not messages:
                return out
            out.extend(messages)


def message_body(message: dict[str, Any]) -> Any:
    """A message's body, JSON-decoded when it is JSON (and not nested past the recursion limit)."""
    try:
        return json.loads(message.get("Body", ""))
    except (json.JSONDecodeError, RecursionError):
        return message.get("Body")


def scan_buffer(dynamodb: Any, table_name: str) -> dict[str, dict[str, str]]:
    """conversationId -> {attribute: value as text} for every buffer item."""
    items: dict[str, dict[str, str]] = {}
    with acting_as("inventory"):
        paginator = dynamodb.get_paginator("scan")
        for page in paginator.paginate(TableName=table_name, ConsistentRead=True):
            for item in page.get("Items", []):
                flat = {name: next(iter(value.values())) for name, value in item.items()}
                items[str(flat[contracts.ATTR_CONVERSATION_ID])] = {k: str(v) for k, v in flat.items()}
    return items


def export_objects(s3: Any, bucket: str, out_dir: Path | None) -> dict[str, bytes]:
    """Every object of the results bucket, written under out_dir in the bucket's key layout with its
    LastModified as the file's time (as `aws s3 sync` does: compaction markers fingerprint it)."""
    objects: dict[str, bytes] = {}
    modified: dict[str, float] = {}
    with acting_as("inventory"):
        paginator = s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket):
            for entry in page.get("Contents", []):
                key = entry["Key"]
                objects[key] = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                modified[key] = entry["LastModified"].timestamp()
    if out_dir is not None:
        for key, body in objects.items():
            path = out_dir / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
            os.utime(path, (modified[key], modified[key]))
    return objects
