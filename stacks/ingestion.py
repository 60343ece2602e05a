"""Ingestion: the event bus, the rule for conversation-end topics and the ingest function."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as event_targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from genesys_bridge import contracts
from stacks.config import EnvironmentConfig
from stacks.config_fixed import (
    INGEST_ASYNC_MAX_EVENT_AGE_HOURS,
    INGEST_ASYNC_RETRY_ATTEMPTS,
    INGEST_RULE_MAX_EVENT_AGE_HOURS,
    INGEST_RULE_RETRY_ATTEMPTS,
    INGEST_TIMEOUT_SECONDS,
)
from stacks.dead_letter_queues import dead_letter_queue
from stacks.function_environments import ingest_environment
from stacks.lambda_functions import FunctionSpec, PythonFunctionFactory

# Genesys sends the topic template as detail-type: the conversation id stays the literal `{id}`.
DETAIL_TYPE_TEMPLATE = "v2.detail.events.conversation.{{id}}.{topic}"


def detail_types(topics: list[str]) -> list[str]:
    return [DETAIL_TYPE_TEMPLATE.format(topic=topic) for topic in topics]


class Ingestion(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        buffer_table: dynamodb.ITableV2,
        work_queue: sqs.IQueue,
        functions: PythonFunctionFactory,
    ) -> None:
        super().__init__(scope, construct_id)
        self.event_bus = self._event_bus(config)
        self.quarantine_queue = dead_letter_queue(
            self, "QuarantineQueue", holds="events that failed validation, with the reason"
        )
        self.rule_dead_letter_queue = dead_letter_queue(
            self, "RuleDeadLetterQueue", holds="events EventBridge could not hand to the ingest function"
        )
        self.failed_invocations_queue = dead_letter_queue(
            self, "FailedInvocationsQueue", holds="events the ingest function failed on after its retries"
        )

        self.function = functions.build(
            self,
            "IngestFunction",
            FunctionSpec(
                handler_folder="ingest",
                service_name=contracts.INGEST_SERVICE,
                description="Validates Genesys conversation-end events and records each in the buffer",
                memory_mb=config.ingest_memory_mb,
                timeout=Duration.seconds(INGEST_TIMEOUT_SECONDS),
                environment=ingest_environment(
                    config,
                    buffer_table_name=buffer_table.table_name,
                    quarantine_queue_url=self.quarantine_queue.queue_url,
                    work_queue_url=work_queue.queue_url,
                ),
            ),
        )
        # EventBridge invokes asynchronously: once Lambda accepted the event, these retries and the
        # on-failure destination are what keep an event from being lost.
        self.function.configure_async_invoke(
            retry_attempts=INGEST_ASYNC_RETRY_ATTEMPTS,
            max_event_age=Duration.hours(INGEST_ASYNC_MAX_EVENT_AGE_HOURS),
            on_failure=destinations.SqsDestination(self.failed_invocations_queue),
        )
        # One conditional UpdateItem per event: create if absent, else touch lastEventAt (and, for a
        # conversation that ended again, a second one starting the item's new round).
        buffer_table.grant(self.function, "dynamodb:UpdateItem")
        self.quarantine_queue.grant_send_messages(self.function)
        work_queue.grant_send_messages(self.function)

        self.rule = events.Rule(
            self,
            "ConversationEndRule",
            description="Genesys conversation-end topics to the ingest function",
            event_bus=self.event_bus,
            event_pattern=events.EventPattern(
                source=events.Match.prefix(config.event_source_prefix),
                detail_type=detail_types(config.topics),
            ),
            targets=[self._ingest_target(self.function)],
        )

    def _ingest_target(self, function: lambda_.IFunction) -> events.IRuleTarget:
        return event_targets.LambdaFunction(
            function,
            retry_attempts=INGEST_RULE_RETRY_ATTEMPTS,
            max_event_age=Duration.hours(INGEST_RULE_MAX_EVENT_AGE_HOURS),
            dead_letter_queue=self.rule_dead_letter_queue,
        )

    def _event_bus(self, config: EnvironmentConfig) -> events.IEventBus:
        if config.event_bus_mode == "existing":
            return events.EventBus.from_event_bus_name(self, "EventBus", config.event_bus_name)
        if config.event_bus_mode == "partner_event_source":
            # The Genesys integration creates a partner event source of this name in the account;
            # a bus with event_source_name associates it, so a deploy needs no console step.
            return events.EventBus(self, "EventBus", event_source_name=config.event_bus_name)
        return events.EventBus(self, "EventBus", event_bus_name=config.event_bus_name)
