"""The live path and the closing audit together: dropped events found, late changes re-landed, and the
same run pointed at another Genesys-compatible server."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from genesys_bridge.layout import canonical_form, result_key
from local_runner import RunOptions, RunReport, render_summary, run_pipeline
from local_runner.workload import Readiness, WorkloadSpec, synthesize

pytestmark = pytest.mark.integration

# 120 min max age and 60 s settle delay in cdk.json's dev block: x 0.01 = 72 s and 1 s.
TEST_TIME_SCALE = 0.01


def _run(tmp_path: Path, **overrides: object) -> RunReport:
    options = RunOptions(
        conversations=80,
        seed=21,
        time_scale=TEST_TIME_SCALE,
        faults="none",
        out_dir=tmp_path / "out",
        progress=False,
        max_run_s=55,
    )
    return run_pipeline(replace(options, **overrides))  # type: ignore[arg-type]


def _landed_ids(out: Path) -> set[str]:
    return {path.stem for path in (out / "conversations").rglob("*.json")}


def test_a_demo_with_dropped_events_finds_every_dropped_conversation_through_the_audit(
    tmp_path: Path,
) -> None:
    # Given 80 conversations, 10% of which have every event lost before ingest
    report = _run(tmp_path, drop_rate=0.1)
    table = render_summary(report, include_checks=True)

    # Then the live path landed the others, the closing audit landed exactly the 8 dropped ones (and
    # any that sent no subscribed end event), and together nothing is lost, every body the
    # simulator's final one
    assert report.dropped_conversations == 8
    missed = 8 + report.silent_conversations
    assert report.verdict, table
    assert (report.expected, report.landed, report.lost, report.duplicated) == (80, 80, 0, 0), table
    assert report.body_mismatches == 0
    assert report.audit is not None
    assert report.audit["missing_landed"] == missed
    assert report.audit["failures"] == []
    # the live path landed the others (its processor's count), the audit the rest
    assert report.emf_metrics["processor"]["ConversationsFetched"] == 80 - missed
    assert len(_landed_ids(tmp_path / "out")) == 80
    # and the day's report is in the bucket's layout beside the conversations
    [report_file] = (tmp_path / "out" / "audits").rglob("audit.json")
    assert json.loads(report_file.read_text())["missing_landed"] == missed
    assert "the audit landed exactly the conversations the live path missed" in table


def test_without_the_audit_the_dropped_conversations_are_reported_lost(tmp_path: Path) -> None:
    # Given the same run with the closing audit skipped
    report = _run(tmp_path, drop_rate=0.1, audit=False)

    # Then the 8 dropped conversations (and any without a subscribed end event) are missing, and the
    # verdict says so
    missed = 8 + report.silent_conversations
    assert (report.expected, report.landed, report.lost) == (80, 80 - missed, missed)
    assert not report.verdict
    assert report.audit is None
    assert "skipped (--no-audit)" in render_summary(report)


def test_finalize_relands_exactly_the_conversations_changed_after_landing(tmp_path: Path) -> None:
    # Given a run whose landed conversations are then changed by 10% (as Genesys' nightly
    # reprocessing would), followed by the finalize mode
    report = _run(tmp_path, finalize=True, change_rate=0.1)
    table = render_summary(report, include_checks=True)

    # Then finalize re-landed the 8 changed conversations and nothing else, and every landed body is
    # the changed, final one
    assert report.audit is not None
    assert report.audit["changed"] == 8
    assert report.audit["changed_relanded"] == 8
    finalize = [r for r in report.audit["reports"] if r["mode"] == "finalize"]
    assert sum(r["unchanged"] for r in finalize) == 72
    assert sum(r["missing_landed"] for r in finalize) == 0
    assert report.body_mismatches == 0
    assert report.verdict, table


def test_changes_without_a_finalize_run_are_caught_as_stale_bodies(tmp_path: Path) -> None:
    # Given the same changes, but the finalize mode's executions skipped: the reconciliation against
    # the changed bodies is what would catch a finalize that does not re-land
    from local_runner import closing_audit

    original = closing_audit.LocalAudit._each_day

    def audit_only(self, steps, days, mode, clock):  # type: ignore[no-untyped-def]
        return [] if mode.value == "finalize" else original(self, steps, days, mode, clock)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(closing_audit.LocalAudit, "_each_day", audit_only)
        report = _run(tmp_path, conversations=30, finalize=True, change_rate=0.2)

    assert report.body_mismatches == 6
    assert not report.verdict


def test_a_genesys_compatible_server_serves_the_processor_and_the_audit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a Genesys-compatible server (here a simulator of its own, not the run's) holding
    # conversations of two days ago, and their end events in an archive, one conversation's events
    # missing from it
    from genesys_simulator import GenesysSimulator, SimulatorConfig

    day = datetime.now(UTC) - timedelta(days=2)
    workload = synthesize(
        WorkloadSpec(
            conversations=12,
            seed=4,
            late_rate=0.0,
            malformed_rate=0.0,
            now=day.replace(hour=12),
            topics=frozenset({"customer.end"}),
        ),
        "eu-west-1",
    )
    plans = list(workload.conversations.values())
    assert all(plan.readiness is Readiness.READY for plan in plans)
    missing_from_archive = plans[0].conversation_id
    # (an outbound call sends no customer.end, so it is not in the archive either)
    absent = workload.silent_ids() | {missing_from_archive}
    archive = tmp_path / "archive.jsonl"
    archive.write_text(
        "\n".join(
            json.dumps(planned.event)
            for planned in workload.events
            if planned.conversation_id != missing_from_archive
        )
        + "\n",
        encoding="utf-8",
    )
    with GenesysSimulator(SimulatorConfig(seed=4, job_queued_s=0.1, job_fulfilled_after_s=0.5)) as server:
        server.add_conversations(replace(plan.sim_conversation(), settled_after_s=None) for plan in plans)
        monkeypatch.setenv("GENESYS_CLIENT_ID", server.config.client_id)
        monkeypatch.setenv("GENESYS_CLIENT_SECRET", server.config.client_secret)

        # When the run is pointed at it
        report = _run(tmp_path, events_file=archive, genesys_base_url=server.base_url)
        paths = {request.path for request in server.requests}
        expected_bodies = {plan.conversation_id: server.final_details(plan.conversation_id) for plan in plans}

    table = render_summary(report, include_checks=True)
    # Then the processor fetched the archive's conversations from it, the audit (through its jobs
    # endpoints) landed the others, and --out holds all 12 in the bucket's layout with the server's
    # bodies (their lists in the landed canonical order)
    assert report.faults == "real org"
    assert report.verdict, table
    assert report.landed == 12
    assert report.audit is not None
    assert report.audit["missing_landed"] == len(absent)
    assert "/api/v2/analytics/conversations/details" in paths
    assert "/api/v2/analytics/conversations/details/jobs" in paths
    for conversation_id, body in expected_bodies.items():
        path = tmp_path / "out" / result_key(body)
        assert json.loads(path.read_text(encoding="utf-8")) == canonical_form(body), conversation_id
