"""Finding the deployed stack by name: its outputs, and clear errors when it is not there."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from genesys_bridge import contracts
from ops.errors import OpsError
from ops.stack import Bridge, MissingOutputs, StackInfo, StackNotFound, describe_stack
from tests.unit.domain.builders import REGION

STACK = "GenesysAnalyticsBridge-prod"


def test_the_outputs_of_the_named_stack_are_read_into_a_mapping() -> None:
    # Given CloudFormation knows the stack, with two outputs
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    with Stubber(cloudformation) as stubber:
        stubber.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": STACK,
                        "CreationTime": "2026-11-20T00:00:00Z",
                        "StackStatus": "UPDATE_COMPLETE",
                        "Outputs": [
                            {"OutputKey": contracts.OUTPUT_WORK_QUEUE_URL, "OutputValue": "https://q/work"},
                            {"OutputKey": contracts.OUTPUT_BUFFER_TABLE_NAME, "OutputValue": "buffer-1"},
                        ],
                    }
                ]
            },
            expected_params={"StackName": STACK},
        )

        # When it is described by name
        info = describe_stack(cloudformation, STACK)

    # Then its status and outputs are what the ops commands use
    assert info.status == "UPDATE_COMPLETE"
    assert info.outputs == {
        contracts.OUTPUT_WORK_QUEUE_URL: "https://q/work",
        contracts.OUTPUT_BUFFER_TABLE_NAME: "buffer-1",
    }
    assert Bridge.from_stack(info).queue_url("work") == "https://q/work"


def test_a_stack_that_does_not_exist_says_which_and_where() -> None:
    # Given CloudFormation does not know the stack
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    with Stubber(cloudformation) as stubber:
        stubber.add_client_error(
            "describe_stacks",
            service_error_code="ValidationError",
            service_message=f"Stack with id {STACK} does not exist",
            http_status_code=400,
        )

        # When it is described, Then the error names the stack and the region and says what to check
        with pytest.raises(StackNotFound) as raised:
            describe_stack(cloudformation, STACK, environment="prod")
    message = str(raised.value)
    assert STACK in message
    assert REGION in message
    assert "`npx cdk deploy -c env=prod`" in message


def test_required_outputs_are_returned_and_every_missing_one_is_named() -> None:
    info = StackInfo(name=STACK, status="UPDATE_COMPLETE", outputs={"ResultsBucketName": "results"})
    assert info.require("ResultsBucketName") == {"ResultsBucketName": "results"}
    with pytest.raises(MissingOutputs, match=r"no output AuditStateMachineArn, EventBusName: .*older"):
        info.require("AuditStateMachineArn", "ResultsBucketName", "EventBusName")


def test_an_output_the_stack_lacks_is_named_with_the_likely_cause() -> None:
    # Given a stack deployed before the pipe DLQ resolver existed (no unresolved queue output)
    bridge = Bridge(stack_name=STACK, status="UPDATE_COMPLETE", outputs={"WorkQueueUrl": "https://q/work"})

    # When a command needs that queue, Then the error names the output and says to deploy the current version
    with pytest.raises(
        OpsError, match=f"no output {contracts.OUTPUT_PIPE_UNRESOLVED_QUEUE_URL}.*older version"
    ):
        bridge.queue_url("pipe-unresolved")
