"""Why an audit execution stops. The class name is the error name Step Functions shows and matches on
(plan.RETRYABLE_ERRORS), so these names are part of the workflow's contract: never rename one."""

from __future__ import annotations

from genesys_bridge.genesys.errors import RetryLater


class AuditError(Exception):
    """Base of the errors that fail an execution (after the cancel step); never retried."""


class AuditInputError(AuditError, ValueError):
    """The day or mode cannot be audited: malformed, not ended yet, or before the configured first day."""


class DataNotAvailable(AuditError):
    """Genesys' data availability date stayed before the end of the day for longer than allowed."""


class JobTimedOut(AuditError):
    """The details job was still not FULFILLED after the allowed time (the cancel step deletes it)."""


class JobGaveUp(AuditError):
    """The details job ended FAILED, CANCELLED or EXPIRED and may not be submitted again."""


class TurnTimedOut(AuditError):
    """Older executions kept this one from starting its job for longer than allowed."""


class AwsUnavailable(RetryLater):
    """S3 (or another AWS service) throttled or failed after botocore's own retries: try the step later."""


class CompactionFailed(AuditError):
    """The day's compaction query kept failing after its retries; the day's report is kept, and the
    views read the day's JSON objects until a compaction succeeds (docs/query.md, "Compaction")."""
