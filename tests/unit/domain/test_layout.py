"""The landed layout: keys and their parsing, the canonical body, and what the catalog derives from it."""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import PurePosixPath
from typing import Any

import pytest

from genesys_bridge import layout
from tests.unit.domain.builders import FIXTURE_CONVERSATION_ID, load_fixture

UPPER_ID = "0A5F8E21-9C43-4D7B-B612-3E8D4C7A9F10"


def shuffled_lists(body: dict[str, Any], seed: int) -> dict[str, Any]:
    """The same conversation with participants, sessions, segments and metrics in another order."""
    rng = random.Random(seed)
    body = json.loads(json.dumps(body))
    rng.shuffle(body["participants"])
    for participant in body["participants"]:
        rng.shuffle(participant["sessions"])
        for session in participant["sessions"]:
            rng.shuffle(session.get("segments", []))
            rng.shuffle(session.get("metrics", []))
    return body


def test_a_key_parses_back_into_the_day_and_the_lower_case_id_it_was_built_from() -> None:
    details = {"conversationId": UPPER_ID, "conversationStart": "2026-11-20T23:59:59.999-02:00"}

    key = layout.result_key(details)
    parsed = layout.parse_result_key(key)

    assert parsed == layout.ConversationKey(date(2026, 11, 21), UPPER_ID.lower())
    assert parsed.key == key
    assert key.startswith(layout.day_prefix(date(2026, 11, 21)))


@pytest.mark.parametrize(
    "key",
    [
        f"conversations/conversation_date=2026-11-20/{UPPER_ID}.json",  # an id never written upper-case
        f"conversations/conversation_date=2026-02-30/{FIXTURE_CONVERSATION_ID}.json",  # no such day
        f"conversations/conversation_date=20261120/{FIXTURE_CONVERSATION_ID}.json",
        f"conversations/conversation_date=2026-11-20/x/{FIXTURE_CONVERSATION_ID}.json",
        f"conversations/conversation_date=2026-11-20/{FIXTURE_CONVERSATION_ID}.json.tmp",
        f"conversations/conversation_date=2026-11-20/{FIXTURE_CONVERSATION_ID}.jsonl",
        f"conversations/conversation_date=2026-11-20/{FIXTURE_CONVERSATION_ID}.json\n",
        f"conversations/conversation_date=2026-11-20/{FIXTURE_CONVERSATION_ID[:-1]}.json",
        f"audits/conversation_date=2026-11-20/{FIXTURE_CONVERSATION_ID}.json",
        f"compacted/conversations/conversation_date=2026-11-20/{FIXTURE_CONVERSATION_ID}.json",
        f"conversations/snapshot_date=2026-11-20/{FIXTURE_CONVERSATION_ID}.json",
        "conversations/conversation_date=2026-11-20/audit.json",
    ],
)
def test_a_key_that_is_not_exactly_the_layout_parses_to_nothing(key: str) -> None:
    assert layout.parse_result_key(key) is None


def test_the_same_conversation_with_its_lists_in_any_order_serializes_to_the_same_bytes() -> None:
    # Given the fixture conversation and five orders of its participants, sessions, segments, metrics
    details = load_fixture("conversation-details.json")
    orders = [shuffled_lists(details, seed) for seed in range(5)]
    assert len({json.dumps(order) for order in orders}) > 1

    # When each is serialized, Then every one gives the same bytes
    assert {layout.serialize(order) for order in orders} == {layout.serialize(details)}


def test_elements_equal_in_every_sort_field_are_ordered_by_their_own_text() -> None:
    # Given two metrics with the same emitDate, name and value but different other fields
    session: dict[str, Any] = {
        "sessionId": "s",
        "metrics": [
            {"emitDate": "2026-11-20T14:00:00.000Z", "name": "tTalk", "value": 5, "extra": "b"},
            {"emitDate": "2026-11-20T14:00:00.000Z", "name": "tTalk", "value": 5, "extra": "a"},
        ],
    }
    swapped = {**session, "metrics": list(reversed(session["metrics"]))}
    body = {"participants": [{"participantId": "p", "sessions": [session]}]}
    other = {"participants": [{"participantId": "p", "sessions": [swapped]}]}

    # Then both orders serialize alike
    assert layout.serialize(body) == layout.serialize(other)


