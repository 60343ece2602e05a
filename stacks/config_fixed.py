"""Settings that are the same in every environment: constants, each with its reason, that the stack's
constructs and the tools playing them (the local runner, `make capacity`) share, and the cdk.json keys
that became constants. No aws_cdk import, as for stacks/config.py.
"""

from __future__ import annotations

from collections.abc import Mapping

from genesys_bridge.audit.plan import RESULTS_PAGE_SIZE
from genesys_bridge.backoff import NOT_READY_RETRY_BASE_SECONDS, NOT_READY_RETRY_MAX_SECONDS

# SQS limits the validators lean on.
SQS_MAX_DELIVERY_DELAY_SECONDS = 900
WORK_QUEUE_RETENTION_DAYS = 4
# Receives a message may spend on being handed back for rate limits or Genesys outages (RetryLater),
# on top of the not-ready schedule; each costs one receive of the work queue's redrive budget.
THROTTLE_RECEIVE_HEADROOM = 10
# The pipe DLQ resolver (stacks/pipe_dlq.py), which the local runner plays with the same numbers. One
# pointer costs a GetShardIterator, a few GetRecords (a pipe batch is at most 10,000 records, 1,000
# per read) and one SendMessageBatch per 10 conversations: seconds, not minutes.
PIPE_DLQ_RESOLVER_TIMEOUT_SECONDS = 60
PIPE_DLQ_RESOLVER_BATCH_SIZE = 10
# Deliveries of one pointer (throttling, AWS errors) before SQS parks it in the unresolved queue.
PIPE_DLQ_MAX_RECEIVE_COUNT = 5

# The ingest function makes one UpdateItem (and at most one SendMessage) per event: seconds at most.
INGEST_TIMEOUT_SECONDS = 10
# EventBridge's retries when it cannot invoke the ingest function at all (throttling, Lambda
# unavailable), both at EventBridge's maximum: an event is worth keeping as long as EventBridge can,
# and the rule DLQ (with its alarm) takes what is left.
INGEST_RULE_RETRY_ATTEMPTS = 185
INGEST_RULE_MAX_EVENT_AGE_HOURS = 24
# Lambda's own retries of an ingest invocation that failed (its maximum), and the age after which an
# event goes to the failed-invocations queue instead (an alarm fires; `make ops` replays it).
INGEST_ASYNC_RETRY_ATTEMPTS = 2
INGEST_ASYNC_MAX_EVENT_AGE_HOURS = 6

# Pipes takes at most 10 records a batch for an SQS target, and the fullest batch costs the fewest
# requests.
PIPE_BATCH_SIZE = 10
# Retries of a failed batch (bisected on each) before the pipe dead-letters it: enough to ride out a
# throttled work queue, few enough that a record the template cannot render reaches the DLQ soon.
PIPE_MAX_RETRY_ATTEMPTS = 10
# Pipes retries its own internal errors until a record leaves the source: this age sends such a record
# to the pipe DLQ instead. The DLQ message only points into the stream, which keeps records 24 hours:
# 6 leaves most of a day for the resolver, or an operator, to resolve the pointer.
PIPE_MAX_RECORD_AGE_HOURS = 6

_HERE = "stacks/config_fixed.py"
# Keys an environment block may no longer set, and what each became: synth names such a key rather
# than ignoring it, and docs/configuration.md lists them.
REMOVED_KEYS: Mapping[str, str] = {
    "ingest_timeout_seconds": f"{INGEST_TIMEOUT_SECONDS} s, {_HERE} INGEST_TIMEOUT_SECONDS",
    "ingest_rule_retry_attempts": f"{INGEST_RULE_RETRY_ATTEMPTS}, {_HERE} INGEST_RULE_RETRY_ATTEMPTS",
    "ingest_rule_max_event_age_hours": (
        f"{INGEST_RULE_MAX_EVENT_AGE_HOURS} h, {_HERE} INGEST_RULE_MAX_EVENT_AGE_HOURS"
    ),
    "ingest_async_retry_attempts": f"{INGEST_ASYNC_RETRY_ATTEMPTS}, {_HERE} INGEST_ASYNC_RETRY_ATTEMPTS",
    "ingest_async_max_event_age_hours": (
        f"{INGEST_ASYNC_MAX_EVENT_AGE_HOURS} h, {_HERE} INGEST_ASYNC_MAX_EVENT_AGE_HOURS"
    ),
    "pipe_batch_size": f"{PIPE_BATCH_SIZE}, {_HERE} PIPE_BATCH_SIZE",
    "pipe_max_retry_attempts": f"{PIPE_MAX_RETRY_ATTEMPTS}, {_HERE} PIPE_MAX_RETRY_ATTEMPTS",
    "pipe_max_record_age_hours": f"{PIPE_MAX_RECORD_AGE_HOURS} h, {_HERE} PIPE_MAX_RECORD_AGE_HOURS",
    "not_ready_retry_base_seconds": (
        f"{NOT_READY_RETRY_BASE_SECONDS} s, genesys_bridge/backoff.py NOT_READY_RETRY_BASE_SECONDS"
    ),
    "not_ready_retry_max_seconds": (
        f"{NOT_READY_RETRY_MAX_SECONDS} s, genesys_bridge/backoff.py NOT_READY_RETRY_MAX_SECONDS"
    ),
    "audit_page_size": (
        f"{RESULTS_PAGE_SIZE} conversations, genesys_bridge/audit/plan.py RESULTS_PAGE_SIZE "
        '(docs/completeness.md, "The largest day")'
    ),
}
