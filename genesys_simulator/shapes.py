"""The shape of each simulated conversation: who takes part, in which segments, emitting which metrics.

A conversation's plan (its Timeline) is drawn from its id and the org, so the same id always plans
the same conversation and queues, agents, codes and flows recur across conversations. The shapes
(docs/simulator.md, "Shapes"): answered, held, blind_transfer, consult_transfer, abandon,
short_abandon, voicemail (a flow-out from the queue) and outbound, in the media types the org gives
them. Participants and metrics follow the SDKs' AnalyticsParticipant, AnalyticsSession,
AnalyticsConversationSegment and AnalyticsSessionMetric models: t* in milliseconds, n* counts, each
emitted (emitDate) inside its session's segments; handle = talk + hold + after-call work.
genesys_simulator.details_rendering turns a plan into the details of each phase.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from genesys_simulator.conversations import SimConversation
from genesys_simulator.org import AGENTLESS_SHAPES, Org, Queue, build_org

# A reopened messaging or email conversation: when the new message came (details time) and the seed
# of the round it starts.
Reopen = tuple[datetime, int]
_VOICE_MEDIA = frozenset({"voice", "callback"})


@dataclass(frozen=True, slots=True)
class Segment:
    kind: str  # segmentType
    start: datetime
    end: datetime
    queue_id: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)  # shown from the segment's start
    disconnect: str | None = None  # disconnectType, shown once it has ended
    code: str | None = None  # wrapUpCode, shown once it has ended


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    value: int
    emit: datetime


@dataclass(slots=True)
class Session:
    media: str
    direction: str
    fields: dict[str, Any]  # sessionId first, then ani, dnis, provider, flow, ...
    segments: list[Segment] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)


@dataclass(slots=True)
class Participant:
    purpose: str
    fields: dict[str, Any]  # participantId, participantName, userId
    sessions: list[Session] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Timeline:
    """A conversation's plan: its moments (its own timeline, not the simulator clock) and participants."""

    start: datetime
    end: datetime  # conversationEnd
    wrapup_end: datetime  # when the last segment ends: the end of the last wrap-up, or the end
    acw_ms: int  # wrapup_end - end: the final wrap-up (tAcw); 0 = none, so no acw event
    shape: str
    media: str
    direction: str  # originatingDirection
    queue_ids: tuple[str, ...]  # the queues it went through, in order
    user_ids: tuple[str, ...]  # the agents who handled it, in order
    wrapup_code: str | None  # the final wrap-up's code before any reprocessing
    division_ids: tuple[str, ...]
    participants: tuple[Participant, ...]

    @property
    def purposes(self) -> frozenset[str]:
        return frozenset(p.purpose for p in self.participants)


def timeline(
    conversation: SimConversation, org: Org | None = None, reopens: Sequence[Reopen] = ()
) -> Timeline:
    """The conversation's plan in ``org`` (the default org when None), with its reopened rounds.

    A given ``duration_s`` stretches or shrinks every part before conversationEnd to fit it exactly."""
    org = org or build_org()
    plan, first_end = _plan(conversation, org, reopens, 1.0, None)
    if conversation.duration_s is None:
        return plan
    natural = (first_end - conversation.start).total_seconds()
    end_at = conversation.start + timedelta(seconds=conversation.duration_s)
    return _plan(conversation, org, reopens, conversation.duration_s / natural, end_at)[0]


