"""`backfill` as it reaches AWS: the workflow and the bucket from the stack's outputs (the one reader,
ops.stack.describe_stack), and every failure, bad argument or AWS refusal, as one line and an exit
status, with nothing lost."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from genesys_bridge import contracts
from genesys_bridge.audit.errors import AwsUnavailable
from genesys_bridge.audit.model import AuditMode, report_key
from ops.backfill import Connection, Environment, Wiring
from ops.backfill_executors import Progress
from ops.cli import main
from ops.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE

REGION = "eu-west-1"
STACK = "GenesysAnalyticsBridge-prod"
BUCKET = "bridge-results"
NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
RANGE = ["--from", "2026-11-17", "--to", "2026-11-18"]


@dataclass
class Deployed:
    sfn: Any
    s3: Any
    machine_arn: str


def _deploy(monkeypatch: pytest.MonkeyPatch, outputs: dict[str, str]) -> None:
    """The stack, as CloudFormation describes it to every client the command creates (moto's
    CloudFormation needs extras this suite does not install; the rest is moto)."""
    real_client = boto3.session.Session.client

    def client(session: Any, service: str, *args: Any, **kwargs: Any) -> Any:
        made = real_client(session, service, *args, **kwargs)
        if service == "cloudformation":
            stack = {
                "StackName": STACK,
                "CreationTime": NOW,
                "StackStatus": "UPDATE_COMPLETE",
                "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in outputs.items()],
            }
            stubber = Stubber(made)
            stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": STACK})
            stubber.activate()
        return made

    monkeypatch.setattr(boto3.session.Session, "client", client)


@pytest.fixture
def aws() -> Iterator[Deployed]:
    """moto with the audit state machine and the results bucket (the stack is deployed per test)."""
    with mock_aws():
        sfn = boto3.client("stepfunctions", region_name=REGION)
        definition = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 3600, "End": True}}}
        arn = sfn.create_state_machine(
            name=f"{STACK}-audit",
            definition=json.dumps(definition),
            roleArn="arn:aws:iam::123456789012:role/audit",
        )["stateMachineArn"]
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield Deployed(sfn=sfn, s3=s3, machine_arn=arn)


def backfill(*argv: str, out: io.StringIO | None = None, wiring: Wiring | None = None) -> int:
    """`python -m ops --environment prod --region eu-west-1 backfill ...` with the real AWS wiring."""
    wiring = wiring or Wiring(now=lambda: NOW, out=out or io.StringIO())
    try:
        return main(["--environment", "prod", "--region", REGION, "backfill", *argv], backfill_wiring=wiring)
    except SystemExit as stop:  # argparse's usage error
        return stop.code if isinstance(stop.code, int) else -1


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_the_workflow_and_the_bucket_come_from_the_stack_outputs(
    aws: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the stack's outputs name the state machine and the bucket, and one day's audit is complete
    _deploy(
        monkeypatch,
        {
            contracts.OUTPUT_AUDIT_STATE_MACHINE_ARN: aws.machine_arn,
            contracts.OUTPUT_RESULTS_BUCKET_NAME: BUCKET,
        },
    )
    aws.s3.put_object(
        Bucket=BUCKET,
        Key=report_key(date(2026, 11, 17), AuditMode.AUDIT),
        Body=json.dumps({"status": "complete"}).encode(),
    )
    out = io.StringIO()

    # When two days are backfilled (a dry run)
    assert backfill(*RANGE, "--mode", "audit", "--dry-run", out=out) == EXIT_OK

    # Then the complete day was read from that bucket and skipped, and the other would start
    assert out.getvalue().splitlines() == [
        "backfill prod 2026-11-17..2026-11-18: 2 days, 1 complete already (skipped), 1 to run, 1 at a time",
        "  2026-11-18 audit: would start",
    ]
    # And a real run starts the day on the state machine the output names
    out = io.StringIO()
    assert backfill(*RANGE, "--mode", "audit", wiring=_stopping(aws, out)) == EXIT_FAILED
    assert "[1/1] 2026-11-18 audit: FAILED (ABORTED" in out.getvalue()
    [execution] = aws.sfn.list_executions(stateMachineArn=aws.machine_arn)["executions"]
    assert json.loads(aws.sfn.describe_execution(executionArn=execution["executionArn"])["input"]) == {
        contracts.AUDIT_INPUT_DAY: "2026-11-18",
        contracts.AUDIT_INPUT_MODE: "audit",
        contracts.AUDIT_INPUT_FORCE: False,
    }


def _stopping(aws: Deployed, out: io.StringIO) -> Wiring:
    """The real wiring, whose first pause stops every running execution (moto runs no Lambda task)."""

    def sleep(_seconds: float) -> None:
        for item in aws.sfn.list_executions(stateMachineArn=aws.machine_arn, statusFilter="RUNNING")[
            "executions"
        ]:
            aws.sfn.stop_execution(executionArn=item["executionArn"])

    return Wiring(now=lambda: NOW, sleep=sleep, out=out)


def test_a_stack_without_the_workflow_output_is_named_exit_2(
    aws: Deployed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a stack deployed before the audit workflow existed
    _deploy(monkeypatch, {contracts.OUTPUT_RESULTS_BUCKET_NAME: BUCKET})
    # When it is backfilled, Then the missing output is named and nothing started
    assert backfill(*RANGE) == EXIT_USAGE
    assert "has no output AuditStateMachineArn" in one_line(capsys)
    assert aws.sfn.list_executions(stateMachineArn=aws.machine_arn)["executions"] == []


def test_a_bucket_that_does_not_exist_is_one_line_exit_1_and_starts_nothing(
    aws: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given --bucket names a bucket that is not there (the workflow given too: no stack lookup)
    argv = [*RANGE, "--state-machine-arn", aws.machine_arn, "--bucket", "no-such-bucket"]
    # When it is backfilled, Then S3's answer is one line, with the bucket, and nothing was started
    assert backfill(*argv) == EXIT_FAILED
    err = one_line(capsys)
    assert "AWS refused GetObject (NoSuchBucket no-such-bucket)" in err
    assert "nothing was started" in err
    assert aws.sfn.list_executions(stateMachineArn=aws.machine_arn)["executions"] == []


def test_no_credentials_after_the_stack_lookup_is_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given no AWS credentials anywhere boto3 looks, and the workflow and bucket given on the command
    # line (so the first AWS call is S3's, reading the days' reports)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    arn = f"arn:aws:states:{REGION}:123456789012:stateMachine:{STACK}-audit"

    # When it is backfilled, Then it says how to sign in, in one line, exit 2
    assert backfill(*RANGE, "--state-machine-arn", arn, "--bucket", BUCKET) == EXIT_USAGE
    err = one_line(capsys)
    assert err.startswith("ops: no usable AWS credentials")
    assert "aws sso login" in err


class FailingAfterStart:
    """An executor whose first progress check is refused by AWS (throttled, or credentials expired)."""

    def __init__(self) -> None:
        self.started: list[tuple[date, AuditMode]] = []

    def running(self) -> dict[Any, str]:
        return {}

    def start(self, day: date, mode: AuditMode, *, force: bool) -> str:
        self.started.append((day, mode))
        return "execution-1"

    def progress(self, handle: str) -> Progress:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "Describe")


@pytest.mark.parametrize(
    ("reports_error", "said"),
    [
        (
            None,
            "ops: AWS refused Describe (ThrottlingException): Rate exceeded; 1 execution(s) keep running "
            "in AWS; 1 day(s) not started. Run the same command again to resume.",
        ),
        (
            AwsUnavailable("GetObject x: S3 answered SlowDown"),
            "ops: AWS unavailable: GetObject x: S3 answered SlowDown; nothing was started. Run the same "
            "command again.",
        ),
    ],
)
def test_aws_failing_mid_run_is_one_line_exit_1_and_says_what_is_left(
    capsys: pytest.CaptureFixture[str], reports_error: Exception | None, said: str
) -> None:
    executor = FailingAfterStart()

    def reports(day: date, mode: AuditMode) -> dict[str, Any] | None:
        if reports_error is not None:
            raise reports_error
        return None

    def environment(_args: Any) -> Environment:
        return Environment("prod", None, 4, lambda: Connection(executor=executor, reports=reports))

    wiring = Wiring(environment=environment, now=lambda: NOW, sleep=lambda _s: None, out=io.StringIO())
    assert backfill(*RANGE, "--mode", "audit", wiring=wiring) == EXIT_FAILED
    assert one_line(capsys) == said
    assert len(executor.started) == (0 if reports_error else 1)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--poll-seconds", "-1"], "argument --poll-seconds: must be a number of seconds above 0"),
        (["--poll-seconds", "0"], "argument --poll-seconds: must be a number of seconds above 0"),
        (["--poll-seconds", "nan"], "argument --poll-seconds: must be a number of seconds above 0"),
        (["--poll-seconds", "inf"], "argument --poll-seconds: must be a number of seconds above 0"),
        (
            ["--poll-seconds", "601"],
            "argument --poll-seconds: must be a number of seconds above 0 and at most 600",
        ),
        (["--poll-seconds", "soon"], "argument --poll-seconds: 'soon' is not a number of seconds"),
        (["--from", "2026-11-1x"], "argument --from: '2026-11-1x' is not a day in the form YYYY-MM-DD"),
        (["--to", "2026-W47-5"], "argument --to: '2026-W47-5' is not a day in the form YYYY-MM-DD"),
        (
            ["--state-machine-arn", "audit"],
            "argument --state-machine-arn: 'audit' is not a state machine ARN",
        ),
        (["--bucket", "Results_Bucket"], "argument --bucket: 'Results_Bucket' is not an S3 bucket name"),
        (["--parallel", "3"], "argument --parallel: invalid choice: 3"),
    ],
)
def test_a_bad_argument_is_one_line_exit_2_before_any_aws_client(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    def refuse(_session: Any, service: str, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"an AWS client ({service}) was created for a bad argument")

    monkeypatch.setattr(boto3.session.Session, "client", refuse)
    # (each flag given last wins over the good range before it)
    assert backfill(*RANGE, *argv) == EXIT_USAGE
    assert said in one_line(capsys)


def test_json_is_refused_for_backfill(capsys: pytest.CaptureFixture[str]) -> None:
    wiring = Wiring(now=lambda: NOW, out=io.StringIO())
    assert main(["-e", "prod", "--json", "backfill", *RANGE], backfill_wiring=wiring) == EXIT_USAGE
    assert "--json does not apply to backfill" in one_line(capsys)
