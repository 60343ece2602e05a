"""Conversation shapes held against the metric definitions: every shape, every media type it takes."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest

from genesys_simulator import SimConversation, build_org, render_details
from genesys_simulator.org import AGENTLESS_SHAPES, SHAPE_MEDIA, TRANSFER_SHAPES
from tests.unit.simulator.conftest import DAY

ORG = build_org()
COMBINATIONS = [(shape, media) for shape, media_types in SHAPE_MEDIA.items() for media in sorted(media_types)]


def _conversations(shape: str, media: str, count: int = 6, **fields: Any) -> list[dict[str, Any]]:
    return [
        render_details(
            SimConversation(
                str(uuid.UUID(int=n * 7919 + 1, version=4)), DAY, shape=shape, media=media, **fields
            ),
            ended=True,
            division_id=ORG.home.id,
        )
        for n in range(count)
    ]


def _sessions(body: dict[str, Any], purpose: str) -> list[dict[str, Any]]:
    return [s for p in body["participants"] if p["purpose"] == purpose for s in p["sessions"]]


def _metrics(session: dict[str, Any]) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for metric in session["metrics"]:
        totals[metric["name"]] += metric["value"]
    return dict(totals)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _ms(start: str, end: str) -> int:
    return round((_at(end) - _at(start)) / timedelta(milliseconds=1))


@pytest.mark.parametrize(("shape", "media"), COMBINATIONS)
def test_every_shape_keeps_the_metric_definitions(shape: str, media: str) -> None:
    for body in _conversations(shape, media):
        start, end = body["conversationStart"], body["conversationEnd"]
        assert start < end
        for participant in body["participants"]:
            for session in participant["sessions"]:
                segments = session["segments"]
                # every metric is emitted inside its session's segments, t* in ms and n* counts
                for metric in session["metrics"]:
                    assert segments[0]["segmentStart"] <= metric["emitDate"] <= segments[-1]["segmentEnd"]
                    assert isinstance(metric["value"], int)
                    assert metric["value"] >= 0
                    assert metric["value"] == 1 or not metric["name"].startswith("n")
                assert all(s["segmentStart"] < s["segmentEnd"] for s in segments)
                if participant["purpose"] in ("customer", "external", "acd", "agent"):
                    assert session["mediaType"] == media
        for agent in _sessions(body, "agent"):
            totals = _metrics(agent)
            # handle = talk + hold + after-call work, per agent session
            assert totals["tHandle"] == totals["tTalk"] + totals.get("tHeld", 0) + totals.get("tAcw", 0)
            # talk, hold and wrap-up are the lengths of their segments, each carrying the routing queue
            for kind, name in (("interact", "tTalk"), ("hold", "tHeld"), ("wrapup", "tAcw")):
                spans = [
                    _ms(s["segmentStart"], s["segmentEnd"])
                    for s in agent["segments"]
                    if s["segmentType"] == kind
                ]
                assert sum(spans) == totals.get(name, 0)
            assert len({s["queueId"] for s in agent["segments"]}) == 1
            assert all("wrapUpCode" in s for s in agent["segments"] if s["segmentType"] == "wrapup")
        for acd in _sessions(body, "acd"):
            [wait] = acd["segments"]
            assert _metrics(acd)["tAcd"] == _ms(wait["segmentStart"], wait["segmentEnd"])
            assert _metrics(acd)["nOffered"] == 1


@pytest.mark.parametrize(
    ("shape", "media"), [c for c in COMBINATIONS if c[0] not in AGENTLESS_SHAPES | {"outbound"}]
)
def test_an_answer_is_timed_from_entering_the_queue_that_routed_the_agent(shape: str, media: str) -> None:
    for body in _conversations(shape, media):
        waits = {s["segments"][0]["segmentEnd"]: s["segments"][0] for s in _sessions(body, "acd")}
        agents = _sessions(body, "agent")
        assert len(agents) == len(waits) == (2 if shape in TRANSFER_SHAPES else 1)
        for agent in agents:
            alert = agent["segments"][0]
            wait = waits[alert["segmentEnd"]]  # the agent answered as the queue wait ended
            assert alert["queueId"] == wait["queueId"]
            assert _metrics(agent)["tAnswered"] == _ms(wait["segmentStart"], alert["segmentEnd"])
            assert _metrics(agent)["tAlert"] == _ms(alert["segmentStart"], alert["segmentEnd"])


@pytest.mark.parametrize(("shape", "media"), [c for c in COMBINATIONS if c[0] in TRANSFER_SHAPES])
def test_a_transfer_leaves_one_queue_for_another(shape: str, media: str) -> None:
    kind = "nBlindTransferred" if shape == "blind_transfer" else "nConsultTransferred"
    for body in _conversations(shape, media):
        first, second = _sessions(body, "agent")
        first_wait, second_wait = _sessions(body, "acd")
        assert first["segments"][0]["queueId"] == first_wait["segments"][0]["queueId"]
        assert second["segments"][0]["queueId"] == second_wait["segments"][0]["queueId"]
        assert first_wait["segments"][0]["queueId"] != second_wait["segments"][0]["queueId"]
        assert _metrics(first)["nTransferred"] == _metrics(first)[kind] == 1
        assert "nTransferred" not in _metrics(second)
        # the second queue is entered as the first agent hands over, and the first agent's wrap-up
        # ends before the conversation does
        handed = next(s["segmentEnd"] for s in first["segments"] if s["segmentType"] == "interact")
        assert second_wait["segments"][0]["segmentStart"] == handed
        assert (
            first["segments"][-1]["segmentEnd"]
            < body["conversationEnd"]
            <= second["segments"][-1]["segmentEnd"]
        )


@pytest.mark.parametrize(("shape", "media"), [c for c in COMBINATIONS if c[0] in AGENTLESS_SHAPES])
def test_abandons_and_flow_outs_reach_no_agent(shape: str, media: str) -> None:
    for body in _conversations(shape, media):
        assert not _sessions(body, "agent")
        [acd] = _sessions(body, "acd")
        totals = _metrics(acd)
        if shape == "voicemail":
            assert totals["tFlowOut"] == totals["tAcd"]
            assert "tAbandon" not in totals
            [message] = _sessions(body, "voicemail")
            assert message["segments"][0]["segmentEnd"] == body["conversationEnd"]
            continue
        assert totals["tAbandon"] == totals["tAcd"]
        assert acd["segments"][0]["segmentEnd"] == body["conversationEnd"]
        # a short abandon is one within the threshold (10 s by default), and only that one
        assert (
            ("tShortAbandon" in totals)
            == (totals["tAbandon"] < ORG.short_abandon_ms)
            == (shape == "short_abandon")
        )


def test_the_other_shapes_carry_their_own_parts() -> None:
    # an inbound call starts in the call flow, which transfers it to the queue
    call = _conversations("answered", "voice", 1)[0]
    [flow] = _sessions(call, "ivr")
    [wait] = _sessions(call, "acd")
    assert flow["flow"]["transferTargetAddress"] == wait["segments"][0]["queueId"]
    assert flow["segments"][0]["segmentEnd"] == wait["segments"][0]["segmentStart"]
    assert flow["flow"]["flowId"] in {f.id for f in ORG.flows}
    # a held call has a hold between two talks
    held = _sessions(_conversations("held", "voice", 1)[0], "agent")[0]
    assert [s["segmentType"] for s in held["segments"]] == ["alert", "interact", "hold", "interact", "wrapup"]
    # an outbound call: the agent's session is outbound and no queue wait offered it
    outbound = _conversations("outbound", "voice", 1)[0]
    assert outbound["originatingDirection"] == "outbound"
    assert [p["purpose"] for p in outbound["participants"]] == ["agent", "external"]
    assert _sessions(outbound, "agent")[0]["direction"] == "outbound"
    # a callback: the customer's number to call back, and the agent dials it after accepting
    callback = _conversations("answered", "callback", 1)[0]
    assert _sessions(callback, "customer")[0]["callbackNumbers"]
    kinds = [s["segmentType"] for s in _sessions(callback, "agent")[0]["segments"]]
    assert kinds == ["alert", "dialing", "interact", "wrapup"]
    # digital media carry no voice quality figures
    assert "mediaStatsMinConversationMos" in call
    assert "mediaStatsMinConversationMos" not in _conversations("answered", "email", 1)[0]


@pytest.mark.parametrize(("shape", "media"), COMBINATIONS)
def test_open_and_wrapup_phases_show_only_what_has_happened(shape: str, media: str) -> None:
    conversation = SimConversation(
        str(uuid.UUID(int=5, version=4)), DAY, shape=shape, media=media, acw_s=30.0
    )
    open_ = render_details(conversation, ended=False, division_id=ORG.home.id)
    wrapup = render_details(conversation, ended=True, settled=False, division_id=ORG.home.id)
    end = render_details(conversation, ended=True, division_id=ORG.home.id)["conversationEnd"]

    def running(body: dict[str, Any]) -> list[str]:
        return [
            g["segmentType"]
            for p in body["participants"]
            for s in p["sessions"]
            for g in s["segments"]
            if "segmentEnd" not in g
        ]

    def emitted(body: dict[str, Any]) -> list[str]:
        return [m["emitDate"] for p in body["participants"] for s in p["sessions"] for m in s["metrics"]]

    assert "conversationEnd" not in open_
    assert running(open_)
    assert "wrapup" not in running(open_)
    assert all(at < end for at in emitted(open_))
    # ended: only the final wrap-up runs on (an agent's), without its code
    assert running(wrapup) == ([] if shape in AGENTLESS_SHAPES else ["wrapup"])
    assert all(at <= end for at in emitted(wrapup))
    assert not any(
        "wrapUpCode" in g
        for p in wrapup["participants"]
        for s in p["sessions"]
        for g in s["segments"]
        if "segmentEnd" not in g
    )


@pytest.mark.parametrize("shape", sorted(SHAPE_MEDIA))
def test_a_given_duration_is_the_span_to_conversation_end(shape: str) -> None:
    media = sorted(SHAPE_MEDIA[shape])[0]
    for body in _conversations(shape, media, duration_s=95.5):
        assert _ms(body["conversationStart"], body["conversationEnd"]) == 95_500
