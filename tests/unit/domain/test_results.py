"""Result keys and objects: Athena-ready, idempotent, derived only from the conversation."""

from __future__ import annotations

import json

import pytest

from genesys_bridge.layout import InvalidConversation, canonical_form, result_key, serialize
from genesys_bridge.results import ResultsWriter
from tests.unit.domain.builders import BUCKET, FIXTURE_CONVERSATION_ID, Aws, conversation, load_fixture


def test_key_is_partitioned_by_the_utc_day_the_conversation_started() -> None:
    # Given the fixture conversation, started 2026-11-20 13:59 UTC
    details = load_fixture("conversation-details.json")

    # Then its key is under that day's partition, named by the conversation id
    assert result_key(details) == (
        f"conversations/conversation_date=2026-11-20/{FIXTURE_CONVERSATION_ID}.json"
    )


def test_the_day_is_taken_in_utc_not_in_the_timestamps_offset() -> None:
    # Given a start written with a +02:00 offset, 00:30 local = 22:30 UTC the day before
    details = conversation(FIXTURE_CONVERSATION_ID, start="2026-11-21T00:30:00.000+02:00")

    # Then the partition is the UTC day
    assert "/conversation_date=2026-11-20/" in result_key(details)


@pytest.mark.parametrize(
    "change",
    [
        {"conversationStart": None},
        {"conversationStart": "yesterday"},
        {"conversationId": "../../etc/passwd"},
        {"conversationId": None},
    ],
)
def test_details_without_a_usable_id_or_start_are_refused(change: dict[str, object]) -> None:
    details = {**conversation(FIXTURE_CONVERSATION_ID), **change}
    with pytest.raises(InvalidConversation):
        result_key(details)


def test_put_writes_one_compact_json_line_and_returns_the_key(aws: Aws) -> None:
    # Given the fixture conversation
    details = load_fixture("conversation-details.json")

    # When it is written
    key = ResultsWriter(aws.s3, BUCKET).put(details)

    # Then the object holds the conversation on one line of compact JSON with sorted keys and its lists
    # in canonical order, typed as JSON
    stored = aws.s3.get_object(Bucket=BUCKET, Key=key)
    body = stored["Body"].read().decode("utf-8")
    assert key == result_key(details)
    assert stored["ContentType"] == "application/json"
    assert body.count("\n") == 1
    assert body.endswith("\n")
    canonical = canonical_form(details)
    assert body == json.dumps(canonical, separators=(",", ":"), ensure_ascii=False, sort_keys=True) + "\n"
    assert json.loads(body) == canonical


def test_the_same_details_in_another_key_order_make_the_same_bytes() -> None:
    # Given one conversation as two endpoints might return it, its keys in different orders at every level
    details = load_fixture("conversation-details.json")
    reordered = json.loads(json.dumps(details), object_pairs_hook=lambda pairs: dict(reversed(pairs)))
    assert list(reordered) != list(details)

    # When both are serialized, Then the bytes (and so the object's ETag) are the same
    assert serialize(reordered) == serialize(details)


def test_writing_the_same_conversation_again_overwrites_the_same_object(aws: Aws) -> None:
    # Given a conversation already landed
    writer = ResultsWriter(aws.s3, BUCKET)
    first = writer.put(conversation(FIXTURE_CONVERSATION_ID))

    # When it is written again (a redelivered message)
    second = writer.put(conversation(FIXTURE_CONVERSATION_ID))

    # Then it is the same single object
    assert first == second
    assert aws.object_keys() == [first]
