"""Simulated conversations: what the simulator serves, and reproducible sets of them for tests and demos.

genesys_simulator.shapes plans each one in the org, genesys_simulator.details_rendering renders it.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from genesys_simulator.org import AGENTLESS_SHAPES, MEDIA_TYPES, SHAPE_MEDIA, Org, build_org
from genesys_simulator.wrapup import DEFAULT_ACW, AcwDistribution

__all__ = ["SimConversation", "synthetic_conversations"]


@dataclass(frozen=True, slots=True)
class SimConversation:
    """A conversation the simulator knows about.

    The delays count from the moment the conversation is added to the simulator (simulator clock):
    it appears in analytics after ``visible_after_s``, carries ``conversationEnd`` from
    ``ended_after_s`` on (``None``: it never ends, a "never ready" conversation) and is settled
    (the agent's wrap-up segment has ended) from ``settled_after_s`` on (``None``: as soon as it
    ends). Callers scale these delays as they scale their other timings (the local runner by its
    time scale).

    The rest shapes its details: ``shape`` and ``media`` (genesys_simulator.shapes; drawn from the
    id and the org's shares when None), ``duration_s`` the span between conversationStart and
    conversationEnd (drawn from the org's timings when None) and ``acw_s`` the last agent's
    after-call work after it (tAcw; 0 = none, so no wrap-up segment; drawn from the id, 10-120 s,
    when None; a shape without an agent has none). ``attributes`` are the participant attributes
    of the jobs' results (seeded from the id when None).
    """

    conversation_id: str
    start: datetime
    visible_after_s: float = 0.0
    ended_after_s: float | None = 0.0
    duration_s: float | None = None
    acw_s: float | None = None
    settled_after_s: float | None = None
    attributes: Mapping[str, str] | None = field(default=None, compare=False, hash=False)
    shape: str | None = None
    media: str | None = None

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
        if self.shape is not None and self.shape not in SHAPE_MEDIA:
            raise ValueError(f"shape must be one of {sorted(SHAPE_MEDIA)}, not {self.shape!r}")
        media_types = SHAPE_MEDIA[self.shape] if self.shape else MEDIA_TYPES
        if self.media is not None and self.media not in media_types:
            raise ValueError(f"media must be one of {sorted(media_types)} for this shape, not {self.media!r}")
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
    spacing_s: float | None = 1.0,
    visible_after_s: float = 0.0,
    ended_after_s: float = 0.0,
    late_share: float = 0.0,
    late_ended_after_s: float = 30.0,
    never_share: float = 0.0,
    acw: AcwDistribution | None = DEFAULT_ACW,
    time_scale: float = 1.0,
    org: Org | None = None,
    midnight_share: float | None = None,
) -> list[SimConversation]:
    """``count`` reproducible conversations starting ``spacing_s`` apart from ``start``; with
    ``spacing_s=None`` spread over the UTC day of ``start`` (default yesterday) by the org's
    arrivals by hour.

    Each has its shape and media type drawn from the org (``org``; the default org when None);
    ``midnight_share`` of them (the org's when None) are moved to start a few minutes before the
    midnight UTC before their start and end after it.

    A ``late_share`` of them end only after ``late_ended_after_s`` (ready after several retries), a
    ``never_share`` never end; the rest end after ``ended_after_s``. The shares are exact (rounded),
    and which conversations get them is drawn from ``seed``. Each then stays in wrap-up for its
    ACW drawn from ``acw`` (seeded) times ``time_scale``, which shrinks that wait as a local run
    shrinks its other timings; ``acw=None`` settles every conversation as it ends (ACW drawn from
    the id, 10-120 s, in its details only).
    """
    shares = (late_share, never_share, 0.0 if midnight_share is None else midnight_share)
    if count < 0 or not all(0.0 <= share <= 1.0 for share in shares):
        raise ValueError("count must not be negative and shares must be between 0 and 1")
    if late_share + never_share > 1.0:
        raise ValueError("late_share + never_share must not exceed 1")
    if not time_scale > 0:
        raise ValueError("time_scale must be positive")
    org = org or build_org()
    rng = random.Random(seed)
    # By default the last one starts 40 minutes ago: most have ended and wrapped up by now (a long
    # e-mail wait can end hours later).
    now = datetime.now(UTC).replace(microsecond=0)
    if spacing_s is None:
        day = (start or now - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        arrivals = random.Random(f"arrivals:{seed}")
        starts = sorted(org.arrival(arrivals, day) for _ in range(count))
    else:
        first = start or now - timedelta(seconds=count * spacing_s + 2400)
        starts = [first + timedelta(seconds=index * spacing_s) for index in range(count)]
    n_never = round(count * never_share)
    n_late = round(count * late_share)
    kinds = ["never"] * n_never + ["late"] * n_late + ["normal"] * (count - n_never - n_late)
    rng.shuffle(kinds)
    ended_by_kind: dict[str, float | None] = {
        "never": None,
        "late": max(late_ended_after_s, visible_after_s),
        "normal": max(ended_after_s, visible_after_s),
    }
    # Their own generators, so the ids and kinds stay those of the same seed without wrap-up or midnights.
    acw_rng = random.Random(f"acw:{seed}")
    midnight_rng = random.Random(f"midnight:{seed}")
    share = org.midnight_share if midnight_share is None else midnight_share
    across_midnight = set(midnight_rng.sample(range(count), round(count * share)))
    conversations = []
    for index, kind in enumerate(kinds):
        conversation_id = _uuid(rng)
        shape, media = org.draw_shape(conversation_id)
        drawn_acw = None if acw is None else acw.draw(acw_rng)
        conversation = SimConversation(
            conversation_id,
            start=starts[index],
            visible_after_s=visible_after_s,
            ended_after_s=ended_by_kind[kind],
            shape=shape,
            media=media,
        )
        if index in across_midnight:
            midnight = starts[index].replace(hour=0, minute=0, second=0, microsecond=0)
            before = midnight_rng.uniform(30.0, 600.0)
            conversation = replace(
                conversation,
                start=midnight - timedelta(seconds=before),
                duration_s=round(before + midnight_rng.uniform(60.0, 900.0), 3),
            )
        if drawn_acw is not None and shape in AGENTLESS_SHAPES:
            drawn_acw = 0.0  # no agent, no wrap-up
        conversations.append(_wrapped_up(conversation, drawn_acw, time_scale))
    return conversations


def _wrapped_up(conversation: SimConversation, acw_s: float | None, time_scale: float) -> SimConversation:
    if acw_s is None:
        return conversation
    ended = conversation.ended_after_s
    settled = None if ended is None else ended + acw_s * time_scale
    return replace(conversation, acw_s=acw_s, settled_after_s=settled)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
