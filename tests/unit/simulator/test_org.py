"""The org model: a reproducible contact centre whose queues, agents and codes recur across conversations."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from genesys_simulator import OrgSpec, build_org, render_details, synthetic_conversations
from tests.unit.simulator.conftest import QUERY, Api, conversation

ORG = build_org()


def _bodies(count: int, **options: Any) -> list[dict[str, Any]]:
    return [
        render_details(c, ended=True, division_id=ORG.home.id)
        for c in synthetic_conversations(count, **options)
    ]


def _values(bodies: list[dict[str, Any]], key: str) -> Counter[str]:
    """In how many conversations each value of ``key`` (a segment's or a participant's) appears."""
    found: Counter[str] = Counter()
    for body in bodies:
        values = {p[key] for p in body["participants"] if key in p}
        values |= {
            g[key] for p in body["participants"] for s in p["sessions"] for g in s["segments"] if key in g
        }
        found.update(values)
    return found


def test_the_default_org_is_a_mid_size_centre_built_the_same_every_time() -> None:
    assert (len(ORG.queues), len(ORG.agents), len(ORG.divisions)) == (10, 100, 4)
    assert build_org(OrgSpec()) == ORG
    assert build_org(OrgSpec(seed=1)).queues[0].id != ORG.queues[0].id
    assert all(ORG.members[q.id] for q in ORG.queues)  # every queue has agents
    assert len({a.email for a in ORG.agents}) == len(ORG.agents)
    assert Counter(a.state for a in ORG.agents) == {"active": 93, "deleted": 4, "inactive": 3}
    # Genesys' default service level, 80% in 20 s, unless a queue sets its own
    assert ORG.queues[0].service_levels["voice"] == (0.8, 20_000)
    assert dict(ORG.queues[5].service_levels) == {"email": (0.9, 14_400_000)}


def test_queues_agents_and_codes_recur_across_conversations() -> None:
    bodies = _bodies(600, seed=3)

    queues, codes, agents = (
        _values(bodies, "queueId"),
        _values(bodies, "wrapUpCode"),
        _values(bodies, "userId"),
    )
    assert set(queues) == {q.id for q in ORG.queues}
    assert set(codes) == {c.id for c in ORG.wrapup_codes}
    assert set(agents) <= {a.id for a in ORG.agents}
    assert len(agents) > 80
    # no queue, code or agent is a one-off
    assert min(queues.values()) >= 5
    assert min(codes.values()) >= 20
    assert sum(agents.values()) / len(agents) > 4
    skills = {
        s
        for b in bodies
        for p in b["participants"]
        for s in p["sessions"]
        for g in s["segments"]
        for s in g.get("requestedRoutingSkillIds", [])
    }
    assert skills <= {s.id for s in ORG.skills}


def test_the_shapes_come_in_their_shares_which_are_configurable() -> None:
    conversations = synthetic_conversations(4000, seed=5)
    shares = Counter(c.shape for c in conversations)
    for shape, share, _ in ORG.shapes:
        assert abs(shares[shape] / 4000 - share) < 0.02, shape
    media = Counter(c.media for c in conversations)
    assert set(media) == {"voice", "callback", "chat", "message", "email"}

    only_abandons = build_org(OrgSpec(shares={"abandon": 1.0}))
    assert {c.shape for c in synthetic_conversations(50, org=only_abandons)} == {"abandon"}


def test_some_conversations_cross_midnight_utc() -> None:
    conversations = synthetic_conversations(200, seed=2)
    bodies = [render_details(c, ended=True, division_id="d") for c in conversations]

    crossing = [b for b in bodies if b["conversationStart"][:10] != b["conversationEnd"][:10]]
    assert len(crossing) >= 4  # 2% of 200, and any that cross by themselves
    for body in crossing:
        day_after = body["conversationEnd"][:10]
        emitted = [
            m["emitDate"][:10] for p in body["participants"] for s in p["sessions"] for m in s["metrics"]
        ]
        assert day_after in emitted


def test_arrivals_follow_the_hours_of_the_day() -> None:
    day = datetime(2026, 11, 20, tzinfo=UTC)
    starts = [
        c.start for c in synthetic_conversations(3000, seed=4, spacing_s=None, start=day, midnight_share=0.0)
    ]

    assert all(day <= start < day + timedelta(days=1) for start in starts)
    hours = Counter(start.hour for start in starts)
    assert sum(hours[h] for h in range(9, 17)) > 10 * sum(hours[h] for h in range(0, 5))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (OrgSpec(queues=0), "queues must be between"),
        (OrgSpec(queues=13), "queues must be between"),
        (OrgSpec(agents=5), "agents must be at least"),
        (OrgSpec(shares={"abandon": -1.0, "answered": 1.0}), "non-negative"),
        (OrgSpec(shares={"lunch": 1.0}), "non-negative"),
        (OrgSpec(queues=5, shares={"answered": 1.0}), "needs 1 queue"),
        (OrgSpec(queues=2, shares={"blind_transfer": 1.0}), "needs 2 queue"),
    ],
)
def test_an_org_that_cannot_serve_its_shapes_is_refused(spec: OrgSpec, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_org(spec)


def test_the_query_filters_by_division_and_direction(api: Api) -> None:
    call = conversation(0)
    outbound = conversation(1, shape="outbound")
    api.simulator.add_conversations([call, outbound])
    queue_division = api.simulator.timeline(call.conversation_id).division_ids[-1]

    def hits(dimension: str, value: str) -> int:
        predicate = {"type": "dimension", "dimension": dimension, "operator": "matches", "value": value}
        body = {
            "interval": "2026-11-20T00:00:00Z/2026-11-21T00:00:00Z",
            "conversationFilters": [{"predicates": [predicate]}],
        }
        found: int = api.post(QUERY, body).json()["totalHits"]
        return found

    assert hits("originatingDirection", "outbound") == 1
    assert hits("divisionId", api.simulator.org.home.id) == 2
    assert queue_division != api.simulator.org.home.id
    assert hits("divisionId", queue_division) >= 1
