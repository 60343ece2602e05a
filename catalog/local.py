"""The views on DuckDB over landed objects on disk (`make demo`'s out/demo), translated by sqlglot.

The Glue table's local stand-in is generated from catalog.schema (DuckDB reads each object with
json_transform, which, like Hive's JSON SerDe, skips keys the schema does not know); every view and
query on top is catalog/sql's Athena text, translated to DuckDB's dialect and run unchanged.

The lookups' snapshots are the tables of catalog.local_lookups. A user's query reads only what it
should: the landed objects and snapshots are loaded first (a file that is not a conversation object,
a snapshot line that is no entity, is skipped and named, never failing the rest), then the engine is
locked (no file or network access, no configuration change) and only one SELECT over the views runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import duckdb
import sqlglot
from sqlglot import exp

from catalog import local_lookups, schema, sqlsource
from catalog.sqlsource import DETAILS_TABLE
from genesys_bridge import layout

# Athena's dialect is Trino's (engine version 3); sqlglot reads it as "trino".
SOURCE_DIALECT = "trino"
# What DuckDB's file functions expand in a path: a folder holding one would read other folders.
GLOB_CHARACTERS = "*?["


class NoLandedObjects(FileNotFoundError):
    """The folder holds no landed conversation objects (yet)."""


class FolderRefused(ValueError):
    """The folder's path would make DuckDB read other folders too."""


class QueryRefused(ValueError):
    """The text is not one SELECT (or WITH ... SELECT) over the views."""


class SettingRefused(ValueError):
    """A KPI setting that does not exist or has a value it cannot take."""


def _drop_identity_finish(tree: exp.Expr) -> exp.Expr:
    """Trino's reduce() needs an output function; DuckDB's list_reduce has none. Where that function
    is the identity (`s -> s`, the only form catalog/sql uses) dropping it changes nothing; any other
    output function is left in place for sqlglot to refuse."""
    for node in tree.find_all(exp.Reduce):
        finish = node.args.get("finish")
        if (
            isinstance(finish, exp.Lambda)
            and len(finish.expressions) == 1
            and isinstance(finish.this, exp.Column | exp.Identifier)
            and finish.this.name == finish.expressions[0].name
        ):
            node.set("finish", None)
    return tree


def _at_timezone_as_operator(tree: exp.Expr) -> exp.Expr:
    """Trino's at_timezone(ts, zone) takes a zone that is not a literal (its AT TIME ZONE takes only
    literals); DuckDB has no such function but its AT TIME ZONE takes any expression. Both give the
    wall-clock time in that zone, so a CAST to DATE of either is the day there."""
    for node in list(tree.find_all(exp.Anonymous)):
        if node.name.lower() == "at_timezone" and len(node.expressions) == 2:
            moment, zone = node.expressions
            node.replace(exp.AtTimeZone(this=moment, zone=zone))
    return tree


def to_duckdb(sql: str) -> str:
    """One Athena (Trino) statement in DuckDB's dialect; raises sqlglot's errors for what it cannot
    translate faithfully instead of guessing."""
    trees = [tree for tree in sqlglot.parse(sql, read=SOURCE_DIALECT) if tree is not None]
    if len(trees) != 1:
        raise sqlglot.errors.ParseError(f"expected one SQL statement, got {len(trees)}")
    tree = _at_timezone_as_operator(_drop_identity_finish(trees[0]))
    return tree.sql(dialect="duckdb", unsupported_level=sqlglot.ErrorLevel.RAISE, pretty=False)


def check_query(sql: str) -> None:
    """Refuse (QueryRefused) anything but one SELECT / WITH ... SELECT that reads only the details
    table, the views and its own WITH names; unparsable text raises sqlglot's ParseError."""
    trees = [tree for tree in sqlglot.parse(sql, read=SOURCE_DIALECT) if tree is not None]
    if len(trees) != 1:
        raise QueryRefused(f"give one query, not {len(trees)} statements")
    tree = trees[0]
    query = tree.this if isinstance(tree, exp.Subquery) else tree
    if not isinstance(query, exp.Query) or query.args.get("into") is not None:
        raise QueryRefused(f"only a SELECT (or WITH ... SELECT) runs here, not {tree.key.upper()}")
    readable = {*sqlsource.TABLES, *sqlsource.VIEWS} | {cte.alias for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier) or table.name not in readable:
            raise QueryRefused(
                f"the query reads {table.sql(dialect=SOURCE_DIALECT)}, which is not a view (it may read "
                f"{', '.join(sqlsource.VIEWS)} and the tables {', '.join(sqlsource.TABLES)})"
            )


