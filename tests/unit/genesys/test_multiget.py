"""Multi-get: deduplicated ids, at most ids_per_request per call, conversations as Genesys sent them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from genesys_bridge.genesys import GenesysClient

from .conftest import DETAILS_URL, api_calls, conversation


def _ids_received(call: Any) -> list[str]:
    (value,) = parse_qs(urlsplit(call.request.url).query)["id"]
    return str(value).split(",")


def _known_conversations(
    known: set[str],
) -> Callable[[requests.PreparedRequest], tuple[int, dict[str, str], str]]:
    """An API that returns the requested conversations it knows and silently omits the others."""

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        (value,) = parse_qs(urlsplit(str(request.url)).query)["id"]
        found = [conversation(each) for each in value.split(",") if each in known]
        return 200, {"Content-Type": "application/json"}, json.dumps({"conversations": found})

    return answer


def test_250_ids_make_three_calls_of_at_most_100(
    mocked: responses.RequestsMock, token_endpoint: Any, make_client: Callable[..., GenesysClient]
) -> None:
    # Given 250 distinct conversation ids the API knows
    ids = [f"00000000-0000-4000-8000-{index:012d}" for index in range(250)]
    mocked.add_callback(responses.GET, DETAILS_URL, callback=_known_conversations(set(ids)))
    # When their details are fetched
    result = make_client().get_conversation_details(ids)
    # Then three calls carried 100, 100 and 50 ids, in order, and every conversation came back
    calls = api_calls(mocked)
    assert [len(_ids_received(call)) for call in calls] == [100, 100, 50]
    assert [conversation_id for call in calls for conversation_id in _ids_received(call)] == ids
    assert [c["conversationId"] for c in result] == ids
    # And the conversation is the fixture's body untouched apart from its id
    assert result[0]["participants"] == conversation("x")["participants"]


def test_duplicate_ids_are_requested_once_in_first_seen_order(
    mocked: responses.RequestsMock, token_endpoint: Any, make_client: Callable[..., GenesysClient]
) -> None:
    # Given ids with repeats (EventBridge delivers at least once)
    mocked.add_callback(responses.GET, DETAILS_URL, callback=_known_conversations({"b", "a", "c"}))
    client = make_client(ids_per_request=2)
    # When they are fetched
    result = client.get_conversation_details(["b", "a", "b", "c", "a"])
    # Then each id was asked for once, in first-seen order, chunked by ids_per_request
    assert [_ids_received(call) for call in api_calls(mocked)] == [["b", "a"], ["c"]]
    assert [c["conversationId"] for c in result] == ["b", "a", "c"]


def test_unknown_conversations_are_simply_absent(
    mocked: responses.RequestsMock, token_endpoint: Any, make_client: Callable[..., GenesysClient]
) -> None:
    # Given an API that knows one of two ids, and answers a chunk it knows nothing of with an empty body
    mocked.add_callback(responses.GET, DETAILS_URL, callback=_known_conversations({"known"}))
    result = make_client().get_conversation_details(["known", "not-yet-in-analytics"])
    assert [c["conversationId"] for c in result] == ["known"]


def test_a_response_without_conversations_key_means_none(
    mocked: responses.RequestsMock, token_endpoint: Any, make_client: Callable[..., GenesysClient]
) -> None:
    mocked.add(responses.GET, DETAILS_URL, json={})
    assert make_client().get_conversation_details(["c1"]) == []


def test_no_ids_makes_no_call(
    mocked: responses.RequestsMock, token_endpoint: Any, make_client: Callable[..., GenesysClient]
) -> None:
    assert make_client().get_conversation_details([]) == []
    assert len(mocked.calls) == 0


@pytest.mark.parametrize("bad", ["", "a,b"])
def test_ids_that_would_corrupt_the_query_are_refused(
    make_client: Callable[..., GenesysClient], bad: str
) -> None:
    with pytest.raises(ValueError, match="invalid conversation id"):
        make_client().get_conversation_details(["ok", bad])


def test_a_single_string_is_refused_rather_than_split_into_characters(
    make_client: Callable[..., GenesysClient],
) -> None:
    with pytest.raises(TypeError, match="not a single string"):
        make_client().get_conversation_details("0a5f8e21-9c43-4d7b-b612-3e8d4c7a9f10")
