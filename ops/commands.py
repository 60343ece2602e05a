"""The ops commands. Each returns a JSON-able result; ops.render turns it into text for a person."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from genesys_bridge import contracts, layout
from genesys_bridge.buffer import BufferTable
from ops.errors import CommandFailed, OpsError
from ops.queues import Queues, body_of, reason_of, replay_to_ingest
from ops.stack import (
    QUEUES,
    REDRIVE_ALIASES,
    REDRIVE_TARGETS,
    Bridge,
    QueueSpec,
    Redrive,
    queue_spec,
)

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

# How many messages of each dead-letter queue `status` reads to group the reasons.
DEFAULT_SAMPLE = 100
# A sample event of `quarantine` is cut to this many characters of JSON.
SAMPLE_CHARS = 600
# SQS's per-message delay bounds (DelaySeconds).
MAX_DELAY_SECONDS = 900


@dataclass
class Clients:
    sqs: SQSClient
    dynamodb: DynamoDBClient
    s3: S3Client
    cloudwatch: CloudWatchClient
    lambda_: LambdaClient


class Ops:
    """The commands against one deployed bridge; clients are passed in (moto in tests)."""

    def __init__(self, bridge: Bridge, clients: Clients, *, receive_wait_seconds: int = 1) -> None:
        self.bridge = bridge
        self.clients = clients
        self.queues = Queues(clients.sqs, wait_seconds=receive_wait_seconds)

    # -- status ----------------------------------------------------------------------------------

    def status(self, *, sample: int = DEFAULT_SAMPLE) -> dict[str, Any]:
        """Every queue's depth, the reasons in each dead-letter queue (sampled), the alarms in ALARM."""
        queues: list[dict[str, Any]] = []
        for spec in QUEUES:
            if not self.bridge.has_queue(spec.name):
                queues.append({"name": spec.name, "holds": spec.holds, "missing": True})
                continue
            url = self.bridge.queue_url(spec.name)
            depth = self.queues.depth(url)
            entry: dict[str, Any] = {
                "name": spec.name,
                "holds": spec.holds,
                "dead_letter": not spec.consumed,
                **depth.as_dict(),
            }
            if not spec.consumed and depth.visible and sample > 0:
                messages = self.queues.sample(url, sample)
                entry["sampled"] = len(messages)
                entry["reasons"] = dict(Counter(reason_of(spec, m) for m in messages).most_common())
            queues.append(entry)
        return {
            "stack": self.bridge.stack_name,
            "stack_status": self.bridge.status,
            "queues": queues,
            "alarms": self.alarms_in_alarm(),
        }

    def alarms_in_alarm(self) -> list[dict[str, Any]]:
        """The stack's alarms in ALARM: those that notify its alarm topic or carry its name."""
        topic = self.bridge.outputs.get(contracts.OUTPUT_ALARM_TOPIC_ARN)
        found: list[dict[str, Any]] = []
        paginator = self.clients.cloudwatch.get_paginator("describe_alarms")
        for page in paginator.paginate(StateValue="ALARM", AlarmTypes=["MetricAlarm", "CompositeAlarm"]):
            for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                name = alarm.get("AlarmName", "")
                ours = (topic is not None and topic in alarm.get("AlarmActions", [])) or name.startswith(
                    f"{self.bridge.stack_name}-"
                )
                if ours:
                    since = alarm.get("StateUpdatedTimestamp")
                    found.append(
                        {
                            "name": name,
                            "description": alarm.get("AlarmDescription", ""),
                            "since": since.isoformat() if isinstance(since, datetime) else None,
                            "reason": alarm.get("StateReason", ""),
                        }
                    )
        return found

    # -- redrive ---------------------------------------------------------------------------------

    def redrive(
        self,
        target: str,
        *,
        wait_s: float = 60.0,
        reason: str | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        """Empty a dead-letter queue back into the pipeline, with its depths before and after."""
        spec = redrive_spec(target, reason=reason, limit=limit)
        if spec.redrive is Redrive.MOVE_TO_SOURCE:
            return self._move_back(spec, wait_s)
        return self._replay(spec, reason=reason, limit=limit)

    def _move_back(self, spec: QueueSpec, wait_s: float) -> dict[str, Any]:
        assert spec.source is not None
        names = [spec.name, spec.source]
        urls = {name: self.bridge.queue_url(name) for name in names}
        before = {name: self.queues.depth(url).as_dict() for name, url in urls.items()}
        result: dict[str, Any] = {
            "queue": spec.name,
            "to": spec.source,
            "how": "SQS message move task back to the source queue",
            "before": before,
        }
        if before[spec.name]["visible"] == 0:
            result.update(moved=0, finished=True, task=None, after=before)
            return result
        task, finished = self.queues.move_back(urls[spec.name], wait_s=wait_s)
        result.update(
            task={key: value for key, value in task.items() if key != "SourceArn"},
            moved=int(task.get("ApproximateNumberOfMessagesMoved", 0)),
            finished=finished,
            after={name: self.queues.depth(url).as_dict() for name, url in urls.items()},
        )
        if task.get("Status") == "FAILED":
            raise CommandFailed(f"the move task from {spec.name} failed: {task.get('FailureReason', '?')}")
        return result

    def _replay(self, spec: QueueSpec, *, reason: str | None, limit: int | None) -> dict[str, Any]:
        url = self.bridge.queue_url(spec.name)
        function = self.bridge.output(contracts.OUTPUT_INGEST_FUNCTION_NAME)
        before = self.queues.depth(url).as_dict()
        replay = replay_to_ingest(
            self.queues,
            self.clients.lambda_,
            spec=spec,
            url=url,
            function_name=function,
            reason=reason,
            limit=limit,
        )
        result = {
            "queue": spec.name,
            "to": function,
            "how": "each event invoked into the ingest function (asynchronously, as EventBridge does)",
            "before": {spec.name: before},
            "replayed": replay.replayed,
            "kept": dict(replay.kept),
            "after": {spec.name: self.queues.depth(url).as_dict()},
        }
        if replay.error is not None:
            raise CommandFailed(f"{replay.error} (replayed {replay.replayed} before that)")
        return result

    # -- refetch ---------------------------------------------------------------------------------

    def refetch(self, conversation_ids: Sequence[str], *, delay_seconds: int | None = None) -> dict[str, Any]:
        """Put each conversation on the work queue; the processor fetches and lands it again."""
        if delay_seconds is not None and not 0 <= delay_seconds <= MAX_DELAY_SECONDS:
            raise OpsError(f"--delay must be 0 to {MAX_DELAY_SECONDS} seconds (SQS's limit)")
        url = self.bridge.queue_url("work")
        bodies = [json.dumps({"conversationId": cid}) for cid in conversation_ids]
        refused = self.queues.send_bodies(url, bodies, delay_seconds=delay_seconds)
        if refused:
            listed = ", ".join(f"{json.loads(r['body'])['conversationId']} ({r['code']})" for r in refused)
            raise CommandFailed(
                f"the work queue refused {len(refused)} of {len(bodies)} ids (the rest were sent): {listed}"
            )
        return {"queue": "work", "sent": len(bodies)}

    # -- quarantine ------------------------------------------------------------------------------

    def quarantine(self, *, limit: int = 1000) -> dict[str, Any]:
        """The quarantined events grouped by reason, with one sample (message and event) per reason."""
        spec = queue_spec("quarantine")
        url = self.bridge.queue_url(spec.name)
        depth = self.queues.depth(url)
        messages = self.queues.sample(url, limit) if depth.visible else []
        groups: dict[str, dict[str, Any]] = {}
        for message in messages:
            reason = reason_of(spec, message)
            group = groups.setdefault(reason, {"count": 0, "sample": _quarantine_sample(message)})
            group["count"] += 1
        ordered = dict(sorted(groups.items(), key=lambda item: -int(item[1]["count"])))
        return {"queue": spec.name, **depth.as_dict(), "sampled": len(messages), "reasons": ordered}

    # -- conversation ----------------------------------------------------------------------------

    def conversation(self, conversation_id: str, *, on_date: date | None = None) -> dict[str, Any]:
        """Where one conversation stands: its buffer item, and the landed object's key and metadata."""
        [conversation_id] = parse_ids([("argument", conversation_id)])
        table = self.bridge.output(contracts.OUTPUT_BUFFER_TABLE_NAME)
        bucket = self.bridge.output(contracts.OUTPUT_RESULTS_BUCKET_NAME)
        item = BufferTable(self.clients.dynamodb, table).get(conversation_id)
        result: dict[str, Any] = {"conversationId": conversation_id, "item": None, "object": None}
        key: str | None = None
        if item is not None:
            result["item"] = {
                "status": item.status,
                "firstEventAt": item.first_event_at.isoformat() if item.first_event_at else None,
                "lastEventAt": item.last_event_at.isoformat() if item.last_event_at else None,
                "expiresAt": (
                    datetime.fromtimestamp(item.expires_at, tz=UTC).isoformat() if item.expires_at else None
                ),
                "resultKey": item.result_key,
                "error": item.error,
                "concludedAt": item.concluded_at.isoformat() if item.concluded_at else None,
                "requeues": item.requeues,
            }
            key = item.result_key
        if key is None and on_date is not None:
            # The key is derived from the conversation's start date and its id (genesys_bridge.layout).
            key = layout.ConversationKey(on_date, conversation_id).key
        result["lookedUp"] = key
        if key is not None:
            result["object"] = self._head(bucket, key)
        return result

    def _head(self, bucket: str, key: str) -> dict[str, Any] | None:
        try:
            head = self.clients.s3.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        modified = head.get("LastModified")
        return {
            "bucket": bucket,
            "key": key,
            "size": head.get("ContentLength"),
            "lastModified": modified.isoformat() if isinstance(modified, datetime) else None,
            "contentType": head.get("ContentType"),
            "versionId": head.get("VersionId"),
            "etag": head.get("ETag"),
            "metadata": head.get("Metadata", {}),
        }


def _quarantine_sample(message: dict[str, Any]) -> dict[str, Any]:
    body = body_of(message)
    if not isinstance(body, dict):
        return {"message": None, "event": str(body)[:SAMPLE_CHARS]}
    event = body.get("event")
    text = event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)
    return {
        "message": body.get("message"),
        "event": text[:SAMPLE_CHARS] + ("..." if len(text) > SAMPLE_CHARS else ""),
        "truncated": bool(body.get("eventTruncated")),
    }


