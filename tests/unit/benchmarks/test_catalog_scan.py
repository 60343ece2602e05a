"""Figure 8 measures what each KPI query reads as landed JSON and as compacted Parquet, and times the
local query over the same objects before and after compaction."""

from __future__ import annotations

from pathlib import Path

from benchmarks import catalog_scan
from benchmarks.cost import load_prices
from catalog import sqlsource
from genesys_bridge import layout


def test_the_scan_figure_reads_every_json_object_and_some_parquet_column_chunks(tmp_path: Path) -> None:
    # Given 90 simulated conversations over 3 days, measured as landed and compacted
    ticks = iter(range(1000))
    scan = catalog_scan.measure(90, days=3, workdir=tmp_path, clock=lambda: float(next(ticks)))

    # Then every KPI query read all the JSON there is, and only some column chunks of the Parquet
    assert list(scan.reads) == list(sqlsource.KPI_QUERIES)
    flat = {layout.COMPACTED_SESSION_METRICS.prefix, layout.COMPACTED_SEGMENTS.prefix}
    for json_read, parquet_read, datasets in scan.reads.values():
        assert json_read == scan.json_total_bytes
        assert 0 < parquet_read < scan.parquet_total_bytes
        # each KPI query reads one flat dataset, never the nested conversations
        assert len(datasets) == 1
        assert datasets <= flat
    assert 0 < scan.flat_source_bytes < scan.parquet_total_bytes
    # the spread may touch a fourth UTC day, and a conversation moved across midnight the day before
    assert scan.days in (3, 4, 5)
    # And each time is one clock tick apart: the runs were timed in order (JSON first, then compacted)
    assert set(scan.seconds) == {
        (form, span) for form in ("JSON", "compacted") for span in ("all days", "one day", "no day")
    }

    # And the rows price each query for a month of a million conversations, with the compaction's cost
    rows = catalog_scan.rows_of(scan, load_prices(), days=30)
    assert [row.number for row in rows] == ["8"] * (len(sqlsource.KPI_QUERIES) + 3)
    kpi_rows = rows[: len(sqlsource.KPI_QUERIES)]
    assert all(
        "in 60 objects" in row.measured and "in 1,000,000 objects" in row.reference for row in kpi_rows
    )
    assert rows[len(sqlsource.KPI_QUERIES)].measured.startswith("$0.4")  # a million GETs: $0.40
    assert rows[len(sqlsource.KPI_QUERIES)].note.startswith("Figure 8: 90 simulator bodies")


def test_athena_bills_at_least_ten_megabytes_and_every_get() -> None:
    prices = load_prices()
    # 5 USD a TB, 10 MB at least; 0.0004 USD a thousand GETs
    assert catalog_scan.athena_usd(1_000, 0, prices) == catalog_scan.athena_usd(10e6, 0, prices)
    assert catalog_scan.athena_usd(100e6, 0, prices) == "$0.0005"
    assert catalog_scan.athena_usd(2.2e9, 1_000_000, prices) == "$0.4110"
