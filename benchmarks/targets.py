"""The benchmark targets (docs/benchmarks.md) as pure predicates, so the verdicts are unit-tested and
never hand-written."""

from __future__ import annotations

import math

# The targets of docs/benchmarks.md, "Targets" (benchmark figures, not timed tests).
# Figure 12: refetched conversations per multi-get that carries refetches, with the grid.
REFETCHES_PER_REQUEST_MIN = 5.0
GOODPUT_MIN = 0.90
THROTTLED_SHARE_MAX = 0.02
IMPORT_OVER_BOTO3_MAX = 2.5
SDK_OVER_IMPORT_MIN = 5.0
LAYER_UNZIPPED_MAX_BYTES = 25_000_000  # decimal MB, the stricter reading of "25 MB"


def requests_floor(conversations: int, ids_per_request: int = 100) -> float:
    """Fewest Genesys requests per conversation: every multi-get full, nothing fetched twice.

    ceil(N / ids_per_request) / N: 1,000 conversations need at least 10 calls of 100 ids, 0.01 each.
    """
    if conversations <= 0:
        raise ValueError("the floor needs at least one conversation")
    if ids_per_request <= 0:
        raise ValueError("ids_per_request must be positive")
    return math.ceil(conversations / ids_per_request) / conversations


def refetch_sharing_met(refetches_per_request: float) -> bool:
    return refetches_per_request >= REFETCHES_PER_REQUEST_MIN


def goodput_met(goodput: float, throttled_share: float) -> bool:
    return goodput >= GOODPUT_MIN and throttled_share <= THROTTLED_SHARE_MAX


def import_met(handler_s: float, boto3_s: float, sdk_s: float | None) -> bool:
    """Both halves: cheap next to boto3 (which Lambda has to load anyway) and far below the SDK.

    Without an SDK figure the second half cannot be shown, so the target is not met.
    """
    within_boto3 = handler_s <= IMPORT_OVER_BOTO3_MAX * boto3_s
    return within_boto3 and sdk_s is not None and sdk_s >= SDK_OVER_IMPORT_MIN * handler_s


def layer_met(unzipped_bytes: int) -> bool:
    return unzipped_bytes <= LAYER_UNZIPPED_MAX_BYTES
