"""The results bucket's landed layout: every prefix, key, file suffix, serialization and content type
the bridge writes there, defined once (docs/design.md, "Results: S3 key layout").

The processor and the audit land conversations with it, the stack derives its IAM scopes, lifecycle
rules and Glue table (location, partition projection) from it at synth, and the local runner, the
DuckDB reader, the ops CLI, the benchmarks and the tests read the bucket through it. Standard library
only, so each of them can import it.

    conversations/conversation_date=<YYYY-MM-DD>/<conversationId>.json          CONVERSATIONS
    audits/conversation_date=<YYYY-MM-DD>/<mode>.json                           AUDIT_REPORTS
    audit-work/<YYYY-MM-DD>/<mode>/<execution>/...                              audit_work_prefix
    lookups/<lookup>/snapshot_date=<YYYY-MM-DD>/<lookup>.jsonl                  lookup_dataset
    compacted/conversations/conversation_date=<YYYY-MM-DD>/<file>               COMPACTED
    compacted/session_metrics/conversation_date=<YYYY-MM-DD>/<file>             COMPACTED_SESSION_METRICS
    compacted/segments/conversation_date=<YYYY-MM-DD>/<file>                    COMPACTED_SEGMENTS
    compacted/markers/conversation_date=<YYYY-MM-DD>/compacted.json             COMPACTION_MARKERS
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import groupby
from operator import itemgetter
from typing import Any, Final

# Partition values are ISO days, `date.isoformat()`; Athena's partition projection spells the same
# format in Java's DateTimeFormatter letters.
PROJECTION_DAY_FORMAT: Final = "yyyy-MM-dd"
JSON_CONTENT_TYPE: Final = "application/json"

# A conversation id as Genesys writes it: a hyphenated UUID (matched case-insensitively, ASCII only).
UUID_PATTERN: Final = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# In a key the id is always lower-case, so one conversation has exactly one key.
_KEY_ID: Final = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_ISO_DAY: Final = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"


@dataclass(frozen=True, slots=True)
class Dataset:
    """Objects under `prefix`, one Hive-style `<partition_column>=<YYYY-MM-DD>/` folder per day, each
    file named `<name><suffix>`: what the catalog needs to read them is derived from these fields."""

    prefix: str
    partition_column: str
    suffix: str
    content_type: str

    def day_prefix(self, day: date) -> str:
        return f"{self.prefix}{self.partition_column}={day.isoformat()}/"

    def key(self, day: date, name: str) -> str:
        if not name or "/" in name:
            raise ValueError(f"{name!r} is not a file name (non-empty, without '/')")
        return f"{self.day_prefix(day)}{name}{self.suffix}"

    def location(self, bucket: str) -> str:
        """The table's LOCATION: every day's folder lies under it."""
        return f"s3://{bucket}/{self.prefix}"

    def location_template(self, bucket: str) -> str:
        """Athena partition projection's `storage.location.template`: the day's folder."""
        return f"s3://{bucket}/{self.prefix}{self.partition_column}=${{{self.partition_column}}}/"

    def local_glob(self) -> str:
        """Every object of the dataset in a folder that mirrors the bucket (`make demo`'s out/)."""
        return f"{self.prefix}{self.partition_column}=*/*{self.suffix}"


# --- conversations: one object per conversation, the details as Genesys returned them ---------------

CONVERSATIONS: Final = Dataset("conversations/", "conversation_date", ".json", JSON_CONTENT_TYPE)
_CONVERSATION_KEY: Final = re.compile(
    rf"\A{re.escape(CONVERSATIONS.prefix)}{CONVERSATIONS.partition_column}=(?P<day>{_ISO_DAY})/"
    rf"(?P<id>{_KEY_ID}){re.escape(CONVERSATIONS.suffix)}\Z"
)
_UUID_RE: Final = re.compile(rf"\A{UUID_PATTERN}\Z")


class InvalidConversation(ValueError):
    """The details lack what the key is built from; retrying the same data will not help."""


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """Where one conversation lands: the UTC day it started and its lower-case id."""

    day: date
    conversation_id: str

    @property
    def key(self) -> str:
        return CONVERSATIONS.key(self.day, self.conversation_id)


def is_uuid(value: str) -> bool:
    """True if `value` is a whole conversation id, nothing before or after it."""
    return _UUID_RE.fullmatch(value) is not None


def conversation_key(details: Mapping[str, Any]) -> ConversationKey:
    """The day (UTC date of `conversationStart`) and id a conversation's details land under."""
    conversation_id = details.get("conversationId")
    if not isinstance(conversation_id, str) or not is_uuid(conversation_id):
        # The id becomes part of an S3 key: anything but a UUID could escape the prefix.
        raise InvalidConversation(f"conversationId {conversation_id!r} is not a UUID")
    start = details.get("conversationStart")
    if not isinstance(start, str):
        raise InvalidConversation(f"conversation {conversation_id} has no conversationStart")
    try:
        started = datetime.fromisoformat(start.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidConversation(
            f"conversation {conversation_id} has an unreadable conversationStart {start!r}"
        ) from None
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    return ConversationKey(started.astimezone(UTC).date(), conversation_id.lower())


def result_key(details: Mapping[str, Any]) -> str:
    """conversations/conversation_date=<YYYY-MM-DD of conversationStart in UTC>/<conversationId>.json"""
    return conversation_key(details).key


def parse_result_key(key: str) -> ConversationKey | None:
    """The day and id of a conversation key; None for any key that is not exactly the layout (another
    prefix, an impossible day, an id that is not a lower-case UUID, a further folder, another suffix)."""
    match = _CONVERSATION_KEY.fullmatch(key)
    if match is None:
        return None
    try:
        day = date.fromisoformat(match["day"])
    except ValueError:  # 2026-02-30
        return None
    return ConversationKey(day, match["id"])


def day_prefix(day: date) -> str:
    """The day's partition of landed conversations."""
    return CONVERSATIONS.day_prefix(day)


def serialize(conversation: Mapping[str, Any]) -> bytes:
    """The conversation as one line of compact UTF-8 JSON with sorted keys, lists in canonical order
    (`canonical_form`), and a newline: JSON Lines, which Athena's JSON SerDe reads.

    The same details make the same bytes whichever endpoint returned them and in whatever order it
    listed keys, participants, sessions, segments or metrics, so finalization can compare an object's
    ETag with the MD5 of these bytes instead of reading it back (docs/completeness.md).
    """
    data = json.dumps(canonical_form(conversation), separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return (data + "\n").encode("utf-8")


# Lists in the details whose order carries no meaning (docs/design.md, "Results: S3 key layout"): the
# fields each one's elements are sorted by, and the lists nested in each element. Any tie (equal or
# missing fields) is broken by the element's own canonical JSON text, so the order is total: two orders
# of the same elements always give the same bytes.
_Order = tuple[tuple[str, ...], Mapping[str, Any]]
_SEGMENT_ORDER: Final[_Order] = (("segmentStart", "segmentEnd", "segmentType", "queueId", "purpose"), {})
_METRIC_ORDER: Final[_Order] = (("emitDate", "name", "value"), {})
_SESSION_ORDER: Final[_Order] = (("sessionId",), {"segments": _SEGMENT_ORDER, "metrics": _METRIC_ORDER})
_CANONICAL_LISTS: Final[Mapping[str, _Order]] = {
    "participants": (("participantId",), {"sessions": _SESSION_ORDER}),
}


def canonical_form(conversation: Mapping[str, Any]) -> dict[str, Any]:
    """The conversation with participants by participantId, their sessions by sessionId, and each
    session's segments by (segmentStart, segmentEnd, segmentType, ...) and metrics by (emitDate, name,
    value). A new dict: the caller's is never modified."""
    return _ordered_fields(conversation, _CANONICAL_LISTS)


def _ordered_fields(element: Mapping[str, Any], lists: Mapping[str, _Order]) -> dict[str, Any]:
    ordered = dict(element)
    for field, (sort_fields, nested) in lists.items():
        items = element.get(field)
        if isinstance(items, list):
            inner = [_ordered_fields(item, nested) if isinstance(item, dict) else item for item in items]
            ordered[field] = _sorted(inner, sort_fields)
    return ordered


def _sorted(items: list[Any], fields: tuple[str, ...]) -> list[Any]:
    """By the fields' values; elements equal in all of them by their own JSON text (computed for those
    only, as it costs more than the rest together)."""
    keyed = sorted(((_field_key(item, fields), item) for item in items), key=itemgetter(0))
    ordered: list[Any] = []
    for _, group in groupby(keyed, key=itemgetter(0)):
        tied = [item for _, item in group]
        ordered += tied if len(tied) == 1 else sorted(tied, key=_json_text)
    return ordered


def _field_key(item: Any, fields: tuple[str, ...]) -> tuple[tuple[int, Any], ...]:
    if not isinstance(item, dict):
        return tuple((0, 0) for _ in fields)
    return tuple([_comparable(item.get(field)) for field in fields])


def _comparable(value: Any) -> tuple[int, Any]:
    """Values of one field made comparable whatever their JSON type: missing first, then numbers, then
    strings, then anything else by its JSON text."""
    kind = type(value)
    if kind is str:
        return (2, value)
    if value is None:
        return (0, 0)
    if kind is int or (kind is float and math.isfinite(value)):  # NaN would make the order partial
        return (1, value)
    return (3, _json_text(value))


def _json_text(item: Any) -> str:
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


# --- the audit's objects (docs/completeness.md) -------------------------------------------------------

# audits/conversation_date=<D>/<mode>.json: a day's report per mode (audit, finalize).
AUDIT_REPORTS: Final = Dataset("audits/", "conversation_date", ".json", JSON_CONTENT_TYPE)
# An execution's scratch objects (inventory, page ledgers), expired by a lifecycle rule.
AUDIT_WORK_PREFIX: Final = "audit-work/"


def report_key(day: date, mode: str) -> str:
    return AUDIT_REPORTS.key(day, mode)


def audit_work_prefix(day: date, mode: str, execution: str) -> str:
    return f"{AUDIT_WORK_PREFIX}{day.isoformat()}/{mode}/{execution}/"


# --- routing and directory lookups (docs/design.md, "Lookups") ---------------------------------------
# lookups/<lookup>/snapshot_date=<YYYY-MM-DD>/<lookup>.jsonl: one snapshot a day of one Genesys
# listing, one JSON object per line per entity.

LOOKUPS_PREFIX: Final = "lookups/"
LOOKUPS: Final = ("queues", "users", "wrapup_codes", "divisions", "skills", "languages")
JSON_LINES_CONTENT_TYPE: Final = "application/x-ndjson"


def lookup_dataset(lookup: str) -> Dataset:
    if lookup not in LOOKUPS:
        raise ValueError(f"{lookup!r} is not a lookup (one of {', '.join(LOOKUPS)})")
    return Dataset(f"{LOOKUPS_PREFIX}{lookup}/", "snapshot_date", ".jsonl", JSON_LINES_CONTENT_TYPE)


def lookup_key(lookup: str, day: date) -> str:
    return lookup_dataset(lookup).key(day, lookup)


def serialize_lookup(entities: Iterable[Mapping[str, Any]]) -> bytes:
    """A snapshot's bytes: each entity as Genesys listed it, one line of compact UTF-8 JSON with sorted
    keys, ordered by id (an entity listed twice while the listing shifted is kept once, as last seen),
    so the same directory always makes the same bytes. Every entity needs a string `id`."""
    by_id: dict[str, Mapping[str, Any]] = {}
    for entity in entities:
        entity_id = entity.get("id")
        if not isinstance(entity_id, str) or not entity_id:
            raise ValueError(f"a lookup entity needs a non-empty string id, got {entity_id!r}")
        by_id[entity_id] = entity
    return "".join(_json_text(by_id[entity_id]) + "\n" for entity_id in sorted(by_id)).encode("utf-8")


# --- compacted days (docs/query.md, "Compaction") ---------------------------------------------------
# compacted/conversations/conversation_date=<YYYY-MM-DD>/: a day's conversations rewritten whole as
# Parquet (ZSTD), one row per conversation; compacted/session_metrics/... and compacted/segments/...:
# the same day flattened, one row per session metric and per segment (what the KPI queries read, so
# they skip the nested participants). Athena's UNLOAD names its own files, DuckDB writes
# part-<n>.parquet: every file of a folder whose name does not start with "_" or "." is the day's
# data, as for any Hive table. A day's data counts only while its marker exists:
# compacted/markers/conversation_date=<YYYY-MM-DD>/compacted.json, written last and removed first.

COMPACTED_PREFIX: Final = "compacted/"
PARQUET_CONTENT_TYPE: Final = "application/vnd.apache.parquet"
COMPACTED: Final = Dataset(
    f"{COMPACTED_PREFIX}{CONVERSATIONS.prefix}",
    CONVERSATIONS.partition_column,
    ".parquet",
    PARQUET_CONTENT_TYPE,
)
COMPACTED_SESSION_METRICS: Final = Dataset(
    f"{COMPACTED_PREFIX}session_metrics/", CONVERSATIONS.partition_column, ".parquet", PARQUET_CONTENT_TYPE
)
COMPACTED_SEGMENTS: Final = Dataset(
    f"{COMPACTED_PREFIX}segments/", CONVERSATIONS.partition_column, ".parquet", PARQUET_CONTENT_TYPE
)
# A compacted day's datasets, in the order the compaction writes them: the conversations first, as the
# flat ones are read from them.
COMPACTED_DATASETS: Final = (COMPACTED, COMPACTED_SESSION_METRICS, COMPACTED_SEGMENTS)
COMPACTION_MARKERS: Final = Dataset(
    f"{COMPACTED_PREFIX}markers/", CONVERSATIONS.partition_column, ".json", JSON_CONTENT_TYPE
)
COMPACTION_MARKER_NAME: Final = "compacted"


def compacted_key(day: date, part: int = 0, dataset: Dataset = COMPACTED) -> str:
    if part < 0:
        raise ValueError(f"part must not be negative, got {part}")
    if dataset not in COMPACTED_DATASETS:
        raise ValueError(f"{dataset.prefix} is not a compacted dataset")
    return dataset.key(day, f"part-{part:05d}")


def compacted_folder(dataset: Dataset) -> str:
    """A compacted dataset's folder under compacted/ (`session_metrics`): its name in a marker and in
    the workflow's query results."""
    if dataset not in COMPACTED_DATASETS:
        raise ValueError(f"{dataset.prefix} is not a compacted dataset")
    return dataset.prefix.removeprefix(COMPACTED_PREFIX).rstrip("/")


def compacted_name(dataset: Dataset, file_name: str) -> str:
    """How a marker names a compacted file: its dataset's folder and its own name
    (`session_metrics/part-00000.parquet`), the day left out."""
    return f"{compacted_folder(dataset)}/{file_name}"


def compaction_marker_key(day: date) -> str:
    return COMPACTION_MARKERS.key(day, COMPACTION_MARKER_NAME)


def is_data_file(name: str) -> bool:
    """A file a Hive table reads: Hive, Trino and Athena skip names starting with "_" or "."."""
    return bool(name) and not name.startswith(("_", "."))
