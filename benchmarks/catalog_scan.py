"""Figure 8: what each KPI query reads per million conversations, as landed (one JSON object each) and
compacted (the view it reads written as one Parquet file per day), to show when compaction pays.

Measured, not assumed: simulator bodies are landed in result_key's layout; each KPI query runs through
the catalog views on DuckDB over those objects, then over the same conversations compacted the way a
nightly Athena CTAS/INSERT of the view it reads would write them; DuckDB's profiler reports the bytes
each run read from files. Figures are scaled linearly to 1,000,000 conversations over `days` days.

How they carry over to Athena, which bills bytes scanned (https://aws.amazon.com/athena/pricing/):
- JSON: Athena's JSON SerDe reads whole objects and the views' one-row-per-conversation window looks
  across days, so every query reads every object: bytes = all bodies, objects = conversations (one
  S3 GET each).
- Parquet: a columnar file is read column by column, and Athena, like DuckDB, reads only the columns a
  query names: bytes = the compressed column chunks of the columns DuckDB's plan scanned (from
  parquet_metadata) plus each file's footer, objects = one per day.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from benchmarks.table import Row

MILLION = 1_000_000
DEFAULT_DAYS = 30
DIVISION_ID = "5a1f3c2e-0d4b-4e8a-9c7f-2b6d1e0a9f34"


@dataclass(frozen=True)
class QueryScan:
    name: str
    json_bytes: int  # read by DuckDB from the landed JSON objects (whole objects)
    parquet_column_bytes: int  # the compressed column chunks of the columns the query's scans read
    parquet_scans: int  # table scans in its plan (each also reads every file's footer)


@dataclass(frozen=True)
class CatalogScan:
    conversations: int
    days_landed: int
    json_total_bytes: int
    parquet_total_bytes: int
    parquet_footer_bytes: int  # per file on average: what is not column data
    files_per_day: float  # Parquet files the compaction wrote per day
    queries: list[QueryScan]

    def per_million(self, measured: float) -> float:
        return measured * MILLION / self.conversations

    def parquet_per_million(self, query: QueryScan, days: int) -> float:
        """Column data grows with the conversations; footers with the files (one a day)."""
        files = days * self.files_per_day
        return (
            self.per_million(query.parquet_column_bytes)
            + query.parquet_scans * files * self.parquet_footer_bytes
        )


def _profile(connection: Any, name: str, profile: Path) -> dict[str, Any]:
    """DuckDB's JSON profile of running the KPI query `name` (the Athena text, translated)."""
    from catalog import local, sqlsource

    connection.execute("PRAGMA enable_profiling = 'json'")
    connection.execute(f"PRAGMA profiling_output = '{profile}'")
    connection.execute(local.to_duckdb(sqlsource.kpi_query(name).sql)).fetchall()
    connection.execute("PRAGMA disable_profiling")
    return dict(json.loads(profile.read_text(encoding="utf-8")))


def _parquet_scans(node: dict[str, Any], columns: Sequence[str]) -> list[set[str]]:
    """The columns each Parquet scan of a profiled plan read: its projections and filtered columns."""
    scans = []
    info = node.get("extra_info") or {}
    if info.get("Function") == "READ_PARQUET":
        projections = info.get("Projections") or []
        read = set([projections] if isinstance(projections, str) else projections)
        filters = json.dumps(info.get("Filters") or "")
        read |= {column for column in columns if re.search(rf"\b{re.escape(column)}\b", filters)}
        scans.append(read & set(columns))
    for child in [*node.get("children", []), *node.get("operator", [])]:
        scans += _parquet_scans(child, columns)
    return scans


def _land(folder: Path, conversations: int, days: int) -> int:
    """Simulator bodies over `days` days in result_key's layout; the bytes written."""
    from genesys_bridge.layout import result_key, serialize
    from genesys_simulator import render_details, synthetic_conversations

    total = 0
    for conversation in synthetic_conversations(
        conversations, seed=8, spacing_s=days * 86_400 / conversations
    ):
        body = render_details(conversation, ended=True, division_id=DIVISION_ID)
        path = folder / result_key(body)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = serialize(body)
        path.write_bytes(data)
        total += len(data)
    return total


