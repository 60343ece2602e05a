"""The EventBridge Pipe between the buffer's stream and the work queue, as the local runner plays it.

``StreamPipe`` reads the buffer's stream from TRIM_HORIZON, collapses moto's double INSERT, applies the
stack's filter and input template, and sends to the work queue. The stack hands
``contracts.PIPE_FILTER_PATTERN`` and ``contracts.PIPE_INPUT_TEMPLATE`` to EventBridge Pipes; here the
very same objects are applied to moto's stream records, so a change to either is exercised locally.
Only the pattern and template forms the project uses are implemented; anything else raises
``UnsupportedPipeSyntax`` so a richer pattern fails loudly instead of being half-applied.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local_runner.aws import SQS_MAX_BATCH, LocalResources
from local_runner.aws_hooks import acting_as

# DynamoDB Streams GetRecords returns at most 1000 records.
STREAM_LIMIT = 1000
# How often the idle reader polls moto: short enough not to add latency, long enough not to burn a core.
IDLE_POLL_S = 0.05


class UnsupportedPipeSyntax(ValueError):
    """The filter pattern or input template uses a form this evaluator does not implement."""


_SCALARS = (str, int, float, bool, type(None))


def matches_filter(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """EventBridge event-pattern matching for nested objects and lists of exact values.

    A key maps either to an object (match recursively against the event's object at that key) or to
    a list of allowed scalar values (the event's value must equal one of them; an event list matches
    when any of its elements does). A key absent from the event does not match.
    """
    for key, expected in pattern.items():
        if key not in event:
            return False
        actual = event[key]
        if isinstance(expected, Mapping):
            if not isinstance(actual, Mapping) or not matches_filter(expected, actual):
                return False
        elif isinstance(expected, list):
            if not all(isinstance(value, _SCALARS) for value in expected):
                # {"prefix": ...}, {"exists": ...}, numeric ranges and the like
                raise UnsupportedPipeSyntax(f"content filter in pattern at {key!r}: {expected!r}")
            candidates = actual if isinstance(actual, list) else [actual]
            if not any(_same_value(candidate, value) for candidate in candidates for value in expected):
                return False
        else:
            raise UnsupportedPipeSyntax(f"pattern value at {key!r} must be an object or a list")
    return True


def _same_value(actual: Any, expected: Any) -> bool:
    # EventBridge compares exact JSON values: True is not 1, "1" is not 1.
    return type(actual) is type(expected) and actual == expected


# <$.a.b.c> with dot-separated plain keys: the only path form the project's template uses.
_PLACEHOLDER = re.compile(r"<\$((?:\.[A-Za-z0-9_-]+)+)>")
_ANY_PLACEHOLDER = re.compile(r"<\$[^>]*>")


def _resolve(event: Mapping[str, Any], path: str) -> Any:
    value: Any = event
    for key in path.strip(".").split("."):
        if not isinstance(value, Mapping) or key not in value:
            raise KeyError(f"$.{path.strip('.')} is not in the event")
        value = value[key]
    return value


def render_input_template(template: str, event: Mapping[str, Any]) -> str:
    """EventBridge Pipes input transformation: replace each ``<$.path>`` with the event's value.

    Inside a JSON string (between quotes) the value is inserted as string content, JSON-escaped;
    outside quotes it is inserted as JSON. A path absent from the event raises KeyError (Pipes would
    send the record to the pipe's DLQ; the runner counts it as a pipe failure).
    """
    for found in _ANY_PLACEHOLDER.finditer(template):
        if not _PLACEHOLDER.fullmatch(found.group(0)):
            raise UnsupportedPipeSyntax(f"template path {found.group(0)!r}")
    out: list[str] = []
    position = 0
    for found in _PLACEHOLDER.finditer(template):
        prefix = template[position : found.start()]
        out.append(prefix)
        value = _resolve(event, found.group(1))
        if _inside_string("".join(out)):
            text = value if isinstance(value, str) else json.dumps(value)
            out.append(json.dumps(text)[1:-1])
        else:
            out.append(json.dumps(value))
        position = found.end()
    out.append(template[position:])
    rendered = "".join(out)
    json.loads(rendered)  # Pipes refuses a template whose output is not valid JSON; so does the runner
    return rendered


def _inside_string(text: str) -> bool:
    inside = False
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            inside = not inside
    return inside


def _key_of(record: Mapping[str, Any]) -> str:
    return json.dumps(record.get("dynamodb", {}).get("Keys", {}), sort_keys=True)


@dataclass
class InsertCollapser:
    """Undo a moto artefact so the pipe sees the records real DynamoDB Streams would emit.

    moto 5 serves an UpdateItem that creates an item as a put of the bare key followed by the
    update, and records each as a stream INSERT: a first INSERT whose NewImage is only the key, then a
    second INSERT with the full image. Real DynamoDB emits one INSERT. A key-only INSERT is therefore
    held back until the next record for that key: when that is another INSERT, the key-only one is
    the artefact and is dropped. Because a reader can poll between moto's two appends, a held record
    waits for one further poll before it is released as a genuine INSERT. As a safety net, an INSERT
    for a key that already had an INSERT and no REMOVE since is also dropped (impossible on AWS).
    """

    collapsed: int = 0
    _held: dict[str, tuple[dict[str, Any], int]] = field(default_factory=dict)
    _live: set[str] = field(default_factory=set)
    _polls: int = 0

    def feed(self, records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Records of one GetRecords call in, the records the pipe should see out (in order)."""
        self._polls += 1
        out: list[dict[str, Any]] = []
        for record in records:
            key = _key_of(record)
            name = record.get("eventName")
            image = record.get("dynamodb", {}).get("NewImage")
            keys = record.get("dynamodb", {}).get("Keys")
            if name == "INSERT":
                if key in self._held:
                    del self._held[key]
                    self.collapsed += 1
                elif key in self._live:
                    self.collapsed += 1
                    continue
                elif image is not None and image == keys:
                    self._held[key] = (record, self._polls)
                    continue
                self._live.add(key)
                out.append(record)
                continue
            if key in self._held:
                out.append(self._held.pop(key)[0])
                self._live.add(key)
            if name == "REMOVE":
                self._live.discard(key)
            out.append(record)
        for key, (record, poll) in list(self._held.items()):
            if poll < self._polls:
                out.append(record)
                del self._held[key]
                self._live.add(key)
        return out

    @property
    def has_held(self) -> bool:
        return bool(self._held)

    def flush(self) -> list[dict[str, Any]]:
        """Release every held record (the stream is drained and nothing else will follow)."""
        out = [record for record, _ in self._held.values()]
        self._live.update(self._held)
        self._held.clear()
        return out


@dataclass(frozen=True)
class PipeDefinition:
    """The filter and template of one pipe; the runner builds it from genesys_bridge.contracts."""

    filter_pattern: Mapping[str, Any]
    input_template: str

    def transform(self, record: Mapping[str, Any]) -> str | None:
        """The target message body for a stream record, or None when the filter drops it."""
        if not matches_filter(self.filter_pattern, record):
            return None
        return render_input_template(self.input_template, record)


@dataclass
class PipeTally:
    polls: int = 0
    records_read: int = 0
    filtered_out: int = 0
    forwarded: int = 0
    failures: int = 0
    collapsed: int = 0


class StreamPipe(threading.Thread):
    """The EventBridge Pipe: stream source, filter, input template, SQS target, DLQ for bad records."""

    def __init__(
        self,
        *,
        streams: Any,
        sqs: Any,
        resources: LocalResources,
        definition: PipeDefinition,
        pipe_dlq_url: str,
        batch_size: int,
    ) -> None:
        super().__init__(name="pipe", daemon=True)
        self.streams = streams
        self.sqs = sqs
        self.resources = resources
        self.definition = definition
        self.pipe_dlq_url = pipe_dlq_url
        self.batch_size = max(1, min(batch_size, SQS_MAX_BATCH))
        self.collapser = InsertCollapser()
        self.tally = PipeTally()
        self.stop_requested = threading.Event()
        self.caught_up = threading.Event()  # the last poll found nothing new and nothing is held
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with acting_as("pipe"):
                self._run()
        except BaseException as error:  # noqa: BLE001 - reported by the runner
            self.error = error

    def _run(self) -> None:
        arn = self.resources.stream_arn
        shard = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = self.streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while True:
            stopping = self.stop_requested.is_set()
            response = self.streams.get_records(ShardIterator=iterator, Limit=STREAM_LIMIT)
            iterator = response["NextShardIterator"]
            records = response.get("Records", [])
            self.tally.polls += 1
            self.tally.records_read += len(records)
            out = self.collapser.feed(records)
            if stopping:
                out += self.collapser.flush()
            self.tally.collapsed = self.collapser.collapsed
            self._deliver(out)
            if not records and not self.collapser.has_held:
                self.caught_up.set()
                if stopping:
                    return
                time.sleep(IDLE_POLL_S)
            else:
                self.caught_up.clear()

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        bodies: list[str] = []
        for record in records:
            try:
                body = self.definition.transform(record)
            except (KeyError, ValueError) as error:
                self.tally.failures += 1
                self.sqs.send_message(
                    QueueUrl=self.pipe_dlq_url,
                    MessageBody=json.dumps({"error": str(error), "record": record}, default=str),
                )
                continue
            if body is None:
                self.tally.filtered_out += 1
                continue
            bodies.append(body)
        for start in range(0, len(bodies), self.batch_size):
            chunk = bodies[start : start + self.batch_size]
            entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)]
            response = self.sqs.send_message_batch(QueueUrl=self.resources.work_queue_url, Entries=entries)
            failed = response.get("Failed", [])
            if failed:  # moto does not fail entries; AWS may, and Pipes retries them
                raise RuntimeError(f"work queue refused {len(failed)} messages: {failed[:1]}")
            self.tally.forwarded += len(chunk)
