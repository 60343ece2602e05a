"""Event validation: which inputs are conversation events, and the reason code for every other one."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from genesys_bridge.events import MAX_EVENT_BYTES, MAX_EVENT_DEPTH, InvalidEvent, InvalidReason, parse_event
from tests.unit.domain.builders import DEV_TOPICS, FIXTURE_CONVERSATION_ID, conversation_event, load_fixture

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


def _nested(levels: int) -> dict[str, Any]:
    event = conversation_event()
    deep: Any = "bottom"
    for _ in range(levels):
        deep = {"d": deep}
    event["detail"]["metadata"] = deep
    return event


def _topics(detail_type_topic: str, topic_name_topic: str) -> dict[str, Any]:
    event = conversation_event(topic=detail_type_topic)
    event["detail"]["topicName"] = (
        f"v2.detail.events.conversation.{FIXTURE_CONVERSATION_ID}.{topic_name_topic}"
    )
    return event


_ARABIC_INDIC = {ord(digit): chr(0x0660 + int(digit)) for digit in "0123456789"}
TOPIC_NAME = ["detail", "topicName"]
_TOPIC_NAME_OF_FIXTURE = f"v2.detail.events.conversation.{FIXTURE_CONVERSATION_ID}.customer.end"


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
    # ids match as a whole: nothing before or after, ASCII hex digits only
    ("body id + newline", _with(BODY_ID, FIXTURE_CONVERSATION_ID + "\n"), R.INVALID_CONVERSATION_ID),
    ("body id + CRLF", _with(BODY_ID, FIXTURE_CONVERSATION_ID + "\r\n"), R.INVALID_CONVERSATION_ID),
    ("body id + space", _with(BODY_ID, FIXTURE_CONVERSATION_ID + " "), R.INVALID_CONVERSATION_ID),
    ("space + body id", _with(BODY_ID, " " + FIXTURE_CONVERSATION_ID), R.INVALID_CONVERSATION_ID),
    ("body id in other digits", _with(BODY_ID, FIXTURE_CONVERSATION_ID.translate(_ARABIC_INDIC)),
     R.INVALID_CONVERSATION_ID),
    ("topic id + newline", _with(TOPIC_NAME, _TOPIC_NAME_OF_FIXTURE.replace(".customer", "\n.customer")),
     R.INVALID_CONVERSATION_ID),
    ("topicName + newline", _with(TOPIC_NAME, _TOPIC_NAME_OF_FIXTURE + "\n"), R.UNKNOWN_TOPIC),
    ("detail-type + newline", _with(["detail-type"], "v2.detail.events.conversation.{id}.customer.end\n"),
     R.UNKNOWN_DETAIL_TYPE),
    # topics: the environment's list (dev: customer.end, acw), and the two names of the topic agreeing
    ("a start topic", _topics("customer.start", "customer.start"), R.NOT_AN_END_TOPIC),
    ("an unsubscribed end topic", _topics("user.end", "user.end"), R.UNSUBSCRIBED_TOPIC),
    ("topicName disagrees with detail-type", _topics("customer.end", "acw"), R.TOPIC_MISMATCH),
]  # fmt: skip
BAD_INPUT_CASES = [pytest.param(event, reason, id=name) for name, event, reason in BAD_INPUTS]


@pytest.mark.parametrize(("event", "reason"), BAD_INPUT_CASES)
def test_each_kind_of_bad_input_is_refused_with_its_own_reason(event: Any, reason: InvalidReason) -> None:
    # Given a bad input, when it is parsed, then InvalidEvent names the reason and explains it
    with pytest.raises(InvalidEvent) as raised:
        parse_event(copy.deepcopy(event), DEV_TOPICS)
    assert raised.value.reason is reason
    assert raised.value.message


def test_a_start_topic_the_environment_subscribes_to_is_accepted() -> None:
    # Given an environment that subscribes customer.start (unusual, but its choice)
    # When a customer.start event arrives, then it is buffered like any subscribed topic
    parsed = parse_event(_topics("customer.start", "customer.start"), frozenset({"customer.start"}))
    assert parsed.topic == "customer.start"


def test_an_event_exactly_at_the_depth_limit_is_accepted() -> None:
    # Given metadata nested so the whole event is MAX_EVENT_DEPTH levels deep (detail adds 2)
    event = _nested(MAX_EVENT_DEPTH - 2)
    # When it is parsed, then depth alone does not refuse it
    assert parse_event(event, DEV_TOPICS).conversation_id == FIXTURE_CONVERSATION_ID


@pytest.mark.parametrize("levels", [MAX_EVENT_DEPTH, 1000, 100_000])
def test_an_event_nested_too_deep_is_refused_before_anything_recurses_into_it(levels: int) -> None:
    # Given an event nested deeper than the limit, up to far beyond Python's recursion limit
    event = _nested(levels)
    # When it is parsed, then it is refused as too_deep (no RecursionError)
    with pytest.raises(InvalidEvent) as raised:
        parse_event(event, DEV_TOPICS)
    assert raised.value.reason is InvalidReason.TOO_DEEP
