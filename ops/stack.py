"""The deployed stack, found by name: its status and outputs, and the bridge's resources named by them.

describe_stack is the project's one reader of a stack's outputs: the ops commands, `backfill` and the
smoke test (tests/e2e) find what they operate through it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from genesys_bridge import contracts
from ops.errors import OpsError

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient


class StackNotFound(OpsError):
    pass


class MissingOutputs(OpsError):
    """The stack lacks an output a command needs: it was deployed from an older version."""

    def __init__(self, stack_name: str, keys: Sequence[str]) -> None:
        super().__init__(
            f"stack {stack_name} has no output {', '.join(keys)}: it was deployed from an older version "
            "of this project; deploy the current one"
        )


@dataclass(frozen=True)
class StackInfo:
    name: str
    status: str
    outputs: Mapping[str, str]

    def require(self, *keys: str) -> dict[str, str]:
        """The outputs named by `keys`; MissingOutputs naming every one the stack lacks."""
        missing = [key for key in keys if not self.outputs.get(key)]
        if missing:
            raise MissingOutputs(self.name, missing)
        return {key: self.outputs[key] for key in keys}


def describe_stack(
    cloudformation: CloudFormationClient, stack_name: str, *, environment: str | None = None
) -> StackInfo:
    """The stack's status and outputs (DescribeStacks). Raises StackNotFound with what to check (the
    deploy command names `environment` when given); other AWS errors propagate."""
    try:
        response = cloudformation.describe_stacks(StackName=stack_name)
    except ClientError as error:
        # CloudFormation answers a stack name it does not know with ValidationError ("Stack with id X
        # does not exist"); there is no separate not-found code
        # (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/CommonErrors.html).
        if error.response.get("Error", {}).get("Code") == "ValidationError":
            region = cloudformation.meta.region_name
            raise StackNotFound(
                f"stack {stack_name} not found in {region} "
                f"({error.response['Error'].get('Message', '')}): is it deployed "
                f"(`npx cdk deploy -c env={environment or '...'}`), and are the credentials and region "
                "those of its account?"
            ) from None
        raise
    stacks = response.get("Stacks") or []
    if not stacks:
        raise StackNotFound(f"stack {stack_name} not found")
    stack = stacks[0]
    outputs = {
        output["OutputKey"]: output["OutputValue"]
        for output in stack.get("Outputs", [])
        if "OutputKey" in output and "OutputValue" in output
    }
    return StackInfo(name=stack_name, status=stack.get("StackStatus", "?"), outputs=outputs)


class Redrive(StrEnum):
    """How `redrive` empties a queue."""

    MOVE_TO_SOURCE = "move"  # SQS StartMessageMoveTask back to the queue whose redrive policy names it
    REPLAY_TO_INGEST = "replay"  # each event invoked into the ingest function again (asynchronously)


@dataclass(frozen=True)
class QueueSpec:
    name: str  # as the CLI names it
    output: str  # the stack output with its URL
    holds: str
    consumed: bool  # a function reads it: depth only, never sampled (a sample would hide messages)
    redrive: Redrive | None = None
    source: str | None = None  # for MOVE_TO_SOURCE: the queue its messages go back to


QUEUES: tuple[QueueSpec, ...] = (
    QueueSpec("work", contracts.OUTPUT_WORK_QUEUE_URL, "conversations waiting for the processor", True),
    QueueSpec(
        "work-dlq",
        contracts.OUTPUT_WORK_DLQ_URL,
        "conversations the processor gave up on",
        False,
        Redrive.MOVE_TO_SOURCE,
        source="work",
    ),
    QueueSpec(
        "pipe-dlq",
        contracts.OUTPUT_PIPE_DLQ_URL,
        "pipe batches that failed (pointers; the pipe DLQ function resolves them)",
        True,
    ),
    QueueSpec(
        "pipe-unresolved",
        contracts.OUTPUT_PIPE_UNRESOLVED_QUEUE_URL,
        "pipe pointers the pipe DLQ function could not resolve",
        False,
        Redrive.MOVE_TO_SOURCE,
        source="pipe-dlq",
    ),
    QueueSpec(
        "quarantine",
        contracts.OUTPUT_QUARANTINE_QUEUE_URL,
        "events that failed validation",
        False,
        Redrive.REPLAY_TO_INGEST,
    ),
    QueueSpec(
        "rule-dlq",
        contracts.OUTPUT_RULE_DLQ_URL,
        "events EventBridge could not hand to the ingest function",
        False,
        Redrive.REPLAY_TO_INGEST,
    ),
    QueueSpec(
        "failed-invocations",
        contracts.OUTPUT_FAILED_INVOCATIONS_QUEUE_URL,
        "events the ingest function failed on after its retries",
        False,
        Redrive.REPLAY_TO_INGEST,
    ),
    QueueSpec(
        "audit-schedule-dlq",
        contracts.OUTPUT_AUDIT_SCHEDULE_DLQ_URL,
        "daily audit runs EventBridge Scheduler could not start (recover with `make backfill`)",
        False,
    ),
    QueueSpec(
        "lookups-schedule-dlq",
        contracts.OUTPUT_LOOKUPS_SCHEDULE_DLQ_URL,
        "daily lookups syncs EventBridge Scheduler could not start (recover: start the state machine "
        "of the LookupsStateMachineArn output)",
        False,
    ),
)
QUEUES_BY_NAME = {spec.name: spec for spec in QUEUES}
# `redrive pipe-dlq`: the pipe's dead letters that are still stuck are those the resolver could not
# resolve; moving them back to the pipe DLQ has the resolver try them again.
REDRIVE_ALIASES = {"pipe-dlq": "pipe-unresolved"}
REDRIVE_TARGETS = sorted([spec.name for spec in QUEUES if spec.redrive] + list(REDRIVE_ALIASES))


@dataclass(frozen=True)
class Bridge:
    """One deployed bridge: the stack's name and status and the resources its outputs name."""

    stack_name: str
    status: str
    outputs: Mapping[str, str]

    @classmethod
    def from_stack(cls, info: StackInfo) -> Bridge:
        return cls(stack_name=info.name, status=info.status, outputs=dict(info.outputs))

    def output(self, key: str) -> str:
        value = self.outputs.get(key)
        if not value:
            raise MissingOutputs(self.stack_name, [key])
        return value

    def queue_url(self, name: str) -> str:
        return self.output(QUEUES_BY_NAME[name].output)

    def has_queue(self, name: str) -> bool:
        return bool(self.outputs.get(QUEUES_BY_NAME[name].output))


def queue_spec(name: str) -> QueueSpec:
    try:
        return QUEUES_BY_NAME[name]
    except KeyError:
        raise OpsError(f"no queue {name!r}; queues: {', '.join(QUEUES_BY_NAME)}") from None
