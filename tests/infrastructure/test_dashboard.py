"""The operations dashboard: one per environment, charting every metric an operator reads first."""

from __future__ import annotations

import json
from typing import Any

from genesys_bridge import contracts
from genesys_bridge.metrics import MetricName
from tests.infrastructure.conftest import SynthesizedEnvironment
from tests.infrastructure.test_resources import logical_id_of, resources


def _placeholder(token: dict[str, Any]) -> str:
    """A CloudFormation token as text: `Ref:<id>` or `GetAtt:<id>.<attribute>`."""
    if "Ref" in token:
        return f"Ref:{token['Ref']}"
    logical_id, attribute = token["Fn::GetAtt"]
    return f"GetAtt:{logical_id}.{attribute}"


def dashboard_body(environment: SynthesizedEnvironment) -> dict[str, Any]:
    """The dashboard's JSON body with CloudFormation tokens written as placeholders."""
    [dashboard] = resources(environment, "AWS::CloudWatch::Dashboard").values()
    separator, parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"]
    text = separator.join(part if isinstance(part, str) else _placeholder(part) for part in parts)
    body: dict[str, Any] = json.loads(text)
    return body


def charted(environment: SynthesizedEnvironment) -> list[tuple[str, str, dict[str, str], str]]:
    """(namespace, metric name, dimensions, statistic) of every line of every graph."""
    lines = []
    for widget in dashboard_body(environment)["widgets"]:
        for metric in widget["properties"].get("metrics", []):
            *identity, options = metric
            namespace, name, *dimension_pairs = identity
            dimensions = dict(zip(dimension_pairs[::2], dimension_pairs[1::2], strict=True))
            lines.append((namespace, name, dimensions, options["stat"]))
    return lines


def test_the_dashboard_is_named_like_the_stack(each_environment: SynthesizedEnvironment) -> None:
    each_environment.template.has_resource_properties(
        "AWS::CloudWatch::Dashboard", {"DashboardName": each_environment.config.stack_name}
    )


def test_the_dashboard_charts_what_each_function_emits(each_environment: SynthesizedEnvironment) -> None:
    lines = charted(each_environment)
    by_service = {
        contracts.INGEST_SERVICE: (
            MetricName.EVENTS_RECEIVED,
            MetricName.DUPLICATE_EVENTS,
            MetricName.EVENTS_QUARANTINED,
        ),
        contracts.PROCESSOR_SERVICE: (
            MetricName.CONVERSATIONS_FETCHED,
            MetricName.CONVERSATIONS_NOT_READY,
            MetricName.CONVERSATIONS_FAILED,
            MetricName.GENESYS_REQUESTS,
            MetricName.GENESYS_THROTTLED,
            MetricName.GENESYS_ERRORS,
        ),
    }
    for service, names in by_service.items():
        for name in names:
            assert (contracts.METRICS_NAMESPACE, name, {"service": service}, "Sum") in lines, name


def test_the_dashboard_charts_landing_latency_at_the_median_and_the_99th_percentile(
    each_environment: SynthesizedEnvironment,
) -> None:
    latency = [
        statistic
        for namespace, name, dimensions, statistic in charted(each_environment)
        if (namespace, name, dimensions)
        == (contracts.METRICS_NAMESPACE, "LandingLatency", {"service": contracts.PROCESSOR_SERVICE})
    ]
    assert latency == ["p50", "p99"]


def test_the_dashboard_charts_the_work_queue_and_every_dead_letter_queue(
    each_environment: SynthesizedEnvironment,
) -> None:
    def queue_name(path_part: str) -> dict[str, str]:
        logical_id = logical_id_of(each_environment, "AWS::SQS::Queue", path_part)
        return {"QueueName": f"GetAtt:{logical_id}.QueueName"}

    lines = {
        (namespace, name, json.dumps(dimensions))
        for namespace, name, dimensions, _ in charted(each_environment)
    }
    work_queue = json.dumps(queue_name("/WorkQueue/"))
    for name in (
        "ApproximateNumberOfMessagesVisible",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
        "ApproximateAgeOfOldestMessage",
    ):
        assert ("AWS/SQS", name, work_queue) in lines, name
    # every queue other than the work queue is a dead-letter or quarantine queue: each has its depth
    for logical_id, queue in resources(each_environment, "AWS::SQS::Queue").items():
        if "/WorkQueue/" in queue["Metadata"]["aws:cdk:path"]:
            continue
        depth = json.dumps({"QueueName": f"GetAtt:{logical_id}.QueueName"})
        assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", depth) in lines, logical_id


def test_the_dashboard_charts_pipe_failures_and_every_alarm(each_environment: SynthesizedEnvironment) -> None:
    pipe = {"PipeName": f"Ref:{logical_id_of(each_environment, 'AWS::Pipes::Pipe', '/Buffer/')}"}
    lines = charted(each_environment)
    for name in ("ExecutionFailed", "ExecutionPartiallyFailed", "ExecutionTimeout"):
        assert ("AWS/EventBridge/Pipes", name, pipe, "Sum") in lines, name
    # Pipes publishes ExecutionThrottled under the account as well: without it the line shows nothing
    throttled = {"AwsAccountId": "Ref:AWS::AccountId", **pipe}
    assert ("AWS/EventBridge/Pipes", "ExecutionThrottled", throttled, "Sum") in lines
    [alarm_widget] = [
        widget for widget in dashboard_body(each_environment)["widgets"] if "alarms" in widget["properties"]
    ]
    shown = set(alarm_widget["properties"]["alarms"])
    assert shown == {
        f"GetAtt:{logical_id}.Arn" for logical_id in resources(each_environment, "AWS::CloudWatch::Alarm")
    }
