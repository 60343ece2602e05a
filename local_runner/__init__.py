"""The local runner: an environment's pipeline on embedded AWS (moto) and a Genesys simulator, with the
real handlers. `python -m local_runner` (make demo), `python -m local_runner.chaos` (make chaos).

    from local_runner import RunOptions, run_pipeline
    report = run_pipeline(RunOptions(conversations=300, faults="flaky"))
    assert report.verdict
"""

from __future__ import annotations

import project_paths  # noqa: F401 - puts shared/ (the layer's genesys_bridge) on sys.path
from local_runner.harness import run_pipeline
from local_runner.options import RunOptions, UsageError
from local_runner.reconcile import Check
from local_runner.report import RunReport, dumps_report, render_summary

__all__ = ["Check", "RunOptions", "RunReport", "UsageError", "dumps_report", "render_summary", "run_pipeline"]
