"""Bad command lines and hostile input files: a one-line usage error (exit 2) or a handled event, never a
traceback and never a run that says OK about nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from local_runner import RunOptions, UsageError, chaos, cli, run_pipeline
from local_runner.reconcile import simulator_id
from local_runner.workload import WorkloadSpec, read_events_file, synthesize, workload_from_events
from stacks.config import load_environment_config

RUNNER_CLIS: dict[str, Callable[[list[str]], int]] = {"local_runner": cli.main, "chaos": chaos.main}

BAD_COMMON = [
    ("--conversations", "-5"),
    ("--conversations", "0"),
    ("--conversations", "ten"),
    ("--time-scale", "inf"),
    ("--time-scale", "-inf"),
    ("--time-scale", "nan"),
    ("--time-scale", "0"),
    ("--time-scale", "-0.5"),
]
RATES = [
    "--duplicate-rate",
    "--late-rate",
    "--never-rate",
    "--malformed-rate",
    "--drop-rate",
    "--change-rate",
]
BAD_RATES = [(rate, value) for rate in RATES for value in ("-0.1", "1.5", "nan", "inf", "half")]


def _usage_error(
    main: Callable[[list[str]], int], argv: list[str], capsys: pytest.CaptureFixture[str]
) -> str:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1, err  # one line, no usage block, no traceback
    assert "Traceback" not in captured.err
    assert captured.out == ""  # nothing ran
    return err


@pytest.mark.parametrize("runner", sorted(RUNNER_CLIS))
@pytest.mark.parametrize(("option", "value"), BAD_COMMON)
def test_out_of_range_counts_and_time_scales_are_usage_errors(
    runner: str, option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a count that is not a whole number of at least 1, or a time scale that is not finite and
    # above 0, when either runner is started with it, then it stops at once naming the option
    err = _usage_error(RUNNER_CLIS[runner], ["--quiet", option, value], capsys)
    assert option in err


@pytest.mark.parametrize(("option", "value"), BAD_RATES)
def test_rates_outside_zero_to_one_are_usage_errors(
    option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _usage_error(cli.main, ["--quiet", option, value], capsys)
    assert option in err
    assert "between 0 and 1" in err or "is not a share" in err


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--audit-day", "2026-13-01"], "is not a date such as 2026-11-20"),
        (["--audit-day", "yesterday"], "is not a date such as 2026-11-20"),
        (["--audit-day", "2999-01-01"], "lies in the future"),
        (["--finalize", "--no-audit"], "need the audit"),
        (["--audit-day", "2026-11-20", "--no-audit"], "need the audit"),
        (["--change-rate", "0.2"], "only for --finalize"),
        (["--genesys-base-url", "http://genesys.example.com"], "http only on a loopback host"),
        (["--genesys-base-url", "ftp://127.0.0.1"], "must be https"),
        (["--genesys-base-url", "https://user:pw@genesys.example.com"], "must not carry credentials"),
        (["--topics", "Customer.End"], "is not a topic suffix"),
        (["--topics", "customer.end,customer.end"], "topics must not repeat"),
    ],
)
def test_audit_days_finalize_and_server_urls_are_checked_before_anything_runs(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a day that is no date or lies in the future, a finalize without the audit it follows, or
    # a server URL the Genesys client would refuse; when the runner is started with it, then it stops
    # at once with one line saying why
    err = _usage_error(cli.main, ["--quiet", *argv], capsys)
    assert named in err


def test_out_refuses_to_delete_a_conversations_folder_no_earlier_run_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a folder holding conversations/ of the user's own, with no earlier run's handlers.log
    own = tmp_path / "mine" / "conversations" / "conversation_date=2026-11-20" / "kept.json"
    own.parent.mkdir(parents=True)
    own.write_text("{}\n", encoding="utf-8")

    # When the runner is pointed at it, then it stops with one line and deletes nothing
    err = _usage_error(cli.main, ["--quiet", "--conversations", "2", "--out", str(tmp_path / "mine")], capsys)
    assert "no earlier run wrote" in err
    assert own.read_text(encoding="utf-8") == "{}\n"


def test_a_missing_events_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _usage_error(cli.main, ["--quiet", "--events", str(tmp_path / "nowhere.jsonl")], capsys)
    assert "no such file" in err
    # a folder is not a file either
    err = _usage_error(cli.main, ["--quiet", "--events", str(tmp_path)], capsys)
    assert "no such file" in err


@pytest.mark.parametrize("content", ["", "\n", "\n   \n\t\n", "  "])
def test_an_empty_or_blank_events_file_says_so_instead_of_reconciling_nothing(
    tmp_path: Path, content: str, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "archive.jsonl"
    archive.write_text(content, encoding="utf-8")
    err = _usage_error(
        cli.main, ["--quiet", "--out", str(tmp_path / "out"), "--events", str(archive)], capsys
    )
    assert "holds no events" in err
    # and the same for a caller of run_pipeline
    with pytest.raises(UsageError, match="holds no events"):
        run_pipeline(RunOptions(events_file=archive, out_dir=None, progress=False))


def test_an_events_file_that_is_not_text_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "archive.jsonl"
    archive.write_bytes(b"\xff\xfe\x00binary")
    err = _usage_error(cli.main, ["--quiet", "--events", str(archive)], capsys)
    assert "not UTF-8" in err


@pytest.mark.parametrize(
    "overrides",
    [
        {"conversations": -5},
        {"conversations": 0},
        {"time_scale": float("inf")},
        {"time_scale": float("nan")},
        {"time_scale": 0.0},
        {"duplicate_rate": 1.5},
        {"late_rate": -0.1},
        {"never_rate": float("nan")},
        {"malformed_rate": 2.0},
        {"max_copies": 0},
        {"events_per_second": float("inf")},
        {"drop_rate": 1.5},
        {"change_rate": -0.5},
        {"genesys_base_url": "http://10.0.0.1:8080"},
    ],
)
def test_run_options_refuse_the_same_values_for_callers_of_run_pipeline(overrides: dict[str, object]) -> None:
    with pytest.raises(UsageError) as refused:
        RunOptions(**overrides)  # type: ignore[arg-type]
    assert next(iter(overrides)) in str(refused.value)


@pytest.mark.parametrize("runner_flag", ["--environment", "--env"])
def test_an_unknown_environment_is_a_usage_error_naming_the_choices(
    runner_flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _usage_error(cli.main, ["--quiet", runner_flag, "nope"], capsys)
    assert "no environment 'nope'" in err
    assert "dev" in err


def test_the_earlier_env_spelling_still_selects_the_environment() -> None:
    parser = cli.build_parser()
    assert parser.parse_args(["--env", "prod"]).environment == "prod"
    assert parser.parse_args(["--environment", "prod"]).environment == "prod"
    assert "--env " not in parser.format_help()  # hidden: one spelling is documented


@pytest.mark.parametrize("depth", [1000, 5000, 100_000])
def test_a_line_nested_past_the_recursion_limit_is_handed_over_as_text(tmp_path: Path, depth: int) -> None:
    # Given an archive line nested far deeper than Python's json decodes
    line = '{"detail":' * depth + "1" + "}" * depth
    archive = tmp_path / "deep.jsonl"
    archive.write_text(line + "\n", encoding="utf-8")
    # When the runner reads it and plans the run, it does not crash: the line is text, to be quarantined
    [event] = list(read_events_file(archive))
    assert event == line
    workload = workload_from_events([event], now=datetime.now(UTC))
    assert [p.expected_reason for p in workload.events] == ["not_an_object"]


@pytest.mark.parametrize(
    ("conversation_id", "held"),
    [
        ("0a5f8e21-9c43-4d7b-b612-3e8d4c7a9f10", True),
        ("0A5F8E21-9C43-4D7B-B612-3E8D4C7A9F10", True),  # Genesys matches ids case-insensitively
        ("0a5f8e21-9c43-4d7b-b612-3e8d4c7a9f10\n", False),
        ("0a5f8e21-9c43-4d7b-b612-3e8d4c7a9f10 ", False),
        ("{0a5f8e21-9c43-4d7b-b612-3e8d4c7a9f10}", False),
        ("0a5f8e219c434d7bb6123e8d4c7a9f10", False),
        ("", False),
    ],
)
def test_only_canonical_uuids_reach_the_simulator(conversation_id: str, held: bool) -> None:
    assert (simulator_id(conversation_id) is not None) is held


@pytest.mark.integration
def test_hostile_lines_in_a_replay_are_handled_and_the_verdict_is_honest(tmp_path: Path) -> None:
    # Given an archive with valid events, a line nested 1000 levels deep and an end event whose
    # conversation id carries a trailing newline
    topics = frozenset(load_environment_config("dev").topics)  # what the rule would pass to ingest
    source = synthesize(WorkloadSpec(conversations=5, seed=4, malformed_rate=0.0, topics=topics), "eu-west-1")
    valid = [planned.event for planned in source.events]
    odd = json.loads(json.dumps(valid[0]))
    clean_id = odd["detail"]["eventBody"]["conversationId"]
    odd["detail"]["eventBody"]["conversationId"] = clean_id + "\n"
    odd["detail"]["topicName"] = odd["detail"]["topicName"].replace(clean_id, clean_id + "\n")
    odd["id"] = "odd-event"
    lines = [json.dumps(event) for event in valid]
    lines.insert(2, '{"detail":' * 1000 + "1" + "}" * 1000)
    lines.append(json.dumps(odd))
    archive = tmp_path / "archive.jsonl"
    archive.write_text("\n".join(lines) + "\n", encoding="utf-8")

    # When it is replayed (a scale at which the max age passes within the test)
    report = run_pipeline(
        RunOptions(
            events_file=archive, time_scale=0.002, out_dir=tmp_path / "out", progress=False, max_run_s=90
        )
    )

    # Then the run completes, every clean conversation lands once, the deep line is quarantined, and no
    # object carries the odd id
    assert report.landed >= 5
    assert report.quarantine_reasons.get("not_an_object") == 1
    assert not any(key.endswith("\n.json") or "\n" in key for key in _landed_keys(tmp_path / "out"))
    # And the verdict is OK only if the odd id was quarantined as an invalid id (the ingest's strict
    # validation); an ingest that buffered it leaves a conversation no Genesys holds, reported FAILED
    strict = report.quarantine_reasons.get("invalid_conversation_id") == 1
    assert report.verdict is strict, report.checks


def _landed_keys(out: Path) -> list[str]:
    return [path.relative_to(out).as_posix() for path in out.rglob("*.json")]
