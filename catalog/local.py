"""The views on DuckDB over landed objects on disk (`make demo`'s out/demo), translated by sqlglot.

The Glue tables' local stand-ins read the folder's files at each query, one day's folder at a time, so
a filter on conversation_date reads only that day's files, as partition pruning does on Athena:
conversation_details reads the landed objects with json_transform (which, like the JSON SerDe, skips
keys catalog.schema does not know), conversation_details_compacted the compacted days' Parquet files,
compaction_markers their markers. Every view and query on top is catalog/sql's Athena text, translated
to DuckDB's dialect (catalog.dialect). DuckDB has no dynamic filtering, so two constants are written
into the SQL it runs (never into what Athena runs): the day lists the views read through semi-joins
(the days without and with a marker), and the kpi_settings values, so that filters on them prune as
literal ones do.

The lookups' snapshots are the tables of catalog.local_lookups, loaded at connect. A user's query reads
only what it should: a landed file that is not a conversation object, a snapshot line that is no
entity, is skipped and named, never failing the rest; then the engine is locked (no file outside the
folder's landed and compacted data, no network, no configuration change) and only one SELECT over the
views runs on it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import duckdb
import sqlglot
from sqlglot import exp

from catalog import local_lookups, pruning, render, schema, sqlsource
from catalog.dialect import check_query, inline_day_lists, inline_settings, one_statement, quote, to_duckdb
from catalog.sqlsource import DETAILS_TABLE
from genesys_bridge import compaction, layout

# What DuckDB's file functions expand in a path: a folder holding one would read other folders.
GLOB_CHARACTERS = "*?["
MISPLACED = f"its folder is not {layout.CONVERSATIONS.partition_column}=YYYY-MM-DD"
# The tables and views whose rows come from a day's conversation files (the others read none, or the
# lookups' snapshots, which are not pruned by day).
FILE_RELATIONS = frozenset(sqlsource.TABLES + sqlsource.VIEWS) - {
    sqlsource.KPI_SETTINGS_VIEW,
    sqlsource.UNCOMPACTED_DAYS_VIEW,
    sqlsource.MARKERS_TABLE,
    *sqlsource.LOOKUP_TABLES.values(),
    *sqlsource.LOOKUP_VIEWS,
}


class NoLandedObjects(FileNotFoundError):
    """The folder holds no landed conversation objects and no compacted days (yet)."""


class FolderRefused(ValueError):
    """The folder's path would make DuckDB read other folders too."""


class SettingRefused(ValueError):
    """A KPI setting that does not exist or has a value it cannot take."""


@dataclass(frozen=True)
class SkippedFile:
    """A landed file that is not a conversation object, or a lookup snapshot's line (`path:line`, kind
    "line") or file that is no entity, left out of every view."""

    path: str
    reason: str
    kind: str = "file"


def _checked_folder(out_dir: Path) -> Path:
    folder = out_dir.resolve()
    if any(character in str(folder) for character in GLOB_CHARACTERS):
        raise FolderRefused(
            f"{out_dir} has a glob character ({', '.join(GLOB_CHARACTERS)}) in its path, which would read "
            "other folders too: name one folder without them"
        )
    return folder


def _partition_day(folder: Path, dataset: layout.Dataset) -> date | None:
    """The day of a `<partition_column>=YYYY-MM-DD` folder, None for any other name."""
    _, equals, value = folder.name.partition("=")
    if not equals or folder.name != f"{dataset.partition_column}={value}":
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day if day.isoformat() == value else None


@dataclass(frozen=True)
class Survey:
    """What a folder that mirrors the results bucket holds, day by day (no file is read but markers)."""

    folder: Path
    landed: dict[date, tuple[Path, ...]]  # day -> its landed objects
    misplaced: tuple[Path, ...]  # landed objects in a folder that is no day
    compacted: dict[date, tuple[Path, ...]]  # day with a marker -> its Parquet files
    markers: dict[date, dict[str, Any]]

    @property
    def uncompacted(self) -> list[date]:
        """The landed days without a marker: the days the views read from JSON."""
        return sorted(set(self.landed) - set(self.compacted))

    @property
    def first_day(self) -> date:
        return min([*self.landed, *self.compacted], default=datetime.now().date())


