"""Synthetic input for a local run: conversations, their end events as Genesys sends them, and faults.

A conversation emits an end event per kind of participant it has (customer.end, flow.end, acd.end,
user.end, voicemail.end) and acw after an agent's wrap-up, as its shape (genesys_simulator.shapes)
has them, shaped like tests/fixtures/*-event.json (docs/genesys-api.md, "EventBridge integration");
EventBridge may deliver each more than once and out of order; a few inputs are malformed. Each input
carries what the runner expects to become of it, so the closing reconciliation compares outcomes with
intent instead of with counts alone.
"""

from __future__ import annotations

import json
import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from genesys_bridge.contracts import format_timestamp
from genesys_bridge.events import InvalidReason
from genesys_simulator import DEFAULT_ACW, AcwDistribution, SimConversation, Timeline, build_org, timeline
from genesys_simulator.org import AGENTLESS_SHAPES

# The source Genesys' EventBridge integration uses (docs/genesys-api.md, "EventBridge integration");
# org id and suffix are made up.
EVENT_SOURCE = "aws.partner/genesys.com/cloud/7d2c4f80-1a6b-4e39-8c0d-5b3e9f21a7c4/analytics-bridge"
EVENT_ACCOUNT = "111122223333"
# The expected reason of an event the runner's parser could not walk (no ingest reason code is this).
TOO_DEEP_FOR_THE_RUNNER = "(nested too deeply for the runner to parse)"
# EventBridge's entry limit is 256 KB; an oversize input must be clearly above it.
OVERSIZE_PADDING_BYTES = 300 * 1024


class Readiness(StrEnum):
    """When a conversation shows up ended in Genesys analytics, relative to its first event."""

    READY = "ready"  # ended by the first fetch after the settle delay
    LATE = "late"  # ended only after one to three not-ready retries
    # never ends: every other one is in analytics (still open at the max age: LEFT_OPEN), the others
    # never show up there (visible_after_s infinite: FAILED and in the work DLQ)
    NEVER = "never"


class MalformedKind(StrEnum):
    NOT_AN_OBJECT = "not_an_object"
    NO_DETAIL = "no_detail"
    BAD_ID = "bad_id"
    MISMATCHED_IDS = "mismatched_ids"
    OVERSIZE = "oversize"
    WRONG_TYPES = "wrong_types"
    NOT_A_CONVERSATION_EVENT = "not_a_conversation_event"


# What the ingest function must quarantine each kind as (genesys_bridge.events owns the codes).
EXPECTED_REASON: dict[MalformedKind, InvalidReason] = {
    MalformedKind.NOT_AN_OBJECT: InvalidReason.NOT_AN_OBJECT,
    MalformedKind.NO_DETAIL: InvalidReason.NO_DETAIL,
    MalformedKind.BAD_ID: InvalidReason.INVALID_CONVERSATION_ID,
    MalformedKind.MISMATCHED_IDS: InvalidReason.CONVERSATION_ID_MISMATCH,
    MalformedKind.OVERSIZE: InvalidReason.TOO_LARGE,
    MalformedKind.WRONG_TYPES: InvalidReason.WRONG_TYPES,
    MalformedKind.NOT_A_CONVERSATION_EVENT: InvalidReason.UNKNOWN_DETAIL_TYPE,
}


@dataclass(frozen=True)
class PlannedConversation:
    conversation_id: str
    start: datetime
    readiness: Readiness
    # Seconds after its first event is ingested (real seconds, already time-scaled by the caller).
    visible_after_s: float
    ended_after_s: float | None
    # The agent's after-call work in the details (tAcw, unscaled seconds; 0 = none; None = drawn
    # from the id and settled as it ends), and when its wrap-up ends (scaled, like ended_after_s;
    # None = as it ends).
    acw_s: float | None = None
    settled_after_s: float | None = None
    shape: str | None = None  # genesys_simulator's (None: drawn from the id)
    media: str | None = None

    def sim_conversation(self) -> SimConversation:
        """What the simulator serves for this plan, its delays counting from the first event."""
        return SimConversation(
            self.conversation_id,
            start=self.start,
            visible_after_s=self.visible_after_s,
            ended_after_s=self.ended_after_s,
            acw_s=self.acw_s,
            settled_after_s=self.settled_after_s if self.ended_after_s is not None else None,
            shape=self.shape,
            media=self.media,
        )


