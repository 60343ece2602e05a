"""The audit workflow as synthesized: the state machine walks plan.FLOW (the table the in-process executor
walks too), retries and catches as the plan says, runs on a schedule, and is watched by alarms."""

from __future__ import annotations

import json
from typing import Any

import pytest

from catalog import sqlsource
from genesys_bridge import contracts, layout
from genesys_bridge.audit import plan
from genesys_bridge.audit.plan import End, Query, Step, Wait
from genesys_bridge.metrics import MetricName
from stacks.audit import (
    DATASET_STATE_SUFFIXES,
    END_STATE_NAMES,
    QUERY_STATE_NAMES,
    STEP_STATE_NAMES,
    WAIT_STATE_NAMES,
)
from stacks.config import ConfigError, parse_environment_config
from tests.infrastructure.conftest import SynthesizedEnvironment
from tests.infrastructure.test_resources import (
    function_named,
    logical_id_of,
    policy_statements_of_role,
    resources,
)


def state_machine(environment: SynthesizedEnvironment, workflow: str = "audit") -> tuple[str, dict[str, Any]]:
    """The state machine named `<stack>-<workflow>` (the audit's or the lookups')."""
    name = f"{environment.config.stack_name}-{workflow}"
    ((logical_id, resource),) = [
        (logical_id, resource)
        for logical_id, resource in resources(environment, "AWS::StepFunctions::StateMachine").items()
        if resource["Properties"]["StateMachineName"] == name
    ]
    return logical_id, resource["Properties"]


