"""The conversations a simulator knows: when each becomes visible, ends and settles, its revisions.

Two clocks meet here. The delays (visible, ended, settled) run on the simulator clock from the
moment a conversation is added; the moments inside its details (start, end, wrap-up end) are its
own timeline, which the query and jobs intervals are matched against.
"""

from __future__ import annotations

import bisect
import random
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from genesys_simulator.conversations import SimConversation
from genesys_simulator.details_rendering import (
    ATTRIBUTE_VALUE_MAX_CHARS,
    Phase,
    participant_attributes,
    render,
)
from genesys_simulator.org import Org
from genesys_simulator.shapes import Reopen, Timeline, timeline

# How long after its end a new message (72 h) or e-mail reply (30 days) joins a conversation by
# default; later ones start a new conversation (docs/genesys-api.md, "Reopened conversations").
REOPEN_WINDOWS = {"message": timedelta(hours=72), "email": timedelta(days=30)}


@dataclass(slots=True)
class _Entry:
    conversation: SimConversation
    visible_at: float
    ended_at: float | None
    settled_at: float | None
    revisions: list[int] = field(default_factory=list)
    reopens: list[Reopen] = field(default_factory=list)
    times: Timeline | None = None  # computed on first use

    def phase(self, now: float) -> Phase:
        if self.ended_at is None or now < self.ended_at:
            return Phase.OPEN
        if self.settled_at is None or now < self.settled_at:
            return Phase.WRAPUP
        return Phase.SETTLED

    def timeline(self, org: Org) -> Timeline:
        if self.times is None:
            self.times = timeline(self.conversation, org, self.reopens)
        return self.times


@dataclass(frozen=True, slots=True)
class Observed:
    """A conversation as analytics shows it at one moment (simulator clock)."""

    conversation: SimConversation
    phase: Phase
    revisions: tuple[int, ...]
    times: Timeline

    @property
    def conversation_id(self) -> str:
        return self.conversation.conversation_id

    @property
    def ended(self) -> bool:
        return self.phase.ended

    @property
    def settled(self) -> bool:
        return self.phase is Phase.SETTLED

    @property
    def activity_end(self) -> datetime | None:
        """The last moment with activity in its details; None while a segment is still running."""
        if self.phase is Phase.OPEN:
            return None
        if self.phase is Phase.WRAPUP and self.times.acw_ms:
            return None
        return self.times.wrapup_end


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """When a conversation becomes visible, ends and settles (simulator clock; None: never)."""

    visible_at: float
    ended_at: float | None
    settled_at: float | None
    revisions: int
    reopens: int = 0


