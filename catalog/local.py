"""The views on DuckDB over landed objects on disk (`make demo`'s out/demo), translated by sqlglot.

The Glue table's local stand-in is generated from catalog.schema (DuckDB reads each object with
json_transform, which, like Hive's JSON SerDe, skips keys the schema does not know); every view and
query on top is catalog/sql's Athena text, translated to DuckDB's dialect and run unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

from catalog import schema, sqlsource
from catalog.sqlsource import DETAILS_TABLE
from genesys_bridge import layout

# Athena's dialect is Trino's (engine version 3); sqlglot reads it as "trino".
SOURCE_DIALECT = "trino"


class NoLandedObjects(FileNotFoundError):
    """The folder holds no landed conversation objects (yet)."""


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


def to_duckdb(sql: str) -> str:
    """One Athena (Trino) statement in DuckDB's dialect; raises sqlglot's errors for what it cannot
    translate faithfully instead of guessing."""
    trees = [tree for tree in sqlglot.parse(sql, read=SOURCE_DIALECT) if tree is not None]
    if len(trees) != 1:
        raise sqlglot.errors.ParseError(f"expected one SQL statement, got {len(trees)}")
    return _drop_identity_finish(trees[0]).sql(
        dialect="duckdb", unsupported_level=sqlglot.ErrorLevel.RAISE, pretty=False
    )


def quote(text: str) -> str:
    """A DuckDB string literal."""
    return "'" + text.replace("'", "''") + "'"


def details_relation_sql(out_dir: Path) -> str:
    """DuckDB's stand-in for the Glue table: the schema's columns, the partition column read from the
    key, and Athena's hidden "$path" / "$file_modified_time" from the file."""
    files = layout.CONVERSATIONS
    pattern = str(out_dir.resolve() / files.local_glob())
    column = files.partition_column
    # Only the repository's own names and quoted literals go into this text.
    return (
        f"CREATE OR REPLACE VIEW {DETAILS_TABLE} AS SELECT "  # noqa: S608
        f"unnest(json_transform(content, {quote(schema.duckdb_structure_json())})), "
        f"regexp_extract(filename, {quote(column + '=([^/]+)/')}, 1) AS {column}, "
        'filename AS "$path", last_modified AS "$file_modified_time" '
        f"FROM read_text({quote(pattern)})"
    )


def landed_objects(out_dir: Path) -> list[Path]:
    return sorted(out_dir.glob(layout.CONVERSATIONS.local_glob()))


def connect(out_dir: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the details table and every view over the objects under out_dir."""
    if not landed_objects(out_dir):
        raise NoLandedObjects(
            f"no landed conversations under {out_dir / layout.CONVERSATIONS.prefix}: run `make demo` first "
            f"(or point --out at a folder that holds {layout.CONVERSATIONS.local_glob()})"
        )
    connection = duckdb.connect(":memory:")
    # Athena shows timestamps in UTC; so does this.
    connection.execute("SET TimeZone = 'UTC'")
    # Results are printed, and a progress bar would land in them (or in a script's stderr).
    connection.execute("SET enable_progress_bar = false")
    connection.execute(details_relation_sql(out_dir))
    for name in sqlsource.VIEWS:
        connection.execute(f"CREATE OR REPLACE VIEW {name} AS {_view_in_duckdb(name)}")
    return connection


@cache
def _view_in_duckdb(name: str) -> str:
    return to_duckdb(sqlsource.view(name).sql)


@dataclass(frozen=True)
class Result:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def run(connection: duckdb.DuckDBPyConnection, sql: str) -> Result:
    cursor = connection.execute(to_duckdb(sql))
    return Result([column[0] for column in cursor.description or []], cursor.fetchall())


def run_query(out_dir: Path, sql: str) -> Result:
    """Run one Athena-dialect query against the views over out_dir's landed objects."""
    with connect(out_dir) as connection:
        return run(connection, sql)


def describe_views(connection: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Each view (and the details table) with its column names, as a user can query them."""
    described = {}
    for name in (DETAILS_TABLE, *sqlsource.VIEWS):
        cursor = connection.execute(f"SELECT * FROM {name} LIMIT 0")  # noqa: S608 (our own view names)
        described[name] = [column[0] for column in cursor.description or []]
    return described


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


def kpi_summary(out_dir: Path) -> str:
    """Per day: conversations, average handle time, abandon rate and top wrap-up codes, computed
    through the views over the objects landed under out_dir (what `make demo` prints last)."""
    try:
        result = run_query(out_dir, sqlsource.kpi_query("daily_summary").sql)
    except NoLandedObjects as error:
        return f"KPIs: {error}"
    except duckdb.Error as error:  # e.g. an object that is not JSON: the run's own verdict stands
        return f"KPIs: the catalog views could not read {out_dir}: {error}"
    return (
        "KPIs per day through the catalog views (catalog/sql/kpi/daily_summary.sql; "
        'more with `make query Q="SELECT ..."`):\n' + render(result, max_width=90)
    )
