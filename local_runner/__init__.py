"""The local runner: an environment's pipeline on embedded AWS (moto) and a Genesys simulator, with the
real handlers. `python -m local_runner` (make demo), `python -m local_runner.chaos` (make chaos).

    from local_runner import RunOptions, run_pipeline
    report = run_pipeline(RunOptions(conversations=300, faults="flaky"))
    assert report.verdict

The public names load on first use (PEP 562 module `__getattr__`): `benchmarks` imports
`local_runner.cli_options` for its flags, and importing the whole runner (moto included) for that
would cost it most of a second on every `--help`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import project_paths  # noqa: F401 - puts shared/ (the layer's genesys_bridge) on sys.path

if TYPE_CHECKING:
    from local_runner.harness import run_pipeline
    from local_runner.options import RunOptions, UsageError
    from local_runner.reconcile import Check
    from local_runner.report import RunReport, dumps_report, render_summary

_HOMES = {
    "Check": "local_runner.reconcile",
    "RunOptions": "local_runner.options",
    "RunReport": "local_runner.report",
    "UsageError": "local_runner.options",
    "dumps_report": "local_runner.report",
    "render_summary": "local_runner.report",
    "run_pipeline": "local_runner.harness",
}

__all__ = ["Check", "RunOptions", "RunReport", "UsageError", "dumps_report", "render_summary", "run_pipeline"]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first access; unknown names (and submodules) fall through."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
