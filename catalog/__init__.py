"""Queryable landed details: one schema, one set of Athena/Trino views and KPI queries, run on Athena in
the stack and on DuckDB over `make demo`'s output (`python -m catalog.query`, `make query`).

    from catalog.local import kpi_summary, run_query
    print(kpi_summary(Path("out/demo")))
"""

from __future__ import annotations

import sys
from pathlib import Path

# genesys_bridge (the Lambda layer's package, under shared/) decides where details land; the catalog
# reads that layout from it instead of writing it a second time.
_SHARED = str(Path(__file__).resolve().parent.parent / "shared")
if _SHARED not in sys.path:
    sys.path.insert(0, _SHARED)
