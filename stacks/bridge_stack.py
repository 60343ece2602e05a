"""The one stack: composes the capability constructs in the order events flow through them."""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, CfnOutput, Duration, Environment, RemovalPolicies, RemovalPolicy, Stack
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from genesys_bridge import contracts, layout
from stacks.audit import Audit
from stacks.buffer import Buffer
from stacks.catalog import Catalog, CatalogSettings
from stacks.config import EnvironmentConfig
from stacks.credentials import GenesysCredentials
from stacks.dashboard import OperationsDashboard
from stacks.ingestion import Ingestion
from stacks.lambda_functions import PythonFunctionFactory, shared_layer
from stacks.lookups import Lookups
from stacks.observability import Observability
from stacks.pipe_dlq import PipeDlqResolver
from stacks.processing import Processing
from stacks.storage import Storage


class GenesysAnalyticsBridgeStack(Stack):
    def __init__(self, scope: Construct, config: EnvironmentConfig, **kwargs: Any) -> None:
        environment = (
            Environment(account=config.account, region=config.region)
            if config.account is not None or config.region is not None
            else None  # environment-agnostic: synth needs no credentials
        )
        super().__init__(
            scope,
            config.stack_name,
            description="Genesys Cloud conversation-end events -> analytics conversation details in S3",
            env=environment,
            termination_protection=config.retain_data,
            **kwargs,
        )
        removal_policy = RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY
        # Every queue of the stack, whichever construct builds it: a prod stack deletion (or a
        # replacement) must not take messages waiting for an operator with it.
        RemovalPolicies.of(self).apply(
            removal_policy, apply_to_resource_types=[sqs.CfnQueue.CFN_RESOURCE_TYPE_NAME]
        )
        functions = PythonFunctionFactory(
            layer=shared_layer(self, "SharedLayer"),
            log_retention_days=config.log_retention_days,
            log_level=config.log_level,
            removal_policy=removal_policy,
        )

        self.storage = Storage(
            self, "Storage", lifecycle=config.results_lifecycle, removal_policy=removal_policy
        )
        self.buffer = Buffer(self, "Buffer", config=config, removal_policy=removal_policy)
        self.credentials = GenesysCredentials(self, "Credentials", config=config)
        self.ingestion = Ingestion(
            self,
            "Ingestion",
            config=config,
            buffer_table=self.buffer.table,
            work_queue=self.buffer.work_queue,
            functions=functions,
        )
        self.processing = Processing(
            self,
            "Processing",
            config=config,
            buffer_table=self.buffer.table,
            work_queue=self.buffer.work_queue,
            work_dead_letter_queue=self.buffer.work_dead_letter_queue,
            results_bucket=self.storage.results_bucket,
            credentials=self.credentials,
            functions=functions,
        )
        self.pipe_dlq_resolver = PipeDlqResolver(
            self,
            "PipeDlqResolver",
            queues=self.buffer.pipe_dead_letters,
            buffer_table=self.buffer.table,
            work_queue=self.buffer.work_queue,
            functions=functions,
        )
        self.catalog = Catalog(
            self,
            "Catalog",
            settings=CatalogSettings(
                environment_name=config.environment_name,
                first_day=config.catalog_first_day,
                bytes_scanned_cutoff_mb=config.athena_bytes_scanned_cutoff_mb,
                results_expire_after_days=config.athena_query_results_expire_days,
                log_retention_days=config.log_retention_days,
            ),
            results_bucket=self.storage.results_bucket,
            access_logs_bucket=self.storage.access_logs_bucket,
            functions=functions,
            removal_policy=removal_policy,
        )
        self.audit = Audit(
            self,
            "Audit",
            config=config,
            results_bucket=self.storage.results_bucket,
            credentials=self.credentials,
            functions=functions,
            removal_policy=removal_policy,
            catalog=self.catalog,
        )
        self.lookups = Lookups(
            self,
            "Lookups",
            config=config,
            results_bucket=self.storage.results_bucket,
            credentials=self.credentials,
            functions=functions,
            removal_policy=removal_policy,
        )
        self.observability = Observability(
            self,
            "Observability",
            alarm_emails=config.alarm_recipient_emails,
            alarm_topic_arn=config.alarm_topic_arn,
            terminal_queues={
                "QuarantineQueue": self.ingestion.quarantine_queue,
                "RuleDeadLetterQueue": self.ingestion.rule_dead_letter_queue,
                "FailedInvocationsQueue": self.ingestion.failed_invocations_queue,
                # The pipe DLQ itself is not terminal: the resolver drains it.
                "PipeUnresolvedQueue": self.buffer.pipe_unresolved_queue,
                "WorkDeadLetterQueue": self.buffer.work_dead_letter_queue,
                **self.audit.dead_letter_queues,
                **self.lookups.dead_letter_queues,
            },
            functions={
                "Ingest": self.ingestion.function,
                "Processor": self.processing.function,
                "PipeDlq": self.pipe_dlq_resolver.function,
            },
            work_queue=self.buffer.work_queue,
            work_queue_age_alarm=Duration.minutes(config.work_queue_age_alarm_minutes),
            pipe=self.buffer.pipe,
        )
        self.observability.watch_ingest_rule(self.ingestion.rule, config.event_bus_name)
        self.observability.watch_genesys(
            error_rate_percent=config.genesys_error_rate_alarm_percent,
            throttled_rate_percent=config.genesys_throttled_rate_alarm_percent,
        )
        self.observability.watch_stall(self.buffer.work_queue, minutes=config.work_queue_stall_alarm_minutes)
        unheard = config.unheard_alarms_warning
        if unheard is not None:
            Annotations.of(self).add_warning_v2("genesys-bridge:alarms-reach-nobody", unheard)
        self.observability.watch_audit(
            self.audit.state_machine, missing_threshold=config.audit_missing_alarm_threshold
        )
        self.observability.watch_lookups(self.lookups.state_machine, layout.LOOKUPS)
        self._outputs()
        # Last, so that its alarm widget shows every alarm the constructs above created.
        self.dashboard = OperationsDashboard(
            self,
            "Dashboard",
            dashboard_name=config.stack_name,
            work_queue=self.buffer.work_queue,
            # The alarmed terminal queues, and the pipe DLQ even where a resolver drains it.
            dead_letter_queues={
                **self.observability.terminal_queues,
                "PipeDeadLetterQueue": self.buffer.pipe_dead_letter_queue,
            },
            pipe=self.buffer.pipe,
            alarms=self.observability.alarms,
        )

    def _outputs(self) -> None:
        outputs = {
            contracts.OUTPUT_EVENT_BUS_NAME: self.ingestion.event_bus.event_bus_name,
            contracts.OUTPUT_BUFFER_TABLE_NAME: self.buffer.table.table_name,
            contracts.OUTPUT_WORK_QUEUE_URL: self.buffer.work_queue.queue_url,
            contracts.OUTPUT_WORK_DLQ_URL: self.buffer.work_dead_letter_queue.queue_url,
            contracts.OUTPUT_PIPE_DLQ_URL: self.buffer.pipe_dead_letter_queue.queue_url,
            contracts.OUTPUT_PIPE_UNRESOLVED_QUEUE_URL: self.buffer.pipe_unresolved_queue.queue_url,
            contracts.OUTPUT_QUARANTINE_QUEUE_URL: self.ingestion.quarantine_queue.queue_url,
            contracts.OUTPUT_RULE_DLQ_URL: self.ingestion.rule_dead_letter_queue.queue_url,
            contracts.OUTPUT_FAILED_INVOCATIONS_QUEUE_URL: self.ingestion.failed_invocations_queue.queue_url,
            contracts.OUTPUT_RESULTS_BUCKET_NAME: self.storage.results_bucket.bucket_name,
            contracts.OUTPUT_CREDENTIALS_SECRET_ARN: self.credentials.secret.secret_arn,
            contracts.OUTPUT_ALARM_TOPIC_ARN: self.observability.alarm_topic.topic_arn,
            # The ops CLI replays dead-lettered events into it (`make ops ARGS="quarantine --replay"`).
            contracts.OUTPUT_INGEST_FUNCTION_NAME: self.ingestion.function.function_name,
            contracts.OUTPUT_CATALOG_DATABASE_NAME: self.catalog.database.database_name,
            contracts.OUTPUT_ATHENA_WORKGROUP_NAME: self.catalog.workgroup.ref,
            # `make backfill` finds the workflow (and the results bucket, for reports) by this output.
            contracts.OUTPUT_AUDIT_STATE_MACHINE_ARN: self.audit.state_machine.state_machine_arn,
            contracts.OUTPUT_AUDIT_SCHEDULE_DLQ_URL: self.audit.schedule_dead_letter_queue.queue_url,
            # An operator re-runs the lookups sync by starting this state machine (docs/operations.md).
            contracts.OUTPUT_LOOKUPS_STATE_MACHINE_ARN: self.lookups.state_machine.state_machine_arn,
            contracts.OUTPUT_LOOKUPS_SCHEDULE_DLQ_URL: self.lookups.schedule_dead_letter_queue.queue_url,
        }
        for output_id, value in outputs.items():
            CfnOutput(self, output_id, value=value)
