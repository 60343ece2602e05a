"""Figures 1, 2, 6 and 7: measured on the local pipeline run (engineer E's local_runner)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from benchmarks.table import Row


def pipeline_rows(
    conversations: int, prices_path: Path, *, quick: bool, progress: Callable[[str], None]
) -> list[Row]:
    reason = "local_runner.run_pipeline is not available yet"
    return [
        Row.not_measured("1", "Genesys requests per conversation", reason),
        Row.not_measured("2", "Goodput, pacing on", reason),
        Row.not_measured("6", "Latency event -> landed object", reason),
        Row.not_measured("7", "Cost per million conversations", reason),
    ]
