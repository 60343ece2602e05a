"""The lookups sync: each day, a snapshot of six Genesys listings (queues, users, wrap-up codes,
divisions, skills, languages) in the results bucket, so the ids in the landed details get names and
queues their service level targets (docs/design.md, "Lookups").

`sync_lookup` lands one lookup (one iteration of the lookups workflow's Map, one Lambda invocation);
`report` judges a sync's results (the workflow's last step); `sync_lookups` runs the lookups one after
the other in process, catching what the workflow's Map catches, for the local runner, the benchmarks
and the tests. Clients are passed in.

A listing the OAuth client may not read (403) is a result, not an error: the lookup is reported
forbidden, with the permission it needs, and the other lookups land.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from genesys_bridge import layout
from genesys_bridge.audit.store import aws_call
from genesys_bridge.genesys.errors import GenesysApiError
from genesys_bridge.metrics import COUNT, MetricName, MetricsSink

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from genesys_bridge.genesys import GenesysClient

logger = logging.getLogger(__name__)

# Entities per listing page: the largest page size public integrations use with Genesys' entity
# listings (docs/genesys-api.md, "Routing and directory listings").
PAGE_SIZE: Final = 100
FORBIDDEN: Final = 403


@dataclass(frozen=True)
class Listing:
    """Where a lookup comes from, and the view permission the OAuth client's role needs for it."""

    path: str
    permission: str
    # Whether Genesys' SDK documentation names the permission for this endpoint. Where it names none,
    # the permission that governs the entity is named all the same, should an org refuse it.
    permission_documented: bool
    params: Mapping[str, str] = field(default_factory=dict)

    def query(self) -> dict[str, str]:
        return {"pageSize": str(PAGE_SIZE), **self.params}


# In layout.LOOKUPS' order (docs/operations.md, "Lookups" lists the permissions for the README).
LISTINGS: Final[Mapping[str, Listing]] = {
    "queues": Listing("/api/v2/routing/queues", "routing:queue:view", True),
    # state=any lists deleted users too: an agent who left keeps a name for the conversations they had.
    "users": Listing("/api/v2/users", "directory:user:view", False, {"state": "any"}),
    "wrapup_codes": Listing("/api/v2/routing/wrapupcodes", "routing:wrapupCode:view", True),
    "divisions": Listing("/api/v2/authorization/divisions", "authorization:division:view", False),
    "skills": Listing("/api/v2/routing/skills", "routing:skill:view", True),
    "languages": Listing("/api/v2/routing/languages", "routing:language:view", False),
}


class Outcome(StrEnum):
    LANDED = "landed"
    FORBIDDEN = "forbidden"  # the listing answered 403: the OAuth client's role lacks `permission`
    FAILED = "failed"  # anything else, once the workflow's retries are spent


class LookupsFailed(Exception):
    """At least one lookup of a sync failed (forbidden ones do not count): the execution fails with this
    error name, after every lookup was tried, so its alarm fires while the others stay landed."""


@dataclass(frozen=True)
class LookupResult:
    """What one lookup of a sync did: the workflow's Map collects these, `report` reads them."""

    lookup: str
    outcome: Outcome
    snapshot_date: str | None = None  # YYYY-MM-DD
    entities: int = 0
    key: str | None = None
    permission: str | None = None
    error: str | None = None
    genesys_requests: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "outcome": self.outcome.value}

    def describe(self) -> str:
        if self.outcome is Outcome.LANDED:
            return f"{self.lookup}: {self.entities} entities -> {self.key}"
        if self.outcome is Outcome.FORBIDDEN:
            return f"{self.lookup}: forbidden, the OAuth client's role needs {self.permission}"
        return f"{self.lookup}: failed, {self.error}"


