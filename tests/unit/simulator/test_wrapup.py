"""Ended is not settled: the agent's wrap-up stays open after conversationEnd for its ACW."""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from typing import Any

import pytest

from genesys_simulator import (
    NO_ACW,
    AcwDistribution,
    GenesysSimulator,
    SimConversation,
    synthetic_conversations,
)
from genesys_simulator.org import AGENTLESS_SHAPES
from tests.unit.simulator.conftest import (
    Api,
    FakeClock,
    agent_session,
    as_sampled,
    conversation,
    load_fixture,
    shape,
)

CONVERSATION_END = [{"predicates": [{"dimension": "conversationEnd", "operator": "exists"}]}]


def _fetch(api: Api, conversation_id: str) -> dict[str, Any]:
    body = api.multi_get([conversation_id]).json()
    found: dict[str, Any] = body["conversations"][0]
    return found


def test_wrapup_stays_open_after_the_end_for_its_acw(api: Api, clock: FakeClock) -> None:
    # Given a conversation that ends at once and whose agent then spends 84 s in wrap-up
    conv = conversation(0, acw_s=84.0, settled_after_s=84.0)
    api.simulator.add_conversations([conv])

    # When it is fetched during the wrap-up
    during = _fetch(api, conv.conversation_id)

    # Then it has ended but the wrap-up segment is open, shaped like the wrap-up-open sample
    assert "conversationEnd" in during
    wrapup = agent_session(during)["segments"][-1]
    assert wrapup["segmentType"] == "wrapup"
    assert "segmentEnd" not in wrapup
    assert [m["name"] for m in agent_session(during)["metrics"]] == [
        "tAlert",
        "tAnswered",
        "tTalk",
        "tTalkComplete",
    ]
    assert shape(as_sampled(during)) == shape(load_fixture("conversation-details-wrapup-open.json"))
    assert api.simulator.stats()["ended_conversations_returned"] == 1
    assert api.simulator.stats()["settled_conversations_returned"] == 0

    # When the 84 s have passed
    clock.advance(84)
    after = _fetch(api, conv.conversation_id)

    # Then the wrap-up has ended with a code, tAcw is 84 s, and the body is the settled sample's shape
    wrapup = agent_session(after)["segments"][-1]
    assert wrapup["segmentEnd"] > wrapup["segmentStart"] == after["conversationEnd"]
    assert wrapup["wrapUpCode"]
    metrics = {m["name"]: m["value"] for m in agent_session(after)["metrics"]}
    assert metrics["tAcw"] == 84_000
    assert metrics["tHandle"] == metrics["tTalk"] + 84_000
    assert shape(as_sampled(after)) == shape(load_fixture("conversation-details.json"))
    # And what a run reconciles against is that settled body
    assert api.simulator.final_details(conv.conversation_id) == after
    assert api.simulator.stats()["settled_conversations_returned"] == 1


def test_final_details_are_known_before_the_wrapup_ends(api: Api) -> None:
    conv = conversation(0, acw_s=300.0, settled_after_s=300.0)
    api.simulator.add_conversations([conv])

    final = api.simulator.final_details(conv.conversation_id)
    now = _fetch(api, conv.conversation_id)

    assert "segmentEnd" in agent_session(final)["segments"][-1]
    assert "segmentEnd" not in agent_session(now)["segments"][-1]
    # the same conversation: ids, start and end agree; only the wrap-up differs
    assert final["participants"][-1]["participantId"] == now["participants"][-1]["participantId"]
    assert final["conversationEnd"] == now["conversationEnd"]


def test_a_conversation_without_after_call_work_is_settled_as_it_ends(api: Api) -> None:
    # Given a conversation whose agent does no after-call work
    conv = conversation(0, acw_s=0.0)
    api.simulator.add_conversations([conv])

    # When fetched right after it ended
    details = _fetch(api, conv.conversation_id)

    # Then no segment is open, there is no wrap-up and no tAcw, and tHandle is the talk time
    agent = agent_session(details)
    assert [s["segmentType"] for s in agent["segments"]] == ["alert", "interact"]
    assert all("segmentEnd" in s for p in details["participants"] for s in p["sessions"][0]["segments"])
    metrics = {m["name"]: m["value"] for m in agent["metrics"]}
    assert "tAcw" not in metrics
    assert metrics["tHandle"] == metrics["tTalk"]
    assert api.simulator.stats()["settled_conversations_returned"] == 1


def test_an_open_conversation_keeps_its_participant_ids_when_it_ends(api: Api, clock: FakeClock) -> None:
    conv = conversation(0, ended_after_s=10.0, acw_s=30.0, settled_after_s=40.0)
    api.simulator.add_conversations([conv])

    phases = []
    for _ in range(3):
        phases.append(_fetch(api, conv.conversation_id))
        clock.advance(20)

    open_, wrapping, settled = phases
    assert "conversationEnd" not in open_
    assert "wrapUpCode" not in agent_session(wrapping)["segments"][-1]
    assert "wrapUpCode" in agent_session(settled)["segments"][-1]
    ids = {tuple(p["participantId"] for p in body["participants"]) for body in phases}
    assert len(ids) == 1


