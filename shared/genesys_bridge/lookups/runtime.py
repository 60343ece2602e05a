"""Per-process wiring of the lookups function: settings, its own Genesys client, S3, the two steps.

Built on first use and cached for the life of the container through genesys_bridge.runtime's cache
(runtime.reset() forgets it), never at import. The function has a Genesys client of its own, paced at
LOOKUPS_MAX_REQUESTS_PER_MINUTE (the stack sets the audit's pace: docs/design.md, "Lookups").
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol

from genesys_bridge import contracts, runtime
from genesys_bridge.lookups.sync import listing_of, report, snapshot_day, sync_lookup
from genesys_bridge.metrics import MetricsSink
from genesys_bridge.settings import LookupsSettings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from genesys_bridge.genesys import GenesysClient

# Left of the invocation's time when no Genesys wait may start any more: a throttled listing is handed
# back to the workflow's retry instead of running into the function's timeout.
DEADLINE_MARGIN_SECONDS: Final = 15.0
DEFAULT_REMAINING_SECONDS: Final = 900.0
SYNC_STEP: Final = contracts.LOOKUPS_SYNC_STEP
REPORT_STEP: Final = contracts.LOOKUPS_REPORT_STEP


class DimensionedMetrics(MetricsSink, Protocol):
    """Powertools' Metrics: metrics, and a dimension for every metric of the invocation."""

    def add_dimension(self, name: str, value: str) -> None: ...


def lookups_settings() -> LookupsSettings:
    settings: LookupsSettings = runtime.cached_per_process(
        "lookups_settings", LookupsSettings.from_environment
    )
    return settings


def genesys_client() -> GenesysClient:
    """The lookups' Genesys client with the current credentials (a rotated secret is picked up within
    runtime.SECRET_MAX_AGE_SECONDS, as for the processor)."""
    settings = lookups_settings()
    return runtime.cached_genesys_client(
        "lookups_genesys", settings, max_requests_per_minute=settings.lookups_max_requests_per_minute
    )


def run_step(
    event: Mapping[str, Any], context: LambdaContext | None, metrics: DimensionedMetrics
) -> dict[str, Any]:
    """The lookups handler's one call. `{"step": "sync", "lookup": <name>, "started_at": <ISO time>}`
    lands one lookup and answers its result; `{"step": "report", "results": [...]}` judges a sync."""
    step = event.get("step")
    if step == REPORT_STEP:
        results = event.get("results")
        if not isinstance(results, list):
            raise ValueError("the report step needs `results`, the list of the Map's outputs")
        return report(results)
    if step != SYNC_STEP:
        raise ValueError(f"unknown step {step!r}: the lookups function runs {SYNC_STEP!r} or {REPORT_STEP!r}")
    lookup = str(event.get("lookup"))
    listing_of(lookup)  # an unknown name fails before any request
    day = snapshot_day(str(event.get("started_at")))
    # Every metric of this invocation says which lookup it is about.
    metrics.add_dimension(contracts.LOOKUP_DIMENSION, lookup)
    genesys = genesys_client()
    getter = getattr(context, "get_remaining_time_in_millis", None)
    remaining_s = int(getter()) / 1000 if callable(getter) else DEFAULT_REMAINING_SECONDS
    deadline = time.monotonic() + max(1.0, remaining_s - DEADLINE_MARGIN_SECONDS)
    settings = lookups_settings()
    result = sync_lookup(
        lookup,
        day,
        genesys=genesys,
        s3=runtime.s3_client(),
        bucket=settings.results_bucket_name,
        metrics=metrics,
        deadline=deadline,
    )
    return result.to_dict()
