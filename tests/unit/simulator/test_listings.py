"""The routing and directory listings: entity-listing paging, users by state, 403s, renames and deletions."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from genesys_simulator import NAMED_PROFILES, GenesysSimulator, SimulatorConfig
from genesys_simulator.listings import PERMISSIONS
from genesys_simulator.responses import LISTING_PATHS
from tests.unit.simulator.conftest import REQUEST_TIMEOUT_S, Api, conversation


def _walk(api: Api, listing: str, **params: Any) -> list[dict[str, Any]]:
    """Every page of a listing, following nextUri (a path relative to the API base) to the last."""
    pages = [api.get(LISTING_PATHS[listing], **params).json()]
    while "nextUri" in pages[-1]:
        assert pages[-1]["nextUri"].startswith(LISTING_PATHS[listing] + "?")
        response = api.session.get(
            api.base + pages[-1]["nextUri"], headers=api._headers(), timeout=REQUEST_TIMEOUT_S
        )
        pages.append(response.json())
    return pages


def _expected(sim: GenesysSimulator, listing: str) -> set[str]:
    org = sim.org
    entities: dict[str, Any] = {
        "queues": org.queues,
        "users": [a for a in org.agents if a.state == "active"],
        "wrapupcodes": org.wrapup_codes,
        "divisions": org.divisions,
        "skills": org.skills,
        "languages": org.languages,
    }
    return {e.id for e in entities[listing]}


@pytest.mark.parametrize("listing", list(LISTING_PATHS))
@pytest.mark.parametrize("page_size", [7, 25, 100])
def test_each_listing_pages_through_the_org(api: Api, listing: str, page_size: int) -> None:
    pages = _walk(api, listing, pageSize=page_size)

    expected = _expected(api.simulator, listing)
    found = [e["id"] for page in pages for e in page["entities"]]
    assert sorted(found) == sorted(expected)  # each entity once
    count = math.ceil(len(expected) / page_size)
    assert len(pages) == count
    for number, page in enumerate(pages, start=1):
        assert (page["pageNumber"], page["pageSize"], page["total"], page["pageCount"]) == (
            number,
            page_size,
            len(expected),
            count,
        )
        uri = f"{LISTING_PATHS[listing]}?pageSize={page_size}&pageNumber="
        assert (page["selfUri"], page["firstUri"], page["lastUri"]) == (
            f"{uri}{number}",
            f"{uri}1",
            f"{uri}{count}",
        )
        assert ("previousUri" in page) == (number > 1)
        assert len(page["entities"]) == (
            page_size if number < count else len(expected) - page_size * (count - 1)
        )
    names = [e["name"].lower() for page in pages for e in page["entities"]]
    assert names == sorted(names)
    # and a page past the end is empty, with nothing next
    past = api.get(LISTING_PATHS[listing], pageSize=page_size, pageNumber=count + 1).json()
    assert past["entities"] == []
    assert "nextUri" not in past


def test_queues_carry_their_division_and_service_level_per_media_type(api: Api) -> None:
    entities = {e["id"]: e for e in api.get(LISTING_PATHS["queues"], pageSize=100).json()["entities"]}

    for queue in api.simulator.org.queues:
        listed = entities[queue.id]
        assert listed["name"] == queue.name
        assert listed["division"] == {
            "id": queue.division.id,
            "name": queue.division.name,
            "selfUri": f"/api/v2/authorization/divisions/{queue.division.id}",
        }
        # a queue's mediaSettings name voice "call"
        settings = listed["mediaSettings"]
        for media, (percentage, duration_ms) in queue.service_levels.items():
            key = "call" if media == "voice" else media
            assert settings[key]["serviceLevel"] == {"percentage": percentage, "durationMs": duration_ms}
        assert len(settings) == len(queue.media)


@pytest.mark.parametrize(
    ("state", "count"), [(None, 93), ("active", 93), ("inactive", 3), ("deleted", 4), ("any", 100)]
)
def test_users_are_listed_by_state_and_deleted_ones_only_when_asked(
    api: Api, state: str | None, count: int
) -> None:
    params = {} if state is None else {"state": state}
    users = [u for page in _walk(api, "users", pageSize=30, **params) for u in page["entities"]]

    assert len(users) == count
    assert {u["state"] for u in users} == (
        {"active", "inactive", "deleted"} if state == "any" else {state or "active"}
    )
    agents = {a.id: a for a in api.simulator.org.agents}
    for user in users:
        agent = agents[user["id"]]
        assert (user["name"], user["email"], user["division"]["id"]) == (
            agent.name,
            agent.email,
            agent.division.id,
        )
    if state is not None:  # the state asked for stays in the links
        assert api.get(LISTING_PATHS["users"], state=state).json()["selfUri"].endswith(f"&state={state}")


def test_names_change_and_entities_go_between_two_syncs(api: Api) -> None:
    # Given a conversation handled in a queue, and a first sync
    sim = api.simulator
    call = conversation(0)
    sim.add_conversations([call])
    queue_id = sim.timeline(call.conversation_id).queue_ids[0]
    queue = next(q for q in sim.org.queues if q.id == queue_id)
    user = next(a for a in sim.org.agents if a.state == "active")
    before = api.multi_get([call.conversation_id]).json()

    # When the queue's division and a code are renamed, the queue and a user deleted
    code = sim.org.wrapup_codes[0]
    sim.rename_entity("divisions", queue.division.id, "Renamed division")
    sim.rename_entity("wrapupcodes", code.id, "Resolved (first contact)")
    sim.delete_entity("queues", queue_id)
    sim.delete_entity("users", user.id)

    # Then the next sync lists the new names, not the deleted queue, and the deleted user only with
    # state=any; the conversation's details still name them by id
    queues = {e["id"]: e for e in api.get(LISTING_PATHS["queues"], pageSize=100).json()["entities"]}
    assert queue_id not in queues
    assert {q["division"]["name"] for q in queues.values() if q["division"]["id"] == queue.division.id} <= {
        "Renamed division"
    }
    divisions = {e["id"]: e["name"] for e in api.get(LISTING_PATHS["divisions"]).json()["entities"]}
    assert divisions[queue.division.id] == "Renamed division"
    codes = {
        e["id"]: e["name"] for e in api.get(LISTING_PATHS["wrapupcodes"], pageSize=100).json()["entities"]
    }
    assert codes[code.id] == "Resolved (first contact)"
    active = {u["id"] for page in _walk(api, "users", pageSize=100) for u in page["entities"]}
    everyone = {
        u["id"]: u for page in _walk(api, "users", pageSize=100, state="any") for u in page["entities"]
    }
    assert user.id not in active
    assert everyone[user.id]["state"] == "deleted"
    assert api.multi_get([call.conversation_id]).json() == before
    with pytest.raises(KeyError):
        sim.delete_entity("queues", "no-such-queue")
    with pytest.raises(KeyError):
        sim.rename_entity("flows", queue_id, "x")


def test_a_forbidden_listing_answers_403_naming_its_permission(
    make_sim: Callable[..., GenesysSimulator],
) -> None:
    api = Api(make_sim(forbidden_listings=frozenset({"queues", "users"})))

    for listing in LISTING_PATHS:
        response = api.get(LISTING_PATHS[listing])
        if listing in ("queues", "users"):
            assert response.status_code == 403
            body = response.json()
            assert (body["code"], body["status"]) == ("missing.any.permissions", 403)
            assert f"[{PERMISSIONS[listing]}]" in body["message"]
            assert body["contextId"] == response.headers["ININ-Correlation-Id"]
        else:
            assert response.status_code == 200
    with pytest.raises(ValueError, match="unknown \\['flows'\\]"):
        SimulatorConfig(forbidden_listings=frozenset({"flows"}))


@pytest.mark.parametrize(
    "params",
    [{"pageSize": "101"}, {"pageSize": "0"}, {"pageNumber": "0"}, {"pageSize": "x"}, {"state": "gone"}],
)
def test_bad_paging_is_a_400(api: Api, params: dict[str, str]) -> None:
    response = api.get(LISTING_PATHS["users"], **params)

    assert response.status_code == 400
    assert response.json()["code"] == "bad.request"


def test_listings_share_the_request_budget_and_the_faults(make_sim: Callable[..., GenesysSimulator]) -> None:
    api = Api(make_sim(requests_per_minute=3))
    statuses = [
        api.get(LISTING_PATHS[name]).status_code for name in ("queues", "users", "skills", "languages")
    ]
    assert statuses == [200, 200, 200, 429]

    stormy = Api(make_sim(faults=NAMED_PROFILES["storm"], requests_per_minute=None))
    assert [stormy.get(LISTING_PATHS["queues"]).status_code for _ in range(5)][3:] == [429, 429]
    assert api.simulator.stats()["by_endpoint"]["queues"] == 1
