"""The catalog views over a small `make demo` run: their counts equal what the pipeline landed, and the
KPI queries give what the definitions give over the very objects it landed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog import compact, local, sqlsource
from genesys_bridge import layout
from local_runner import RunOptions, run_pipeline
from tests.unit.catalog import kpi_reference

pytestmark = pytest.mark.integration


def test_the_views_and_kpis_over_a_demo_run_are_exactly_what_it_landed(tmp_path: Path) -> None:
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
    with local.connect(out) as catalog:
        counts = {
            view: catalog.connection.execute(f"SELECT count(*) FROM {view}").fetchone()[0]  # type: ignore[index]  # noqa: S608
            for view in ("conversations", "segments", "session_metrics")
        }
        queues = local.run(catalog, sqlsource.kpi_query("queue_performance").sql)
        agents = local.run(catalog, sqlsource.kpi_query("agent_performance").sql)

    # Then one conversation per landed object, one row per segment and per metric in the bodies
    assert len(bodies) == len({body["conversationId"] for body in bodies}) == 40
    assert counts == {
        "conversations": len(bodies),
        "segments": sum(len(s["segments"]) for s in sessions),
        "session_metrics": sum(len(s["metrics"]) for s in sessions),
    }
    # And the KPIs are the definitions' figures over those very bodies, every metric counted, service
    # level against each queue's own target as the run's lookups snapshot has it
    queues_snapshot = [
        json.loads(line)
        for path in out.glob(layout.lookup_dataset("queues").local_glob())
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    goals = {
        (queue["id"], "voice" if media == "call" else media): (
            settings["serviceLevel"]["durationMs"] / 1000,
            settings["serviceLevel"]["percentage"] * 100,
        )
        for queue in queues_snapshot
        for media, settings in queue["mediaSettings"].items()
    }
    expected_queues = kpi_reference.queue_performance(bodies, goals=goals)
    kpi_reference.assert_rows_equal(
        queues.columns, queues.rows, ("interval_date", "queue_id", "media_type"), expected_queues
    )
    kpi_reference.assert_rows_equal(
        agents.columns, agents.rows, ("interval_date", "user_id"), kpi_reference.agent_performance(bodies)
    )
    assert sum(row["handled"] for row in expected_queues.values()) > 0
    assert queues.skipped == ()
    # And every queue and agent has its name from the run's lookups
    names = {queue["id"]: queue["name"] for queue in queues_snapshot}
    assert {(row[1], row[2]) for row in queues.rows} == {(row[1], names[row[1]]) for row in queues.rows}
    assert None not in {row[agents.columns.index("user_name")] for row in agents.rows}
    # And the demo's closing table is queue_performance
    summary = local.kpi_summary(out)
    assert "catalog/sql/kpi/queue_performance.sql" in summary.splitlines()[0]
    assert summary.splitlines()[-1] == f"({len(queues.rows)} row{'s' if len(queues.rows) != 1 else ''})"

    # And the run ends compacted: each day it landed has its marker, so the views read its Parquet,
    # and `catalog.compact` finds nothing left to do
    found = local.survey(out)
    assert sorted(found.compacted) == sorted(found.landed)
    assert compact.stale_days(out) == []
    # And every view reads the same rows from the Parquet as from the landed JSON alone (and the lookups)
    landed_only = tmp_path / "json"
    for path in [
        *out.glob(layout.CONVERSATIONS.local_glob()),
        *out.glob(f"{layout.LOOKUPS_PREFIX}**/*.jsonl"),
    ]:
        copied = landed_only / path.relative_to(out)
        copied.parent.mkdir(parents=True, exist_ok=True)
        copied.write_bytes(path.read_bytes())
    # (not the plumbing that says which days are read from where, which compaction changes by design)
    plumbing = (sqlsource.KPI_SETTINGS_VIEW, sqlsource.UNCOMPACTED_DAYS_VIEW, sqlsource.UNCOMPACTED_VIEW)
    for view in [v for v in sqlsource.VIEWS if v not in plumbing]:
        query = f"SELECT * FROM {view}"  # noqa: S608
        compacted, json_only = local.run_query(out, query).rows, local.run_query(landed_only, query).rows
        assert sorted(compacted, key=repr) == sorted(json_only, key=repr), view
