"""The views on DuckDB over landed objects on disk (`make demo`'s out/demo), translated by sqlglot.

The Glue tables' local stand-ins read the folder's files at each query, one day's folder at a time, so
a filter on conversation_date reads only that day's files, as partition pruning does on Athena:
conversation_details reads the landed objects with json_transform (which, like the JSON SerDe, skips
keys catalog.schema does not know), conversation_details_compacted the compacted days' Parquet files,
compaction_markers their markers. Every view and query on top is catalog/sql's Athena text, translated
to DuckDB's dialect. DuckDB has no dynamic filtering, so two constants are written into the SQL it runs
(never into what Athena runs): the day lists the views read through semi-joins (the days without and
with a marker), and the kpi_settings values, so that filters on them prune as literal ones do.

The lookups' snapshots are the tables of catalog.local_lookups, loaded at connect. A user's query reads
only what it should: a landed file that is not a conversation object, a snapshot line that is no
entity, is skipped and named, never failing the rest; then the engine is locked (no file outside the
folder's landed and compacted data, no network, no configuration change) and only one SELECT over the
views runs on it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import duckdb
import sqlglot
from sqlglot import exp

from catalog import local_lookups, pruning, schema, sqlsource
from catalog.sqlsource import DETAILS_TABLE
from genesys_bridge import compaction, layout

# Athena's dialect is Trino's (engine version 3); sqlglot reads it as "trino".
SOURCE_DIALECT = "trino"
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


def to_duckdb(sql: str | exp.Expr) -> str:
    """One Athena (Trino) statement in DuckDB's dialect; raises sqlglot's errors for what it cannot
    translate faithfully instead of guessing."""
    tree = _one_statement(sql) if isinstance(sql, str) else sql
    tree = _unnest_in_select_lists(_at_timezone_as_operator(_drop_identity_finish(tree)))
    return tree.sql(dialect="duckdb", unsupported_level=sqlglot.ErrorLevel.RAISE, pretty=False)


def _unnest_in_select_lists(tree: exp.Expr) -> exp.Expr:
    """`FROM t AS d CROSS JOIN UNNEST(d.xs) AS x CROSS JOIN UNNEST(x.ys) AS y` as DuckDB runs it fast.

    DuckDB joins an UNNEST in FROM laterally and copies every column of the rows to its left into each
    row it makes, the whole nested participants array included, which made the views' unnesting most of
    a query's time. An unnest in a SELECT list copies nothing: each step becomes a subquery that keeps
    only the fields the query uses (as `alias__field`) and unnests the next list. The same rows either way."""
    for select in list(tree.find_all(exp.Select)):
        chain = _unnest_chain(select)
        if chain is not None:
            _rewrite_chain(select, *chain)
    return tree


def _unnest_chain(select: exp.Select) -> tuple[exp.Expr, str, list[tuple[str, exp.Expr]]] | None:
    """(the FROM, its alias, [(alias, list expression)] of the CROSS JOIN UNNESTs), when the SELECT is
    that shape and names every column through those aliases (no lambda, no bare name)."""
    source, joins = select.args.get("from_"), select.args.get("joins") or []
    if source is None or not joins or select.find(exp.Lambda) is not None:
        return None
    base = source.this
    steps = []
    for join in joins:
        unnest = join.this
        if (
            join.args.get("kind") != "CROSS"
            or not isinstance(unnest, exp.Unnest)
            or len(unnest.expressions) != 1
        ):
            return None
        alias = unnest.args.get("alias")
        if alias is None or alias.columns or unnest.args.get("offset"):
            return None
        steps.append((alias.name, unnest.expressions[0]))
    aliases = {base.alias_or_name, *(name for name, _ in steps)}
    for column in select.find_all(exp.Column):
        if _owner(column) not in aliases:
            return None
    return base, base.alias_or_name, steps


def _owner(column: exp.Column) -> str:
    """The alias a column is a field of: `d.x` -> d; `s.flow.flowId` (read as db.table.column) -> s."""
    return column.text("db") or column.table


def _field(column: exp.Column) -> str:
    return column.table if column.text("db") else column.name


def _rewrite_chain(
    select: exp.Select, base: exp.Expr, base_alias: str, steps: list[tuple[str, exp.Expr]]
) -> None:
    def refs(node: exp.Expr) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for column in node.find_all(exp.Column):
            if (_owner(column), _field(column)) not in found:
                found.append((_owner(column), _field(column)))
        return found

    listed = [expression for _, expression in steps]
    select.set("joins", None)
    outer = refs(select)
    # the fields still needed after each step: by the query itself or by a later step's list
    needed = [outer + [ref for later in listed[k + 1 :] for ref in refs(later)] for k in range(len(steps))]
    fields = [
        exp.column(f, table=a).as_(f"{a}__{f}")
        for a, f in dict.fromkeys(needed[0] + refs(listed[0]))
        if a == base_alias
    ]
    level = exp.select(*fields).from_(base.copy())
    carried = [f"{a}__{f}" for a, f in dict.fromkeys(needed[0] + refs(listed[0])) if a == base_alias]
    for index, (alias, expression) in enumerate(steps):
        keep = [c for c in carried if c in {f"{a}__{f}" for a, f in needed[index]}]
        unnest = exp.Unnest(expressions=[_carried_names(expression.copy())]).as_(alias)
        level = exp.select(*map(exp.column, keep), unnest).from_(level.subquery(f"_unnest{index}"))
        own = [f for a, f in dict.fromkeys(needed[index]) if a == alias]
        level = exp.select(
            *map(exp.column, keep), *(exp.column(f, table=alias).as_(f"{alias}__{f}") for f in own)
        ).from_(level.subquery(f"_unnested{index}"))
        carried = keep + [f"{alias}__{f}" for f in own]
    for column in list(select.find_all(exp.Column)):
        column.replace(_carried_names(column.copy()))
    select.set("from_", exp.From(this=level.subquery("_unnested_rows")))


def _carried_names(node: exp.Expr) -> exp.Expr:
    """Each `alias.field[.sub]` in node as the carried column `alias__field[.sub]`."""

    def rename(column: exp.Expr) -> exp.Expr:
        if not isinstance(column, exp.Column):
            return column
        carried = exp.column(f"{_owner(column)}__{_field(column)}")
        return (
            exp.Dot(this=carried, expression=exp.to_identifier(column.name)) if column.text("db") else carried
        )

    return node.transform(rename)


def _one_statement(sql: str) -> exp.Expr:
    trees = [tree for tree in sqlglot.parse(sql, read=SOURCE_DIALECT) if tree is not None]
    if len(trees) != 1:
        raise sqlglot.errors.ParseError(f"expected one SQL statement, got {len(trees)}")
    return trees[0]


def inline_day_lists(tree: exp.Expr, days: Mapping[str, Sequence[date]]) -> exp.Expr:
    """`x IN (SELECT <day> FROM <name> ...)` becomes `x IN (DATE 'a', DATE 'b', ...)` for each name in
    `days`: what Athena's dynamic filtering finds at run time, known here before the query runs."""

    def rewrite(node: exp.Expr) -> exp.Expr:
        query = node.args.get("query") if isinstance(node, exp.In) else None
        select = query.this if isinstance(query, exp.Subquery) else query
        if not isinstance(select, exp.Select):
            return node
        tables = list(select.find_all(exp.Table))
        if len(tables) != 1 or tables[0].name not in days:
            return node
        listed = sorted(set(days[tables[0].name]))
        if not listed:
            return exp.false()
        return exp.In(this=node.this, expressions=[_date_literal(day) for day in listed])

    return tree.transform(rewrite)


