"""The per-token request budget: 429 with Retry-After and inin-ratelimit-* headers."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from genesys_simulator import GenesysSimulator
from tests.unit.simulator.conftest import Api, FakeClock

IDS = [str(uuid.uuid4())]


def test_exhausted_budget_answers_429_until_the_window_resets(
    make_sim: Callable[..., GenesysSimulator], clock: FakeClock
) -> None:
    # Given a budget of 3 requests per minute
    api = Api(make_sim(requests_per_minute=3))
    answered = [api.multi_get(IDS) for _ in range(3)]
    assert [r.status_code for r in answered] == [200, 200, 200]
    assert [r.headers["inin-ratelimit-count"] for r in answered] == ["1", "2", "3"]
    assert answered[0].headers["inin-ratelimit-allowed"] == "3"

    # When a 4th request comes 20 s into the window
    clock.advance(20)
    throttled = api.multi_get(IDS)

    # Then it is refused with Genesys' 429: whole-second Retry-After, headers and body
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "40"
    assert throttled.headers["inin-ratelimit-count"] == "3"
    assert throttled.headers["inin-ratelimit-allowed"] == "3"
    assert throttled.headers["inin-ratelimit-reset"] == "40"
    assert throttled.json() == {
        "message": "Rate limit exceeded the maximum. Retry the request in [40] seconds",
        "code": "too.many.requests.retry.after",
        "status": 429,
        "contextId": throttled.headers["ININ-Correlation-Id"],
        "details": [],
        "errors": [],
    }

    # And once the minute is over the budget is back
    clock.advance(40)
    assert api.multi_get(IDS).status_code == 200


def test_refused_requests_do_not_use_the_budget(make_sim: Callable[..., GenesysSimulator]) -> None:
    sim = make_sim(requests_per_minute=2)
    api = Api(sim)

    statuses = [api.multi_get(IDS).status_code for _ in range(5)]

    assert statuses == [200, 200, 429, 429, 429]
    stats = sim.stats()
    assert stats["budget_used"] == 2
    assert stats["budget_429"] == 3
    assert stats["throttled_429"] == 3


def test_each_token_has_its_own_budget_by_default(make_sim: Callable[..., GenesysSimulator]) -> None:
    # Given one client holding a token whose budget is spent
    sim = make_sim(requests_per_minute=1)
    first, second = Api(sim), Api(sim)
    assert first.multi_get(IDS).status_code == 200
    assert first.multi_get(IDS).status_code == 429

    # When a second token is used, it starts with a full budget (Genesys' per-token limit)
    assert second.multi_get(IDS).status_code == 200


def test_client_scope_shares_one_budget_across_tokens(make_sim: Callable[..., GenesysSimulator]) -> None:
    sim = make_sim(requests_per_minute=1, budget_scope="client")
    first, second = Api(sim), Api(sim)

    assert first.multi_get(IDS).status_code == 200
    assert second.multi_get(IDS).status_code == 429


def test_no_budget_means_no_429(make_sim: Callable[..., GenesysSimulator]) -> None:
    api = Api(make_sim(requests_per_minute=None))

    statuses = {api.multi_get(IDS).status_code for _ in range(20)}

    assert statuses == {200}


def test_concurrent_callers_never_exceed_a_shared_budget(make_sim: Callable[..., GenesysSimulator]) -> None:
    # Given one client-wide budget of 30 requests and four threads with their own tokens
    sim = make_sim(requests_per_minute=30, budget_scope="client")
    callers = [Api(sim) for _ in range(4)]
    for caller in callers:
        caller.fetch_token()

    # When each thread makes 15 requests at once
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda api: [api.multi_get(IDS).status_code for _ in range(15)], callers))

    # Then exactly the budget was served and the rest throttled, and every request was counted
    statuses = [status for result in results for status in result]
    assert statuses.count(200) == 30
    assert statuses.count(429) == 30
    stats = sim.stats()
    assert stats["budget_used"] == 30
    assert stats["requests_total"] == 64