@dataclass(frozen=True)
class PlannedEvent:
    event: Any  # what EventBridge hands the ingest function (not necessarily a dict)
    conversation_id: str | None  # None for malformed inputs
    topic: str | None
    malformed: MalformedKind | None = None
    # The quarantine reason code the ingest function must give this input; None for a valid event.
    expected_reason: str | None = None
    copy: int = 0  # 0 for the first delivery, 1.. for EventBridge's redeliveries of the same event
    # Deliver no earlier than this many seconds (time-scaled) after the conversation's first event:
    # an acw or wrapup event is sent when the agent's wrap-up ends, after conversationEnd.
    not_before_s: float = 0.0
    # It ends the conversation again after it landed: the runner reopens the conversation in the
    # simulator, with a body of its own, just before delivering it (local_runner.harness).
    reopens: bool = False


@dataclass
class Workload:
    conversations: dict[str, PlannedConversation]
    events: list[PlannedEvent]
    source: str = "synthetic"

    @property
    def valid_event_count(self) -> int:
        return sum(1 for planned in self.events if planned.expected_reason is None)

    @property
    def malformed_events(self) -> list[PlannedEvent]:
        return [planned for planned in self.events if planned.expected_reason is not None]

    @property
    def duplicate_deliveries(self) -> int:
        return sum(1 for planned in self.events if planned.copy > 0)

    def ids(self, readiness: Readiness) -> set[str]:
        return {cid for cid, plan in self.conversations.items() if plan.readiness is readiness}

    def silent_ids(self) -> frozenset[str]:
        """Conversations none of whose end events the environment subscribes to (e.g. an outbound
        call, which has no customer, where only customer.end is subscribed): only an audit lands them."""
        announced = {planned.conversation_id for planned in self.events}
        return frozenset(cid for cid in self.conversations if cid not in announced)


@dataclass(frozen=True)
class WorkloadSpec:
    """Shape of a synthetic workload; rates are shares of conversations or of events."""

    conversations: int
    seed: int = 7
    # Real seconds (already scaled): when the processor first looks, and its first backoff.
    settle_delay_s: float = 1.0
    not_ready_backoff_s: float = 1.0
    duplicate_rate: float = 0.2  # share of events EventBridge delivers more than once
    max_copies: int = 2  # deliveries of a duplicated event, at most
    late_rate: float = 0.1
    never_rate: float = 0.0
    malformed_rate: float = 0.01  # malformed inputs per valid event
    shuffle_window: int = 20  # events move up to about this many conversations from their place
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    # The environment's subscribed topics: the EventBridge rule passes only these to ingest, so the
    # workload holds only these (None: every end topic a conversation emits).
    topics: frozenset[str] | None = None
    # After-call work per conversation (unscaled seconds); its wrap-up waits are ACW x time_scale,
    # the factor by which the caller scaled settle_delay_s and not_ready_backoff_s.
    acw: AcwDistribution = DEFAULT_ACW
    time_scale: float = 1.0
    reopen_rate: float = 0.0  # share of the ending conversations that end again once landed


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def conversation_event(
    conversation_id: str,
    topic: str,
    at: datetime,
    rng: random.Random,
    region: str,
    times: Timeline | None = None,
) -> dict[str, Any]:
    """One Genesys end event as it arrives on the partner bus (the shape of tests/fixtures/*-event.json),
    with the media type, direction, last queue and agent of the planned conversation ``times``."""
    body: dict[str, Any] = {
        "eventTime": int(at.timestamp() * 1000),
        "conversationId": conversation_id,
        "participantId": _uuid(rng),
        "sessionId": _uuid(rng),
        "mediaType": (times.media if times else "voice").upper(),
        "direction": (times.direction if times else "inbound").upper(),
    }
    if topic == "acw":
        body.update(
            {
                "queueId": times.queue_ids[-1] if times and times.queue_ids else _uuid(rng),
                "userId": times.user_ids[-1] if times and times.user_ids else _uuid(rng),
                "wrapupCode": _uuid(rng),
                "wrapupDurationMs": rng.randrange(10_000, 120_000),
            }
        )
    else:
        body.update(
            {"provider": "Edge", "disconnectType": "peer", "interactingDurationMs": rng.randrange(10**6)}
        )
    return {
        "version": "0",
        "id": _uuid(rng),
        "detail-type": f"v2.detail.events.conversation.{{id}}.{topic}",
        "source": EVENT_SOURCE,
        "account": EVENT_ACCOUNT,
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [],
        "detail": {
            "topicName": f"v2.detail.events.conversation.{conversation_id}.{topic}",
            "version": "2",
            "eventBody": body,
            "metadata": {"CorrelationId": _uuid(rng)},
            "timestamp": format_timestamp(at),
        },
    }


