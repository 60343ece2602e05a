"""The runner's Pipes DLQ record is a pointer the real resolver reads back from the stream."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto import mock_aws

from genesys_bridge.buffer import BufferTable
from genesys_bridge.metrics import RecordingMetrics
from genesys_bridge.pipe_dlq import PipeDlqResolver, ResolutionOutcome, ResolverConfig
from local_runner.pipe_dlq import TargetFaults, pipe_dlq_record
from tests.unit.domain.builders import TABLE, Aws, create_resources, new_ids
from tests.unit.domain.stream_pointers import read_stream


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        resources = create_resources()
        resources.queue_urls["pipe-unresolved"] = resources.sqs.create_queue(QueueName="pipe-unresolved")[
            "QueueUrl"
        ]
        yield resources


def test_a_failed_batch_dead_lettered_by_the_runner_is_resolved_back_to_its_conversations(aws: Aws) -> None:
    # Given three buffered conversations and the runner's pipe failing the batch of the last two
    first, *failed = new_ids(3)
    buffer = BufferTable(aws.dynamodb, TABLE, ttl_hours=48)
    for conversation_id in [first, *failed]:
        buffer.record_event(conversation_id)
    stream = read_stream(aws)
    batch = [r for r in stream.records if r["dynamodb"]["Keys"]["conversationId"]["S"] in failed]
    body = pipe_dlq_record(
        batch, stream_arn=stream.arn, shard_id=stream.shard_id, pipe_arn="arn:aws:pipes:eu-west-1:1:pipe/p"
    )

    # When the resolver gets the record
    resolver = PipeDlqResolver(
        streams_client=aws.streams,
        sqs_client=aws.sqs,
        config=ResolverConfig(stream.arn, aws.work_url, aws.queue_urls["pipe-unresolved"]),
        metrics=RecordingMetrics(),
    )
    resolution = resolver.resolve(body)

    # Then exactly the two conversations of the failed batch are on the work queue
    assert resolution.outcome is ResolutionOutcome.REQUEUED
    assert sorted(m["conversationId"] for m in aws.messages("work")) == sorted(failed)
    assert json.loads(body)["DDBStreamBatchInfo"]["batchSize"] == len(batch)


def test_target_faults_are_reproducible_from_the_seed_and_near_their_rate() -> None:
    # Given two fault deciders with the same seed and one with another
    deciders = [TargetFaults(0.2, seed) for seed in (7, 7, 8)]
    runs = [[decider.batch_fails() for _ in range(1000)] for decider in deciders]
    # Then the same seed fails the same batches, another seed others, each about a fifth of them
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert all(150 < sum(run) < 250 for run in runs)
    assert deciders[0].failed_batches == sum(runs[0])
    assert not any(TargetFaults(0.0, 7).batch_fails() for _ in range(100))
    with pytest.raises(ValueError, match=r"within 0\.\.1"):
        TargetFaults(1.5, 7)
