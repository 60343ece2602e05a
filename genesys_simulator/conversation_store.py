"""The conversations a simulator knows, when each becomes visible and ended, indexed by start."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from genesys_simulator.conversations import SimConversation, render_details


@dataclass(slots=True)
class _Entry:
    conversation: SimConversation
    visible_at: float
    ended_at: float | None


@dataclass(frozen=True, slots=True)
class Observed:
    """A conversation as analytics shows it at one moment (simulator clock)."""

    conversation: SimConversation
    ended: bool

    @property
    def conversation_id(self) -> str:
        return self.conversation.conversation_id


class ConversationStore:
    """Thread-safe; the delays of a conversation count from when it is added (simulator clock)."""

    def __init__(self, clock: Callable[[], float], division_id: str) -> None:
        self._clock = clock
        self._division_id = division_id
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        # (start, id) sorted, for interval look-ups in conversationStart order.
        self._by_start: list[tuple[datetime, str]] = []

    def add(self, conversations: Iterable[SimConversation]) -> None:
        """Register conversations; re-adding an id replaces it and restarts its delays."""
        now = self._clock()
        new = [
            _Entry(c, now + c.visible_after_s, None if c.ended_after_s is None else now + c.ended_after_s)
            for c in conversations
        ]
        with self._lock:
            replaced = False
            for entry in new:
                conversation_id = entry.conversation.conversation_id
                replaced |= conversation_id in self._entries
                self._entries[conversation_id] = entry
            if replaced:
                self._by_start = sorted((e.conversation.start, i) for i, e in self._entries.items())
            elif len(new) > 64:
                self._by_start.extend((e.conversation.start, e.conversation.conversation_id) for e in new)
                self._by_start.sort()
            else:
                for e in new:
                    bisect.insort(self._by_start, (e.conversation.start, e.conversation.conversation_id))

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def visible(self, ids: Iterable[str], now: float) -> list[Observed]:
        """The ids visible at ``now``, in the given order; unknown or not yet visible ones are left out."""
        with self._lock:
            entries = [self._entries.get(conversation_id) for conversation_id in ids]
        return [self._observe(e, now) for e in entries if e is not None and now >= e.visible_at]

    def started_between(self, start: datetime, end: datetime, now: float) -> list[Observed]:
        """Conversations visible at ``now`` whose conversationStart is in [start, end), oldest first."""
        with self._lock:
            lo = bisect.bisect_left(self._by_start, (start, ""))
            hi = bisect.bisect_left(self._by_start, (end, ""))
            window = [self._entries[conversation_id] for _, conversation_id in self._by_start[lo:hi]]
        return [self._observe(e, now) for e in window if now >= e.visible_at]

    def render(self, observed: Iterable[Observed]) -> list[dict[str, Any]]:
        """The details bodies, as the multi-get and the query return them."""
        return [
            render_details(o.conversation, ended=o.ended, division_id=self._division_id) for o in observed
        ]

    @staticmethod
    def _observe(entry: _Entry, now: float) -> Observed:
        return Observed(entry.conversation, entry.ended_at is not None and now >= entry.ended_at)
