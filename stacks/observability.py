"""Observability: alarms on everything that means a conversation may be late or lost, to one SNS topic."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_pipes_alpha as pipes
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from genesys_bridge import contracts
from genesys_bridge.metrics import MetricName

PIPES_NAMESPACE = "AWS/EventBridge/Pipes"
ALARM_PERIOD = Duration.minutes(5)


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alarm_email: str | None,
        terminal_queues: Mapping[str, sqs.IQueue],
        functions: Mapping[str, lambda_.IFunction],
        work_queue: sqs.IQueue,
        work_queue_age_alarm: Duration,
        pipe: pipes.IPipe,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarm_topic = sns.Topic(
            self, "AlarmTopic", display_name="Genesys Analytics Bridge alarms", enforce_ssl=True
        )
        # enforce_ssl gives the topic a policy of its own, which replaces SNS's default one: without
        # this statement CloudWatch alarms change state but may not publish, and nobody hears of them.
        self.alarm_topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.alarm_topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )
        if alarm_email is not None:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self._action = cloudwatch_actions.SnsAction(self.alarm_topic)
        self.alarms: list[cloudwatch.Alarm] = []

        for name, queue in terminal_queues.items():
            self._alarm(
                f"{name}NotEmpty",
                f"{name} holds messages: conversations are waiting for an operator",
                queue.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
                threshold=0,
            )
        for name, function in functions.items():
            self._alarm(
                f"{name}Errors",
                f"{name} function invocations failed",
                function.metric_errors(period=ALARM_PERIOD, statistic="Sum"),
                threshold=0,
            )
        # An asynchronously invoked function (ingest) loses an event silently in two ways that no
        # queue depth shows: its on-failure destination refuses the record, or Lambda drops the event.
        ingest = functions["Ingest"]
        for metric_name, description in (
            (
                "DestinationDeliveryFailures",
                "a failed ingest event could not be sent to its on-failure queue",
            ),
            ("AsyncEventsDropped", "Lambda dropped ingest events without running them"),
        ):
            self._alarm(
                f"Ingest{metric_name}",
                f"Lost events: {description}",
                ingest.metric(metric_name, period=ALARM_PERIOD, statistic="Sum"),
                threshold=0,
            )
        self._alarm(
            "WorkQueueBacklog",
            "The oldest work queue message waits longer than expected: the processor is not keeping up",
            work_queue.metric_approximate_age_of_oldest_message(period=ALARM_PERIOD, statistic="Maximum"),
            threshold=work_queue_age_alarm.to_seconds(),
        )
        self._alarm(
            "PipeFailures",
            "The buffer-to-work-queue pipe failed executions",
            cloudwatch.MathExpression(
                expression="failed + partiallyFailed",
                using_metrics={
                    "failed": self._pipe_metric(pipe, "ExecutionFailed"),
                    "partiallyFailed": self._pipe_metric(pipe, "ExecutionPartiallyFailed"),
                },
                period=ALARM_PERIOD,
                label="pipe execution failures",
            ),
            threshold=0,
        )

    @staticmethod
    def _pipe_metric(pipe: pipes.IPipe, metric_name: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=PIPES_NAMESPACE,
            metric_name=metric_name,
            dimensions_map={"PipeName": pipe.pipe_name},
            statistic="Sum",
            period=ALARM_PERIOD,
        )

    def watch_audit(self, state_machine: sfn.IStateMachine, *, missing_threshold: int) -> None:
        """Alarms of the audit workflow: an execution that failed (its day stays unreported), and an audit
        that found more missing conversations than the threshold (the live path is leaking)."""
        self._alarm(
            "AuditExecutionsFailed",
            "An audit or finalize execution failed, timed out or was aborted: its day has no complete report",
            cloudwatch.MathExpression(
                expression="failed + timedOut + aborted",
                using_metrics={
                    "failed": state_machine.metric_failed(period=ALARM_PERIOD, statistic="Sum"),
                    "timedOut": state_machine.metric_timed_out(period=ALARM_PERIOD, statistic="Sum"),
                    "aborted": state_machine.metric_aborted(period=ALARM_PERIOD, statistic="Sum"),
                },
                period=ALARM_PERIOD,
                label="audit executions failed",
            ),
            threshold=0,
        )
        # One value per audited day; the alarm keeps its state until the next report (missing data is
        # ignored), so a leak stays visible until an audit finds the live path whole again.
        self._alarm(
            "AuditFoundMissingConversations",
            f"An audit landed more than {missing_threshold} conversations the live path had missed",
            cloudwatch.Metric(
                namespace=contracts.METRICS_NAMESPACE,
                metric_name=MetricName.AUDIT_MISSING_CONVERSATIONS,
                dimensions_map={"service": contracts.AUDIT_SERVICE},
                statistic="Maximum",
                period=Duration.hours(1),
            ),
            threshold=missing_threshold,
            treat_missing_data=cloudwatch.TreatMissingData.IGNORE,
        )

    def _alarm(
        self,
        alarm_id: str,
        description: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        treat_missing_data: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            alarm_id,
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=treat_missing_data,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms.append(alarm)
