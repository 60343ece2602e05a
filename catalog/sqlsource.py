"""The one SQL source: views and KPI queries in Athena's dialect (Trino), as files under catalog/sql/,
the views generated from settings (kpi_settings, uncompacted_days), and the compaction's query.

Athena runs them as written (the stack creates the views, saves the KPI queries as named queries and
gives the audit workflow the compaction's UNLOAD); catalog.local translates the very same text to DuckDB
with sqlglot. Nothing here is DuckDB's. The details' columns are written out from catalog.schema, so a
compacted day has exactly the columns of a landed one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import sqlglot
from sqlglot import exp

from catalog import schema
from genesys_bridge import layout

SQL_DIR = Path(__file__).resolve().parent / "sql"

# The Glue tables: the landed conversations (genesys_bridge.layout.CONVERSATIONS, JSON), the compacted
# days (layout.COMPACTED, Parquet) and their markers (layout.COMPACTION_MARKERS, JSON).
DETAILS_TABLE = "conversation_details"
COMPACTED_TABLE = "conversation_details_compacted"
MARKERS_TABLE = "compaction_markers"
# The landed objects deduplicated per day: what a compaction writes and what the views read of a day
# that is not compacted.
LANDED_VIEW = "conversation_details_landed"
# The compacted days flattened (genesys_bridge.layout.COMPACTED_SESSION_METRICS and COMPACTED_SEGMENTS,
# Parquet): by the view that reads each, its Glue table, its dataset and its columns (catalog.schema).
# A flat dataset's rows are catalog/sql/flat/<view>.sql over a set of conversations: the compaction
# writes them from the day's compacted conversations, the view computes them for the other days.


@dataclass(frozen=True)
class Flat:
    view: str
    table: str
    dataset: layout.Dataset
    row: schema.Struct

    @property
    def columns(self) -> list[str]:
        return [name for name, _ in self.row.fields]


FLAT: dict[str, Flat] = {
    flat.view: flat
    for flat in (
        Flat("session_metrics", "session_metrics_compacted", layout.COMPACTED_SESSION_METRICS,
             schema.SESSION_METRIC_ROW),
        Flat("segments", "segments_compacted", layout.COMPACTED_SEGMENTS, schema.SEGMENT_ROW),
    )
}  # fmt: skip
# Views not written as files: their SQL is generated below (from KPI_SETTINGS, from the first day).
KPI_SETTINGS_VIEW = "kpi_settings"
UNCOMPACTED_DAYS_VIEW = "uncompacted_days"
UNCOMPACTED_VIEW = "conversation_details_uncompacted"
LATEST_VIEW = "conversation_details_latest"

# The Glue tables over the lookups' daily snapshots (genesys_bridge.layout.lookup_dataset), by lookup;
# the lookup views read them.
LOOKUP_TABLES: dict[str, str] = {lookup: f"{lookup}_snapshots" for lookup in layout.LOOKUPS}
# The views over them, each the latest known version of every entity (docs/query.md, "Lookups").
LOOKUP_VIEWS: tuple[str, ...] = (
    "queues",
    "queue_service_levels",
    "users",
    "wrapup_codes",
    "divisions",
    "skills",
    "languages",
)

# Creation order: each view reads only the tables and the views before it.
VIEWS: tuple[str, ...] = (
    LANDED_VIEW,
    UNCOMPACTED_DAYS_VIEW,
    UNCOMPACTED_VIEW,
    LATEST_VIEW,
    KPI_SETTINGS_VIEW,
    "conversations",
    "participants",
    "sessions",
    "segments",
    "session_metrics",
    *LOOKUP_VIEWS,
)
# Every table the views read (and a user's query may read).
TABLES: tuple[str, ...] = (
    DETAILS_TABLE,
    COMPACTED_TABLE,
    *(flat.table for flat in FLAT.values()),
    MARKERS_TABLE,
    *LOOKUP_TABLES.values(),
)
# The views ETL users expect; conversation_details_latest is the deduplicated table they all read.
NORMALIZED_VIEWS = VIEWS[VIEWS.index(KPI_SETTINGS_VIEW) :]

# The calendar of uncompacted_days starts at the catalog's first day (the stack's catalog_first_day),
# never earlier than the config allows nor more days back than Trino's sequence() makes values (10,000).
CALENDAR_FIRST_DAY = date(2000, 1, 1)
CALENDAR_MAX_DAYS = 9998

KPI_QUERIES: dict[str, str] = {
    "queue_performance": "Per interval day, queue and media type: offered, answered, abandoned, handle, "
    "talk, hold, after-call work, speed of answer, transfers and service level, as Genesys defines them",
    "agent_performance": "Per interval day and agent: answered, handled, handle, talk, hold and after-call "
    "work means, transfers",
    "wrap_up_code_distribution": "Per interval day and queue: uses and share of each wrap-up code, with "
    "its name",
}

SettingValue = bool | int | str


@dataclass(frozen=True)
class KpiSetting:
    name: str
    default: SettingValue
    meaning: str


# The parameters of the KPI SQL, one row of the kpi_settings view (docs/query.md, "KPI settings").
# Change a default here and redeploy to change it on Athena; `python -m catalog.query --setting
# NAME=VALUE` changes it for one local run.
KPI_SETTINGS: tuple[KpiSetting, ...] = (
    KpiSetting(
        "interval_time_zone",
        "UTC",
        "the time zone of interval_date (an IANA name such as Europe/Dublin): a metric counts on the "
        "day of its emitDate in this zone",
    ),
    KpiSetting(
        "default_service_level_target_s",
        20,
        "the service level target (seconds) of a queue whose own target is not known",
    ),
    KpiSetting("service_level_include_flow_outs", False, "Genesys' option Include Flowouts in Calculation"),
    KpiSetting(
        "service_level_include_short_abandons",
        True,
        "Genesys' option Include Short Abandons in Calculation",
    ),
    KpiSetting("service_level_include_abandons", True, "Genesys' option Include Abandons in Calculation"),
    KpiSetting(
        "first_interval_day",
        "",
        "the first interval_date the KPI queries report (YYYY-MM-DD; empty: no bound); they then read the "
        "conversations of that day and the day before, not the days before those",
    ),
    KpiSetting(
        "last_interval_day",
        "",
        "the last interval_date the KPI queries report (YYYY-MM-DD; empty: no bound); they then read no "
        "conversation started after it (after the day after it in a time zone other than UTC)",
    ),
)
# Settings that hold a day: empty or YYYY-MM-DD.
DAY_SETTINGS = frozenset({"first_interval_day", "last_interval_day"})


@dataclass(frozen=True)
class Statement:
    name: str
    sql: str  # a SELECT in Athena's dialect, comments included


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip()


def literal(value: SettingValue) -> str:
    """A setting's value as an Athena literal."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


