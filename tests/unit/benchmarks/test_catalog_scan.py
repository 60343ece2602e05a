"""Figure 8 measures what each KPI query reads, as landed JSON and as compacted Parquet."""

from __future__ import annotations

from pathlib import Path

from benchmarks import catalog_scan
from catalog import sqlsource


def test_the_scan_figure_reads_every_json_object_and_fewer_parquet_columns(tmp_path: Path) -> None:
    # Given 60 simulated conversations over 3 days
    scan = catalog_scan.measure(60, days=3, workdir=tmp_path)

    # Then every KPI query read all the JSON there is (daily_summary twice: it reads the view twice)
    assert [query.name for query in scan.queries] == list(sqlsource.KPI_QUERIES)
    for query in scan.queries:
        assert query.json_bytes == scan.json_total_bytes * query.parquet_scans
        # and only some columns of the compacted Parquet
        assert 0 < query.parquet_column_bytes < scan.parquet_total_bytes * query.parquet_scans
    assert scan.days_landed in (3, 4)  # the spread may touch a fourth UTC day
    assert scan.files_per_day == 1

    # And the rows name each query with both figures, scaled to a million conversations
    rows = catalog_scan.rows_of(scan, days=30)
    assert [row.number for row in rows] == ["8"] * len(sqlsource.KPI_QUERIES)
    assert all("JSON" in row.measured and "in 1,000,000 objects" in row.measured for row in rows)
    assert all("in 30 objects" in row.measured for row in rows)
    assert rows[-1].note.startswith("Figure 8: 60 simulator bodies")
