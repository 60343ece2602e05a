"""`python -m catalog.query` (`make query Q="SELECT ..."`): one Athena-dialect SELECT against the views,
run on DuckDB over the objects the last `make demo` landed (or those under --out).

Landed files that are not conversation objects are skipped and named on stderr. Exit status: 0
answered; 2 the query is not one SELECT over the views, named no known view or column, or could not
be parsed or translated (the engine's error and the views are printed), --out or --setting is not
usable, or there is nothing to query yet; 1 the query failed otherwise.
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

from catalog import dialect, local, render, sqlsource

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
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a KPI setting for this run (the kpi_settings view): "
        + ", ".join(f"{s.name} (default {s.default})" for s in sqlsource.KPI_SETTINGS),
    )
    return parser


def _settings(
    parser: argparse.ArgumentParser, assignments: Sequence[str]
) -> dict[str, sqlsource.SettingValue]:
    """--setting NAME=VALUE, each VALUE read as its setting's type; anything else is a usage error."""
    defaults = {setting.name: setting.default for setting in sqlsource.KPI_SETTINGS}
    settings: dict[str, sqlsource.SettingValue] = {}
    for assignment in assignments:
        name, _, text = assignment.partition("=")
        default = defaults.get(name.strip())
        if default is None:
            parser.error(f"--setting {assignment!r}: settings are {', '.join(defaults)}")
        value: sqlsource.SettingValue = text
        if isinstance(default, bool):
            if text.lower() not in ("true", "false"):
                parser.error(f"--setting {assignment!r}: {name} is true or false")
            value = text.lower() == "true"
        elif isinstance(default, int):
            if not text.isdigit():
                parser.error(f"--setting {assignment!r}: {name} is a whole number of seconds")
            value = int(text)
        elif name.strip() in sqlsource.DAY_SETTINGS and text and not sqlsource.is_day(text):
            parser.error(f"--setting {assignment!r}: {name} is a day written YYYY-MM-DD (or nothing)")
        settings[name.strip()] = value
    return settings


def _views_text(catalog: local.Catalog, out_dir: Path) -> str:
    """Every view and its columns: from `catalog` if it has them all, else from one that does (a
    catalog made for one query holds only the views that query reads)."""
    if catalog.views < set(sqlsource.VIEWS):
        with local.connect(out_dir, settings=catalog.settings) as every_view:
            return _views_text(every_view, out_dir)
    lines = ["views (and the details table they read):"]
    for name, columns in local.describe_views(catalog).items():
        lines.append(f"  {name}: {', '.join(columns)}")
    lines.append("KPI queries (--kpi NAME):")
    lines += [f"  {name}: {about}" for name, about in sqlsource.KPI_QUERIES.items()]
    return "\n".join(lines)


def _write_csv(result: local.Result, stream: TextIO) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(result.columns)
    writer.writerows([render.format_value(value) for value in row] for row in result.rows)


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
    settings = _settings(parser, args.setting)
    sql = sqlsource.kpi_query(args.kpi).sql if args.kpi else args.sql.strip()
    try:
        catalog = local.connect(args.out, settings=settings, query=sql or None)
    except (local.NoLandedObjects, local.FolderRefused, local.SettingRefused) as error:
        print(f"catalog.query: {error}", file=err)
        return 2
    with catalog:
        skipped = render.skipped_text(catalog.skipped)
        if skipped:
            print(f"catalog.query: {skipped}", file=err)
        if not sql:
            print(_views_text(catalog, args.out), file=out)
            return 0
        try:
            result = local.run(catalog, sql)
        except dialect.QueryRefused as error:
            print(f"catalog.query: the query was refused: {error}", file=err)
            return 2
        except (sqlglot.errors.SqlglotError, duckdb.ParserException) as error:
            print(
                f"catalog.query: the query could not be read: {error}\n\n{_views_text(catalog, args.out)}",
                file=err,
            )
            return 2
        except (duckdb.CatalogException, duckdb.BinderException) as error:
            print(f"catalog.query: {error}\n\n{_views_text(catalog, args.out)}", file=err)
            return 2
        except duckdb.Error as error:
            print(f"catalog.query: the query failed: {error}", file=err)
            return 1
    if args.csv:
        _write_csv(result, out)
    else:
        print(render.render(result, max_rows=args.max_rows), file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
