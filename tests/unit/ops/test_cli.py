"""`python -m ops`: text and JSON output, exit codes, and clear errors for a missing stack or credentials."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import NoCredentialsError
from botocore.stub import Stubber

from ops.cli import main
from ops.commands import Ops
from ops.errors import EXIT_FAILED, EXIT_USAGE
from ops.stack import StackNotFound
from tests.unit.domain.builders import REGION
from tests.unit.ops.conftest import STACK, Deployed

CONVERSATION_ID = "0a5f8e21-9c43-4d7b-b612-3e8d4c7a9f10"


def run(deployed: Deployed, *argv: str) -> int:
    return main(["--environment", "prod", *argv], connect_to=lambda _args: deployed.ops)


def test_status_prints_a_table_a_person_can_read(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a dead-lettered conversation
    deployed.send("work-dlq", {"reason": "genesys_rejected", "conversationId": CONVERSATION_ID})

    # When `make ops ARGS=status` runs
    code = run(deployed, "status")

    # Then it exits 0 and shows the stack, the queue flagged for an operator, the reason and the alarms
    out = capsys.readouterr().out
    assert code == 0
    assert f"Stack {STACK} (UPDATE_COMPLETE)" in out
    [work_dlq_line] = [line for line in out.splitlines() if "the processor gave up on" in line]
    assert work_dlq_line.split()[:4] == ["work-dlq", "1", "0", "0"]
    assert "needs an operator" in work_dlq_line
    assert "genesys_rejected" in out
    assert "No alarm in ALARM" in out


def test_json_output_is_the_result_itself(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(deployed, "--json", "refetch", CONVERSATION_ID)
    assert code == 0
    assert json.loads(capsys.readouterr().out) == {"queue": "work", "sent": 1}


def test_refetch_from_a_file(deployed: Deployed, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ids.txt"
    path.write_text(f"{CONVERSATION_ID}\n", encoding="utf-8")
    assert run(deployed, "refetch", "--file", str(path)) == 0
    assert "Sent 1 conversation id(s) to the work queue" in capsys.readouterr().out
    assert [body["conversationId"] for body in deployed.bodies("work")] == [CONVERSATION_ID]


def test_a_bad_id_exits_2_naming_it_and_sends_nothing(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(deployed, "refetch", CONVERSATION_ID, "12345")
    assert code == EXIT_USAGE
    assert "argument 2: '12345'" in capsys.readouterr().err
    assert deployed.bodies("work") == []


def test_refetch_without_ids_says_what_to_give(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(deployed, "refetch") == EXIT_USAGE
    assert "give conversation ids, or --file" in capsys.readouterr().err


def test_a_replay_without_the_ingest_function_output_names_it(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a quarantined event and no ingest function output to replay into
    deployed.send("quarantine", {"reason": "r", "event": {"id": "e"}})
    outputs = dict(deployed.ops.bridge.outputs)
    del outputs["IngestFunctionName"]
    ops = Ops(
        type(deployed.ops.bridge)(stack_name=STACK, status="UPDATE_COMPLETE", outputs=outputs),
        deployed.ops.clients,
        receive_wait_seconds=0,
    )

    # When it is replayed, Then the missing output is named (exit 2: nothing could run)
    code = main(["-e", "prod", "quarantine", "--replay"], connect_to=lambda _args: ops)
    assert code == EXIT_USAGE
    assert "no output IngestFunctionName" in capsys.readouterr().err
    assert deployed.visible("quarantine") == 1


def test_a_replay_lambda_refuses_exits_1(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a quarantined event and a Lambda that refuses the invocation
    deployed.send("quarantine", {"reason": "r", "event": {"id": "e"}})
    client = boto3.client("lambda", region_name=REGION)
    deployed.ops.clients.lambda_ = client
    with Stubber(client) as stubber:
        stubber.add_client_error("invoke", service_error_code="ResourceNotFoundException")

        # When it is replayed
        code = run(deployed, "quarantine", "--replay")

    # Then the command ran and failed (exit 1), saying why, and the event is still quarantined
    assert code == EXIT_FAILED
    assert "ResourceNotFoundException" in capsys.readouterr().err
    assert deployed.visible("quarantine") == 1


def test_a_missing_stack_exits_2_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    def connect(_args: object) -> Ops:
        raise StackNotFound(f"stack {STACK} not found in eu-west-1")

    assert main(["-e", "prod", "status"], connect_to=connect) == EXIT_USAGE
    assert f"ops: stack {STACK} not found in eu-west-1" in capsys.readouterr().err


def test_no_credentials_exits_2_and_says_how_to_sign_in(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a shell with no AWS credentials anywhere boto3 looks (and no instance metadata)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    # When the real connection (stack name from cdk.json's prod block) is attempted
    code = main(["--environment", "prod", "status"])

    # Then it exits 2 explaining what is missing
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "no usable AWS credentials" in err
    assert "aws sso login" in err


def test_no_region_exits_2_and_says_where_to_set_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given no region anywhere boto3 looks, and prod's cdk.json block without one
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))

    # When the CLI connects, Then it exits 2 naming the ways to give one
    assert main(["--environment", "prod", "status"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "no AWS region" in err
    assert "--region" in err


def test_an_unknown_environment_lists_the_ones_there_are(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--environment", "staging", "status"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "no environment 'staging'" in err
    assert "dev, prod" in err


def test_credentials_errors_from_aws_are_named(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    def connect(_args: object) -> Ops:
        raise NoCredentialsError()

    assert main(["-e", "prod", "status"], connect_to=connect) == EXIT_USAGE
    assert "no usable AWS credentials" in capsys.readouterr().err
