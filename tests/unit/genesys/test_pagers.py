"""Pagers: the details query by pageNumber, listings by nextUri; each stops, dedupes and guards loops."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from genesys_bridge.genesys import GenesysClient, PagingError, QueryTooLarge
from genesys_bridge.genesys.pagers import iter_next_uri

from .conftest import API, QUERY_URL, api_calls, conversation

QUERY = {
    "interval": "2026-11-01T00:00:00.000Z/2026-11-02T00:00:00.000Z",
    "order": "asc",
    "orderBy": "conversationStart",
    "paging": {"pageSize": 2, "pageNumber": 1},
}
USERS_URL = f"{API}/api/v2/users"


def _pages(*pages: dict[str, Any]) -> Callable[[requests.PreparedRequest], tuple[int, dict[str, str], str]]:
    """A query endpoint that answers page N (from the request body) with pages[N-1]."""

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        number = json.loads(request.body or "{}")["paging"]["pageNumber"]
        return 200, {"Content-Type": "application/json"}, json.dumps(pages[number - 1])

    return answer


def _page_numbers(mocked: responses.RequestsMock) -> list[int]:
    return [json.loads(call.request.body)["paging"]["pageNumber"] for call in api_calls(mocked)]


def _ids(conversations: list[dict[str, Any]]) -> list[str]:
    return [c["conversationId"] for c in conversations]


def test_query_reads_three_pages_and_stops_at_total_hits(
    mocked: responses.RequestsMock, token_endpoint: Any, make_client: Callable[..., GenesysClient]
) -> None:
    # Given 6 hits in 3 full pages of 2 (no short page to signal the end)
    mocked.add_callback(
        responses.POST,
        QUERY_URL,
        callback=_pages(
            {"conversations": [conversation("c1"), conversation("c2")], "totalHits": 6},
            {"conversations": [conversation("c3"), conversation("c4")], "totalHits": 6},
            {"conversations": [conversation("c5"), conversation("c6")], "totalHits": 6},
        ),
    )
    body = copy.deepcopy(QUERY)
    # When the query is iterated
    result = list(make_client().query_conversation_details(body))
    # Then all 6 came back from pages 1..3, and no 4th page was requested
    assert _ids(result) == ["c1", "c2", "c3", "c4", "c5", "c6"]
    assert _page_numbers(mocked) == [1, 2, 3]
    # And each page kept the rest of the body as given, while the caller's body is untouched
    sent = json.loads(api_calls(mocked)[2].request.body)
    assert {k: v for k, v in sent.items() if k != "paging"} == {
        k: v for k, v in QUERY.items() if k != "paging"
    }
    assert sent["paging"] == {"pageSize": 2, "pageNumber": 3}
    assert body == QUERY


def test_query_stops_at_a_short_page_and_dedupes_live_data(
    mocked: responses.RequestsMock, token_endpoint: Any, make_client: Callable[..., GenesysClient]
) -> None:
    # Given live data: a new conversation shifted c2 from page 1 onto page 2, and the total grew
    mocked.add_callback(
        responses.POST,
        QUERY_URL,
        callback=_pages(
            {"conversations": [conversation("c1"), conversation("c2")], "totalHits": 5},
            {"conversations": [conversation("c2"), conversation("c3")], "totalHits": 7},
            {"conversations": [conversation("c4")], "totalHits": 7},
        ),
    )
    # When the query is iterated
    result = list(make_client().query_conversation_details(QUERY))
    # Then c2 came back once, and the short third page ended the query although totalHits says 7
    assert _ids(result) == ["c1", "c2", "c3", "c4"]
    assert _page_numbers(mocked) == [1, 2, 3]


def test_query_with_no_hits_makes_one_call(
    mocked: responses.RequestsMock, token_endpoint: Any, make_client: Callable[..., GenesysClient]
) -> None:
    mocked.add(responses.POST, QUERY_URL, json={"totalHits": 0})
    assert list(make_client().query_conversation_details(QUERY)) == []
    assert len(api_calls(mocked)) == 1


def test_query_past_100k_results_is_refused_before_anything_is_yielded(
    mocked: responses.RequestsMock, token_endpoint: Any, make_client: Callable[..., GenesysClient]
) -> None:
    # Given a query matching 150,000 conversations
    mocked.add(responses.POST, QUERY_URL, json={"conversations": [conversation("c1")], "totalHits": 150_000})
    received: list[dict[str, Any]] = []
    # When it is iterated
    with pytest.raises(QueryTooLarge, match="iter_details_job") as raised:
        received.extend(make_client().query_conversation_details({**QUERY, "paging": {"pageSize": 100}}))
    # Then nothing partial reached the caller, and the error says where to go instead
    assert received == []
    assert "100,000" in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_query_starting_beyond_the_cap_makes_no_request(
    mocked: responses.RequestsMock, token_endpoint: Any, make_client: Callable[..., GenesysClient]
) -> None:
    with pytest.raises(QueryTooLarge):
        list(make_client().query_conversation_details({"paging": {"pageSize": 100, "pageNumber": 1001}}))
    assert len(mocked.calls) == 0


def test_entities_follow_relative_next_uri_until_there_is_none(
    mocked: responses.RequestsMock, token_endpoint: Any, make_client: Callable[..., GenesysClient]
) -> None:
    # Given a listing of 3 pages linked by nextUri paths relative to the API base
    mocked.add(
        responses.GET,
        USERS_URL,
        json={"entities": [{"id": "u1"}], "nextUri": "/api/v2/users?pageSize=1&pageNumber=2"},
        match=[responses.matchers.query_param_matcher({"pageSize": "1"})],
    )
    mocked.add(
        responses.GET,
        USERS_URL,
        json={"entities": [{"id": "u2"}], "nextUri": "/api/v2/users?pageSize=1&pageNumber=3"},
        match=[responses.matchers.query_param_matcher({"pageSize": "1", "pageNumber": "2"})],
    )
    mocked.add(
        responses.GET,
        USERS_URL,
        json={"entities": [{"id": "u3"}], "pageNumber": 3, "pageCount": 3},
        match=[responses.matchers.query_param_matcher({"pageSize": "1", "pageNumber": "3"})],
    )
    # When the listing is iterated
    entities = list(make_client().iter_entities("/api/v2/users", {"pageSize": "1"}))
    # Then every entity came back, from exactly three requests
    assert [e["id"] for e in entities] == ["u1", "u2", "u3"]
    assert [parse_qs(urlsplit(call.request.url).query).get("pageNumber") for call in api_calls(mocked)] == [
        None,
        ["2"],
        ["3"],
    ]


def test_entities_accept_an_absolute_next_uri_on_the_api_host(
    mocked: responses.RequestsMock, token_endpoint: Any, make_client: Callable[..., GenesysClient]
) -> None:
    mocked.add(
        responses.GET,
        USERS_URL,
        json={"entities": [{"id": "u1"}], "nextUri": f"{API}/api/v2/users?pageNumber=2"},
        match=[responses.matchers.query_param_matcher({})],
    )
    mocked.add(
        responses.GET,
        USERS_URL,
        json={"entities": [{"id": "u2"}]},
        match=[responses.matchers.query_param_matcher({"pageNumber": "2"})],
    )
    assert [e["id"] for e in make_client().iter_entities("/api/v2/users")] == ["u1", "u2"]


def test_a_next_uri_to_another_host_is_not_followed(
    mocked: responses.RequestsMock, token_endpoint: Any, make_client: Callable[..., GenesysClient]
) -> None:
    # Given a page whose nextUri points off the API host
    mocked.add(
        responses.GET,
        USERS_URL,
        json={"entities": [{"id": "u1"}], "nextUri": "https://evil.example/api/v2/users"},
    )
    # When the listing is iterated
    with pytest.raises(PagingError, match="off the API host"):
        list(make_client().iter_entities("/api/v2/users"))
    # Then the bearer token never went there
    assert all(str(call.request.url).startswith(("https://api.", "https://login.")) for call in mocked.calls)


def test_a_next_uri_loop_is_detected(
    mocked: responses.RequestsMock, token_endpoint: Any, make_client: Callable[..., GenesysClient]
) -> None:
    # Given page 2 pointing back at page 1 (parameters in another order)
    mocked.add(
        responses.GET,
        USERS_URL,
        json={"entities": [{"id": "u1"}], "nextUri": "/api/v2/users?pageNumber=2&pageSize=1"},
        match=[responses.matchers.query_param_matcher({"pageSize": "1", "pageNumber": "1"})],
    )
    mocked.add(
        responses.GET,
        USERS_URL,
        json={"entities": [{"id": "u2"}], "nextUri": "/api/v2/users?pageSize=1&pageNumber=1"},
        match=[responses.matchers.query_param_matcher({"pageSize": "1", "pageNumber": "2"})],
    )
    # When the listing is iterated
    seen: list[str] = []
    with pytest.raises(PagingError, match="nextUri loop"):
        seen.extend(
            e["id"]
            for e in make_client().iter_entities("/api/v2/users", {"pageSize": "1", "pageNumber": "1"})
        )
    # Then it stopped after two requests instead of cycling forever
    assert len(api_calls(mocked)) == 2


def test_a_listing_that_never_ends_is_cut_off() -> None:
    # Given a server that invents a new nextUri on every page
    counter = iter(range(1_000_000))

    def endless(url: str, params: Any) -> dict[str, Any]:
        return {"entities": [{"id": url}], "nextUri": f"/api/v2/users?pageNumber={next(counter)}"}

    # When it is iterated with a budget of 5 pages
    with pytest.raises(PagingError, match="after 5 pages"):
        list(iter_next_uri(endless, API, "/api/v2/users", max_pages=5))


@pytest.mark.parametrize("path", ["https://evil.example/api/v2/users", "//evil.example/x", "api/v2/users"])
def test_iter_entities_accepts_paths_only(make_client: Callable[..., GenesysClient], path: str) -> None:
    with pytest.raises(ValueError, match="expected a path"):
        make_client().iter_entities(path)