def kpi_settings_sql(overrides: Mapping[str, SettingValue] | None = None) -> str:
    """The kpi_settings view's SELECT: KPI_SETTINGS' defaults, or the values overrides gives."""
    overrides = dict(overrides or {})
    known = {setting.name: setting for setting in KPI_SETTINGS}
    for name, value in overrides.items():
        if name not in known:
            raise KeyError(f"no KPI setting {name!r}; settings: {', '.join(known)}")
        if type(value) is not type(known[name].default):
            raise TypeError(f"KPI setting {name} takes a {type(known[name].default).__name__}, not {value!r}")
        if name in DAY_SETTINGS and value != "" and not is_day(str(value)):
            raise ValueError(f"KPI setting {name} takes a day written YYYY-MM-DD (or nothing), not {value!r}")
    columns = ",\n".join(f"    {literal(overrides.get(s.name, s.default))} AS {s.name}" for s in KPI_SETTINGS)
    return (
        "-- The KPI queries' settings, one row, generated from catalog/sqlsource.py's KPI_SETTINGS\n"
        '-- (docs/query.md, "KPI settings").\n'
        f"SELECT\n{columns}"
    )


def is_day(text: str) -> bool:
    """A day written YYYY-MM-DD, and a real one."""
    try:
        return date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


def uncompacted_days_sql(first_day: date | None = None) -> str:
    """The uncompacted_days view's SELECT: every day from `first_day` (at the earliest
    CALENDAR_FIRST_DAY, and CALENDAR_MAX_DAYS back) to tomorrow (UTC) without a compaction marker."""
    first = max(first_day or CALENDAR_FIRST_DAY, CALENDAR_FIRST_DAY).isoformat()
    return (
        "-- Every day from the catalog's first day to tomorrow (UTC) without a compaction marker: the days\n"  # noqa: S608 - our names, a date
        '-- the views read from the landed JSON objects (docs/query.md, "Compaction"). Generated by\n'
        "-- catalog/sqlsource.py from the catalog's first day; at most 9,999 days back, as Trino's\n"
        "-- sequence() makes at most 10,000 values.\n"
        "SELECT CAST(calendar.calendar_day AS DATE) AS conversation_date\n"
        "FROM UNNEST(\n"
        "    sequence(\n"
        f"        greatest(DATE '{first}', current_date - INTERVAL '{CALENDAR_MAX_DAYS}' DAY),\n"
        "        current_date + INTERVAL '1' DAY,\n"
        "        INTERVAL '1' DAY\n"
        "    )\n"
        ") AS calendar (calendar_day)\n"
        "WHERE CAST(calendar.calendar_day AS DATE) NOT IN (\n"
        f"    SELECT CAST(m.conversation_date AS DATE) FROM {MARKERS_TABLE} AS m\n"
        ")"
    )