def malformed_event(kind: MalformedKind, rng: random.Random, region: str, at: datetime) -> Any:
    """An input the ingest function must quarantine with EXPECTED_REASON[kind]."""
    if kind is MalformedKind.NOT_AN_OBJECT:
        return rng.choice([["not", "an", "object"], "customer.end", 42, None])
    event = conversation_event(_uuid(rng), "customer.end", at, rng, region)
    if kind is MalformedKind.NO_DETAIL:
        del event["detail"]
    elif kind is MalformedKind.BAD_ID:
        bad = "conversation-" + str(rng.randrange(10**6))
        event["detail"]["topicName"] = f"v2.detail.events.conversation.{bad}.customer.end"
        event["detail"]["eventBody"]["conversationId"] = bad
    elif kind is MalformedKind.MISMATCHED_IDS:
        event["detail"]["eventBody"]["conversationId"] = _uuid(rng)
    elif kind is MalformedKind.OVERSIZE:
        event["detail"]["eventBody"]["padding"] = "x" * OVERSIZE_PADDING_BYTES
    elif kind is MalformedKind.WRONG_TYPES:
        event["detail-type"] = 7
    elif kind is MalformedKind.NOT_A_CONVERSATION_EVENT:
        event["detail-type"] = "v2.users.{id}.presence"
    return event


# The topics Genesys sends when an agent's wrap-up ends (docs/genesys-api.md, "EventBridge integration").
WRAPUP_TOPICS = frozenset({"acw", "wrapup"})


# The end topic of each kind of participant (docs/genesys-api.md, "EventBridge integration"); an
# external party (an outbound call's) is assumed to end without one.
_PURPOSE_TOPICS = {"customer": "customer.end", "ivr": "flow.end", "acd": "acd.end", "agent": "user.end"}
_PURPOSE_TOPICS["voicemail"] = "voicemail.end"


def _end_topics(times: Timeline) -> list[str]:
    """The end topics the shape emits, acw last (drawn even without after-call work, so a run's
    events stay those of the same seed whatever its wrap-up)."""
    topics = [topic for purpose, topic in _PURPOSE_TOPICS.items() if purpose in times.purposes]
    return topics + (["acw"] if "agent" in times.purposes else [])