def quote(text: str) -> str:
    """A DuckDB string literal."""
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class SkippedFile:
    """A landed file that is not a conversation object, or a lookup snapshot's line (`path:line`, kind
    "line") or file that is no entity, left out of every view."""

    path: str
    reason: str
    kind: str = "file"


def _pattern(out_dir: Path) -> str:
    folder = str(out_dir.resolve())
    if any(character in folder for character in GLOB_CHARACTERS):
        raise FolderRefused(
            f"{out_dir} has a glob character ({', '.join(GLOB_CHARACTERS)}) in its path, which would read "
            "other folders too: name one folder without them"
        )
    return str(Path(folder) / layout.CONVERSATIONS.local_glob())


def _day_pattern() -> str:
    """The key's last folder and file, capturing the partition value."""
    return layout.CONVERSATIONS.partition_column + r"=([^/]+)/[^/]+$"


def _skipped_files_sql(pattern: str) -> str:
    """Each file under the pattern that is not a conversation object, with why. DuckDB's JSON reader
    accepts NaN and Infinity, which JSON does not: a number node holding one marks the file too.
    Every JSON function sees only text known to be JSON (a malformed text would fail the statement)."""
    column = layout.CONVERSATIONS.partition_column
    day = f"regexp_extract(filename, {quote(_day_pattern())}, 1)"
    return f"""
        WITH landed AS (
            SELECT filename, text, coalesce(json_valid(text), false) AS is_json
            FROM (SELECT filename, try(decode(content)) AS text FROM read_blob({quote(pattern)}))
        ),
        non_finite AS (
            SELECT DISTINCT l.filename
            FROM landed AS l, json_tree(
                CASE WHEN l.is_json AND regexp_matches(l.text, 'NaN|Infinity') THEN l.text END
            ) AS node
            WHERE node.type = 'DOUBLE' AND node.atom IN ('NaN', 'Infinity', '-Infinity')
        ),
        judged AS (
            SELECT filename, CASE
                WHEN NOT regexp_matches({day}, '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$')
                    OR try_cast({day} AS DATE) IS NULL
                    THEN {quote(f"its folder is not {column}=YYYY-MM-DD")}
                WHEN text IS NULL THEN 'not UTF-8 text'
                WHEN NOT is_json THEN 'not JSON (truncated or corrupt)'
                WHEN json_type(CASE WHEN is_json THEN text END) <> 'OBJECT' THEN 'not a JSON object'
                WHEN filename IN (SELECT filename FROM non_finite)
                    THEN 'NaN or Infinity, which JSON does not allow'
                WHEN json_extract_string(CASE WHEN is_json THEN text END, '$.conversationId') IS NULL
                    THEN 'no conversationId'
            END AS reason
            FROM landed
        )
        SELECT filename, reason FROM judged WHERE reason IS NOT NULL ORDER BY filename
    """  # noqa: S608 - only the repository's own names and quoted literals


def details_relation_sql(pattern: str, skipped: Sequence[SkippedFile], *, kind: str = "TABLE") -> str:
    """DuckDB's stand-in for the Glue table: the schema's columns, the partition column read from the
    key, and Athena's hidden "$path" / "$file_modified_time" from the file; every file but the
    skipped ones. A TABLE holds the objects once loaded; a VIEW reads the files at each query."""
    column = layout.CONVERSATIONS.partition_column
    excluded = f"WHERE filename NOT IN ({', '.join(quote(file.path) for file in skipped)})" if skipped else ""
    return (
        f"CREATE OR REPLACE {kind} {DETAILS_TABLE} AS SELECT "  # noqa: S608 - our names, quoted literals
        f"unnest(json_transform(try(decode(content)), {quote(schema.duckdb_structure_json())})), "
        f"regexp_extract(filename, {quote(_day_pattern())}, 1) AS {column}, "
        'filename AS "$path", last_modified AS "$file_modified_time" '
        f"FROM read_blob({quote(pattern)}) {excluded}"
    )


