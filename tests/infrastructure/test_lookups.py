"""The lookups sync as synthesized: a workflow that runs every lookup one at a time, retried as the
audit's steps are, a lookup that still fails caught so the others land; a daily schedule and a first
run on deploy; alarms on failed syncs and refused permissions; a Glue table per lookup under the
views."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from catalog import schema, sqlsource
from genesys_bridge import contracts, layout
from genesys_bridge.audit import plan
from genesys_bridge.metrics import MetricName
from stacks import lookups as construct
from stacks.catalog import JSON_SERDE, JSON_SERDE_PARAMETERS
from tests.infrastructure.conftest import SynthesizedEnvironment, synthesize
from tests.infrastructure.test_audit import definition, state_machine
from tests.infrastructure.test_catalog import _join
from tests.infrastructure.test_resources import (
    actions_of,
    function_named,
    logical_id_of,
    math_of,
    policy_statements_of_role,
    resources,
)


@pytest.fixture(scope="module")
def disabled(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedEnvironment:
    return synthesize("dev", tmp_path_factory.mktemp("cdk-lookups-off"), overrides={"lookups_enabled": False})


def alarms(environment: SynthesizedEnvironment) -> dict[str, dict[str, Any]]:
    return {
        r["Metadata"]["aws:cdk:path"].rsplit("/", 2)[-2]: r["Properties"]
        for r in resources(environment, "AWS::CloudWatch::Alarm").values()
    }


def test_the_workflow_syncs_every_lookup_one_at_a_time_then_reports(
    each_environment: SynthesizedEnvironment,
) -> None:
    asl = definition(each_environment, "lookups")
    states = asl["States"]
    assert asl["StartAt"] == construct.LIST_STATE
    assert states[construct.LIST_STATE]["Result"] == {"lookups": list(layout.LOOKUPS)}
    each = states[states[construct.LIST_STATE]["Next"]]
    assert (each["Type"], each["MaxConcurrency"], each["ItemsPath"]) == ("Map", 1, "$.lookups")
    # every lookup of one execution lands in the snapshot of the day the execution started
    assert each["ItemSelector"] == {"lookup.$": "$$.Map.Item.Value", "started_at.$": "$$.Execution.StartTime"}
    sync = each["ItemProcessor"]["States"][construct.SYNC_STATE]
    assert sync["Parameters"] == {"step": "sync", "lookup.$": "$.lookup", "started_at.$": "$.started_at"}
    report = states[each["Next"]]
    assert report["Parameters"] == {"step": "report", "results.$": "$.results"}
    assert report["End"] is True
    assert asl["TimeoutSeconds"] == construct.EXECUTION_TIMEOUT.to_seconds()


def test_a_lookup_is_retried_as_an_audit_step_and_what_still_fails_is_caught_as_its_result(
    each_environment: SynthesizedEnvironment,
) -> None:
    states = definition(each_environment, "lookups")["States"]
    processor = states[construct.MAP_STATE]["ItemProcessor"]["States"]
    sync = processor[construct.SYNC_STATE]
    [retry] = [r for r in sync["Retry"] if "RetryLater" in r["ErrorEquals"]]
    assert retry["ErrorEquals"] == list(plan.RETRYABLE_ERRORS)
    assert (retry["IntervalSeconds"], retry["MaxAttempts"], retry["MaxDelaySeconds"]) == (
        plan.RETRY_INTERVAL_SECONDS,
        plan.RETRY_MAX_ATTEMPTS,
        plan.RETRY_MAX_DELAY_SECONDS,
    )
    assert sync["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": construct.CAUGHT_STATE}
    ]
    assert processor[construct.CAUGHT_STATE]["Parameters"] == {
        "lookup.$": "$.lookup",
        "outcome": "failed",
        "error.$": "$.error",
    }
    # the report's own failure (LookupsFailed) is neither retried nor caught: it fails the execution
    report = states[construct.REPORT_STATE]
    assert "Catch" not in report
    assert all("LookupsFailed" not in r["ErrorEquals"] for r in report["Retry"])


def test_the_workflow_is_a_standard_traced_and_logged_state_machine_of_its_own(
    each_environment: SynthesizedEnvironment,
) -> None:
    _, properties = state_machine(each_environment, "lookups")
    assert properties["StateMachineType"] == "STANDARD"
    assert properties["TracingConfiguration"] == {"Enabled": True}
    assert properties["LoggingConfiguration"]["Level"] == "ALL"


def test_a_daily_schedule_starts_it_half_an_hour_before_the_audits_hour(
    each_environment: SynthesizedEnvironment,
) -> None:
    machine_id, _ = state_machine(each_environment, "lookups")
    [schedule] = [
        r["Properties"]
        for r in resources(each_environment, "AWS::Scheduler::Schedule").values()
        if r["Properties"]["Target"]["Arn"] == {"Ref": machine_id}
    ]
    hour = (each_environment.config.audit_schedule_hour_utc - 1) % 24
    assert schedule["ScheduleExpression"] == f"cron(30 {hour} * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "Etc/UTC"
    dead_letters = logical_id_of(each_environment, "AWS::SQS::Queue", "/Lookups/ScheduleDeadLetterQueue/")
    assert schedule["Target"]["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dead_letters, "Arn"]}}


def test_a_sync_starts_once_when_the_stack_is_created(each_environment: SynthesizedEnvironment) -> None:
    machine_id, _ = state_machine(each_environment, "lookups")
    [(resource_id, resource)] = resources(each_environment, "Custom::LookupsInitialSync").items()
    create = resource["Properties"]["Create"]
    call = json.loads(_join(create, {machine_id: "<lookups>"}))
    assert (call["service"], call["action"]) == ("SFN", "startExecution")
    assert call["parameters"] == {"stateMachineArn": "<lookups>"}
    assert "Update" not in resource["Properties"]
    assert "Delete" not in resource["Properties"]
    # and the function it calls through may start that state machine and nothing else
    [policy] = [
        p["Properties"]
        for p in resources(each_environment, "AWS::IAM::Policy").values()
        if "/Lookups/InitialSync/" in json.dumps(p.get("Metadata", {}))
    ]
    assert policy["PolicyDocument"]["Statement"] == [
        {"Action": "states:StartExecution", "Effect": "Allow", "Resource": {"Ref": machine_id}}
    ]
    assert resource_id


def test_disabled_there_is_no_schedule_and_no_first_run_but_the_workflow_stays(
    disabled: SynthesizedEnvironment,
) -> None:
    machine_id, _ = state_machine(disabled, "lookups")
    targets = [
        r["Properties"]["Target"]["Arn"] for r in resources(disabled, "AWS::Scheduler::Schedule").values()
    ]
    assert {"Ref": machine_id} not in targets
    assert resources(disabled, "Custom::LookupsInitialSync") == {}


def test_the_function_paces_at_the_audits_rate_and_may_only_write_snapshots_and_read_the_secret(
    prod: SynthesizedEnvironment,
) -> None:
    _, properties = function_named(prod, contracts.LOOKUPS_SERVICE)
    variables = properties["Environment"]["Variables"]
    assert variables[contracts.LOOKUPS_MAX_REQUESTS_PER_MINUTE] == str(
        prod.config.audit_max_requests_per_minute
    )
    assert properties["Timeout"] == construct.FUNCTION_TIMEOUT.to_seconds()
    statements = policy_statements_of_role(prod, properties["Role"]["Fn::GetAtt"][0])
    s3_statements = [s for s in statements if any(a.startswith("s3:") for a in actions_of([s]))]
    assert [actions_of([s]) for s in s3_statements] == [{"s3:PutObject"}]
    assert json.dumps(s3_statements[0]["Resource"]).endswith('"/lookups/*"]]}')
    assert "secretsmanager:GetSecretValue" in actions_of(statements)


def test_alarms_watch_failed_syncs_refused_permissions_and_the_schedules_dead_letters(
    each_environment: SynthesizedEnvironment,
) -> None:
    found = alarms(each_environment)
    machine_id, _ = state_machine(each_environment, "lookups")
    expression, metrics = math_of(found["LookupsExecutionsFailed"])
    assert expression == "failed + timedOut + aborted"
    assert {m["MetricName"] for m in metrics.values()} == {
        "ExecutionsFailed",
        "ExecutionsTimedOut",
        "ExecutionsAborted",
    }
    assert all(
        m["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": machine_id}}]
        for m in metrics.values()
    )
    forbidden = found["LookupsForbidden"]
    expression, metrics = math_of(forbidden)
    assert expression.startswith("MAX([")
    # one metric per lookup, named by its dimension, so the alarm says a lookup and its metric says which
    assert sorted(
        {d["Name"]: d["Value"] for d in m["Dimensions"]}[contracts.LOOKUP_DIMENSION] for m in metrics.values()
    ) == sorted(layout.LOOKUPS)
    assert {m["MetricName"] for m in metrics.values()} == {MetricName.LOOKUPS_FORBIDDEN}
    assert (forbidden["Threshold"], forbidden["TreatMissingData"]) == (0, "ignore")
    assert "LookupsScheduleDeadLetterQueueNotEmpty" in found


def test_an_operator_finds_the_workflow_in_the_stack_outputs(
    each_environment: SynthesizedEnvironment,
) -> None:
    machine_id, _ = state_machine(each_environment, "lookups")
    outputs = each_environment.template_json["Outputs"]
    assert outputs[contracts.OUTPUT_LOOKUPS_STATE_MACHINE_ARN]["Value"] == {"Ref": machine_id}


@pytest.mark.parametrize("lookup", layout.LOOKUPS)
def test_each_lookup_has_a_table_that_projects_each_snapshot_day_where_the_sync_lands_it(
    each_environment: SynthesizedEnvironment, lookup: str
) -> None:
    name = sqlsource.LOOKUP_TABLES[lookup]
    [table] = [
        r["Properties"]["TableInput"]
        for r in resources(each_environment, "AWS::Glue::Table").values()
        if r["Properties"]["TableInput"]["Name"] == name
    ]
    columns = table["StorageDescriptor"]["Columns"]
    assert [(c["Name"], c["Type"]) for c in columns] == schema.columns(schema.LOOKUP_ENTITIES[lookup])
    assert table["PartitionKeys"] == [{"Name": "snapshot_date", "Type": "string"}]
    # the one JSON SerDe of every table over JSON objects, skipping a line it cannot parse
    assert table["StorageDescriptor"]["SerdeInfo"] == {
        "SerializationLibrary": JSON_SERDE.class_name,
        "Parameters": JSON_SERDE_PARAMETERS,
    }
    parameters = table["Parameters"]
    assert parameters["projection.snapshot_date.range"] == f"{each_environment.config.catalog_first_day},NOW"
    bucket = logical_id_of(each_environment, "AWS::S3::Bucket", "/Storage/ResultsBucket/")
    folder = _join(parameters["storage.location.template"], {bucket: "results"}).replace(
        "${snapshot_date}", "2026-12-06"
    )
    assert f"s3://results/{layout.lookup_key(lookup, date(2026, 12, 6))}" == f"{folder}{lookup}.jsonl"


def test_the_views_are_created_after_the_lookup_tables_and_may_read_them(
    each_environment: SynthesizedEnvironment,
) -> None:
    ((_, views),) = resources(each_environment, "Custom::AthenaViews").items()
    tables = {
        logical_id
        for logical_id, r in resources(each_environment, "AWS::Glue::Table").items()
        if r["Properties"]["TableInput"]["Name"] in sqlsource.LOOKUP_TABLES.values()
    }
    assert len(tables) == len(layout.LOOKUPS)
    assert tables <= set(views["DependsOn"])
    names = [view["Name"] for view in views["Properties"]["Views"]]
    assert set(sqlsource.LOOKUP_VIEWS) <= set(names)
    _, function = function_named(each_environment, contracts.CATALOG_VIEWS_SERVICE)
    statements = json.dumps(policy_statements_of_role(each_environment, function["Role"]["Fn::GetAtt"][0]))
    assert all(f"/{table}" in statements for table in sqlsource.LOOKUP_TABLES.values())
