"""The analytics details of a simulated conversation, rendered from its plan (genesys_simulator.shapes).

One renderer serves the multi-get, the query and the jobs (which add participant attributes), so they
show the same conversations. A conversation goes through three phases (docs/genesys-api.md, "Wrap-up
after conversationEnd"): open (no conversationEnd: what ends at conversationEnd is still running and
nothing after it has begun), ended with the last agent still in wrap-up (what ends after
conversationEnd has no segmentEnd, no wrap-up code, and its metrics are not emitted yet) and settled.
Nightly reprocessing can change the settled body later (docs/genesys-api.md, "Nightly
reprocessing"): each revision applied here changes it.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from genesys_simulator.conversations import SimConversation
from genesys_simulator.org import Org, build_org
from genesys_simulator.shapes import Reopen, Session, Timeline, timeline

_LANGUAGES = ("en-IE", "en-GB", "ga-IE", "fr-FR")
# Jobs return participant attributes (docs/genesys-api.md, "Jobs"), each value cut at 1024
# characters: unconfirmed, so SimulatorConfig.attribute_value_max_chars can change it.
ATTRIBUTE_VALUE_MAX_CHARS = 1024


class Phase(StrEnum):
    """Where a conversation is in its life, as analytics shows it."""

    OPEN = "open"  # no conversationEnd: the interact segments are running
    WRAPUP = "wrapup"  # conversationEnd, and the last agent's wrap-up segment has no segmentEnd yet
    SETTLED = "settled"  # every segment has its segmentEnd

    @property
    def ended(self) -> bool:
        return self is not Phase.OPEN


def iso_millis(moment: datetime) -> str:
    """Genesys' timestamp format: UTC, milliseconds, Z suffix."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def render_details(
    conversation: SimConversation,
    *,
    ended: bool,
    division_id: str,
    settled: bool | None = None,
    with_attributes: bool = False,
    revisions: Sequence[int] = (),
    attribute_max_chars: int = ATTRIBUTE_VALUE_MAX_CHARS,
    org: Org | None = None,
    reopens: Sequence[Reopen] = (),
) -> dict[str, Any]:
    """The analytics details of a conversation as the details endpoints return them.

    ``ended`` without ``settled`` (which defaults to ``ended``) renders the wrap-up still open, as
    tests/fixtures/conversation-details-wrapup-open.json; ended and settled renders the final form,
    as tests/fixtures/conversation-details.json. ``org`` is the org it is planned in (the default
    org, its home division ``division_id``, when None). ``with_attributes`` adds participant
    attributes (the jobs' AnalyticsConversation shape); ``revisions`` are the seeds of the
    reprocessing passes applied to the settled body, ``reopens`` its reopened rounds.
    """
    settled = ended if settled is None else settled
    if settled and not ended:
        raise ValueError("a conversation cannot be settled before it has ended")
    phase = Phase.SETTLED if settled else Phase.WRAPUP if ended else Phase.OPEN
    org = org or build_org(None, division_id)
    attributes = participant_attributes(conversation, attribute_max_chars) if with_attributes else None
    return render(
        conversation.conversation_id, timeline(conversation, org, reopens), phase, org, revisions, attributes
    )


def render(
    conversation_id: str,
    times: Timeline,
    phase: Phase,
    org: Org,
    revisions: Sequence[int] = (),
    attributes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The body of a planned conversation in ``phase`` (the one renderer behind every endpoint)."""
    details: dict[str, Any] = {
        "conversationId": conversation_id,
        "conversationStart": iso_millis(times.start),
    }
    if phase.ended:
        details["conversationEnd"] = iso_millis(times.end)
    details["originatingDirection"] = times.direction
    details["divisionIds"] = list(times.division_ids)
    if times.media in ("voice", "callback"):
        rng = random.Random(f"media-stats:{conversation_id}")
        details["mediaStatsMinConversationMos"] = round(rng.uniform(3.6, 4.5), 2)
        details["mediaStatsMinConversationRFactor"] = round(rng.uniform(75.0, 93.0), 1)
    participants = details["participants"] = []
    for participant in times.participants:
        sessions = [s for s in (_session(s, phase, times.end) for s in participant.sessions) if s]
        if sessions:
            rendered = {**participant.fields, "purpose": participant.purpose, "sessions": sessions}
            if attributes is not None and participant.purpose in ("customer", "external", "agent"):
                rendered["attributes"] = dict(attributes)
            participants.append(rendered)
    if phase is Phase.SETTLED:
        for seed in revisions:
            _reprocess(seed, participants, org)
    return details


def _session(session: Session, phase: Phase, end: datetime) -> dict[str, Any] | None:
    """A session as seen at conversationEnd: just before it while open, just after it in wrap-up."""
    segments = []
    for segment in session.segments:
        if phase is Phase.OPEN and segment.start >= end:
            continue  # not begun yet
        running = phase is not Phase.SETTLED and (
            segment.end > end or (phase is Phase.OPEN and segment.end == end)
        )
        rendered: dict[str, Any] = {"segmentStart": iso_millis(segment.start)}
        if not running:
            rendered["segmentEnd"] = iso_millis(segment.end)
        rendered["segmentType"] = segment.kind
        if segment.queue_id:
            rendered["queueId"] = segment.queue_id
        rendered.update(copy.deepcopy(dict(segment.fields)))
        if not running and segment.disconnect:
            rendered["disconnectType"] = segment.disconnect
        if not running and segment.code:
            rendered["wrapUpCode"] = segment.code
        segments.append(rendered)
    if not segments:
        return None
    emitted = [
        {"name": m.name, "value": m.value, "emitDate": iso_millis(m.emit)}
        for m in session.metrics
        if phase is Phase.SETTLED or m.emit < end or (phase is Phase.WRAPUP and m.emit == end)
    ]
    fields = copy.deepcopy(session.fields)
    return {
        "sessionId": fields.pop("sessionId"),
        "mediaType": session.media,
        "direction": session.direction,
        **fields,
        "segments": segments,
        "metrics": emitted,
    }


def _reprocess(seed: int, participants: list[dict[str, Any]], org: Org) -> None:
    """One nightly reprocessing pass (https://help.mypurecloud.com/faqs/why-can-my-data-change):
    corrected wrap-up codes and a retroactive tAgentResponseTime on the last agent's session (without
    an agent: a corrected tAcd), so the settled body differs after each pass."""
    rng = random.Random(seed)
    sessions = [(p["purpose"], s) for p in participants for s in p["sessions"]]
    for _, session in sessions:
        for segment in session["segments"]:
            if "wrapUpCode" in segment:
                segment["wrapUpCode"] = rng.choice(
                    [c.id for c in org.wrapup_codes if c.id != segment["wrapUpCode"]]
                )
    agents = [session for purpose, session in sessions if purpose == "agent"]
    if not agents:
        acd = [session for purpose, session in sessions if purpose == "acd"][-1]
        wait = next(m for m in acd["metrics"] if m["name"] == "tAcd")
        wait["value"] += rng.randrange(1, 1000)
        return
    agent = agents[-1]
    alert = next((m["value"] for m in agent["metrics"] if m["name"] == "tAlert"), 0)
    value = alert + rng.randrange(1, 1000)
    existing = next((m for m in agent["metrics"] if m["name"] == "tAgentResponseTime"), None)
    if existing is None:
        answered = next(s["segmentStart"] for s in agent["segments"] if s["segmentType"] == "interact")
        agent["metrics"].append({"name": "tAgentResponseTime", "value": value, "emitDate": answered})
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
