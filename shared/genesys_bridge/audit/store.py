"""The audit's side of the results bucket: what is landed for a day (ids and ETags from ListObjectsV2),
landing a conversation with its provenance, and the execution's scratch objects and report.

Every S3 request goes through this class and is counted (`requests`), so a report and the benchmark can
say exactly what an audit cost. No conversation is ever read back: landed bodies are compared by ETag.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from genesys_bridge import contracts, layout
from genesys_bridge.audit.errors import AwsUnavailable
from genesys_bridge.compaction import StoredFile

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Error codes S3 answers when it is overloaded or briefly failing; botocore has already retried them.
_TRANSIENT_CODES: Final = frozenset(
    {
        "SlowDown",
        "ServiceUnavailable",
        "InternalError",
        "RequestTimeout",
        "Throttling",
        "503",
        "500",
        "ConditionalRequestConflict",  # a conditional write raced another write to the key
    }
)
DEFAULT_LANDING_WORKERS: Final = 8
_DELETE_BATCH: Final = 1000  # DeleteObjects takes at most 1,000 keys


def content_md5(data: bytes) -> str:
    """The hex MD5 that S3 reports as the ETag of a single-part PUT to an SSE-S3 (or unencrypted) bucket.

    https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html ("ETag"): objects created by
    PutObject and encrypted with SSE-S3 or not at all have an MD5 digest of their data as ETag; SSE-KMS,
    SSE-C and multipart uploads do not. The results bucket uses SSE-S3 and the bridge lands every
    conversation with one PutObject (stacks/storage.py, genesys_bridge.results).
    """
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


@dataclass(frozen=True, slots=True)
class Landing:
    key: str
    data: bytes
    source: str
    fetched_at: str


class AuditStore:
    """S3 access for the audit; the client is passed in (moto in tests)."""

    def __init__(
        self, s3_client: S3Client, bucket: str, *, landing_workers: int = DEFAULT_LANDING_WORKERS
    ) -> None:
        if landing_workers < 1:
            raise ValueError(f"landing_workers must be at least 1, got {landing_workers}")
        self._s3 = s3_client
        self.bucket = bucket
        self._workers = landing_workers
        self._lock = threading.Lock()
        self._requests = 0
        self._cache: dict[str, Any] = {}

    @property
    def requests(self) -> int:
        """S3 requests sent so far by this store (a paginated listing counts one per page)."""
        with self._lock:
            return self._requests

    def _count(self, by: int = 1) -> None:
        with self._lock:
            self._requests += by

    # --- the day's landed conversations ---------------------------------------------------------------

    def landed(self, day: date) -> dict[str, str]:
        """conversationId -> ETag (hex, no quotes) of every object under the day's partition."""
        found: dict[str, str] = {}
        for contents in self._list(layout.day_prefix(day)):
            for item in contents:
                landed = layout.parse_result_key(item["Key"])
                if landed is None or landed.day != day:
                    continue  # not a conversation object (nothing else is written there, but be sure)
                found[landed.conversation_id] = item["ETag"].strip('"')
        return found

    def land(self, landings: Sequence[Landing]) -> None:
        """PutObject each (in parallel); the bucket's versioning keeps what a key held before."""
        if not landings:
            return
        with ThreadPoolExecutor(max_workers=min(self._workers, len(landings))) as pool:
            for _ in pool.map(self._put_landing, landings):
                pass

    def _put_landing(self, landing: Landing) -> None:
        with aws_call(f"PutObject {landing.key}"):
            self._count()
            self._s3.put_object(
                Bucket=self.bucket,
                Key=landing.key,
                Body=landing.data,
                ContentType=layout.CONVERSATIONS.content_type,
                Metadata={
                    contracts.RESULT_METADATA_SOURCE: landing.source,
                    contracts.RESULT_METADATA_FETCHED_AT: landing.fetched_at,
                },
            )

    # --- JSON scratch objects and reports -------------------------------------------------------------

    def put_json(self, key: str, value: Any) -> None:
        data = json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8")
        with aws_call(f"PutObject {key}"):
            self._count()
            self._s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=layout.JSON_CONTENT_TYPE)

    def put_json_if_absent(self, key: str, value: Any) -> Any:
        """Write `value` at `key` only if no object is there (S3 conditional write, `If-None-Match: *`);
        None if it was written, else the JSON value already there. One request when the key is new.

        https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html: S3 answers 412
        Precondition Failed when an object exists at the key, and 409 ConditionalRequestConflict when a
        concurrent write to it is in progress (retryable, as AwsUnavailable).
        """
        data = json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8")
        try:
            with aws_call(f"PutObject {key}"):
                self._count()
                self._s3.put_object(
                    Bucket=self.bucket, Key=key, Body=data, ContentType="application/json", IfNoneMatch="*"
                )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("PreconditionFailed", "412"):
                raise
            return self.get_json(key)
        return None

    def get_json(self, key: str) -> Any:
        """The JSON value at `key`, or None if there is no such object."""
        try:
            with aws_call(f"GetObject {key}"):
                self._count()
                body = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return json.loads(body)

    def get_json_cached(self, key: str) -> Any:
        """get_json for objects written once and never changed (an execution's inventory): a warm
        function reads it once per execution, not once per page."""
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        value = self.get_json(key)
        if value is not None:
            with self._lock:
                self._cache.clear()  # one execution at a time per process: keep only the latest
                self._cache[key] = value
        return value

    def keys(self, prefix: str) -> list[str]:
        return [item["Key"] for contents in self._list(prefix) for item in contents]

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under `prefix` (current versions; the scratch prefix is not versioned
        data anyone reads); returns how many."""
        return self._delete(prefix, self.keys(prefix))

    # --- a day's compaction (genesys_bridge.compaction.CompactionStore) ---------------------------------

    def landed_files(self, day: date) -> list[StoredFile]:
        """The day's landed conversation objects, as a compaction fingerprints them."""
        return [
            StoredFile(item["Key"].rsplit("/", 1)[-1], int(item["Size"]), item["LastModified"])
            for contents in self._list(layout.day_prefix(day))
            for item in contents
            if (landed := layout.parse_result_key(item["Key"])) is not None and landed.day == day
        ]

    def compacted_files(self, day: date) -> list[StoredFile]:
        """The day's Parquet files of every compacted dataset (every object of its folders a Hive table
        reads), each named by layout.compacted_name."""
        return [
            StoredFile(layout.compacted_name(dataset, name), int(item["Size"]), item["LastModified"])
            for dataset in layout.COMPACTED_DATASETS
            for contents in self._list(dataset.day_prefix(day))
            for item in contents
            if layout.is_data_file(name := item["Key"].rsplit("/", 1)[-1])
        ]

    def delete_compaction_marker(self, day: date) -> None:
        key = layout.compaction_marker_key(day)
        with aws_call(f"DeleteObject {key}"):
            self._count()
            self._s3.delete_object(Bucket=self.bucket, Key=key)

    def delete_compacted_files(self, day: date) -> int:
        """Every object of the day's compacted folders, what a failed query left included."""
        # A file left behind would be read beside the new ones: a key S3 could not delete fails the step.
        return sum(
            self._delete(prefix, self.keys(prefix), strict=True)
            for prefix in (dataset.day_prefix(day) for dataset in layout.COMPACTED_DATASETS)
        )

    def put_compaction_marker(self, day: date, marker: Any) -> None:
        self.put_json(layout.compaction_marker_key(day), marker)

    def get_compaction_marker(self, day: date) -> Any:
        return self.get_json(layout.compaction_marker_key(day))

    def _delete(self, prefix: str, keys: list[str], *, strict: bool = False) -> int:
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = keys[start : start + _DELETE_BATCH]
            with aws_call(f"DeleteObjects {prefix}"):
                self._count()
                answer = self._s3.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
                )
            failed = answer.get("Errors") or []
            if strict and failed:
                first = failed[0]
                message = (
                    f"DeleteObjects {prefix}: {len(failed)} key(s) not deleted, e.g. {first.get('Key')}: "
                    f"{first.get('Code')} {first.get('Message')}"
                )
                if all(item.get("Code") in _TRANSIENT_CODES for item in failed):
                    raise AwsUnavailable(message)
                raise RuntimeError(message)
        return len(keys)

    def _list(self, prefix: str) -> Iterator[list[Any]]:
        token: str | None = None
        while True:
            arguments: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
            if token:
                arguments["ContinuationToken"] = token
            with aws_call(f"ListObjectsV2 {prefix}"):
                self._count()
                page = self._s3.list_objects_v2(**arguments)
            yield list(page.get("Contents") or [])
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return


@contextmanager
def aws_call(what: str) -> Iterator[None]:
    """S3 overloaded or unreachable after botocore's retries -> AwsUnavailable (the step is retried later);
    anything else (access denied, no such bucket) propagates and fails the execution. The lookups sync
    lands its snapshots under the same rule."""
    try:
        yield
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in _TRANSIENT_CODES:
            raise AwsUnavailable(f"{what}: S3 answered {code}") from error
        raise
    except (BotoConnectionError, HTTPClientError) as error:  # connection errors, read timeouts
        raise AwsUnavailable(f"{what}: {type(error).__name__}") from error
