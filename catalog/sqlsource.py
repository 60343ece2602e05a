"""The one SQL source: views and KPI queries in Athena's dialect (Trino), as files under catalog/sql/,
and the KPI settings view generated from KPI_SETTINGS.

Athena runs them as written (the stack creates the views and saves the KPI queries as named queries);
catalog.local translates the very same text to DuckDB with sqlglot. Nothing here is DuckDB's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import sqlglot
from sqlglot import exp

from genesys_bridge import layout

SQL_DIR = Path(__file__).resolve().parent / "sql"

# The Glue table over the landed conversations (genesys_bridge.layout.CONVERSATIONS), and the name the
# view SQL reads from.
DETAILS_TABLE = "conversation_details"
# The one view not written as a file: its SQL is generated from KPI_SETTINGS below.
KPI_SETTINGS_VIEW = "kpi_settings"

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
    "conversation_details_latest",
    KPI_SETTINGS_VIEW,
    "conversations",
    "participants",
    "sessions",
    "segments",
    "session_metrics",
    *LOOKUP_VIEWS,
)
# Every table the views read (and a user's query may read).
TABLES: tuple[str, ...] = (DETAILS_TABLE, *LOOKUP_TABLES.values())
# The views ETL users expect; conversation_details_latest is the deduplicated table they all read.
NORMALIZED_VIEWS = VIEWS[1:]

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
)


@dataclass(frozen=True)
class Statement:
    name: str
    sql: str  # a SELECT in Athena's dialect, comments included


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip()


def _literal(value: SettingValue) -> str:
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
    columns = ",\n".join(
        f"    {_literal(overrides.get(s.name, s.default))} AS {s.name}" for s in KPI_SETTINGS
    )
    return (
        "-- The KPI queries' settings, one row, generated from catalog/sqlsource.py's KPI_SETTINGS\n"
        '-- (docs/query.md, "KPI settings").\n'
        f"SELECT\n{columns}"
    )


@cache
def view(name: str) -> Statement:
    if name not in VIEWS:
        raise KeyError(f"no view {name!r}; views: {', '.join(VIEWS)}")
    if name == KPI_SETTINGS_VIEW:
        return Statement(name, kpi_settings_sql())
    return Statement(name, _read(SQL_DIR / "views" / f"{name}.sql"))


@cache
def kpi_query(name: str) -> Statement:
    if name not in KPI_QUERIES:
        raise KeyError(f"no KPI query {name!r}; KPI queries: {', '.join(KPI_QUERIES)}")
    return Statement(name, _read(SQL_DIR / "kpi" / f"{name}.sql"))


def tables_read(sql: str) -> set[str]:
    """The tables and views one statement (Athena's dialect) reads, its own WITH names left out."""
    tree = sqlglot.parse_one(sql, read="trino")
    return {table.name for table in tree.find_all(exp.Table)} - {cte.alias for cte in tree.find_all(exp.CTE)}


def without_comment_lines(sql: str) -> str:
    """The SQL less its whole-line `--` comments (what the stack stores; the files keep them)."""
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--")).strip()


def create_view_statements() -> list[tuple[str, str]]:
    """(view name, CREATE OR REPLACE VIEW statement) in creation order, as Athena runs them."""
    return [
        (name, f"CREATE OR REPLACE VIEW {name} AS\n{without_comment_lines(view(name).sql)}") for name in VIEWS
    ]
