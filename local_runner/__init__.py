"""The local runner: the dev environment on embedded AWS (moto) and a Genesys simulator, with the real
handlers. `python -m local_runner` (make demo), `python -m local_runner.chaos` (make chaos).

    from local_runner import RunOptions, run_pipeline
    report = run_pipeline(RunOptions(conversations=300, faults="flaky"))
    assert report.reconciled
"""

from __future__ import annotations

import sys
from pathlib import Path

# The Lambda layer's package lives under shared/ (on sys.path in Lambda as the layer's python/).
_SHARED = str(Path(__file__).resolve().parent.parent / "shared")
if _SHARED not in sys.path:
    sys.path.insert(0, _SHARED)

from local_runner.reconcile import Check, RunReport, render_summary  # noqa: E402
from local_runner.runner import RunOptions, run_pipeline  # noqa: E402

__all__ = ["Check", "RunOptions", "RunReport", "render_summary", "run_pipeline"]
