"""The details query: interval semantics, interval and paging limits, conversationId filters, totalHits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from genesys_simulator import GenesysSimulator
from tests.unit.simulator.conftest import DAY, QUERY, Api, conversation

INTERVAL = "2026-11-20T00:00:00.000Z/2026-11-21T00:00:00.000Z"


@pytest.fixture
def loaded(api: Api) -> Api:
    # Seven conversations in the interval (minutes 0..6), one the next day, one not yet visible.
    inside = [conversation(i) for i in range(7)]
    next_day = conversation(24 * 60)
    hidden = conversation(8, visible_after_s=60)
    api.simulator.add_conversations([*inside, next_day, hidden])
    return api


def _query(api: Api, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"interval": INTERVAL, "order": "asc", "orderBy": "conversationStart"}
    body.update(overrides)
    response = api.post(QUERY, body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_query_pages_by_page_number_with_total_hits(loaded: Api) -> None:
    # When paging 3 at a time
    pages = [_query(loaded, paging={"pageSize": 3, "pageNumber": n}) for n in (1, 2, 3, 4)]

    # Then 7 visible conversations of the interval come in start order, and the page past the end
    # has totalHits but no conversations key, as Genesys answers
    assert [p["totalHits"] for p in pages] == [7, 7, 7, 7]
    ids = [c["conversationId"] for p in pages[:3] for c in p["conversations"]]
    assert ids == [conversation(i).conversation_id for i in range(7)]
    assert "conversations" not in pages[3]


def test_descending_order(loaded: Api) -> None:
    first = _query(loaded, order="desc", paging={"pageSize": 1, "pageNumber": 1})

    assert first["conversations"][0]["conversationId"] == conversation(6).conversation_id


def test_conversation_id_filter_matches_only_that_conversation(loaded: Api) -> None:
    wanted = conversation(4).conversation_id
    body = _query(
        loaded,
        conversationFilters=[
            {
                "type": "or",
                "predicates": [
                    {
                        "type": "dimension",
                        "dimension": "conversationId",
                        "operator": "matches",
                        "value": wanted,
                    }
                ],
            }
        ],
    )

    assert body["totalHits"] == 1
    assert [c["conversationId"] for c in body["conversations"]] == [wanted]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"interval": "2026-11-01T00:00:00Z/2026-12-03T00:00:00Z"}, "31 days"),
        ({"interval": "yesterday"}, "interval"),
        ({"interval": "2026-11-21T00:00:00Z/2026-11-20T00:00:00Z"}, "after its start"),
        ({"interval": INTERVAL, "paging": {"pageSize": 100, "pageNumber": 1001}}, "100000"),
        ({"interval": INTERVAL, "paging": {"pageSize": 101, "pageNumber": 1}}, "pageSize"),
        (
            {
                "interval": INTERVAL,
                "conversationFilters": [
                    {"type": "and", "predicates": [{"dimension": "queueId", "value": "q"}]}
                ],
            },
            "queueId",
        ),
        (
            {
                "interval": INTERVAL,
                "segmentFilters": [{"type": "and", "predicates": [{"dimension": "queueId", "value": "q"}]}],
            },
            "segmentFilters",
        ),
        ({"interval": INTERVAL, "orderBy": "segmentEnd"}, "conversationStart only"),
    ],
)
def test_refused_queries(loaded: Api, body: dict[str, Any], fragment: str) -> None:
    response = loaded.post(QUERY, body)

    assert response.status_code == 400
    assert response.json()["code"] == "bad.request"
    assert fragment in response.json()["message"]


def test_exactly_31_days_and_the_last_allowed_page_are_accepted(loaded: Api) -> None:
    body = _query(
        loaded,
        interval="2026-11-01T00:00:00Z/2026-12-02T00:00:00Z",
        paging={"pageSize": 100, "pageNumber": 1000},
    )

    assert body["totalHits"] == 8  # the seven of the 20th and the one of the 21st
    assert "conversations" not in body


def test_an_empty_query_has_no_conversations_key(sim: GenesysSimulator) -> None:
    body = _query(Api(sim))

    assert body == {"totalHits": 0}


def test_the_query_finds_activity_in_the_interval_among_conversations_started_on_its_days(api: Api) -> None:
    # Given conversations around 12:00-13:00 on the 20th, and one that started the evening before
    # and ran past midnight
    noon = DAY + timedelta(hours=12)
    spans_noon = conversation(1, start=noon - timedelta(minutes=5), duration_s=600, acw_s=0.0)
    morning = conversation(2, start=noon - timedelta(hours=2), duration_s=300, acw_s=0.0)
    at_half_past = conversation(3, start=noon + timedelta(minutes=30), duration_s=60, acw_s=0.0)
    wraps_up_past_noon = conversation(4, start=noon - timedelta(minutes=10), duration_s=300, acw_s=600.0)
    overnight = conversation(5, start=DAY - timedelta(minutes=5), duration_s=900, acw_s=0.0)
    api.simulator.add_conversations([spans_noon, morning, at_half_past, wraps_up_past_noon, overnight])

    # When the query asks for 12:00-13:00, and for the first hour of the 20th
    noon_hour = _query(api, interval="2026-11-20T12:00:00Z/2026-11-20T13:00:00Z")
    first_hour = _query(api, interval="2026-11-20T00:00:00Z/2026-11-20T01:00:00Z")

    # Then it returns what had activity in the hour (a wrap-up counts), in start order, and never a
    # conversation that started on a day before the interval's first
    assert [c["conversationId"] for c in noon_hour["conversations"]] == [
        wraps_up_past_noon.conversation_id,
        spans_noon.conversation_id,
        at_half_past.conversation_id,
    ]
    assert first_hour == {"totalHits": 0}
