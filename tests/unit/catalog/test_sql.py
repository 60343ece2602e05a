"""One SQL source: Athena's text, translated faithfully to DuckDB or refused, never rewritten by hand."""

from __future__ import annotations

import pytest
import sqlglot

from catalog import dialect, sqlsource


@pytest.mark.parametrize("name", sqlsource.VIEWS)
def test_each_view_is_athena_sql_that_translates_to_duckdb(name: str) -> None:
    sql = sqlsource.view(name).sql

    # Athena's dialect (Trino) parses it, and it translates with nothing sqlglot would have to drop
    assert sqlglot.parse_one(sql, read="trino").find(sqlglot.exp.Select) is not None
    assert isinstance(sqlglot.parse_one(dialect.to_duckdb(sql), read="duckdb"), sqlglot.exp.Query)


@pytest.mark.parametrize("name", sorted(sqlsource.KPI_QUERIES))
def test_each_kpi_query_reads_only_the_views(name: str) -> None:
    tree = sqlglot.parse_one(sqlsource.kpi_query(name).sql, read="trino")
    ctes = {cte.alias for cte in tree.find_all(sqlglot.exp.CTE)}
    tables = {table.name for table in tree.find_all(sqlglot.exp.Table)} - ctes

    assert tables
    assert tables <= set(sqlsource.NORMALIZED_VIEWS)
    assert dialect.to_duckdb(sqlsource.kpi_query(name).sql)


def test_views_read_only_the_tables_and_views_created_before_them() -> None:
    created: set[str] = set(sqlsource.TABLES)
    for name in sqlsource.VIEWS:
        tree = sqlglot.parse_one(sqlsource.view(name).sql, read="trino")
        # UNNEST aliases are not tables; named tables are
        tables = {table.name for table in tree.find_all(sqlglot.exp.Table) if table.name}
        assert tables <= created, f"{name} reads {tables - created} before it exists"
        created.add(name)


def test_the_views_a_query_needs_are_exactly_those_it_reads_through_the_others() -> None:
    # Given each view's reads (views and tables) as sqlglot finds them in its parsed SQL, followed
    # through the views read
    relations = set(sqlsource.VIEWS + sqlsource.TABLES)
    parsed = {name: sqlsource.tables_read(sqlsource.view(name).sql) & relations for name in sqlsource.VIEWS}

    def through(name: str) -> set[str]:
        return {name}.union(*(through(other) if other in parsed else {other} for other in parsed[name]))

    # Then the catalog's cheap reading of the text (no parse) finds the same, no more, no fewer
    for name in sqlsource.VIEWS:
        assert sqlsource.relations_needed([name]) == through(name), name
    # And a KPI query needs its views and what they read, not the views it never touches
    kpi = sqlsource.kpi_query("queue_performance").sql
    needed = sqlsource.relations_needed(sqlsource.tables_read(kpi)) & set(sqlsource.VIEWS)
    assert needed == {
        "session_metrics",
        "conversation_details_uncompacted",
        "conversation_details_landed",
        "uncompacted_days",
        "kpi_settings",
        "queue_service_levels",
        "queues",
    }


def test_the_statements_athena_runs_create_each_view_in_order_without_comment_lines() -> None:
    statements = sqlsource.create_view_statements()

    assert [name for name, _ in statements] == list(sqlsource.VIEWS)
    for name, statement in statements:
        assert statement.startswith(f"CREATE OR REPLACE VIEW {name} AS\nSELECT")
        assert not any(line.lstrip().startswith("--") for line in statement.splitlines())
        # still one statement Athena's dialect reads
        assert isinstance(sqlglot.parse_one(statement, read="trino"), sqlglot.exp.Create)


def test_a_trino_construct_duckdb_cannot_express_is_refused_not_guessed() -> None:
    # reduce() with an output function that is not the identity has no DuckDB equivalent
    with pytest.raises(sqlglot.errors.UnsupportedError):
        dialect.to_duckdb("SELECT reduce(ARRAY[1, 2], 0, (s, x) -> s + x, s -> s * 10)")
    # the identity output function is dropped, which changes nothing
    assert "LIST_REDUCE" in dialect.to_duckdb("SELECT reduce(ARRAY[1, 2], 0, (s, x) -> s + x, s -> s)")


def test_more_than_one_statement_is_refused() -> None:
    with pytest.raises(sqlglot.errors.ParseError):
        dialect.to_duckdb("SELECT 1; SELECT 2")
