"""The work queue (buffer INSERTs -> processor) and its DLQ.

Built inside the Buffer construct's scope, so the resources keep the logical ids they were deployed
with: a queue replaced by a rename would lose the messages waiting in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.config import EnvironmentConfig
from stacks.config_fixed import WORK_QUEUE_RETENTION_DAYS
from stacks.dead_letter_queues import dead_letter_queue


@dataclass(frozen=True)
class WorkQueues:
    queue: sqs.Queue
    dead_letter_queue: sqs.Queue


def work_queues(scope: Construct, config: EnvironmentConfig) -> WorkQueues:
    """The work queue, delayed by the settle delay, with a redrive to its DLQ after the receive budget
    the config sized for the not-ready schedule (EnvironmentConfig.minimum_work_queue_receive_count)."""
    dlq = dead_letter_queue(
        scope,
        "WorkDeadLetterQueue",
        holds="conversations the processor gave up on, with the reason",
        is_redrive_target=True,
    )
    queue = sqs.Queue(
        scope,
        "WorkQueue",
        # Genesys analytics needs time after a conversation ends before its details are complete
        # (docs/genesys-api.md, "Settlement and mutability").
        delivery_delay=Duration.seconds(config.settle_delay_seconds),
        visibility_timeout=Duration.seconds(config.work_queue_visibility_timeout_seconds),
        retention_period=Duration.days(WORK_QUEUE_RETENTION_DAYS),
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        dead_letter_queue=sqs.DeadLetterQueue(
            queue=dlq, max_receive_count=config.work_queue_max_receive_count
        ),
    )
    return WorkQueues(queue=queue, dead_letter_queue=dlq)