def inline_settings(tree: exp.Expr, values: Mapping[str, sqlsource.SettingValue]) -> exp.Expr:
    """Each reference to a kpi_settings column through the view's alias becomes the setting's value, so
    that a filter on a setting prunes as a literal one does."""
    aliases = {
        table.alias_or_name for table in tree.find_all(exp.Table) if table.name == sqlsource.KPI_SETTINGS_VIEW
    }

    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and node.table in aliases and node.name in values:
            return sqlglot.parse_one(sqlsource.literal(values[node.name]), read=SOURCE_DIALECT)
        return node

    return tree.transform(rewrite) if aliases else tree


def _date_literal(day: date) -> exp.Expr:
    return exp.cast(exp.Literal.string(day.isoformat()), "DATE")


def check_query(sql: str) -> None:
    """Refuse (QueryRefused) anything but one SELECT / WITH ... SELECT that reads only the tables, the
    views and its own WITH names; unparsable text raises sqlglot's ParseError."""
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


def compacted_files(folder: Path, day: date) -> tuple[Path, ...]:
    """The day's Parquet files: every file of its compacted folder a Hive table reads."""
    day_folder = folder / layout.COMPACTED.day_prefix(day)
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

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.connection.close()

    def translate(self, sql: str | exp.Expr) -> str:
        """An Athena statement for this catalog's DuckDB: the day lists and settings written in."""
        tree = _one_statement(sql) if isinstance(sql, str) else sql
        if self.survey is not None:
            tree = inline_day_lists(
                tree,
                {
                    sqlsource.UNCOMPACTED_DAYS_VIEW: self.survey.uncompacted,
                    sqlsource.MARKERS_TABLE: sorted(self.survey.compacted),
                },
            )
        return to_duckdb(inline_settings(tree, self.settings))


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
        catalog.skipped = _create_tables(connection, found, every_landed_day=reads_json) + tuple(
            SkippedFile(where, why, kind=local_lookups.LINE)
            for where, why in local_lookups.load(connection, found.folder)
        )
        for name in sqlsource.VIEWS:
            statement = sqlsource.view(name, first_day=found.first_day).sql
            if name == sqlsource.KPI_SETTINGS_VIEW:
                statement = sqlsource.kpi_settings_sql(values)
            connection.execute(f"CREATE OR REPLACE VIEW {name} AS {catalog.translate(statement)}")
        if lock:
            # https://duckdb.org/docs/stable/operations_manual/securing_duckdb/overview
            readable = [found.folder / layout.CONVERSATIONS.prefix, found.folder / layout.COMPACTED.prefix]
            connection.execute(
                f"SET allowed_directories = [{', '.join(quote(f'{path}/') for path in readable)}]"
            )
            connection.execute("SET enable_external_access = false")
            connection.execute("SET lock_configuration = true")
    except BaseException:
        connection.close()
        raise
    return catalog


def _tables_read(sql: str) -> set[str]:
    """The tables and views a query reads; every table for text that does not parse (run refuses it)."""
    try:
        return sqlsource.tables_read(sql)
    except sqlglot.errors.SqlglotError:
        return set(sqlsource.TABLES)


def _days_read(sql: str, values: Mapping[str, sqlsource.SettingValue]) -> pruning.DayFilter | None:
    """The days a query's predicates allow (None: every day, or a query that does not parse)."""
    try:
        tree = _one_statement(sql)
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
    connection: duckdb.DuckDBPyConnection, found: Survey, *, every_landed_day: bool = True
) -> tuple[SkippedFile, ...]:
    """The three tables' stand-ins; returns the landed files left out. The landed days the views read
    as JSON are checked file by file; a compacted day's are as its marker says. Without
    `every_landed_day`, conversation_details holds only the days without a marker."""
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
    parquet = _files_union(found.compacted, "read_parquet", columns, empty)
    connection.execute(f"CREATE VIEW {sqlsource.COMPACTED_TABLE} AS {parquet}")
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