def survey(out_dir: Path, keep: pruning.DayFilter | None = None) -> Survey:
    """The landed days and the compacted days (a valid marker each) under out_dir; with `keep`, only
    the days it keeps (the files of the others are not even listed)."""
    folder = _checked_folder(out_dir)
    landed: dict[date, tuple[Path, ...]] = {}
    misplaced: list[Path] = []
    for day_folder in sorted(
        (folder / layout.CONVERSATIONS.prefix).glob(f"{layout.CONVERSATIONS.partition_column}=*")
    ):
        day = _partition_day(day_folder, layout.CONVERSATIONS)
        if day is not None and keep is not None and not keep(day):
            continue
        files = _files_in(day_folder, layout.CONVERSATIONS.suffix)
        if day is None:
            misplaced.extend(files)
        elif files:
            landed[day] = files
    compacted: dict[date, tuple[Path, ...]] = {}
    markers: dict[date, dict[str, Any]] = {}
    marker_folders = (folder / layout.COMPACTION_MARKERS.prefix).glob(
        f"{layout.COMPACTION_MARKERS.partition_column}=*"
    )
    for marker_folder in sorted(marker_folders):
        day = _partition_day(marker_folder, layout.COMPACTION_MARKERS)
        if day is not None and keep is not None and not keep(day):
            continue
        marker = read_marker(folder, day) if day is not None else None
        if day is None or marker is None:
            continue
        markers[day] = marker
        compacted[day] = compacted_files(folder, day)
    return Survey(folder, landed, tuple(misplaced), compacted, markers)


def _files_in(folder: Path, suffix: str) -> tuple[Path, ...]:
    """The files of a folder ending in suffix, by name (a day can hold tens of thousands)."""
    with os.scandir(folder) as entries:
        names = sorted(entry.name for entry in entries if entry.name.endswith(suffix) and entry.is_file())
    return tuple(folder / name for name in names)


