"""The one SQL source: views and KPI queries in Athena's dialect (Trino), as files under catalog/sql/.

Athena runs them as written (the stack creates the views and saves the KPI queries as named queries);
catalog.local translates the very same text to DuckDB with sqlglot. Nothing here is DuckDB's.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent / "sql"

# The Glue table over the landed conversations (genesys_bridge.layout.CONVERSATIONS), and the name the
# view SQL reads from.
DETAILS_TABLE = "conversation_details"

# Creation order: each view reads only the details table and views before it.
VIEWS: tuple[str, ...] = (
    "conversation_details_latest",
    "conversations",
    "participants",
    "sessions",
    "segments",
    "session_metrics",
)
# The views ETL users expect; conversation_details_latest is the deduplicated table they all read.
NORMALIZED_VIEWS = VIEWS[1:]

KPI_QUERIES: dict[str, str] = {
    "daily_volume_by_queue_and_media": "Conversations per day by entry queue and media type",
    "average_handle_time": "Average handle, talk, hold and after-call work time per day and queue",
    "abandon_rate": "Abandoned / offered per day and queue",
    "transfer_rate": "Transferred / handled per day and queue",
    "wrap_up_code_distribution": "Uses and share of each wrap-up code per day",
    "daily_summary": "Per day: conversations, average handle time, abandon rate, top wrap-up codes",
}


@dataclass(frozen=True)
class Statement:
    name: str
    sql: str  # a SELECT in Athena's dialect, comments included


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip()


@cache
def view(name: str) -> Statement:
    if name not in VIEWS:
        raise KeyError(f"no view {name!r}; views: {', '.join(VIEWS)}")
    return Statement(name, _read(SQL_DIR / "views" / f"{name}.sql"))


@cache
def kpi_query(name: str) -> Statement:
    if name not in KPI_QUERIES:
        raise KeyError(f"no KPI query {name!r}; KPI queries: {', '.join(KPI_QUERIES)}")
    return Statement(name, _read(SQL_DIR / "kpi" / f"{name}.sql"))


def without_comment_lines(sql: str) -> str:
    """The SQL less its whole-line `--` comments (what the stack stores; the files keep them)."""
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--")).strip()


def create_view_statements() -> list[tuple[str, str]]:
    """(view name, CREATE OR REPLACE VIEW statement) in creation order, as Athena runs them."""
    return [
        (name, f"CREATE OR REPLACE VIEW {name} AS\n{without_comment_lines(view(name).sql)}") for name in VIEWS
    ]
