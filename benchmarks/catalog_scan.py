"""Figure 8: what a KPI query reads and costs on Athena per million conversations, as landed (a JSON object
each) and compacted (a day's conversations in one Parquet file, catalog.compact), what the compaction
itself costs, and how long queue_performance takes locally over the same objects, before and after.

Measured in one run: simulator bodies landed in result_key's layout, each KPI query run through the
catalog views on DuckDB over them, every day compacted with the catalog's own compaction, each query
run again. How it carries over to Athena, which bills bytes scanned (at least 10 MB a query) and S3
its GETs (https://aws.amazon.com/athena/pricing/):
- JSON: the JSON SerDe reads whole objects, one GET each: the bytes DuckDB read, every object a GET.
- Parquet: Trino (Athena's engine) prunes the fields of a ROW column but not those of the rows inside
  an ARRAY (https://trino.io/docs/current/optimizer/pushdown.html, "Dereference pushdown"), so a query
  reads every column chunk under each top-level column its plan reads of each compacted dataset
  (conversations, session metrics, segments; of the conversations' participants: all of it), each file's
  footer, and each day's marker (a GET a day).
- Compaction: the conversations' UNLOAD reads the day's JSON as a query of it does; the flat datasets'
  UNLOADs read the day's compacted conversationId and participants; each writes a file a day. The audit
  function's own requests for it are in figure 9.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks.cost import CostBreakdown, CostLine, Prices
from benchmarks.table import Row, Verdict, fmt_seconds
from genesys_bridge import layout

MILLION = 1_000_000
DEFAULT_DAYS = 30
LOCAL_CONVERSATIONS = 60_000
# The goals of docs/benchmarks.md, "Targets".
MONTH_QUERY_MAX_BYTES, MONTH_QUERY_MAX_OBJECTS = 100_000_000, 100
LOCAL_SPEEDUP_MIN, LOCAL_ONE_DAY_SHARE_MAX = 5.0, 0.2
ALL_DAYS, ONE_DAY, NO_DAY = "all days", "one day", "no day"


@dataclass(frozen=True)
class CatalogScan:
    conversations: int
    days: int  # days landed
    json_total_bytes: int
    parquet_total_bytes: int
    parquet_footer_bytes: int  # per file on average: what is not column data
    # KPI query -> (JSON bytes read, Parquet column chunk bytes read, the compacted datasets' prefixes read)
    reads: dict[str, tuple[int, int, frozenset[str]]]
    flat_source_bytes: int  # what the flat datasets' UNLOADs read of the compacted conversations
    compaction_s: float
    seconds: dict[tuple[str, str], float]  # (JSON | compacted, ALL_DAYS | ONE_DAY | NO_DAY) -> seconds

    def per_million(self, measured: float) -> float:
        return measured * MILLION / self.conversations


def land(folder: Path, conversations: int, days: int) -> int:
    """Simulator bodies over `days` days in result_key's layout; the bytes written."""
    from genesys_bridge.layout import result_key, serialize
    from genesys_simulator import render_details, synthetic_conversations

    total = 0
    for conversation in synthetic_conversations(
        conversations, seed=8, spacing_s=days * 86_400 / conversations
    ):
        body = render_details(conversation, ended=True, division_id="5a1f3c2e-0d4b-4e8a-9c7f-2b6d1e0a9f34")
        path = folder / result_key(body)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data := serialize(body))
        total += len(data)
    return total


def _profile(folder: Path, sql: str, profile: Path) -> dict[str, Any]:
    """DuckDB's JSON profile of one query over the catalog of `folder` (files read at query time)."""
    from catalog import local

    with local.connect(folder, lock=False, query=sql) as catalog:
        catalog.connection.execute(f"PRAGMA enable_profiling = 'json'; PRAGMA profiling_output = '{profile}'")
        catalog.connection.execute(catalog.translate(sql)).fetchall()
        catalog.connection.execute("PRAGMA disable_profiling")
    return dict(json.loads(profile.read_text(encoding="utf-8")))


