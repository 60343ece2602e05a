"""The Genesys conversation event as EventBridge hands it to the ingest function, and its validation.

Everything that can be wrong with an input maps to one `InvalidReason`, so the ingest service chooses
its outcome (and operators filter the quarantine queue) by a code, never by matching message text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from genesys_bridge import contracts
from genesys_bridge.layout import UUID_PATTERN, is_uuid

# EventBridge refuses entries above 256 KB, so anything larger did not come through a real bus.
MAX_EVENT_BYTES = 256 * 1024
# A Genesys conversation event nests a handful of levels; measuring or copying a far deeper one would
# recurse into a RecursionError (Python's default limit is 1000 frames), so it is refused first.
MAX_EVENT_DEPTH = 64

# Every pattern here is anchored with \A and \Z (never `$`, which also matches before a final newline),
# so .match and .fullmatch alike accept only the whole string; [0-9a-fA-F] is ASCII only.
UUID_RE = re.compile(rf"\A{UUID_PATTERN}\Z")
"""A conversation id as Genesys writes it (hyphenated; matched case-insensitively, stored lower-case)."""
# detail-type is the topic template, e.g. "v2.detail.events.conversation.{id}.customer.end".
_DETAIL_TYPE_RE = re.compile(r"\Av2\.detail\.events\.conversation\.\{id\}\.(?P<topic>[A-Za-z0-9_.-]+)\Z")
# detail.topicName is the concrete topic with the conversation id in place of "{id}".
_TOPIC_NAME_RE = re.compile(
    r"\Av2\.detail\.events\.conversation\.(?P<id>[^.]+)\.(?P<topic>[A-Za-z0-9_.-]+)\Z"
)
_TOPIC_SUFFIX_RE = re.compile(rf"\A{contracts.TOPIC_SUFFIX_PATTERN}\Z")
# Topics that mark the end of a conversation or of a participant's part in it (customer.end,
# user.end, acd.end ...) or its wrap-up (acw); docs/genesys-api.md, "EventBridge integration".
_END_TOPIC_RE = re.compile(r"\A(?:[a-z]+\.)*end\Z|\Aacw\Z")


def check_topics(topics: Iterable[str]) -> frozenset[str]:
    """The topic suffixes an environment subscribes to, validated once for the stack's config
    (`topics`) and the ingest function's CONVERSATION_TOPICS; ValueError naming the first bad entry (an
    empty one, spaces, upper case, a trailing newline...) or a repeated one."""
    entries = list(topics)
    for entry in entries:
        if not isinstance(entry, str) or _TOPIC_SUFFIX_RE.fullmatch(entry) is None:
            raise ValueError(
                f"topic {str(entry)[:100]!r} is not a topic suffix such as 'customer.end' or 'acw'"
            )
    if len(set(entries)) != len(entries):
        raise ValueError("topics must not repeat")
    return frozenset(entries)


def parse_topics(text: str) -> frozenset[str]:
    """The topic suffixes of a comma-separated list such as "customer.end,acw" (check_topics)."""
    try:
        return check_topics(text.split(","))
    except ValueError as error:
        raise ValueError(f"{error} (comma-separated, no spaces)") from None


def nesting_depth_exceeds(value: Any, limit: int) -> bool:
    """True if `value` nests dicts and lists more than `limit` levels deep; iterative, so a hostile
    depth cannot exhaust the stack, and it stops at the first too-deep branch."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict):
            children: Any = current.values()
        elif isinstance(current, list | tuple):
            children = current
        else:
            continue
        if depth + 1 > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class InvalidReason(StrEnum):
    """Why an input was quarantined; the value is the machine-readable code written to the queue."""

    NOT_AN_OBJECT = "not_an_object"
    TOO_DEEP = "too_deep"
    TOO_LARGE = "too_large"
    NO_DETAIL = "no_detail"
    WRONG_TYPES = "wrong_types"
    UNKNOWN_DETAIL_TYPE = "unknown_detail_type"
    UNKNOWN_TOPIC = "unknown_topic"
    NO_CONVERSATION_ID = "no_conversation_id"
    INVALID_CONVERSATION_ID = "invalid_conversation_id"
    CONVERSATION_ID_MISMATCH = "conversation_id_mismatch"
    TOPIC_MISMATCH = "topic_mismatch"  # detail.topicName's topic differs from detail-type's
    NOT_AN_END_TOPIC = "not_an_end_topic"  # e.g. customer.start, when the environment does not subscribe it
    UNSUBSCRIBED_TOPIC = "unsubscribed_topic"  # an end topic this environment does not subscribe to


class InvalidEvent(Exception):
    """The input is not a usable Genesys conversation event."""

    def __init__(self, reason: InvalidReason, message: str) -> None:
        super().__init__(f"{reason.value}: {message}")
        self.reason = reason
        self.message = message


class _EventBody(BaseModel):
    # Genesys adds fields over time; only the id matters here.
    model_config = ConfigDict(extra="allow", strict=True)

    conversationId: str | None = None  # Genesys field name


