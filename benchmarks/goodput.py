"""Figure 2: how much of a shared Genesys budget turns into successful fetches, pacing on vs off.

Same load and same budget for both runs: `callers` concurrent processors (the event source's maximum
concurrency), each with its own GenesysClient as separate Lambda processes have, drain the same
multi-gets of 100 ready conversations against the simulator, whose budget is shared by all of them
(budget scope "client", the org-wide accounting). Paced, each client gets budget / callers, as the
stack configures it (GENESYS_CONCURRENT_CALLERS); unpaced, the clients send as fast as they can and
rely on 429 + Retry-After alone.

The load must exceed one minute's budget, or no limit is ever reached and the comparison says
nothing; to keep that affordable, the simulator and the clients share a clock that runs `speedup`
times faster than real time (both are built for injected clocks), so a minute lasts 60 / speedup s.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

# A client that paces at this rate does not pace at all in practice (one slot every 60 microseconds).
UNPACED_REQUESTS_PER_MINUTE = 1_000_000


class FastClock:
    """Monotonic time running `speedup` times faster than the wall clock, and a sleep on that time."""

    def __init__(self, speedup: float) -> None:
        self.speedup = speedup
        self._origin = time.monotonic()

    def now(self) -> float:
        return (time.monotonic() - self._origin) * self.speedup

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.speedup)


@dataclass(frozen=True)
class GoodputResult:
    paced: bool
    api_requests: int
    successful_fetches: int
    throttled: int
    handed_back: int  # chunks whose retries ran out (RetryLater): back to the queue, as SQS would
    simulated_minutes: float

    @property
    def goodput(self) -> float:
        return self.successful_fetches / self.api_requests if self.api_requests else 0.0

    @property
    def throttled_share(self) -> float:
        return self.throttled / self.api_requests if self.api_requests else 0.0


def goodput_run(
    *,
    paced: bool,
    requests: int,
    callers: int,
    budget_per_minute: int,
    speedup: float,
    ids_per_request: int = 100,
    seed: int = 11,
) -> GoodputResult:
    """Fetch `requests` chunks of `ids_per_request` ready conversations; count what the simulator saw."""
    from genesys_bridge.genesys import GenesysClient, RetryLater
    from genesys_simulator import GenesysSimulator, SimulatorConfig, synthetic_conversations

    clock = FastClock(speedup)
    simulator = GenesysSimulator(
        SimulatorConfig(
            requests_per_minute=budget_per_minute,
            budget_scope="client",
            seed=seed,
            clock=clock.now,
            sleep=clock.sleep,
            max_recorded_requests=0,  # counters only
        )
    )
    base_url = simulator.start()
    try:
        conversations = synthetic_conversations(requests * ids_per_request, seed=seed)
        simulator.add_conversations(conversations)
        work: queue.Queue[list[str]] = queue.Queue()
        ids = [c.conversation_id for c in conversations]
        for start in range(0, len(ids), ids_per_request):
            work.put(ids[start : start + ids_per_request])
        per_caller = max(1, budget_per_minute // callers) if paced else UNPACED_REQUESTS_PER_MINUTE
        handed_back = 0
        lock = threading.Lock()
        errors: list[BaseException] = []

        def caller() -> None:
            nonlocal handed_back
            client: Any = GenesysClient(
                region="mypurecloud.ie",
                client_id=simulator.config.client_id,
                client_secret=simulator.config.client_secret,
                api_base_url=base_url,
                login_base_url=base_url,
                max_requests_per_minute=per_caller,
                ids_per_request=ids_per_request,
                clock=clock.now,
                sleep=clock.sleep,
            )
            try:
                while True:
                    try:
                        chunk = work.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        client.get_conversation_details(chunk)
                    except RetryLater as later:
                        # what the processor does: the message goes back and returns after retry_after
                        with lock:
                            handed_back += 1
                        clock.sleep(later.retry_after or 1.0)
                        work.put(chunk)
            except BaseException as error:  # noqa: BLE001 - re-raised in the main thread below
                errors.append(error)
            finally:
                client.close()

        started = clock.now()
        threads = [threading.Thread(target=caller, daemon=True) for _ in range(callers)]
        # The client logs each 429 it waits out; hundreds of those lines would bury the table. Its
        # package's records stop at a handler that drops them (no parent's handler, no last resort).
        package, dropped = logging.getLogger("genesys_bridge"), logging.NullHandler()
        package.addHandler(dropped)
        package.propagate = False
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=600)
        finally:
            package.removeHandler(dropped)
            package.propagate = True
        if errors:
            raise errors[0]
        stats = simulator.stats()
    finally:
        simulator.stop()
    api = int(stats["api_requests"])
    throttled = int(stats["throttled_429"])
    successes = int(stats["successful_fetch_requests"])
    return GoodputResult(
        paced=paced,
        api_requests=api,
        successful_fetches=successes,
        throttled=throttled,
        handed_back=handed_back,
        simulated_minutes=(clock.now() - started) / 60,
    )
