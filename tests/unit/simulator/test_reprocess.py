"""Changes after the fact: nightly reprocessing of settled bodies, reopened messaging and e-mail threads."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from genesys_simulator import GenesysSimulator, SimConversation
from tests.unit.simulator.conftest import Api, FakeClock, agent_session, conversation


def _by_id(api: Api, ids: list[str]) -> dict[str, dict[str, Any]]:
    return {c["conversationId"]: c for c in api.multi_get(ids).json()["conversations"]}


def test_reprocessing_changes_the_chosen_settled_bodies(api: Api) -> None:
    # Given three settled conversations, fetched once
    convs = [conversation(i, acw_s=45.0) for i in range(3)]
    api.simulator.add_conversations(convs)
    ids = [c.conversation_id for c in convs]
    before = _by_id(api, ids)

    # When the first two are reprocessed
    changed = api.simulator.reprocess(ids[:2], random.Random(1))
    after = _by_id(api, ids)

    # Then those two read differently (a corrected wrap-up code, a retroactive metric), the third
    # does not, and the final bodies are the changed ones
    assert changed == ids[:2]
    for conversation_id in ids[:2]:
        old, new = before[conversation_id], after[conversation_id]
        assert new != old
        assert (
            agent_session(new)["segments"][-1]["wrapUpCode"]
            != agent_session(old)["segments"][-1]["wrapUpCode"]
        )
        assert "tAgentResponseTime" in {m["name"] for m in agent_session(new)["metrics"]}
        assert new["conversationEnd"] == old["conversationEnd"]
        assert api.simulator.final_details(conversation_id) == new
        assert api.simulator.lifecycle(conversation_id).revisions == 1
    assert after[ids[2]] == before[ids[2]]


def test_every_pass_changes_the_body_again_and_the_same_seed_makes_the_same_change(
    sim: GenesysSimulator,
) -> None:
    conv = conversation(0, acw_s=0.0)  # without a wrap-up only the metric can change
    sim.add_conversations([conv])
    first = sim.final_details(conv.conversation_id)

    sim.reprocess([conv.conversation_id], random.Random(5))
    second = sim.final_details(conv.conversation_id)
    sim.reprocess([conv.conversation_id], random.Random(5))
    third = sim.final_details(conv.conversation_id)

    assert first != second != third
    twin = GenesysSimulator(sim.config)
    twin.add_conversations([conv])
    twin.reprocess([conv.conversation_id], random.Random(5))
    assert twin.final_details(conv.conversation_id) == second


def test_a_conversation_still_in_wrapup_shows_the_change_once_settled(api: Api, clock: FakeClock) -> None:
    conv = conversation(0, acw_s=30.0, settled_after_s=30.0)
    api.simulator.add_conversations([conv])
    untouched_final = api.simulator.final_details(conv.conversation_id)

    api.simulator.reprocess([conv.conversation_id], random.Random(2))
    during = _by_id(api, [conv.conversation_id])[conv.conversation_id]
    clock.advance(30)
    settled = _by_id(api, [conv.conversation_id])[conv.conversation_id]

    assert "tAgentResponseTime" not in {m["name"] for m in agent_session(during)["metrics"]}
    assert settled == api.simulator.final_details(conv.conversation_id) != untouched_final


def test_reprocessing_an_unknown_id_changes_nothing(sim: GenesysSimulator) -> None:
    known = conversation(0)
    sim.add_conversations([known])
    before = sim.final_details(known.conversation_id)

    with pytest.raises(KeyError, match="no conversation"):
        sim.reprocess([known.conversation_id, conversation(9).conversation_id])

    assert sim.final_details(known.conversation_id) == before
    assert sim.lifecycle(known.conversation_id).revisions == 0
    with pytest.raises(KeyError):
        sim.final_details(conversation(9).conversation_id)


def _recent(index: int, sim: GenesysSimulator, media: str, **fields: Any) -> SimConversation:
    """A conversation that started an hour before the simulated now (a thread reopens within 72 h)."""
    settings: dict[str, Any] = {"acw_s": 20.0, "settled_after_s": 20.0} | fields
    return conversation(index, start=sim.now() - timedelta(hours=1), media=media, **settings)


@pytest.mark.parametrize("media", ["message", "email"])
def test_a_reopened_conversation_is_open_again_then_ends_later(
    api: Api, clock: FakeClock, media: str
) -> None:
    # Given a messaging (or e-mail) conversation that has ended and settled
    conv = _recent(0, api.simulator, media)
    api.simulator.add_conversations([conv])
    clock.advance(20)
    ended = _by_id(api, [conv.conversation_id])[conv.conversation_id]
    segments = len(agent_session(ended)["segments"])

    # When a new message reopens it, ending again 30 s later and settling 50 s later
    assert api.simulator.reopen([conv.conversation_id], ended_after_s=30, settled_after_s=50) == [
        conv.conversation_id
    ]
    reopened = _by_id(api, [conv.conversation_id])[conv.conversation_id]

    # Then it is open: no conversationEnd, the first round all ended, a new round running from now
    assert "conversationEnd" not in reopened
    customer = next(p for p in reopened["participants"] if p["purpose"] == "customer")
    assert "segmentEnd" not in customer["sessions"][-1]["segments"][-1]
    assert customer["sessions"][-1]["segments"][-1]["segmentStart"] >= ended["conversationEnd"]
    assert agent_session(reopened, 0)["segments"] == agent_session(ended)["segments"][:segments]
    assert api.simulator.lifecycle(conv.conversation_id).reopens == 1

    # And it ends again later, with a new wrap-up, then settles; the final body is that one
    clock.advance(30)
    again = _by_id(api, [conv.conversation_id])[conv.conversation_id]
    assert again["conversationEnd"] > ended["conversationEnd"]
    assert "segmentEnd" not in agent_session(again)["segments"][-1]
    clock.advance(20)
    settled = _by_id(api, [conv.conversation_id])[conv.conversation_id]
    assert settled == api.simulator.final_details(conv.conversation_id) != ended
    assert [p["purpose"] for p in settled["participants"]].count("agent") == 2


def test_only_ended_message_and_email_conversations_reopen(sim: GenesysSimulator) -> None:
    call = conversation(0)
    chat = conversation(1, media="chat")
    live = _recent(2, sim, "message", ended_after_s=None, settled_after_s=None)
    stale = conversation(3, media="message")  # ended long before the simulated now
    sim.add_conversations([call, chat, live, stale])
    before = {c.conversation_id: sim.final_details(c.conversation_id) for c in (call, chat, live, stale)}

    for conv, message in ((call, "voice"), (chat, "chat"), (live, "has not ended"), (stale, "too long ago")):
        with pytest.raises(ValueError, match=message):
            sim.reopen([conv.conversation_id])
    with pytest.raises(KeyError):
        sim.reopen([conversation(9).conversation_id])

    assert {c: sim.final_details(c) for c in before} == before
    assert sim.lifecycle(live.conversation_id).reopens == 0