def redrive_spec(target: str, *, reason: str | None = None, limit: int | None = None) -> QueueSpec:
    """The queue `redrive target` empties; OpsError if it cannot be redriven, or not with these filters."""
    if target not in REDRIVE_TARGETS:
        raise OpsError(f"cannot redrive {target!r}; redrive one of: {', '.join(REDRIVE_TARGETS)}")
    spec = queue_spec(REDRIVE_ALIASES.get(target, target))
    if spec.redrive is Redrive.MOVE_TO_SOURCE and (reason is not None or limit is not None):
        raise OpsError(f"{spec.name} is redriven whole by SQS: --reason and --limit do not apply")
    return spec


def parse_ids(values: Iterable[tuple[str, str]]) -> list[str]:
    """Conversation ids (each a whole UUID, case-insensitive), lower-cased, each once, in order.

    `values` are (where, text) pairs: the place names a bad id in the error. Raises OpsError listing
    every bad id, so nothing is sent when any is wrong.
    """
    ids: dict[str, None] = {}
    bad: list[str] = []
    for where, text in values:
        value = text.strip()
        if layout.is_uuid(value):
            ids.setdefault(value.lower())
        else:
            bad.append(f"{where}: {text!r}")
    if bad:
        raise OpsError("not a conversation id (a UUID): " + "; ".join(bad))
    return list(ids)


def ids_from_file(path: Path) -> list[tuple[str, str]]:
    """(where, id) of each line of `path` that is not blank or a # comment."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise OpsError(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise OpsError(
            f"cannot read {path}: byte {error.start + 1} is not UTF-8 text (a file of ids, one per line)"
        ) from None
    return [
        (f"{path}:{number}", line.strip())
        for number, line in enumerate(lines, start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