def test_lists_are_ordered_by_their_documented_fields_and_the_callers_dict_is_left_alone() -> None:
    body = {
        "participants": [
            {
                "participantId": "b",
                "sessions": [
                    {
                        "sessionId": "2",
                        "segments": [
                            {"segmentStart": "2026-11-20T14:05:00.000Z", "segmentType": "wrapup"},
                            {"segmentStart": "2026-11-20T14:00:00.000Z", "segmentType": "interact"},
                        ],
                        "metrics": [
                            {"emitDate": "2026-11-20T14:05:00.000Z", "name": "tAcw", "value": 9},
                            {"emitDate": "2026-11-20T14:00:00.000Z", "name": "tTalk", "value": 30},
                            {"emitDate": "2026-11-20T14:00:00.000Z", "name": "tHeld", "value": 10},
                        ],
                    },
                    {"sessionId": "1"},
                ],
            },
            {"participantId": "a", "sessions": []},
        ],
        "divisionIds": ["z", "y"],
    }
    before = json.dumps(body)

    canonical = layout.canonical_form(body)

    assert json.dumps(body) == before
    assert [p["participantId"] for p in canonical["participants"]] == ["a", "b"]
    sessions = canonical["participants"][1]["sessions"]
    assert [s["sessionId"] for s in sessions] == ["1", "2"]
    assert [g["segmentType"] for g in sessions[1]["segments"]] == ["interact", "wrapup"]
    assert [m["name"] for m in sessions[1]["metrics"]] == ["tHeld", "tTalk", "tAcw"]
    # a list outside the four is kept as Genesys sent it
    assert canonical["divisionIds"] == ["z", "y"]


def test_malformed_lists_serialize_without_error_and_keep_their_elements() -> None:
    # Given participants of every odd kind: not objects, ids of other JSON types, a huge and a NaN number
    participants: list[Any] = [
        3,
        None,
        {"sessions": "not a list"},
        {"participantId": 7},
        {"participantId": 10**400},
        {"participantId": float("nan")},
        {"participantId": True},
        {"participantId": ["x"]},
        {"participantId": "x"},
    ]
    body = {"participants": participants}
    backwards = {"participants": list(reversed(participants))}

    # Then both orders serialize alike, and every element is kept
    assert layout.serialize(body) == layout.serialize(backwards)
    landed = json.loads(layout.serialize(body))
    assert sorted(map(json.dumps, landed["participants"])) == sorted(map(json.dumps, participants))


def test_the_catalogs_partition_template_and_local_glob_find_the_key_a_conversation_lands_at() -> None:
    key = layout.result_key({"conversationId": UPPER_ID, "conversationStart": "2026-11-21T10:00:00Z"})
    conversations = layout.CONVERSATIONS

    template = conversations.location_template("results-bucket")
    folder = template.replace("${" + conversations.partition_column + "}", "2026-11-21")

    assert f"s3://results-bucket/{key}".startswith(folder)
    assert "/" not in f"s3://results-bucket/{key}".removeprefix(folder)
    assert f"s3://results-bucket/{key}".startswith(conversations.location("results-bucket"))
    assert PurePosixPath(key).match(conversations.local_glob())


def test_the_reserved_homes_follow_their_documented_shapes() -> None:
    day = date(2026, 11, 20)
    assert layout.lookup_key("wrapup_codes", day) == (
        "lookups/wrapup_codes/snapshot_date=2026-11-20/wrapup_codes.jsonl"
    )
    assert layout.compacted_key(day) == (
        "compacted/conversations/conversation_date=2026-11-20/part-00000.parquet"
    )
    assert layout.compacted_key(day, 2, dataset=layout.COMPACTED_SEGMENTS) == (
        "compacted/segments/conversation_date=2026-11-20/part-00002.parquet"
    )
    assert layout.compacted_name(layout.COMPACTED_SESSION_METRICS, "x.parquet") == "session_metrics/x.parquet"
    assert [layout.compacted_folder(d) for d in layout.COMPACTED_DATASETS] == [
        "conversations",
        "session_metrics",
        "segments",
    ]
    assert layout.report_key(day, "finalize") == "audits/conversation_date=2026-11-20/finalize.json"
    with pytest.raises(ValueError, match="not a compacted dataset"):
        layout.compacted_key(day, dataset=layout.CONVERSATIONS)
    with pytest.raises(ValueError, match="not a compacted dataset"):
        layout.compacted_folder(layout.COMPACTION_MARKERS)
    with pytest.raises(ValueError, match="not a lookup"):
        layout.lookup_key("queue", day)
    with pytest.raises(ValueError, match="not a file name"):
        layout.CONVERSATIONS.key(day, "../x")