def measure(
    conversations: int = 2000, *, days: int = DEFAULT_DAYS, workdir: Path | None = None
) -> CatalogScan:
    """Land `conversations` bodies over `days` days, compact them, run every KPI query on both."""
    import duckdb

    from catalog import local, local_lookups, sqlsource
    from genesys_bridge import layout

    names = list(sqlsource.KPI_QUERIES)
    skip = {sqlsource.KPI_SETTINGS_VIEW, *sqlsource.LOOKUP_VIEWS}  # the names: no conversation data
    view_read = {n: min(sqlsource.tables_read(sqlsource.kpi_query(n).sql) - skip) for n in names}
    views = sorted(set(view_read.values()))
    with tempfile.TemporaryDirectory(prefix="catalog-scan-", dir=workdir) as scratch:
        landed, profile = Path(scratch, "landed"), Path(scratch, "profile.json")
        json_total = _land(landed, conversations, days)
        with local.connect(landed, lock=False) as landed_db:  # unlocked: each query reads the files
            json_reads = {
                n: int(_profile(landed_db.connection, n, profile)["io"]["total_bytes_read"]) for n in names
            }
            for view in views:  # one file per day, as a nightly compaction of each view would write it
                landed_db.connection.execute(
                    f"COPY (SELECT * FROM {view}) TO {local.quote(str(Path(scratch, view)))} "  # noqa: S608
                    f"(FORMAT parquet, PARTITION_BY ({layout.COMPACTED.partition_column}))"
                )
        files = sorted(Path(scratch).rglob("*.parquet"))
        days_landed = len({path.parent.name for path in files})
        parquet_total = sum(path.stat().st_size for path in files)
        with duckdb.connect(":memory:") as connection:
            connection.execute("SET enable_progress_bar = false")
            connection.execute("SET TimeZone = 'UTC'")
            settings = local.to_duckdb(sqlsource.view(sqlsource.KPI_SETTINGS_VIEW).sql)
            connection.execute(f"CREATE VIEW {sqlsource.KPI_SETTINGS_VIEW} AS {settings}")
            local_lookups.load(connection, landed)  # no snapshots landed: the KPIs' names stay empty
            for lookup_view in sqlsource.LOOKUP_VIEWS:
                lookup_sql = local.to_duckdb(sqlsource.view(lookup_view).sql)
                connection.execute(f"CREATE VIEW {lookup_view} AS {lookup_sql}")
            chunk_bytes: dict[str, dict[str, int]] = {}
            for view in views:
                pattern = local.quote(str(Path(scratch, view, "*", "*.parquet")))
                connection.execute(f"CREATE VIEW {view} AS FROM read_parquet({pattern}, hive_partitioning=1)")
                chunk_bytes[view] = dict(
                    connection.execute(
                        f"SELECT split_part(path_in_schema, ', ', 1), sum(total_compressed_size) "  # noqa: S608
                        f"FROM parquet_metadata({pattern}) GROUP BY 1"
                    ).fetchall()
                )
            queries = []
            for name in names:
                chunks = chunk_bytes[view_read[name]]
                scans = _parquet_scans(_profile(connection, name, profile), list(chunks))
                column_bytes = sum(chunks[column] for scan in scans for column in scan)
                queries.append(QueryScan(name, json_reads[name], int(column_bytes), len(scans)))
    columns_total = int(sum(sum(chunks.values()) for chunks in chunk_bytes.values()))
    return CatalogScan(
        conversations=conversations,
        days_landed=days_landed,
        json_total_bytes=json_total,
        parquet_total_bytes=parquet_total,
        parquet_footer_bytes=(parquet_total - columns_total) // max(len(files), 1),
        files_per_day=len(files) / max(days_landed, 1) / len(views),
        queries=queries,
    )


def _size(size_bytes: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size_bytes >= scale:
            return f"{size_bytes / scale:.1f} {unit}"
    return f"{size_bytes:.0f} B"


def rows_of(scan: CatalogScan, days: int = DEFAULT_DAYS) -> list[Row]:
    """Figure 8 of `make bench`: one row per KPI query."""
    rows = []
    for query in scan.queries:
        json_bytes = scan.per_million(query.json_bytes)
        parquet_bytes = scan.parquet_per_million(query, days)
        rows.append(
            Row(
                "8",
                f"KPI query {query.name}: read per 1M conversations",
                f"JSON {_size(json_bytes)} in {MILLION:,} objects; Parquet {_size(parquet_bytes)} in"
                f" {days * scan.files_per_day:g} objects"
                f" ({json_bytes / max(parquet_bytes, 1):,.0f}x fewer bytes)",
                reference="as landed (a JSON object per conversation) vs compacted (a Parquet file per day)",
            )
        )
    mean_body = scan.json_total_bytes / scan.conversations
    note = (
        f"Figure 8: {scan.conversations} simulator bodies (mean {mean_body:,.0f} B of JSON) landed over"
        f" {scan.days_landed} days; each KPI query ran through the catalog views on DuckDB over the"
        " objects, then over the view it reads (session_metrics, segments) compacted to one Parquet file"
        f" per day ({_size(scan.per_million(scan.parquet_total_bytes))} per 1M for both). JSON: the bytes"
        " DuckDB read; Parquet: the compressed chunks of the columns its plan scanned, plus footers."
        f" Scaled to 1M conversations over {days} days. On Athena every query of the JSON reads every"
        " object (whole, one GET each), of the Parquet only the columns it names."
    )
    rows[-1] = replace(rows[-1], note=note)
    return rows


def catalog_rows(conversations: int = 2000, *, days: int = DEFAULT_DAYS) -> list[Row]:
    return rows_of(measure(conversations, days=days), days)
