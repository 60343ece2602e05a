"""`conversation ID`: the buffer item and the landed object of one conversation."""

from __future__ import annotations

from datetime import date

import pytest

from genesys_bridge.buffer import BufferTable
from genesys_bridge.results import ResultsWriter
from ops.errors import OpsError
from tests.unit.domain.builders import BUCKET, TABLE, conversation
from tests.unit.ops.conftest import Deployed

CONVERSATION_ID = "0a5f8e21-9c43-4d7b-b612-3e8d4c7a9f10"


def test_a_landed_conversation_shows_its_item_and_its_object(deployed: Deployed) -> None:
    # Given a conversation buffered, fetched and landed
    buffer = BufferTable(deployed.dynamodb, TABLE, ttl_hours=48)
    buffer.record_event(CONVERSATION_ID)
    key = ResultsWriter(deployed.s3, BUCKET).put(conversation(CONVERSATION_ID))
    buffer.mark_fetched(CONVERSATION_ID, key)

    # When it is looked up (in upper case, as someone may paste it)
    result = deployed.ops.conversation(CONVERSATION_ID.upper())

    # Then the item says FETCHED with its key (and when it concluded), and the object's key and
    # metadata are shown
    assert result["item"]["status"] == "FETCHED"
    assert result["item"]["resultKey"] == key
    assert result["item"]["concludedAt"] is not None
    assert result["item"]["requeues"] == 0
    assert result["object"]["key"] == key
    assert result["object"]["contentType"] == "application/json"
    assert result["object"]["size"] > 0


def test_without_an_item_the_start_date_finds_the_object(deployed: Deployed) -> None:
    # Given a landed conversation whose buffer item expired
    key = ResultsWriter(deployed.s3, BUCKET).put(conversation(CONVERSATION_ID, start="2026-11-20T13:59:53Z"))

    # When it is looked up without and with its start date
    without = deployed.ops.conversation(CONVERSATION_ID)
    with_date = deployed.ops.conversation(CONVERSATION_ID, on_date=date(2026, 11, 20))

    # Then without a date nothing can be said about the object; with it, the object is found
    assert (without["item"], without["object"], without["lookedUp"]) == (None, None, None)
    assert with_date["object"]["key"] == key


def test_a_pending_conversation_has_no_object(deployed: Deployed) -> None:
    BufferTable(deployed.dynamodb, TABLE, ttl_hours=48).record_event(CONVERSATION_ID)
    result = deployed.ops.conversation(CONVERSATION_ID)
    assert result["item"]["status"] == "PENDING"
    assert result["object"] is None


def test_an_id_that_is_not_a_uuid_is_refused(deployed: Deployed) -> None:
    with pytest.raises(OpsError, match="not a conversation id"):
        deployed.ops.conversation("conversations/../secrets")
