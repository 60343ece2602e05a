"""A day's compaction: the order of its steps and its marker, the same whether Athena rewrites the day in
the deployed audit workflow or DuckDB does it locally (docs/query.md, "Compaction").

    1. remove the day's marker         from here on the views read the day's JSON objects
    2. remove the day's Parquet files
    3. write the day's Parquet         the query: Athena's UNLOAD, or DuckDB's COPY
    4. write the day's marker          from here on the views read the day's Parquet

The views read a day from its Parquet files only while its marker exists, and from its JSON objects
otherwise, so a failure between any two steps loses nothing and counts nothing twice; the next
compaction starts again at step 1. Standard library only (the audit function runs it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final, Protocol

from genesys_bridge.contracts import format_timestamp

ATHENA: Final = "athena"
DUCKDB: Final = "duckdb"


@dataclass(frozen=True, slots=True)
class StoredFile:
    """An object of the day's folder: its file name (no folder), size and last modification (UTC)."""

    name: str
    size: int
    modified: datetime


def fingerprint(files: Iterable[StoredFile]) -> str:
    """What the day's landed objects were when a compaction read them: names, sizes and modification
    times to the second (S3's LastModified; a local copy made by `aws s3 sync` or the demo keeps it as
    the file's modification time). Equal fingerprints: nothing landed, changed or left since."""
    lines = sorted(f"{item.name}\t{item.size}\t{int(_utc(item.modified).timestamp())}" for item in files)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class CompactionStore(Protocol):
    """Where a day's objects lie: the results bucket (genesys_bridge.audit.store) or a local copy of
    it (catalog.compact)."""

    def landed_files(self, day: date) -> list[StoredFile]: ...

    def compacted_files(self, day: date) -> list[StoredFile]: ...

    def delete_compaction_marker(self, day: date) -> None: ...

    def delete_compacted_files(self, day: date) -> int: ...

    def put_compaction_marker(self, day: date, marker: Mapping[str, Any]) -> None: ...

    def get_compaction_marker(self, day: date) -> Any: ...


def clear(store: CompactionStore, day: date) -> int:
    """Steps 1 and 2: the marker first, then the Parquet files; returns how many files went."""
    store.delete_compaction_marker(day)
    return store.delete_compacted_files(day)


def landed_summary(files: Sequence[StoredFile]) -> dict[str, Any]:
    """What a marker says of the landed objects a compaction read (listed before its query ran)."""
    return {"landed_objects": len(files), "landed_fingerprint": fingerprint(files)}


def commit(
    store: CompactionStore,
    day: date,
    *,
    landed: Mapping[str, Any],
    engine: str,
    compacted_at: datetime,
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Step 4: the marker over the files step 3 wrote; `landed` is landed_summary() of what step 3
    read. Returns the marker."""
    files = store.compacted_files(day)
    marker = {
        "conversation_date": day.isoformat(),
        "compacted_at": format_timestamp(compacted_at),
        "engine": engine,
        "files": [{"name": item.name, "bytes": item.size} for item in files],
        **landed,
        **(details or {}),
    }
    store.put_compaction_marker(day, marker)
    return marker


def parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return _utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None


def valid_marker(value: Any, day: date) -> dict[str, Any] | None:
    """The marker if it is one for `day` (a JSON object naming the day, with its time and files);
    None for anything else, which leaves the day uncompacted."""
    if not isinstance(value, dict) or value.get("conversation_date") != day.isoformat():
        return None
    if parse_time(value.get("compacted_at")) is None or not isinstance(value.get("files"), list):
        return None
    return value


def is_current(marker: Any, day: date, since: datetime | None) -> bool:
    """The day's marker exists and was written at or after `since` (a report's finish time)."""
    valid = valid_marker(marker, day)
    if valid is None:
        return False
    written = parse_time(valid["compacted_at"])
    return since is None or (written is not None and written >= since)
