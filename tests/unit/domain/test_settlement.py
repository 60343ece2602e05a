"""Readiness of a conversation's details: ended, and every segment of every session ended."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from genesys_bridge.settlement import Readiness, open_segments, readiness, wrapup_started_at
from tests.unit.domain.builders import FIXTURE_CONVERSATION_ID, conversation


def test_the_recorded_wrapup_open_details_are_wrapping_up_and_name_the_open_segment() -> None:
    # Given the details Genesys returned between conversationEnd and the end of the agent's wrap-up
    details = conversation(FIXTURE_CONVERSATION_ID, wrapup_open=True)

    # When their readiness is asked, then they are ended but still wrapping up, and the open segment
    # is the agent's wrapup segment
    assert readiness(details) is Readiness.WRAPPING_UP
    assert [segment["segmentType"] for segment in open_segments(details)] == ["wrapup"]


def test_the_same_conversation_after_wrapup_is_settled() -> None:
    details = conversation(FIXTURE_CONVERSATION_ID)
    assert open_segments(details) == []
    assert readiness(details) is Readiness.SETTLED


@pytest.mark.parametrize(
    ("details", "expected"),
    [
        (None, Readiness.ABSENT),
        (conversation(FIXTURE_CONVERSATION_ID, ended=False), Readiness.IN_PROGRESS),
        ({**conversation(FIXTURE_CONVERSATION_ID), "conversationEnd": ""}, Readiness.IN_PROGRESS),
    ],
    ids=["not in analytics", "no conversationEnd", "empty conversationEnd"],
)
def test_details_without_an_end_are_not_ready(details: dict[str, Any] | None, expected: Readiness) -> None:
    assert readiness(details) is expected


def _open_customer_segment() -> dict[str, Any]:
    details = copy.deepcopy(conversation(FIXTURE_CONVERSATION_ID))
    del details["participants"][0]["sessions"][0]["segments"][0]["segmentEnd"]
    return details


def _open_segment_in_a_second_session() -> dict[str, Any]:
    details = copy.deepcopy(conversation(FIXTURE_CONVERSATION_ID))
    agent = details["participants"][1]
    agent["sessions"].append(
        {"sessionId": "s2", "mediaType": "callback", "segments": [{"segmentStart": "2026-11-20T14:05:00Z"}]}
    )
    return details


@pytest.mark.parametrize(
    "details",
    [_open_customer_segment(), _open_segment_in_a_second_session()],
    ids=["customer participant", "second session of the agent"],
)
def test_an_open_segment_of_any_participant_or_session_keeps_an_ended_conversation_waiting(
    details: dict[str, Any],
) -> None:
    assert readiness(details) is Readiness.WRAPPING_UP
    assert len(open_segments(details)) == 1


def test_details_without_participants_or_with_odd_shapes_are_judged_by_what_is_there() -> None:
    # Given ended details whose participants and sessions are missing or not lists of objects
    ended = {"conversationId": FIXTURE_CONVERSATION_ID, "conversationEnd": "2026-11-20T14:03:27.412Z"}
    odd = {**ended, "participants": [None, "x", {"sessions": "none"}, {"sessions": [{"segments": [7]}]}]}

    # When their readiness is asked, then no open segment is invented and they are settled
    assert readiness(ended) is Readiness.SETTLED
    assert readiness(odd) is Readiness.SETTLED


def test_an_open_wrapup_says_when_it_started() -> None:
    # Given the recorded details with the agent's wrap-up still open (it started at conversationEnd)
    details = conversation(FIXTURE_CONVERSATION_ID, wrapup_open=True)
    # Then its start is the wrap-up segment's segmentStart, as an aware time
    assert wrapup_started_at(details) == datetime(2026, 11, 20, 14, 3, 27, 412000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("segment_type", "segment_start"),
    [("interact", "2026-11-20T14:03:27.412Z"), ("wrapup", "not a time"), ("wrapup", "2026-11-20T14:03:27")],
)
def test_nothing_is_expected_of_an_open_segment_that_is_not_a_readable_wrapup(
    segment_type: str, segment_start: str
) -> None:
    # Given an open segment that is not a wrap-up, or whose start has no readable time with its zone
    details = conversation(FIXTURE_CONVERSATION_ID, wrapup_open=True)
    [open_segment] = open_segments(details)
    open_segment.update(segmentType=segment_type, segmentStart=segment_start)
    # Then no start is given: the processor keeps to its schedule
    assert wrapup_started_at(details) is None


def test_settled_details_have_no_open_wrapup() -> None:
    assert wrapup_started_at(conversation(FIXTURE_CONVERSATION_ID)) is None
