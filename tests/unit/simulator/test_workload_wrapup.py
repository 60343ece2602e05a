"""The local run's workload: the end events of each shape; acw events come when the simulated wrap-up
ends, and carry its code."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from genesys_simulator import NO_ACW, render_details, timeline
from genesys_simulator.org import AGENTLESS_SHAPES
from local_runner.workload import (
    WRAPUP_TOPICS,
    PlannedConversation,
    Readiness,
    Workload,
    WorkloadSpec,
    synthesize,
)
from tests.unit.simulator.conftest import Api, FakeClock, agent_session

NOW = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)


def _spec(**overrides: Any) -> WorkloadSpec:
    settings: dict[str, Any] = {
        "conversations": 300,
        "seed": 4,
        "settle_delay_s": 3.0,
        "not_ready_backoff_s": 1.0,
        "late_rate": 0.1,
        "never_rate": 0.01,
        "now": NOW,
        "time_scale": 0.05,
    }
    return WorkloadSpec(**(settings | overrides))


def test_acw_events_wait_for_the_end_of_wrapup_and_carry_its_code_and_duration() -> None:
    # Given a workload at a twentieth of real time
    workload = synthesize(_spec(), "eu-west-1")
    acw_events = [e for e in workload.events if e.topic in WRAPUP_TOPICS and e.conversation_id]

    # Then every acw event is held until its conversation's wrap-up has ended, ACW x 0.05 after the end
    assert acw_events
    for planned in acw_events:
        assert planned.conversation_id is not None
        plan = workload.conversations[planned.conversation_id]
        if plan.readiness is Readiness.NEVER:
            continue  # it never ends, so nothing to wait for
        assert plan.acw_s
        assert plan.ended_after_s is not None
        assert planned.not_before_s == plan.settled_after_s
        assert plan.settled_after_s == plan.ended_after_s + plan.acw_s * 0.05

        # And it carries the wrap-up code and duration of the final details, sent when wrap-up ended
        body = planned.event["detail"]["eventBody"]
        wrapup = _final_wrapup(plan)
        assert body["wrapupCode"] == wrapup["segment"]["wrapUpCode"]
        assert body["wrapupDurationMs"] == wrapup["tAcw"]
        assert planned.event["detail"]["timestamp"] == wrapup["segment"]["segmentEnd"]
    # The other events come as soon as they are ingested
    assert {e.not_before_s for e in workload.events if e.topic not in WRAPUP_TOPICS} == {0.0}


def _final_wrapup(plan: PlannedConversation) -> dict[str, Any]:
    details = render_details(plan.sim_conversation(), ended=True, division_id="d")
    agent = agent_session(details)
    metrics = {m["name"]: m["value"] for m in agent["metrics"]}
    return {"segment": agent["segments"][-1], "tAcw": metrics["tAcw"]}


def test_conversations_without_after_call_work_send_no_acw_event() -> None:
    workload = synthesize(_spec(), "eu-west-1")

    without = {cid for cid, plan in workload.conversations.items() if plan.acw_s == 0}
    acw_ids = {e.conversation_id for e in workload.events if e.topic == "acw"}

    assert without
    assert not without & acw_ids
    # and wrap-up leaves the conversations, their readiness and their other events as the seed had them
    plain = synthesize(_spec(acw=NO_ACW), "eu-west-1")
    assert list(plain.conversations) == list(workload.conversations)
    assert [p.readiness for p in plain.conversations.values()] == [
        p.readiness for p in workload.conversations.values()
    ]
    assert _end_events(plain) == _end_events(workload)


def _end_events(workload: Workload) -> list[Any]:
    return [e.event for e in workload.events if e.conversation_id and e.topic not in WRAPUP_TOPICS]


def test_a_planned_conversation_is_served_ended_then_settled(api: Api, clock: FakeClock) -> None:
    # Given a planned conversation added to the simulator at its first event
    workload = synthesize(_spec(never_rate=0.0, late_rate=0.0), "eu-west-1")
    plan = next(p for p in workload.conversations.values() if p.acw_s and p.acw_s > 30)
    api.simulator.add_conversations([plan.sim_conversation()])
    assert plan.ended_after_s is not None
    assert plan.settled_after_s is not None

    # When fetched once it has ended and again once its wrap-up has ended
    clock.advance(plan.ended_after_s)
    ended = api.multi_get([plan.conversation_id]).json()["conversations"][0]
    clock.advance(plan.settled_after_s - plan.ended_after_s)
    settled = api.multi_get([plan.conversation_id]).json()["conversations"][0]

    # Then the first still has the wrap-up open, the second is the final body
    assert "conversationEnd" in ended
    assert "segmentEnd" not in agent_session(ended)["segments"][-1]
    assert settled == api.simulator.final_details(plan.conversation_id) != ended


def test_each_conversation_sends_the_end_events_of_its_shape() -> None:
    # Given a workload with every end topic subscribed
    workload = synthesize(_spec(), "eu-west-1")
    topics: dict[str, set[str]] = {cid: set() for cid in workload.conversations}
    for planned in workload.events:
        if planned.conversation_id:
            topics[planned.conversation_id].add(str(planned.topic))
            body = planned.event["detail"]["eventBody"]
            assert body["mediaType"] == str(workload.conversations[planned.conversation_id].media).upper()

    # Then each conversation sends the end event of each of its participants, acw after an agent's
    # wrap-up only, and its details ended before the events were sent
    assert {p.shape for p in workload.conversations.values()} >= {"answered", "abandon", "outbound"}
    for cid, plan in workload.conversations.items():
        times = timeline(plan.sim_conversation())
        answered = plan.shape not in AGENTLESS_SHAPES
        assert ("user.end" in topics[cid]) == answered
        assert ("acw" in topics[cid]) == (answered and times.acw_ms > 0)
        assert ("customer.end" in topics[cid]) == ("acd.end" in topics[cid]) == (plan.shape != "outbound")
        assert ("flow.end" in topics[cid]) == (plan.media == "voice" and plan.shape != "outbound")
        assert ("voicemail.end" in topics[cid]) == (plan.shape == "voicemail")
        assert times.end < NOW

    # And with customer.end alone subscribed (prod), an outbound call sends nothing: only the
    # closing audit can land it
    prod = synthesize(_spec(topics=frozenset({"customer.end"})), "eu-west-1")
    assert prod.silent_ids() == {cid for cid, p in prod.conversations.items() if p.shape == "outbound"}