class _Builder:
    """Draws the parts of one conversation (seeded by its id) and records its participants."""

    def __init__(self, conversation_id: str, org: Org, scale: float, end_at: datetime | None) -> None:
        self.org = org
        self.rng = random.Random(uuid.UUID(conversation_id).int)
        self.scale = scale
        self.end_at = end_at
        self.participants: list[Participant] = []
        self.queues: list[Queue] = []
        self.user_ids: list[str] = []
        self.code: str | None = None

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def span(self, media: str, part: str, share: float = 1.0) -> timedelta:
        """A draw of ``part`` (org timing) times ``share``, in whole milliseconds (as Genesys reports)."""
        low, high = self.org.timing[media][part]
        return timedelta(milliseconds=max(1, round(self.rng.uniform(low, high) * 1000 * self.scale * share)))

    def until_end(self, moment: datetime, media: str, part: str) -> datetime:
        """The end of the conversation's last part: drawn, or where a given duration puts it."""
        drawn = moment + self.span(media, part)
        return self.end_at if self.end_at is not None and self.end_at > moment else drawn

    def participant(self, purpose: str, **fields: Any) -> Participant:
        participant = Participant(purpose, {"participantId": self.new_id(), **fields})
        self.participants.append(participant)
        return participant

    def session(self, participant: Participant, media: str, direction: str, **fields: Any) -> Session:
        session = Session(media, direction, {"sessionId": self.new_id(), **fields})
        participant.sessions.append(session)
        return session

    def customer(self, media: str, purpose: str = "customer", direction: str = "inbound") -> Session:
        """The customer (an external party for an outbound call) and their session's addresses."""
        phone = f"tel:+35387{self.rng.randrange(10**7):07d}"
        centre = "tel:+35316000000"
        addresses: dict[str, Any] = {}
        if media in _VOICE_MEDIA:
            ani, dnis = (centre, phone) if direction == "outbound" else (phone, centre)
            addresses = {"ani": ani, "dnis": dnis, "provider": "Edge"}
            if media == "callback":
                addresses["callbackNumbers"] = [phone]
        elif media == "email":
            addresses = {
                "addressFrom": f"customer{phone[-4:]}@example.org",
                "addressTo": "support@example.com",
            }
        elif media == "message":
            addresses = {"messageType": "webmessaging"}
        name = "Mobile Number, Ireland" if media in _VOICE_MEDIA else "Customer"
        return self.session(self.participant(purpose, participantName=name), media, direction, **addresses)

    def ivr(self, start: datetime, queue: Queue) -> datetime:
        """The inbound call flow until it transfers the call to ``queue``; returns that moment."""
        flow = self.org.flows[self.org.queues.index(queue) % len(self.org.flows)]
        session = self.session(self.participant("ivr", participantName=flow.name), "voice", "inbound")
        session.fields["flow"] = {
            "flowId": flow.id,
            "flowName": flow.name,
            "flowType": "INBOUNDCALL",
            "entryType": "dnis",
            "exitReason": "TRANSFER",
            "transferTargetName": queue.name,
            "transferTargetAddress": queue.id,
        }
        transfer = start + self.span("voice", "ivr")
        session.segments.append(Segment("ivr", start, transfer, disconnect="transfer"))
        session.metrics.append(Metric("tIvr", _ms(transfer - start), transfer))
        return transfer

    def queue(self, media: str, leaving: Queue | None = None) -> Queue:
        choices = [q for q in self.org.queues_for(media) if q is not leaving]
        if not choices:
            raise ValueError(f"no queue of the org takes {media}")
        queue = self.rng.choice(choices)
        self.queues.append(queue)
        return queue

    def waiting(self, queue: Queue, entered: datetime, media: str) -> Session:
        """The queue-wait (acd) session from ``entered``; the caller ends it."""
        acd = self.participant("acd", participantName=queue.name)
        session = self.session(acd, media, "inbound")
        session.metrics.append(Metric("nOffered", 1, entered))
        return session

    def route(
        self, queue: Queue, entered: datetime, media: str, direction: str = "inbound"
    ) -> tuple[Session, datetime]:
        """Queue wait, then an agent of ``queue`` alerted and answering: the agent's session and the
        answer. tAnswered (the speed of answer) counts from entering the queue."""
        acd = self.waiting(queue, entered, media)
        alerted = entered + self.span(media, "wait")
        answered = alerted + self.span(media, "alert")
        acd.segments.append(self.acd_segment(queue, entered, answered, "transfer"))
        acd.metrics.append(Metric("tAcd", _ms(answered - entered), answered))
        agent = self.agent(queue, media, direction)
        agent.segments.append(Segment("alert", alerted, answered, queue.id))
        agent.metrics += [
            Metric("tAlert", _ms(answered - alerted), answered),
            Metric("tAnswered", _ms(answered - entered), answered),
        ]
        return agent, answered

    def agent(self, queue: Queue, media: str, direction: str) -> Session:
        user = self.rng.choice(self.org.members[queue.id])
        self.user_ids.append(user.id)
        participant = self.participant("agent", participantName=user.name, userId=user.id)
        return self.session(
            participant, media, direction, **({"provider": "Edge"} if media == "voice" else {})
        )

    def acd_segment(self, queue: Queue, start: datetime, end: datetime, disconnect: str) -> Segment:
        routing = {
            "requestedRoutingSkillIds": [self.rng.choice(self.org.skills).id],
            "requestedLanguageId": self.org.languages[0].id,
        }
        return Segment("interact", start, end, queue.id, routing, disconnect)

    def wrap(self, session: Session, queue: Queue, done: datetime, acw: timedelta, final: bool) -> None:
        """An agent's talk and hold totals, then the wrap-up with its code and tAcw; tHandle =
        tTalk + tHeld + tAcw, emitted when the wrap-up ends."""
        talk = sum((s.end - s.start for s in session.segments if s.kind == "interact"), timedelta())
        held = [s for s in session.segments if s.kind == "hold"]
        talked = max(s.end for s in session.segments if s.kind == "interact")
        session.metrics += [Metric("tTalk", _ms(talk), talked), Metric("tTalkComplete", _ms(talk), talked)]
        hold = sum((s.end - s.start for s in held), timedelta())
        if held:
            session.metrics += [
                Metric("tHeld", _ms(hold), held[-1].end),
                Metric("tHeldComplete", _ms(hold), held[-1].end),
            ]
        code = self.rng.choice(self.org.wrapup_codes).id
        session.metrics.append(Metric("tHandle", _ms(talk + hold + acw), done + acw))
        if acw:
            session.segments.append(Segment("wrapup", done, done + acw, queue.id, code=code))
            session.metrics.append(Metric("tAcw", _ms(acw), done + acw))
        if final:
            self.code = code if acw else None


