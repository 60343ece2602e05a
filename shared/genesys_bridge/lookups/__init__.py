"""Routing and directory lookups: names (and queues' service level targets) for the ids in the landed
details, one snapshot a day per lookup (docs/design.md, "Lookups"). `sync` is the domain code,
`runtime` the lookups function's per-process wiring."""

from __future__ import annotations

from .sync import (
    LISTINGS,
    Listing,
    LookupResult,
    LookupsFailed,
    Outcome,
    report,
    snapshot_day,
    sync_lookup,
    sync_lookups,
)

__all__ = [
    "LISTINGS",
    "Listing",
    "LookupResult",
    "LookupsFailed",
    "Outcome",
    "report",
    "snapshot_day",
    "sync_lookup",
    "sync_lookups",
]
