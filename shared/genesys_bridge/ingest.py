"""The ingest service: one EventBridge event in, one buffer write (or one quarantine message) out.

Bad input never raises and is never dropped: it goes to the quarantine queue with its reason code,
because EventBridge would otherwise retry it for hours and then bury it in the on-failure destination
with no reason attached. AWS errors (throttling, timeouts) do raise: those are worth Lambda's retries.

A conversation can end again after the processor concluded its item (a messaging thread or an email
reopened, a callback that ran after the max age): an end event that happened after the item became
FETCHED or LEFT_OPEN makes ingest send the work-queue message itself and start a new round on the item,
since the pipe forwards INSERTs only (docs/design.md, "Ended again").
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from genesys_bridge import contracts
from genesys_bridge.buffer import BufferItem, BufferTable, parse_timestamp, utc_now
from genesys_bridge.events import (
    MAX_EVENT_DEPTH,
    ConversationEvent,
    InvalidEvent,
    InvalidReason,
    nesting_depth_exceeds,
    parse_event,
)
from genesys_bridge.metrics import COUNT, MetricName, MetricsSink
from genesys_bridge.work_queue import work_body

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

logger = logging.getLogger(__name__)

# SQS's classic message size limit. Queues may now allow more, but the quarantine queue's own
# MaximumMessageSize might still be this, and a quarantine that cannot take the message would turn
# bad input into an ingest failure.
SQS_MAX_MESSAGE_BYTES = 256 * 1024
# Room for SQS's own accounting and for message attributes someone may add later.
_QUARANTINE_HEADROOM_BYTES = 1024


class IngestOutcome(StrEnum):
    CREATED = "created"  # first event of the conversation: the item (and its one INSERT) is new
    DUPLICATE = "duplicate"  # the item existed: only lastEventAt changed
    ENDED_AGAIN = "ended_again"  # the item was concluded before this event happened: a fresh fetch queued
    QUARANTINED = "quarantined"


@dataclass(frozen=True, slots=True)
class IngestResult:
    outcome: IngestOutcome
    conversation_id: str | None = None
    reason: InvalidReason | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "conversationId": self.conversation_id,
            "reason": self.reason.value if self.reason else None,
        }


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _pruned(value: Any, levels: int) -> Any:
    """A copy of `value` with everything nested deeper than `levels` replaced by a marker string."""
    if isinstance(value, dict | list | tuple) and levels <= 0:
        return "<nested deeper: dropped>"
    if isinstance(value, dict):
        return {str(key): _pruned(child, levels - 1) for key, child in value.items()}
    if isinstance(value, list | tuple):
        return [_pruned(child, levels - 1) for child in value]
    return value


def quarantine_body(
    reason: InvalidReason, message: str, event: Any, limit: int = SQS_MAX_MESSAGE_BYTES
) -> str:
    """`{"reason", "message", "event"}`; when that does not fit `limit` bytes, the event is replaced by
    the longest prefix of its JSON text that fits, marked with eventTruncated and eventBytes. An event
    nested deeper than MAX_EVENT_DEPTH (which JSON encoding would recurse on) is kept down to that
    depth and marked eventPruned."""
    if nesting_depth_exceeds(event, MAX_EVENT_DEPTH):
        event = {"eventPruned": True, "event": _pruned(event, MAX_EVENT_DEPTH)}
    body = _dumps({"reason": reason.value, "message": message, "event": event})
    budget = limit - _QUARANTINE_HEADROOM_BYTES
    if len(body.encode("utf-8")) <= budget:
        return body
    event_text = _dumps(event)
    event_bytes = len(event_text.encode("utf-8"))

    def envelope(keep: int) -> str:
        return _dumps(
            {
                "reason": reason.value,
                "message": message,
                "event": event_text[:keep],
                "eventTruncated": True,
                "eventBytes": event_bytes,
            }
        )

    # JSON escaping makes the embedded text grow by a factor that depends on its content, so the
    # longest prefix that fits is found by bisection (about 20 encodings of at most `limit` bytes).
    low, high = 0, len(event_text)
    while low < high:
        middle = (low + high + 1) // 2
        if len(envelope(middle).encode("utf-8")) <= budget:
            low = middle
        else:
            high = middle - 1
    return envelope(low)


# The statuses of an item the processor is done with: an end event after it concluded is new work.
CONCLUDED_STATUSES = frozenset({contracts.STATUS_FETCHED, contracts.STATUS_LEFT_OPEN})


def event_time(event: ConversationEvent, arrived: datetime) -> datetime:
    """When the event happened: Genesys' `detail.timestamp`, never later than its arrival (a clock ahead
    of ours, or a made-up value, must not make an old event look new); its arrival without one."""
    if event.timestamp:
        try:
            return min(parse_timestamp(event.timestamp), arrived)
        except ValueError:
            pass
    return arrived


def ended_after_conclusion(previous: BufferItem, event: ConversationEvent, arrived: datetime) -> bool:
    """Did this end event happen after the processor concluded the item (FETCHED or LEFT_OPEN)? Then the
    conversation ended again. A redelivered copy of an earlier event keeps its own timestamp, so it does
    not count; an item concluded before concludedAt existed has none, and is left alone."""
    return (
        previous.status in CONCLUDED_STATUSES
        and previous.concluded_at is not None
        and event_time(event, arrived) > previous.concluded_at
    )


class IngestService:
    """Validates an event and buffers it; clients and metrics are passed in."""

    def __init__(
        self,
        buffer: BufferTable,
        sqs_client: SQSClient,
        quarantine_queue_url: str,
        metrics: MetricsSink,
        *,
        topics: frozenset[str],
        work_queue_url: str,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        """`topics`: the topic suffixes the environment subscribes to (settings CONVERSATION_TOPICS);
        `work_queue_url`: where a conversation that ended again is queued for a fresh fetch."""
        self._topics = topics
        self._buffer = buffer
        self._sqs = sqs_client
        self._quarantine_url = quarantine_queue_url
        self._work_queue_url = work_queue_url
        self._metrics = metrics
        self._clock = clock

    def handle(self, event: Any) -> IngestResult:
        self._metrics.add_metric(MetricName.EVENTS_RECEIVED, COUNT, 1)
        try:
            parsed = parse_event(event, self._topics)
        except InvalidEvent as invalid:
            return self._quarantine(invalid, event)

        arrived = self._clock()
        previous = self._buffer.record_event_and_get_previous(parsed.conversation_id, arrived)
        outcome = IngestOutcome.CREATED
        if previous is not None:
            self._metrics.add_metric(MetricName.DUPLICATE_EVENTS, COUNT, 1)
            outcome = IngestOutcome.DUPLICATE
            if ended_after_conclusion(previous, parsed, arrived):
                self._fetch_again(previous, arrived)
                outcome = IngestOutcome.ENDED_AGAIN
        logger.info(
            "conversation event buffered",
            extra={
                "conversation_id": parsed.conversation_id,
                "topic": parsed.topic,
                "first_event": previous is None,
                "outcome": outcome.value,
                "event_id": parsed.event_id,
                "correlation_id": parsed.correlation_id,
            },
        )
        return IngestResult(outcome=outcome, conversation_id=parsed.conversation_id)

    def _fetch_again(self, previous: BufferItem, arrived: datetime) -> None:
        """The conversation ended again after its item was concluded: queue a fresh fetch (the work
        queue's delivery delay lets analytics settle, as for a first fetch), then start the item's new
        round. Message first: if the item write fails, the event is retried and sends another message
        (landed idempotently); the other order could mark the item and lose the message."""
        assert previous.concluded_at is not None  # ended_after_conclusion checked it
        self._sqs.send_message(QueueUrl=self._work_queue_url, MessageBody=work_body(previous.conversation_id))
        requeued = self._buffer.requeue(previous.conversation_id, previous.concluded_at, arrived)
        self._metrics.add_metric(MetricName.CONVERSATIONS_ENDED_AGAIN, COUNT, 1)
        logger.info(
            "conversation ended again after its item concluded: fresh fetch queued",
            extra={
                "conversation_id": previous.conversation_id,
                "status": previous.status,
                "concluded_at": previous.concluded_at.isoformat(),
                "item_requeued": requeued,
            },
        )

    def _quarantine(self, invalid: InvalidEvent, event: Any) -> IngestResult:
        self._sqs.send_message(
            QueueUrl=self._quarantine_url,
            MessageBody=quarantine_body(invalid.reason, invalid.message, event),
        )
        self._metrics.add_metric(MetricName.EVENTS_QUARANTINED, COUNT, 1)
        logger.warning(
            "event quarantined",
            extra={"reason": invalid.reason.value, "detail": invalid.message},
        )
        return IngestResult(outcome=IngestOutcome.QUARANTINED, reason=invalid.reason)