def snapshot_day(started_at: str) -> date:
    """The UTC day of a sync (the workflow execution's start time, ISO 8601): every lookup of one sync
    lands in the same day's snapshot, however long the sync runs."""
    try:
        moment = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        raise ValueError(
            f"started_at must be an ISO 8601 time such as 2026-12-06T01:30:00Z, got {started_at!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()


def listing_of(lookup: str) -> Listing:
    if lookup not in LISTINGS:
        raise ValueError(f"{lookup!r} is not a lookup (one of {', '.join(LISTINGS)})")
    return LISTINGS[lookup]


def sync_lookup(
    lookup: str,
    day: date,
    *,
    genesys: GenesysClient,
    s3: S3Client,
    bucket: str,
    metrics: MetricsSink,
    deadline: float | None = None,
) -> LookupResult:
    """Read every page of the lookup's listing and land it as the day's snapshot (replacing one an earlier
    sync of the day landed). A 403 returns a FORBIDDEN result; other errors propagate: the client's
    RetryLater family and AwsUnavailable for the workflow to retry, anything else to fail the lookup.
    Nothing is written unless every page was read."""
    listing = listing_of(lookup)
    before = genesys.stats.requests
    try:
        listed = list(genesys.iter_entities(listing.path, listing.query(), deadline=deadline))
    except GenesysApiError as error:
        if error.status != FORBIDDEN:
            raise
        logger.warning(
            "lookup %s not landed: Genesys refused %s with 403 (%s); the OAuth client's role needs %s",
            lookup,
            listing.path,
            error.code or "no code",
            listing.permission,
        )
        metrics.add_metric(MetricName.LOOKUPS_FORBIDDEN, COUNT, 1)
        return LookupResult(
            lookup,
            Outcome.FORBIDDEN,
            day.isoformat(),
            permission=listing.permission,
            error=str(error),
            genesys_requests=genesys.stats.requests - before,
        )
    finally:
        metrics.add_metric(MetricName.GENESYS_REQUESTS, COUNT, genesys.stats.requests - before)
    entities = [entity for entity in listed if _has_id(entity)]
    if len(entities) < len(listed):
        left_out = len(listed) - len(entities)
        logger.warning("lookup %s: %d listed entities without an id left out", lookup, left_out)
    body = layout.serialize_lookup(entities)
    dataset = layout.lookup_dataset(lookup)
    key = dataset.key(day, lookup)
    with aws_call(f"PutObject {key}"):
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=dataset.content_type)
    landed = body.count(b"\n")
    metrics.add_metric(MetricName.LOOKUP_ENTITIES, COUNT, landed)
    metrics.add_metric(MetricName.LOOKUPS_FORBIDDEN, COUNT, 0)
    logger.info("lookup %s: %d entities landed at %s", lookup, landed, key)
    return LookupResult(
        lookup, Outcome.LANDED, day.isoformat(), landed, key, genesys_requests=genesys.stats.requests - before
    )


def _has_id(entity: Any) -> bool:
    return isinstance(entity, dict) and isinstance(entity.get("id"), str) and bool(entity["id"])


def sync_lookups(
    day: date,
    *,
    genesys: GenesysClient,
    s3: S3Client,
    bucket: str,
    metrics: MetricsSink,
    lookups: Iterable[str] = layout.LOOKUPS,
) -> list[LookupResult]:
    """Every lookup, one at a time, as the workflow's Map runs them: a lookup that raises is a FAILED
    result (the Map's catch), and the next one still runs. `report` then judges them."""
    results = []
    for lookup in lookups:
        try:
            results.append(sync_lookup(lookup, day, genesys=genesys, s3=s3, bucket=bucket, metrics=metrics))
        except Exception as error:  # noqa: BLE001 - the Map catches every error (States.ALL) the same way
            logger.warning("lookup %s failed: %s: %s", lookup, type(error).__name__, error)
            failure = f"{type(error).__name__}: {error}"
            results.append(LookupResult(lookup, Outcome.FAILED, day.isoformat(), error=failure))
    return results


def result_of(entry: Mapping[str, Any]) -> LookupResult:
    """A Map iteration's output as a LookupResult: sync_lookup's own dict, or the catch's
    `{"lookup", "outcome": "failed", "error": {"Error", "Cause"}}` (Cause: Lambda's error JSON)."""
    error = entry.get("error")
    if isinstance(error, Mapping):
        error = _caught_error(error)
    return LookupResult(
        lookup=str(entry.get("lookup")),
        outcome=Outcome(entry.get("outcome", Outcome.FAILED)),
        snapshot_date=entry.get("snapshot_date"),
        entities=int(entry.get("entities") or 0),
        key=entry.get("key"),
        permission=entry.get("permission"),
        error=None if error is None else str(error),
        genesys_requests=int(entry.get("genesys_requests") or 0),
    )


def _caught_error(caught: Mapping[str, Any]) -> str:
    name, cause = str(caught.get("Error", "Error")), caught.get("Cause")
    try:
        message = json.loads(cause)["errorMessage"] if isinstance(cause, str) else None
    except (ValueError, TypeError, KeyError):
        message = cause
    return f"{name}: {message}" if message else name


def report(entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The sync's summary (the execution's output): what landed, what is forbidden and needs which
    permission. Raises LookupsFailed, naming each failed lookup and why, when any failed."""
    results = [result_of(entry) for entry in entries]
    for result in results:
        if result.outcome is not Outcome.LANDED:
            logger.warning("lookups sync: %s", result.describe())
    failed = [result for result in results if result.outcome is Outcome.FAILED]
    if failed:
        raise LookupsFailed("; ".join(result.describe() for result in failed))
    return {
        "landed": {r.lookup: r.entities for r in results if r.outcome is Outcome.LANDED},
        "forbidden": {r.lookup: r.permission for r in results if r.outcome is Outcome.FORBIDDEN},
    }
