"""Pipe dead letters: the pipe's DLQ, the function that resolves its pointers, and the queue for the rest.

EventBridge Pipes puts a pointer into the buffer's stream in its DLQ, not the records, and the stream
keeps them 24 hours (genesys_bridge.pipe_dlq). So the pipe DLQ is not left for an operator: a function
reads it as an SQS event source and puts the conversations back on the work queue while the records
are still there. What it cannot resolve goes to the unresolved queue, with its reason; a pointer it
keeps failing on goes there too, unchanged, by the DLQ's own redrive policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from genesys_bridge import contracts
from stacks.config_fixed import (
    PIPE_DLQ_MAX_RECEIVE_COUNT,
    PIPE_DLQ_RESOLVER_BATCH_SIZE,
    PIPE_DLQ_RESOLVER_TIMEOUT_SECONDS,
)
from stacks.dead_letter_queues import DEAD_LETTER_RETENTION, dead_letter_queue
from stacks.function_environments import pipe_dlq_environment
from stacks.lambda_functions import FunctionSpec, PythonFunctionFactory

RESOLVER_TIMEOUT = Duration.seconds(PIPE_DLQ_RESOLVER_TIMEOUT_SECONDS)
RESOLVER_MEMORY_MB = 256
# Lambda wants a source queue's visibility timeout at six times the function timeout
# (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html), so a throttled batch is
# not received again while it still runs. With PIPE_DLQ_MAX_RECEIVE_COUNT deliveries that is about
# half an hour of tries, well inside the stream's 24 hours, leaving time for
# `make ops ARGS="redrive pipe-dlq"`.
PIPE_DLQ_VISIBILITY = Duration.seconds(6 * PIPE_DLQ_RESOLVER_TIMEOUT_SECONDS)


@dataclass(frozen=True)
class PipeDeadLetterQueues:
    queue: sqs.Queue  # the pipe's dead-letter target, which the resolver reads
    unresolved_queue: sqs.Queue  # what the resolver could not resolve


def pipe_dead_letter_queues(scope: Construct) -> PipeDeadLetterQueues:
    """The pipe DLQ and its own DLQ, built in the pipe's scope so the pipe DLQ keeps its logical id
    (a replaced queue would lose the pointers waiting in it)."""
    unresolved_queue = dead_letter_queue(
        scope,
        "PipeUnresolvedQueue",
        holds="pipe DLQ pointers the resolver could not resolve, with the reason",
        is_redrive_target=True,
    )
    queue = sqs.Queue(
        scope,
        "PipeDeadLetterQueue",
        retention_period=DEAD_LETTER_RETENTION,
        visibility_timeout=PIPE_DLQ_VISIBILITY,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        dead_letter_queue=sqs.DeadLetterQueue(
            queue=unresolved_queue, max_receive_count=PIPE_DLQ_MAX_RECEIVE_COUNT
        ),
    )
    return PipeDeadLetterQueues(queue=queue, unresolved_queue=unresolved_queue)


class PipeDlqResolver(Construct):
    """The function on the pipe DLQ: an SQS event source, least-privilege reads of the buffer's stream."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        queues: PipeDeadLetterQueues,
        buffer_table: dynamodb.ITableV2,
        work_queue: sqs.IQueue,
        functions: PythonFunctionFactory,
    ) -> None:
        super().__init__(scope, construct_id)
        stream_arn = buffer_table.table_stream_arn
        if stream_arn is None:
            raise ValueError("the buffer table has no stream: the pipe and its DLQ resolver need one")
        self.function = functions.build(
            self,
            "PipeDlqFunction",
            FunctionSpec(
                handler_folder="pipe_dlq",
                service_name=contracts.PIPE_DLQ_SERVICE,
                description="Resolves the pipe's dead-letter pointers into work-queue messages",
                memory_mb=RESOLVER_MEMORY_MB,
                timeout=RESOLVER_TIMEOUT,
                environment=pipe_dlq_environment(
                    buffer_stream_arn=stream_arn,
                    work_queue_url=work_queue.queue_url,
                    unresolved_queue_url=queues.unresolved_queue.queue_url,
                ),
            ),
        )
        self.function.add_event_source(
            event_sources.SqsEventSource(
                queues.queue, batch_size=PIPE_DLQ_RESOLVER_BATCH_SIZE, report_batch_item_failures=True
            )
        )
        # Least privilege: the two stream reads on the buffer's stream only (not ListStreams, which
        # takes no resource), and SendMessage alone on the two queues it writes.
        iam.Grant.add_to_principal(
            grantee=self.function,
            actions=["dynamodb:GetShardIterator", "dynamodb:GetRecords"],
            resource_arns=[stream_arn],
        )
        iam.Grant.add_to_principal(
            grantee=self.function,
            actions=["sqs:SendMessage"],
            resource_arns=[work_queue.queue_arn, queues.unresolved_queue.queue_arn],
        )
