"""The analytics details of a simulated conversation, shaped like tests/fixtures/conversation-details*.json.

Details are rendered on demand from the conversation id (which seeds the random choices), so adding tens
of thousands of conversations costs a small object each and the same id always renders the same JSON.
One conversation goes through three phases (docs/genesys-api.md, "Wrap-up after conversationEnd"):
open (no conversationEnd), ended with the agent still in wrap-up (a ``wrapup`` segment without
segmentEnd, no tAcw yet) and settled (every segment ended). Nightly reprocessing can change the
settled body later (docs/genesys-api.md, "Nightly reprocessing"): each revision applied here changes it.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from genesys_simulator.conversations import SimConversation

_AGENT_NAMES = ("Aoife Byrne", "Liam Murphy", "Siobhan Kelly", "Cian Walsh", "Niamh Ryan", "Sean O'Brien")
_LANGUAGES = ("en-IE", "en-GB", "ga-IE", "fr-FR")
# Jobs return participant attributes (docs/genesys-api.md, "Jobs"), each value cut at 1024
# characters: unconfirmed, so SimulatorConfig.attribute_value_max_chars can change it.
ATTRIBUTE_VALUE_MAX_CHARS = 1024


class Phase(StrEnum):
    """Where a conversation is in its life, as analytics shows it."""

    OPEN = "open"  # no conversationEnd: the interact segments are running
    WRAPUP = "wrapup"  # conversationEnd, and the agent's wrap-up segment has no segmentEnd yet
    SETTLED = "settled"  # every segment has its segmentEnd

    @property
    def ended(self) -> bool:
        return self is not Phase.OPEN


@dataclass(frozen=True, slots=True)
class Timeline:
    """The moments in a conversation's details (its own timeline, not the simulator clock)."""

    start: datetime
    connected_at: datetime
    answered_at: datetime
    end: datetime  # conversationEnd
    wrapup_end: datetime  # the wrap-up segment's end; == end without after-call work
    system_ms: int
    alert_ms: int
    talk_ms: int
    acw_ms: int  # tAcw; 0 = no after-call work, no wrap-up segment, no acw event
    queue_id: str
    wrapup_code: str | None  # the wrap-up code of the settled body before any reprocessing

    @property
    def duration_ms(self) -> int:
        return self.system_ms + self.alert_ms + self.talk_ms


def iso_millis(moment: datetime) -> str:
    """Genesys' timestamp format: UTC, milliseconds, Z suffix."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def timeline(conversation: SimConversation) -> Timeline:
    """The conversation's moments and durations, without rendering its body."""
    return _draw_timeline(conversation, random.Random(uuid.UUID(conversation.conversation_id).int))


def _draw_timeline(conversation: SimConversation, rng: random.Random) -> Timeline:
    # The draws keep their order (render_details continues with the same generator), so a given id
    # renders the same body in every release of the simulator.
    start = conversation.start
    duration_ms = int((conversation.duration_s or rng.uniform(60.0, 900.0)) * 1000)
    # IVR/queue time, ringing and talk share the duration; wrap-up comes after the customer leaves.
    system_ms = min(int(rng.uniform(5_000, 40_000)), duration_ms // 3)
    alert_ms = min(int(rng.uniform(2_000, 15_000)), (duration_ms - system_ms) // 3)
    talk_ms = duration_ms - system_ms - alert_ms
    drawn_acw_ms = int(rng.uniform(10_000, 120_000))
    queue_id = _uuid(rng)
    wrapup_code = _uuid(rng)
    acw_ms = drawn_acw_ms if conversation.acw_s is None else round(conversation.acw_s * 1000)
    connected_at = start + timedelta(milliseconds=system_ms)
    answered_at = connected_at + timedelta(milliseconds=alert_ms)
    end = start + timedelta(milliseconds=duration_ms)
    return Timeline(
        start=start,
        connected_at=connected_at,
        answered_at=answered_at,
        end=end,
        wrapup_end=end + timedelta(milliseconds=acw_ms),
        system_ms=system_ms,
        alert_ms=alert_ms,
        talk_ms=talk_ms,
        acw_ms=acw_ms,
        queue_id=queue_id,
        wrapup_code=wrapup_code if acw_ms else None,
    )


def render_details(
    conversation: SimConversation,
    *,
    ended: bool,
    division_id: str,
    settled: bool | None = None,
    with_attributes: bool = False,
    revisions: Sequence[int] = (),
    attribute_max_chars: int = ATTRIBUTE_VALUE_MAX_CHARS,
) -> dict[str, Any]:
    """The analytics details of a conversation as the details endpoints return them.

    ``ended`` without ``settled`` (which defaults to ``ended``) renders the wrap-up still open, as
    tests/fixtures/conversation-details-wrapup-open.json; ended and settled renders the final form,
    as tests/fixtures/conversation-details.json. Before the end: no conversationEnd, the interact
    segments are still open and there is no wrap-up yet. ``with_attributes`` adds participant
    attributes (the jobs' AnalyticsConversation shape); ``revisions`` are the seeds of the
    reprocessing passes applied to the settled body.
    """
    settled = ended if settled is None else settled
    if settled and not ended:
        raise ValueError("a conversation cannot be settled before it has ended")
    phase = Phase.SETTLED if settled else Phase.WRAPUP if ended else Phase.OPEN
    rng = random.Random(uuid.UUID(conversation.conversation_id).int)
    times = _draw_timeline(conversation, rng)
    customer_segments, customer_metrics = _customer_side(times, phase)
    agent_segments, agent_metrics = _agent_side(times, phase)
    if phase is Phase.SETTLED:
        for seed in revisions:
            _reprocess(seed, agent_segments, agent_metrics, times)

    details: dict[str, Any] = {
        "conversationId": conversation.conversation_id,
        "conversationStart": iso_millis(times.start),
    }
    if phase.ended:
        details["conversationEnd"] = iso_millis(times.end)
    customer: dict[str, Any] = {}
    agent: dict[str, Any] = {}
    details.update(
        {
            "originatingDirection": "inbound",
            "divisionIds": [division_id],
            "mediaStatsMinConversationMos": round(rng.uniform(3.6, 4.5), 2),
            "mediaStatsMinConversationRFactor": round(rng.uniform(75.0, 93.0), 1),
            "participants": [customer, agent],
        }
    )
    customer.update(
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
                    "segments": customer_segments,
                    "metrics": customer_metrics,
                }
            ],
        }
    )
    agent.update(
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
        }
    )
    if with_attributes:
        attributes = participant_attributes(conversation, attribute_max_chars)
        customer["attributes"] = dict(attributes)
        agent["attributes"] = dict(attributes)
    return details


