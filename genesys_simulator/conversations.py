"""Simulated conversations and their analytics details, shaped like tests/fixtures/conversation-details.json.

Details are rendered on demand from the conversation id (which seeds the random choices), so adding tens
of thousands of conversations costs a small object each and the same id always renders the same JSON.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

_AGENT_NAMES = ("Aoife Byrne", "Liam Murphy", "Siobhan Kelly", "Cian Walsh", "Niamh Ryan", "Sean O'Brien")


@dataclass(frozen=True, slots=True)
class SimConversation:
    """A conversation the simulator knows about.

    The delays count from the moment the conversation is added to the simulator (simulator clock):
    it appears in analytics after ``visible_after_s`` and carries ``conversationEnd`` from
    ``ended_after_s`` on; ``None`` means it never ends (a "never ready" conversation).
    ``duration_s`` is the span between conversationStart and conversationEnd in the details
    (derived from the id when None).
    """

    conversation_id: str
    start: datetime
    visible_after_s: float = 0.0
    ended_after_s: float | None = 0.0
    duration_s: float | None = None

    def __post_init__(self) -> None:
        # Canonical lowercase form: the API matches ids as strings, as Genesys does.
        canonical = str(uuid.UUID(self.conversation_id))
        if canonical != self.conversation_id:
            object.__setattr__(self, "conversation_id", canonical)
        if self.start.tzinfo is None:
            object.__setattr__(self, "start", self.start.replace(tzinfo=UTC))
        if self.visible_after_s < 0 or (self.ended_after_s is not None and self.ended_after_s < 0):
            raise ValueError("delays must not be negative")
        if self.duration_s is not None and self.duration_s <= 0:
            raise ValueError("duration_s must be positive")


def iso_millis(moment: datetime) -> str:
    """Genesys' timestamp format: UTC, milliseconds, Z suffix."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def render_details(conversation: SimConversation, *, ended: bool, division_id: str) -> dict[str, Any]:
    """The analytics details of a conversation as the details endpoints return them.

    Before the end: no conversationEnd, the interact segments are still open and there is no wrap-up
    yet, as a live conversation looks in Genesys analytics.
    """
    rng = random.Random(uuid.UUID(conversation.conversation_id).int)
    start = conversation.start
    duration_ms = int((conversation.duration_s or rng.uniform(60.0, 900.0)) * 1000)
    # IVR/queue time, ringing and talk share the duration; wrap-up comes after the customer leaves.
    system_ms = min(int(rng.uniform(5_000, 40_000)), duration_ms // 3)
    alert_ms = min(int(rng.uniform(2_000, 15_000)), (duration_ms - system_ms) // 3)
    talk_ms = duration_ms - system_ms - alert_ms
    acw_ms = int(rng.uniform(10_000, 120_000))
    connected_at = start + timedelta(milliseconds=system_ms)
    answered_at = connected_at + timedelta(milliseconds=alert_ms)
    end = start + timedelta(milliseconds=duration_ms)
    wrapup_end = end + timedelta(milliseconds=acw_ms)
    queue_id = _uuid(rng)

    customer_interact: dict[str, Any] = {"segmentStart": iso_millis(connected_at), "segmentType": "interact"}
    customer_metrics: list[dict[str, Any]] = [
        {"name": "nConnected", "value": 1, "emitDate": iso_millis(connected_at)}
    ]
    agent_interact: dict[str, Any] = {
        "segmentStart": iso_millis(answered_at),
        "segmentType": "interact",
        "queueId": queue_id,
    }
    agent_segments: list[dict[str, Any]] = [
        {
            "segmentStart": iso_millis(connected_at),
            "segmentEnd": iso_millis(answered_at),
            "segmentType": "alert",
            "queueId": queue_id,
        },
        agent_interact,
    ]
    agent_metrics: list[dict[str, Any]] = [
        {"name": "tAlert", "value": alert_ms, "emitDate": iso_millis(answered_at)},
        {"name": "tAnswered", "value": alert_ms, "emitDate": iso_millis(answered_at)},
    ]
    if ended:
        for segment in (customer_interact, agent_interact):
            segment["segmentEnd"] = iso_millis(end)
            segment["disconnectType"] = "peer"
        customer_metrics.append(
            {"name": "tConnected", "value": duration_ms - system_ms, "emitDate": iso_millis(end)}
        )
        agent_segments.append(
            {
                "segmentStart": iso_millis(end),
                "segmentEnd": iso_millis(wrapup_end),
                "segmentType": "wrapup",
                "queueId": queue_id,
                "wrapUpCode": _uuid(rng),
            }
        )
        agent_metrics += [
            {"name": "tTalk", "value": talk_ms, "emitDate": iso_millis(end)},
            {"name": "tHandle", "value": talk_ms + acw_ms, "emitDate": iso_millis(wrapup_end)},
            {"name": "tAcw", "value": acw_ms, "emitDate": iso_millis(wrapup_end)},
        ]

    details: dict[str, Any] = {
        "conversationId": conversation.conversation_id,
        "conversationStart": iso_millis(start),
    }
    if ended:
        details["conversationEnd"] = iso_millis(end)
    details.update(
        {
            "originatingDirection": "inbound",
            "divisionIds": [division_id],
            "mediaStatsMinConversationMos": round(rng.uniform(3.6, 4.5), 2),
            "mediaStatsMinConversationRFactor": round(rng.uniform(75.0, 93.0), 1),
            "participants": [
                {
                    "participantId": _uuid(rng),
                    "participantName": "Mobile Number, Ireland",
                    "purpose": "customer",
                    "sessions": [
                        {
                            "sessionId": _uuid(rng),
                            "mediaType": "voice",
                            "direction": "inbound",
                            "ani": f"tel:+35387{rng.randrange(10**7):07d}",
                            "dnis": "tel:+35316000000",
                            "provider": "Edge",
                            "segments": [
                                {
                                    "segmentStart": iso_millis(start),
                                    "segmentEnd": iso_millis(connected_at),
                                    "segmentType": "system",
                                },
                                customer_interact,
                            ],
                            "metrics": customer_metrics,
                        }
                    ],
                },
                {
                    "participantId": _uuid(rng),
                    "participantName": rng.choice(_AGENT_NAMES),
                    "purpose": "agent",
                    "userId": _uuid(rng),
                    "sessions": [
                        {
                            "sessionId": _uuid(rng),
                            "mediaType": "voice",
                            "direction": "inbound",
                            "provider": "Edge",
                            "segments": agent_segments,
                            "metrics": agent_metrics,
                        }
                    ],
                },
            ],
        }
    )
    return details


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
) -> list[SimConversation]:
    """``count`` reproducible conversations starting ``spacing_s`` apart from ``start``.

    A ``late_share`` of them end only after ``late_ended_after_s`` (ready after several retries), a
    ``never_share`` never end; the rest end after ``ended_after_s``. The shares are exact (rounded),
    and which conversations get them is drawn from ``seed``.
    """
    if count < 0 or not 0.0 <= late_share <= 1.0 or not 0.0 <= never_share <= 1.0:
        raise ValueError("count must not be negative and shares must be between 0 and 1")
    if late_share + never_share > 1.0:
        raise ValueError("late_share + never_share must not exceed 1")
    rng = random.Random(seed)
    # By default the last one starts half an hour ago, so every rendered conversationEnd (at most
    # 15 minutes after the start) lies in the past, as it would for a conversation that has ended.
    now = datetime.now(UTC).replace(microsecond=0)
    first = start or now - timedelta(seconds=count * spacing_s + 1800)
    n_never = round(count * never_share)
    n_late = round(count * late_share)
    kinds = ["never"] * n_never + ["late"] * n_late + ["normal"] * (count - n_never - n_late)
    rng.shuffle(kinds)
    return list(_build(rng, first, spacing_s, kinds, visible_after_s, ended_after_s, late_ended_after_s))


def _build(
    rng: random.Random,
    first: datetime,
    spacing_s: float,
    kinds: list[str],
    visible_after_s: float,
    ended_after_s: float,
    late_ended_after_s: float,
) -> Iterator[SimConversation]:
    ended_by_kind: dict[str, float | None] = {
        "never": None,
        "late": max(late_ended_after_s, visible_after_s),
        "normal": max(ended_after_s, visible_after_s),
    }
    for index, kind in enumerate(kinds):
        yield SimConversation(
            conversation_id=_uuid(rng),
            start=first + timedelta(seconds=index * spacing_s),
            visible_after_s=visible_after_s,
            ended_after_s=ended_by_kind[kind],
        )
