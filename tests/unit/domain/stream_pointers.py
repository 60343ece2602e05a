"""Pipe DLQ pointers as EventBridge Pipes writes them, into the buffer table's moto stream."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.unit.domain.builders import ACCOUNT, REGION, TABLE, Aws

PIPE_ARN = f"arn:aws:pipes:{REGION}:{ACCOUNT}:pipe/buffer-to-work-queue"


def pipe_dlq_body(
    *,
    stream_arn: str,
    shard_id: str,
    start: str,
    end: str,
    batch_size: int = 1,
    first_arrival: datetime | None = None,
) -> str:
    """A Pipes dead-letter record for a DynamoDB stream source: a pointer to the failed batch."""
    arrival = (first_arrival or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(
        {
            "context": {"partnerResourceArn": PIPE_ARN, "condition": "RetryAttemptsExhausted"},
            "version": "1.0",
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": start,
                "endSequenceNumber": end,
                "approximateArrivalOfFirstRecord": arrival,
                "approximateArrivalOfLastRecord": arrival,
                "batchSize": batch_size,
                "streamArn": stream_arn,
            },
        }
    )


@dataclass(frozen=True)
class Stream:
    """The buffer table's stream as the test sees it: its ARN, its one shard and every record so far."""

    arn: str
    shard_id: str
    records: list[dict[str, Any]]

    def sequence_numbers(self, conversation_id: str, event_name: str = "INSERT") -> list[str]:
        return [
            record["dynamodb"]["SequenceNumber"]
            for record in self.records
            if record["eventName"] == event_name
            and record["dynamodb"]["Keys"]["conversationId"]["S"] == conversation_id
        ]

    def pointer(self, start: str, end: str, **kwargs: Any) -> str:
        return pipe_dlq_body(stream_arn=self.arn, shard_id=self.shard_id, start=start, end=end, **kwargs)


def read_stream(aws: Aws) -> Stream:
    stream_arn = aws.dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    [shard] = aws.streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    iterator = aws.streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = aws.streams.get_records(ShardIterator=iterator)["Records"]
    return Stream(arn=stream_arn, shard_id=shard["ShardId"], records=records)
