"""SQS as an operator uses it: depths, a sample that leaves every message in place, reasons, redrives."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ops.errors import CommandFailed
from ops.stack import QueueSpec

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_sqs import SQSClient

SQS_MAX_BATCH = 10
# A sampled message is hidden this long, then made visible again at once (visibility 0) when the
# sample is complete: long enough not to be received twice while sampling.
SAMPLE_VISIBILITY_SECONDS = 30
# A message being replayed stays hidden until the run ends; then it is deleted or made visible again.
REPLAY_VISIBILITY_SECONDS = 600
# StartMessageMoveTask statuses that are final
# (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ListMessageMoveTasksResultEntry.html).
MOVE_TASK_FINAL = frozenset({"COMPLETED", "CANCELLED", "FAILED"})
NO_REASON = "no reason recorded (moved by SQS after its receives ran out)"


@dataclass(frozen=True)
class Depth:
    visible: int
    in_flight: int
    delayed: int

    @property
    def total(self) -> int:
        return self.visible + self.in_flight + self.delayed

    def as_dict(self) -> dict[str, int]:
        return {"visible": self.visible, "in_flight": self.in_flight, "delayed": self.delayed}


class Queues:
    """The SQS calls of the ops commands; `wait_seconds` is the receive long-poll (0 in tests)."""

    def __init__(
        self, sqs: SQSClient, *, wait_seconds: int = 1, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._sqs = sqs
        self._wait = wait_seconds
        self._sleep = sleep

    def depth(self, url: str) -> Depth:
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return Depth(
            visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
            in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            delayed=int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
        )

    def arn(self, url: str) -> str:
        return self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]

    def _receive(self, url: str, count: int, visibility: int) -> list[dict[str, Any]]:
        response = self._sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=max(1, min(SQS_MAX_BATCH, count)),
            VisibilityTimeout=visibility,
            WaitTimeSeconds=self._wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return [dict(message) for message in response.get("Messages", [])]

    def _release(self, url: str, messages: list[dict[str, Any]]) -> None:
        """Make received messages visible again at once (they stay in the queue, as they were)."""
        for start in range(0, len(messages), SQS_MAX_BATCH):
            chunk = messages[start : start + SQS_MAX_BATCH]
            self._sqs.change_message_visibility_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(chunk)
                ],
            )

    def sample(self, url: str, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` messages of a queue nothing consumes, left in place (made visible again)."""
        seen: dict[str, dict[str, Any]] = {}
        try:
            while len(seen) < limit:
                batch = self._receive(url, limit - len(seen), SAMPLE_VISIBILITY_SECONDS)
                new = [m for m in batch if m["MessageId"] not in seen]
                if not new:
                    break
                seen.update((m["MessageId"], m) for m in new)
        finally:
            self._release(url, list(seen.values()))
        return list(seen.values())

    def move_back(
        self, source_url: str, *, wait_s: float, poll_s: float = 2.0
    ) -> tuple[dict[str, Any], bool]:
        """Start an SQS message move task from a dead-letter queue back to its source queue(s), and
        follow it for up to `wait_s` seconds. Returns the task's last state and whether it finished.

        Without DestinationArn, SQS moves each message back to the queue it was dead-lettered from
        (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_StartMessageMoveTask.html).
        """
        source_arn = self.arn(source_url)
        try:
            started = self._sqs.start_message_move_task(SourceArn=source_arn)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            raise CommandFailed(
                f"SQS refused the move task for {source_arn} ({code}): "
                f"{error.response.get('Error', {}).get('Message', '')}"
            ) from None
        handle = started.get("TaskHandle", "")
        deadline = time.monotonic() + wait_s
        while True:
            tasks = self._sqs.list_message_move_tasks(SourceArn=source_arn, MaxResults=1).get("Results", [])
            task: dict[str, Any] = dict(tasks[0]) if tasks else {"Status": "UNKNOWN", "TaskHandle": handle}
            if task.get("Status") in MOVE_TASK_FINAL:
                return task, True
            if time.monotonic() >= deadline:
                return task, False
            self._sleep(poll_s)

    def received(self, url: str, visibility: int) -> Iterator[list[dict[str, Any]]]:
        """Batches of messages received once each, hidden for `visibility` s; ends when none are new."""
        seen: set[str] = set()
        while True:
            new = [m for m in self._receive(url, SQS_MAX_BATCH, visibility) if m["MessageId"] not in seen]
            if not new:
                return
            seen.update(m["MessageId"] for m in new)
            yield new

    def delete(self, url: str, message: dict[str, Any]) -> None:
        self._sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def release(self, url: str, messages: list[dict[str, Any]]) -> None:
        self._release(url, messages)

    def send_bodies(self, url: str, bodies: list[str], *, delay_seconds: int | None) -> list[dict[str, Any]]:
        """Send each body; returns the entries SQS refused (with the body, code and message)."""
        refused: list[dict[str, Any]] = []
        for start in range(0, len(bodies), SQS_MAX_BATCH):
            chunk = bodies[start : start + SQS_MAX_BATCH]
            entries: list[Any] = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)]
            if delay_seconds is not None:
                for entry in entries:
                    entry["DelaySeconds"] = delay_seconds
            response = self._sqs.send_message_batch(QueueUrl=url, Entries=entries)
            for failed in response.get("Failed", []):
                refused.append(
                    {
                        "body": chunk[int(failed["Id"])],
                        "code": failed.get("Code", ""),
                        "message": failed.get("Message", ""),
                    }
                )
        return refused