def _plan(
    conversation: SimConversation, org: Org, reopens: Sequence[Reopen], scale: float, end_at: datetime | None
) -> tuple[Timeline, datetime]:
    """The plan, and its conversationEnd before any reopened round."""
    b = _Builder(conversation.conversation_id, org, scale, end_at)
    start = conversation.start.replace(microsecond=conversation.start.microsecond // 1000 * 1000)
    drawn_acw_s = b.rng.uniform(10.0, 120.0)
    acw = timedelta(
        milliseconds=round((drawn_acw_s if conversation.acw_s is None else conversation.acw_s) * 1000)
    )
    shape, media = conversation.shape, conversation.media
    if shape is None or media is None:
        shape, media = org.draw_shape(conversation.conversation_id, shape)
    if shape == "outbound":
        end = _outbound(b, media, start, acw)
    elif shape in AGENTLESS_SHAPES:
        end = _unanswered(b, shape, media, start)
    else:
        end = _answered(b, shape, media, start, acw)
    first_end = end
    b.scale, b.end_at = 1.0, None
    for moment, seed in reopens:
        b.rng = random.Random(seed)
        end = _reopened(b, media, max(moment, end + timedelta(seconds=1)), acw)
    last = max(s.end for p in b.participants for sess in p.sessions for s in sess.segments)
    divisions = tuple(dict.fromkeys([org.home.id, *(q.division.id for q in b.queues)]))
    plan = Timeline(
        start=start,
        end=end,
        wrapup_end=last,
        acw_ms=_ms(last - end),
        shape=shape,
        media=media,
        direction="outbound" if shape == "outbound" else "inbound",
        queue_ids=tuple(q.id for q in b.queues),
        user_ids=tuple(b.user_ids),
        wrapup_code=b.code,
        division_ids=divisions,
        participants=tuple(b.participants),
    )
    return plan, first_end


def _answered(b: _Builder, shape: str, media: str, start: datetime, acw: timedelta) -> datetime:
    """Inbound: the call flow (voice), a queue, an agent; held: the agent puts the customer on hold once;
    the transfers: the first agent hands the conversation to a second queue and its agent."""
    customer = b.customer(media)
    queue = b.queue(media)
    entered = b.ivr(start, queue) if media == "voice" else start
    agent, answered = b.route(queue, entered, media)
    if media == "callback":  # the agent accepts the callback, then dials the customer
        dialed = answered + b.span(media, "dial")
        agent.segments.append(Segment("dialing", answered, dialed, queue.id))
        answered = dialed
    if shape in ("blind_transfer", "consult_transfer"):
        end = _transfer(b, agent, queue, media, answered, acw, shape)
    elif shape == "held":
        held = answered + b.span(media, "talk", 1 / 3)
        resumed = held + b.span(media, "hold")
        end = b.until_end(resumed, media, "talk")
        agent.segments += [
            Segment("interact", answered, held, queue.id),
            Segment("hold", held, resumed, queue.id),
            Segment("interact", resumed, end, queue.id, disconnect="peer"),
        ]
        b.wrap(agent, queue, end, acw, final=True)
    else:
        end = b.until_end(answered, media, "talk")
        agent.segments.append(Segment("interact", answered, end, queue.id, disconnect="peer"))
        b.wrap(agent, queue, end, acw, final=True)
    customer.segments += [
        Segment("system", start, answered),
        Segment("interact", answered, end, disconnect="peer"),
    ]
    customer.metrics += [Metric("nConnected", 1, answered), Metric("tConnected", _ms(end - answered), end)]
    return end


def _transfer(
    b: _Builder, first: Session, queue: Queue, media: str, answered: datetime, acw: timedelta, shape: str
) -> datetime:
    """Blind: the first agent sends the conversation to another queue and leaves. Consult: the first
    agent holds the customer, reaches an agent of another queue, talks, then completes the transfer.
    Either way the first agent's session counts nTransferred and its wrap-up ends before the end."""
    talked = answered + b.span(media, "talk", 1 / 3)
    second_queue = b.queue(media, leaving=queue)
    second, second_answered = b.route(second_queue, talked, media)
    first.segments.append(Segment("interact", answered, talked, queue.id, disconnect="transfer"))
    left = talked
    if shape == "consult_transfer":
        left = second_answered + b.span(media, "consult")
        first.segments[-1] = Segment("interact", answered, talked, queue.id)
        first.segments.append(Segment("hold", talked, left, queue.id, disconnect="consultTransfer"))
    kind = "nConsultTransferred" if shape == "consult_transfer" else "nBlindTransferred"
    first.metrics += [Metric("nTransferred", 1, left), Metric(kind, 1, left)]
    end = b.until_end(max(left, second_answered), media, "talk")
    second.segments.append(Segment("interact", second_answered, end, second_queue.id, disconnect="peer"))
    # The first agent's wrap-up ends before the conversation does (the last agent's is the final one).
    first_acw = min(b.span(media, "first_acw"), timedelta(milliseconds=_ms(end - left) // 2))
    b.wrap(first, queue, left, first_acw, final=False)
    b.wrap(second, second_queue, end, acw, final=True)
    return end


def _unanswered(b: _Builder, shape: str, media: str, start: datetime) -> datetime:
    """Abandoned in queue (short: within the org's threshold) or flowed out from the queue to
    voicemail (tFlowOut): no agent, so no wrap-up."""
    customer = b.customer(media)
    queue = b.queue(media)
    entered = b.ivr(start, queue) if media == "voice" else start
    acd = b.waiting(queue, entered, media)
    threshold = b.org.short_abandon_ms
    if shape == "short_abandon":
        left = b.end_at or entered + timedelta(milliseconds=round(b.rng.uniform(0.1, 0.95) * threshold))
    elif shape == "abandon":
        left = max(b.until_end(entered, media, "abandon"), entered + timedelta(milliseconds=threshold))
    else:
        left = entered + b.span(media, "wait")
    waited = _ms(left - entered)
    acd.segments.append(b.acd_segment(queue, entered, left, "transfer" if shape == "voicemail" else "peer"))
    acd.metrics.append(Metric("tAcd", waited, left))
    end = left
    if shape == "voicemail":
        acd.metrics.append(Metric("tFlowOut", waited, left))
        voicemail = b.session(b.participant("voicemail", participantName=queue.name), media, "inbound")
        end = b.until_end(left, media, "voicemail")
        voicemail.segments.append(Segment("voicemail", left, end, queue.id, disconnect="peer"))
    else:
        acd.metrics.append(Metric("tAbandon", waited, left))
        if waited < threshold:
            acd.metrics.append(Metric("tShortAbandon", waited, left))
    customer.segments.append(Segment("system", start, end, disconnect="peer"))
    return end


def _outbound(b: _Builder, media: str, start: datetime, acw: timedelta) -> datetime:
    """An agent's outbound call on behalf of a queue: no queue wait offers it (no acd participant)."""
    queue = b.queue(media)
    agent = b.agent(queue, media, "outbound")
    external = b.customer(media, purpose="external", direction="outbound")
    connected = start + b.span(media, "dial")
    end = b.until_end(connected, media, "talk")
    agent.segments += [
        Segment("dialing", start, connected, queue.id),
        Segment("interact", connected, end, queue.id, disconnect="client"),
    ]
    agent.metrics.append(Metric("nOutbound", 1, start))
    external.segments.append(Segment("interact", connected, end, disconnect="peer"))
    b.wrap(agent, queue, end, acw, final=True)
    return end


def _reopened(b: _Builder, media: str, at: datetime, acw: timedelta) -> datetime:
    """A new message in the thread (or a reply to the e-mail): the customer's new session, routed again."""
    if media not in ("message", "email"):
        raise ValueError(f"only message and email conversations reopen, not {media}")
    customer = next(p for p in b.participants if p.purpose == "customer")
    addresses = {k: v for k, v in customer.sessions[0].fields.items() if k != "sessionId"}
    session = b.session(customer, media, "inbound", **addresses)
    queue = b.queues[0]
    b.queues.append(queue)
    agent, answered = b.route(queue, at, media)
    end = answered + b.span(media, "talk")
    agent.segments.append(Segment("interact", answered, end, queue.id, disconnect="peer"))
    b.wrap(agent, queue, end, acw, final=True)
    session.segments.append(Segment("interact", at, end, disconnect="peer"))
    return end


def _ms(span: timedelta) -> int:
    return round(span / timedelta(milliseconds=1))
