"""Fault profiles: seeded 5xx share, storms, slow answers, scheduled revocations."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from genesys_simulator import NAMED_PROFILES, FaultProfile, GenesysSimulator
from tests.unit.simulator.conftest import Api

IDS = [str(uuid.uuid4())]


def _statuses(sim: GenesysSimulator, count: int) -> list[int]:
    api = Api(sim)
    return [api.multi_get(IDS).status_code for _ in range(count)]


def test_5xx_share_is_roughly_as_configured_and_reproducible(
    make_sim: Callable[..., GenesysSimulator],
) -> None:
    # Given two simulators with the same seed and 20% of requests failing
    flaky = FaultProfile(error_rate_5xx=0.2)
    first = make_sim(seed=42, faults=flaky, requests_per_minute=None)
    second = make_sim(seed=42, faults=flaky, requests_per_minute=None)

    # When 300 requests are made to each
    statuses = _statuses(first, 300)

    # Then about a fifth fail, with both 503 and 504, and the same seed fails the same requests
    failures = [s for s in statuses if s >= 500]
    assert 0.13 <= len(failures) / len(statuses) <= 0.27
    assert set(failures) == {503, 504}
    assert set(statuses) == {200, 503, 504}
    assert _statuses(second, 300) == statuses
    assert first.stats()["server_errors_5xx"] == len(failures)


def test_storms_answer_429_regardless_of_budget(make_sim: Callable[..., GenesysSimulator]) -> None:
    # Given storms of 2 requests every 5 and a budget that would never run out
    sim = make_sim(faults=FaultProfile(storm_every_n=5, storm_length=2, storm_retry_after_s=3))
    api = Api(sim)

    # When 12 requests are made
    responses = [api.multi_get(IDS) for _ in range(12)]

    # Then requests 5, 6, 10 and 11 are throttled with the storm's Retry-After
    throttled = [i + 1 for i, r in enumerate(responses) if r.status_code == 429]
    assert throttled == [5, 6, 10, 11]
    assert responses[4].headers["Retry-After"] == "3"
    assert responses[4].headers["inin-ratelimit-allowed"] == "300"
    assert responses[4].json()["code"] == "too.many.requests.retry.after"
    stats = sim.stats()
    assert stats["storm_429"] == 4
    assert stats["budget_used"] == 8


def test_slow_answers_use_the_injected_sleep(make_sim: Callable[..., GenesysSimulator]) -> None:
    # Given every request slowed by 2.5 s, with a sleep that only records
    slept: list[float] = []
    sim = make_sim(faults=FaultProfile(slow_rate=1.0, slow_seconds=2.5), sleep=slept.append)

    # When two requests are made
    statuses = _statuses(sim, 2)

    # Then both succeed, each after one 2.5 s delay
    assert statuses == [200, 200]
    assert slept == [2.5, 2.5]
    assert sim.stats()["slow_responses"] == 2


def test_scheduled_revocation_causes_401_then_a_new_token_works(
    make_sim: Callable[..., GenesysSimulator],
) -> None:
    # Given tokens revoked before the 3rd API request
    sim = make_sim(faults=FaultProfile(revoke_at_requests=(3,)))
    api = Api(sim)

    # When requests continue
    statuses = _statuses_with(api, 3)
    api.fetch_token()

    # Then the 3rd gets 401, and after re-authenticating the client is served again
    assert statuses == [200, 200, 401]
    assert api.multi_get(IDS).status_code == 200
    stats = sim.stats()
    assert stats["by_fault"]["revoked"] == 1
    assert stats["revocations"] == 1
    assert stats["token_requests"] == 2


def _statuses_with(api: Api, count: int) -> list[int]:
    return [api.multi_get(IDS).status_code for _ in range(count)]


def test_set_faults_at_runtime_by_name_and_back(sim: GenesysSimulator) -> None:
    api = Api(sim)
    sim.set_faults(FaultProfile(error_rate_5xx=1.0))
    assert api.multi_get(IDS).status_code in (503, 504)

    sim.set_faults("none")

    assert api.multi_get(IDS).status_code == 200
    assert sim.faults.name == "none"


def test_named_profiles() -> None:
    chaos = FaultProfile.named("chaos")

    assert set(NAMED_PROFILES) == {"none", "flaky", "slow", "storm", "revoke", "chaos"}
    assert not FaultProfile.named("none").active
    assert FaultProfile.named("flaky").error_rate_5xx == pytest.approx(0.10)
    assert chaos.error_rate_5xx == pytest.approx(0.10)
    assert chaos.slow_rate > 0
    assert chaos.storm_every_n > 0
    assert chaos.revoke_every_n > 0
    with pytest.raises(ValueError, match="unknown fault profile"):
        FaultProfile.named("gremlins")
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultProfile(error_rate_5xx=1.5)
