"""Event validation: which inputs are conversation events, and the reason code for every other one."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from genesys_bridge.events import MAX_EVENT_BYTES, InvalidEvent, InvalidReason, parse_event
from tests.unit.domain.builders import FIXTURE_CONVERSATION_ID, conversation_event, load_fixture

OTHER_ID = "7c1e4b52-0d3a-4f69-9e85-2b6a1d0c3f47"


@pytest.mark.parametrize(
    ("fixture", "topic"), [("customer-end-event.json", "customer.end"), ("acw-event.json", "acw")]
)
def test_genesys_fixture_events_yield_their_conversation_id_and_topic(fixture: str, topic: str) -> None:
    # Given an event exactly as Genesys delivers it through EventBridge
    event = load_fixture(fixture)

    # When it is parsed
    parsed = parse_event(event)

    # Then the conversation and the topic are the ones the event names
    assert parsed.conversation_id == FIXTURE_CONVERSATION_ID
    assert parsed.topic == topic
    assert parsed.event_id == event["id"]
    assert parsed.correlation_id == event["detail"]["metadata"]["CorrelationId"]


def test_id_comes_from_the_topic_when_the_body_lacks_it() -> None:
    # Given an event whose body carries no conversationId
    event = conversation_event()
    del event["detail"]["eventBody"]["conversationId"]

    # When it is parsed, then the id is read from detail.topicName
    assert parse_event(event).conversation_id == FIXTURE_CONVERSATION_ID


def test_upper_case_ids_are_normalised_so_both_spellings_share_one_item() -> None:
    # Given a body id in upper case and the topic in lower case
    event = conversation_event()
    event["detail"]["eventBody"]["conversationId"] = FIXTURE_CONVERSATION_ID.upper()

    # When it is parsed, then the id is the canonical lower-case form (and the two are not a mismatch)
    assert parse_event(event).conversation_id == FIXTURE_CONVERSATION_ID


def test_fields_only_carried_for_logs_do_not_decide_validity() -> None:
    # Given an event whose timestamp is epoch millis and whose metadata is not an object
    event = conversation_event()
    event["detail"]["timestamp"] = 1795183407412
    event["detail"]["metadata"] = "n/a"

    # When it is parsed, then it is accepted: only the fields the bridge relies on are checked
    parsed = parse_event(event)
    assert (parsed.conversation_id, parsed.timestamp, parsed.correlation_id) == (
        FIXTURE_CONVERSATION_ID,
        "1795183407412",
        None,
    )


def _without(path: list[str]) -> dict[str, Any]:
    event = conversation_event()
    target = event
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return event


def _with(path: list[str], value: Any) -> dict[str, Any]:
    event = conversation_event()
    target = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return event


def _no_id_anywhere() -> dict[str, Any]:
    event = conversation_event()
    del event["detail"]["eventBody"]["conversationId"]
    del event["detail"]["topicName"]
    return event


def _too_large() -> dict[str, Any]:
    event = conversation_event()
    event["detail"]["eventBody"]["padding"] = "x" * MAX_EVENT_BYTES
    return event


R = InvalidReason
BODY_ID = ["detail", "eventBody", "conversationId"]
BAD_INPUTS: list[tuple[str, Any, InvalidReason]] = [
    ("a list", [conversation_event()], R.NOT_AN_OBJECT),
    ("a string", "v2.detail.events.conversation", R.NOT_AN_OBJECT),
    ("null", None, R.NOT_AN_OBJECT),
    ("no detail", _without(["detail"]), R.NO_DETAIL),
    ("detail is null", _with(["detail"], None), R.NO_DETAIL),
    ("detail is a string", _with(["detail"], "{}"), R.WRONG_TYPES),
    ("conversationId is a number", _with(BODY_ID, 42), R.WRONG_TYPES),
    ("topicName is a list", _with(["detail", "topicName"], ["x"]), R.WRONG_TYPES),
    ("eventBody is a list", _with(["detail", "eventBody"], []), R.WRONG_TYPES),
    ("no detail-type", _without(["detail-type"]), R.WRONG_TYPES),
    ("a user presence event", _with(["detail-type"], "v2.users.{id}.presence"), R.UNKNOWN_DETAIL_TYPE),
    ("detail-type with a real id", _with(["detail-type"], f"v2.detail.events.conversation.{OTHER_ID}.acw"),
     R.UNKNOWN_DETAIL_TYPE),
    ("a foreign topicName", _with(["detail", "topicName"], "v2.users.abc.presence"), R.UNKNOWN_TOPIC),
    ("no id anywhere", _no_id_anywhere(), R.NO_CONVERSATION_ID),
    ("body id not a UUID", _with(BODY_ID, "12345"), R.INVALID_CONVERSATION_ID),
    ("topic id not a UUID", _with(["detail", "topicName"], "v2.detail.events.conversation.abc.customer.end"),
     R.INVALID_CONVERSATION_ID),
    ("body and topic disagree", _with(BODY_ID, OTHER_ID), R.CONVERSATION_ID_MISMATCH),
    ("over 256 KB", _too_large(), R.TOO_LARGE),
]  # fmt: skip
BAD_INPUT_CASES = [pytest.param(event, reason, id=name) for name, event, reason in BAD_INPUTS]


@pytest.mark.parametrize(("event", "reason"), BAD_INPUT_CASES)
def test_each_kind_of_bad_input_is_refused_with_its_own_reason(event: Any, reason: InvalidReason) -> None:
    # Given a bad input, when it is parsed, then InvalidEvent names the reason and explains it
    with pytest.raises(InvalidEvent) as raised:
        parse_event(copy.deepcopy(event))
    assert raised.value.reason is reason
    assert raised.value.message
