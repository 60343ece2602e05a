"""Partition pruning for the local engine: the days of landed and compacted files a query can need.

Trino (and so Athena) prunes partitions from the query's predicates on conversation_date before it
reads a file, also below the views' UNNEST joins; DuckDB does not push a filter through an UNNEST join.
So catalog.local reads the days a query's own predicates allow, worked out here the way a planner
does: for each place the query reads a table or view that carries conversation_date, the conjuncts of
that SELECT's WHERE that compare its conversation_date with a constant (after the KPI settings are
written in and the expression is simplified), and the union over those places. A place without such a
predicate needs every day, and then so does the query. Only WHERE conjuncts count (never an OR, an ON
clause or a NOT), so reading fewer days never changes a result.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlglot import exp
from sqlglot.optimizer.simplify import simplify

PARTITION_COLUMN = "conversation_date"
DayFilter = Callable[[date], bool]


@dataclass(frozen=True)
class DayRange:
    """Days from `first` to `last` (None: open), and, when `only` is set, only those."""

    first: date | None = None
    last: date | None = None
    only: frozenset[date] | None = None

    def allows(self, day: date) -> bool:
        if self.first is not None and day < self.first:
            return False
        if self.last is not None and day > self.last:
            return False
        return self.only is None or day in self.only

    def narrowed(self, other: DayRange) -> DayRange:
        firsts = [d for d in (self.first, other.first) if d is not None]
        lasts = [d for d in (self.last, other.last) if d is not None]
        sets = [s for s in (self.only, other.only) if s is not None]
        only = frozenset.intersection(*sets) if sets else None
        return DayRange(max(firsts, default=None), min(lasts, default=None), only)


def days_read(tree: exp.Expr, file_relations: Collection[str]) -> DayFilter | None:
    """The days the query in `tree` reads of the relations in `file_relations` (the ones whose rows come
    from files), or None when it may read every day."""
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    ranges: list[DayRange] = []
    for table in tree.find_all(exp.Table):
        if table.name not in file_relations or table.name in ctes:
            continue
        select = table.find_ancestor(exp.Select)
        found = _range_of(table, select) if select is not None else None
        if found is None:
            return None
        ranges.append(found)
    if not ranges:
        return None
    return lambda day: any(found.allows(day) for found in ranges)


def _range_of(table: exp.Table, select: exp.Select) -> DayRange | None:
    where = select.args.get("where")
    if where is None:
        return None
    alias = table.alias_or_name
    sole = len([t for t in _from_tables(select) if t.name != "kpi_settings"]) == 1
    found: DayRange | None = None
    for conjunct in _conjuncts(simplify(where.this.copy())):
        narrowing = _narrowing(conjunct, alias, sole)
        if narrowing is not None:
            found = narrowing if found is None else found.narrowed(narrowing)
    return found


def _from_tables(select: exp.Select) -> list[exp.Table]:
    sources = [select.args.get("from_") or select.args.get("from")]
    sources += list(select.args.get("joins") or [])
    return [source.this for source in sources if source is not None and isinstance(source.this, exp.Table)]


def _conjuncts(node: exp.Expr) -> list[exp.Expr]:
    if isinstance(node, exp.And):
        return _conjuncts(node.left) + _conjuncts(node.right)
    if isinstance(node, exp.Paren):
        return _conjuncts(node.this)
    return [node]


def _is_partition(node: exp.Expr, alias: str, sole: bool) -> bool:
    while isinstance(node, exp.Cast):  # CAST(x.conversation_date AS DATE)
        node = node.this
    return (
        isinstance(node, exp.Column)
        and node.name == PARTITION_COLUMN
        and (node.table == alias or (not node.table and sole))
    )


def _narrowing(conjunct: exp.Expr, alias: str, sole: bool) -> DayRange | None:
    """The days one conjunct allows, if it compares the table's partition column with constants."""
    if isinstance(conjunct, exp.Between) and _is_partition(conjunct.this, alias, sole):
        low, high = _day(conjunct.args.get("low")), _day(conjunct.args.get("high"))
        return DayRange(low, high) if low is not None and high is not None else None
    if (
        isinstance(conjunct, exp.In)
        and _is_partition(conjunct.this, alias, sole)
        and not conjunct.args.get("query")
    ):
        days = [_day(item) for item in conjunct.expressions]
        return DayRange(only=frozenset(d for d in days if d is not None)) if None not in days else None
    if not isinstance(conjunct, exp.EQ | exp.GTE | exp.GT | exp.LTE | exp.LT):
        return None
    left, right = conjunct.left, conjunct.right
    flipped = not _is_partition(left, alias, sole)
    if flipped:
        left, right = right, left
    if not _is_partition(left, alias, sole):
        return None
    day = _day(right)
    if day is None:
        return None
    if isinstance(conjunct, exp.EQ):
        return DayRange(day, day)
    # constant < column is column > constant; a strict bound keeps its day (one day too many at most)
    at_least = isinstance(conjunct, exp.GTE | exp.GT) != flipped
    return DayRange(first=day) if at_least else DayRange(last=day)


def _day(node: exp.Expr | None) -> date | None:
    """A constant day: a string or DATE literal, or a CAST of one (what simplify leaves)."""
    while isinstance(node, exp.Cast | exp.TryCast):
        node = node.this
    if not isinstance(node, exp.Literal) or not node.is_string:
        return None
    try:
        return datetime.fromisoformat(node.this).date()
    except ValueError:
        return None
