"""`python -m catalog.query` (`make query Q="SELECT ..."`): any Athena-dialect query against the views,
run on DuckDB over the objects the last `make demo` landed (or those under --out).

Exit status: 0 answered; 2 the query named no known view or column, or could not be parsed or
translated (the engine's error and the views are printed), or there is nothing to query yet; 1 the
query failed otherwise.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import duckdb
import sqlglot

from catalog import local, sqlsource

DEFAULT_OUT = Path("out/demo")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m catalog.query",
        description="Run a query (Athena's SQL dialect) against the catalog views over landed conversation "
        "objects, locally on DuckDB. Without a query: list the views, their columns and the KPI queries.",
    )
    parser.add_argument("sql", nargs="?", default="", help='the query, e.g. "SELECT * FROM conversations"')
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"folder the landed objects were exported to ({DEFAULT_OUT})",
    )
    parser.add_argument(
        "--kpi", choices=sorted(sqlsource.KPI_QUERIES), help="run one of the named KPI queries"
    )
    parser.add_argument("--csv", action="store_true", help="print CSV (all rows) instead of a table")
    parser.add_argument("--max-rows", type=int, default=200, help="rows the table shows (default 200)")
    return parser


def _views_text(connection: duckdb.DuckDBPyConnection) -> str:
    lines = ["views (and the details table they read):"]
    for name, columns in local.describe_views(connection).items():
        lines.append(f"  {name}: {', '.join(columns)}")
    lines.append("KPI queries (--kpi NAME):")
    lines += [f"  {name}: {about}" for name, about in sqlsource.KPI_QUERIES.items()]
    return "\n".join(lines)


def _write_csv(result: local.Result, stream: TextIO) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(result.columns)
    writer.writerows([local.format_value(value) for value in row] for row in result.rows)


def main(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    parser = _parser()
    args = parser.parse_args(argv)
    if args.sql.strip() and args.kpi:
        parser.error("give either a query or --kpi, not both")
    if args.max_rows < 1:
        parser.error("--max-rows must be positive")
    sql = sqlsource.kpi_query(args.kpi).sql if args.kpi else args.sql.strip()
    try:
        connection = local.connect(args.out)
    except local.NoLandedObjects as error:
        print(f"catalog.query: {error}", file=err)
        return 2
    with connection:
        if not sql:
            print(_views_text(connection), file=out)
            return 0
        try:
            result = local.run(connection, sql)
        except (sqlglot.errors.SqlglotError, duckdb.ParserException) as error:
            print(
                f"catalog.query: the query could not be read: {error}\n\n{_views_text(connection)}", file=err
            )
            return 2
        except (duckdb.CatalogException, duckdb.BinderException) as error:
            print(f"catalog.query: {error}\n\n{_views_text(connection)}", file=err)
            return 2
        except duckdb.Error as error:
            print(f"catalog.query: the query failed: {error}", file=err)
            return 1
    if args.csv:
        _write_csv(result, out)
    else:
        print(local.render(result, max_rows=args.max_rows), file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