def synthesize(spec: WorkloadSpec, region: str) -> Workload:
    rng = random.Random(spec.seed)
    # Its own generator, so the ids and events of a seed stay those of earlier runs.
    acw_rng = random.Random(f"acw:{spec.seed}")
    org = build_org()  # the org of a simulator started with the defaults, as the runner's is
    conversations: dict[str, PlannedConversation] = {}
    positioned: list[tuple[float, PlannedEvent]] = []
    never_drawn = 0
    for index in range(spec.conversations):
        conversation_id = _uuid(rng)
        draw = rng.random()
        if draw < spec.never_rate:
            readiness = Readiness.NEVER
        elif draw < spec.never_rate + spec.late_rate:
            readiness = Readiness.LATE
        else:
            readiness = Readiness.READY
        if readiness is Readiness.READY:
            # Visible and ended well before the settle delay elapses: the common case.
            visible_after = rng.uniform(0.0, 0.5) * spec.settle_delay_s
            ended_after: float | None = visible_after
        elif readiness is Readiness.LATE:
            # Sometimes absent from analytics at first, always not yet ended: one to three retries.
            visible_after = rng.choice([0.0, spec.settle_delay_s * 1.5])
            ended_after = spec.settle_delay_s + rng.uniform(0.5, 3.0) * spec.not_ready_backoff_s
        else:
            visible_after = math.inf if never_drawn % 2 else 0.0
            ended_after = None
            never_drawn += 1
        # It ended longer ago than the longest wrap-up, so every event, the acw at the end of wrap-up
        # included, carries a past timestamp as Genesys' do when they arrive (an end event dated after
        # the landing means "ended again"); with or without wrap-up, the same end.
        ended_ago = timedelta(minutes=rng.uniform(3, 30), seconds=spec.acw.tail_max_s)
        shape, media = org.draw_shape(conversation_id)
        acw_s = spec.acw.draw(acw_rng)
        plan = PlannedConversation(
            conversation_id,
            spec.now,
            readiness,
            visible_after,
            ended_after,
            acw_s=0.0 if shape in AGENTLESS_SHAPES else acw_s,
            shape=shape,
            media=media,
        )
        # However long its shape took.
        length = timeline(plan.sim_conversation(), org).end - spec.now
        plan = replace(plan, start=spec.now - ended_ago - length)
        conversations[conversation_id] = plan
        times = timeline(plan.sim_conversation(), org)
        for order, topic in enumerate(_end_topics(times)):
            if spec.topics is not None and topic not in spec.topics:
                continue  # filtered by the rule (the draw above still happens: same conversations)
            wrapup = topic in WRAPUP_TOPICS
            at = times.wrapup_end if wrapup else times.end + timedelta(seconds=order)
            event = conversation_event(conversation_id, topic, at, rng, region, times)
            copies = 1
            if rng.random() < spec.duplicate_rate:
                copies = rng.randint(2, max(2, spec.max_copies))
            if wrapup:
                # As tests/fixtures/acw-event.json: the wrap-up code and duration of the details.
                event["detail"]["eventBody"].update(
                    {"wrapupCode": times.wrapup_code, "wrapupDurationMs": times.acw_ms}
                )
            for copy in range(copies):
                # EventBridge redelivers the very same event (same id), possibly much later.
                position = index + order * 0.5 + rng.uniform(0, spec.shuffle_window) * (1 + copy)
                # Without after-call work there is no acw event (drawn all the same: later ids stay).
                if times.acw_ms or not wrapup:
                    positioned.append((position, PlannedEvent(event, conversation_id, topic, copy=copy)))
    _ensure_each_readiness(conversations, spec)
    _time_wrapups(conversations, positioned, spec.time_scale)
    positioned.extend(_endings_again(conversations, spec, region))
    kinds = list(MalformedKind)
    malformed_total = round(len(positioned) * spec.malformed_rate)
    if spec.malformed_rate > 0:
        malformed_total = max(malformed_total, len(kinds))  # every kind at least once
    for number in range(malformed_total):
        kind = kinds[number % len(kinds)]
        event = malformed_event(kind, rng, region, spec.now)
        position = rng.uniform(0, max(1, spec.conversations))
        planned = PlannedEvent(event, None, None, malformed=kind, expected_reason=EXPECTED_REASON[kind].value)
        positioned.append((position, planned))
    positioned.sort(key=lambda pair: pair[0])
    return Workload(conversations, [planned for _, planned in positioned])


def _ensure_each_readiness(conversations: dict[str, PlannedConversation], spec: WorkloadSpec) -> None:
    """A small run with a non-zero rate still gets one conversation of that kind, so the outcome the
    rate asks for is exercised (and checked) at every size."""
    # (and a never-ready one of each kind: open in analytics, and never there)
    for readiness, rate, index, visible in (
        (Readiness.NEVER, spec.never_rate, 0, 0.0),
        (Readiness.LATE, spec.late_rate, 1, 0.0),
        (Readiness.NEVER, spec.never_rate, 2, math.inf),
    ):
        plans = list(conversations.values())
        if (
            rate <= 0
            or len(plans) <= index
            or any(
                p.readiness is readiness and math.isinf(p.visible_after_s) == math.isinf(visible)
                for p in plans
            )
        ):
            continue
        plan = plans[index]
        ended_after = None if readiness is Readiness.NEVER else spec.settle_delay_s + spec.not_ready_backoff_s
        conversations[plan.conversation_id] = replace(
            plan, readiness=readiness, visible_after_s=visible, ended_after_s=ended_after
        )


