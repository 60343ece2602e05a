"""Observability: alarms on everything that means a conversation may be late or lost, to one SNS topic
that e-mail recipients subscribe to, and to an existing topic (chat, paging) when one is configured."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, Fn, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
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
# Pipes metrics published under AwsAccountId and PipeName; the others under PipeName alone
# (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-monitoring.html).
PIPE_METRICS_BY_ACCOUNT_AND_PIPE = frozenset({"ExecutionThrottled", "Invocations"})
EVENTS_NAMESPACE = "AWS/Events"
ALARM_PERIOD = Duration.minutes(5)
# Genesys error and 429 rates must stay above their threshold this many periods in a row (15 minutes):
# one bad batch is not an outage.
RATE_ALARM_PERIODS = 3
DEFAULT_EVENT_BUS = "default"


def bridge_metric(
    name: MetricName, service: str, *, statistic: str = "Sum", period: Duration = ALARM_PERIOD
) -> cloudwatch.Metric:
    """A metric the functions emit (Powertools EMF: namespace contracts.METRICS_NAMESPACE, dimension
    `service`)."""
    return cloudwatch.Metric(
        namespace=contracts.METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": service},
        statistic=statistic,
        period=period,
    )


def pipe_metric(pipe: pipes.IPipe, metric_name: str, *, period: Duration = ALARM_PERIOD) -> cloudwatch.Metric:
    """A metric of the pipe, with the dimensions Pipes publishes it under: a metric queried with other
    dimensions than its own shows no data."""
    dimensions = {"PipeName": pipe.pipe_name}
    if metric_name in PIPE_METRICS_BY_ACCOUNT_AND_PIPE:
        dimensions = {"AwsAccountId": Stack.of(pipe).account, **dimensions}
    return cloudwatch.Metric(
        namespace=PIPES_NAMESPACE,
        metric_name=metric_name,
        dimensions_map=dimensions,
        statistic="Sum",
        period=period,
    )


def rule_metric(
    rule: events.IRule, event_bus_name: str, metric_name: str, *, period: Duration = ALARM_PERIOD
) -> cloudwatch.Metric:
    """A metric of an EventBridge rule. A rule on a custom bus reports under EventBusName and RuleName, a
    rule on the default bus under RuleName alone
    (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html)."""
    # The rule's name is the last part of its ARN, rule/[<bus name>/]<rule name>
    # (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridge.html);
    # a partner bus name holds slashes of its own, which are known at synth.
    on_default_bus = event_bus_name == DEFAULT_EVENT_BUS
    name_index = 1 if on_default_bus else 2 + event_bus_name.count("/")
    rule_name = Fn.select(name_index, Fn.split("/", rule.rule_arn))
    dimensions = (
        {"RuleName": rule_name} if on_default_bus else {"EventBusName": event_bus_name, "RuleName": rule_name}
    )
    return cloudwatch.Metric(
        namespace=EVENTS_NAMESPACE,
        metric_name=metric_name,
        dimensions_map=dimensions,
        statistic="Sum",
        period=period,
    )


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alarm_emails: Sequence[str],
        alarm_topic_arn: str | None,
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
        for email in alarm_emails:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(email))
        self._actions: list[cloudwatch.IAlarmAction] = [cloudwatch_actions.SnsAction(self.alarm_topic)]
        if alarm_topic_arn is not None:
            # SNS cannot subscribe one topic to another, so every alarm publishes to both.
            external_topic = sns.Topic.from_topic_arn(self, "ExternalAlarmTopic", alarm_topic_arn)
            self._actions.append(cloudwatch_actions.SnsAction(external_topic))
        self.alarms: list[cloudwatch.Alarm] = []
        self.terminal_queues = dict(terminal_queues)

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
        # Once Lambda accepted an ingest event, only this loses it: the event failed its retries and
        # the on-failure queue refused it. (AsyncEventsDropped also counts the events that did reach
        # that queue, where FailedInvocationsQueueNotEmpty reports them, so it is no loss alarm:
        # https://aws.amazon.com/blogs/compute/introducing-new-asynchronous-invocation-metrics-for-aws-lambda/)
        self._alarm(
            "IngestDestinationDeliveryFailures",
            "Lost events: a failed ingest event could not be sent to its on-failure queue "
            "(FailedInvocationsQueue); re-send it from Genesys",
            functions["Ingest"].metric("DestinationDeliveryFailures", period=ALARM_PERIOD, statistic="Sum"),
            threshold=0,
        )
        # SQS leaves a message received three times or more out of this metric
        # (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html),
        # and not-ready or deferred conversations are received many times: watch_stall and
        # watch_genesys see those.
        self._alarm(
            "WorkQueueBacklog",
            "The oldest work queue message waits longer than expected: the processor is not keeping up "
            "(messages received three times or more are not counted; see WorkQueueStalled)",
            work_queue.metric_approximate_age_of_oldest_message(period=ALARM_PERIOD, statistic="Maximum"),
            threshold=work_queue_age_alarm.to_seconds(),
        )
        self._alarm(
            "PipeFailures",
            "The buffer-to-work-queue pipe failed executions",
            cloudwatch.MathExpression(
                expression="failed + partiallyFailed",
                using_metrics={
                    "failed": pipe_metric(pipe, "ExecutionFailed"),
                    "partiallyFailed": pipe_metric(pipe, "ExecutionPartiallyFailed"),
                },
                period=ALARM_PERIOD,
                label="pipe execution failures",
            ),
            threshold=0,
        )

    def watch_ingest_rule(self, rule: events.IRule, event_bus_name: str) -> None:
        """The one way EventBridge loses an event for good: the target failed and so did the DLQ."""
        self._alarm(
            "RuleDeadLetterFailures",
            "Lost events: EventBridge could neither invoke the ingest function nor put the event on the "
            "rule's DLQ (RuleDeadLetterQueue); re-send them from Genesys",
            rule_metric(rule, event_bus_name, "InvocationsFailedToBeSentToDlq"),
            threshold=0,
        )

    def watch_genesys(self, *, error_rate_percent: int, throttled_rate_percent: int) -> None:
        """Genesys errors and 429s as a share of requests. Conversations that meet them go back to the
        work queue as batch item failures, so Lambda's Errors stays 0 through an outage."""
        requests = bridge_metric(MetricName.GENESYS_REQUESTS, contracts.PROCESSOR_SERVICE)
        window_minutes = RATE_ALARM_PERIODS * int(ALARM_PERIOD.to_minutes())
        for alarm_id, metric_name, percent, meaning in (
            (
                "GenesysErrorRate",
                MetricName.GENESYS_ERRORS,
                error_rate_percent,
                "failed (5xx, 4xx but 404, network)",
            ),
            (
                "GenesysThrottledRate",
                MetricName.GENESYS_THROTTLED,
                throttled_rate_percent,
                "were throttled (429)",
            ),
        ):
            self._alarm(
                alarm_id,
                f"More than {percent} % of Genesys requests {meaning} for {window_minutes} minutes: "
                "conversations wait "
                "and may be given up at not_ready_max_age_minutes (see docs/operations.md, Alarms)",
                cloudwatch.MathExpression(
                    # A period without requests has no data point (not breaching); one with requests and
                    # no error has no error data point, hence FILL.
                    expression="100 * FILL(part, 0) / requests",
                    using_metrics={
                        "part": bridge_metric(metric_name, contracts.PROCESSOR_SERVICE),
                        "requests": requests,
                    },
                    period=ALARM_PERIOD,
                    label=f"{metric_name} % of {MetricName.GENESYS_REQUESTS}",
                ),
                threshold=percent,
                evaluation_periods=RATE_ALARM_PERIODS,
            )

    def watch_stall(self, work_queue: sqs.IQueue, *, minutes: int) -> None:
        """No conversation fetched while messages wait to be received, for `minutes` in a row."""
        self._alarm(
            "WorkQueueStalled",
            f"No conversation landed for {minutes} minutes while messages waited in the work queue: the "
            "processor is not running, Genesys keeps failing or throttling, or analytics lags "
            "(ConversationsNotReady rising)",
            cloudwatch.MathExpression(
                # The processor emits ConversationsFetched only when it fetched some, so a stall has no
                # data points: FILL makes them zeros.
                expression="IF(waiting > 0 AND FILL(fetched, 0) == 0, 1, 0)",
                using_metrics={
                    "waiting": work_queue.metric_approximate_number_of_messages_visible(
                        period=ALARM_PERIOD, statistic="Maximum"
                    ),
                    "fetched": bridge_metric(MetricName.CONVERSATIONS_FETCHED, contracts.PROCESSOR_SERVICE),
                },
                period=ALARM_PERIOD,
                label="work queue stalled",
            ),
            threshold=0,
            evaluation_periods=minutes // int(ALARM_PERIOD.to_minutes()),
        )

    def watch_audit(self, state_machine: sfn.IStateMachine, *, missing_threshold: int) -> None:
        """Alarms of the audit workflow: an execution that failed (its day stays unreported), and an audit
        that found more missing conversations than the threshold (the live path is leaking)."""
        self._alarm(
            "AuditExecutionsFailed",
            "An audit or finalize execution failed, timed out or was aborted: its day has no complete report",
            _executions_failed(state_machine, "audit executions failed"),
            threshold=0,
        )
        # One value per audited day; the alarm keeps its state until the next report (missing data is
        # ignored), so a leak stays visible until an audit finds the live path whole again.
        self._alarm(
            "AuditFoundMissingConversations",
            f"An audit landed more than {missing_threshold} conversations the live path had missed",
            bridge_metric(
                MetricName.AUDIT_MISSING_CONVERSATIONS,
                contracts.AUDIT_SERVICE,
                statistic="Maximum",
                period=Duration.hours(1),
            ),
            threshold=missing_threshold,
            treat_missing_data=cloudwatch.TreatMissingData.IGNORE,
        )

    def watch_lookups(self, state_machine: sfn.IStateMachine, lookups: Sequence[str]) -> None:
        """Alarms of the lookups sync: an execution that failed (a lookup failed after its retries, or the
        sync could not run), and a lookup Genesys refused (403) for lack of a permission."""
        self._alarm(
            "LookupsExecutionsFailed",
            "A lookups sync failed, timed out or was aborted: a lookup has no snapshot for today "
            "(the execution's error names it; docs/operations.md, Lookups)",
            _executions_failed(state_machine, "lookups executions failed"),
            threshold=0,
        )
        # Every sync reports 0 or 1 for each lookup, so the alarm clears at the first sync after the
        # permission is granted, and keeps its state in between (missing data is ignored).
        forbidden = {
            f"lookup{index}": cloudwatch.Metric(
                namespace=contracts.METRICS_NAMESPACE,
                metric_name=MetricName.LOOKUPS_FORBIDDEN,
                dimensions_map={"service": contracts.LOOKUPS_SERVICE, contracts.LOOKUP_DIMENSION: lookup},
                statistic="Maximum",
                period=Duration.hours(1),
            )
            for index, lookup in enumerate(lookups)
        }
        self._alarm(
            "LookupsForbidden",
            "Genesys refused a lookup (403): the OAuth client's role lacks its view permission; the "
            "metric's lookup dimension and the function's log name it (docs/operations.md, Lookups)",
            cloudwatch.MathExpression(
                expression=f"MAX([{', '.join(forbidden)}])",
                using_metrics=forbidden,
                period=Duration.hours(1),
                label="lookups refused for a missing permission",
            ),
            threshold=0,
            treat_missing_data=cloudwatch.TreatMissingData.IGNORE,
        )

    def _alarm(
        self,
        alarm_id: str,
        description: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        evaluation_periods: int = 1,
        treat_missing_data: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            alarm_id,
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            # Every period of the window must breach (DatapointsToAlarm defaults to EvaluationPeriods).
            evaluation_periods=evaluation_periods,
            treat_missing_data=treat_missing_data,
        )
        for action in self._actions:
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
        self.alarms.append(alarm)


def _executions_failed(state_machine: sfn.IStateMachine, label: str) -> cloudwatch.MathExpression:
    """A state machine's executions that failed, timed out or were aborted, per alarm period."""
    return cloudwatch.MathExpression(
        expression="failed + timedOut + aborted",
        using_metrics={
            "failed": state_machine.metric_failed(period=ALARM_PERIOD, statistic="Sum"),
            "timedOut": state_machine.metric_timed_out(period=ALARM_PERIOD, statistic="Sum"),
            "aborted": state_machine.metric_aborted(period=ALARM_PERIOD, statistic="Sum"),
        },
        period=ALARM_PERIOD,
        label=label,
    )