def test_a_conversation_in_wrapup_matches_a_conversation_end_filter(api: Api) -> None:
    conv = conversation(0, acw_s=60.0, settled_after_s=60.0)
    api.simulator.add_conversations([conv])

    body = api.post(
        "/api/v2/analytics/conversations/details/query",
        {"interval": "2026-11-20T00:00:00Z/2026-11-21T00:00:00Z", "conversationFilters": CONVERSATION_END},
    ).json()

    assert body["totalHits"] == 1


def test_lifecycle_tells_when_it_ends_and_settles(sim: GenesysSimulator, clock: FakeClock) -> None:
    sim.add_conversations(
        [conversation(0, visible_after_s=1.0, ended_after_s=5.0, acw_s=20.0, settled_after_s=25.0)]
    )

    life = sim.lifecycle(conversation(0).conversation_id)

    assert (life.visible_at, life.ended_at, life.settled_at) == (clock() + 1, clock() + 5, clock() + 25)
    assert life.revisions == 0
    times = sim.timeline(conversation(0).conversation_id)
    assert times.acw_ms == 20_000
    assert (times.wrapup_end - times.end).total_seconds() == 20


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"ended_after_s": 10.0, "settled_after_s": 5.0}, "not be before"),
        ({"ended_after_s": None, "settled_after_s": 5.0}, "needs ended_after_s"),
        ({"acw_s": 0.0, "settled_after_s": 5.0}, "settles when it ends"),
        ({"acw_s": -1.0}, "acw_s"),
    ],
)
def test_impossible_wrapups_are_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        conversation(0, **fields)


def test_the_acw_distribution_is_mostly_short_with_some_zeros_and_a_tail() -> None:
    # Given the default distribution
    acw = AcwDistribution()

    # When 20,000 durations are drawn
    rng = random.Random(7)
    durations = [acw.draw(rng) for _ in range(20_000)]

    # Then some are zero, most are 10-120 s, a tail lasts several minutes and none passes 10 minutes
    zero = sum(d == 0 for d in durations) / len(durations)
    short = sum(10 <= d <= 120 for d in durations) / len(durations)
    tail = sum(d >= 180 for d in durations) / len(durations)
    assert 0.13 <= zero <= 0.17
    assert short >= 0.7
    assert 0.04 <= tail <= 0.07
    assert max(durations) <= 600
    assert 35 <= statistics.median(d for d in durations if d > 0) <= 50
    # and the same seed draws the same durations
    again = random.Random(7)
    assert [acw.draw(again) for _ in range(20_000)] == durations


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"zero_share": 1.5}, "zero_share"),
        ({"zero_share": 0.6, "tail_share": 0.6}, "must not exceed 1"),
        ({"median_s": 0}, "median_s"),
        ({"tail_min_s": 700}, "tail_min_s"),
    ],
)
def test_a_bad_acw_distribution_is_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AcwDistribution(**fields)


def test_synthetic_conversations_wait_their_scaled_acw(make_sim: Callable[..., GenesysSimulator]) -> None:
    # Given 200 synthetic conversations ending after 2 s, with wrap-up waits at a twentieth of real time
    conversations = synthetic_conversations(200, seed=3, ended_after_s=2.0, time_scale=0.05)

    # Then each settles its ACW x 0.05 after it ends; about one in seven answered has no ACW at all,
    # and none that no agent answered has any
    for conv in conversations:
        assert conv.acw_s is not None
        assert conv.settled_after_s is not None
        assert conv.settled_after_s == pytest.approx(2.0 + conv.acw_s * 0.05)
    answered = [conv for conv in conversations if conv.shape not in AGENTLESS_SHAPES]
    assert 10 <= sum(conv.acw_s == 0 for conv in answered) <= 45
    assert all(conv.acw_s == 0 for conv in conversations if conv.shape in AGENTLESS_SHAPES)
    # and the same seed without wrap-up keeps the same ids, settled as they end
    plain = synthetic_conversations(200, seed=3, ended_after_s=2.0, acw=None)
    assert [c.conversation_id for c in plain] == [c.conversation_id for c in conversations]
    assert all(c.settled_after_s is None and c.acw_s is None for c in plain)
    assert all(c.acw_s == 0 for c in synthetic_conversations(5, acw=NO_ACW))


def test_a_default_conversation_settles_as_it_ends(api: Api) -> None:
    # Given a conversation without wrap-up timing (as callers before wrap-up was modelled add them)
    conv = SimConversation(conversation(0).conversation_id, start=conversation(0).start)
    api.simulator.add_conversations([conv])

    # Then its first fetch is its final body
    assert _fetch(api, conv.conversation_id) == api.simulator.final_details(conv.conversation_id)
