"""Audit: the audit function, the Step Functions workflow that drives it one day at a time, its schedules.

The state machine is built from genesys_bridge.audit.plan, the same tables the in-process executor walks:
one task per step (all invoking the one audit function with `{"step": ..., "state": $}`), a Choice on
`$.next` after each step that has more than one way on, Wait states that sleep `$.wait_seconds` (the job
is polled by short invocations between Waits; no function idles), retries with backoff on the errors
the plan names, and a Catch on every task that cancels the job and fails the execution with the
original error. Only the report step writes a report, so a failed execution never says its day is done.

After the report the day is compacted (docs/query.md, "Compaction"): the plan's query runs as a task of
Step Functions' athena:startQueryExecution.sync integration, which waits for Athena itself, so no
function idles and the query's grants stay on the state machine's role, apart from the function's.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import cast

from aws_cdk import ArnFormat, Aws, CfnElement, Duration, Fn, RemovalPolicy, Stack, TimeZone
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from catalog import sqlsource
from genesys_bridge import contracts, layout
from genesys_bridge.audit import plan
from genesys_bridge.audit.model import AuditMode
from genesys_bridge.audit.plan import End, Query, Step, Wait
from stacks.catalog import RESULTS_PREFIX as QUERY_RESULTS_PREFIX
from stacks.catalog import Catalog
from stacks.config import EnvironmentConfig
from stacks.credentials import GenesysCredentials
from stacks.dead_letter_queues import dead_letter_queue
from stacks.function_environments import audit_environment
from stacks.lambda_functions import FunctionSpec, PythonFunctionFactory
from stacks.log_groups import log_group
from stacks.nag import acknowledge_nag_finding, acknowledge_state_machine_role

# State names as they show in the Step Functions console.
STEP_STATE_NAMES: Mapping[Step, str] = {
    Step.START: "Start",
    Step.AVAILABILITY: "CheckDataAvailability",
    Step.GUARD: "WaitForOlderExecutions",
    Step.SUBMIT: "SubmitDetailsJob",
    Step.POLL: "PollDetailsJob",
    Step.INVENTORY: "ListLandedConversations",
    Step.PAGE: "ReadResultsPage",
    Step.REPORT: "WriteReport",
    Step.COMPACT: "ClearCompaction",
    Step.COMMIT: "CommitCompaction",
    Step.CANCEL: "CancelDetailsJob",
}
QUERY_STATE_NAMES: Mapping[Query, str] = {Query.COMPACTION: "CompactDay"}
# The compaction is one UNLOAD per compacted dataset, one after the other (the flat datasets read the
# day's compacted conversations): the first state is the query's, the others are named after it.
DATASET_STATE_SUFFIXES: Mapping[layout.Dataset, str] = {
    layout.COMPACTED: "",
    layout.COMPACTED_SESSION_METRICS: "SessionMetrics",
    layout.COMPACTED_SEGMENTS: "Segments",
}
# The longest a compaction query may run before Step Functions stops it (and the plan's retry clears it).
QUERY_TIMEOUT = Duration.hours(1)
WAIT_STATE_NAMES: Mapping[Wait, str] = {
    Wait.FOR_AVAILABILITY: "WaitForDataAvailability",
    Wait.FOR_TURN: "WaitForTurn",
    Wait.FOR_JOB: "WaitForDetailsJob",
    Wait.BEFORE_RESUBMIT: "BackOffBeforeResubmit",
    Wait.PACE_RESULTS: "PaceResultsPages",
    Wait.BEFORE_RECOMPACT: "BackOffBeforeRecompact",
}
END_STATE_NAMES: Mapping[End, str] = {End.ALREADY_DONE: "AlreadyDone", End.COMPLETE: "Complete"}
FAILED_STATE_NAME = "AuditFailed"
UNEXPECTED_STATE_NAME = "UnexpectedTransition"
# Scratch objects of executions that failed (the report step deletes its own) expire after this.
WORK_OBJECTS_EXPIRE_DAYS = 7
FINALIZE_MINUTE, AUDIT_MINUTE = 0, 15
VENDED_LOGS_PREFIX = "/aws/vendedlogs/states/"


class Audit(Construct):
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
        catalog: Catalog,
    ) -> None:
        super().__init__(scope, construct_id)
        self._catalog = catalog
        self._results_bucket = results_bucket
        stack = Stack.of(self)
        # A fixed name lets the function's policy name the state machine without a dependency cycle
        # (the state machine invokes the function; the function lists the state machine's executions).
        self.state_machine_name = f"{config.stack_name}-audit"
        state_machine_arn = stack.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=self.state_machine_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.function = functions.build(
            self,
            "AuditFunction",
            FunctionSpec(
                handler_folder="audit",
                service_name=contracts.AUDIT_SERVICE,
                description="Audits and finalizes one day of landed conversations with a Genesys details job",
                memory_mb=config.audit_memory_mb,
                timeout=Duration.seconds(config.audit_timeout_seconds),
                environment=audit_environment(
                    config,
                    results_bucket_name=results_bucket.bucket_name,
                    credentials_secret_arn=credentials.secret.secret_arn,
                ),
            ),
        )
        self._grant(results_bucket, credentials, state_machine_arn)
        results_bucket.add_lifecycle_rule(
            id="expire-audit-scratch-objects",
            prefix=contracts.AUDIT_WORK_PREFIX,
            expiration=Duration.days(WORK_OBJECTS_EXPIRE_DAYS),
            noncurrent_version_expiration=Duration.days(1),
        )

        self.state_machine = logged_state_machine(
            self,
            self.state_machine_name,
            self._definition(),
            timeout=Duration.hours(plan.EXECUTION_TIMEOUT_HOURS),
            comment="One UTC day of conversations, audited (mode audit) or finalized (mode finalize)",
            config=config,
            removal_policy=removal_policy,
        )
        self._grant_queries(self.state_machine.role)
        acknowledge_state_machine_role(self.state_machine, self.function, "the audit function")

        self.schedule_dead_letter_queue = dead_letter_queue(
            self, "ScheduleDeadLetterQueue", holds="schedule runs that could not start an execution"
        )
        if config.audit_enabled:
            self._schedule(config)

    # --- the workflow ------------------------------------------------------------------------------------

    def _definition(self) -> sfn.IChainable:
        failed = sfn.Fail(self, FAILED_STATE_NAME, error_path="$.error.Error", cause_path="$.error.Cause")
        unexpected = sfn.Fail(
            self, UNEXPECTED_STATE_NAME, error="UnexpectedTransition", cause="a step returned an unknown next"
        )
        ends: dict[End, sfn.Succeed] = {end: sfn.Succeed(self, name) for end, name in END_STATE_NAMES.items()}
        steps = {step: self._task(step) for step in Step}
        queries = {query: self._queries(query) for query in Query}
        waits = {
            wait: sfn.Wait(self, name, time=sfn.WaitTime.seconds_path("$.wait_seconds"))
            for wait, name in WAIT_STATE_NAMES.items()
        }

        def state_of(target: Step | Wait | Query | End) -> sfn.State:
            if isinstance(target, End):
                return ends[target]
            if isinstance(target, Wait):
                return waits[target]
            if isinstance(target, Query):
                return queries[target][0]
            return steps[target]

        for wait, wait_state in waits.items():
            wait_state.next(state_of(plan.WAIT_THEN[wait]))
        for query, chain in queries.items():
            for query_state in chain:
                # Any failure goes to the step that clears what the queries wrote before they run again.
                query_state.add_catch(
                    steps[plan.QUERY_CAUGHT_BY[query]],
                    errors=[sfn.Errors.ALL],
                    result_path=f"$.{plan.QUERY_ERROR}",
                )
            for earlier, later in itertools.pairwise(chain):
                earlier.next(later)
            chain[-1].next(steps[plan.QUERY_THEN[query]])
        for step, follows in plan.FLOW.items():
            task = steps[step]
            if len(follows) == 1:
                task.next(state_of(follows[0]))
            else:
                choice = sfn.Choice(self, f"After{STEP_STATE_NAMES[step]}")
                for target in follows:
                    choice.when(sfn.Condition.string_equals("$.next", target.value), state_of(target))
                choice.otherwise(unexpected)
                task.next(choice)
            task.add_retry(
                errors=list(plan.RETRYABLE_ERRORS),
                interval=Duration.seconds(plan.RETRY_INTERVAL_SECONDS),
                backoff_rate=plan.RETRY_BACKOFF_RATE,
                max_attempts=plan.RETRY_MAX_ATTEMPTS,
                max_delay=Duration.seconds(plan.RETRY_MAX_DELAY_SECONDS),
                jitter_strategy=sfn.JitterType.FULL,
            )
            task.add_catch(steps[Step.CANCEL], errors=[sfn.Errors.ALL], result_path="$.error")
        cancel = steps[Step.CANCEL]
        cancel.add_catch(failed, errors=[sfn.Errors.ALL], result_path="$.cancel_error")
        cancel.next(failed)
        return steps[plan.FIRST_STEP]

    def _task(self, step: Step) -> tasks.LambdaInvoke:
        if step is Step.START:
            payload = {
                "step": step.value,
                "input": sfn.JsonPath.entire_payload,
                "context": {
                    "execution": sfn.JsonPath.execution_name,
                    "execution_id": sfn.JsonPath.execution_id,
                    "state_machine": sfn.JsonPath.state_machine_id,
                    "started_at": sfn.JsonPath.execution_start_time,
                },
            }
        else:
            payload = {"step": step.value, "state": sfn.JsonPath.entire_payload}
        return tasks.LambdaInvoke(
            self,
            STEP_STATE_NAMES[step],
            lambda_function=self.function,
            payload=sfn.TaskInput.from_object(payload),
            # The function's answer is the new state; nothing of the invocation's envelope is kept.
            payload_response_only=True,
            retry_on_service_exceptions=True,
        )

    def _queries(self, query: Query) -> list[sfn.CustomState]:
        """The compaction's UNLOADs (catalog.sqlsource), one per compacted dataset in layout's order,
        through Step Functions' Athena integration, which starts each and waits for it (.sync); the
        compact step gives the day as ExecutionParameters. The first one's result is the query's, each
        other's goes beside it under its dataset's name."""
        chain = []
        for dataset in layout.COMPACTED_DATASETS:
            suffix = DATASET_STATE_SUFFIXES[dataset]
            nested = "" if dataset == layout.COMPACTED else f".{layout.compacted_folder(dataset)}"
            chain.append(
                sfn.CustomState(
                    self,
                    f"{QUERY_STATE_NAMES[query]}{suffix}",
                    state_json={
                        "Type": "Task",
                        "Resource": f"arn:{Aws.PARTITION}:states:::athena:startQueryExecution.sync",
                        "Parameters": {
                            "QueryString": sqlsource.compaction_unload(
                                self._results_bucket.bucket_name, dataset
                            ),
                            "QueryExecutionContext": {"Database": self._catalog.settings.database_name},
                            "WorkGroup": self._catalog.workgroup.ref,
                            "ExecutionParameters.$": f"$.{plan.QUERY_PARAMETERS}",
                        },
                        "TimeoutSeconds": QUERY_TIMEOUT.to_seconds(),
                        # What the commit step writes into the day's marker; nothing else of Athena's answer.
                        "ResultSelector": {
                            "engine": "athena",
                            "query_execution_id.$": "$.QueryExecution.QueryExecutionId",
                            "data_scanned_bytes.$": "$.QueryExecution.Statistics.DataScannedInBytes",
                        },
                        "ResultPath": f"$.{plan.QUERY_RESULT}{nested}",
                    },
                )
            )
        return chain

    # --- permissions -------------------------------------------------------------------------------------

    def _grant(self, bucket: s3.Bucket, credentials: GenesysCredentials, state_machine_arn: str) -> None:
        conversations = f"{contracts.RESULTS_PREFIX}*"
        reports = f"{contracts.AUDITS_PREFIX}*"
        scratch = f"{contracts.AUDIT_WORK_PREFIX}*"
        compacted = [f"{dataset.prefix}*" for dataset in layout.COMPACTED_DATASETS]
        markers = f"{layout.COMPACTION_MARKERS.prefix}*"
        grants = {
            # ListObjectsV2 gives every landed conversation's ETag: the comparison never reads a body.
            "s3:ListBucket": [bucket.bucket_arn],
            # Landing missing or changed conversations, the report, the execution's scratch objects, the
            # compaction marker (the Parquet is Athena's to write).
            "s3:PutObject": [bucket.arn_for_objects(p) for p in (conversations, reports, scratch, markers)],
            # Reports (is the day done?), scratch objects, markers; never a landed conversation.
            "s3:GetObject": [bucket.arn_for_objects(p) for p in (reports, scratch, markers)],
            # Scratch objects, and a compaction's marker and Parquet before it writes them again.
            "s3:DeleteObject": [bucket.arn_for_objects(p) for p in (scratch, *compacted, markers)],
            # The guard step: how many executions of this state machine are running, and which is oldest.
            "states:ListExecutions": [state_machine_arn],
        }
        for action, resource_arns in grants.items():
            iam.Grant.add_to_principal(grantee=self.function, actions=[action], resource_arns=resource_arns)
        credentials.grant_read(self.function)
        bucket_logical_id = Stack.of(self).resolve(
            Stack.of(bucket).get_logical_id(cast(s3.CfnBucket, bucket.node.default_child))
        )
        role = self.function.role
        assert role is not None  # the function factory always gives one
        for pattern, why in (
            (conversations, "one object per conversation, keyed by its date and id"),
            (reports, "one report per day and mode"),
            (scratch, "one inventory and one ledger per results page of each execution"),
            *(
                (prefix, "one folder of Parquet files per compacted day, named by Athena")
                for prefix in compacted
            ),
            (markers, "one compaction marker per day"),
        ):
            acknowledge_nag_finding(
                role,
                f"AwsSolutions-IAM5[Resource::<{bucket_logical_id}.Arn>/{pattern}]",
                f"Keys are made at run time ({why}), so they cannot be listed in advance; the grant is "
                f"limited to the {pattern.rstrip('*')} prefix and to the actions the audit needs there.",
            )

    def _grant_queries(self, role: iam.IRole) -> None:
        """What Athena needs from the state machine, which runs the compaction's UNLOAD: the workgroup,
        the catalog entries the query reads, the landed objects, the compacted folders it writes and the
        workgroup's results location (https://docs.aws.amazon.com/step-functions/latest/dg/athena-iam.html)."""
        stack, catalog, bucket = Stack.of(self), self._catalog, self._results_bucket
        compacted = f"{layout.COMPACTED.prefix}*"
        database = catalog.settings.database_name
        results = catalog.query_results_bucket
        statements = [
            (
                ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:StopQueryExecution"],
                [
                    stack.format_arn(
                        service="athena", resource="workgroup", resource_name=catalog.workgroup.ref
                    )
                ],
            ),
            (
                ["athena:GetDataCatalog"],
                [stack.format_arn(service="athena", resource="datacatalog", resource_name="AwsDataCatalog")],
            ),
            (
                ["glue:GetDatabase", "glue:GetTable", "glue:GetPartition", "glue:GetPartitions"],
                [
                    stack.format_arn(service="glue", resource="catalog"),
                    stack.format_arn(service="glue", resource="database", resource_name=database),
                    *(
                        stack.format_arn(service="glue", resource="table", resource_name=f"{database}/{name}")
                        for name in (
                            sqlsource.DETAILS_TABLE,
                            sqlsource.LANDED_VIEW,
                            sqlsource.COMPACTED_TABLE,
                        )
                    ),
                ],
            ),
            (["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"], [bucket.bucket_arn]),
            # The landed objects, and the day's compacted conversations the flat datasets are read from.
            (
                ["s3:GetObject"],
                [bucket.arn_for_objects(p) for p in (f"{contracts.RESULTS_PREFIX}*", compacted)],
            ),
            (
                ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                [bucket.arn_for_objects(f"{dataset.prefix}*") for dataset in layout.COMPACTED_DATASETS],
            ),
            (["s3:GetBucketLocation", "s3:ListBucket"], [results.bucket_arn]),
            (
                ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                [results.arn_for_objects(f"{QUERY_RESULTS_PREFIX}*")],
            ),
        ]
        for actions, resources in statements:
            role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=resources))
        bucket_id = _logical_id(bucket)
        for resource, why in (
            (f"<{bucket_id}.Arn>/{contracts.RESULTS_PREFIX}*", "the day's landed objects the UNLOAD reads"),
            *(
                (f"<{bucket_id}.Arn>/{dataset.prefix}*", "the Parquet files Athena names as it writes")
                for dataset in layout.COMPACTED_DATASETS
            ),
            (
                f"<{_logical_id(results)}.Arn>/{QUERY_RESULTS_PREFIX}*",
                "each query's result and manifest, named by its query id",
            ),
        ):
            acknowledge_nag_finding(
                role,
                f"AwsSolutions-IAM5[Resource::{resource}]",
                f"Athena runs the compaction with the state machine's credentials: {why}, under that "
                "prefix only.",
            )

    # --- schedules ---------------------------------------------------------------------------------------

    def _schedule(self, config: EnvironmentConfig) -> None:
        runs = (
            ("FinalizeSchedule", AuditMode.FINALIZE, config.finalize_lag_days, FINALIZE_MINUTE),
            ("AuditSchedule", AuditMode.AUDIT, 1, AUDIT_MINUTE),
        )
        for construct_id, mode, days_ago, minute in runs:
            scheduler.Schedule(
                self,
                construct_id,
                description=f"Daily {mode.value} of the UTC day {days_ago} day(s) before the run",
                schedule=scheduler.ScheduleExpression.cron(
                    minute=str(minute), hour=str(config.audit_schedule_hour_utc), time_zone=TimeZone.ETC_UTC
                ),
                target=scheduler_targets.StepFunctionsStartExecution(
                    self.state_machine,
                    input=scheduler.ScheduleTargetInput.from_object(
                        {
                            contracts.AUDIT_INPUT_MODE: mode.value,
                            contracts.AUDIT_INPUT_DAYS_AGO: days_ago,
                            contracts.AUDIT_INPUT_SCHEDULED_TIME: scheduler.ContextAttribute.scheduled_time,
                        }
                    ),
                    dead_letter_queue=self.schedule_dead_letter_queue,
                    retry_attempts=10,
                    max_event_age=Duration.hours(6),
                ),
            )

    @property
    def dead_letter_queues(self) -> Mapping[str, sqs.IQueue]:
        return {"AuditScheduleDeadLetterQueue": self.schedule_dead_letter_queue}