class _Detail(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    topicName: str | None = None  # Genesys field name
    eventBody: _EventBody | None = None  # Genesys field name
    # Carried for logs only: a surprising type here is no reason to quarantine a usable event.
    timestamp: Any = None
    metadata: Any = None


class _EventBridgeEvent(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, populate_by_name=True)

    id: str | None = None
    detail_type: str = Field(alias="detail-type")
    source: str | None = None
    time: str | None = None
    detail: _Detail


@dataclass(frozen=True, slots=True)
class ConversationEvent:
    """A valid conversation event, reduced to what the bridge uses."""

    conversation_id: str  # canonical lower-case UUID
    topic: str  # the topic suffix, e.g. "customer.end" or "acw"
    event_id: str | None  # EventBridge's id: the same for a redelivered event
    timestamp: str | None  # detail.timestamp as Genesys sent it
    correlation_id: str | None


def event_size(event: Any) -> int:
    """Size in bytes of the event as JSON, the measure EventBridge's 256 KB limit applies to."""
    return len(json.dumps(event, separators=(",", ":"), default=str).encode("utf-8"))


def _canonical_uuid(value: str, where: str) -> str:
    if not is_uuid(value):
        raise InvalidEvent(InvalidReason.INVALID_CONVERSATION_ID, f"{where} is not a UUID")
    return value.lower()


def _describe_validation_error(error: ValidationError) -> str:
    # For the operator reading the quarantine queue; the outcome is already decided (WRONG_TYPES).
    parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()[:5]]
    return "; ".join(parts)


def parse_event(event: Any, topics: frozenset[str] | None = None) -> ConversationEvent:
    """Validate a raw EventBridge event and extract the conversation id, or raise InvalidEvent.

    `topics` are the topic suffixes the environment subscribes to; None accepts any conversation topic.
    """
    if not isinstance(event, dict):
        raise InvalidEvent(InvalidReason.NOT_AN_OBJECT, f"expected a JSON object, got {type(event).__name__}")
    if nesting_depth_exceeds(event, MAX_EVENT_DEPTH):
        raise InvalidEvent(InvalidReason.TOO_DEEP, f"event nests more than {MAX_EVENT_DEPTH} levels deep")
    size = event_size(event)
    if size > MAX_EVENT_BYTES:
        raise InvalidEvent(InvalidReason.TOO_LARGE, f"event is {size} bytes, limit {MAX_EVENT_BYTES}")
    if event.get("detail") is None:
        raise InvalidEvent(InvalidReason.NO_DETAIL, "event has no detail")
    try:
        parsed = _EventBridgeEvent.model_validate(event)
    except ValidationError as error:
        raise InvalidEvent(InvalidReason.WRONG_TYPES, _describe_validation_error(error)) from None

    type_match = _DETAIL_TYPE_RE.match(parsed.detail_type)
    if type_match is None:
        raise InvalidEvent(
            InvalidReason.UNKNOWN_DETAIL_TYPE,
            f"detail-type {parsed.detail_type[:200]!r} is not a conversation detail event",
        )
    topic = type_match.group("topic")
    if topics is not None and topic not in topics:
        subscribed = ", ".join(sorted(topics))
        if _END_TOPIC_RE.fullmatch(topic) is None:
            raise InvalidEvent(
                InvalidReason.NOT_AN_END_TOPIC,
                f"topic {topic[:100]!r} does not end a conversation; subscribed: {subscribed}",
            )
        raise InvalidEvent(
            InvalidReason.UNSUBSCRIBED_TOPIC,
            f"topic {topic[:100]!r} is not one this environment subscribes to ({subscribed})",
        )

    detail = parsed.detail
    topic_id: str | None = None
    if detail.topicName is not None:
        topic_match = _TOPIC_NAME_RE.match(detail.topicName)
        if topic_match is None:
            raise InvalidEvent(
                InvalidReason.UNKNOWN_TOPIC,
                f"topicName {detail.topicName[:200]!r} is not a conversation detail topic",
            )
        if topic_match.group("topic") != topic:
            raise InvalidEvent(
                InvalidReason.TOPIC_MISMATCH,
                f"detail.topicName's topic {topic_match.group('topic')[:100]!r} differs from "
                f"detail-type's {topic[:100]!r}",
            )
        topic_id = _canonical_uuid(topic_match.group("id"), "the id in detail.topicName")

    body_id: str | None = None
    if detail.eventBody is not None and detail.eventBody.conversationId is not None:
        body_id = _canonical_uuid(detail.eventBody.conversationId, "detail.eventBody.conversationId")

    if body_id is None and topic_id is None:
        raise InvalidEvent(
            InvalidReason.NO_CONVERSATION_ID,
            "neither detail.eventBody.conversationId nor detail.topicName carries a conversation id",
        )
    if body_id is not None and topic_id is not None and body_id != topic_id:
        raise InvalidEvent(
            InvalidReason.CONVERSATION_ID_MISMATCH,
            f"detail.eventBody.conversationId {body_id} differs from the topic's {topic_id}",
        )
    conversation_id = body_id or topic_id
    assert conversation_id is not None  # narrowed by the checks above

    correlation_id = None
    if isinstance(detail.metadata, dict) and isinstance(detail.metadata.get("CorrelationId"), str):
        correlation_id = detail.metadata["CorrelationId"]
    return ConversationEvent(
        conversation_id=conversation_id,
        topic=topic,
        event_id=parsed.id,
        timestamp=None if detail.timestamp is None else str(detail.timestamp),
        correlation_id=correlation_id,
    )
