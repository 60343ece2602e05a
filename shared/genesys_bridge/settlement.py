"""When a conversation's details are ready to land: ended, and nothing in it still running.

`conversationEnd` comes when the last participant disconnects, but an agent's after-call work (a
`wrapup` segment) can run for minutes after it; a segment still running has no `segmentEnd`
(docs/genesys-api.md, "Wrap-up after conversationEnd"). Details fetched before that are not the
conversation's settled form. Pure functions of the details, no AWS and no clock: the processor decides
what each state means for a message, and the audit can ask the same question of what it enumerates.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any


class Readiness(StrEnum):
    ABSENT = "absent"  # analytics does not know the conversation yet
    IN_PROGRESS = "in_progress"  # known, no conversationEnd
    WRAPPING_UP = "wrapping_up"  # conversationEnd, but some segment has no segmentEnd
    SETTLED = "settled"  # conversationEnd and every segment ended


def _dicts(value: Any) -> Iterator[Mapping[str, Any]]:
    # The details are Genesys's JSON: walk lists of objects and skip anything else instead of failing
    # on it (what the key is built from is validated where the object is written).
    if isinstance(value, list):
        yield from (entry for entry in value if isinstance(entry, Mapping))


def open_segments(conversation: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every segment of every session of every participant that has no `segmentEnd` yet."""
    return [
        segment
        for participant in _dicts(conversation.get("participants"))
        for session in _dicts(participant.get("sessions"))
        for segment in _dicts(session.get("segments"))
        if not segment.get("segmentEnd")
    ]


def wrapup_started_at(conversation: Mapping[str, Any]) -> datetime | None:
    """When the open wrap-up began (the latest `segmentStart` of the open segments), so its end can be
    expected; None when an open segment is not a wrap-up or its start is unreadable: nothing to expect."""
    starts: list[datetime] = []
    for segment in open_segments(conversation):
        start = segment.get("segmentStart")
        if segment.get("segmentType") != "wrapup" or not isinstance(start, str):
            return None
        try:
            starts.append(datetime.fromisoformat(start))
        except ValueError:
            return None
    # A time without a zone cannot be compared with the processor's clock: as unreadable as none.
    return max(starts) if starts and all(start.tzinfo for start in starts) else None


def readiness(conversation: Mapping[str, Any] | None) -> Readiness:
    """How far the conversation's details (None: not returned by analytics) are from landing."""
    if conversation is None:
        return Readiness.ABSENT
    if not conversation.get("conversationEnd"):
        return Readiness.IN_PROGRESS
    if open_segments(conversation):
        return Readiness.WRAPPING_UP
    return Readiness.SETTLED