def definition(environment: SynthesizedEnvironment, workflow: str = "audit") -> dict[str, Any]:
    """The state machine's ASL, with the function ARN tokens written as <function>, the partition as
    aws and any other reference as <its logical id>."""
    body = state_machine(environment, workflow)[1]["DefinitionString"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    asl: dict[str, Any] = json.loads("".join(_token(part) for part in parts))
    return asl


def _token(part: Any) -> str:
    if isinstance(part, str):
        return part
    if "Fn::GetAtt" in part:
        return "<function>"
    return "aws" if part.get("Ref") == "AWS::Partition" else f"<{part['Ref']}>"


def name_of(target: Step | Wait | Query | End) -> str:
    if isinstance(target, Step):
        return STEP_STATE_NAMES[target]
    if isinstance(target, Wait):
        return WAIT_STATE_NAMES[target]
    if isinstance(target, Query):
        return QUERY_STATE_NAMES[target]
    return END_STATE_NAMES[target]


def transitions(asl: dict[str, Any], state_name: str) -> dict[str, str]:
    """`next` value -> state reached, for the task `state_name` (a Choice on $.next, or a direct Next)."""
    states = asl["States"]
    following = states[states[state_name]["Next"]]
    if following["Type"] != "Choice":
        return {"*": states[state_name]["Next"]}
    assert all(choice["Variable"] == "$.next" for choice in following["Choices"])
    return {choice["StringEquals"]: choice["Next"] for choice in following["Choices"]}


def test_the_state_machine_is_a_standard_workflow_traced_and_logged(
    each_environment: SynthesizedEnvironment,
) -> None:
    _, properties = state_machine(each_environment)
    assert properties["StateMachineType"] == "STANDARD"
    assert properties["TracingConfiguration"] == {"Enabled": True}
    assert properties["LoggingConfiguration"]["Level"] == "ALL"
    assert definition(each_environment)["TimeoutSeconds"] == plan.EXECUTION_TIMEOUT_HOURS * 3600


def test_the_state_machine_logs_to_a_vended_logs_group_of_its_own_stack(
    each_environment: SynthesizedEnvironment,
) -> None:
    # Under /aws/vendedlogs/ CloudWatch Logs does not grow its account-wide resource policy per group
    _, properties = state_machine(each_environment)
    [destination] = properties["LoggingConfiguration"]["Destinations"]
    log_group_id = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    name = resources(each_environment, "AWS::Logs::LogGroup")[log_group_id]["Properties"]["LogGroupName"]
    separator, parts = name["Fn::Join"]
    assert separator == ""
    assert parts[0] == f"/aws/vendedlogs/states/{each_environment.config.stack_name}-audit-"
    # ending in the stack's id, so a group a deleted stack kept never collides with the next one's
    assert parts[1] == {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}


def test_every_step_leads_where_the_plan_says_and_nowhere_else(
    each_environment: SynthesizedEnvironment,
) -> None:
    # Given the synthesized definition
    asl = definition(each_environment)
    assert asl["StartAt"] == STEP_STATE_NAMES[plan.FIRST_STEP]
    for step, follows in plan.FLOW.items():
        # Then each step's way on is exactly the plan's (the executor the local runner uses walks the same)
        expected = {"*": name_of(follows[0])} if len(follows) == 1 else {t.value: name_of(t) for t in follows}
        assert transitions(asl, STEP_STATE_NAMES[step]) == expected, step
        # And an unknown `next` fails the execution rather than wandering
        after = asl["States"][asl["States"][STEP_STATE_NAMES[step]]["Next"]]
        if after["Type"] == "Choice":
            assert after["Default"] == "UnexpectedTransition"
    for wait, then in plan.WAIT_THEN.items():
        # And each Wait sleeps the seconds the step asked for, then runs its step (or query)
        state = asl["States"][WAIT_STATE_NAMES[wait]]
        assert (state["Type"], state["SecondsPath"], state["Next"]) == (
            "Wait",
            "$.wait_seconds",
            name_of(then),
        )
    for query, then in plan.QUERY_THEN.items():
        # And each query runs its Athena tasks, one per compacted dataset in layout's order, then goes on
        # to the step the plan names, or on any failure of any of them to the one that catches it
        names = [f"{QUERY_STATE_NAMES[query]}{DATASET_STATE_SUFFIXES[d]}" for d in layout.COMPACTED_DATASETS]
        for name, after in zip(names, [*names[1:], STEP_STATE_NAMES[then]], strict=True):
            state = asl["States"][name]
            assert state["Next"] == after
            assert state["Catch"] == [
                {
                    "ErrorEquals": ["States.ALL"],
                    "ResultPath": f"$.{plan.QUERY_ERROR}",
                    "Next": STEP_STATE_NAMES[plan.QUERY_CAUGHT_BY[query]],
                }
            ]


def test_every_step_invokes_the_audit_function_with_its_step_and_the_state(
    each_environment: SynthesizedEnvironment,
) -> None:
    asl = definition(each_environment)
    for step in Step:
        task = asl["States"][STEP_STATE_NAMES[step]]
        assert task["Resource"] == "<function>"
        assert task["Parameters"]["step"] == step.value
        if step is Step.START:
            assert task["Parameters"]["input.$"] == "$"
            assert task["Parameters"]["context"]["execution.$"] == "$$.Execution.Name"
        else:
            assert task["Parameters"]["state.$"] == "$"


def test_the_compaction_runs_the_catalogs_unload_through_athenas_sync_integration(
    each_environment: SynthesizedEnvironment,
) -> None:
    # Given the synthesized definition and the catalog's workgroup, database and results bucket
    asl = definition(each_environment)
    query = asl["States"][QUERY_STATE_NAMES[Query.COMPACTION]]
    workgroup = logical_id_of(each_environment, "AWS::Athena::WorkGroup", "/Catalog/WorkGroup")
    bucket = logical_id_of(each_environment, "AWS::S3::Bucket", "/Storage/ResultsBucket/")
    # Then Step Functions itself starts the query and waits for it (no function idles), ...
    assert (query["Type"], query["Resource"]) == ("Task", "arn:aws:states:::athena:startQueryExecution.sync")
    # ... the query is catalog.sqlsource's UNLOAD into the bucket's compacted folder, for the day the
    # compact step names, in the catalog's workgroup and database
    assert query["Parameters"] == {
        "QueryString": sqlsource.compaction_unload(f"<{bucket}>"),
        "QueryExecutionContext": {
            "Database": f"genesys_analytics_bridge_{each_environment.config.environment_name}"
        },
        "WorkGroup": f"<{workgroup}>",
        "ExecutionParameters.$": f"$.{plan.QUERY_PARAMETERS}",
    }
    assert f"TO 's3://<{bucket}>/{layout.COMPACTED.prefix}'" in query["Parameters"]["QueryString"]
    # ... it is stopped past its timeout (and then cleared and run again by the plan's steps), and only
    # its id and bytes scanned go on, for the day's marker
    assert query["TimeoutSeconds"] == 3600
    assert query["ResultPath"] == f"$.{plan.QUERY_RESULT}"
    assert set(query["ResultSelector"]) == {"engine", "query_execution_id.$", "data_scanned_bytes.$"}
    # And each flat dataset's UNLOAD follows, into its own folder, its result beside the first one's
    for dataset in layout.COMPACTED_DATASETS[1:]:
        flat = asl["States"][f"{QUERY_STATE_NAMES[Query.COMPACTION]}{DATASET_STATE_SUFFIXES[dataset]}"]
        unload = sqlsource.compaction_unload(f"<{bucket}>", dataset)
        assert flat["Parameters"] == {**query["Parameters"], "QueryString": unload}
        assert f"TO 's3://<{bucket}>/{dataset.prefix}'" in unload
        assert flat["ResultPath"] == f"$.{plan.QUERY_RESULT}.{layout.compacted_folder(dataset)}"
        assert flat["ResultSelector"] == query["ResultSelector"]
    # And the report comes before the compaction, so a failed compaction never loses it
    assert transitions(asl, STEP_STATE_NAMES[Step.REPORT]) == {"*": STEP_STATE_NAMES[Step.COMPACT]}


def _statements_by_action(environment: SynthesizedEnvironment, role_id: str) -> dict[str, list[str]]:
    by_action: dict[str, list[str]] = {}
    for statement in policy_statements_of_role(environment, role_id):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        found = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in actions:
            by_action.setdefault(action, []).extend(json.dumps(r) for r in found)
    return by_action


def test_the_state_machine_may_run_the_compaction_and_nothing_more(prod: SynthesizedEnvironment) -> None:
    _, properties = state_machine(prod)
    grants = _statements_by_action(prod, properties["RoleArn"]["Fn::GetAtt"][0])
    # Athena in the catalog's workgroup only, reading the details table, the landed view and the
    # compacted table (the flat datasets are read from the day's compacted conversations) ...
    assert all("workgroup/" in r for r in grants["athena:StartQueryExecution"])
    assert all("workgroup/" in r for r in grants["athena:StopQueryExecution"])
    tables = [r for r in grants["glue:GetTable"] if "table/" in r]
    assert len(tables) == 3
    for table in (sqlsource.DETAILS_TABLE, sqlsource.LANDED_VIEW, sqlsource.COMPACTED_TABLE):
        assert any(f"/{table}" in r for r in tables)
    writes = ("glue:Create", "glue:Delete", "glue:Update", "glue:Batch")
    assert not [action for action in grants if action.startswith(writes)]
    # ... the landed objects and compacted conversations to read, the compacted folders to write, and
    # nothing else of the bucket
    reads = [r for r in grants["s3:GetObject"] if "StorageResultsBucket" in r]
    assert {f"/{contracts.RESULTS_PREFIX}*", f"/{layout.COMPACTED.prefix}*"} == {
        r.rsplit('"', 2)[-2] for r in reads
    }
    writes_to = {r.rsplit('"', 2)[-2] for r in grants["s3:PutObject"] if "StorageResultsBucket" in r}
    assert writes_to == {f"/{dataset.prefix}*" for dataset in layout.COMPACTED_DATASETS}
    assert "s3:DeleteObject" not in grants
    data_actions = [action for action in grants if action.startswith(("s3:", "glue:", "athena:"))]
    assert not [action for action in data_actions if '"*"' in grants[action]]


def test_the_audit_function_clears_and_commits_a_compaction_but_never_writes_its_parquet(
    prod: SynthesizedEnvironment,
) -> None:
    _, properties = function_named(prod, contracts.AUDIT_SERVICE)
    grants = _statements_by_action(prod, properties["Role"]["Fn::GetAtt"][0])
    assert any(f"/{layout.COMPACTION_MARKERS.prefix}*" in r for r in grants["s3:PutObject"])
    compacted = [f"/{dataset.prefix}*" for dataset in layout.COMPACTED_DATASETS]
    assert not any(prefix in r for r in grants["s3:PutObject"] for prefix in compacted)
    assert {*compacted, f"/{layout.COMPACTION_MARKERS.prefix}*"} <= {
        prefix
        for r in grants["s3:DeleteObject"]
        for prefix in (*compacted, f"/{layout.COMPACTION_MARKERS.prefix}*")
        if prefix in r
    }
    assert not any("athena:" in action for action in grants)


def test_a_results_page_writes_the_history_events_the_budget_counts(
    each_environment: SynthesizedEnvironment,
) -> None:
    # plan.PAGE_EVENTS sizes the largest day an execution's history holds: a page is a task that invokes
    # the function by its ARN (5 events; the lambda:invoke integration would write others), the Choice
    # after it and the Wait that paces the next page
    asl = definition(each_environment)
    states = asl["States"]
    page = states[STEP_STATE_NAMES[Step.PAGE]]
    assert (page["Type"], page["Resource"]) == ("Task", "<function>")
    assert states[page["Next"]]["Type"] == "Choice"
    pace = states[transitions(asl, STEP_STATE_NAMES[Step.PAGE])[Wait.PACE_RESULTS.value]]
    assert (pace["Type"], pace["Next"]) == ("Wait", STEP_STATE_NAMES[Step.PAGE])
    assert plan.PAGE_EVENTS == plan.TASK_EVENTS + plan.CHOICE_EVENTS + plan.WAIT_EVENTS


def test_steps_retry_transient_errors_with_backoff_and_otherwise_cancel_and_fail(
    each_environment: SynthesizedEnvironment,
) -> None:
    asl = definition(each_environment)
    for step in plan.FLOW:
        task = asl["States"][STEP_STATE_NAMES[step]]
        retries = {tuple(r["ErrorEquals"]): r for r in task["Retry"]}
        retry = retries[plan.RETRYABLE_ERRORS]
        assert (retry["IntervalSeconds"], retry["BackoffRate"], retry["MaxAttempts"]) == (
            plan.RETRY_INTERVAL_SECONDS,
            plan.RETRY_BACKOFF_RATE,
            plan.RETRY_MAX_ATTEMPTS,
        )
        assert (retry["MaxDelaySeconds"], retry["JitterStrategy"]) == (plan.RETRY_MAX_DELAY_SECONDS, "FULL")
        assert task["Catch"] == [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": STEP_STATE_NAMES[Step.CANCEL]}
        ]
    # And the cancel step ends in a Fail that carries the original error
    cancel = asl["States"][STEP_STATE_NAMES[Step.CANCEL]]
    failed = asl["States"][cancel["Next"]]
    assert (failed["Type"], failed["ErrorPath"], failed["CausePath"]) == (
        "Fail",
        "$.error.Error",
        "$.error.Cause",
    )


def test_retryable_error_names_are_the_exception_class_names_steps_raise() -> None:
    # Step Functions matches a Lambda error by the exception's class name: each plan name must be a class
    from genesys_bridge.audit import errors
    from genesys_bridge.genesys import errors as genesys_errors

    raised_by_steps = {name for module in (errors, genesys_errors) for name in dir(module)}
    assert set(plan.STEP_RETRYABLE_ERRORS) <= raised_by_steps


def test_a_step_whose_function_times_out_or_runs_out_of_memory_is_retried(
    each_environment: SynthesizedEnvironment,
) -> None:
    # Lambda reports these error types for such an invocation; without them the whole day would fail
    asl = definition(each_environment)
    for step in plan.FLOW:
        retried = {name for r in asl["States"][STEP_STATE_NAMES[step]]["Retry"] for name in r["ErrorEquals"]}
        assert {"Sandbox.Timedout", "Runtime.OutOfMemory", "Lambda.Unknown"} <= retried, step


def test_daily_schedules_audit_yesterday_and_finalize_the_lagging_day(
    each_environment: SynthesizedEnvironment,
) -> None:
    config = each_environment.config
    machine_id, _ = state_machine(each_environment)
    schedules = [
        r["Properties"]
        for r in resources(each_environment, "AWS::Scheduler::Schedule").values()
        if r["Properties"]["Target"]["Arn"] == {"Ref": machine_id}
    ]
    assert len(schedules) == 2
    inputs = {}
    for schedule in schedules:
        assert schedule["ScheduleExpressionTimezone"] == "Etc/UTC"
        assert f" {config.audit_schedule_hour_utc} * * ? *)" in schedule["ScheduleExpression"]
        body = json.loads(schedule["Target"]["Input"])
        inputs[body[contracts.AUDIT_INPUT_MODE]] = body
        # A start that keeps failing lands in a dead-letter queue the alarms watch
        assert "DeadLetterConfig" in schedule["Target"]
    assert inputs == {
        "audit": {"mode": "audit", "days_ago": 1, "scheduled_time": "<aws.scheduler.scheduled-time>"},
        "finalize": {
            "mode": "finalize",
            "days_ago": config.finalize_lag_days,
            "scheduled_time": "<aws.scheduler.scheduled-time>",
        },
    }


def test_the_audit_function_may_list_and_write_but_never_read_a_landed_conversation(
    prod: SynthesizedEnvironment,
) -> None:
    function_id, properties = function_named(prod, contracts.AUDIT_SERVICE)
    role_id = properties["Role"]["Fn::GetAtt"][0]
    statements = policy_statements_of_role(prod, role_id)
    by_action: dict[str, list[str]] = {}
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources_ = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        for action in actions:
            by_action.setdefault(action, []).extend(json.dumps(r) for r in resources_)
    assert any("/conversations/*" in r for r in by_action["s3:PutObject"])
    assert not any("/conversations/" in r for r in by_action["s3:GetObject"])
    [state_machine_arn] = by_action["states:ListExecutions"]
    assert "stateMachine:GenesysAnalyticsBridge-prod-audit" in state_machine_arn
    variables = properties["Environment"]["Variables"]
    assert variables[contracts.AUDIT_FIRST_DAY] == prod.config.catalog_first_day
    # Results pages are not a setting: the function reads plan.RESULTS_PAGE_SIZE
    assert "AUDIT_PAGE_SIZE" not in variables
    assert variables[contracts.AUDIT_MAX_REQUESTS_PER_MINUTE] == str(
        prod.config.audit_max_requests_per_minute
    )
    assert function_id


def test_alarms_watch_failed_executions_and_missing_conversations(
    each_environment: SynthesizedEnvironment,
) -> None:
    alarms = {
        r["Metadata"]["aws:cdk:path"].rsplit("/", 2)[-2]: r["Properties"]
        for r in resources(each_environment, "AWS::CloudWatch::Alarm").values()
    }
    failed = alarms["AuditExecutionsFailed"]
    metric_names = {m.get("MetricStat", {}).get("Metric", {}).get("MetricName") for m in failed["Metrics"]}
    assert {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"} <= metric_names
    missing = alarms["AuditFoundMissingConversations"]
    assert missing["MetricName"] == MetricName.AUDIT_MISSING_CONVERSATIONS
    assert missing["Namespace"] == contracts.METRICS_NAMESPACE
    assert missing["Threshold"] == each_environment.config.audit_missing_alarm_threshold
    assert missing["TreatMissingData"] == "ignore"
    assert "AuditScheduleDeadLetterQueueNotEmpty" in alarms


def test_backfill_finds_the_workflow_and_the_bucket_in_the_stack_outputs(
    each_environment: SynthesizedEnvironment,
) -> None:
    outputs = each_environment.template_json["Outputs"]
    machine_id, _ = state_machine(each_environment)
    assert outputs[contracts.OUTPUT_AUDIT_STATE_MACHINE_ARN]["Value"] == {"Ref": machine_id}
    bucket_id = logical_id_of(each_environment, "AWS::S3::Bucket", "/Storage/ResultsBucket/")
    assert outputs[contracts.OUTPUT_RESULTS_BUCKET_NAME]["Value"] == {"Ref": bucket_id}


def test_the_results_bucket_keeps_sse_s3_so_etags_are_content_md5s(
    each_environment: SynthesizedEnvironment,
) -> None:
    # The finalize comparison relies on it (docs/completeness.md): SSE-KMS ETags are not MD5s
    bucket_id = logical_id_of(each_environment, "AWS::S3::Bucket", "/Storage/ResultsBucket/")
    bucket = resources(each_environment, "AWS::S3::Bucket")[bucket_id]["Properties"]
    rules = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert [rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] for rule in rules] == ["AES256"]
    # And the audit's scratch objects of failed executions expire
    lifecycle = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert lifecycle["expire-audit-scratch-objects"]["Prefix"] == contracts.AUDIT_WORK_PREFIX


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("finalize_lag_days", 2, "allowed range 3..30"),
        ("audit_job_timeout_minutes", plan.MAX_JOB_TIMEOUT_MINUTES + 1, "allowed range 10..360"),
        ("audit_availability_max_wait_hours", plan.MAX_AVAILABILITY_WAIT_HOURS + 1, "allowed range 1..48"),
        ("audit_schedule_hour_utc", 24, "allowed range 0..23"),
    ],
)
def test_audit_settings_out_of_range_are_refused_naming_the_key(key: str, value: Any, expected: str) -> None:
    block = {"event_bus_mode": "create", "event_bus_name": "bus", "credentials_secret_name": "s", key: value}
    with pytest.raises(ConfigError) as raised:
        parse_environment_config("staging", block)
    assert key in str(raised.value)
    assert expected in str(raised.value)


def test_the_page_size_is_no_longer_a_setting_and_synth_says_so() -> None:
    block = {"event_bus_mode": "create", "event_bus_name": "bus", "credentials_secret_name": "s"}
    with pytest.raises(ConfigError) as raised:
        parse_environment_config("staging", {**block, "audit_page_size": 50})
    assert "audit_page_size: no longer a setting" in str(raised.value)
    assert "RESULTS_PAGE_SIZE" in str(raised.value)