def read_marker(folder: Path, day: date) -> dict[str, Any] | None:
    """The day's compaction marker under folder, if there is a valid one."""
    try:
        value = json.loads((folder / layout.compaction_marker_key(day)).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return compaction.valid_marker(value, day)


def compacted_files(folder: Path, day: date, dataset: layout.Dataset = layout.COMPACTED) -> tuple[Path, ...]:
    """The day's Parquet files of a compacted dataset: every file of its folder a Hive table reads."""
    day_folder = folder / dataset.day_prefix(day)
    if not day_folder.is_dir():
        return ()
    return tuple(
        sorted(path for path in day_folder.iterdir() if path.is_file() and layout.is_data_file(path.name))
    )


def _files_union(days: Mapping[date, Sequence[Path]], function: str, columns: str, empty: str) -> str:
    """One branch per day, each with the day as a constant, so DuckDB drops the other days' branches
    when a query filters on it; `empty` when there is no day. The constant is a DATE (Athena's partition
    column is a string): DuckDB prunes through a CAST of a string constant only when nothing lies
    between, and the views cast it to a date."""
    branches = [
        f"SELECT {columns}, DATE {quote(day.isoformat())} AS conversation_date "  # noqa: S608 - quoted literals
        f"FROM {function}([{', '.join(quote(str(path)) for path in files)}])"
        for day, files in sorted(days.items())
        if files
    ]
    return " UNION ALL ".join(branches) if branches else empty


_NO_FILES = (
    "SELECT CAST(NULL AS VARCHAR) AS filename, CAST(NULL AS BLOB) AS content, "
    "CAST(NULL AS TIMESTAMP WITH TIME ZONE) AS last_modified, CAST(NULL AS DATE) AS conversation_date "
    "WHERE false"
)


def _skipped_files_sql(files_relation: str) -> str:
    """Each file of the relation that is not a conversation object, with why. DuckDB's JSON reader
    accepts NaN and Infinity, which JSON does not: a number node holding one marks the file too.
    Every JSON function sees only text known to be JSON (a malformed text would fail the statement)."""
    return f"""
        WITH landed AS (
            SELECT filename, text, coalesce(json_valid(text), false) AS is_json
            FROM (SELECT filename, try(decode(content)) AS text FROM ({files_relation}))
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


def details_view_sql(files_relation: str, skipped: Sequence[SkippedFile]) -> str:
    """DuckDB's stand-in for the Glue table: the schema's columns (NULLs for a file that is not a JSON
    object, as the SerDe's ignore.malformed.json gives), the partition column, and Athena's hidden
    "$path" / "$file_modified_time" from the file; the skipped files left out."""
    excluded = f"WHERE filename NOT IN ({', '.join(quote(file.path) for file in skipped)})" if skipped else ""
    fields = ", ".join(f"j.{name} AS {name}" for name, _ in schema.CONVERSATION.fields)
    return (
        f"SELECT {fields}, conversation_date, "  # noqa: S608 - our names, quoted literals
        'filename AS "$path", last_modified AS "$file_modified_time" FROM ('
        f"SELECT json_transform(CASE WHEN coalesce(json_valid(text), false) THEN text END, "
        f"{quote(schema.duckdb_structure_json())}) AS j, conversation_date, filename, last_modified "
        f"FROM (SELECT try(decode(content)) AS text, conversation_date, filename, last_modified "
        f"FROM ({files_relation}) {excluded}))"
    )


def landed_files_sql(days: Mapping[date, Sequence[Path]]) -> str:
    """The landed objects of these days, a union branch each (read_blob)."""
    return _files_union(days, "read_blob", "filename, content, last_modified", _NO_FILES)


@dataclass
class Catalog:
    """An in-memory DuckDB with the tables' stand-ins and every view, and the files it skipped."""

    connection: duckdb.DuckDBPyConnection
    skipped: tuple[SkippedFile, ...] = ()
    survey: Survey | None = None
    settings: dict[str, sqlsource.SettingValue] = field(default_factory=dict)
    views: set[str] = field(default_factory=set)  # the views created (only those a query reads)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.connection.close()

    def translate(self, sql: str | exp.Expr) -> str:
        """An Athena statement for this catalog's DuckDB: the day lists and settings written in (into a
        tree of its own: parsed here, or a copy of the one given, so each rewrite needs no copy)."""
        tree = one_statement(sql) if isinstance(sql, str) else sql.copy()
        if self.survey is not None:
            tree = inline_day_lists(
                tree,
                {
                    sqlsource.UNCOMPACTED_DAYS_VIEW: self.survey.uncompacted,
                    sqlsource.MARKERS_TABLE: sorted(self.survey.compacted),
                },
                copy=False,
            )
        return to_duckdb(inline_settings(tree, self.settings, copy=False))


def connect(
    out_dir: Path,
    *,
    settings: Mapping[str, sqlsource.SettingValue] | None = None,
    lock: bool = True,
    days: Sequence[date] | None = None,
    query: str | None = None,
) -> Catalog:
    """The tables' stand-ins over the files under out_dir and every view over them; kpi_settings takes
    `settings` over its defaults. Locked (the default), the engine can then read no other file and
    change no setting. `days`: only those days (a compaction's). `query`: the one query the catalog is
    for; only the days its predicates allow are set up (catalog.pruning)."""
    if not _holds_days(_checked_folder(out_dir)):
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
        values = _settings(connection, settings or {})
        reads = _days_read(query, values) if query is not None else None
        wanted = set(days) if days is not None else None
        keep = (
            None
            if wanted is None and reads is None
            else lambda day: (wanted is None or day in wanted) and (reads is None or reads(day))
        )
        found = survey(out_dir, keep)
        catalog = Catalog(connection, (), found, values)
        # A query that reads the JSON only through conversation_details_latest reads no compacted day's
        # objects: the table's stand-in then leaves them out, so DuckDB does not even list them.
        reads_json = query is None or bool(_tables_read(query) & {DETAILS_TABLE, sqlsource.LANDED_VIEW})
        # The relations the query reads (all of them without one): creating a view costs its
        # translation, and a compacted table's stand-in reads its files' footers.
        relations = (
            set(sqlsource.VIEWS + sqlsource.TABLES)
            if query is None
            else sqlsource.relations_needed(_tables_read(query))
        )
        catalog.skipped = _create_tables(
            connection, found, every_landed_day=reads_json, tables=relations & set(sqlsource.TABLES)
        ) + tuple(
            SkippedFile(where, why, kind=local_lookups.LINE)
            for where, why in local_lookups.load(connection, found.folder)
        )
        for name in [name for name in sqlsource.VIEWS if name in relations]:
            statement = sqlsource.view(name, first_day=found.first_day).sql
            if name == sqlsource.KPI_SETTINGS_VIEW:
                statement = sqlsource.kpi_settings_sql(values)
            connection.execute(f"CREATE OR REPLACE VIEW {name} AS {catalog.translate(statement)}")
            catalog.views.add(name)
        if lock:
            # https://duckdb.org/docs/stable/operations_manual/securing_duckdb/overview
            readable = [
                found.folder / dataset.prefix
                for dataset in (layout.CONVERSATIONS, *layout.COMPACTED_DATASETS)
            ]
            connection.execute(
                f"SET allowed_directories = [{', '.join(quote(f'{path}/') for path in readable)}]"
            )
            connection.execute("SET enable_external_access = false")
            connection.execute("SET lock_configuration = true")
    except BaseException:
        connection.close()
        raise
    return catalog


def _tables_read(sql: str) -> frozenset[str]:
    """The tables and views a query reads; every table for text that does not parse (run refuses it)."""
    try:
        return sqlsource.tables_read(sql)
    except sqlglot.errors.SqlglotError:
        return frozenset(sqlsource.TABLES)


def _days_read(sql: str, values: Mapping[str, sqlsource.SettingValue]) -> pruning.DayFilter | None:
    """The days a query's predicates allow (None: every day, or a query that does not parse)."""
    try:
        tree = one_statement(sql)
    except sqlglot.errors.SqlglotError:
        return None  # run() refuses it with the parser's own words
    return pruning.days_read(inline_settings(tree, values), FILE_RELATIONS)


def _holds_days(folder: Path) -> bool:
    """Whether the folder holds any day's landed objects or compaction marker (by folder name only)."""
    for dataset in (layout.CONVERSATIONS, layout.COMPACTION_MARKERS):
        if next((folder / dataset.prefix).glob(f"{dataset.partition_column}=*"), None) is not None:
            return True
    return False


def _create_tables(
    connection: duckdb.DuckDBPyConnection,
    found: Survey,
    *,
    every_landed_day: bool = True,
    tables: Collection[str] = sqlsource.TABLES,
) -> tuple[SkippedFile, ...]:
    """The tables' stand-ins; returns the landed files left out. The landed days the views read as
    JSON are checked file by file; a compacted day's are as its marker says. Without
    `every_landed_day`, conversation_details holds only the days without a marker; a compacted table
    not among `tables` (those a query reads) is left empty, its files unread."""
    pending = landed_files_sql({day: found.landed[day] for day in found.uncompacted})
    skipped = [SkippedFile(str(path), MISPLACED) for path in found.misplaced]
    skipped += [
        SkippedFile(path, reason)
        for path, reason in connection.execute(_skipped_files_sql(pending)).fetchall()
    ]
    for day, marker in sorted(found.markers.items()):
        folder = found.folder / layout.CONVERSATIONS.day_prefix(day)
        skipped += [
            SkippedFile(str(folder / str(item.get("name"))), str(item.get("reason")))
            for item in marker.get("skipped") or []
            if isinstance(item, dict)
        ]
    skipped.sort(key=lambda file: file.path)
    landed = found.landed if every_landed_day else {day: found.landed[day] for day in found.uncompacted}
    connection.execute(
        f"CREATE VIEW {DETAILS_TABLE} AS {details_view_sql(landed_files_sql(landed), skipped)}"
    )
    described = connection.execute(f"DESCRIBE {DETAILS_TABLE}").fetchall()
    types = {str(row[0]): str(row[1]) for row in described}
    # A Parquet file holds the very types json_transform gives; the casts make the union's certain.
    names = [name for name, _ in schema.CONVERSATION.fields]
    columns = ", ".join(f"CAST({name} AS {types[name]}) AS {name}" for name in names)
    empty = f"SELECT {', '.join(names)}, conversation_date FROM {DETAILS_TABLE} WHERE false"  # noqa: S608
    compacted = found.compacted if sqlsource.COMPACTED_TABLE in tables else {}
    parquet = _files_union(compacted, "read_parquet", columns, empty)
    connection.execute(f"CREATE VIEW {sqlsource.COMPACTED_TABLE} AS {parquet}")
    for flat in sqlsource.FLAT.values():
        typed = ", ".join(f"CAST({name} AS {schema.duckdb_type(t)}) AS {name}" for name, t in flat.row.fields)
        nothing = ", ".join(f"CAST(NULL AS {schema.duckdb_type(t)}) AS {name}" for name, t in flat.row.fields)
        days = found.compacted if flat.table in tables else {}
        files = {day: compacted_files(found.folder, day, flat.dataset) for day in days}
        flat_parquet = _files_union(
            files,
            "read_parquet",
            typed,
            f"SELECT {nothing}, CAST(NULL AS DATE) AS conversation_date WHERE false",
        )
        connection.execute(f"CREATE VIEW {flat.table} AS {flat_parquet}")
    marker_rows = [
        (day.isoformat(), marker.get("compacted_at"), marker.get("engine"))
        for day, marker in sorted(found.markers.items())
    ]
    markers = sqlsource.MARKERS_TABLE
    connection.execute(
        f"CREATE TABLE {markers} (conversation_date VARCHAR, compacted_at VARCHAR, engine VARCHAR)"
    )
    if marker_rows:
        connection.executemany(f"INSERT INTO {markers} VALUES (?, ?, ?)", marker_rows)  # noqa: S608
    return tuple(skipped)


def _settings(
    connection: duckdb.DuckDBPyConnection, settings: Mapping[str, sqlsource.SettingValue]
) -> dict[str, sqlsource.SettingValue]:
    """The KPI settings' values with `settings` over the defaults, once each is known to be usable
    (SettingRefused)."""
    try:
        sqlsource.kpi_settings_sql(settings)
    except (KeyError, TypeError, ValueError) as error:
        raise SettingRefused(str(error).strip("\"'")) from error
    zone = settings.get("interval_time_zone")
    if zone is not None:
        try:
            connection.execute("SELECT now() AT TIME ZONE ?", [zone])
        except duckdb.Error as error:
            raise SettingRefused(
                f"interval_time_zone: {zone!r} is not a time zone (e.g. Europe/Dublin)"
            ) from error
    return {**{setting.name: setting.default for setting in sqlsource.KPI_SETTINGS}, **settings}


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
    cursor = catalog.connection.execute(catalog.translate(sql))
    return Result([column[0] for column in cursor.description or []], cursor.fetchall(), catalog.skipped)


def run_query(
    out_dir: Path, sql: str, *, settings: Mapping[str, sqlsource.SettingValue] | None = None
) -> Result:
    """Run one Athena-dialect query against the views over out_dir's landed objects."""
    with connect(out_dir, settings=settings, query=sql) as catalog:
        return run(catalog, sql)


def describe_views(catalog: Catalog) -> dict[str, list[str]]:
    """Each view (and the details table) with its column names, as a user can query them."""
    described = {}
    for name in (*sqlsource.TABLES, *sqlsource.VIEWS):
        cursor = catalog.connection.execute(f"SELECT * FROM {name} LIMIT 0")  # noqa: S608 (our own names)
        described[name] = [column[0] for column in cursor.description or []]
    return described


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
    skipped = render.skipped_text(result.skipped)
    return (
        "Queue performance per interval day through the catalog views (catalog/sql/kpi/queue_performance.sql;"
        ' every column with `make query ARGS="--kpi queue_performance"`):\n'
        + render.render(result.select(SUMMARY_COLUMNS), max_rows=SUMMARY_ROWS, max_width=90)
        + (f"\n{skipped}" if skipped else "")
    )
