"""The runner's stand-ins for AWS behaviour the handlers rely on: async invoke retries and the SQS
event source (batching, partial failures, crashes, redrive), on moto with stub functions."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local_runner.async_invoke import AsyncInvoker
from local_runner.aws_hooks import InjectedCrash
from local_runner.event_source import SqsEventSource
from local_runner.functions import InvocationStats, LambdaContext
from local_runner.inventory import drain_queue
from local_runner.workload import PlannedEvent

REGION = "eu-west-1"


def _context() -> LambdaContext:
    return LambdaContext("fn", timeout_s=10, memory_limit_in_mb=128, region=REGION, account_id="123456789012")


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)


def _ingest(sqs: Any, handler: Any, events: list[PlannedEvent]) -> tuple[AsyncInvoker, str]:
    failure_url = sqs.create_queue(QueueName="failures")["QueueUrl"]
    driver = AsyncInvoker(
        events=events,
        handler=handler,
        context_factory=_context,
        invocations=InvocationStats(),
        sqs=sqs,
        failure_queue_url=failure_url,
        retry_attempts=2,
        retry_delay_scale=0.001,  # 60 s and 120 s become 0.06 s and 0.12 s
        on_first_event=lambda conversation_id: None,
        timeout_s=10,
        events_per_second=None,
    )
    driver.start()
    driver.join(timeout=10)
    assert driver.done.is_set()
    return driver, failure_url


def test_a_failing_event_is_retried_twice_then_sent_to_the_on_failure_queue(
    sqs: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    attempts: list[Any] = []

    def always_fails(event: Any, context: Any) -> Any:
        attempts.append(event)
        raise RuntimeError("table throttled")

    driver, failure_url = _ingest(sqs, always_fails, [PlannedEvent({"id": "e1"}, "c1", "acw")])

    assert len(attempts) == 3
    assert driver.tally.errors == 3
    assert driver.tally.retries == 2
    [message] = drain_queue(sqs, failure_url)
    record = json.loads(message["Body"])
    assert record["requestPayload"] == {"id": "e1"}
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responsePayload"]["errorMessage"] == "table throttled"
    # And the cause of every failed attempt is in the function's log, with what happened next
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    errors = [entry for entry in logged if entry.get("message") == "function invocation failed"]
    assert [(e["errorType"], e["errorMessage"], e["attempt"]) for e in errors] == [
        ("RuntimeError", "table throttled", 1),
        ("RuntimeError", "table throttled", 2),
        ("RuntimeError", "table throttled", 3),
    ]
    assert errors[-1]["then"] == "on-failure queue"
    assert errors[0]["then"].startswith("retry in")
    assert driver.tally.error_causes == {"RuntimeError: table throttled": 3}


def test_an_event_that_fails_once_succeeds_on_its_retry(sqs: Any) -> None:
    calls = {"n": 0}

    def fails_once(event: Any, context: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("transient")
        return {"outcome": "created"}

    driver, failure_url = _ingest(sqs, fails_once, [PlannedEvent({"id": "e1"}, "c1", "acw")])

    assert driver.tally.created == 1
    assert driver.tally.retries == 1
    assert drain_queue(sqs, failure_url) == []


def _source(
    sqs: Any, handler: Any, *, batch_size: int, max_receive: int = 3
) -> tuple[SqsEventSource, str, str]:
    dlq_url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName="work",
        Attributes={
            "VisibilityTimeout": "1",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive}),
        },
    )["QueueUrl"]
    source = SqsEventSource(
        sqs=sqs,
        queue_url=url,
        queue_arn="arn:aws:sqs:eu-west-1:123456789012:work",
        region=REGION,
        handler=handler,
        context_factory=_context,
        invocations=InvocationStats(),
        batch_size=batch_size,
        batching_window_s=0.3,
        concurrency=2,
        timeout_s=10,
    )
    return source, url, dlq_url


def _wait(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_batches_fill_up_to_the_batch_size_and_acknowledged_messages_are_deleted(sqs: Any) -> None:
    batches: list[list[dict[str, Any]]] = []

    def processor(event: dict[str, Any], context: Any) -> dict[str, Any]:
        batches.append(event["Records"])
        return {"batchItemFailures": []}

    source, url, dlq_url = _source(sqs, processor, batch_size=5)
    for n in range(12):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"conversationId": str(n)}))
    source.start()
    try:
        _wait(lambda: sum(len(b) for b in batches) == 12)
        _wait(lambda: source.tally.records_deleted == 12)
    finally:
        source.stop_requested.set()
        source.join(5)

    assert max(len(b) for b in batches) == 5  # never more than the batch size
    record = batches[0][0]
    assert record["eventSource"] == "aws:sqs"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert drain_queue(sqs, url) == drain_queue(sqs, dlq_url) == []


def test_reported_failures_come_back_and_go_to_the_dlq_after_max_receive_count(sqs: Any) -> None:
    seen: dict[str, int] = {}

    def processor(event: dict[str, Any], context: Any) -> dict[str, Any]:
        failures = []
        for record in event["Records"]:
            seen[record["body"]] = seen.get(record["body"], 0) + 1
            if record["body"] == "poison":
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    source, url, dlq_url = _source(sqs, processor, batch_size=10, max_receive=2)
    sqs.send_message(QueueUrl=url, MessageBody="good")
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    source.start()
    try:
        _wait(lambda: seen.get("poison", 0) >= 2)
        time.sleep(1.5)  # visible again: the next receive moves it to the DLQ instead of delivering it
    finally:
        source.stop_requested.set()
        source.join(5)
    assert seen == {"good": 1, "poison": 2}
    assert [m["Body"] for m in drain_queue(sqs, dlq_url)] == ["poison"]


def test_a_crashed_invocation_leaves_its_whole_batch_to_be_delivered_again(
    sqs: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    deliveries: list[int] = []

    def processor(event: dict[str, Any], context: Any) -> dict[str, Any]:
        deliveries.append(len(event["Records"]))
        if len(deliveries) == 1:
            raise InjectedCrash("process died")
        return {"batchItemFailures": []}

    source, url, _ = _source(sqs, processor, batch_size=10)
    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(n))
    source.start()
    try:
        _wait(lambda: source.tally.records_deleted == 3)
    finally:
        source.stop_requested.set()
        source.join(5)
    assert source.tally.crashed_invocations == 1
    # every message the crash held came back after the visibility timeout (the poller may have handed the
    # crash fewer than all three, when a receive returned early)
    crashed_batch = deliveries[0]
    assert sum(deliveries) == 3 + crashed_batch
    assert source.tally.records_returned_by_error == {"InjectedCrash": crashed_batch}
    assert '"errorType": "InjectedCrash"' in capsys.readouterr().out  # the cause is logged


def test_concurrent_invocations_each_flush_only_their_own_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a handler module with Powertools Metrics, as the runner loads it, with a metric context per
    # invocation thread
    import threading
    from types import ModuleType

    from aws_lambda_powertools import Metrics

    from local_runner.functions import isolate_metrics

    module = ModuleType("stub_handler")
    metrics = Metrics(namespace="Test", service="stub")
    module.metrics = metrics  # type: ignore[attr-defined]
    isolate_metrics(module)

    @metrics.log_metrics
    def handler(event: Any, context: Any) -> None:
        for _ in range(event):
            metrics.add_metric(name="Things", unit="Count", value=1)
            time.sleep(0)  # let the other threads interleave

    # When 8 threads run 40 invocations each at once, invocation n adding n % 3 + 1 values
    errors: list[BaseException] = []

    def invoke_many(thread: int) -> None:
        try:
            for n in range(40):
                handler(n % 3 + 1, None)
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=invoke_many, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then no flush found its set emptied by another, each EMF record holds one invocation's values,
    # and the sum is exact
    assert errors == []
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert len(records) == 8 * 40
    sizes = [len(r["Things"]) if isinstance(r["Things"], list) else 1 for r in records]
    assert sorted(sizes) == sorted([n % 3 + 1 for n in range(40)] * 8)
    assert sum(sizes) == 8 * sum(n % 3 + 1 for n in range(40))


def test_the_function_log_gives_exact_emf_sums_and_the_deferrals_by_cause(tmp_path: Any) -> None:
    # Given a function log as the handlers write it: EMF records (single values and lists), the
    # processor's deferral lines, other JSON lines, a line nested too deeply and a non-JSON line
    from local_runner.function_logs import read_function_log

    def emf(service: str, **values: Any) -> str:
        metrics = [{"Name": name, "Unit": "Count"} for name in values]
        directive = {"Namespace": "N", "Dimensions": [["service"]], "Metrics": metrics}
        return json.dumps(
            {"_aws": {"Timestamp": 1, "CloudWatchMetrics": [directive]}, "service": service, **values}
        )

    log = tmp_path / "handlers.log"
    log.write_text(
        "\n".join(
            [
                emf("ingest", EventsReceived=[1.0, 1.0, 1.0]),
                emf("ingest", EventsReceived=1.0, DuplicateEvents=1.0),
                emf("processor", ConversationsFetched=[1.0, 1.0], ConversationsNotReady=3.0),
                json.dumps(
                    {"level": "WARNING", "message": "conversations deferred", "deferred": {"RetryLater": 4}}
                ),
                json.dumps({"level": "WARNING", "deferred": {"RetryLater": 1, "GenesysApiError": 2}}),
                json.dumps({"level": "INFO", "message": "batch processed", "records": 10}),
                '{"a":' * 1200 + "1" + "}" * 1200,
                "[ERROR] not json",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    # When it is read
    figures = read_function_log(log)
    # Then every value counts once and the deferrals add up by cause
    assert figures.emf == {
        "ingest": {"EventsReceived": 4.0, "DuplicateEvents": 1.0},
        "processor": {"ConversationsFetched": 2.0, "ConversationsNotReady": 3.0},
    }
    assert figures.deferred == {"RetryLater": 5, "GenesysApiError": 2}
