"""Processing: the processor function, fed by the work queue, writing details to the results bucket."""

from __future__ import annotations

from typing import cast

from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from genesys_bridge import contracts
from stacks.config import EnvironmentConfig
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
        functions: PythonFunctionFactory,
    ) -> None:
        super().__init__(scope, construct_id)
        self.credentials_secret = self._credentials_secret(config)
        environment = {
            contracts.BUFFER_TABLE_NAME: buffer_table.table_name,
            contracts.RESULTS_BUCKET_NAME: results_bucket.bucket_name,
            contracts.GENESYS_REGION: config.genesys_region,
            contracts.GENESYS_CREDENTIALS_SECRET_ARN: self.credentials_secret.secret_arn,
            contracts.GENESYS_MAX_REQUESTS_PER_MINUTE: str(config.genesys_max_requests_per_minute),
            contracts.GENESYS_IDS_PER_REQUEST: str(config.genesys_ids_per_request),
            contracts.NOT_READY_MAX_AGE_MINUTES: str(config.not_ready_max_age_minutes),
            contracts.SETTLE_MAX_MINUTES: str(config.settle_max_minutes),
            contracts.WORK_QUEUE_URL: work_queue.queue_url,
            contracts.WORK_DLQ_URL: work_dead_letter_queue.queue_url,
            # At most this many invocations call Genesys at once; each paces at budget / callers.
            contracts.GENESYS_CONCURRENT_CALLERS: str(config.processor_max_concurrency),
            contracts.NOT_READY_RETRY_BASE_SECONDS: str(config.not_ready_retry_base_seconds),
            contracts.NOT_READY_RETRY_MAX_SECONDS: str(config.not_ready_retry_max_seconds),
            contracts.WRAPUP_ESTIMATE_SECONDS: str(config.wrapup_estimate_seconds),
            contracts.NOT_READY_RETRY_GRID_SECONDS: str(config.not_ready_retry_grid_seconds),
        }
        if config.genesys_api_base_url is not None:
            environment[contracts.GENESYS_API_BASE_URL] = config.genesys_api_base_url
        if config.genesys_login_base_url is not None:
            environment[contracts.GENESYS_LOGIN_BASE_URL] = config.genesys_login_base_url

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
        self.credentials_secret.grant_read(self.function)
        if config.credentials_kms_key_arn is not None:
            self._grant_decrypt_secret(config.credentials_kms_key_arn)

    def _grant_decrypt_secret(self, key_arn: str) -> None:
        """A secret under a customer-managed key is readable only with kms:Decrypt on that key; the
        condition allows it only on behalf of Secrets Manager in the key's region
        (https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html)."""
        key_region = key_arn.split(":")[3]
        iam.Grant.add_to_principal(
            grantee=self.function,
            actions=["kms:Decrypt"],
            resource_arns=[key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{key_region}.amazonaws.com"}},
        )

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

    def _credentials_secret(self, config: EnvironmentConfig) -> secretsmanager.ISecret:
        # Imported, never created here: the secret's value must not pass through a template.
        if config.credentials_secret_arn is not None:
            return secretsmanager.Secret.from_secret_complete_arn(
                self, "GenesysCredentials", config.credentials_secret_arn
            )
        assert config.credentials_secret_name is not None  # the config validator requires one of them
        return secretsmanager.Secret.from_secret_name_v2(
            self, "GenesysCredentials", config.credentials_secret_name
        )
