"""The buffer table: one item and one stream INSERT per conversation, and updates that never truncate it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from genesys_bridge import contracts
from genesys_bridge.buffer import BufferTable
from tests.unit.domain.builders import TABLE, Aws

CONVERSATION = "0a5f8e21-9c43-4d7b-b612-3e8d4c7a9f10"
T0 = datetime(2026, 11, 20, 14, 3, 27, 412000, tzinfo=UTC)


class SteppingClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def test_first_event_creates_a_pending_item_with_ttl(aws: Aws) -> None:
    # Given an empty buffer with a 48-hour TTL
    buffer = BufferTable(aws.dynamodb, TABLE, ttl_hours=48, clock=SteppingClock(T0))

    # When the first event of a conversation is recorded
    created = buffer.record_event(CONVERSATION)

    # Then the item is new, PENDING, stamped with the time and expiring 48 hours later
    assert created is True
    assert aws.item(CONVERSATION) == {
        contracts.ATTR_CONVERSATION_ID: CONVERSATION,
        contracts.ATTR_STATUS: contracts.STATUS_PENDING,
        contracts.ATTR_FIRST_EVENT_AT: "2026-11-20T14:03:27.412Z",
        contracts.ATTR_LAST_EVENT_AT: "2026-11-20T14:03:27.412Z",
        contracts.ATTR_EXPIRES_AT: str(int((T0 + timedelta(hours=48)).timestamp())),
    }


def test_three_events_of_one_conversation_give_one_item_and_one_insert(aws: Aws) -> None:
    # Given a buffer and the first event of a conversation already recorded
    clock = SteppingClock(T0)
    buffer = BufferTable(aws.dynamodb, TABLE, ttl_hours=48, clock=clock)
    buffer.record_event(CONVERSATION)
    after_first = aws.stream_event_names()
    # (moto emits two INSERT records for an UpdateItem that creates an item; DynamoDB emits one)
    assert after_first
    assert set(after_first) == {"INSERT"}

    # When two more events arrive later (a redelivery and another end topic)
    clock.now = T0 + timedelta(seconds=30)
    second = buffer.record_event(CONVERSATION)
    clock.now = T0 + timedelta(minutes=2)
    third = buffer.record_event(CONVERSATION)

    # Then they are reported as duplicates, there is still one item, and the stream got only MODIFYs
    assert (second, third) == (False, False)
    assert len(aws.items()) == 1
    added = aws.stream_event_names()[len(after_first) :]
    assert added == ["MODIFY", "MODIFY"]
    # and only lastEventAt moved: the first sighting, status and TTL are the first event's
    item = aws.item(CONVERSATION)
    assert item is not None
    assert item[contracts.ATTR_FIRST_EVENT_AT] == "2026-11-20T14:03:27.412Z"
    assert item[contracts.ATTR_LAST_EVENT_AT] == "2026-11-20T14:05:27.412Z"
    assert item[contracts.ATTR_EXPIRES_AT] == str(int((T0 + timedelta(hours=48)).timestamp()))


def test_a_late_event_does_not_reopen_a_fetched_conversation(aws: Aws) -> None:
    # Given a conversation already fetched
    buffer = BufferTable(aws.dynamodb, TABLE, ttl_hours=48, clock=SteppingClock(T0))
    buffer.record_event(CONVERSATION)
    buffer.mark_fetched(CONVERSATION, "conversations/conversation_date=2026-11-20/x.json")

    # When one more event of it arrives
    created = buffer.record_event(CONVERSATION)

    # Then it stays FETCHED with its result key
    item = buffer.get(CONVERSATION)
    assert created is False
    assert item is not None
    assert item.status == contracts.STATUS_FETCHED
    assert item.result_key == "conversations/conversation_date=2026-11-20/x.json"


def test_mark_fetched_keeps_the_rest_of_the_item(aws: Aws) -> None:
    # Given a PENDING item
    buffer = BufferTable(aws.dynamodb, TABLE, ttl_hours=48, clock=SteppingClock(T0))
    buffer.record_event(CONVERSATION)

    # When it is marked fetched
    marked = buffer.mark_fetched(CONVERSATION, "conversations/conversation_date=2026-11-20/a.json")

    # Then status and resultKey are set and the timestamps and TTL are untouched, and the write itself
    # returned the item as stored (its firstEventAt, for the landing latency)
    item = buffer.get(CONVERSATION)
    assert item is not None
    assert marked == item
    assert item.status == contracts.STATUS_FETCHED
    assert item.result_key == "conversations/conversation_date=2026-11-20/a.json"
    assert item.first_event_at == T0
    assert item.expires_at == int((T0 + timedelta(hours=48)).timestamp())


def test_marking_a_vanished_item_creates_nothing(aws: Aws) -> None:
    # Given no item for the conversation (its TTL ran out)
    buffer = BufferTable(aws.dynamodb, TABLE)

    # When it is marked fetched or failed
    fetched = buffer.mark_fetched(CONVERSATION, "k")
    failed = buffer.mark_failed(CONVERSATION, "why")

    # Then nothing is written: no partial item, so no stream INSERT that would trigger another fetch
    assert (fetched, failed) == (None, False)
    assert aws.items() == []
    assert aws.stream_event_names() == []


def test_mark_failed_records_the_reason_but_never_undoes_a_fetch(aws: Aws) -> None:
    # Given one pending and one fetched conversation
    buffer = BufferTable(aws.dynamodb, TABLE, ttl_hours=48, clock=SteppingClock(T0))
    fetched_id = "7c1e4b52-0d3a-4f69-9e85-2b6a1d0c3f47"
    buffer.record_event(CONVERSATION)
    buffer.record_event(fetched_id)
    buffer.mark_fetched(fetched_id, "k")

    # When both are marked failed
    pending_marked = buffer.mark_failed(CONVERSATION, "not_ready_max_age: gave up")
    fetched_marked = buffer.mark_failed(fetched_id, "genesys_rejected: 400")

    # Then the pending one is FAILED with the reason and the fetched one keeps its result
    assert (pending_marked, fetched_marked) == (True, False)
    pending, fetched = buffer.get(CONVERSATION), buffer.get(fetched_id)
    assert pending is not None
    assert fetched is not None
    assert (pending.status, pending.error) == (contracts.STATUS_FAILED, "not_ready_max_age: gave up")
    assert pending.first_event_at == T0
    assert (fetched.status, fetched.result_key, fetched.error) == (contracts.STATUS_FETCHED, "k", None)


def test_get_of_an_unknown_conversation_is_none(aws: Aws) -> None:
    assert BufferTable(aws.dynamodb, TABLE).get(CONVERSATION) is None


def test_a_table_built_without_a_ttl_refuses_to_record_events(aws: Aws) -> None:
    # Given the processor's view of the table (it only reads and marks items, so it has no TTL)
    buffer = BufferTable(aws.dynamodb, TABLE)
    # When it is asked to record an event, then it says why instead of writing an item that never expires
    with pytest.raises(ValueError, match="ttl_hours"):
        buffer.record_event(CONVERSATION)
    assert aws.items() == []


def test_concluding_an_item_stamps_when_so_a_later_end_event_can_tell(aws: Aws) -> None:
    # Given two PENDING items
    clock = SteppingClock(T0)
    buffer = BufferTable(aws.dynamodb, TABLE, ttl_hours=48, clock=clock)
    open_id = "7c1e4b52-0d3a-4f69-9e85-2b6a1d0c3f47"
    buffer.record_event(CONVERSATION)
    buffer.record_event(open_id)

    # When one is fetched and the other left open, a few minutes later
    clock.now = T0 + timedelta(minutes=5)
    fetched = buffer.mark_fetched(CONVERSATION, "k")
    left_open = buffer.mark_left_open(open_id)

    # Then each says when it concluded, and the open one is LEFT_OPEN without an error
    assert fetched is not None
    assert fetched.concluded_at == T0 + timedelta(minutes=5)
    item = buffer.get(open_id)
    assert left_open is True
    assert item is not None
    assert (item.status, item.concluded_at, item.error) == (
        contracts.STATUS_LEFT_OPEN,
        T0 + timedelta(minutes=5),
        None,
    )


def test_mark_left_open_never_undoes_a_fetch_nor_recreates_a_vanished_item(aws: Aws) -> None:
    # Given a fetched conversation, and one whose item is gone
    buffer = BufferTable(aws.dynamodb, TABLE, ttl_hours=48, clock=SteppingClock(T0))
    buffer.record_event(CONVERSATION)
    buffer.mark_fetched(CONVERSATION, "k")
    gone = "7c1e4b52-0d3a-4f69-9e85-2b6a1d0c3f47"

    # When both are marked left open
    marked = (buffer.mark_left_open(CONVERSATION), buffer.mark_left_open(gone))

    # Then neither is written
    assert marked == (False, False)
    item = buffer.get(CONVERSATION)
    assert item is not None
    assert item.status == contracts.STATUS_FETCHED
    assert buffer.get(gone) is None


def test_requeue_starts_a_new_round_on_a_concluded_item_with_a_modify_only(aws: Aws) -> None:
    # Given a conversation fetched 2 days after its first event
    clock = SteppingClock(T0)
    buffer = BufferTable(aws.dynamodb, TABLE, ttl_hours=72, clock=clock)
    buffer.record_event(CONVERSATION)
    clock.now = T0 + timedelta(days=2)
    concluded = buffer.mark_fetched(CONVERSATION, "k")
    assert concluded is not None
    assert concluded.concluded_at is not None
    inserts_before = aws.stream_event_names().count("INSERT")

    # When it ended again and is requeued an hour later
    again = T0 + timedelta(days=2, hours=1)
    requeued = buffer.requeue(CONVERSATION, concluded.concluded_at, again)

    # Then the item is PENDING, its round (first event, expiry) starts again, the requeue is counted,
    # its landed object is still named, and the stream carried no INSERT (the pipe starts nothing)
    item = buffer.get(CONVERSATION)
    assert requeued is True
    assert item is not None
    assert (item.status, item.first_event_at, item.requeues, item.result_key) == (
        contracts.STATUS_PENDING,
        again,
        1,
        "k",
    )
    assert item.expires_at == int((again + timedelta(hours=72)).timestamp())
    assert aws.stream_event_names().count("INSERT") == inserts_before


def test_requeue_refuses_an_item_concluded_again_since_or_not_concluded(aws: Aws) -> None:
    # Given a fetched conversation, and a pending one
    clock = SteppingClock(T0)
    buffer = BufferTable(aws.dynamodb, TABLE, ttl_hours=48, clock=clock)
    pending = "7c1e4b52-0d3a-4f69-9e85-2b6a1d0c3f47"
    buffer.record_event(CONVERSATION)
    buffer.record_event(pending)
    buffer.mark_fetched(CONVERSATION, "k")

    # When they are requeued with a conclusion time that is not the item's
    stale = buffer.requeue(CONVERSATION, T0 - timedelta(minutes=1))
    not_concluded = buffer.requeue(pending, T0)

    # Then neither changes
    assert (stale, not_concluded) == (False, False)
    fetched, waiting = buffer.get(CONVERSATION), buffer.get(pending)
    assert fetched is not None
    assert waiting is not None
    assert (fetched.status, fetched.requeues) == (contracts.STATUS_FETCHED, 0)
    assert (waiting.status, waiting.requeues) == (contracts.STATUS_PENDING, 0)