def _endings_again(
    conversations: dict[str, PlannedConversation], spec: WorkloadSpec, region: str
) -> list[tuple[float, PlannedEvent]]:
    """One more end event for `reopen_rate` of the conversations that end (at least one when above 0),
    held back until the conversation has landed; the runner reopens each just before (a new message
    joined it)."""
    rng = random.Random(f"reopen:{spec.seed}")  # its own, so the rest of a seed's workload stays
    ending = [plan for plan in conversations.values() if plan.readiness is not Readiness.NEVER]
    count = min(len(ending), max(1, round(spec.reopen_rate * len(ending)))) if spec.reopen_rate > 0 else 0
    topic = "customer.end" if spec.topics is None or "customer.end" in spec.topics else min(spec.topics)
    again: list[tuple[float, PlannedEvent]] = []
    for plan in rng.sample(ending, count):
        event = conversation_event(plan.conversation_id, topic, spec.now, rng, region)
        again.append((math.inf, PlannedEvent(event, plan.conversation_id, topic, reopens=True)))
    return again


def _time_wrapups(
    conversations: dict[str, PlannedConversation],
    positioned: list[tuple[float, PlannedEvent]],
    time_scale: float,
) -> None:
    """Each conversation's wrap-up ends ACW x time_scale after conversationEnd, and its acw/wrapup
    events wait for that (docs/genesys-api.md, "Wrap-up after conversationEnd")."""
    for conversation_id, plan in conversations.items():
        if plan.ended_after_s is not None and plan.acw_s is not None:
            settled = plan.ended_after_s + plan.acw_s * time_scale
            conversations[conversation_id] = replace(plan, settled_after_s=settled)
    for number, (position, planned) in enumerate(positioned):
        if planned.topic in WRAPUP_TOPICS and planned.conversation_id is not None:
            settled_after = conversations[planned.conversation_id].settled_after_s
            if settled_after is not None:
                positioned[number] = (position, replace(planned, not_before_s=settled_after))


def read_events_file(path: Path) -> Iterator[Any]:
    """EventBridge events as JSON lines (an archive replay); blank lines are skipped. A line that is not
    JSON, or is nested deeper than Python's json can decode (the interpreter's recursion limit, about
    1000 levels), is passed as text, which the ingest function must quarantine like any other
    non-object input."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except (json.JSONDecodeError, RecursionError):
                yield line.rstrip("\n")


def workload_from_events(events: list[Any], now: datetime) -> Workload:
    """A replay: the expected conversations are the ids the ingest function will accept."""
    from genesys_bridge.events import InvalidEvent, parse_event

    conversations: dict[str, PlannedConversation] = {}
    planned: list[PlannedEvent] = []
    seen_event_ids: set[str] = set()
    for event in events:
        try:
            parsed = parse_event(event)
        except InvalidEvent as invalid:
            planned.append(PlannedEvent(event, None, None, expected_reason=invalid.reason.value))
            continue
        except RecursionError:
            # nested too deeply for the event parser: the function must quarantine it, for a reason
            # this runner cannot name; the reconciliation reports whatever becomes of it
            planned.append(PlannedEvent(event, None, None, expected_reason=TOO_DEEP_FOR_THE_RUNNER))
            continue
        key = parsed.event_id or ""
        copy = 1 if key and key in seen_event_ids else 0
        seen_event_ids.add(key)
        conversations.setdefault(
            parsed.conversation_id,
            PlannedConversation(parsed.conversation_id, now, Readiness.READY, 0.0, 0.0),
        )
        planned.append(PlannedEvent(event, parsed.conversation_id, parsed.topic, copy=copy))
    return Workload(conversations, planned, source="events file")
