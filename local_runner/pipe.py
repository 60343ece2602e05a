"""The EventBridge Pipe between the buffer's stream and the work queue, as the local runner plays it.

``StreamPipe`` reads the buffer's stream from TRIM_HORIZON, collapses moto's double INSERT, applies the
stack's filter and input template, and sends to the work queue. The stack hands
``contracts.PIPE_FILTER_PATTERN`` and ``contracts.PIPE_INPUT_TEMPLATE`` to EventBridge Pipes; here the
very same objects are applied to moto's stream records (``transform``), so a change to either is
exercised locally. Only the pattern and template forms those two use are implemented; anything else
raises ``UnsupportedPipeSyntax`` instead of being half-applied.

A batch whose target put fails on every attempt (``TargetFaults``, make chaos) or holds a record the
template cannot render goes to the pipe DLQ as Pipes writes it there: a pointer into the stream
(local_runner.pipe_dlq), which the pipe DLQ function resolves back into work messages.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from genesys_bridge import contracts
from local_runner.aws import SQS_MAX_BATCH, LocalResources
from local_runner.aws_hooks import acting_as
from local_runner.pipe_dlq import TargetFaults, pipe_dlq_record


class UnsupportedPipeSyntax(ValueError):
    """The filter pattern or input template uses a form this stand-in does not implement."""


def matches_filter(pattern: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """EventBridge pattern matching as PIPE_FILTER_PATTERN uses it: top-level keys, each with a list of
    exact strings the record's value must equal (an absent key does not match)."""
    for key, allowed in pattern.items():
        if not isinstance(allowed, list) or not all(isinstance(value, str) for value in allowed):
            raise UnsupportedPipeSyntax(f"pattern at {key!r}: only a list of exact strings is implemented")
        if not isinstance(record.get(key), str) or record[key] not in allowed:
            return False
    return True


# "<$.a.b.c>" standing for a whole JSON string: the only placeholder form PIPE_INPUT_TEMPLATE uses.
_STRING_PLACEHOLDER = re.compile(r'"<\$\.([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)>"')


def render_input_template(template: str, record: Mapping[str, Any]) -> str:
    """Pipes' input transformation as PIPE_INPUT_TEMPLATE uses it: each quoted ``<$.path>`` becomes the
    record's string at that path, JSON-escaped. A path absent from the record (or not a string) raises
    KeyError or ValueError: Pipes dead-letters such a record."""
    if "<$" in _STRING_PLACEHOLDER.sub("", template):
        raise UnsupportedPipeSyntax(f"template {template!r}: only quoted <$.a.b> paths are implemented")

    def value(found: re.Match[str]) -> str:
        current: Any = record
        for key in found.group(1).split("."):
            if not isinstance(current, Mapping) or key not in current:
                raise KeyError(f"$.{found.group(1)} is not in the record")
            current = current[key]
        if not isinstance(current, str):
            raise ValueError(f"$.{found.group(1)} is not a string")
        return json.dumps(current)

    rendered = _STRING_PLACEHOLDER.sub(value, template)
    json.loads(rendered)  # Pipes refuses a template whose output is not valid JSON; so does this
    return rendered


def transform(record: Mapping[str, Any]) -> str | None:
    """The work-queue body the stack's pipe sends for a stream record, or None when its filter drops it."""
    if not matches_filter(contracts.PIPE_FILTER_PATTERN, record):
        return None
    return render_input_template(contracts.PIPE_INPUT_TEMPLATE, record)


# DynamoDB Streams GetRecords returns at most 1000 records.
STREAM_LIMIT = 1000
# How often the idle reader polls moto: short enough not to add latency, long enough not to burn a core.
IDLE_POLL_S = 0.05


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


@dataclass
class PipeTally:
    polls: int = 0
    records_read: int = 0
    filtered_out: int = 0
    forwarded: int = 0
    failures: int = 0  # records the template could not render (each dead-lettered as a pointer)
    collapsed: int = 0
    dead_lettered_batches: int = 0  # batches whose target put failed every attempt (TargetFaults)
    dead_lettered_conversations: int = 0  # the conversations those batches carried


