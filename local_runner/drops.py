"""Events lost before ingest: a share of conversations whose every event never reaches the bridge.

What a paused or deleted integration, a partner source not associated with the bus, or a rule DLQ
nobody replayed does to the live path (docs/completeness.md). Genesys still has those conversations:
the run registers them with the simulator as if their events had been sent, and only the closing
audit can land them.
"""

from __future__ import annotations

import random

from local_runner.workload import PlannedEvent, Workload


def choose_dropped(workload: Workload, rate: float, seed: int) -> frozenset[str]:
    """round(rate x conversations) of the workload's conversations, at least one for a rate above 0
    (so a small run still exercises it), drawn with their own seeded generator (the workload's draws
    stay those of a run without drops)."""
    if rate <= 0 or not workload.conversations:
        return frozenset()
    ids = sorted(workload.conversations)
    count = min(len(ids), max(1, round(rate * len(ids))))
    return frozenset(random.Random(f"drop:{seed}").sample(ids, count))


def delivered_events(workload: Workload, dropped: frozenset[str]) -> list[PlannedEvent]:
    """The events that reach the ingest function: all but the dropped conversations' (malformed inputs,
    which belong to no conversation, still arrive)."""
    return [planned for planned in workload.events if planned.conversation_id not in dropped]