class ConversationStore:
    """Thread-safe; the delays of a conversation count from when it is added (simulator clock)."""

    def __init__(
        self, clock: Callable[[], float], org: Org, attribute_max_chars: int = ATTRIBUTE_VALUE_MAX_CHARS
    ) -> None:
        self._clock = clock
        self._org = org
        self._attribute_max_chars = attribute_max_chars
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        # (start, id) sorted, for interval look-ups in conversationStart order.
        self._by_start: list[tuple[datetime, str]] = []

    def add(self, conversations: Iterable[SimConversation]) -> None:
        """Register conversations; re-adding an id replaces it and restarts its delays."""
        now = self._clock()
        new = [
            _Entry(
                c,
                now + c.visible_after_s,
                None if c.ended_after_s is None else now + c.ended_after_s,
                None if c.settles_after_s is None else now + c.settles_after_s,
            )
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

    def started_between(self, start: datetime | None, end: datetime, now: float) -> list[Observed]:
        """Conversations visible at ``now`` whose conversationStart is in [start, end), oldest first;
        ``start=None``: every one started before ``end``."""
        with self._lock:
            lo = 0 if start is None else bisect.bisect_left(self._by_start, (start, ""))
            hi = bisect.bisect_left(self._by_start, (end, ""))
            window = [self._entries[conversation_id] for _, conversation_id in self._by_start[lo:hi]]
            return [self._observe(e, now) for e in window if now >= e.visible_at]

    def render(self, observed: Iterable[Observed], with_attributes: bool = False) -> list[dict[str, Any]]:
        """The details bodies: without attributes as the multi-get and the query return them, with
        them as the jobs do."""
        return [
            self._render(o.conversation, o.times, o.phase, o.revisions, with_attributes) for o in observed
        ]

    # ---- for the runner and the tests: final bodies, lifecycles, reprocessing ----------------------------

    def final_details(self, conversation_id: str, with_attributes: bool = False) -> dict[str, Any]:
        """The settled body with every reprocessing pass so far, whatever the clock says now."""
        entry = self._entry(conversation_id)
        with self._lock:
            revisions, times = tuple(entry.revisions), entry.timeline(self._org)
        return self._render(entry.conversation, times, Phase.SETTLED, revisions, with_attributes)

    def lifecycle(self, conversation_id: str) -> Lifecycle:
        entry = self._entry(conversation_id)
        with self._lock:
            return Lifecycle(
                entry.visible_at, entry.ended_at, entry.settled_at, len(entry.revisions), len(entry.reopens)
            )

    def timeline(self, conversation_id: str) -> Timeline:
        entry = self._entry(conversation_id)
        with self._lock:
            return entry.timeline(self._org)

    def reprocess(self, ids: Sequence[str], rng: random.Random) -> list[str]:
        """One reprocessing pass over ``ids``: each settled body changes (see details_rendering)."""
        entries = [self._entry(conversation_id) for conversation_id in ids]
        with self._lock:
            for entry in entries:
                entry.revisions.append(rng.getrandbits(64))
        return [entry.conversation.conversation_id for entry in entries]

    def reopen(
        self,
        ids: Sequence[str],
        at: datetime,
        ended_after_s: float,
        settled_after_s: float | None,
        rng: random.Random,
    ) -> list[str]:
        """A new message (or e-mail) at ``at`` reopens each ended conversation: open again from now,
        ended again ``ended_after_s`` later, settled ``settled_after_s`` later (None: as it ends)."""
        entries = [self._entry(conversation_id) for conversation_id in ids]
        now = self._clock()
        with self._lock:
            for entry in entries:
                times, cid = entry.timeline(self._org), entry.conversation.conversation_id
                if times.media not in REOPEN_WINDOWS:
                    raise ValueError(
                        f"{cid} is a {times.media} conversation: only messages and e-mails reopen"
                    )
                if entry.phase(now) is Phase.OPEN:
                    raise ValueError(f"{cid} has not ended: only an ended conversation reopens")
                if at - times.end > REOPEN_WINDOWS[times.media]:
                    raise ValueError(
                        f"{cid} ended too long ago: a new {times.media} starts a new conversation"
                    )
            for entry in entries:
                entry.reopens.append((at, rng.getrandbits(64)))
                entry.times = None
                entry.ended_at = now + ended_after_s
                entry.settled_at = now + (ended_after_s if settled_after_s is None else settled_after_s)
        return [entry.conversation.conversation_id for entry in entries]

    def _entry(self, conversation_id: str) -> _Entry:
        with self._lock:
            entry = self._entries.get(conversation_id.lower())
        if entry is None:
            raise KeyError(f"the simulator has no conversation {conversation_id}")
        return entry

    def _render(
        self,
        conversation: SimConversation,
        times: Timeline,
        phase: Phase,
        revisions: Sequence[int],
        with_attributes: bool,
    ) -> dict[str, Any]:
        attributes = (
            participant_attributes(conversation, self._attribute_max_chars) if with_attributes else None
        )
        return render(conversation.conversation_id, times, phase, self._org, revisions, attributes)

    def _observe(self, entry: _Entry, now: float) -> Observed:
        return Observed(
            entry.conversation, entry.phase(now), tuple(entry.revisions), entry.timeline(self._org)
        )