def landed_objects(out_dir: Path) -> list[Path]:
    return sorted(out_dir.glob(layout.CONVERSATIONS.local_glob()))


@dataclass
class Catalog:
    """An in-memory DuckDB with the details table and every view, and the files it skipped."""

    connection: duckdb.DuckDBPyConnection
    skipped: tuple[SkippedFile, ...] = ()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.connection.close()


def connect(
    out_dir: Path, *, settings: Mapping[str, sqlsource.SettingValue] | None = None, lock: bool = True
) -> Catalog:
    """Load the objects under out_dir and create every view over them; kpi_settings takes `settings`
    over its defaults. Locked (the default), the details are loaded into memory and the engine can
    then read no file and change no setting; unlocked (a benchmark that measures file reads), the
    details table is a view that reads the files at each query."""
    pattern = _pattern(out_dir)
    if not landed_objects(out_dir):
        raise NoLandedObjects(
            f"no landed conversations under {out_dir / layout.CONVERSATIONS.prefix}: run `make demo` first "
            f"(or point --out at a folder that holds {layout.CONVERSATIONS.local_glob()})"
        )
    connection = duckdb.connect(":memory:")
    try:
        # Athena shows timestamps in UTC; so does this.
        connection.execute("SET TimeZone = 'UTC'")
        # Results are printed, and a progress bar would land in them (or in a script's stderr).
        connection.execute("SET enable_progress_bar = false")
        settings_sql = _settings_in_duckdb(connection, settings) if settings else None
        skipped = tuple(
            SkippedFile(path, reason)
            for path, reason in connection.execute(_skipped_files_sql(pattern)).fetchall()
        )
        connection.execute(details_relation_sql(pattern, skipped, kind="TABLE" if lock else "VIEW"))
        skipped += tuple(
            SkippedFile(where, why, kind="line") for where, why in local_lookups.load(connection, out_dir)
        )
        for name in sqlsource.VIEWS:
            text = (
                settings_sql
                if name == sqlsource.KPI_SETTINGS_VIEW and settings_sql
                else _view_in_duckdb(name)
            )
            connection.execute(f"CREATE OR REPLACE VIEW {name} AS {text}")
        if lock:
            # https://duckdb.org/docs/stable/operations_manual/securing_duckdb/overview
            connection.execute("SET enable_external_access = false")
            connection.execute("SET lock_configuration = true")
    except BaseException:
        connection.close()
        raise
    return Catalog(connection, skipped)


def _settings_in_duckdb(
    connection: duckdb.DuckDBPyConnection, settings: Mapping[str, sqlsource.SettingValue]
) -> str:
    """The kpi_settings view with `settings`, once each is known to be usable (SettingRefused)."""
    try:
        sql = sqlsource.kpi_settings_sql(settings)
    except (KeyError, TypeError) as error:
        raise SettingRefused(str(error).strip("\"'")) from error
    zone = settings.get("interval_time_zone")
    if zone is not None:
        try:
            connection.execute("SELECT now() AT TIME ZONE ?", [zone])
        except duckdb.Error as error:
            raise SettingRefused(
                f"interval_time_zone: {zone!r} is not a time zone (e.g. Europe/Dublin)"
            ) from error
    return to_duckdb(sql)


@cache
def _view_in_duckdb(name: str) -> str:
    return to_duckdb(sqlsource.view(name).sql)


@dataclass(frozen=True)
class Result:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    skipped: tuple[SkippedFile, ...] = field(default=())  # landed files no view holds

    def select(self, columns: Sequence[str]) -> Result:
        """The same rows with only `columns`, in that order."""
        indexes = [self.columns.index(column) for column in columns]
        return Result(list(columns), [tuple(row[i] for i in indexes) for row in self.rows], self.skipped)


def run(catalog: Catalog, sql: str) -> Result:
    """One user query (Athena's dialect) over the views; see check_query for what is refused."""
    check_query(sql)
    cursor = catalog.connection.execute(to_duckdb(sql))
    return Result([column[0] for column in cursor.description or []], cursor.fetchall(), catalog.skipped)


