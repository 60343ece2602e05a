"""Names and shapes that the CDK stack, the Lambda runtime and the local runner must agree on.

This module imports nothing heavy on purpose: the stack (at synth), the handlers (at cold start) and
the local runner all read it, so a name is written once and a rename breaks loudly everywhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from genesys_bridge import layout

# Environment variables set by the stack and validated by the handlers' settings models.
BUFFER_TABLE_NAME: Final = "BUFFER_TABLE_NAME"
QUARANTINE_QUEUE_URL: Final = "QUARANTINE_QUEUE_URL"
BUFFER_TTL_HOURS: Final = "BUFFER_TTL_HOURS"
RESULTS_BUCKET_NAME: Final = "RESULTS_BUCKET_NAME"
GENESYS_REGION: Final = "GENESYS_REGION"
GENESYS_API_BASE_URL: Final = "GENESYS_API_BASE_URL"
GENESYS_LOGIN_BASE_URL: Final = "GENESYS_LOGIN_BASE_URL"
GENESYS_CREDENTIALS_SECRET_ARN: Final = "GENESYS_CREDENTIALS_SECRET_ARN"  # noqa: S105 (a variable name)
GENESYS_MAX_REQUESTS_PER_MINUTE: Final = "GENESYS_MAX_REQUESTS_PER_MINUTE"
GENESYS_IDS_PER_REQUEST: Final = "GENESYS_IDS_PER_REQUEST"
NOT_READY_MAX_AGE_MINUTES: Final = "NOT_READY_MAX_AGE_MINUTES"
# An ended conversation whose wrap-up (or any segment) is still open waits for it this long after its
# first event, then lands as it is (docs/genesys-api.md, "Wrap-up after conversationEnd").
SETTLE_MAX_MINUTES: Final = "SETTLE_MAX_MINUTES"
# Further variables (docs/design.md, "Contracts"):
# how many processor invocations may call Genesys at once (the event source's MaximumConcurrency);
# each process paces itself at GENESYS_MAX_REQUESTS_PER_MINUTE / GENESYS_CONCURRENT_CALLERS.
GENESYS_CONCURRENT_CALLERS: Final = "GENESYS_CONCURRENT_CALLERS"
# the work queue (to push a not-ready message's visibility out) and its DLQ (terminal failures).
WORK_QUEUE_URL: Final = "WORK_QUEUE_URL"
WORK_DLQ_URL: Final = "WORK_DLQ_URL"
# first not-ready backoff; each further receive doubles it, capped at NOT_READY_RETRY_MAX_SECONDS.
NOT_READY_RETRY_BASE_SECONDS: Final = "NOT_READY_RETRY_BASE_SECONDS"
NOT_READY_RETRY_MAX_SECONDS: Final = "NOT_READY_RETRY_MAX_SECONDS"
# a conversation found in wrap-up is not fetched again before its wrap-up segment's start plus this;
# every not-ready wait ends on a multiple of the grid of wall-clock time (0: no grid), so waits ending in
# the same slot share a request (docs/design.md, "Refetches that share requests").
WRAPUP_ESTIMATE_SECONDS: Final = "WRAPUP_ESTIMATE_SECONDS"
NOT_READY_RETRY_GRID_SECONDS: Final = "NOT_READY_RETRY_GRID_SECONDS"
# the conversation topics this environment subscribes to, comma-separated topic suffixes such as
# "customer.end,acw" (the stack's config `topics`): ingest quarantines events of any other topic, as
# the EventBridge rule would have filtered them (a replay through `aws lambda invoke` skips the rule).
CONVERSATION_TOPICS: Final = "CONVERSATION_TOPICS"
# The pipe DLQ resolver: the one stream it may read (the buffer's) and where what it cannot resolve goes.
BUFFER_STREAM_ARN: Final = "BUFFER_STREAM_ARN"
PIPE_UNRESOLVED_QUEUE_URL: Final = "PIPE_UNRESOLVED_QUEUE_URL"
# Powertools reads these itself.
POWERTOOLS_SERVICE_NAME: Final = "POWERTOOLS_SERVICE_NAME"
POWERTOOLS_METRICS_NAMESPACE: Final = "POWERTOOLS_METRICS_NAMESPACE"
POWERTOOLS_LOG_LEVEL: Final = "POWERTOOLS_LOG_LEVEL"

METRICS_NAMESPACE: Final = "GenesysAnalyticsBridge"
INGEST_SERVICE: Final = "ingest"
PROCESSOR_SERVICE: Final = "processor"
PIPE_DLQ_SERVICE: Final = "pipe-dlq"
# The custom resource that creates the catalog's Athena views (stacks/catalog.py).
CATALOG_VIEWS_SERVICE: Final = "catalog-views"

# Buffer item attributes (partition key and fields; docs/design.md, "Contracts").
ATTR_CONVERSATION_ID: Final = "conversationId"
ATTR_STATUS: Final = "status"
ATTR_FIRST_EVENT_AT: Final = "firstEventAt"
ATTR_LAST_EVENT_AT: Final = "lastEventAt"
ATTR_EXPIRES_AT: Final = "expiresAt"
ATTR_RESULT_KEY: Final = "resultKey"
ATTR_ERROR: Final = "error"
# When the processor last concluded its work on the item (FETCHED or LEFT_OPEN): an end event that
# happened later means the conversation ended again, and ingest queues a fresh fetch.
ATTR_CONCLUDED_AT: Final = "concludedAt"
# How many times ingest queued a fresh fetch for the item (it ended again after it concluded).
ATTR_REQUEUES: Final = "requeues"
STATUS_PENDING: Final = "PENDING"
STATUS_FETCHED: Final = "FETCHED"
STATUS_FAILED: Final = "FAILED"
# Known to analytics but still open at the max age (a scheduled callback, an open messaging thread):
# left to the audit and finalize, or to its next end event; not a failure (no work DLQ message).
STATUS_LEFT_OPEN: Final = "LEFT_OPEN"

# The pipe between the buffer's stream and the work queue. The stack hands these to EventBridge
# Pipes; the local runner applies the very same objects to moto's stream records.
PIPE_FILTER_PATTERN: Final[dict[str, Any]] = {"eventName": ["INSERT"]}
PIPE_INPUT_TEMPLATE: Final = '{"conversationId": "<$.dynamodb.NewImage.conversationId.S>"}'

# A topic suffix after `v2.detail.events.conversation.{id}.`, e.g. `customer.end` or `acw`; always
# matched as a whole (re.fullmatch).
TOPIC_SUFFIX_PATTERN: Final = r"[a-z]+(?:\.[a-z]+)*"

# SQS caps a message's visibility timeout (and so any backoff done with it) at 12 hours.
SQS_MAX_VISIBILITY_SECONDS: Final = 12 * 60 * 60

# CloudFormation outputs of the stack (stacks/bridge_stack.py). The ops CLI (`make ops`) finds the
# deployed resources through them, by stack name.
OUTPUT_EVENT_BUS_NAME: Final = "EventBusName"
OUTPUT_BUFFER_TABLE_NAME: Final = "BufferTableName"
OUTPUT_WORK_QUEUE_URL: Final = "WorkQueueUrl"
OUTPUT_WORK_DLQ_URL: Final = "WorkDeadLetterQueueUrl"
OUTPUT_PIPE_DLQ_URL: Final = "PipeDeadLetterQueueUrl"
OUTPUT_PIPE_UNRESOLVED_QUEUE_URL: Final = "PipeUnresolvedQueueUrl"
OUTPUT_QUARANTINE_QUEUE_URL: Final = "QuarantineQueueUrl"
OUTPUT_RULE_DLQ_URL: Final = "RuleDeadLetterQueueUrl"
OUTPUT_FAILED_INVOCATIONS_QUEUE_URL: Final = "FailedInvocationsQueueUrl"
OUTPUT_RESULTS_BUCKET_NAME: Final = "ResultsBucketName"
OUTPUT_CREDENTIALS_SECRET_ARN: Final = "CredentialsSecretArn"  # noqa: S105 (an output name)
OUTPUT_ALARM_TOPIC_ARN: Final = "AlarmTopicArn"
OUTPUT_INGEST_FUNCTION_NAME: Final = "IngestFunctionName"
OUTPUT_CATALOG_DATABASE_NAME: Final = "CatalogDatabaseName"
OUTPUT_ATHENA_WORKGROUP_NAME: Final = "AthenaWorkGroupName"

# Where landed details go in the results bucket; the whole layout is genesys_bridge.layout's.
RESULTS_PREFIX: Final = layout.CONVERSATIONS.prefix

# The audit workflow (docs/completeness.md): its function's environment, its objects in the results
# bucket, and the input an execution starts with (the schedules, `make backfill` and the local runner).
AUDIT_SERVICE: Final = "audit"
AUDIT_MAX_REQUESTS_PER_MINUTE: Final = "AUDIT_MAX_REQUESTS_PER_MINUTE"
AUDIT_FIRST_DAY: Final = "AUDIT_FIRST_DAY"
AUDIT_AVAILABILITY_MAX_WAIT_HOURS: Final = "AUDIT_AVAILABILITY_MAX_WAIT_HOURS"
AUDIT_JOB_TIMEOUT_MINUTES: Final = "AUDIT_JOB_TIMEOUT_MINUTES"
AUDIT_MAX_CONCURRENT_EXECUTIONS: Final = "AUDIT_MAX_CONCURRENT_EXECUTIONS"
# The day's reports and an execution's scratch objects (genesys_bridge.layout).
AUDITS_PREFIX: Final = layout.AUDIT_REPORTS.prefix
AUDIT_WORK_PREFIX: Final = layout.AUDIT_WORK_PREFIX
AUDIT_INPUT_DAY: Final = "day"  # YYYY-MM-DD
AUDIT_INPUT_MODE: Final = "mode"  # audit | finalize
AUDIT_INPUT_FORCE: Final = "force"  # run even if the day's report of this mode says complete
AUDIT_INPUT_DAYS_AGO: Final = "days_ago"  # with scheduled_time: the day that many days before it
AUDIT_INPUT_SCHEDULED_TIME: Final = "scheduled_time"
# The stack output `make backfill` reads (with OUTPUT_RESULTS_BUCKET_NAME, above).
OUTPUT_AUDIT_STATE_MACHINE_ARN: Final = "AuditStateMachineArn"
# The audit schedules' dead-letter queue (`make ops ARGS="status"` shows its depth and reasons).
OUTPUT_AUDIT_SCHEDULE_DLQ_URL: Final = "AuditScheduleDeadLetterQueueUrl"
# The lookups schedule's dead-letter queue (likewise in `status`).
OUTPUT_LOOKUPS_SCHEDULE_DLQ_URL: Final = "LookupsScheduleDeadLetterQueueUrl"

# The lookups sync (docs/design.md, "Lookups"): its function's service name and pace, the metric
# dimension that names the lookup, its objects in the results bucket, and the output an operator starts
# it again with.
LOOKUPS_SERVICE: Final = "lookups"
LOOKUPS_MAX_REQUESTS_PER_MINUTE: Final = "LOOKUPS_MAX_REQUESTS_PER_MINUTE"
LOOKUP_DIMENSION: Final = "lookup"
LOOKUPS_PREFIX: Final = layout.LOOKUPS_PREFIX
OUTPUT_LOOKUPS_STATE_MACHINE_ARN: Final = "LookupsStateMachineArn"
# The lookups function's two steps (the `step` of its invocation's payload).
LOOKUPS_SYNC_STEP: Final = "sync"  # land one lookup: {"step", "lookup", "started_at"}
LOOKUPS_REPORT_STEP: Final = "report"  # judge the sync: {"step", "results"}

# S3 object metadata on landed conversations: which endpoint the body came from, and when.
RESULT_METADATA_SOURCE: Final = "source"
RESULT_METADATA_FETCHED_AT: Final = "fetched-at"
SOURCE_DETAILS: Final = "/api/v2/analytics/conversations/details"
SOURCE_DETAILS_JOB: Final = "/api/v2/analytics/conversations/details/jobs"


def format_timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and a Z, the form Genesys uses too (sortable as text): every
    timestamp the bridge writes (buffer items, audit reports, compaction markers)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
