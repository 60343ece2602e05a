"""The operations dashboard: one page from event to landed object, named like the stack.

Rows follow a conversation: events in, conversations out, the Genesys calls between, how long landing
takes, the queues that hold work or dead letters, the pipe, and every alarm's state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_pipes_alpha as pipes
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from genesys_bridge import contracts
from genesys_bridge.metrics import MetricName
from stacks.observability import bridge_metric, pipe_metric

PERIOD = Duration.minutes(5)
WIDTH = 24  # a dashboard row is 24 units wide
HALF = WIDTH // 2
HEIGHT = 6
PIPE_FAILURE_METRICS = (
    "ExecutionFailed",
    "ExecutionPartiallyFailed",
    "ExecutionThrottled",
    "ExecutionTimeout",
)


def _counts(service: str, names: Sequence[MetricName], title: str) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(
        title=title,
        left=[bridge_metric(name, service, period=PERIOD) for name in names],
        width=HALF,
        height=HEIGHT,
    )


class OperationsDashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dashboard_name: str,
        work_queue: sqs.IQueue,
        dead_letter_queues: Mapping[str, sqs.IQueue],
        pipe: pipes.IPipe,
        alarms: Sequence[cloudwatch.IAlarm],
    ) -> None:
        super().__init__(scope, construct_id)
        processor = contracts.PROCESSOR_SERVICE
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=dashboard_name)
        self.dashboard.add_widgets(
            _counts(
                contracts.INGEST_SERVICE,
                (
                    MetricName.EVENTS_RECEIVED,
                    MetricName.DUPLICATE_EVENTS,
                    MetricName.EVENTS_QUARANTINED,
                    MetricName.CONVERSATIONS_ENDED_AGAIN,
                ),
                "Events: received, duplicates, quarantined, ended again (fresh fetch queued)",
            ),
            _counts(
                processor,
                (
                    MetricName.CONVERSATIONS_FETCHED,
                    MetricName.CONVERSATIONS_NOT_READY,
                    MetricName.CONVERSATIONS_FAILED,
                    MetricName.CONVERSATIONS_LEFT_OPEN,
                ),
                "Conversations: fetched, not ready, failed, left open (to the audit)",
            ),
        )
        self.dashboard.add_widgets(
            _counts(
                processor,
                (MetricName.GENESYS_REQUESTS, MetricName.GENESYS_THROTTLED, MetricName.GENESYS_ERRORS),
                "Genesys: requests, 429s, errors",
            ),
            cloudwatch.GraphWidget(
                title="Landing latency (first event to landed), seconds",
                left=[
                    bridge_metric(MetricName.LANDING_LATENCY, processor, statistic=statistic, period=PERIOD)
                    for statistic in ("p50", "p99")
                ],
                width=HALF,
                height=HEIGHT,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Work queue: depth and oldest message (s)",
                left=[
                    work_queue.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic="Maximum"
                    ),
                    work_queue.metric_approximate_number_of_messages_not_visible(
                        period=PERIOD, statistic="Maximum"
                    ),
                    work_queue.metric(
                        "ApproximateNumberOfMessagesDelayed", period=PERIOD, statistic="Maximum"
                    ),
                ],
                right=[
                    work_queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum")
                ],
                width=HALF,
                height=HEIGHT,
            ),
            cloudwatch.GraphWidget(
                title="Dead-letter and quarantine queues: depth",
                left=[
                    queue.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic="Maximum", label=name
                    )
                    for name, queue in dead_letter_queues.items()
                ],
                width=HALF,
                height=HEIGHT,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Pipe (buffer stream to work queue): failures",
                left=[pipe_metric(pipe, name, period=PERIOD) for name in PIPE_FAILURE_METRICS],
                width=HALF,
                height=HEIGHT,
            ),
            cloudwatch.AlarmStatusWidget(alarms=list(alarms), title="Alarms", width=HALF, height=HEIGHT),
        )
