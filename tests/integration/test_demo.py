"""`make demo` in small: the real handlers on moto and the simulator, with faults, reconcile."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from genesys_bridge.results import result_key
from local_runner import RunOptions, RunReport, render_summary, run_pipeline
from local_runner.cli import main

pytestmark = pytest.mark.integration

# 120 min max age, 60 s settle delay in cdk.json's dev block: x 0.01 = 72 s and 1 s.
TEST_TIME_SCALE = 0.01


def _run(tmp_path: Path, **overrides: object) -> RunReport:
    options = RunOptions(
        conversations=200,
        seed=5,
        time_scale=TEST_TIME_SCALE,
        faults="flaky",
        out_dir=tmp_path / "out",
        progress=False,
        max_run_s=55,
    )
    return run_pipeline(replace(options, **overrides))  # type: ignore[arg-type]


def _genesys_error_names() -> set[str]:
    from genesys_bridge.genesys.errors import GenesysError

    names, todo = set(), [GenesysError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo += cls.__subclasses__()
    return names


def test_small_demo_with_genesys_faults_lands_every_conversation_once(tmp_path: Path) -> None:
    # Given 200 conversations, each with several end events, some delivered twice, a few malformed
    # inputs, 10% of conversations ready only after retries, and a Genesys answering 503/504 to 10%
    report = _run(tmp_path)

    # Then every conversation landed exactly once with the simulator's details, and nothing is lost
    assert report.reconciled, render_summary(report, include_checks=True)
    assert (report.expected, report.landed, report.lost, report.duplicated) == (200, 200, 0, 0)
    assert report.body_mismatches == 0
    assert report.verdict, render_summary(report, include_checks=True)

    # And the counts add up: every valid event past a conversation's first is a duplicate (a
    # conversation without a subscribed end event has none)
    assert report.unique_conversations == 200
    assert report.duplicates == report.valid_events - (
        report.unique_conversations - report.silent_conversations
    )
    assert report.events == report.valid_events + report.malformed_events
    assert report.quarantined == report.malformed_events == report.quarantine_queue >= 7  # every kind
    assert report.fetched == 200
    assert report.failed == 0
    assert report.pending_left == 0
    assert report.work_dlq == report.ingest_failure_queue == report.pipe_dlq == 0

    # And the pipe saw one INSERT per conversation with an end event (moto's second INSERT collapsed)
    buffered = 200 - report.silent_conversations
    assert report.pipe["forwarded"] == buffered
    assert report.pipe["moto_inserts_collapsed"] == buffered

    # And the faults and the not-ready conversations were really met, each counted as what it is:
    # late conversations are not ready; a 5xx the client's retries did not overcome would defer its
    # conversations, under the Genesys error that did it
    assert report.genesys_5xx > 0
    assert set(report.deferred) <= _genesys_error_names()
    assert report.not_ready > 0
    assert report.visibility_changes >= report.not_ready
    assert report.genesys_token_requests >= 1
    # the multi-get asks for a whole batch at once: far fewer requests than conversations
    assert report.genesys_requests < report.unique_conversations / 2

    # And each function ran as Lambda would run it: one ingest invocation per event, plus Lambda's
    # async retry for each failed one (a transient moto error was seen once in CI under load), every
    # failure recovered by its retry (the on-failure queue is empty, asserted above)
    assert report.invocations["ingest"] == report.events + report.ingest_retries
    assert report.ingest_retries == report.ingest_errors == report.invocation_errors.get("ingest", 0)
    assert report.invocations["processor"] == report.processor_invocations > 0
    assert "processor" not in report.invocation_errors

    # And no object landed before the settle delay (the work queue's delivery delay) had passed (a
    # latency is from a conversation's first event, so one without a subscribed end event has none)
    assert len(report.latencies_s) == buffered
    assert min(report.latencies_s.values()) >= 1.0


def test_landed_objects_are_exported_in_the_buckets_key_layout(tmp_path: Path) -> None:
    report = _run(tmp_path, conversations=40, faults="none", late_rate=0.0)
    assert report.reconciled
    files = sorted((tmp_path / "out" / "conversations").rglob("*.json"))
    assert len(files) == 40
    for path in files:
        body = json.loads(path.read_text(encoding="utf-8"))
        assert path.relative_to(tmp_path / "out").as_posix() == result_key(body)
        assert body["conversationEnd"]
    log = (tmp_path / "out" / "handlers.log").read_text(encoding="utf-8")
    assert '"_aws"' in log  # the functions' EMF metrics went to the log, not the terminal
    assert "conversation event buffered" in log  # and so did their logs

    # And a fault-free run has no function error, and the functions' own EMF sums are exact: each
    # invocation flushed its own metrics, read after the log was flushed
    assert report.ingest_errors == 0, report.ingest_error_causes
    assert not report.invocation_errors
    assert "SchemaValidationError" not in log
    emf = report.emf_metrics
    assert emf["ingest"]["EventsReceived"] == report.events
    assert emf["ingest"]["DuplicateEvents"] == report.duplicates
    assert emf["ingest"].get("EventsQuarantined", 0) == report.quarantined
    # (the closing audit landed those without a subscribed end event)
    assert report.landed == 40
    assert emf["processor"]["ConversationsFetched"] == 40 - report.silent_conversations
    assert report.not_ready == emf["processor"].get("ConversationsNotReady", 0)
    assert report.deferred == {}
    assert "(approx.)" not in render_summary(report)


def test_conversations_that_end_again_after_they_landed_are_fetched_again_with_their_new_body(
    tmp_path: Path,
) -> None:
    # Given 40 conversations, 4 of which end again after they landed (the simulator reopens each, with a
    # body of its own, just before its new end event is delivered), and a few that never end (time
    # scale 0.004: the 120 min max age is 29 s)
    report = _run(
        tmp_path,
        conversations=40,
        faults="none",
        late_rate=0.0,
        reopen_rate=0.1,
        never_rate=0.05,
        time_scale=0.004,
        max_run_s=120,
    )
    table = render_summary(report, include_checks=True)

    # Then ingest queued a fresh fetch for each (the pipe forwards only the first INSERT), the processor
    # landed each again, and every object holds the simulator's final body: the ended-again one
    assert report.verdict, table
    assert "[PASS] every conversation that ended again after it landed was fetched again: 4/4" in table
    assert report.body_mismatches == 0
    assert report.emf_metrics["ingest"]["ConversationsEndedAgain"] == 4
    # (each conversation with a subscribed end event once; the others reach the closing audit)
    assert report.pipe["forwarded"] == 40 - report.silent_conversations
    # (the closing audit, not the processor, landed those without a subscribed end event)
    assert (
        report.emf_metrics["processor"]["ConversationsFetched"]
        == report.landed - report.silent_conversations + 4
    )
    # And of those that never end, the ones analytics shows are left open (no DLQ message), the ones it
    # never shows are given up in the work DLQ (the reconciliation checked each)
    assert report.emf_metrics["processor"]["ConversationsLeftOpen"] >= 1
    assert report.work_dlq == report.failed >= 1


@pytest.mark.parametrize("profile", ["slow", "storm", "revoke"])
def test_reconciliation_holds_under_each_fault_profile(tmp_path: Path, profile: str) -> None:
    report = _run(tmp_path, conversations=60, faults=profile, seed=3)
    assert report.reconciled, render_summary(report, include_checks=True)
    assert report.verdict, render_summary(report, include_checks=True)
    if profile == "slow":
        # one admitted API request in ten answers 0.5 s late (genesys_simulator/faults.py): the run met
        # them and a slow answer cost no function error (the client waits; nothing times out)
        assert report.simulator_stats["slow_responses"] > 0
        assert not report.invocation_errors
    if profile == "storm":
        # the storm profile answers 429 from request 4 on (genesys_simulator/faults.py): every run meets one
        assert report.genesys_429 > 0
    if profile == "revoke":
        assert report.simulator_stats["revocations"] >= 1


def test_cli_exit_status_and_ok_follow_every_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a clean run: OK and exit 0
    report = _run(tmp_path, conversations=10, faults="none", late_rate=0.0, malformed_rate=0.0)
    assert report.verdict, render_summary(report, include_checks=True)
    monkeypatch.setattr("local_runner.cli.run_pipeline", lambda options: report)
    assert main(["--quiet"]) == 0
    assert "lost 0, duplicated 0  -> OK" in capsys.readouterr().out

    # When any one check fails, even with every conversation landed once (a FAILED item, a DLQ
    # message, a stray quarantine), the summary says FAILED, names the check, and the exit status is 1
    for index, check in enumerate(report.checks):
        broken = [
            replace(c, ok=False, detail="broken on purpose") if i == index else c
            for i, c in enumerate(report.checks)
        ]
        failing = replace(report, checks=broken, verdict=False)
        monkeypatch.setattr("local_runner.cli.run_pipeline", lambda options, failing=failing: failing)
        assert main(["--quiet"]) == 1, check.name
        out = capsys.readouterr().out
        assert "-> FAILED" in out
        assert f"[FAIL] {check.name}: broken on purpose" in out


def test_an_eventbridge_archive_replay_lands_its_conversations(tmp_path: Path) -> None:
    # Given an archive of events as JSON lines, with a duplicate and a line that is not JSON
    from local_runner.workload import WorkloadSpec, synthesize

    # (the dev environment's topics: the replay goes straight to ingest, which refuses the others)
    topics = frozenset({"customer.end", "acw"})
    source = synthesize(
        WorkloadSpec(conversations=12, seed=9, malformed_rate=0.0, topics=topics), "eu-west-1"
    )
    lines = [json.dumps(planned.event) for planned in source.events]
    lines.insert(3, "{not json")
    archive = tmp_path / "archive.jsonl"
    archive.write_text("\n".join(lines) + "\n", encoding="utf-8")

    # When it is replayed through the pipeline
    report = _run(tmp_path, events_file=archive, faults="none")

    # Then each conversation in it landed once and the broken line is in quarantine
    assert report.reconciled, render_summary(report, include_checks=True)
    assert report.source == "events file"
    assert report.landed == report.unique_conversations == 12
    assert report.quarantine_reasons == {"not_an_object": 1}
    assert report.verdict, render_summary(report, include_checks=True)
