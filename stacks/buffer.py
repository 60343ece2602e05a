"""Buffer: the deduplicating DynamoDB table, the pipe from its stream and the work queue it fills."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_logs as logs
from aws_cdk import aws_pipes_alpha as pipes
from aws_cdk import aws_pipes_sources_alpha as pipe_sources
from aws_cdk import aws_pipes_targets_alpha as pipe_targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from genesys_bridge import contracts
from stacks.config import WORK_QUEUE_RETENTION_DAYS, EnvironmentConfig
from stacks.lambda_functions import log_retention
from stacks.pipe_dlq import pipe_dead_letter_queues
from stacks.queues import dead_letter_queue


class Buffer(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, removal_policy: RemovalPolicy
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.TableV2(
            self,
            "BufferTable",
            partition_key=dynamodb.Attribute(
                name=contracts.ATTR_CONVERSATION_ID, type=dynamodb.AttributeType.STRING
            ),
            billing=dynamodb.Billing.on_demand(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=contracts.ATTR_EXPIRES_AT,
            # The pipe only needs the new item (its conversationId) of each INSERT.
            dynamo_stream=dynamodb.StreamViewType.NEW_IMAGE,
            deletion_protection=config.retain_data,
            removal_policy=removal_policy,
        )

        self.work_dead_letter_queue = dead_letter_queue(
            self,
            "WorkDeadLetterQueue",
            holds="conversations the processor gave up on, with the reason",
            is_redrive_target=True,
        )
        self.work_queue = sqs.Queue(
            self,
            "WorkQueue",
            # Genesys analytics needs time after a conversation ends before its details are complete.
            delivery_delay=Duration.seconds(config.settle_delay_seconds),
            visibility_timeout=Duration.seconds(config.work_queue_visibility_timeout_seconds),
            retention_period=Duration.days(WORK_QUEUE_RETENTION_DAYS),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.work_dead_letter_queue, max_receive_count=config.work_queue_max_receive_count
            ),
        )

        # The pipe's DLQ is read by the pipe DLQ resolver (stacks/pipe_dlq.py); what it cannot
        # resolve goes on to the unresolved queue.
        self.pipe_dead_letters = pipe_dead_letter_queues(self)
        self.pipe_dead_letter_queue = self.pipe_dead_letters.queue
        self.pipe_unresolved_queue = self.pipe_dead_letters.unresolved_queue
        self.pipe = pipes.Pipe(
            self,
            "StreamToWorkQueuePipe",
            description="New buffer items (one per conversation) to the work queue",
            source=pipe_sources.DynamoDBSource(
                self.table,
                # TRIM_HORIZON: a pipe created or restarted after items were written still sends them.
                starting_position=pipe_sources.DynamoDBStartingPosition.TRIM_HORIZON,
                batch_size=config.pipe_batch_size,
                on_partial_batch_item_failure=pipe_sources.OnPartialBatchItemFailure.AUTOMATIC_BISECT,
                maximum_retry_attempts=config.pipe_max_retry_attempts,
                dead_letter_target=self.pipe_dead_letter_queue,
            ),
            # Only the item's creation starts work; later touches (lastEventAt) and status changes don't.
            filter=pipes.Filter([pipes.FilterPattern.from_object(contracts.PIPE_FILTER_PATTERN)]),
            target=pipe_targets.SqsTarget(
                self.work_queue,
                input_transformation=pipes.InputTransformation.from_text(contracts.PIPE_INPUT_TEMPLATE),
            ),
            log_destinations=[
                pipes.CloudwatchLogsLogDestination(
                    logs.LogGroup(
                        self,
                        "PipeLogs",
                        retention=log_retention(config.log_retention_days),
                        removal_policy=removal_policy,
                    )
                )
            ],
            log_level=pipes.LogLevel.ERROR,
        )