def _customer_side(times: Timeline, phase: Phase) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    interact: dict[str, Any] = {"segmentStart": iso_millis(times.connected_at), "segmentType": "interact"}
    segments = [
        {
            "segmentStart": iso_millis(times.start),
            "segmentEnd": iso_millis(times.connected_at),
            "segmentType": "system",
        },
        interact,
    ]
    metrics: list[dict[str, Any]] = [
        {"name": "nConnected", "value": 1, "emitDate": iso_millis(times.connected_at)}
    ]
    if phase.ended:
        interact["segmentEnd"] = iso_millis(times.end)
        interact["disconnectType"] = "peer"
        connected_ms = times.duration_ms - times.system_ms
        metrics.append({"name": "tConnected", "value": connected_ms, "emitDate": iso_millis(times.end)})
    return segments, metrics


def _agent_side(times: Timeline, phase: Phase) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    queue_id = times.queue_id
    interact: dict[str, Any] = {
        "segmentStart": iso_millis(times.answered_at),
        "segmentType": "interact",
        "queueId": queue_id,
    }
    segments: list[dict[str, Any]] = [
        {
            "segmentStart": iso_millis(times.connected_at),
            "segmentEnd": iso_millis(times.answered_at),
            "segmentType": "alert",
            "queueId": queue_id,
        },
        interact,
    ]
    metrics: list[dict[str, Any]] = [
        {"name": "tAlert", "value": times.alert_ms, "emitDate": iso_millis(times.answered_at)},
        {"name": "tAnswered", "value": times.alert_ms, "emitDate": iso_millis(times.answered_at)},
    ]
    if not phase.ended:
        return segments, metrics
    interact["segmentEnd"] = iso_millis(times.end)
    interact["disconnectType"] = "peer"
    metrics.append({"name": "tTalk", "value": times.talk_ms, "emitDate": iso_millis(times.end)})
    if times.acw_ms:
        wrapup: dict[str, Any] = {
            "segmentStart": iso_millis(times.end),
            "segmentType": "wrapup",
            "queueId": queue_id,
        }
        segments.append(wrapup)
        if phase is Phase.SETTLED:
            wrapup["segmentEnd"] = iso_millis(times.wrapup_end)
            wrapup["wrapUpCode"] = times.wrapup_code
    if phase is Phase.SETTLED:
        handled_at = iso_millis(times.wrapup_end)
        metrics.append({"name": "tHandle", "value": times.talk_ms + times.acw_ms, "emitDate": handled_at})
        if times.acw_ms:
            metrics.append({"name": "tAcw", "value": times.acw_ms, "emitDate": handled_at})
    return segments, metrics


def _reprocess(
    seed: int, agent_segments: list[dict[str, Any]], agent_metrics: list[dict[str, Any]], times: Timeline
) -> None:
    """One nightly reprocessing pass (https://help.mypurecloud.com/faqs/why-can-my-data-change):
    a corrected wrap-up code and a retroactive metric, so the settled body differs after each pass."""
    rng = random.Random(seed)
    for segment in agent_segments:
        if segment["segmentType"] == "wrapup":
            segment["wrapUpCode"] = _uuid(rng)
    existing = next((m for m in agent_metrics if m["name"] == "tAgentResponseTime"), None)
    value = times.alert_ms + rng.randrange(1, 1000)
    if existing is None:
        agent_metrics.append(
            {"name": "tAgentResponseTime", "value": value, "emitDate": iso_millis(times.answered_at)}
        )
    else:
        existing["value"] = value if value != existing["value"] else value + 1


def participant_attributes(
    conversation: SimConversation, max_chars: int = ATTRIBUTE_VALUE_MAX_CHARS
) -> Mapping[str, str]:
    """The participant data a jobs result carries, each value cut at ``max_chars``.

    Seeded by the id unless the conversation sets its own; about one conversation in ten carries a
    note longer than the limit, so the cut shows.
    """
    attributes = conversation.attributes
    if attributes is None:
        rng = random.Random(f"attributes:{conversation.conversation_id}")
        attributes = {
            "accountNumber": f"IE-{rng.randrange(10**4):04d}-{rng.randrange(10**4):04d}",
            "language": rng.choice(_LANGUAGES),
        }
        if rng.random() < 0.1:
            attributes["notes"] = "Caller asked about the invoice. " * rng.randint(35, 60)
    return {name: value[:max_chars] for name, value in attributes.items()}
