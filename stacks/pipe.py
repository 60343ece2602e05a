"""The EventBridge pipe from the buffer table's stream to the work queue: INSERTs only, one message per
new conversation, shaped by contracts.PIPE_INPUT_TEMPLATE (the local runner applies the same objects).

Built inside the Buffer construct's scope, so the resources keep the logical ids they were deployed with.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_pipes_alpha as pipes
from aws_cdk import aws_pipes_sources_alpha as pipe_sources
from aws_cdk import aws_pipes_targets_alpha as pipe_targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from genesys_bridge import contracts
from stacks.config import EnvironmentConfig
from stacks.config_fixed import PIPE_BATCH_SIZE, PIPE_MAX_RECORD_AGE_HOURS, PIPE_MAX_RETRY_ATTEMPTS
from stacks.log_groups import log_group
from stacks.pipe_dlq import PipeDeadLetterQueues, pipe_dead_letter_queues


@dataclass(frozen=True)
class StreamPipe:
    pipe: pipes.Pipe
    dead_letters: PipeDeadLetterQueues  # the pipe's DLQ (read by the pipe DLQ resolver) and its own DLQ


def stream_to_work_queue_pipe(
    scope: Construct,
    *,
    table: dynamodb.TableV2,
    work_queue: sqs.IQueue,
    config: EnvironmentConfig,
    removal_policy: RemovalPolicy,
) -> StreamPipe:
    # The pipe's DLQ is read by the pipe DLQ resolver (stacks/pipe_dlq.py): it keeps its id here, and
    # what the resolver cannot resolve goes on to the unresolved queue beside it.
    dead_letters = pipe_dead_letter_queues(scope)
    pipe = pipes.Pipe(
        scope,
        "StreamToWorkQueuePipe",
        description="New buffer items (one per conversation) to the work queue",
        source=pipe_sources.DynamoDBSource(
            table,
            # TRIM_HORIZON: a pipe created or restarted after items were written still sends them.
            starting_position=pipe_sources.DynamoDBStartingPosition.TRIM_HORIZON,
            batch_size=PIPE_BATCH_SIZE,
            parallelization_factor=config.pipe_parallelization_factor,
            on_partial_batch_item_failure=pipe_sources.OnPartialBatchItemFailure.AUTOMATIC_BISECT,
            maximum_retry_attempts=PIPE_MAX_RETRY_ATTEMPTS,
            # Without an age limit Pipes retries its own errors until the stream drops the record
            # (24 h), and the record is gone without reaching the DLQ.
            maximum_record_age=Duration.hours(PIPE_MAX_RECORD_AGE_HOURS),
            dead_letter_target=dead_letters.queue,
        ),
        # Only the item's creation starts work; later touches (lastEventAt) and status changes don't.
        filter=pipes.Filter([pipes.FilterPattern.from_object(contracts.PIPE_FILTER_PATTERN)]),
        target=pipe_targets.SqsTarget(
            work_queue,
            input_transformation=pipes.InputTransformation.from_text(contracts.PIPE_INPUT_TEMPLATE),
        ),
        log_destinations=[
            pipes.CloudwatchLogsLogDestination(
                log_group(
                    scope,
                    "PipeLogs",
                    retention_days=config.log_retention_days,
                    removal_policy=removal_policy,
                )
            )
        ],
        log_level=pipes.LogLevel.ERROR,
    )
    # The pipe checks at creation that its role can read the stream, so it must be created after the
    # role's policy, not only after the role its RoleArn names (https://github.com/aws/aws-cdk/issues/31211).
    # Pipe adds that DependsOn itself for a role it creates; tests/infrastructure asserts it stays, and
    # docs/operations.md ("First deploy") says why no wait for the stream is needed on top.
    return StreamPipe(pipe=pipe, dead_letters=dead_letters)
