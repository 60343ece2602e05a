"""Acknowledging a cdk-nag AwsSolutions finding on one construct, always with a specific reason."""

from __future__ import annotations

from typing import cast

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import IConstruct

# cdk-nag 3 reports through CDK's policy validation; its findings are acknowledged as
# `<plugin>::<rule id>` (the form `cdk synth` prints next to each finding).
NAG_PLUGIN = "AwsSolutions"


def acknowledge_nag_finding(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge `rule_id` (e.g. "AwsSolutions-SQS3", "AwsSolutions-IAM5[Resource::*]") on `construct`."""
    if len(reason) < 40:
        raise ValueError(f"the acknowledgment of {rule_id} needs a specific reason, got {reason!r}")
    Validations.of(construct).acknowledge(Acknowledgment(id=f"{NAG_PLUGIN}::{rule_id}", reason=reason))


def acknowledge_state_machine_role(
    state_machine: sfn.StateMachine, function: lambda_.Function, what: str
) -> None:
    """The two wildcards CDK writes into a state machine's role that invokes one function (`what`, e.g.
    "the audit function"): that function's versions, and the X-Ray and log-delivery actions."""
    stack = Stack.of(function)
    cfn_function = cast(lambda_.CfnFunction, function.node.default_child)
    function_logical_id = stack.resolve(stack.get_logical_id(cfn_function))
    acknowledge_nag_finding(
        state_machine.role,
        f"AwsSolutions-IAM5[Resource::<{function_logical_id}.Arn>:*]",
        f"CDK grants lambda:InvokeFunction on {what} and its versions (ARN:*); the state machine invokes "
        "that one function and nothing else.",
    )
    acknowledge_nag_finding(
        state_machine.role,
        "AwsSolutions-IAM5[Resource::*]",
        "X-Ray tracing and CloudWatch Logs delivery for the state machine need actions "
        "(PutTraceSegments, CreateLogDelivery and the like) that support no resource-level permissions.",
    )
