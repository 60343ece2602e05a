"""Each resource of the pipeline, asserted by the properties a deployed system depends on."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match

from genesys_bridge import contracts
from genesys_bridge.backoff import NOT_READY_RETRY_BASE_SECONDS, NOT_READY_RETRY_MAX_SECONDS
from stacks.app_builder import build_app
from stacks.config import DEFAULT_CDK_JSON
from stacks.config_fixed import (
    PIPE_BATCH_SIZE,
    PIPE_MAX_RECORD_AGE_HOURS,
    PIPE_MAX_RETRY_ATTEMPTS,
    WORK_QUEUE_RETENTION_DAYS,
)
from tests.infrastructure.conftest import SynthesizedEnvironment, synthesize

FOURTEEN_DAYS = 14 * 24 * 3600
EXTERNAL_TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:pager-duty"
CREDENTIALS_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture(scope="module")
def dev_with_options(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedEnvironment:
    """dev with every optional production setting: alarm e-mails (the single key repeating one of the
    list), an existing alarm topic and a customer-managed key for the Genesys secret."""
    return synthesize(
        "dev",
        tmp_path_factory.mktemp("cdk-dev-options"),
        overrides={
            "alarm_emails": ["oncall@example.com", "team@example.com"],
            "alarm_email": "oncall@example.com",
            "alarm_topic_arn": EXTERNAL_TOPIC_ARN,
            "credentials_kms_key_arn": CREDENTIALS_KEY_ARN,
        },
    )


def resources(environment: SynthesizedEnvironment, resource_type: str) -> dict[str, dict[str, Any]]:
    return dict(environment.template.find_resources(resource_type))


def bridge_functions(environment: SynthesizedEnvironment) -> dict[str, dict[str, Any]]:
    """The functions the stack's function factory built (a Powertools service each), without the ones
    CDK adds for its own custom resources (dev's bucket emptying)."""
    return {
        logical_id: resource
        for logical_id, resource in resources(environment, "AWS::Lambda::Function").items()
        if contracts.POWERTOOLS_SERVICE_NAME
        in resource["Properties"].get("Environment", {}).get("Variables", {})
    }


def function_named(environment: SynthesizedEnvironment, service: str) -> tuple[str, dict[str, Any]]:
    for logical_id, resource in bridge_functions(environment).items():
        variables = resource["Properties"]["Environment"]["Variables"]
        if variables[contracts.POWERTOOLS_SERVICE_NAME] == service:
            return logical_id, resource["Properties"]
    raise AssertionError(f"no {service} function")


def logical_id_of(environment: SynthesizedEnvironment, resource_type: str, path_part: str) -> str:
    matches = [
        logical_id
        for logical_id, resource in resources(environment, resource_type).items()
        if path_part in resource.get("Metadata", {}).get("aws:cdk:path", "")
    ]
    assert len(matches) == 1, f"expected one {resource_type} under {path_part}, found {matches}"
    return matches[0]


def policy_statements_of_role(
    environment: SynthesizedEnvironment, role_logical_id: str
) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for policy in resources(environment, "AWS::IAM::Policy").values():
        if {"Ref": role_logical_id} in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def alarms_on(environment: SynthesizedEnvironment, metric_name: str) -> list[dict[str, Any]]:
    """Properties of the alarms on one metric (not on metric math)."""
    return [
        alarm["Properties"]
        for alarm in resources(environment, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == metric_name
    ]


def math_of(alarm: dict[str, Any]) -> tuple[str, dict[str, dict[str, Any]]]:
    """A metric-math alarm's expression and its metrics by id (namespace, name, dimensions, period)."""
    [expression] = [query["Expression"] for query in alarm["Metrics"] if "Expression" in query]
    metrics = {
        query["Id"]: {**query["MetricStat"]["Metric"], "Period": query["MetricStat"]["Period"]}
        for query in alarm["Metrics"]
        if "MetricStat" in query
    }
    return expression, metrics


def math_alarms_on(environment: SynthesizedEnvironment, metric_name: str) -> list[dict[str, Any]]:
    """Properties of the metric-math alarms that read `metric_name`."""
    return [
        alarm["Properties"]
        for alarm in resources(environment, "AWS::CloudWatch::Alarm").values()
        if "Metrics" in alarm["Properties"]
        and metric_name in {metric["MetricName"] for metric in math_of(alarm["Properties"])[1].values()}
    ]


# The property that names a resource, for the types the stack creates with a name of its choosing.
_NAME_PROPERTIES: dict[str, tuple[str, ...]] = {
    "AWS::Glue::Database": ("DatabaseInput", "Name"),
    "AWS::Glue::Table": ("TableInput", "Name"),
    "AWS::Athena::WorkGroup": ("Name",),
    "AWS::Logs::LogGroup": ("LogGroupName",),
    "AWS::S3::Bucket": ("BucketName",),
    "AWS::SQS::Queue": ("QueueName",),
    "AWS::DynamoDB::GlobalTable": ("TableName",),
    "AWS::Events::EventBus": ("Name",),
    "AWS::StepFunctions::StateMachine": ("StateMachineName",),
    "AWS::CloudWatch::Dashboard": ("DashboardName",),
    "AWS::Pipes::Pipe": ("Name",),
    "AWS::SNS::Topic": ("TopicName",),
}


def _physical_name(resource: dict[str, Any]) -> Any:
    """The name the template gives a resource, or None when CloudFormation generates one."""
    value: Any = resource.get("Properties", {})
    for key in _NAME_PROPERTIES.get(resource["Type"], ("?",)):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def actions_of(statements: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for statement in statements:
        action = statement["Action"]
        found.update([action] if isinstance(action, str) else action)
    return found


class TestIngestion:
    def test_the_rule_matches_genesys_sources_and_each_configured_topic(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        topics = each_environment.config.topics
        each_environment.template.has_resource_properties(
            "AWS::Events::Rule",
            {
                "EventBusName": {
                    "Ref": logical_id_of(each_environment, "AWS::Events::EventBus", "/Ingestion/")
                },
                "EventPattern": {
                    "source": [{"prefix": each_environment.config.event_source_prefix}],
                    "detail-type": [f"v2.detail.events.conversation.{{id}}.{topic}" for topic in topics],
                },
            },
        )

    def test_the_rule_target_retries_bounded_by_age_and_dead_letters_the_rest(
        self, prod: SynthesizedEnvironment
    ) -> None:
        ingest_id, _ = function_named(prod, contracts.INGEST_SERVICE)
        prod.template.has_resource_properties(
            "AWS::Events::Rule",
            {
                "Targets": [
                    {
                        "Arn": {"Fn::GetAtt": [ingest_id, "Arn"]},
                        "RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 24 * 3600},
                        "DeadLetterConfig": {
                            "Arn": {
                                "Fn::GetAtt": [
                                    logical_id_of(prod, "AWS::SQS::Queue", "/RuleDeadLetterQueue/"),
                                    "Arn",
                                ]
                            }
                        },
                        "Id": Match.any_value(),
                    }
                ]
            },
        )

    def test_prod_listens_to_genesys_partner_sources_only(self, prod: SynthesizedEnvironment) -> None:
        prod.template.has_resource_properties(
            "AWS::Events::Rule",
            {"EventPattern": Match.object_like({"source": [{"prefix": "aws.partner/genesys.com"}]})},
        )

    def test_prod_creates_the_partner_bus_for_the_genesys_event_source(
        self, prod: SynthesizedEnvironment
    ) -> None:
        prod.template.has_resource_properties(
            "AWS::Events::EventBus",
            {"EventSourceName": prod.config.event_bus_name, "Name": prod.config.event_bus_name},
        )

    def test_dev_creates_its_own_bus_for_synthetic_events(self, dev: SynthesizedEnvironment) -> None:
        dev.template.has_resource_properties(
            "AWS::Events::EventBus", {"Name": dev.config.event_bus_name, "EventSourceName": Match.absent()}
        )
        # PutEvents refuses sources starting with "aws.", so dev's rule must match another prefix.
        assert not dev.config.event_source_prefix.startswith("aws.")

    def test_the_ingest_function_retries_async_invocations_then_parks_them_in_a_queue(
        self, dev: SynthesizedEnvironment
    ) -> None:
        ingest_id, _ = function_named(dev, contracts.INGEST_SERVICE)
        dev.template.has_resource_properties(
            "AWS::Lambda::EventInvokeConfig",
            {
                "FunctionName": {"Ref": ingest_id},
                "MaximumRetryAttempts": 2,
                "MaximumEventAgeInSeconds": 6 * 3600,
                "DestinationConfig": {
                    "OnFailure": {
                        "Destination": {
                            "Fn::GetAtt": [
                                logical_id_of(dev, "AWS::SQS::Queue", "/FailedInvocationsQueue/"),
                                "Arn",
                            ]
                        }
                    }
                },
            },
        )

    def test_the_ingest_function_gets_its_table_queue_ttl_and_topics(
        self, dev: SynthesizedEnvironment
    ) -> None:
        _, properties = function_named(dev, contracts.INGEST_SERVICE)
        assert properties["Environment"]["Variables"] == {
            contracts.POWERTOOLS_SERVICE_NAME: contracts.INGEST_SERVICE,
            contracts.POWERTOOLS_METRICS_NAMESPACE: contracts.METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": dev.config.log_level,
            contracts.BUFFER_TABLE_NAME: {
                "Ref": logical_id_of(dev, "AWS::DynamoDB::GlobalTable", "/Buffer/")
            },
            contracts.QUARANTINE_QUEUE_URL: {
                "Ref": logical_id_of(dev, "AWS::SQS::Queue", "/QuarantineQueue/")
            },
            contracts.BUFFER_TTL_HOURS: str(dev.config.buffer_ttl_hours),
            # the rule's topics, which ingest applies itself when the rule is bypassed
            contracts.CONVERSATION_TOPICS: ",".join(dev.config.topics),
            # where a conversation that ended again after its item concluded is queued
            contracts.WORK_QUEUE_URL: {"Ref": logical_id_of(dev, "AWS::SQS::Queue", "/WorkQueue/")},
        }


class TestBuffer:
    def test_the_table_is_on_demand_with_pitr_ttl_and_a_new_image_stream(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        each_environment.template.has_resource_properties(
            "AWS::DynamoDB::GlobalTable",
            {
                "KeySchema": [{"AttributeName": "conversationId", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "conversationId", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
                "StreamSpecification": {"StreamViewType": "NEW_IMAGE"},
                "TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": True},
                "Replicas": [
                    Match.object_like(
                        {"PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}}
                    )
                ],
            },
        )

    def test_prod_keeps_the_table_on_stack_deletion_and_protects_it(
        self, prod: SynthesizedEnvironment
    ) -> None:
        prod.template.has_resource(
            "AWS::DynamoDB::GlobalTable",
            {
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": Match.object_like(
                    {"Replicas": [Match.object_like({"DeletionProtectionEnabled": True})]}
                ),
            },
        )

    def test_dev_tears_the_table_down_with_the_stack(self, dev: SynthesizedEnvironment) -> None:
        dev.template.has_resource(
            "AWS::DynamoDB::GlobalTable",
            {
                "DeletionPolicy": "Delete",
                "Properties": Match.object_like(
                    {"Replicas": [Match.object_like({"DeletionProtectionEnabled": False})]}
                ),
            },
        )

    def test_the_pipe_sends_only_inserts_as_conversation_ids_and_dead_letters_failures(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        environment = each_environment
        environment.template.has_resource_properties(
            "AWS::Pipes::Pipe",
            {
                "Source": {
                    "Fn::GetAtt": [
                        logical_id_of(environment, "AWS::DynamoDB::GlobalTable", "/Buffer/"),
                        "StreamArn",
                    ]
                },
                "SourceParameters": {
                    "DynamoDBStreamParameters": {
                        "StartingPosition": "TRIM_HORIZON",
                        "BatchSize": PIPE_BATCH_SIZE,
                        "ParallelizationFactor": environment.config.pipe_parallelization_factor,
                        "OnPartialBatchItemFailure": "AUTOMATIC_BISECT",
                        "MaximumRetryAttempts": PIPE_MAX_RETRY_ATTEMPTS,
                        "MaximumRecordAgeInSeconds": PIPE_MAX_RECORD_AGE_HOURS * 3600,
                        "DeadLetterConfig": {
                            "Arn": {
                                "Fn::GetAtt": [
                                    logical_id_of(environment, "AWS::SQS::Queue", "/PipeDeadLetterQueue/"),
                                    "Arn",
                                ]
                            }
                        },
                    },
                    "FilterCriteria": {"Filters": [{"Pattern": '{"eventName":["INSERT"]}'}]},
                },
                "Target": {
                    "Fn::GetAtt": [logical_id_of(environment, "AWS::SQS::Queue", "/WorkQueue/"), "Arn"]
                },
                "TargetParameters": Match.object_like({"InputTemplate": contracts.PIPE_INPUT_TEMPLATE}),
            },
        )

    def test_the_pipe_is_created_only_once_its_role_may_read_the_stream(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        # Given the pipe and the policy of the role it runs as
        pipe_id = logical_id_of(each_environment, "AWS::Pipes::Pipe", "/Buffer/")
        pipe = resources(each_environment, "AWS::Pipes::Pipe")[pipe_id]
        role_id = pipe["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        [policy_id] = [
            logical_id
            for logical_id, policy in resources(each_environment, "AWS::IAM::Policy").items()
            if policy["Properties"]["Roles"] == [{"Ref": role_id}]
        ]
        stream_reads = {
            action
            for statement in resources(each_environment, "AWS::IAM::Policy")[policy_id]["Properties"][
                "PolicyDocument"
            ]["Statement"]
            if statement["Resource"]
            == {
                "Fn::GetAtt": [
                    logical_id_of(each_environment, "AWS::DynamoDB::GlobalTable", "/Buffer/"),
                    "StreamArn",
                ]
            }
            for action in (
                [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
            )
        }
        assert {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"} <= stream_reads
        # Then CloudFormation creates the pipe after that policy, not as soon as the role exists
        # (the pipe checks at creation that it can read the stream)
        assert policy_id in pipe["DependsOn"]

    def test_the_pipe_dead_letters_a_record_well_before_the_stream_drops_it(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        pipe = resources(each_environment, "AWS::Pipes::Pipe")[
            logical_id_of(each_environment, "AWS::Pipes::Pipe", "/Buffer/")
        ]
        parameters = pipe["Properties"]["SourceParameters"]["DynamoDBStreamParameters"]
        # The stream keeps a record 24 h and the DLQ message only points at it: half a day is left at least
        assert 0 < parameters["MaximumRecordAgeInSeconds"] <= 12 * 3600
        assert "DeadLetterConfig" in parameters

    def test_prod_keeps_every_queue_and_its_messages_when_the_stack_goes(
        self, prod: SynthesizedEnvironment
    ) -> None:
        queues = resources(prod, "AWS::SQS::Queue")
        assert queues
        for logical_id, queue in queues.items():
            assert (queue["DeletionPolicy"], queue["UpdateReplacePolicy"]) == ("Retain", "Retain"), logical_id

    def test_dev_queues_go_with_the_stack(self, dev: SynthesizedEnvironment) -> None:
        for logical_id, queue in resources(dev, "AWS::SQS::Queue").items():
            assert queue["DeletionPolicy"] == "Delete", logical_id

    def test_the_work_queue_delays_by_the_settle_time_and_outlasts_six_processor_timeouts(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        config = each_environment.config
        work_queue = resources(each_environment, "AWS::SQS::Queue")[
            logical_id_of(each_environment, "AWS::SQS::Queue", "/WorkQueue/")
        ]["Properties"]
        assert work_queue["DelaySeconds"] == config.settle_delay_seconds
        assert work_queue["VisibilityTimeout"] >= 6 * config.processor_timeout_seconds
        assert work_queue["SqsManagedSseEnabled"] is True
        assert work_queue["MessageRetentionPeriod"] == WORK_QUEUE_RETENTION_DAYS * 24 * 3600
        assert work_queue["RedrivePolicy"] == {
            "deadLetterTargetArn": {
                "Fn::GetAtt": [
                    logical_id_of(each_environment, "AWS::SQS::Queue", "/WorkDeadLetterQueue/"),
                    "Arn",
                ]
            },
            "maxReceiveCount": config.work_queue_max_receive_count,
        }

    def test_every_queue_is_encrypted_and_refuses_plain_http(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        queues = resources(each_environment, "AWS::SQS::Queue")
        policies = resources(each_environment, "AWS::SQS::QueuePolicy").values()
        tls_enforced = {
            queue_ref["Ref"]
            for policy in policies
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if statement["Effect"] == "Deny"
            and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for queue_ref in policy["Properties"]["Queues"]
        }
        # the pipeline's six, the pipe DLQ's unresolved queue, the audit's and the lookups' schedule DLQs
        assert len(queues) == 9
        assert all(queue["Properties"]["SqsManagedSseEnabled"] for queue in queues.values())
        assert tls_enforced == set(queues)

    def test_every_dead_letter_and_quarantine_queue_keeps_messages_fourteen_days(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        for name in (
            "/QuarantineQueue/",
            "/RuleDeadLetterQueue/",
            "/FailedInvocationsQueue/",
            "/PipeDeadLetterQueue/",
            "/PipeUnresolvedQueue/",
            "/WorkDeadLetterQueue/",
        ):
            queue = resources(each_environment, "AWS::SQS::Queue")[
                logical_id_of(each_environment, "AWS::SQS::Queue", name)
            ]
            assert queue["Properties"]["MessageRetentionPeriod"] == FOURTEEN_DAYS, name


class TestProcessing:
    def test_the_processor_reads_the_work_queue_in_capped_batches_reporting_item_failures(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        config = each_environment.config
        processor_id, _ = function_named(each_environment, contracts.PROCESSOR_SERVICE)
        each_environment.template.has_resource_properties(
            "AWS::Lambda::EventSourceMapping",
            {
                "FunctionName": {"Ref": processor_id},
                "EventSourceArn": {
                    "Fn::GetAtt": [logical_id_of(each_environment, "AWS::SQS::Queue", "/WorkQueue/"), "Arn"]
                },
                "BatchSize": config.processor_batch_size,
                "MaximumBatchingWindowInSeconds": config.processor_batching_window_seconds,
                "ScalingConfig": {"MaximumConcurrency": config.processor_max_concurrency},
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
            },
        )

    def test_no_function_has_reserved_concurrency(self, each_environment: SynthesizedEnvironment) -> None:
        each_environment.template.all_resources_properties(
            "AWS::Lambda::Function", {"ReservedConcurrentExecutions": Match.absent()}
        )

    def test_the_processor_gets_every_setting_of_the_contract(self, prod: SynthesizedEnvironment) -> None:
        config = prod.config
        _, properties = function_named(prod, contracts.PROCESSOR_SERVICE)
        variables = properties["Environment"]["Variables"]
        assert variables[contracts.BUFFER_TABLE_NAME] == {
            "Ref": logical_id_of(prod, "AWS::DynamoDB::GlobalTable", "/Buffer/")
        }
        assert variables[contracts.RESULTS_BUCKET_NAME] == {
            "Ref": logical_id_of(prod, "AWS::S3::Bucket", "/ResultsBucket/")
        }
        assert variables[contracts.WORK_QUEUE_URL] == {
            "Ref": logical_id_of(prod, "AWS::SQS::Queue", "/WorkQueue/")
        }
        assert variables[contracts.WORK_DLQ_URL] == {
            "Ref": logical_id_of(prod, "AWS::SQS::Queue", "/WorkDeadLetterQueue/")
        }
        assert ":secret:genesys-analytics-bridge/prod/genesys-credentials" in str(
            variables[contracts.GENESYS_CREDENTIALS_SECRET_ARN]
        )
        assert {name: variables[name] for name in _PLAIN_PROCESSOR_SETTINGS} == {
            contracts.GENESYS_REGION: config.genesys_region,
            contracts.GENESYS_MAX_REQUESTS_PER_MINUTE: str(config.genesys_max_requests_per_minute),
            contracts.GENESYS_IDS_PER_REQUEST: str(config.genesys_ids_per_request),
            contracts.NOT_READY_MAX_AGE_MINUTES: str(config.not_ready_max_age_minutes),
            contracts.SETTLE_MAX_MINUTES: str(config.settle_max_minutes),
            contracts.GENESYS_CONCURRENT_CALLERS: str(config.processor_max_concurrency),
            contracts.NOT_READY_RETRY_BASE_SECONDS: str(NOT_READY_RETRY_BASE_SECONDS),
            contracts.NOT_READY_RETRY_MAX_SECONDS: str(NOT_READY_RETRY_MAX_SECONDS),
            contracts.WRAPUP_ESTIMATE_SECONDS: str(config.wrapup_estimate_seconds),
            contracts.NOT_READY_RETRY_GRID_SECONDS: str(config.not_ready_retry_grid_seconds),
        }
        # Overrides exist for simulators; a deployed environment talks to the real Genesys hosts.
        assert contracts.GENESYS_API_BASE_URL not in variables
        assert contracts.GENESYS_LOGIN_BASE_URL not in variables


_PLAIN_PROCESSOR_SETTINGS = (
    contracts.GENESYS_REGION,
    contracts.GENESYS_MAX_REQUESTS_PER_MINUTE,
    contracts.GENESYS_IDS_PER_REQUEST,
    contracts.NOT_READY_MAX_AGE_MINUTES,
    contracts.SETTLE_MAX_MINUTES,
    contracts.GENESYS_CONCURRENT_CALLERS,
    contracts.NOT_READY_RETRY_BASE_SECONDS,
    contracts.NOT_READY_RETRY_MAX_SECONDS,
    contracts.WRAPUP_ESTIMATE_SECONDS,
    contracts.NOT_READY_RETRY_GRID_SECONDS,
)


class TestPipeDlqResolver:
    def test_the_resolver_reads_the_pipe_dlq_reporting_item_failures(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        resolver_id, _ = function_named(each_environment, contracts.PIPE_DLQ_SERVICE)
        pipe_dlq_id = logical_id_of(each_environment, "AWS::SQS::Queue", "/PipeDeadLetterQueue/")
        each_environment.template.has_resource_properties(
            "AWS::Lambda::EventSourceMapping",
            {
                "FunctionName": {"Ref": resolver_id},
                "EventSourceArn": {"Fn::GetAtt": [pipe_dlq_id, "Arn"]},
                "BatchSize": 10,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
            },
        )

    def test_the_pipe_dlq_parks_what_keeps_failing_in_the_unresolved_queue_within_hours(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        queues = resources(each_environment, "AWS::SQS::Queue")
        pipe_dlq = queues[logical_id_of(each_environment, "AWS::SQS::Queue", "/PipeDeadLetterQueue/")]
        _, resolver = function_named(each_environment, contracts.PIPE_DLQ_SERVICE)
        properties = pipe_dlq["Properties"]
        unresolved_id = logical_id_of(each_environment, "AWS::SQS::Queue", "/PipeUnresolvedQueue/")
        assert properties["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [unresolved_id, "Arn"]},
            "maxReceiveCount": 5,
        }
        # Lambda's rule for a source queue, and every retry long done within the stream's 24 hours
        assert properties["VisibilityTimeout"] >= 6 * resolver["Timeout"]
        assert properties["VisibilityTimeout"] * 5 < 24 * 3600

    def test_the_resolver_gets_the_stream_the_work_queue_and_the_unresolved_queue(
        self, prod: SynthesizedEnvironment
    ) -> None:
        _, properties = function_named(prod, contracts.PIPE_DLQ_SERVICE)
        variables = properties["Environment"]["Variables"]
        table_id = logical_id_of(prod, "AWS::DynamoDB::GlobalTable", "/Buffer/")
        assert variables[contracts.BUFFER_STREAM_ARN] == {"Fn::GetAtt": [table_id, "StreamArn"]}
        assert variables[contracts.WORK_QUEUE_URL] == {
            "Ref": logical_id_of(prod, "AWS::SQS::Queue", "/WorkQueue/")
        }
        assert variables[contracts.PIPE_UNRESOLVED_QUEUE_URL] == {
            "Ref": logical_id_of(prod, "AWS::SQS::Queue", "/PipeUnresolvedQueue/")
        }

    def test_the_resolver_may_only_read_the_buffer_stream_and_send_to_its_two_queues(
        self, dev: SynthesizedEnvironment
    ) -> None:
        _, properties = function_named(dev, contracts.PIPE_DLQ_SERVICE)
        statements = policy_statements_of_role(dev, properties["Role"]["Fn::GetAtt"][0])
        table_id = logical_id_of(dev, "AWS::DynamoDB::GlobalTable", "/Buffer/")
        queue_arn = {
            name: {"Fn::GetAtt": [logical_id_of(dev, "AWS::SQS::Queue", f"/{name}/"), "Arn"]}
            for name in ("WorkQueue", "PipeUnresolvedQueue", "PipeDeadLetterQueue")
        }
        assert {
            "Action": ["dynamodb:GetShardIterator", "dynamodb:GetRecords"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [table_id, "StreamArn"]},
        } in statements
        assert {
            "Action": "sqs:SendMessage",
            "Effect": "Allow",
            "Resource": [queue_arn["WorkQueue"], queue_arn["PipeUnresolvedQueue"]],
        } in statements
        # the event source's own grant on the pipe DLQ, logs and traces, and nothing else
        receive = [s for s in statements if "sqs:ReceiveMessage" in s["Action"]]
        assert [s["Resource"] for s in receive] == [queue_arn["PipeDeadLetterQueue"]]
        assert actions_of(statements) == {
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords",
            "dynamodb:GetShardIterator",
            "dynamodb:GetRecords",
            "sqs:SendMessage",
            "sqs:ReceiveMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueUrl",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
        }

    def test_resolver_errors_alarm(self, prod: SynthesizedEnvironment) -> None:
        resolver_id, _ = function_named(prod, contracts.PIPE_DLQ_SERVICE)
        prod.template.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "Namespace": "AWS/Lambda",
                "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": resolver_id}}],
                "Threshold": 0,
            },
        )


class TestFunctions:
    def test_every_function_shares_runtime_architecture_layer_tracing_and_own_log_group(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        layer_id = logical_id_of(each_environment, "AWS::Lambda::LayerVersion", "/SharedLayer/")
        # Ingest, processor, the pipe DLQ resolver, audit, lookups and the catalog's views function; the
        # CDK's own functions (the Provider framework's, which answers CloudFormation for the views
        # function, the one behind the first lookups sync, and dev's bucket emptying) are not built by
        # the factory.
        functions = bridge_functions(each_environment)
        assert len(functions) == 6
        log_groups = set()
        for function in functions.values():
            properties = function["Properties"]
            assert properties["Runtime"] == "python3.14"
            assert properties["Architectures"] == ["arm64"]
            assert properties["Handler"] == "handler.handler"
            assert properties["Layers"] == [{"Ref": layer_id}]
            assert properties["TracingConfig"] == {"Mode": "Active"}
            log_groups.add(properties["LoggingConfig"]["LogGroup"]["Ref"])
        assert len(log_groups) == 6
        for log_group_id in log_groups:
            log_group = resources(each_environment, "AWS::Logs::LogGroup")[log_group_id]
            assert log_group["Properties"]["RetentionInDays"] == each_environment.config.log_retention_days

    def test_the_layer_targets_arm64_and_the_functions_runtime(self, dev: SynthesizedEnvironment) -> None:
        dev.template.has_resource_properties(
            "AWS::Lambda::LayerVersion",
            {"CompatibleArchitectures": ["arm64"], "CompatibleRuntimes": ["python3.14"]},
        )


class TestLeastPrivilege:
    def test_no_statement_grants_every_action(self, each_environment: SynthesizedEnvironment) -> None:
        for policy in resources(each_environment, "AWS::IAM::Policy").values():
            for action in actions_of(policy["Properties"]["PolicyDocument"]["Statement"]):
                assert action != "*", action
                assert not action.endswith(":*"), action

    def test_the_ingest_role_may_only_log_trace_write_the_buffer_and_send_to_its_queues(
        self, dev: SynthesizedEnvironment
    ) -> None:
        _, properties = function_named(dev, contracts.INGEST_SERVICE)
        statements = policy_statements_of_role(dev, properties["Role"]["Fn::GetAtt"][0])
        assert actions_of(statements) == {
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords",
            "dynamodb:UpdateItem",
            "sqs:SendMessage",
            "sqs:GetQueueAttributes",
            "sqs:GetQueueUrl",
        }
        # its queues: the quarantine, its on-failure destination, and the work queue (a conversation that
        # ended again)
        send = [s for s in statements if "sqs:SendMessage" in actions_of([s])]
        queues = {
            name: {"Fn::GetAtt": [logical_id_of(dev, "AWS::SQS::Queue", f"/{name}/"), "Arn"]}
            for name in ("QuarantineQueue", "FailedInvocationsQueue", "WorkQueue")
        }
        assert sorted(str(s["Resource"]) for s in send) == sorted(str(arn) for arn in queues.values())

    def test_only_the_processor_reads_the_secret_and_writes_results(
        self, dev: SynthesizedEnvironment
    ) -> None:
        _, ingest = function_named(dev, contracts.INGEST_SERVICE)
        _, processor = function_named(dev, contracts.PROCESSOR_SERVICE)
        ingest_actions = actions_of(policy_statements_of_role(dev, ingest["Role"]["Fn::GetAtt"][0]))
        processor_statements = policy_statements_of_role(dev, processor["Role"]["Fn::GetAtt"][0])
        assert "secretsmanager:GetSecretValue" not in ingest_actions
        assert "s3:PutObject" not in ingest_actions
        put_object = [s for s in processor_statements if s["Action"] == "s3:PutObject"]
        bucket_id = logical_id_of(dev, "AWS::S3::Bucket", "/ResultsBucket/")
        assert put_object == [
            {
                "Action": "s3:PutObject",
                "Effect": "Allow",
                "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/conversations/*"]]},
            }
        ]
        assert {"secretsmanager:GetSecretValue", "dynamodb:GetItem", "dynamodb:UpdateItem"} <= actions_of(
            processor_statements
        )

    def test_without_a_customer_managed_key_the_processor_may_decrypt_nothing(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        for policy in resources(each_environment, "AWS::IAM::Policy").values():
            assert not any(
                action.startswith("kms:")
                for action in actions_of(policy["Properties"]["PolicyDocument"]["Statement"])
            )

    def test_every_function_that_reads_the_secret_may_decrypt_with_its_key_through_secrets_manager(
        self, dev_with_options: SynthesizedEnvironment
    ) -> None:
        # Given the functions the stack built, by whether their role may read the credentials secret
        readers, others = set(), set()
        decrypts: dict[str, list[dict[str, Any]]] = {}
        for resource in bridge_functions(dev_with_options).values():
            properties = resource["Properties"]
            service = properties["Environment"]["Variables"][contracts.POWERTOOLS_SERVICE_NAME]
            statements = policy_statements_of_role(dev_with_options, properties["Role"]["Fn::GetAtt"][0])
            reads = "secretsmanager:GetSecretValue" in actions_of(statements)
            (readers if reads else others).add(service)
            decrypts[service] = [s for s in statements if any(a.startswith("kms:") for a in actions_of([s]))]
        # Then the processor, the audit (its audit, finalize and backfill runs) and the lookups read it
        assert readers == {contracts.PROCESSOR_SERVICE, contracts.AUDIT_SERVICE, contracts.LOOKUPS_SERVICE}
        # And each of them may decrypt with the secret's key, only on behalf of Secrets Manager
        for service in readers:
            assert decrypts[service] == [
                {
                    "Action": "kms:Decrypt",
                    "Effect": "Allow",
                    "Resource": CREDENTIALS_KEY_ARN,
                    "Condition": {
                        "StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}
                    },
                }
            ], service
        # And no other function may decrypt anything
        assert others
        assert all(decrypts[service] == [] for service in others)

    def test_the_secret_is_imported_never_created_so_no_value_reaches_a_template(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        each_environment.template.resource_count_is("AWS::SecretsManager::Secret", 0)


class TestStorage:
    def test_the_results_bucket_is_private_encrypted_tls_only_logged_and_versioned(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        environment = each_environment
        bucket_id = logical_id_of(environment, "AWS::S3::Bucket", "/ResultsBucket/")
        environment.template.has_resource_properties(
            "AWS::S3::Bucket",
            {
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                    ]
                },
                "VersioningConfiguration": {"Status": "Enabled"},
                "LoggingConfiguration": {
                    "DestinationBucketName": {
                        "Ref": logical_id_of(environment, "AWS::S3::Bucket", "/AccessLogsBucket/")
                    },
                    "LogFilePrefix": "results-bucket/",
                },
            },
        )
        environment.template.has_resource_properties(
            "AWS::S3::BucketPolicy",
            {
                "Bucket": {"Ref": bucket_id},
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                            )
                        ]
                    )
                },
            },
        )

    def test_prod_results_are_kept_and_only_overwritten_versions_expire(
        self, prod: SynthesizedEnvironment
    ) -> None:
        # No storage-class transitions: one conversation is a few KB, and S3 neither transitions
        # objects under 128 KB by default nor bills IA/Glacier IR for less than 128 KB an object.
        prod.template.has_resource_properties(
            "AWS::S3::Bucket",
            {
                "LifecycleConfiguration": {
                    "Rules": Match.array_with(
                        [
                            {
                                "Id": "results-lifecycle",
                                "Status": "Enabled",
                                "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                            }
                        ]
                    )
                }
            },
        )

    def test_dev_empties_every_bucket_so_cdk_destroy_alone_tears_it_down(
        self, dev: SynthesizedEnvironment
    ) -> None:
        emptied = {
            resource["Properties"]["BucketName"]["Ref"]
            for resource in resources(dev, "Custom::S3AutoDeleteObjects").values()
        }
        buckets = resources(dev, "AWS::S3::Bucket")
        assert emptied == set(buckets)
        assert all(bucket["DeletionPolicy"] == "Delete" for bucket in buckets.values())

    def test_prod_never_empties_its_buckets_and_keeps_them(self, prod: SynthesizedEnvironment) -> None:
        prod.template.resource_count_is("Custom::S3AutoDeleteObjects", 0)
        for logical_id, bucket in resources(prod, "AWS::S3::Bucket").items():
            assert bucket["DeletionPolicy"] == "Retain", logical_id

    def test_nothing_prod_keeps_has_a_name_the_next_deploy_would_collide_with(
        self, prod: SynthesizedEnvironment
    ) -> None:
        # A resource kept after a teardown (or a rolled-back first create) under a fixed name makes the
        # next deploy fail with AlreadyExists. Kept resources are named by CloudFormation or by the
        # stack's own id; fixed-name ones are kept on deletion but removed when their creation rolls back.
        fixed_names = 0
        for logical_id, resource in prod.template_json["Resources"].items():
            name = _physical_name(resource)
            if name is None or resource.get("DeletionPolicy", "Delete") == "Delete":
                continue
            if "AWS::StackId" in json.dumps(name):
                continue  # unique to this stack
            fixed_names += 1
            assert resource["DeletionPolicy"] == "RetainExceptOnCreate", logical_id
            assert resource["UpdateReplacePolicy"] == "Retain", logical_id
        # the Glue database, its details, compacted (conversations, session metrics, segments) and
        # markers tables and the six lookup tables, and the Athena workgroup
        assert fixed_names == 13

    def test_dev_results_expire(self, dev: SynthesizedEnvironment) -> None:
        dev.template.has_resource_properties(
            "AWS::S3::Bucket",
            {
                "LifecycleConfiguration": {
                    "Rules": Match.array_with(
                        [Match.object_like({"Id": "results-lifecycle", "ExpirationInDays": 30})]
                    )
                }
            },
        )


class TestObservability:
    def test_every_terminal_queue_alarms_on_its_first_message(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        topic_id = logical_id_of(each_environment, "AWS::SNS::Topic", "/AlarmTopic/")
        for name in (
            "/QuarantineQueue/",
            "/RuleDeadLetterQueue/",
            "/FailedInvocationsQueue/",
            "/PipeUnresolvedQueue/",
            "/WorkDeadLetterQueue/",
        ):
            queue_id = logical_id_of(each_environment, "AWS::SQS::Queue", name)
            each_environment.template.has_resource_properties(
                "AWS::CloudWatch::Alarm",
                {
                    "Namespace": "AWS/SQS",
                    "MetricName": "ApproximateNumberOfMessagesVisible",
                    "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}],
                    "ComparisonOperator": "GreaterThanThreshold",
                    "Threshold": 0,
                    "AlarmActions": [{"Ref": topic_id}],
                },
            )

    def test_cloudwatch_may_publish_alarms_to_the_ssl_only_topic(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        # The topic's own policy replaces SNS's default one; without an Allow for CloudWatch the
        # alarms change state and publish nothing.
        topic_id = logical_id_of(each_environment, "AWS::SNS::Topic", "/AlarmTopic/")
        each_environment.template.has_resource_properties(
            "AWS::SNS::TopicPolicy",
            {
                "Topics": [{"Ref": topic_id}],
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Effect": "Allow",
                                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                    "Action": "sns:Publish",
                                    "Resource": {"Ref": topic_id},
                                }
                            )
                        ]
                    )
                },
            },
        )

    def test_an_ingest_event_lambda_could_not_dead_letter_alarms_as_lost(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        ingest_id, _ = function_named(each_environment, contracts.INGEST_SERVICE)
        each_environment.template.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "Namespace": "AWS/Lambda",
                "MetricName": "DestinationDeliveryFailures",
                "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": ingest_id}}],
                "ComparisonOperator": "GreaterThanThreshold",
                "Threshold": 0,
                "AlarmDescription": Match.string_like_regexp("^Lost events"),
            },
        )
        # AsyncEventsDropped also counts events that reached the failed-invocations queue: not a loss
        assert not alarms_on(each_environment, "AsyncEventsDropped")

    def test_an_event_eventbridge_could_neither_deliver_nor_dead_letter_alarms_as_lost(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        [alarm] = alarms_on(each_environment, "InvocationsFailedToBeSentToDlq")
        assert alarm["Namespace"] == "AWS/Events"
        assert alarm["Threshold"] == 0
        assert alarm["AlarmDescription"].startswith("Lost events")
        dimensions = {dimension["Name"]: dimension["Value"] for dimension in alarm["Dimensions"]}
        # A rule on a custom bus reports under the bus name and the rule name
        bus_name = each_environment.config.event_bus_name
        assert dimensions["EventBusName"] == bus_name
        # The rule name is taken from the rule's ARN, rule/<bus name>/<rule name>, whose bus part may hold
        # slashes itself (a partner bus): applied to such an ARN, the expression yields the rule name
        rule_id = logical_id_of(each_environment, "AWS::Events::Rule", "/Ingestion/")
        index, (separator, source) = (
            dimensions["RuleName"]["Fn::Select"][0],
            dimensions["RuleName"]["Fn::Select"][1]["Fn::Split"],
        )
        assert source == {"Fn::GetAtt": [rule_id, "Arn"]}
        example_arn = f"arn:aws:events:eu-west-1:123456789012:rule/{bus_name}/ConversationEndRule-AbC123"
        assert example_arn.split(separator)[index] == "ConversationEndRule-AbC123"

    def test_genesys_errors_and_429s_alarm_as_a_share_of_requests_for_fifteen_minutes(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        config = each_environment.config
        for part, threshold in (
            ("GenesysErrors", config.genesys_error_rate_alarm_percent),
            ("GenesysThrottled", config.genesys_throttled_rate_alarm_percent),
        ):
            [alarm] = math_alarms_on(each_environment, part)
            expression, metrics = math_of(alarm)
            assert expression == "100 * FILL(part, 0) / requests"
            assert metrics["part"]["MetricName"] == part
            assert metrics["requests"]["MetricName"] == "GenesysRequests"
            assert all(metric["Namespace"] == contracts.METRICS_NAMESPACE for metric in metrics.values())
            assert all(
                metric["Dimensions"] == [{"Name": "service", "Value": contracts.PROCESSOR_SERVICE}]
                for metric in metrics.values()
            )
            assert all(metric["Period"] == 300 for metric in metrics.values())
            # above the threshold three 5-minute periods in a row
            assert (alarm["Threshold"], alarm["EvaluationPeriods"]) == (threshold, 3)

    def test_a_work_queue_that_holds_messages_while_nothing_lands_alarms_as_stalled(
        self, each_environment: SynthesizedEnvironment
    ) -> None:
        [alarm] = math_alarms_on(each_environment, "ConversationsFetched")
        expression, metrics = math_of(alarm)
        assert expression == "IF(waiting > 0 AND FILL(fetched, 0) == 0, 1, 0)"
        assert metrics["waiting"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert metrics["waiting"]["Dimensions"] == [
            {
                "Name": "QueueName",
                "Value": {
                    "Fn::GetAtt": [
                        logical_id_of(each_environment, "AWS::SQS::Queue", "/WorkQueue/"),
                        "QueueName",
                    ]
                },
            }
        ]
        # Every 5-minute period of the configured window must breach
        assert alarm["EvaluationPeriods"] * 5 == each_environment.config.work_queue_stall_alarm_minutes
        assert alarm.get("DatapointsToAlarm", alarm["EvaluationPeriods"]) == alarm["EvaluationPeriods"]
        assert alarm["TreatMissingData"] == "notBreaching"

    def test_processor_errors_backlog_age_and_pipe_failures_alarm(self, prod: SynthesizedEnvironment) -> None:
        processor_id, _ = function_named(prod, contracts.PROCESSOR_SERVICE)
        prod.template.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "Namespace": "AWS/Lambda",
                "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": processor_id}}],
                "Threshold": 0,
            },
        )
        prod.template.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "MetricName": "ApproximateAgeOfOldestMessage",
                "Dimensions": [
                    {
                        "Name": "QueueName",
                        "Value": {
                            "Fn::GetAtt": [logical_id_of(prod, "AWS::SQS::Queue", "/WorkQueue/"), "QueueName"]
                        },
                    }
                ],
                "Threshold": prod.config.work_queue_age_alarm_minutes * 60,
            },
        )
        prod.template.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "Metrics": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "MetricStat": Match.object_like(
                                    {
                                        "Metric": Match.object_like(
                                            {
                                                "Namespace": "AWS/EventBridge/Pipes",
                                                "MetricName": "ExecutionFailed",
                                            }
                                        )
                                    }
                                )
                            }
                        )
                    ]
                )
            },
        )

    def test_without_recipients_nobody_is_subscribed(self, each_environment: SynthesizedEnvironment) -> None:
        each_environment.template.resource_count_is("AWS::SNS::Subscription", 0)

    def test_each_alarm_email_is_subscribed_once_including_the_single_alarm_email(
        self, dev_with_options: SynthesizedEnvironment
    ) -> None:
        topic_id = logical_id_of(dev_with_options, "AWS::SNS::Topic", "/AlarmTopic/")
        subscriptions = resources(dev_with_options, "AWS::SNS::Subscription").values()
        assert sorted(subscription["Properties"]["Endpoint"] for subscription in subscriptions) == [
            "oncall@example.com",
            "team@example.com",
        ]
        assert all(
            subscription["Properties"]["Protocol"] == "email"
            and subscription["Properties"]["TopicArn"] == {"Ref": topic_id}
            for subscription in subscriptions
        )

    def test_every_alarm_also_publishes_to_an_existing_topic(
        self, dev_with_options: SynthesizedEnvironment
    ) -> None:
        topic_id = logical_id_of(dev_with_options, "AWS::SNS::Topic", "/AlarmTopic/")
        alarms = resources(dev_with_options, "AWS::CloudWatch::Alarm")
        assert alarms
        for logical_id, alarm in alarms.items():
            expected = [{"Ref": topic_id}, EXTERNAL_TOPIC_ARN]
            assert alarm["Properties"]["AlarmActions"] == expected, logical_id
            assert alarm["Properties"]["OKActions"] == expected, logical_id

    def test_a_data_keeping_environment_whose_alarms_reach_nobody_is_warned_about(
        self,
        prod: SynthesizedEnvironment,
        dev: SynthesizedEnvironment,
        dev_with_options: SynthesizedEnvironment,
    ) -> None:
        # Given prod (retain) with no recipient: synth warns, naming the keys that would fix it
        [warning] = [text for text in prod.warnings if "reach nobody" in text]
        assert "'prod'" in warning
        assert all(key in warning for key in ("alarm_emails", "alarm_topic_arn"))
        # dev (destroy) and an environment with recipients are not warned about
        assert not [text for text in dev.warnings if "reach nobody" in text]
        retain_with_topic = dev_with_options.config.model_copy(update={"removal_policy": "retain"})
        assert retain_with_topic.unheard_alarms_warning is None

    def test_the_warning_is_printed_where_cdk_synth_shows_it(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        # When the app for prod is built (no synthesis needed)
        context = json.loads(DEFAULT_CDK_JSON.read_text(encoding="utf-8"))["context"]
        build_app(cdk.App(context={**context, "env": "prod", "aws:cdk:bundling-stacks": []}))
        # Then stderr carries the warning, loudly
        assert "WARNING: the alarms of environment 'prod' reach nobody" in capsys.readouterr().err


def test_outputs_name_the_bus_table_queues_bucket_and_secret(
    each_environment: SynthesizedEnvironment,
) -> None:
    outputs = each_environment.template_json["Outputs"]
    assert {
        "EventBusName",
        "BufferTableName",
        "WorkQueueUrl",
        "WorkDeadLetterQueueUrl",
        "PipeDeadLetterQueueUrl",
        "PipeUnresolvedQueueUrl",
        "QuarantineQueueUrl",
        "RuleDeadLetterQueueUrl",
        "FailedInvocationsQueueUrl",
        "ResultsBucketName",
        "CredentialsSecretArn",
        "AlarmTopicArn",
        "IngestFunctionName",
    } <= set(outputs)


def test_the_ops_cli_finds_every_queue_and_the_ingest_function_through_the_outputs(
    each_environment: SynthesizedEnvironment,
) -> None:
    # Given the outputs `make ops` reads (ops.stack.QUEUES names each queue's output)
    from ops.stack import QUEUES

    outputs = each_environment.template_json["Outputs"]
    # Then each names the resource it says, by reference
    construct_ids = {
        contracts.OUTPUT_AUDIT_SCHEDULE_DLQ_URL: "/Audit/ScheduleDeadLetterQueue/",
        contracts.OUTPUT_LOOKUPS_SCHEDULE_DLQ_URL: "/Lookups/ScheduleDeadLetterQueue/",
    }
    for spec in QUEUES:
        # the construct id of each queue (the output's name without "Url"), but for the audit's
        name = construct_ids.get(spec.output, "/" + spec.output.removesuffix("Url") + "/")
        assert outputs[spec.output]["Value"] == {
            "Ref": logical_id_of(each_environment, "AWS::SQS::Queue", name)
        }
    ingest_id, _ = function_named(each_environment, contracts.INGEST_SERVICE)
    assert outputs[contracts.OUTPUT_INGEST_FUNCTION_NAME]["Value"] == {"Ref": ingest_id}