def _logical_id(construct: Construct) -> str:
    """The CloudFormation logical id of an L2 construct's resource, as cdk-nag names it in findings."""
    stack = Stack.of(construct)
    return str(stack.resolve(stack.get_logical_id(cast(CfnElement, construct.node.default_child))))


def logged_state_machine(
    scope: Construct,
    name: str,
    definition: sfn.IChainable,
    *,
    timeout: Duration,
    comment: str,
    config: EnvironmentConfig,
    removal_policy: RemovalPolicy,
) -> sfn.StateMachine:
    """A standard, traced state machine (`StateMachine` in scope) that logs every state transition
    (cdk-nag SF1) to a log group of its own (`StateMachineLogs`); execution data stays out of the log:
    the state holds nothing secret, but it keeps the log small."""
    logs_ = log_group(
        scope,
        "StateMachineLogs",
        retention_days=config.log_retention_days,
        removal_policy=removal_policy,
        log_group_name=state_machine_log_group_name(Stack.of(scope), name),
    )
    return sfn.StateMachine(
        scope,
        "StateMachine",
        state_machine_name=name,
        state_machine_type=sfn.StateMachineType.STANDARD,
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        timeout=timeout,
        tracing_enabled=True,
        logs=sfn.LogOptions(destination=logs_, level=sfn.LogLevel.ALL, include_execution_data=False),
        comment=comment,
    )


def state_machine_log_group_name(stack: Stack, state_machine_name: str) -> str:
    """Under /aws/vendedlogs/, as AWS recommends for vended logs: CloudWatch Logs then does not add
    every such log group to its account-wide resource policy, which has a size limit
    (https://docs.aws.amazon.com/step-functions/latest/dg/bp-cwl.html). The stack's own id ends the
    name, so a log group a deleted prod stack kept never collides with the next stack's."""
    stack_guid = Fn.select(2, Fn.split("/", stack.stack_id))
    return f"{VENDED_LOGS_PREFIX}{state_machine_name}-{stack_guid}"
