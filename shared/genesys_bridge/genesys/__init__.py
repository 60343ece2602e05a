"""Genesys Cloud analytics client: tokens, pacing, retries and pagers done once, for every caller.

    from genesys_bridge.genesys import GenesysClient, RateLimited
    client = GenesysClient(
        region="mypurecloud.ie", client_id=..., client_secret=..., max_requests_per_minute=240
    )
    conversations = client.get_conversation_details(ids, deadline=deadline)

See docs/genesys-client.md. Imports requests and tenacity only (no boto3): it ships in the layer.
"""

from __future__ import annotations

from genesys_bridge.regions import REGIONS

from .client import GenesysClient
from .errors import (
    GenesysApiError,
    GenesysAuthError,
    GenesysError,
    GenesysUnavailable,
    JobFailed,
    PagingError,
    QueryTooLarge,
    RateLimited,
    RetryLater,
)
from .stats import GenesysStats

__all__ = [
    "REGIONS",
    "GenesysApiError",
    "GenesysAuthError",
    "GenesysClient",
    "GenesysError",
    "GenesysStats",
    "GenesysUnavailable",
    "JobFailed",
    "PagingError",
    "QueryTooLarge",
    "RateLimited",
    "RetryLater",
]
