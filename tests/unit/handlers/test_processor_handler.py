"""The processor Lambda handler end to end: moto for AWS, `responses` for Genesys, the real client."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import responses

from genesys_bridge import contracts, runtime
from genesys_bridge.buffer import BufferTable
from lambdas.processor import handler as processor
from tests.unit.conftest import DETAILS_URL, TOKEN_URL, serve_details
from tests.unit.domain.builders import (
    BUCKET,
    TABLE,
    Aws,
    LambdaContextStub,
    capture_calls,
    capture_errors,
    conversation,
    delivered,
    new_ids,
    sqs_event,
    stack_set_env,
    work_message,
)
from tests.unit.handlers.test_ingest_handler import emitted_metrics


@pytest.fixture
def processor_env(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Aws:
    secret_arn = aws_secret(aws)
    for name, value in {
        contracts.BUFFER_TABLE_NAME: TABLE,
        contracts.RESULTS_BUCKET_NAME: BUCKET,
        contracts.GENESYS_REGION: "mypurecloud.ie",
        contracts.GENESYS_CREDENTIALS_SECRET_ARN: secret_arn,
        contracts.WORK_QUEUE_URL: aws.work_url,
        contracts.WORK_DLQ_URL: aws.dlq_url,
        **stack_set_env(ingest=False),
        # unpaced: the test's Genesys answers at once
        contracts.GENESYS_MAX_REQUESTS_PER_MINUTE: "6000",
    }.items():
        monkeypatch.setenv(name, value)
    return aws


def aws_secret(aws: Aws) -> str:
    import boto3

    secrets = boto3.client("secretsmanager", region_name="eu-west-1")
    created = secrets.create_secret(
        Name="genesys-credentials", SecretString=json.dumps({"client_id": "id-1", "client_secret": "s3cret"})
    )
    arn: str = created["ARN"]
    return arn


def buffered(aws: Aws, ids: list[str]) -> None:
    buffer = BufferTable(aws.dynamodb, TABLE, ttl_hours=48)
    for conversation_id in ids:
        buffer.record_event(conversation_id)


def invoke(event: dict[str, Any], remaining_ms: int = 60_000) -> dict[str, Any]:
    return processor.handler(event, LambdaContextStub(remaining_ms=remaining_ms))


def test_a_batch_lands_ended_conversations_and_reports_the_not_ready_one(
    processor_env: Aws,
    genesys_api: responses.RequestsMock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given two ended conversations and one Genesys does not know yet, buffered and received from the queue
    aws = processor_env
    ended, not_ready = new_ids(2), new_ids(1)[0]
    buffered(aws, [*ended, not_ready])
    serve_details(genesys_api, {i: conversation(i) for i in ended})
    records = delivered(aws, [{"conversationId": i} for i in [*ended, not_ready]])
    visibility = capture_calls(runtime.sqs_client(), "ChangeMessageVisibility")
    refused = capture_errors(runtime.sqs_client(), "ChangeMessageVisibility")

    # When the processor is invoked with their batch
    response = invoke(sqs_event(records))

    # Then the response reports only the not-ready message, whose visibility was pushed out
    assert response == {"batchItemFailures": [{"itemIdentifier": records[2]["messageId"]}]}
    [wait] = [call["VisibilityTimeout"] for call in visibility]
    assert 60 <= wait <= 120  # the schedule's 60 s, stretched to the next minute of the refetch grid
    assert refused == []  # SQS accepted the change
    assert len(aws.object_keys()) == 2
    assert {i: aws.item(i)[contracts.ATTR_STATUS] for i in ended} == dict.fromkeys(  # type: ignore[index]
        ended, contracts.STATUS_FETCHED
    )
    output = capsys.readouterr().out
    totals = emitted_metrics(output)
    assert totals.pop("LandingLatency") >= 0
    assert totals == {
        "ConversationsFetched": 2,
        "ConversationsNotReady": 1,
        "GenesysRequests": 1,
    }
    # and one landing latency per landed conversation, in seconds, as a distribution (not a sum)
    [latencies] = emitted_values(output, "LandingLatency")
    assert latencies["Unit"] == "Seconds"
    assert len(latencies["Values"]) == 2
    assert all(0 <= value < 60 for value in latencies["Values"])


def emitted_values(output: str, name: str) -> list[dict[str, Any]]:
    """The unit and values of metric `name` in each EMF document Powertools printed."""
    found = []
    for line in output.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                if metric["Name"] == name:
                    values = document[name]
                    found.append(
                        {"Unit": metric["Unit"], "Values": values if isinstance(values, list) else [values]}
                    )
    return found


def test_credentials_and_token_are_fetched_once_per_container(
    processor_env: Aws, genesys_api: responses.RequestsMock
) -> None:
    # Given a warm container that already processed one batch
    aws = processor_env
    first, second = new_ids(2)
    buffered(aws, [first, second])
    serve_details(genesys_api, {first: conversation(first), second: conversation(second)})
    invoke(sqs_event([work_message(first)]))
    client = runtime.genesys_client()

    # When a second batch arrives
    response = invoke(sqs_event([work_message(second)]))

    # Then it reuses the client (credentials read once) and the token (one token request)
    assert response == {"batchItemFailures": []}
    assert runtime.genesys_client() is client
    assert sum(1 for call in genesys_api.calls if call.request.url == TOKEN_URL) == 1


def test_a_429_beyond_the_deadline_fails_the_whole_batch_and_marks_nothing(
    processor_env: Aws, genesys_api: responses.RequestsMock
) -> None:
    # Given Genesys throttling with a Retry-After of 30 s, and an invocation with 6 s left
    aws = processor_env
    ids = new_ids(5)
    buffered(aws, ids)
    genesys_api.add(
        responses.GET, DETAILS_URL, status=429, headers={"Retry-After": "30"}, json={"status": 429}
    )
    records = [work_message(i) for i in ids]

    # When the batch is processed
    response = invoke(sqs_event(records), remaining_ms=6_000)

    # Then every message is reported for retry and nothing was landed, marked or dead-lettered
    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == sorted(
        r["messageId"] for r in records
    )
    assert {item[contracts.ATTR_STATUS] for item in aws.items()} == {contracts.STATUS_PENDING}
    assert aws.object_keys() == []
    assert aws.messages("work-dlq") == []


def test_reset_forgets_settings_and_clients(processor_env: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a runtime whose settings were loaded
    assert runtime.processor_settings().genesys_ids_per_request == 100
    monkeypatch.setenv(contracts.GENESYS_IDS_PER_REQUEST, "50")

    # When it is reset, then the next use reads the environment again
    assert runtime.processor_settings().genesys_ids_per_request == 100  # still cached
    runtime.reset()
    assert runtime.processor_settings().genesys_ids_per_request == 50


def test_a_rotated_secret_reaches_a_warm_container_once_its_cache_expires(
    processor_env: Aws, genesys_api: responses.RequestsMock
) -> None:
    # Given a warm container that processed a batch with the first credentials
    aws = processor_env
    first, second = new_ids(2)
    buffered(aws, [first, second])
    serve_details(genesys_api, {first: conversation(first), second: conversation(second)})
    invoke(sqs_event([work_message(first)]))

    # When the secret is rotated and the cached copy has expired (Powertools' max_age)
    import boto3
    from aws_lambda_powertools.utilities import parameters

    secrets = boto3.client("secretsmanager", region_name="eu-west-1")
    secrets.put_secret_value(
        SecretId=runtime.processor_settings().genesys_credentials_secret_arn,
        SecretString=json.dumps({"client_id": "id-2", "client_secret": "rotated"}),
    )
    parameters.clear_caches()
    response = invoke(sqs_event([work_message(second)]))

    # Then the next batch fetched a token with the new credentials and still landed its conversation
    assert response == {"batchItemFailures": []}
    token_auth = [
        call.request.headers["Authorization"] for call in genesys_api.calls if call.request.url == TOKEN_URL
    ]
    assert token_auth[-1] == "Basic " + base64.b64encode(b"id-2:rotated").decode()
    assert len(token_auth) == 2


@pytest.mark.parametrize(
    "value",
    [
        "client_id=id-1;client_secret=hunter2-secret",  # not JSON
        '["id-1", "hunter2-secret"]',  # JSON, not an object
        '{"clientId": "id-1", "clientSecret": "hunter2-secret"}',  # other key names
        '{"client_id": "id-1", "client_secret": ""}',  # an empty secret
    ],
    ids=["not-json", "a-list", "wrong-keys", "empty-secret"],
)
# The invocation fails before any metric: Powertools' "no metrics" warning is expected here.
@pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")
def test_a_secret_of_the_wrong_shape_is_named_with_the_shape_it_needs_and_never_shown(
    processor_env: Aws, value: str
) -> None:
    # Given the credentials secret holding something other than the expected JSON object
    import boto3

    secret_arn = runtime.processor_settings().genesys_credentials_secret_arn
    boto3.client("secretsmanager", region_name="eu-west-1").put_secret_value(
        SecretId=secret_arn, SecretString=value
    )
    runtime.reset()

    # When the processor is invoked
    with pytest.raises(ValueError, match="Genesys credentials secret") as raised:
        invoke(sqs_event([work_message(new_ids(1)[0])]))

    # Then the error names the secret and the shape, and shows no part of the value
    message = str(raised.value)
    assert secret_arn in message
    assert '{"client_id": "...", "client_secret": "..."}' in message
    assert "hunter2" not in message
