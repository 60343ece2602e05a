"""The not-ready backoff schedule, written once: the processor pushes a message's visibility out by it,
and the stack's config check (stacks/config.py) sizes the work queue's redrive budget by it.

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


def not_ready_backoff(receive_count: int, base_seconds: int, max_seconds: int, seconds_left: float) -> int:
    """The visibility a not-ready message gets: the schedule, also capped at the time left until the
    max age (so the final check happens on time) and at SQS's visibility limit, and at least 1 s."""
    delay = min(
        not_ready_delay(receive_count, base_seconds, max_seconds),
        math.ceil(max(seconds_left, 0)),
        contracts.SQS_MAX_VISIBILITY_SECONDS,
    )
    return int(max(1, delay))