def _parquet_columns(node: dict[str, Any]) -> set[tuple[str, str]]:
    """(compacted dataset's prefix, top-level column) of what the Parquet scans of a profiled plan read."""
    info, read = node.get("extra_info") or {}, set()
    if info.get("Function") == "READ_PARQUET":
        projections = info.get("Projections") or []
        files = str(info.get("Filename(s)") or "")
        datasets = [d.prefix for d in layout.COMPACTED_DATASETS if f"/{d.prefix}" in files]
        if len(datasets) != 1:
            raise ValueError(f"a Parquet scan of no single compacted dataset: {files!r}")
        columns = [projections] if isinstance(projections, str) else projections
        read = {(datasets[0], column) for column in columns}
    return read.union(
        *(_parquet_columns(child) for child in [*node.get("children", []), *node.get("operator", [])])
    )


def measure(
    conversations: int = LOCAL_CONVERSATIONS, *, days: int = DEFAULT_DAYS, workdir: Path | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> CatalogScan:  # fmt: skip
    """Land the bodies; time queue_performance over every day and over one interval day (the report
    period: that day and the day before) and profile every KPI query; compact; do it again."""
    import duckdb

    from catalog import compact, local, sqlsource

    names, seconds = list(sqlsource.KPI_QUERIES), {}
    with tempfile.TemporaryDirectory(prefix="catalog-scan-", dir=workdir) as scratch:
        folder, profile = Path(scratch, "landed"), Path(scratch, "profile.json")
        json_total = land(folder, conversations, days)
        landed = sorted(local.survey(folder).landed)
        day, before = landed[days // 2].isoformat(), (landed[0] - timedelta(days=10)).isoformat()

        def read(form: str) -> dict[str, dict[str, Any]]:
            for span, settings in (
                (ALL_DAYS, {}),
                (ONE_DAY, {"first_interval_day": day, "last_interval_day": day}),
                # a period before the first day: no file read, what any query costs (connect, translate)
                (NO_DAY, {"first_interval_day": before, "last_interval_day": before}),
            ):
                started = clock()
                local.run_query(folder, sqlsource.kpi_query("queue_performance").sql, settings=settings)
                seconds[(form, span)] = clock() - started
            return {name: _profile(folder, sqlsource.kpi_query(name).sql, profile) for name in names}

        as_json, started = read("JSON"), clock()
        for stale in compact.stale_days(folder):
            compact.compact_day(folder, stale)
        compaction_s = clock() - started
        as_parquet = read("compacted")
        compacted = sorted(local.survey(folder).compacted)
        files = {
            dataset.prefix: [str(p) for day in compacted for p in local.compacted_files(folder, day, dataset)]
            for dataset in layout.COMPACTED_DATASETS
        }
        chunks: dict[tuple[str, str], int] = {}
        with duckdb.connect(":memory:") as connection:
            for prefix, paths in files.items():
                for column, size in connection.execute(
                    "SELECT split_part(path_in_schema, ', ', 1), sum(total_compressed_size) "
                    "FROM parquet_metadata(?) GROUP BY 1",
                    [paths],
                ).fetchall():
                    chunks[(prefix, str(column))] = int(size)
        every_file = [path for paths in files.values() for path in paths]
        parquet_total = sum(Path(path).stat().st_size for path in every_file)
    read_of = {name: _parquet_columns(as_parquet[name]) for name in names}
    return CatalogScan(
        conversations,
        len(compacted),
        json_total,
        parquet_total,
        (parquet_total - sum(chunks.values())) // max(len(every_file), 1),
        {
            name: (
                int(as_json[name]["io"]["total_bytes_read"]),
                sum(chunks.get(read, 0) for read in read_of[name]),
                frozenset(prefix for prefix, _ in read_of[name]),
            )
            for name in names
        },
        sum(chunks.get((layout.COMPACTED.prefix, c), 0) for c in ("conversationId", "participants")),
        compaction_s,
        seconds,
    )


def _size(size_bytes: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size_bytes >= scale:
            return f"{size_bytes / scale:.1f} {unit}"
    return f"{size_bytes:.0f} B"


def athena_usd(scanned_bytes: float, gets: float, prices: Prices) -> str:
    """Athena's bill for a query (at least its minimum scanned) plus S3's for the objects it GETs."""
    return f"${max(scanned_bytes, prices.athena_min_bytes) * prices.athena_byte + gets * prices.s3_get:,.4f}"


def rows_of(scan: CatalogScan, prices: Prices, days: int = DEFAULT_DAYS) -> list[Row]:
    """Figure 8: a row per KPI query over a month of 1M conversations, the compaction, the local times."""
    rows = []
    for name, (json_read, parquet_read, read) in scan.reads.items():
        datasets = len(read)
        parquet_objects = (datasets + 1) * days  # a Parquet file of each dataset read and a marker a day
        json_bytes = scan.per_million(json_read)
        parquet_bytes = scan.per_million(parquet_read) + datasets * days * scan.parquet_footer_bytes
        met = parquet_bytes < MONTH_QUERY_MAX_BYTES and parquet_objects < MONTH_QUERY_MAX_OBJECTS
        rows.append(
            Row(
                "8",
                f"KPI query {name}, a month of 1M conversations",
                f"compacted {_size(parquet_bytes)} in {parquet_objects} objects, "
                f"{athena_usd(parquet_bytes, parquet_objects, prices)}",
                f"JSON {_size(json_bytes)} in {MILLION:,} objects, {athena_usd(json_bytes, MILLION, prices)}",
                f"< {_size(MONTH_QUERY_MAX_BYTES)}, < {MONTH_QUERY_MAX_OBJECTS} objects",
                Verdict.of(met),
            )
        )
    json_bytes, s = scan.per_million(scan.json_total_bytes), scan.seconds
    flat_bytes, files = scan.per_million(scan.flat_source_bytes), len(layout.COMPACTED_DATASETS) * days
    rows.append(
        Row(
            "8",
            "Compaction of 1M conversations, each pass (Athena's UNLOADs)",
            f"${pass_usd(scan, prices, days):,.4f}",
            f"reads {_size(json_bytes)} in {MILLION:,} GETs, and {_size(flat_bytes)} of Parquet twice;"
            f" writes {files} files",
            note=f"Figure 8: {scan.conversations:,} simulator bodies (mean"
            f" {scan.json_total_bytes / scan.conversations:,.0f} B of JSON) over {scan.days} days, each day"
            " compacted by catalog.compact to a Parquet file of conversations, one of session metrics and"
            " one of segments"
            f" ({_size(scan.per_million(scan.parquet_total_bytes))} per 1M,"
            f" {scan.parquet_footer_bytes:,} B of footer each); every KPI query run through the catalog"
            f" views on DuckDB over both. Scaled to 1M conversations over {days} days. JSON: the bytes DuckDB"
            " read, an object a GET; compacted: every column chunk under the top-level columns the plan read"
            " (Athena does not prune inside arrays), footers, and a marker GET a day. Athena bills at least"
            " 10 MB a query. A day is compacted after its audit and after its finalization: two passes.",
        )
    )
    speedup = s[("JSON", ALL_DAYS)] / s[("compacted", ALL_DAYS)]
    share = s[("compacted", ONE_DAY)] / s[("compacted", ALL_DAYS)]
    rows.append(
        Row(
            "8",
            f"Local queue_performance over {scan.conversations:,} objects, all days",
            f"compacted {fmt_seconds(s[('compacted', ALL_DAYS)])} ({speedup:.1f}x faster)",
            f"JSON {fmt_seconds(s[('JSON', ALL_DAYS)])}",
            f">= {LOCAL_SPEEDUP_MIN:g}x faster compacted",
            Verdict.of(speedup >= LOCAL_SPEEDUP_MIN),
        )
    )
    rows.append(
        Row(
            "8",
            "Local queue_performance, one interval day (reads it and the day before)",
            f"compacted {fmt_seconds(s[('compacted', ONE_DAY)])} ({share:.0%} of all days)",
            f"JSON {fmt_seconds(s[('JSON', ONE_DAY)])}"
            f" ({s[('JSON', ONE_DAY)] / s[('JSON', ALL_DAYS)]:.0%} of all days)",
            f"<= {LOCAL_ONE_DAY_SHARE_MAX:.0%} of all days (compacted)",
            Verdict.of(share <= LOCAL_ONE_DAY_SHARE_MAX),
            note="Local times: single runs of what `python -m catalog.query --kpi queue_performance` does"
            " (connect, query) over those objects, as JSON, then after `python -m catalog.compact` compacted"
            " every day"
            f" ({fmt_seconds(scan.compaction_s)}). A period before the first day, which reads no file,"
            f" takes {fmt_seconds(s[('compacted', NO_DAY)])} compacted"
            f" ({fmt_seconds(s[('JSON', NO_DAY)])} as JSON):"
            " what any query costs before it reads a day (DuckDB's set-up and the views' translation), part"
            " of both the one-day and the all-days time.",
        )
    )
    return rows


def billed_pass_bytes(scan: CatalogScan, prices: Prices, days: int = DEFAULT_DAYS) -> float:
    """Athena's billed bytes of one compaction pass over a month of 1M conversations: each day, the
    conversations' UNLOAD over its JSON and each flat dataset's over its compacted conversations, each
    UNLOAD billed at least Athena's minimum."""
    flats = len(layout.COMPACTED_DATASETS) - 1
    per_day = [scan.per_million(scan.json_total_bytes) / days] + [
        scan.per_million(scan.flat_source_bytes) / days
    ] * flats
    return days * sum(max(scanned, prices.athena_min_bytes) for scanned in per_day)


def pass_usd(scan: CatalogScan, prices: Prices, days: int = DEFAULT_DAYS) -> float:
    """One compaction pass: its billed bytes and the GETs of every landed object."""
    return billed_pass_bytes(scan, prices, days) * prices.athena_byte + MILLION * prices.s3_get


def compaction_cost(scan: CatalogScan, prices: Prices, days: int = DEFAULT_DAYS) -> CostBreakdown:
    """Figure 7's compaction part: two passes a day (after the audit, after the finalization), each an
    UNLOAD that reads every landed object of the day and writes a Parquet file, then one per flat dataset
    that reads the day's compacted conversations and writes its file, and a marker."""
    passes = 2
    scanned = passes * billed_pass_bytes(scan, prices, days)
    gets, puts = passes * MILLION, passes * (len(layout.COMPACTED_DATASETS) + 1) * days
    return CostBreakdown(
        [
            CostLine("Athena bytes scanned", scanned, scanned * prices.athena_byte),
            CostLine("S3 GETs (compaction)", gets, gets * prices.s3_get),
            CostLine("S3 PUTs (compaction)", puts, puts * prices.s3_put),
        ],
        notes=[
            "compaction: Athena's bytes and S3 requests of two UNLOAD passes a day, from figure 8's measured"
            " JSON bytes; its workflow steps are in the audit's and finalize's transitions"
        ],
    )


def catalog_rows(
    conversations: int = LOCAL_CONVERSATIONS,
    *,
    prices: Prices,
    days: int = DEFAULT_DAYS,
    costs: dict[str, CostBreakdown] | None = None,
) -> list[Row]:
    """Figure 8's rows; with costs, also figure 7's compaction part."""
    scan = measure(conversations, days=days)
    if costs is not None:
        costs["compaction"] = compaction_cost(scan, prices, days)
    return rows_of(scan, prices, days)
