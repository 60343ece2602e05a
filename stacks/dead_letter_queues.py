"""SQS queues shared by the capability constructs: every queue encrypted, TLS-only."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.nag import acknowledge_nag_finding

# Long enough for an operator to notice the alarm, read the reason and redrive after a weekend.
DEAD_LETTER_RETENTION = Duration.days(14)


def dead_letter_queue(
    scope: Construct, construct_id: str, *, holds: str, is_redrive_target: bool = False
) -> sqs.Queue:
    """A terminal queue (a DLQ or the quarantine): nothing consumes it, an alarm watches it.

    `holds` says what lands in it. Queues that no SQS redrive policy names (the targets of
    EventBridge, Lambda destinations and Pipes) look to cdk-nag like work queues without a DLQ, so
    they carry an acknowledgment saying what they are.
    """
    queue = sqs.Queue(
        scope,
        construct_id,
        retention_period=DEAD_LETTER_RETENTION,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
    )
    if is_redrive_target:
        return queue
    acknowledge_nag_finding(
        queue,
        "AwsSolutions-SQS3",
        f"This queue is itself the end of the line ({holds}); an alarm fires on its first "
        "message and an operator redrives or inspects it, so it has no DLQ of its own.",
    )
    return queue
