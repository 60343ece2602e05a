"""Queryable landed details: one schema, one set of Athena/Trino views and KPI queries, run on Athena in
the stack and on DuckDB over `make demo`'s output (`python -m catalog.query`, `make query`).

    from catalog.local import kpi_summary, run_query
    print(kpi_summary(Path("out/demo")))
"""

from __future__ import annotations

# genesys_bridge.layout (the Lambda layer's package, under shared/) decides where details land; the
# catalog reads that layout from it instead of writing it a second time.
import project_paths  # noqa: F401 - puts shared/ on sys.path, as in Lambda
