"""Pacing: the client stays within its per-minute budget on its own, so 429s stay rare."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests
import responses

from genesys_bridge.genesys import GenesysClient, RateLimited
from genesys_bridge.genesys.pacing import RequestPacer

from .conftest import DETAILS_URL, FakeClock, api_calls


def _max_in_any_minute(times: list[float]) -> int:
    """The most requests any half-open 60 s window starting at a request holds."""
    ordered = sorted(times)
    return max(sum(1 for t in ordered if start <= t < start + 60) for start in ordered)


def test_client_keeps_its_requests_within_the_per_minute_budget(
    mocked: responses.RequestsMock,
    token_endpoint: Any,
    clock: FakeClock,
    make_client: Callable[..., GenesysClient],
) -> None:
    # Given a client allowed 10 requests per minute, and an API that notes when each request arrives
    sent_at: list[float] = []

    def record(_: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        sent_at.append(clock())
        return 200, {"Content-Type": "application/json"}, '{"conversations": []}'

    mocked.add_callback(responses.GET, DETAILS_URL, callback=record)
    client = make_client(max_requests_per_minute=10, ids_per_request=1)
    # When it is asked for 25 conversations in one go (25 calls at one id per call)
    client.get_conversation_details([f"c{index}" for index in range(25)])
    # Then no minute saw more than 10 requests, and they were evenly spread 6 s apart
    assert len(sent_at) == 25
    assert _max_in_any_minute(sent_at) == 10
    assert [round(b - a, 6) for a, b in itertools.pairwise(sent_at)] == [6.0] * 24
    # And the token request was not paced (the first API call went out at once)
    assert sent_at[0] == 1_000.0


def test_a_pacing_wait_past_the_deadline_raises_rate_limited(
    mocked: responses.RequestsMock,
    token_endpoint: Any,
    clock: FakeClock,
    make_client: Callable[..., GenesysClient],
) -> None:
    # Given a client at 6 requests per minute (one per 10 s) that just made a request
    mocked.add(responses.GET, DETAILS_URL, json={"conversations": []})
    client = make_client(max_requests_per_minute=6)
    client.get_conversation_details(["c1"])
    # When the next call must finish within 5 s
    with pytest.raises(RateLimited) as raised:
        client.get_conversation_details(["c2"], deadline=clock() + 5)
    # Then it is handed back at once with the pacing wait, and nothing was sent or slept
    assert raised.value.retry_after == pytest.approx(10.0)
    assert clock.sleeps == []
    assert len(api_calls(mocked)) == 1


def test_pacer_gives_concurrent_callers_distinct_evenly_spaced_slots() -> None:
    # Given one pacer at 120 requests per minute shared by 4 threads (sleep is a no-op: time stands)
    clock = FakeClock()
    pacer = RequestPacer(120, clock=clock, sleep=lambda _seconds: None)
    slots: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            slot = pacer.acquire()
            with lock:
                slots.append(slot)

    # When each takes 50 slots
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    # Then the 200 slots are all different, 0.5 s apart, so any minute holds at most 120
    ordered = sorted(slots)
    assert len(set(ordered)) == 200
    assert all(round(b - a, 9) == 0.5 for a, b in itertools.pairwise(ordered))
    assert _max_in_any_minute(ordered) == 120


def test_pacer_refuses_a_non_positive_budget() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        RequestPacer(0, clock=FakeClock(), sleep=lambda _seconds: None)
