"""Lookups: the lookups function, the workflow that lands a snapshot of each lookup, its daily schedule
and the run right after the first deploy (docs/design.md, "Lookups").

The workflow: a Pass state lists the lookups (genesys_bridge.layout.LOOKUPS); a Map runs them one at a
time, each a task invoking the function with `{"step": "sync", "lookup", "started_at"}`, retried on the
audit's retryable errors (genesys_bridge.audit.plan) and otherwise caught, so the next lookup still
runs; a last task reports, and fails the execution when a lookup failed. A lookup the OAuth client may
not read (403) is a result, not a failure: it raises its own alarm and the others land.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from aws_cdk import Duration, RemovalPolicy, Stack, TimeZone
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from aws_cdk import custom_resources as cr
from constructs import Construct

from genesys_bridge import contracts, layout
from genesys_bridge.audit import plan
from stacks.audit import logged_state_machine
from stacks.config import EnvironmentConfig
from stacks.credentials import GenesysCredentials
from stacks.dead_letter_queues import dead_letter_queue
from stacks.function_environments import lookups_environment
from stacks.lambda_functions import FunctionSpec, PythonFunctionFactory
from stacks.log_groups import log_group
from stacks.nag import acknowledge_nag_finding, acknowledge_state_machine_role

# State names as they show in the Step Functions console.
LIST_STATE = "ListLookups"
MAP_STATE = "SyncEachLookup"
SYNC_STATE = "SyncLookup"
CAUGHT_STATE = "LookupFailed"
REPORT_STATE = "ReportLookups"
# Six lookups, each at most a function timeout per attempt and its retries: hours, not days.
EXECUTION_TIMEOUT = Duration.hours(6)
FUNCTION_TIMEOUT = Duration.minutes(15)
FUNCTION_MEMORY_MB = 512
# The daily sync starts at HH:30 the hour before the audit's schedules (audit_schedule_hour_utc), so
# the two share the audit's Genesys pace by taking turns (docs/design.md, "Lookups").
SCHEDULE_MINUTE = 30
# The id under which the CDK creates the function of every AwsCustomResource in a stack.
AWS_CUSTOM_RESOURCE_SINGLETON = "AWS679f53fac002430cb0da5b7982bd2287"


class Lookups(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        results_bucket: s3.Bucket,
        credentials: GenesysCredentials,
        functions: PythonFunctionFactory,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.state_machine_name = f"{config.stack_name}-lookups"
        self.function = functions.build(
            self,
            "LookupsFunction",
            FunctionSpec(
                handler_folder="lookups",
                service_name=contracts.LOOKUPS_SERVICE,
                description="Lands one day's snapshot of a Genesys routing or directory listing",
                memory_mb=FUNCTION_MEMORY_MB,
                timeout=FUNCTION_TIMEOUT,
                environment=lookups_environment(
                    config,
                    results_bucket_name=results_bucket.bucket_name,
                    credentials_secret_arn=credentials.secret.secret_arn,
                ),
            ),
        )
        self._grant(results_bucket, credentials)
        self.state_machine = logged_state_machine(
            self,
            self.state_machine_name,
            self._definition(),
            timeout=EXECUTION_TIMEOUT,
            comment="Today's snapshot of each Genesys lookup (queues, users, codes, ...), one at a time",
            config=config,
            removal_policy=removal_policy,
        )
        acknowledge_state_machine_role(self.state_machine, self.function, "the lookups function")
        self.schedule_dead_letter_queue = dead_letter_queue(
            self, "ScheduleDeadLetterQueue", holds="schedule runs that could not start a lookups sync"
        )
        if config.lookups_enabled:
            self._schedule(config)
            self._initial_sync(config, removal_policy)

    # --- the workflow ------------------------------------------------------------------------------------

    def _definition(self) -> sfn.IChainable:
        listed = sfn.Pass(self, LIST_STATE, result=sfn.Result.from_object({"lookups": list(layout.LOOKUPS)}))
        sync = tasks.LambdaInvoke(
            self,
            SYNC_STATE,
            lambda_function=self.function,
            payload=sfn.TaskInput.from_object(
                {
                    "step": contracts.LOOKUPS_SYNC_STEP,
                    "lookup": sfn.JsonPath.string_at("$.lookup"),
                    "started_at": sfn.JsonPath.string_at("$.started_at"),
                }
            ),
            payload_response_only=True,
            retry_on_service_exceptions=True,
        )
        _retry_as_the_audit_does(sync, plan.RETRYABLE_ERRORS)
        # Whatever still fails is this lookup's result; the Map goes on with the next one.
        caught = sfn.Pass(
            self,
            CAUGHT_STATE,
            parameters={
                "lookup": sfn.JsonPath.string_at("$.lookup"),
                "outcome": "failed",
                "error": sfn.JsonPath.object_at("$.error"),
            },
        )
        sync.add_catch(caught, errors=[sfn.Errors.ALL], result_path="$.error")
        each = sfn.Map(
            self,
            MAP_STATE,
            max_concurrency=1,  # one lookup at a time: one Genesys caller at the function's pace
            items_path="$.lookups",
            item_selector={
                "lookup": sfn.JsonPath.string_at("$$.Map.Item.Value"),
                # One snapshot day for the whole sync, however long it runs.
                "started_at": sfn.JsonPath.string_at("$$.Execution.StartTime"),
            },
            result_path="$.results",
        )
        each.item_processor(sync)
        report = tasks.LambdaInvoke(
            self,
            REPORT_STATE,
            lambda_function=self.function,
            payload=sfn.TaskInput.from_object(
                {"step": contracts.LOOKUPS_REPORT_STEP, "results": sfn.JsonPath.list_at("$.results")}
            ),
            payload_response_only=True,
            retry_on_service_exceptions=True,
        )
        _retry_as_the_audit_does(report, plan.FUNCTION_RETRYABLE_ERRORS)
        return listed.next(each).next(report)

    # --- permissions -------------------------------------------------------------------------------------

    def _grant(self, bucket: s3.Bucket, credentials: GenesysCredentials) -> None:
        snapshots = f"{contracts.LOOKUPS_PREFIX}*"
        iam.Grant.add_to_principal(
            grantee=self.function, actions=["s3:PutObject"], resource_arns=[bucket.arn_for_objects(snapshots)]
        )
        credentials.grant_read(self.function)
        bucket_logical_id = Stack.of(self).resolve(
            Stack.of(bucket).get_logical_id(cast(s3.CfnBucket, bucket.node.default_child))
        )
        role = self.function.role
        assert role is not None  # the function factory always gives one
        acknowledge_nag_finding(
            role,
            f"AwsSolutions-IAM5[Resource::<{bucket_logical_id}.Arn>/{snapshots}]",
            "Keys are made at run time (one snapshot per lookup and day), so they cannot be listed in "
            f"advance; the grant is PutObject only, limited to the {contracts.LOOKUPS_PREFIX} prefix.",
        )

    # --- runs --------------------------------------------------------------------------------------------

    def _schedule(self, config: EnvironmentConfig) -> None:
        hour = (config.audit_schedule_hour_utc - 1) % 24
        scheduler.Schedule(
            self,
            "Schedule",
            description="Daily snapshot of the Genesys lookups, before the audit's schedules",
            schedule=scheduler.ScheduleExpression.cron(
                minute=str(SCHEDULE_MINUTE), hour=str(hour), time_zone=TimeZone.ETC_UTC
            ),
            target=scheduler_targets.StepFunctionsStartExecution(
                self.state_machine,
                dead_letter_queue=self.schedule_dead_letter_queue,
                retry_attempts=10,
                max_event_age=Duration.hours(6),
            ),
        )

    def _initial_sync(self, config: EnvironmentConfig, removal_policy: RemovalPolicy) -> None:
        """Start one sync when the stack (or this resource) is created, so names are there from day one."""
        start = cr.AwsSdkCall(
            service="SFN",
            action="startExecution",
            parameters={"stateMachineArn": self.state_machine.state_machine_arn},
            physical_resource_id=cr.PhysicalResourceId.of(f"{self.state_machine_name}-initial-sync"),
        )
        initial = cr.AwsCustomResource(
            self,
            "InitialSync",
            resource_type="Custom::LookupsInitialSync",
            on_create=start,
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [
                    iam.PolicyStatement(
                        actions=["states:StartExecution"], resources=[self.state_machine.state_machine_arn]
                    )
                ]
            ),
            install_latest_aws_sdk=False,
            log_group=log_group(
                self,
                "InitialSyncLogs",
                retention_days=config.log_retention_days,
                removal_policy=removal_policy,
            ),
        )
        # The function starts an execution that lands snapshots: it needs its grants in place first.
        initial.node.add_dependency(self.function)
        # The CDK's one function behind every AwsCustomResource of the stack, with the role it builds.
        singleton = Stack.of(self).node.find_child(AWS_CUSTOM_RESOURCE_SINGLETON)
        acknowledge_nag_finding(
            singleton.node.find_child("ServiceRole"),
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "The CDK's AwsCustomResource function gets the managed basic execution policy (CloudWatch Logs "
            "writes); it runs only during deployments, and may only start the lookups state machine.",
        )

    @property
    def dead_letter_queues(self) -> Mapping[str, sqs.IQueue]:
        return {"LookupsScheduleDeadLetterQueue": self.schedule_dead_letter_queue}


def _retry_as_the_audit_does(task: tasks.LambdaInvoke, errors: tuple[str, ...]) -> None:
    task.add_retry(
        errors=list(errors),
        interval=Duration.seconds(plan.RETRY_INTERVAL_SECONDS),
        backoff_rate=plan.RETRY_BACKOFF_RATE,
        max_attempts=plan.RETRY_MAX_ATTEMPTS,
        max_delay=Duration.seconds(plan.RETRY_MAX_DELAY_SECONDS),
        jitter_strategy=sfn.JitterType.FULL,
    )
