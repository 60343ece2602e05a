"""Hand-built conversations in Genesys' analytics model (AnalyticsConversation, AnalyticsParticipant,
AnalyticsSession, AnalyticsConversationSegment, AnalyticsSessionMetric; the shape of
tests/fixtures/conversation-details.json), one per case the KPI definitions must get right.

Every moment is an offset in seconds from the conversation's start; each metric's value agrees with
the segments it measures (talk = the interact segments, tAnswered = from entering the queue to the
answer, tHandle = talk + hold + after-call work).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

DAY = "2026-11-20"
NEXT_DAY = "2026-11-21"
Q1 = "11111111-1111-4111-8111-111111111111"
Q2 = "22222222-2222-4222-8222-222222222222"
A1 = "a1a1a1a1-0000-4000-8000-00000000a001"
A2 = "a2a2a2a2-0000-4000-8000-00000000a002"
A3 = "a3a3a3a3-0000-4000-8000-00000000a003"
W1, W2, W3, W4, W5 = (f"0000000{n}-7777-4777-8777-777777777777" for n in range(1, 6))


class Clock:
    """Genesys timestamps at offsets (seconds) from a conversation's start."""

    def __init__(self, start: str) -> None:
        self.start = datetime.fromisoformat(start).replace(tzinfo=UTC)

    def __call__(self, offset_s: float) -> str:
        moment = self.start + timedelta(seconds=offset_s)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def segment(
    t: Clock, start: float, end: float, kind: str, queue: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"segmentStart": t(start), "segmentEnd": t(end), "segmentType": kind}
    if queue:
        body["queueId"] = queue
    return body | extra


def metric(t: Clock, name: str, value_s: float, at: float) -> dict[str, Any]:
    value = round(value_s) if name.startswith("n") else round(value_s * 1000)
    return {"name": name, "value": value, "emitDate": t(at)}


def session(
    number: int,
    segments: list[dict[str, Any]],
    metrics: list[dict[str, Any]],
    media: str = "voice",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "sessionId": f"5e551000-0000-4000-8000-{number:012d}",
        "mediaType": media,
        "segments": segments,
        "metrics": metrics,
    } | extra


def participant(purpose: str, sessions: list[dict[str, Any]], user: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "participantId": "9a" + sessions[0]["sessionId"][2:],
        "purpose": purpose,
        "sessions": sessions,
    }
    if user:
        body["userId"] = user
    return body


