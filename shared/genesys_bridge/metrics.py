"""Metric names of every function, in one place, and the small interface the services emit through.

The stack's alarms and dashboards, the local runner and the benchmarks read the same names from here.
The services take any object with Powertools' `add_metric` signature, so tests pass a recorder and the
handlers pass their Powertools `Metrics` (EMF, namespace contracts.METRICS_NAMESPACE).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from enum import StrEnum
from typing import Protocol


class MetricName(StrEnum):
    # ingest
    EVENTS_RECEIVED = "EventsReceived"
    DUPLICATE_EVENTS = "DuplicateEvents"
    EVENTS_QUARANTINED = "EventsQuarantined"
    # an end event for a concluded item (FETCHED or LEFT_OPEN) that happened after it concluded: the
    # conversation ended again (a reopened messaging thread or email), and ingest queued a fresh fetch
    CONVERSATIONS_ENDED_AGAIN = "ConversationsEndedAgain"
    # processor
    CONVERSATIONS_FETCHED = "ConversationsFetched"
    CONVERSATIONS_NOT_READY = "ConversationsNotReady"
    CONVERSATIONS_FAILED = "ConversationsFailed"
    # known to analytics but still open at NOT_READY_MAX_AGE_MINUTES: item LEFT_OPEN, no DLQ message
    CONVERSATIONS_LEFT_OPEN = "ConversationsLeftOpen"
    # landed with a segment still open, SETTLE_MAX_MINUTES after the first event (also counted fetched)
    CONVERSATIONS_LANDED_UNSETTLED = "ConversationsLandedUnsettled"
    # seconds from the buffer item's firstEventAt to the landing, one value per landed conversation
    LANDING_LATENCY = "LandingLatency"
    GENESYS_REQUESTS = "GenesysRequests"
    GENESYS_THROTTLED = "GenesysThrottled"
    GENESYS_ERRORS = "GenesysErrors"
    # audit workflow (one value per day and mode, from its report step)
    AUDIT_MISSING_CONVERSATIONS = "AuditMissingConversations"
    AUDIT_CHANGED_CONVERSATIONS = "AuditChangedConversations"
    AUDIT_CONVERSATIONS = "AuditConversations"
    # landed ended, now open again in Genesys (reopened): the landed body is kept, never replaced by it
    AUDIT_REOPENED_CONVERSATIONS = "AuditReopenedConversations"
    # lookups sync (dimensions service and lookup, one value per lookup and sync)
    LOOKUP_ENTITIES = "LookupEntities"
    LOOKUPS_FORBIDDEN = "LookupsForbidden"
    # pipe DLQ resolver
    PIPE_POINTERS_RESOLVED = "PipePointersResolved"
    PIPE_POINTERS_UNRESOLVED = "PipePointersUnresolved"
    CONVERSATIONS_REQUEUED = "ConversationsRequeued"


COUNT = "Count"
SECONDS = "Seconds"


class MetricsSink(Protocol):
    """The part of aws_lambda_powertools.Metrics the services use."""

    def add_metric(self, name: str, unit: str, value: float) -> None: ...


class NullMetrics:
    """Discards metrics (scripts that call a service directly)."""

    def add_metric(self, name: str, unit: str, value: float) -> None:
        return None


class RecordingMetrics:
    """Adds up counts by name and keeps every other value (latencies): for tests and the local runner."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.values: defaultdict[str, list[float]] = defaultdict(list)

    def add_metric(self, name: str, unit: str, value: float) -> None:
        if unit == COUNT:
            self.counts[name] += int(value)
        else:
            self.values[name].append(value)