def details_columns(alias: str = "") -> str:
    """The details' columns (catalog.schema), comma-separated, each qualified by `alias` if given."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(f"{prefix}{name}" for name, _ in schema.CONVERSATION.fields)


# {columns} / {alias.columns}: the details' columns; {alias.<flat>.columns}: a flat dataset's;
# {<flat>.landed}: a flat dataset's rows of the landed days that have no compaction marker.
_PLACEHOLDER = re.compile(
    rf"\{{(?:(?P<alias>\w+)\.)??(?:(?P<flat>{'|'.join(FLAT)})\.)?(?P<what>columns|landed)\}}"
)


def _placeholder(match: re.Match[str]) -> str:
    alias, flat, what = match["alias"], match["flat"], match["what"]
    if what == "landed":
        if flat is None or alias is not None:
            raise ValueError(f"{match[0]}: write {{<flat dataset>.landed}}")
        return without_comment_lines(flat_rows(flat, UNCOMPACTED_VIEW))
    if flat is None:
        return details_columns(alias or "")
    prefix = f"{alias}." if alias else ""
    return ", ".join(f"{prefix}{name}" for name in FLAT[flat].columns)


def _with_columns(sql: str) -> str:
    """A view file with its placeholders written out."""
    return _PLACEHOLDER.sub(_placeholder, sql)


def flat_rows(name: str, details: str) -> str:
    """A flat dataset's rows (catalog/sql/flat/<name>.sql, comments and all) over `details`, a relation
    with the details' columns and conversation_date."""
    if name not in FLAT:
        raise KeyError(f"no flat dataset {name!r}; flat datasets: {', '.join(FLAT)}")
    return _read(SQL_DIR / "flat" / f"{name}.sql").replace("{details}", details)


@cache
def view(name: str, *, first_day: date | None = None) -> Statement:
    """A view's SELECT; `first_day` is the catalog's first day (uncompacted_days' calendar)."""
    if name not in VIEWS:
        raise KeyError(f"no view {name!r}; views: {', '.join(VIEWS)}")
    if name == KPI_SETTINGS_VIEW:
        return Statement(name, kpi_settings_sql())
    if name == UNCOMPACTED_DAYS_VIEW:
        return Statement(name, uncompacted_days_sql(first_day))
    return Statement(name, _with_columns(_read(SQL_DIR / "views" / f"{name}.sql")))