def conversation(
    number: int, t: Clock, end: float, participants: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    return {
        "conversationId": f"c0000000-0000-4000-8000-{number:012d}",
        "conversationStart": t(0),
        "conversationEnd": t(end),
        "originatingDirection": "inbound",
        "divisionIds": ["3f9b1c77-6e24-4a08-b5d3-9c0e8a1f7b42"],
        "participants": participants,
    } | extra


def customer(t: Clock, number: int, connected: float, end: float, media: str = "voice") -> dict[str, Any]:
    return participant(
        "customer",
        [
            session(
                number,
                [
                    segment(t, 0, connected, "system"),
                    segment(t, connected, end, "interact", disconnectType="peer"),
                ],
                [metric(t, "nConnected", 1, connected), metric(t, "tConnected", end - connected, end)],
                media,
                direction="inbound",
            )
        ],
    )


def queue_wait(
    t: Clock, number: int, queue: str, enter: float, leave: float, *outcome: str
) -> dict[str, Any]:
    """An ACD session: waiting in `queue` from `enter` to `leave`; `outcome` adds tAbandon,
    tShortAbandon (a short abandon is also an abandon) or tFlowOut at `leave`."""
    wait = leave - enter
    metrics = [metric(t, "nOffered", 1, enter), metric(t, "tAcd", wait, leave)]
    metrics += [metric(t, name, wait, leave) for name in outcome]
    return session(number, [segment(t, enter, leave, "interact", queue)], metrics)


def answered_by(
    t: Clock,
    number: int,
    queue: str | None,
    entered: float,
    alert: float,
    talk: list[tuple[float, float]],
    holds: list[tuple[float, float]],
    wrapup: tuple[float, float, str] | None,
    *transfer: str,
    media: str = "voice",
) -> dict[str, Any]:
    """An agent session: alerted at `alert`, talking in `talk` spans with `holds` between, then
    wrap-up; tAnswered (from `entered` the queue) only when routed from a queue; `transfer` adds
    nTransferred and the kind (nBlindTransferred, nConsultTransferred) at the end of the last talk."""
    answer = talk[0][0]
    segments = [segment(t, alert, answer, "alert", queue)]
    metrics = [metric(t, "tAlert", answer - alert, answer)]
    if queue:
        metrics.append(metric(t, "tAnswered", answer - entered, answer))
    spans = sorted([(start, end, "interact") for start, end in talk] + [(s, e, "hold") for s, e in holds])
    for start, end, kind in spans:
        segments.append(segment(t, start, end, kind, queue))
        metrics.append(metric(t, "tTalk" if kind == "interact" else "tHeld", end - start, end))
    last = talk[-1][1]
    for name in transfer:
        metrics += [metric(t, "nTransferred", 1, last), metric(t, name, 1, last)]
    handled_at, acw = last, 0.0
    if wrapup:
        start, end, code = wrapup
        segments.append(segment(t, start, end, "wrapup", queue, wrapUpCode=code))
        handled_at, acw = end, end - start
        metrics.append(metric(t, "tAcw", acw, end))
    handle = sum(end - start for start, end in talk + holds) + acw
    metrics.append(metric(t, "tHandle", handle, handled_at))
    return session(number, segments, metrics, media, direction="inbound")


def ivr(t: Clock, number: int, end: float) -> dict[str, Any]:
    flow = {
        "flowId": "f1000000-0000-4000-8000-000000000001",
        "flowName": "Main IVR",
        "flowType": "INBOUNDCALL",
    }
    return participant(
        "ivr",
        [session(number, [segment(t, 0, end, "interact")], [metric(t, "tIvr", end, end)], flow=flow)],
    )


def conversations() -> list[dict[str, Any]]:
    """Twelve conversations on DAY (one runs past midnight UTC into NEXT_DAY), queues Q1 and Q2,
    agents A1, A2 and A3."""
    built = []

    # 1. IVR, 8 s in Q1, A1 answers (10 s after entering), talk, hold, talk, wrap-up.
    t = Clock(f"{DAY}T09:00:00")
    built.append(
        conversation(
            1,
            t,
            330,
            [
                customer(t, 101, 30, 330),
                ivr(t, 102, 20),
                participant("acd", [queue_wait(t, 103, Q1, 20, 28)]),
                participant(
                    "agent",
                    [answered_by(t, 104, Q1, 20, 28, [(30, 150), (210, 330)], [(150, 210)], (330, 360, W1))],
                    A1,
                ),
            ],
        )
    )
    # 2. Q1, answered by A2 exactly at the 20 s target (within it: tAnswered <= target).
    t = Clock(f"{DAY}T09:10:00")
    built.append(
        conversation(
            2,
            t,
            160,
            [
                customer(t, 201, 0, 160),
                participant("acd", [queue_wait(t, 202, Q1, 0, 15)]),
                participant("agent", [answered_by(t, 203, Q1, 0, 15, [(20, 160)], [], (160, 180, W2))], A2),
            ],
        )
    )
    # 3. Blind transfer: A1 answers in Q1 and transfers to Q2, where A2 answers.
    t = Clock(f"{DAY}T09:20:00")
    built.append(
        conversation(
            3,
            t,
            202,
            [
                customer(t, 301, 0, 202),
                participant("acd", [queue_wait(t, 302, Q1, 0, 5), queue_wait(t, 303, Q2, 67, 80)]),
                participant(
                    "agent",
                    [answered_by(t, 304, Q1, 0, 5, [(7, 67)], [], (67, 77, W1), "nBlindTransferred")],
                    A1,
                ),
                participant("agent", [answered_by(t, 305, Q2, 67, 80, [(82, 202)], [], (202, 222, W3))], A2),
            ],
        )
    )
    # 4. Consult transfer: A3 answers in Q2, holds the customer while consulting A1 (called directly,
    # not through a queue), then hands over; A1 talks to the customer and wraps up.
    t = Clock(f"{DAY}T10:00:00")
    built.append(
        conversation(
            4,
            t,
            200,
            [
                customer(t, 401, 0, 200),
                participant("acd", [queue_wait(t, 402, Q2, 0, 12)]),
                participant(
                    "agent",
                    [
                        answered_by(
                            t,
                            403,
                            Q2,
                            0,
                            12,
                            [(14, 74), (104, 110)],
                            [(74, 104)],
                            (110, 125, W4),
                            "nConsultTransferred",
                        )
                    ],
                    A3,
                ),
                participant(
                    "agent", [answered_by(t, 404, None, 74, 74, [(76, 200)], [], (200, 210, W5))], A1
                ),
            ],
        )
    )
    # 5. Abandoned in Q1 after 45 s.
    t = Clock(f"{DAY}T10:30:00")
    built.append(
        conversation(
            5,
            t,
            45,
            [customer(t, 501, 0, 45), participant("acd", [queue_wait(t, 502, Q1, 0, 45, "tAbandon")])],
        )
    )
    # 6. Short abandon in Q1 after 3 s (an abandon too).
    t = Clock(f"{DAY}T10:40:00")
    built.append(
        conversation(
            6,
            t,
            3,
            [
                customer(t, 601, 0, 3),
                participant("acd", [queue_wait(t, 602, Q1, 0, 3, "tAbandon", "tShortAbandon")]),
            ],
        )
    )
    # 7. A2 answers in Q1 and blind-transfers to Q2, where the customer abandons after 30 s.
    t = Clock(f"{DAY}T11:00:00")
    built.append(
        conversation(
            7,
            t,
            128,
            [
                customer(t, 701, 0, 128),
                participant(
                    "acd", [queue_wait(t, 702, Q1, 0, 6), queue_wait(t, 703, Q2, 98, 128, "tAbandon")]
                ),
                participant(
                    "agent",
                    [answered_by(t, 704, Q1, 0, 6, [(8, 98)], [], (98, 103, W2), "nBlindTransferred")],
                    A2,
                ),
            ],
        )
    )
    # 8. A1 answers in Q1 and blind-transfers to Q2, where the customer abandons within 2 s.
    t = Clock(f"{DAY}T11:10:00")
    built.append(
        conversation(
            8,
            t,
            38,
            [
                customer(t, 801, 0, 38),
                participant(
                    "acd",
                    [
                        queue_wait(t, 802, Q1, 0, 4),
                        queue_wait(t, 803, Q2, 36, 38, "tAbandon", "tShortAbandon"),
                    ],
                ),
                participant(
                    "agent",
                    [answered_by(t, 804, Q1, 0, 4, [(6, 36)], [], (36, 40, W1), "nBlindTransferred")],
                    A1,
                ),
            ],
        )
    )
    # 9. Flow-out: after 60 s in Q1 the in-queue flow moves the call to Q2 within the same ACD session
    # (its segments meet at 60 s: tFlowOut ends Q1 there, nOffered starts Q2 there); A3 answers in Q2.
    t = Clock(f"{DAY}T12:00:00")
    flowing = session(
        902,
        [segment(t, 0, 60, "interact", Q1), segment(t, 60, 65, "interact", Q2)],
        [
            metric(t, "nOffered", 1, 0),
            metric(t, "tFlowOut", 60, 60),
            metric(t, "tAcd", 60, 60),
            metric(t, "nOffered", 1, 60),
            metric(t, "tAcd", 5, 65),
        ],
    )
    built.append(
        conversation(
            9,
            t,
            127,
            [
                customer(t, 901, 0, 127),
                participant("acd", [flowing]),
                participant("agent", [answered_by(t, 903, Q2, 60, 65, [(67, 127)], [], (127, 137, W4))], A3),
            ],
        )
    )
    # 10. A2's own outbound call: dialing, contacting, talk, wrap-up; no queue, offered to none.
    t = Clock(f"{DAY}T13:00:00")
    outbound = session(
        1001,
        [
            segment(t, 0, 5, "dialing"),
            segment(t, 5, 15, "contacting"),
            segment(t, 15, 195, "interact"),
            segment(t, 195, 205, "wrapup", wrapUpCode=W5),
        ],
        [
            metric(t, "tDialing", 5, 5),
            metric(t, "tContacting", 10, 15),
            metric(t, "tTalk", 180, 195),
            metric(t, "tAcw", 10, 205),
            metric(t, "tHandle", 205, 205),
        ],
        direction="outbound",
    )
    external = session(1002, [segment(t, 15, 195, "interact")], [], direction="outbound")
    built.append(
        conversation(
            10,
            t,
            195,
            [participant("agent", [outbound], A2), participant("external", [external])],
            originatingDirection="outbound",
        )
    )
    # 11. Across midnight UTC: offered and answered (after 30 s) on DAY, talk, wrap-up and handle on
    # NEXT_DAY; the object lands under DAY (its conversationStart).
    t = Clock(f"{DAY}T23:58:40")
    built.append(
        conversation(
            11,
            t,
            430,
            [
                customer(t, 1101, 0, 430),
                participant("acd", [queue_wait(t, 1102, Q1, 0, 25)]),
                participant("agent", [answered_by(t, 1103, Q1, 0, 25, [(30, 430)], [], (430, 470, W1))], A1),
            ],
        )
    )
    # 12. A web message in Q1, answered by A3 after 26 s.
    t = Clock(f"{DAY}T14:00:00")
    message_wait = queue_wait(t, 1202, Q1, 0, 25)
    message_wait["mediaType"] = "message"
    built.append(
        conversation(
            12,
            t,
            626,
            [
                customer(t, 1201, 0, 626, "message"),
                participant("acd", [message_wait]),
                participant(
                    "agent",
                    [answered_by(t, 1203, Q1, 0, 25, [(26, 626)], [], (626, 636, W4), media="message")],
                    A3,
                ),
            ],
        )
    )
    return built
