"""How long agents spend in after-call work (ACW, the ``wrapup`` segment and its ``tAcw`` metric).

docs/genesys-api.md, "Wrap-up after conversationEnd": wrap-up starts at conversationEnd, ends later;
until then the agent's wrapup segment has no segmentEnd, and the ``acw`` event comes when it ends.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class AcwDistribution:
    """A seeded draw of ACW durations in seconds: some zero, most 10-120 s, a tail of several minutes.

    The default shape is an assumption, not a Genesys figure (unconfirmed; ACW depends on each
    queue's wrap-up settings and the agents): 15% of conversations without after-call work (the
    queue does not ask for it), 5% in a tail spread evenly on a log scale between 3 and 10 minutes,
    and the rest log-normal around a 40 s median (90% of those between 15 and 107 s). Set the
    shares from your org's tAcw to make local runs look like it.
    """

    zero_share: float = 0.15
    median_s: float = 40.0
    spread: float = 0.6  # sigma of the log-normal body
    tail_share: float = 0.05
    tail_min_s: float = 180.0
    tail_max_s: float = 600.0

    def __post_init__(self) -> None:
        for name in ("zero_share", "tail_share"):
            share = getattr(self, name)
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {share}")
        if self.zero_share + self.tail_share > 1.0:
            raise ValueError("zero_share + tail_share must not exceed 1")
        if self.median_s <= 0 or self.spread < 0:
            raise ValueError("median_s must be positive and spread must not be negative")
        if not 0 < self.tail_min_s <= self.tail_max_s:
            raise ValueError("the tail needs 0 < tail_min_s <= tail_max_s")

    def draw(self, rng: random.Random) -> float:
        """One ACW duration in seconds (0.0 for a conversation without after-call work), millisecond-exact."""
        share = rng.random()
        if share < self.zero_share:
            return 0.0
        if share < self.zero_share + self.tail_share:
            seconds = math.exp(rng.uniform(math.log(self.tail_min_s), math.log(self.tail_max_s)))
        else:
            # Capped at the tail's top: a body draw is never longer than the longest tail one.
            seconds = min(rng.lognormvariate(math.log(self.median_s), self.spread), self.tail_max_s)
        return max(0.001, round(seconds, 3))


DEFAULT_ACW = AcwDistribution()
# No after-call work at all: every conversation is settled the moment it ends.
NO_ACW = AcwDistribution(zero_share=1.0, tail_share=0.0)
