"""Multi-get and single get: visibility and ending over (injected) time, id validation."""

from __future__ import annotations

import uuid

import pytest

from genesys_simulator import GenesysSimulator, SimConversation, render_details, synthetic_conversations
from tests.unit.simulator.conftest import Api, FakeClock, agent_session, conversation

# Top-level keys of tests/fixtures/conversation-details.json (an ended conversation).
FIXTURE_KEYS = {
    "conversationId",
    "conversationStart",
    "conversationEnd",
    "originatingDirection",
    "divisionIds",
    "mediaStatsMinConversationMos",
    "mediaStatsMinConversationRFactor",
    "participants",
}


def _ids(response_json: dict[str, object]) -> list[str]:
    conversations = response_json.get("conversations", [])
    assert isinstance(conversations, list)
    return [c["conversationId"] for c in conversations]


def test_multi_get_shows_conversations_as_they_appear_and_end(api: Api, clock: FakeClock) -> None:
    # Given one ended conversation, one appearing after 10 s and ending after 30 s, one never ending
    ended = conversation(0)
    late = conversation(1, visible_after_s=10, ended_after_s=30)
    never = conversation(2, ended_after_s=None)
    unknown = str(uuid.uuid4())
    api.simulator.add_conversations([ended, late, never])
    ids = [ended.conversation_id, late.conversation_id, never.conversation_id, unknown]

    # When asked right away: the late one is absent, the never-ending one has no conversationEnd
    now = api.multi_get(ids).json()
    assert _ids(now) == [ended.conversation_id, never.conversation_id]
    assert "conversationEnd" in now["conversations"][0]
    assert "conversationEnd" not in now["conversations"][1]

    # When 10 s have passed, the late one is visible but not ended
    clock.advance(10)
    later = {c["conversationId"]: c for c in api.multi_get(ids).json()["conversations"]}
    assert set(later) == {ended.conversation_id, late.conversation_id, never.conversation_id}
    assert "conversationEnd" not in later[late.conversation_id]

    # When 30 s have passed, it has ended; the never-ending one still has not, even an hour later
    clock.advance(20)
    assert (
        "conversationEnd"
        in {c["conversationId"]: c for c in api.multi_get(ids).json()["conversations"]}[late.conversation_id]
    )
    clock.advance(3_600)
    final = {c["conversationId"]: c for c in api.multi_get(ids).json()["conversations"]}
    assert "conversationEnd" not in final[never.conversation_id]
    assert unknown not in final


def test_details_have_the_fixture_shape(api: Api) -> None:
    # Given an ended conversation
    conv = conversation(0)
    api.simulator.add_conversations([conv])

    # When fetched
    details = api.multi_get([conv.conversation_id]).json()["conversations"][0]

    # Then it carries the fixture's fields, its id and start, and an end after the start
    assert set(details) == FIXTURE_KEYS
    assert details["conversationId"] == conv.conversation_id
    assert details["conversationStart"] == "2026-11-20T00:00:00.000Z"
    assert details["conversationEnd"] > details["conversationStart"]
    assert [p["purpose"] for p in details["participants"]] == ["customer", "ivr", "acd", "agent"]
    agent_segments = agent_session(details)["segments"]
    assert [s["segmentType"] for s in agent_segments] == ["alert", "interact", "wrapup"]
    # and the same id always renders the same JSON (benchmarks compare runs)
    assert details == render_details(conv, ended=True, division_id=api.simulator.config.division_id)


def test_an_open_conversation_has_open_segments_and_no_wrapup() -> None:
    conv = conversation(3)
    details = render_details(conv, ended=False, division_id="d")

    agent_segments = agent_session(details)["segments"]
    assert [s["segmentType"] for s in agent_segments] == ["alert", "interact"]
    assert "segmentEnd" not in agent_segments[-1]


def test_duplicate_ids_are_answered_once(api: Api) -> None:
    conv = conversation(0)
    api.simulator.add_conversations([conv])

    body = api.multi_get([conv.conversation_id, conv.conversation_id.upper()]).json()

    assert _ids(body) == [conv.conversation_id]


def test_more_ids_than_the_limit_is_a_400(api: Api) -> None:
    ids = [str(uuid.uuid4()) for _ in range(101)]

    at_limit = api.multi_get(ids[:100])
    over = api.multi_get(ids)

    assert at_limit.status_code == 200
    assert at_limit.json() == {"conversations": []}
    assert over.status_code == 400
    body = over.json()
    assert body["code"] == "bad.request"
    assert body["status"] == 400
    assert "101" in body["message"]
    assert body["contextId"] == over.headers["ININ-Correlation-Id"]


def test_a_malformed_id_is_a_400(api: Api) -> None:
    response = api.multi_get([str(uuid.uuid4()), "not-a-uuid"])

    assert response.status_code == 400
    assert "not-a-uuid" in response.json()["message"]


def test_single_get_returns_a_visible_conversation_and_404_otherwise(api: Api) -> None:
    visible, hidden = conversation(0), conversation(1, visible_after_s=60)
    api.simulator.add_conversations([visible, hidden])

    found = api.get(f"/api/v2/analytics/conversations/{visible.conversation_id}/details")
    not_yet = api.get(f"/api/v2/analytics/conversations/{hidden.conversation_id}/details")
    malformed = api.get("/api/v2/analytics/conversations/xyz/details")

    assert found.status_code == 200
    assert found.json()["conversationId"] == visible.conversation_id
    assert not_yet.status_code == 404
    assert malformed.status_code == 400


def test_many_conversations_are_cheap_to_add(sim: GenesysSimulator) -> None:
    # Given the shares a chaos run asks for
    conversations = synthetic_conversations(20_000, seed=7, late_share=0.1, never_share=0.01)

    # When added
    sim.add_conversations(conversations)

    # Then all are registered with exact shares, reproducibly
    assert sim.conversation_count == 20_000
    assert sum(c.ended_after_s is None for c in conversations) == 200
    assert sum(c.ended_after_s == 30.0 for c in conversations) == 2_000
    again = synthetic_conversations(20_000, seed=7, late_share=0.1, never_share=0.01)
    assert [c.conversation_id for c in again[:5]] == [c.conversation_id for c in conversations[:5]]


def test_sim_conversation_normalises_ids_and_rejects_bad_ones() -> None:
    upper = SimConversation(str(uuid.UUID(int=5)).upper(), start=conversation(0).start)
    assert upper.conversation_id == str(uuid.UUID(int=5))
    with pytest.raises(ValueError, match="UUID string"):
        SimConversation("nope", start=conversation(0).start)


def test_unknown_paths_are_404(api: Api) -> None:
    response = api.get("/api/v2/nothing/here")

    assert response.status_code == 404
    assert response.json()["code"] == "not.found"
