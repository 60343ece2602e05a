"""The not-ready backoff schedule, written once: the processor pushes a message's visibility out by it,
and the stack's config check (stacks/config.py) sizes the work queue's redrive budget by it.

On top of the schedule two things only ever lengthen a wait (so the redrive budget the schedule sizes
still holds): an open wrap-up is not fetched again before it is expected to end, and every wait ends on
a shared grid of wall-clock time, so the refetches due in the same slot come back together and share
one Genesys request (docs/design.md, "Refetches that share requests").

Standard library only, so the CDK app imports it without the Lambda runtime's dependencies.
"""

from __future__ import annotations

import math

from genesys_bridge import contracts

# 2**30 s is far beyond any cap: bounding the exponent keeps the power a small integer.
_MAX_EXPONENT = 30
# The schedule the stack deploys (the processor reads it from its environment, so the local runner can
# run it on a faster clock): a minute after the first not-ready receive, doubling to a quarter of an
# hour, so a conversation Genesys has a moment later is fetched soon and one still running for hours
# costs about four receives an hour. Environments differ in how long they wait in all
# (not_ready_max_age_minutes), not in the spacing.
NOT_READY_RETRY_BASE_SECONDS = 60
NOT_READY_RETRY_MAX_SECONDS = 900


def not_ready_delay(receive_count: int, base_seconds: int, max_seconds: int) -> int:
    """The schedule itself: base x 2^(receive_count - 1) seconds, capped at max_seconds.

    The first receive (receive_count 1) waits `base_seconds`; every further receive doubles the wait
    until the cap.
    """
    exponent = min(max(receive_count, 1) - 1, _MAX_EXPONENT)
    return int(min(base_seconds * 2**exponent, max_seconds))


def to_grid(delay_seconds: float, now_epoch: float, grid_seconds: int) -> float:
    """The delay stretched to end on the next multiple of `grid_seconds` of wall-clock time (epoch
    seconds), so waits that end in the same slot end at the same moment; 0 leaves it as it is."""
    if grid_seconds <= 0:
        return delay_seconds
    return math.ceil((now_epoch + delay_seconds) / grid_seconds) * grid_seconds - now_epoch


def not_ready_backoff(
    receive_count: int,
    base_seconds: int,
    max_seconds: int,
    seconds_left: float,
    *,
    at_least_seconds: float = 0.0,
    now_epoch: float = 0.0,
    grid_seconds: int = 0,
) -> int:
    """The visibility a not-ready message gets: the schedule, or `at_least_seconds` when longer (an open
    wrap-up's expected end), ending on the grid; capped at the time left until the max age (so the final
    check happens on time) and at SQS's visibility limit, and at least 1 s.

    Visibility is whole seconds, so a wait ends within the second after its grid moment.
    """
    delay = max(float(not_ready_delay(receive_count, base_seconds, max_seconds)), at_least_seconds)
    delay = min(
        math.ceil(to_grid(delay, now_epoch, grid_seconds) - 1e-6),
        math.ceil(max(seconds_left, 0)),
        contracts.SQS_MAX_VISIBILITY_SECONDS,
    )
    return int(max(1, delay))