def run_query(
    out_dir: Path, sql: str, *, settings: Mapping[str, sqlsource.SettingValue] | None = None
) -> Result:
    """Run one Athena-dialect query against the views over out_dir's landed objects."""
    with connect(out_dir, settings=settings) as catalog:
        return run(catalog, sql)


def describe_views(catalog: Catalog) -> dict[str, list[str]]:
    """Each view (and the details table) with its column names, as a user can query them."""
    described = {}
    for name in (*sqlsource.TABLES, *sqlsource.VIEWS):
        cursor = catalog.connection.execute(f"SELECT * FROM {name} LIMIT 0")  # noqa: S608 (our own names)
        described[name] = [column[0] for column in cursor.description or []]
    return described


_SKIPPED_HEADERS = {
    "file": "landed file(s) that are not conversation objects",
    "line": "lookup snapshot line(s) or file(s) that are no entity",
}


def skipped_text(skipped: Sequence[SkippedFile], *, shown: int = 10) -> str:
    """Lines naming the skipped files and lookup lines (at most `shown` of each kind) and why; empty when
    none was."""
    lines = []
    for kind, header in _SKIPPED_HEADERS.items():
        of_kind = [file for file in skipped if file.kind == kind]
        if not of_kind:
            continue
        lines.append(f"skipped {len(of_kind)} {header}:")
        lines += [f"  {file.path}: {file.reason}" for file in of_kind[:shown]]
        if len(of_kind) > shown:
            lines.append(f"  ... and {len(of_kind) - shown} more")
    return "\n".join(lines)


def format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}" if abs(value) >= 1e15 else f"{value:.15g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {format_value(item)}" for key, item in value.items()) + "}"
    if isinstance(value, datetime):
        # as Athena prints a timestamp(3) with time zone
        zone = (
            " UTC" if value.utcoffset() == timedelta(0) else (value.strftime(" %z") if value.tzinfo else "")
        )
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}{zone}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def render(result: Result, *, max_rows: int | None = None, max_width: int = 60) -> str:
    """A padded Markdown table; cells past max_width are cut with an ellipsis."""

    def cell(value: Any) -> str:
        text = format_value(value).replace("|", "/").replace("\n", " ")
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    shown: Sequence[tuple[Any, ...]] = result.rows if max_rows is None else result.rows[:max_rows]
    body = [result.columns, *([cell(value) for value in row] for row in shown)]
    widths = [max(len(line[index]) for line in body) for index in range(len(result.columns))]
    lines = [
        "| " + " | ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)) + " |"
        for line in body
    ]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    hidden = len(result.rows) - len(shown)
    if hidden > 0:
        lines.append(f"... {hidden} more row(s) (--csv prints all)")
    lines.append(f"({len(result.rows)} row{'s' if len(result.rows) != 1 else ''})")
    return "\n".join(lines)


# What the demo shows of queue_performance (the rest with `make query ARGS="--kpi queue_performance"`).
SUMMARY_COLUMNS = (
    "interval_date",
    "queue_name",
    "media_type",
    "offered",
    "answered",
    "abandon_pct",
    "avg_handle_s",
    "avg_speed_of_answer_s",
    "transfer_pct",
    "service_level_target_s",
    "service_level_pct",
)
SUMMARY_ROWS = 20


def kpi_summary(out_dir: Path) -> str:
    """queue_performance through the views over the objects landed under out_dir, its main columns
    (what `make demo` prints last)."""
    try:
        result = run_query(out_dir, sqlsource.kpi_query("queue_performance").sql)
    except (NoLandedObjects, FolderRefused) as error:
        return f"KPIs: {error}"
    except duckdb.Error as error:  # the run's own verdict stands
        return f"KPIs: the catalog views could not read {out_dir}: {error}"
    skipped = skipped_text(result.skipped)
    return (
        "Queue performance per interval day through the catalog views (catalog/sql/kpi/queue_performance.sql;"
        ' every column with `make query ARGS="--kpi queue_performance"`):\n'
        + render(result.select(SUMMARY_COLUMNS), max_rows=SUMMARY_ROWS, max_width=90)
        + (f"\n{skipped}" if skipped else "")
    )
