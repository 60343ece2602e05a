"""`status`: every queue's depth, dead-letter reasons grouped (messages left in place), alarms in ALARM."""

from __future__ import annotations

from tests.unit.ops.conftest import STACK, Deployed

CONVERSATION_ID = "0a5f8e21-9c43-4d7b-b612-3e8d4c7a9f10"


def _alarm(deployed: Deployed, name: str, *, ours: bool, state: str) -> None:
    deployed.cloudwatch.put_metric_alarm(
        AlarmName=name,
        AlarmDescription=f"description of {name}",
        MetricName="ApproximateNumberOfMessagesVisible",
        Namespace="AWS/SQS",
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[deployed.topic_arn] if ours else [],
    )
    deployed.cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")


def test_status_shows_depths_groups_dead_letter_reasons_and_lists_only_this_stacks_alarms(
    deployed: Deployed,
) -> None:
    # Given work waiting, dead letters of several kinds, and alarms of this stack and of another
    deployed.send("work", {"conversationId": CONVERSATION_ID})
    deployed.send("pipe-dlq", {"DDBStreamBatchInfo": {}})
    for reason in ("not_ready_max_age", "not_ready_max_age", "genesys_rejected"):
        deployed.send("work-dlq", {"reason": reason, "message": "m", "conversationId": CONVERSATION_ID})
    deployed.send("work-dlq", {"conversationId": CONVERSATION_ID})  # moved there by SQS itself
    deployed.send(
        "rule-dlq",
        {"detail-type": "x"},
        MessageAttributes={"ERROR_CODE": {"DataType": "String", "StringValue": "Throttling"}},
    )
    deployed.send(
        "failed-invocations",
        {
            "requestContext": {"condition": "RetriesExhausted"},
            "responsePayload": {"errorType": "ClientError"},
        },
    )
    deployed.send("quarantine", {"reason": "invalid_detail_type", "message": "m", "event": {}})
    deployed.send("audit-schedule-dlq", {"scheduleArn": "arn:aws:scheduler:eu-west-1:1:schedule/d/audit"})
    deployed.send("lookups-schedule-dlq", {"scheduleArn": "arn:aws:scheduler:eu-west-1:1:schedule/d/lookups"})
    _alarm(deployed, f"{STACK}-WorkDeadLetterQueueNotEmpty", ours=True, state="ALARM")
    _alarm(deployed, f"{STACK}-PipeFailures", ours=True, state="OK")
    _alarm(deployed, "someone-elses-alarm", ours=False, state="ALARM")

    # When status is asked for
    result = deployed.ops.status()

    # Then every queue is listed with its depth, and each dead-letter queue's reasons are grouped
    queues = {entry["name"]: entry for entry in result["queues"]}
    assert list(queues) == [
        "work",
        "work-dlq",
        "pipe-dlq",
        "pipe-unresolved",
        "quarantine",
        "rule-dlq",
        "failed-invocations",
        "audit-schedule-dlq",
        "lookups-schedule-dlq",
    ]
    assert queues["work"]["visible"] == 1
    assert queues["work-dlq"]["reasons"] == {
        "not_ready_max_age": 2,
        "genesys_rejected": 1,
        "no reason recorded (moved by SQS after its receives ran out)": 1,
    }
    assert queues["rule-dlq"]["reasons"] == {"Throttling": 1}
    assert queues["failed-invocations"]["reasons"] == {"RetriesExhausted: ClientError": 1}
    assert queues["quarantine"]["reasons"] == {"invalid_detail_type": 1}
    assert queues["audit-schedule-dlq"]["reasons"] == {"the schedule could not start its execution": 1}
    assert queues["lookups-schedule-dlq"]["reasons"] == {"the schedule could not start its execution": 1}
    assert queues["pipe-unresolved"]["visible"] == 0
    # and the queues a function consumes are counted, never sampled
    assert "reasons" not in queues["pipe-dlq"]
    assert "reasons" not in queues["work"]
    # and only this stack's alarms in ALARM are listed
    assert [alarm["name"] for alarm in result["alarms"]] == [f"{STACK}-WorkDeadLetterQueueNotEmpty"]
    # and every sampled message is still in its queue, visible
    assert deployed.visible("work-dlq") == 4
    assert deployed.visible("rule-dlq") == 1
