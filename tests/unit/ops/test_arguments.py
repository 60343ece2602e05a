"""Every argument of `python -m ops` is checked before the first AWS call: a bad one is one line on
stderr, exit 2, and no AWS client is ever created (the real connection is in place, armed to fail)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from ops.cli import main
from ops.errors import EXIT_USAGE

CONVERSATION_ID = "0a5f8e21-9c43-4d7b-b612-3e8d4c7a9f10"


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """boto3 sessions that refuse to create any client; the services asked for, for the assertion."""
    asked: list[str] = []

    def refuse(_session: Any, service: str, *args: Any, **kwargs: Any) -> Any:
        asked.append(service)
        raise AssertionError(f"an AWS client ({service}) was created for a bad argument")

    monkeypatch.setattr(boto3.session.Session, "client", refuse)
    return asked


def exit_status(argv: list[str]) -> int:
    """main's status, whether argparse (SystemExit) or check() (a return) refused the arguments."""
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else -1


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["status", "--sample", "-1"], "argument --sample: must be a whole number from 0 to 100,000, not -1"),
        (["status", "--sample", "many"], "argument --sample: 'many' is not a whole number"),
        (["redrive", "work-dlq", "--wait", "0"], "argument --wait: must be a number of seconds above 0"),
        (["redrive", "work-dlq", "--wait", "-5"], "argument --wait: must be a number of seconds above 0"),
        (["redrive", "work-dlq", "--wait", "nan"], "argument --wait: must be a number of seconds above 0"),
        (["redrive", "work-dlq", "--wait", "inf"], "argument --wait: must be a number of seconds above 0"),
        (["redrive", "quarantine", "--limit", "0"], "argument --limit: must be a whole number from 1 to"),
        (
            ["quarantine", "--limit", "-3"],
            "argument --limit: must be a whole number from 1 to 100,000, not -3",
        ),
        (["quarantine", "--replay", "--limit", "nan"], "argument --limit: 'nan' is not a whole number"),
        (
            ["refetch", CONVERSATION_ID, "--delay", "901"],
            "argument --delay: must be a whole number from 0 to 900",
        ),
        (
            ["refetch", CONVERSATION_ID, "--delay", "-1"],
            "argument --delay: must be a whole number from 0 to 900",
        ),
        (["refetch", CONVERSATION_ID, "12345"], "not a conversation id (a UUID): argument 2: '12345'"),
        (["refetch"], "give conversation ids, or --file with one per line"),
        (["refetch", "--file", "no/such/ids.txt"], "cannot read no/such/ids.txt: No such file or directory"),
        (["conversation", "12345"], "not a conversation id (a UUID): argument: '12345'"),
        (["conversation", CONVERSATION_ID, "--date", "2026-13-01"], "'2026-13-01' is not a day"),
        (["redrive", "work-dlq", "--reason", "x"], "work-dlq is redriven whole by SQS: --reason and --limit"),
        (["redrive", "pipe-dlq", "--limit", "5"], "pipe-unresolved is redriven whole by SQS"),
        (["quarantine", "--reason", "unknown_topic"], "--reason selects what --replay replays"),
    ],
)
def test_a_bad_argument_is_one_line_exit_2_and_no_aws_client(
    no_aws: list[str], capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    # When the command runs with the real connection and a bad argument
    status = exit_status(["--environment", "prod", *argv])

    # Then it exits 2 with one line that names what is wrong, and no AWS client was created
    err = capsys.readouterr().err
    assert status == EXIT_USAGE
    assert said in err
    assert len(err.strip().splitlines()) == 1
    assert no_aws == []


def test_an_ids_file_that_is_not_utf8_is_named_in_one_line(
    no_aws: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an ids file saved in Latin-1 (a comment with an accented letter)
    path = tmp_path / "ids.txt"
    path.write_bytes(f"# r\xe9clamations\n{CONVERSATION_ID}\n".encode("latin-1"))

    # When it is refetched, Then the file is named in one line, exit 2, and nothing is contacted
    assert main(["--environment", "prod", "refetch", "--file", str(path)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.strip() == f"ops: cannot read {path}: byte 4 is not UTF-8 text (a file of ids, one per line)"
    assert no_aws == []


def test_good_arguments_do_reach_aws(no_aws: list[str]) -> None:
    # The guard above is real: valid arguments get as far as creating the CloudFormation client
    with pytest.raises(AssertionError, match="cloudformation"):
        main(["--environment", "prod", "status", "--sample", "0"])
    assert no_aws == ["cloudformation"]
