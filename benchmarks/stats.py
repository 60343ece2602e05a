"""Small, dependency-free statistics used by every figure (kept pure so the unit tests can pin them)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], pct: float) -> float:
    """The pct-th percentile (0..100) by linear interpolation between closest ranks.

    Same definition as numpy's default ("linear"), so a reader can check a figure with any tool;
    a p99 over a few hundred samples is then an interpolated value, not simply the maximum.
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0.0 <= pct <= 100.0:
        raise ValueError(f"percentile must be within 0..100, got {pct}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return float(ordered[low])
    fraction = rank - low
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


def median(values: Sequence[float]) -> float:
    return percentile(values, 50.0)


def requests_floor(conversations: int, ids_per_request: int = 100) -> float:
    """Fewest Genesys requests per conversation: every multi-get full, nothing fetched twice.

    ceil(N / ids_per_request) / N: 1,000 conversations need at least 10 calls of 100 ids, 0.01 each.
    """
    if conversations <= 0:
        raise ValueError("the floor needs at least one conversation")
    if ids_per_request <= 0:
        raise ValueError("ids_per_request must be positive")
    return math.ceil(conversations / ids_per_request) / conversations