class StreamPipe(threading.Thread):
    """The EventBridge Pipe: stream source, filter, input template, SQS target, DLQ for bad records."""

    def __init__(
        self,
        *,
        streams: Any,
        sqs: Any,
        resources: LocalResources,
        pipe_dlq_url: str,
        batch_size: int,
        target_faults: TargetFaults | None = None,
        pipe_arn: str = "arn:aws:pipes:local:000000000000:pipe/buffer-to-work-queue",
    ) -> None:
        super().__init__(name="pipe", daemon=True)
        self.streams = streams
        self.sqs = sqs
        self.resources = resources
        self.pipe_dlq_url = pipe_dlq_url
        self.batch_size = max(1, min(batch_size, SQS_MAX_BATCH))
        self.target_faults = target_faults
        self.pipe_arn = pipe_arn
        self.shard_id = ""
        # Sequence number -> key of every INSERT read, moto's key-only ones included (see _may_fail).
        self._inserts: dict[int, str] = {}
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
        self.shard_id = shard
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
            for record in records:
                if record.get("eventName") == "INSERT":
                    self._inserts[_sequence_number(record)] = _key_of(record)
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
        for start in range(0, len(records), self.batch_size):
            self._deliver_batch(records[start : start + self.batch_size])

    def _deliver_batch(self, batch: list[dict[str, Any]]) -> None:
        bodies: list[str] = []
        for record in batch:
            try:
                body = transform(record)
            except UnsupportedPipeSyntax:
                raise
            except (KeyError, ValueError):
                # Pipes bisects the batch down to this record and dead-letters it alone.
                self.tally.failures += 1
                self._dead_letter([record])
                continue
            if body is None:
                self.tally.filtered_out += 1
                continue
            bodies.append(body)
        if not bodies:
            return
        if self.target_faults is not None and self._may_fail(batch) and self.target_faults.batch_fails():
            # The target put failed on every attempt: Pipes writes the batch's pointer to its DLQ.
            self.tally.dead_lettered_batches += 1
            self.tally.dead_lettered_conversations += len(bodies)
            self._dead_letter(batch)
            return
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies)]
        response = self.sqs.send_message_batch(QueueUrl=self.resources.work_queue_url, Entries=entries)
        failed = response.get("Failed", [])
        if failed:  # moto does not fail entries; AWS may, and Pipes retries them
            raise RuntimeError(f"work queue refused {len(failed)} messages: {failed[:1]}")
        self.tally.forwarded += len(bodies)

    def _may_fail(self, batch: list[dict[str, Any]]) -> bool:
        """Whether the batch's pointer covers only its own conversations' INSERTs in moto's stream.

        The pipe DLQ function reads the pointer's whole sequence range, which in moto also holds the
        key-only INSERT moto writes before each new item (InsertCollapser). When such a record of a
        conversation delivered in another batch falls inside the range, the function would send that
        conversation a second time, which AWS would not: such a batch is not chosen to fail.
        """
        keys = {_key_of(record) for record in batch}
        numbers = [_sequence_number(record) for record in batch]
        low, high = min(numbers), max(numbers)
        return all(key in keys for number, key in self._inserts.items() if low <= number <= high)

    def _dead_letter(self, batch: list[dict[str, Any]]) -> None:
        ordered = sorted(batch, key=_sequence_number)  # the collapser may release a held record late
        self.sqs.send_message(
            QueueUrl=self.pipe_dlq_url,
            MessageBody=pipe_dlq_record(
                ordered,
                stream_arn=self.resources.stream_arn,
                shard_id=self.shard_id,
                pipe_arn=self.pipe_arn,
            ),
        )


def _sequence_number(record: Mapping[str, Any]) -> int:
    return int(record["dynamodb"]["SequenceNumber"])