def compaction_select(dataset: layout.Dataset = layout.COMPACTED, *, compacted: str = COMPACTED_TABLE) -> str:
    """The compaction's SELECT for one of a day's compacted datasets, the day a parameter (?, a string
    YYYY-MM-DD), the partition column last, as Athena's partitioned UNLOAD wants it: the day's rows of
    conversation_details_landed, or a flat dataset's rows of the day's compacted conversations (written
    just before, so the landed objects are read once): `compacted`, the table, or locally a relation
    that holds the same rows."""
    if dataset == layout.COMPACTED:
        return (
            f"SELECT {details_columns()}, conversation_date\n"
            f"FROM {LANDED_VIEW}\n"
            "WHERE conversation_date = CAST(? AS DATE)"
        )
    flat = next((flat for flat in FLAT.values() if flat.dataset == dataset), None)
    if flat is None:
        raise ValueError(f"{dataset.prefix} is not a compacted dataset")
    # The day's filter outside: it reaches the compacted table's partition through the UNNEST joins (as
    # the landed view's does through its window), and the rows read from a table, not a subquery.
    columns = ", ".join(f"f.{name}" for name in flat.columns)
    return (
        f"SELECT {columns}, f.conversation_date\n"
        f"FROM (\n{flat_rows(flat.view, compacted)}\n) AS f\n"
        "WHERE f.conversation_date = CAST(? AS DATE)"
    )


def compaction_unload(bucket: str, dataset: layout.Dataset = layout.COMPACTED) -> str:
    """The compaction's UNLOAD of one dataset, as the audit workflow runs it (Athena's
    ExecutionParameters give the day): the day's rows as Parquet (ZSTD) into the dataset's folder for
    that day. A partitioned UNLOAD may write into a location that holds other days, and the compact
    step has emptied this day's folders (https://docs.aws.amazon.com/athena/latest/ug/unload.html)."""
    return (
        f"UNLOAD ({without_comment_lines(compaction_select(dataset))})\n"
        f"TO '{dataset.location(bucket)}'\n"
        "WITH (format = 'PARQUET', compression = 'ZSTD', "
        f"partitioned_by = ARRAY['{dataset.partition_column}'])"
    )


@cache
def _relations_named(name: str) -> frozenset[str]:
    """The other views and the tables a view reads: each name after a FROM or a JOIN in its text (less
    comments), which is how every view names another (a test holds it to what sqlglot finds); no
    parse, as a parse costs as much as creating the view."""
    text = without_comment_lines(view(name).sql)
    return frozenset(
        other
        for other in (*VIEWS, *TABLES)
        if other != name and re.search(rf"\b(?:FROM|JOIN)\s+{other}\b", text, flags=re.IGNORECASE)
    )


def relations_needed(names: Iterable[str]) -> set[str]:
    """The views and tables among `names` and every view and table they read, directly or through
    another view."""
    needed, pending = set(), [name for name in names if name in VIEWS or name in TABLES]
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending.extend(_relations_named(name) if name in VIEWS else ())
    return needed


@cache
def kpi_query(name: str) -> Statement:
    if name not in KPI_QUERIES:
        raise KeyError(f"no KPI query {name!r}; KPI queries: {', '.join(KPI_QUERIES)}")
    return Statement(name, _read(SQL_DIR / "kpi" / f"{name}.sql"))


@cache
def tables_read(sql: str) -> frozenset[str]:
    """The tables and views one statement (Athena's dialect) reads, its own WITH names left out (a
    query's catalog asks more than once: parsed once)."""
    tree = sqlglot.parse_one(sql, read="trino")
    return frozenset({t.name for t in tree.find_all(exp.Table)} - {c.alias for c in tree.find_all(exp.CTE)})


def without_comment_lines(sql: str) -> str:
    """The SQL less its whole-line `--` comments (what the stack stores; the files keep them)."""
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--")).strip()


def create_view_statements(first_day: date | None = None) -> list[tuple[str, str]]:
    """(view name, CREATE OR REPLACE VIEW statement) in creation order, as Athena runs them;
    `first_day` is the catalog's first day."""
    return [
        (
            name,
            f"CREATE OR REPLACE VIEW {name} AS\n{without_comment_lines(view(name, first_day=first_day).sql)}",
        )
        for name in VIEWS
    ]
