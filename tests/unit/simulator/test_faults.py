"""Fault profiles: seeded 5xx share, storms, slow answers, scheduled revocations, and that each shows."""

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


def test_5xx_share_is_as_configured_and_reproducible(
    make_sim: Callable[..., GenesysSimulator],
) -> None:
    # Given two simulators with the same seed and 20% of requests failing
    flaky = FaultProfile(error_rate_5xx=0.2)
    first = make_sim(seed=42, faults=flaky, requests_per_minute=None)
    second = make_sim(seed=42, faults=flaky, requests_per_minute=None)

    # When 300 requests are made to each
    statuses = _statuses(first, 300)

    # Then a fifth fail, with both 503 and 504, and the same seed fails the same requests
    failures = [s for s in statuses if s >= 500]
    assert len(failures) == 60
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


# API requests the processor made in `python -m local_runner --conversations 200` runs (seeds 1, 2, 3
# and 7, late rate 0 and 0.1): 23 to 39. Each profile must show its faults well within the fewest.
REQUESTS_OF_A_200_CONVERSATION_RUN = 20
EXPECTED_FAULTS = {
    "flaky": {"5xx"},
    "slow": {"slow"},
    "storm": {"storm"},
    "revoke": {"revoked"},
    "chaos": {"5xx", "slow", "storm", "revoked"},
}


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("profile", sorted(EXPECTED_FAULTS))
def test_every_profile_shows_its_faults_in_a_200_conversation_run(
    make_sim: Callable[..., GenesysSimulator], profile: str, seed: int
) -> None:
    # Given a simulator with the named profile, and a client that re-authenticates after a 401 as
    # the processor does
    sim = make_sim(seed=seed, faults=FaultProfile.named(profile), sleep=lambda seconds: None)
    api = Api(sim)

    # When it makes as many API requests as a 200-conversation local run makes at the least
    for _ in range(REQUESTS_OF_A_200_CONVERSATION_RUN):
        if api.multi_get(IDS).status_code == 401:
            api.fetch_token()

    # Then every kind of fault the profile stands for happened at least once
    assert set(sim.stats()["by_fault"]) == EXPECTED_FAULTS[profile]


@pytest.mark.parametrize("rate", [0.1, 0.25, 0.3, 1.0])
def test_rate_faults_fall_once_in_every_block_of_one_over_the_rate(rate: float) -> None:
    # Given a profile failing a share of requests
    profile = FaultProfile(error_rate_5xx=rate, slow_rate=rate)

    # When the first 600 admitted requests are laid out, for two seeds
    failing = [n for n in range(1, 601) if profile.fails_at(n, seed=1)]
    again = [n for n in range(1, 601) if profile.fails_at(n, seed=1)]
    other_seed = [n for n in range(1, 601) if profile.fails_at(n, seed=2)]
    slow = [n for n in range(1, 601) if profile.slows_at(n, seed=1)]

    # Then exactly the rate's share fails, never two blocks of 1/rate requests pass without a fault,
    # the same seed picks the same requests and slow answers fall independently of failures
    assert len(failing) == round(600 * rate)
    longest_gap = max(b - a for a, b in zip([0, *failing], [*failing, 601], strict=True))
    assert longest_gap < 2 / rate + 1
    assert failing == again
    assert len(other_seed) == len(failing)
    if rate < 1:
        assert other_seed != failing
        assert slow != failing


def test_the_storm_profile_storms_early_then_periodically() -> None:
    storm = FaultProfile.named("storm")

    throttled = [n for n in range(1, 41) if storm.storms_at(n)]

    assert throttled == [4, 5, 16, 17, 28, 29, 40]
