"""Where the details table's data lives, read off genesys_bridge.results.result_key rather than restated.

The processor lands each conversation at result_key(details); the Glue table, its partition projection
template and the local DuckDB glob are all derived here from one key that function builds, so a change
of layout there moves every reader with it (or fails loudly here if it stops being one `name=value`
folder per day).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from genesys_bridge.results import result_key

# Two different days and ids, so a layout that ignored either would show.
_PROBE_DAY = "2001-02-03"
_PROBE_ID = "00000000-0000-4000-8000-0000000000ab"
_LAYOUT = re.compile(
    r"^(?P<prefix>(?:[^/]+/)*)(?P<column>[a-z_][a-z0-9_]*)=" + re.escape(_PROBE_DAY) + r"/"
    r"(?P<file>[^/]+)$"
)

# The Glue table's name, and the name the view SQL reads from (catalog/sql/views/*.sql).
DETAILS_TABLE = "conversation_details"
# Athena's format of the partition value: the same ISO day result_key writes.
PARTITION_DATE_FORMAT = "yyyy-MM-dd"


@dataclass(frozen=True)
class Layout:
    prefix: str  # "conversations/": the table's location under the results bucket
    partition_column: str  # "conversation_date"
    file_suffix: str  # ".json"

    def location(self, bucket: str) -> str:
        return f"s3://{bucket}/{self.prefix}"

    def location_template(self, bucket: str) -> str:
        """Athena partition projection's storage.location.template for this layout."""
        return f"s3://{bucket}/{self.prefix}{self.partition_column}=${{{self.partition_column}}}/"

    def local_glob(self) -> str:
        """Every landed object under an exported out/ folder, relative to it."""
        return f"{self.prefix}{self.partition_column}=*/*{self.file_suffix}"


@cache
def layout() -> Layout:
    key = result_key({"conversationId": _PROBE_ID, "conversationStart": f"{_PROBE_DAY}T12:00:00.000Z"})
    match = _LAYOUT.match(key)
    if match is None or _PROBE_ID not in match["file"]:
        raise RuntimeError(
            f"result_key's layout {key!r} is not <prefix>/<column>=<yyyy-MM-dd>/<id><suffix>: the catalog's "
            "partition projection and local reader need updating"
        )
    return Layout(
        prefix=match["prefix"],
        partition_column=match["column"],
        file_suffix=match["file"].split(_PROBE_ID, 1)[1],
    )
