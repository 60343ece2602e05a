"""Processing: the processor function, fed by the work queue, writing details to the results bucket."""

from __future__ import annotations

from typing import cast

from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from genesys_bridge import contracts
from stacks.config import EnvironmentConfig
from stacks.credentials import GenesysCredentials
from stacks.function_environments import processor_environment
from stacks.lambda_functions import FunctionSpec, PythonFunctionFactory
from stacks.nag import acknowledge_nag_finding


class Processing(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        buffer_table: dynamodb.ITableV2,
        work_queue: sqs.IQueue,
        work_dead_letter_queue: sqs.IQueue,
        results_bucket: s3.IBucket,
        credentials: GenesysCredentials,
        functions: PythonFunctionFactory,
    ) -> None:
        super().__init__(scope, construct_id)
        environment = processor_environment(
            config,
            buffer_table_name=buffer_table.table_name,
            results_bucket_name=results_bucket.bucket_name,
            credentials_secret_arn=credentials.secret.secret_arn,
            work_queue_url=work_queue.queue_url,
            work_dlq_url=work_dead_letter_queue.queue_url,
        )
        self.function = functions.build(
            self,
            "ProcessorFunction",
            FunctionSpec(
                handler_folder="processor",
                service_name=contracts.PROCESSOR_SERVICE,
                description="Fetches ended conversations' analytics details from Genesys into S3",
                memory_mb=config.processor_memory_mb,
                timeout=Duration.seconds(config.processor_timeout_seconds),
                environment=environment,
            ),
        )
        # MaximumConcurrency, not reserved concurrency, bounds the pressure on Genesys: reserved
        # concurrency would make Lambda throttle the poller and push messages towards the DLQ.
        self.function.add_event_source(
            event_sources.SqsEventSource(
                work_queue,
                batch_size=config.processor_batch_size,
                max_batching_window=Duration.seconds(config.processor_batching_window_seconds),
                max_concurrency=config.processor_max_concurrency,
                report_batch_item_failures=True,
            )
        )
        # The event source grants receive, delete and ChangeMessageVisibility (the not-ready backoff).
        buffer_table.grant(self.function, "dynamodb:GetItem", "dynamodb:UpdateItem")
        self._grant_put_results(results_bucket)
        work_dead_letter_queue.grant_send_messages(self.function)
        credentials.grant_read(self.function)

    def _grant_put_results(self, results_bucket: s3.IBucket) -> None:
        objects_pattern = f"{contracts.RESULTS_PREFIX}*"
        iam.Grant.add_to_principal(
            grantee=self.function,
            actions=["s3:PutObject"],
            resource_arns=[results_bucket.arn_for_objects(objects_pattern)],
        )
        bucket_logical_id = Stack.of(self).resolve(
            Stack.of(results_bucket).get_logical_id(cast(s3.CfnBucket, results_bucket.node.default_child))
        )
        assert self.function.role is not None  # the function factory always gives one
        acknowledge_nag_finding(
            self.function.role,
            f"AwsSolutions-IAM5[Resource::<{bucket_logical_id}.Arn>/{objects_pattern}]",
            "One object per conversation, keyed by its date and id, so the keys cannot be listed "
            "in advance; the grant is s3:PutObject alone and only under the results prefix.",
        )
