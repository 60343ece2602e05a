"""Athena's SQL on DuckDB: the views' and queries' Trino text translated by sqlglot, the constants the
local engine writes into it (day lists, KPI settings), and the check that a user's text is one SELECT
over the views. catalog.local runs what this module returns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import sqlglot
from sqlglot import exp

from catalog import sqlsource

# Athena's dialect is Trino's (engine version 3); sqlglot reads it as "trino".
SOURCE_DIALECT = "trino"


class QueryRefused(ValueError):
    """The text is not one SELECT (or WITH ... SELECT) over the views."""


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
    tree = one_statement(sql) if isinstance(sql, str) else sql
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


def one_statement(sql: str) -> exp.Expr:
    trees = [tree for tree in sqlglot.parse(sql, read=SOURCE_DIALECT) if tree is not None]
    if len(trees) != 1:
        raise sqlglot.errors.ParseError(f"expected one SQL statement, got {len(trees)}")
    return trees[0]


def inline_day_lists(tree: exp.Expr, days: Mapping[str, Sequence[date]], *, copy: bool = True) -> exp.Expr:
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

    return tree.transform(rewrite, copy=copy)


def inline_settings(
    tree: exp.Expr, values: Mapping[str, sqlsource.SettingValue], *, copy: bool = True
) -> exp.Expr:
    """Each reference to a kpi_settings column through the view's alias becomes the setting's value, so
    that a filter on a setting prunes as a literal one does."""
    aliases = {
        table.alias_or_name for table in tree.find_all(exp.Table) if table.name == sqlsource.KPI_SETTINGS_VIEW
    }

    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and node.table in aliases and node.name in values:
            return sqlglot.parse_one(sqlsource.literal(values[node.name]), read=SOURCE_DIALECT)
        return node

    return tree.transform(rewrite, copy=copy) if aliases else tree


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