def body_of(message: dict[str, Any]) -> Any:
    """The message body as JSON, or the raw text when it is not JSON."""
    text = message.get("Body", "")
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def _attribute(message: dict[str, Any], name: str) -> str | None:
    value = (message.get("MessageAttributes") or {}).get(name) or {}
    text = value.get("StringValue")
    return text if isinstance(text, str) else None


def reason_of(spec: QueueSpec, message: dict[str, Any]) -> str:
    """Why the message is in this queue, as one short line (grouped by `status` and `quarantine`)."""
    body = body_of(message)
    if spec.name == "rule-dlq":
        # EventBridge puts the reason in message attributes
        # (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
        return _attribute(message, "ERROR_CODE") or "no ERROR_CODE attribute"
    if spec.name in ("audit-schedule-dlq", "lookups-schedule-dlq"):
        # EventBridge Scheduler's dead-letter event: the invocation details and the target's answer
        # (https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html).
        return _attribute(message, "ERROR_CODE") or "the schedule could not start its execution"
    if spec.name == "failed-invocations" and isinstance(body, dict):
        # A Lambda on-failure destination record
        # (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
        condition = (body.get("requestContext") or {}).get("condition") or "?"
        error_type = (body.get("responsePayload") or {}).get("errorType")
        return f"{condition}: {error_type}" if error_type else str(condition)
    if isinstance(body, dict) and isinstance(body.get("reason"), str):
        return str(body["reason"])
    return NO_REASON


def replay_event(spec: QueueSpec, message: dict[str, Any]) -> tuple[Any, str | None]:
    """The EventBridge event a message of an ingest-side queue carries, or (None, why it cannot be)."""
    body = body_of(message)
    if spec.name == "rule-dlq":
        return (body, None) if isinstance(body, dict) else (None, "body is not an event")
    if not isinstance(body, dict):
        return None, "body is not JSON"
    if spec.name == "failed-invocations":
        payload = body.get("requestPayload")
        return (payload, None) if payload is not None else (None, "no requestPayload")
    if spec.name == "quarantine":
        if body.get("eventTruncated"):
            return None, "the event was truncated to fit the queue"
        return (body["event"], None) if "event" in body else (None, "no event in the body")
    return None, f"{spec.name} holds no events"


@dataclass
class ReplayResult:
    replayed: int = 0
    kept: Counter[str] = field(default_factory=Counter)  # why a message was left in the queue
    error: str | None = None


def replay_to_ingest(
    queues: Queues,
    lambda_client: LambdaClient,
    *,
    spec: QueueSpec,
    url: str,
    function_name: str,
    reason: str | None,
    limit: int | None,
) -> ReplayResult:
    """Invoke the ingest function asynchronously (InvocationType Event, as EventBridge does) with each
    message's event, deleting the message once Lambda accepted it.

    Messages that are filtered out or cannot be replayed stay hidden until the run ends (so the
    receives reach the rest of the queue) and are then made visible again; nothing is deleted before
    Lambda has its event.
    """
    result = ReplayResult()
    keep: list[dict[str, Any]] = []
    try:
        for batch in queues.received(url, REPLAY_VISIBILITY_SECONDS):
            for index, message in enumerate(batch):
                if result.error is not None or (limit is not None and result.replayed >= limit):
                    keep.extend(batch[index:])
                    break
                if reason is not None and reason_of(spec, message) != reason:
                    result.kept["other reason"] += 1
                    keep.append(message)
                    continue
                event, why_not = replay_event(spec, message)
                if why_not is not None:
                    result.kept[why_not] += 1
                    keep.append(message)
                    continue
                if _invoke(lambda_client, function_name, event, result):
                    queues.delete(url, message)
                    result.replayed += 1
                else:
                    keep.append(message)
            if result.error is not None or (limit is not None and result.replayed >= limit):
                break
    finally:
        queues.release(url, keep)
    return result


def _invoke(lambda_client: LambdaClient, function_name: str, event: Any, result: ReplayResult) -> bool:
    try:
        response = lambda_client.invoke(
            FunctionName=function_name, InvocationType="Event", Payload=json.dumps(event).encode("utf-8")
        )
    except ClientError as error:
        details = error.response.get("Error", {})
        result.error = (
            f"Lambda refused the invocation ({details.get('Code', '')}): {details.get('Message', '')}"
        )
        return False
    # Lambda answers an accepted asynchronous invocation with 202
    # (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).
    if response.get("StatusCode") != 202:
        result.kept[f"Lambda answered {response.get('StatusCode')}"] += 1
        return False
    return True
