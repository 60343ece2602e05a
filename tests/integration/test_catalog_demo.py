"""The catalog views over a small `make demo` run: their counts equal what the pipeline landed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog import local
from genesys_bridge import layout
from local_runner import RunOptions, run_pipeline

pytestmark = pytest.mark.integration


def test_the_views_over_a_demo_run_count_exactly_the_landed_conversations_segments_and_metrics(
    tmp_path: Path,
) -> None:
    # Given a small demo run (40 conversations, duplicate events, some ready only after retries)
    out = tmp_path / "out"
    report = run_pipeline(
        RunOptions(conversations=40, seed=4, time_scale=0.01, out_dir=out, progress=False, max_run_s=55)
    )
    assert report.reconciled
    bodies = [
        json.loads(path.read_text(encoding="utf-8"))
        # (the closing audit's reports sit beside them, under their own prefix)
        for path in sorted(out.glob(layout.CONVERSATIONS.local_glob()))
    ]
    sessions = [s for body in bodies for p in body["participants"] for s in p["sessions"]]

    # When the views are counted over its output folder
    with local.connect(out) as connection:
        counts = {
            view: connection.execute(f"SELECT count(*) FROM {view}").fetchone()[0]  # type: ignore[index]  # noqa: S608
            for view in ("conversations", "segments", "session_metrics")
        }

    # Then one conversation per landed object, one row per segment and per metric in the bodies
    assert len(bodies) == 40
    assert counts == {
        "conversations": len(bodies),
        "segments": sum(len(s["segments"]) for s in sessions),
        "session_metrics": sum(len(s["metrics"]) for s in sessions),
    }
    # And the demo's closing KPI table has a row for each day the conversations started on
    days = sorted({body["conversationStart"][:10] for body in bodies})
    summary = local.kpi_summary(out)
    assert summary.splitlines()[-1] == f"({len(days)} row{'s' if len(days) != 1 else ''})"
    assert all(f"| {day} " in summary for day in days)
