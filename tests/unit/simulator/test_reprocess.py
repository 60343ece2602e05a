"""Nightly reprocessing on demand: settled bodies change after they were fetched."""

from __future__ import annotations

import random
from typing import Any

import pytest

from genesys_simulator import GenesysSimulator
from tests.unit.simulator.conftest import Api, FakeClock, conversation


def _by_id(api: Api, ids: list[str]) -> dict[str, dict[str, Any]]:
    return {c["conversationId"]: c for c in api.multi_get(ids).json()["conversations"]}


def _agent(details: dict[str, Any]) -> dict[str, Any]:
    session: dict[str, Any] = details["participants"][1]["sessions"][0]
    return session


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
        assert _agent(new)["segments"][-1]["wrapUpCode"] != _agent(old)["segments"][-1]["wrapUpCode"]
        assert "tAgentResponseTime" in {m["name"] for m in _agent(new)["metrics"]}
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

    assert "tAgentResponseTime" not in {m["name"] for m in _agent(during)["metrics"]}
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
