"""Acknowledging a cdk-nag AwsSolutions finding on one construct, always with a specific reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

# cdk-nag 3 reports through CDK's policy validation; its findings are acknowledged as
# `<plugin>::<rule id>` (the form `cdk synth` prints next to each finding).
NAG_PLUGIN = "AwsSolutions"


def acknowledge_nag_finding(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge `rule_id` (e.g. "AwsSolutions-SQS3", "AwsSolutions-IAM5[Resource::*]") on `construct`."""
    if len(reason) < 40:
        raise ValueError(f"the acknowledgment of {rule_id} needs a specific reason, got {reason!r}")
    Validations.of(construct).acknowledge(Acknowledgment(id=f"{NAG_PLUGIN}::{rule_id}", reason=reason))
