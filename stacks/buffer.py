"""Buffer: the deduplicating DynamoDB table, the pipe from its stream (stacks/pipe.py) and the work queue
it fills (stacks/work_queue.py)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from genesys_bridge import contracts
from stacks.config import EnvironmentConfig
from stacks.pipe import stream_to_work_queue_pipe
from stacks.work_queue import work_queues


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
        # Same scope (this construct) and ids as ever: the deployed queues and pipe keep their identity.
        queues = work_queues(self, config)
        self.work_queue = queues.queue
        self.work_dead_letter_queue = queues.dead_letter_queue
        stream_pipe = stream_to_work_queue_pipe(
            self, table=self.table, work_queue=self.work_queue, config=config, removal_policy=removal_policy
        )
        self.pipe = stream_pipe.pipe
        self.pipe_dead_letters = stream_pipe.dead_letters
        self.pipe_dead_letter_queue = stream_pipe.dead_letters.queue
        self.pipe_unresolved_queue = stream_pipe.dead_letters.unresolved_queue
