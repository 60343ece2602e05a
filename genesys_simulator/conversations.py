"""Simulated conversations: what the simulator serves, and reproducible sets of them for tests and demos.

Their details are rendered by genesys_simulator.details_rendering.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from genesys_simulator.details_rendering import iso_millis, render_details
from genesys_simulator.wrapup import DEFAULT_ACW, AcwDistribution

__all__ = ["SimConversation", "iso_millis", "render_details", "synthetic_conversations"]


@dataclass(frozen=True, slots=True)
class SimConversation:
    """A conversation the simulator knows about.

    The delays count from the moment the conversation is added to the simulator (simulator clock):
    it appears in analytics after ``visible_after_s``, carries ``conversationEnd`` from
    ``ended_after_s`` on (``None``: it never ends, a "never ready" conversation) and is settled
    (the agent's wrap-up segment has ended) from ``settled_after_s`` on (``None``: as soon as it
    ends). Callers scale these delays as they scale their other timings (the local runner by its
    time scale).

    The rest shapes its details: ``duration_s`` is the span between conversationStart and
    conversationEnd and ``acw_s`` the agent's after-call work after it (tAcw; 0 = none, so no
    wrap-up segment); both are drawn from the id when None (60-900 s and 10-120 s).
    ``attributes`` are the participant attributes of the jobs' results (seeded from the id when None).
    """

    conversation_id: str
    start: datetime
    visible_after_s: float = 0.0
    ended_after_s: float | None = 0.0
    duration_s: float | None = None
    acw_s: float | None = None
    settled_after_s: float | None = None
    attributes: Mapping[str, str] | None = field(default=None, compare=False, hash=False)

    def __post_init__(self) -> None:
        # Canonical lowercase form: the API matches ids as strings, as Genesys does.
        canonical = str(uuid.UUID(self.conversation_id))
        if canonical != self.conversation_id:
            object.__setattr__(self, "conversation_id", canonical)
        if self.start.tzinfo is None:
            object.__setattr__(self, "start", self.start.replace(tzinfo=UTC))
        delays = (self.visible_after_s, self.ended_after_s, self.settled_after_s)
        if any(delay is not None and delay < 0 for delay in delays):
            raise ValueError("delays must not be negative")
        if self.duration_s is not None and self.duration_s <= 0:
            raise ValueError("duration_s must be positive")
        if self.acw_s is not None and self.acw_s < 0:
            raise ValueError("acw_s must not be negative")
        if self.settled_after_s is not None:
            if self.ended_after_s is None:
                raise ValueError("settled_after_s needs ended_after_s: a conversation settles after it ends")
            if self.settled_after_s < self.ended_after_s:
                raise ValueError("settled_after_s must not be before ended_after_s")
            if self.acw_s == 0 and self.settled_after_s != self.ended_after_s:
                raise ValueError("without after-call work (acw_s=0) a conversation settles when it ends")

    @property
    def settles_after_s(self) -> float | None:
        """When the conversation is settled (simulator clock, from when it is added); None: never."""
        return self.ended_after_s if self.settled_after_s is None else self.settled_after_s


def synthetic_conversations(
    count: int,
    *,
    seed: int = 0,
    start: datetime | None = None,
    spacing_s: float = 1.0,
    visible_after_s: float = 0.0,
    ended_after_s: float = 0.0,
    late_share: float = 0.0,
    late_ended_after_s: float = 30.0,
    never_share: float = 0.0,
    acw: AcwDistribution | None = DEFAULT_ACW,
    time_scale: float = 1.0,
) -> list[SimConversation]:
    """``count`` reproducible conversations starting ``spacing_s`` apart from ``start``.

    A ``late_share`` of them end only after ``late_ended_after_s`` (ready after several retries), a
    ``never_share`` never end; the rest end after ``ended_after_s``. The shares are exact (rounded),
    and which conversations get them is drawn from ``seed``. Each then stays in wrap-up for its
    ACW drawn from ``acw`` (seeded) times ``time_scale``, which shrinks that wait as a local run
    shrinks its other timings; ``acw=None`` settles every conversation as it ends (ACW drawn from
    the id, 10-120 s, in its details only).
    """
    if count < 0 or not 0.0 <= late_share <= 1.0 or not 0.0 <= never_share <= 1.0:
        raise ValueError("count must not be negative and shares must be between 0 and 1")
    if late_share + never_share > 1.0:
        raise ValueError("late_share + never_share must not exceed 1")
    if not time_scale > 0:
        raise ValueError("time_scale must be positive")
    rng = random.Random(seed)
    # By default the last one starts 40 minutes ago, so every rendered end of wrap-up (at most 15
    # minutes of conversation and 10 of wrap-up after the start) lies in the past.
    now = datetime.now(UTC).replace(microsecond=0)
    first = start or now - timedelta(seconds=count * spacing_s + 2400)
    n_never = round(count * never_share)
    n_late = round(count * late_share)
    kinds = ["never"] * n_never + ["late"] * n_late + ["normal"] * (count - n_never - n_late)
    rng.shuffle(kinds)
    ended_by_kind: dict[str, float | None] = {
        "never": None,
        "late": max(late_ended_after_s, visible_after_s),
        "normal": max(ended_after_s, visible_after_s),
    }
    # Its own generator, so the ids and kinds stay those of the same seed without wrap-up.
    acw_rng = random.Random(f"acw:{seed}")
    return [
        _wrapped_up(
            SimConversation(
                conversation_id=_uuid(rng),
                start=first + timedelta(seconds=index * spacing_s),
                visible_after_s=visible_after_s,
                ended_after_s=ended_by_kind[kind],
            ),
            None if acw is None else acw.draw(acw_rng),
            time_scale,
        )
        for index, kind in enumerate(kinds)
    ]


def _wrapped_up(conversation: SimConversation, acw_s: float | None, time_scale: float) -> SimConversation:
    if acw_s is None:
        return conversation
    ended = conversation.ended_after_s
    settled = None if ended is None else ended + acw_s * time_scale
    return replace(conversation, acw_s=acw_s, settled_after_s=settled)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
