"""cdk-nag's AwsSolutions checks run at synth: no unacknowledged finding, every acknowledgment reasoned."""

from __future__ import annotations

from tests.infrastructure.conftest import SynthesizedEnvironment

# Reviewed acknowledgments (construct path below the stack -> rule). A new one must be added here on
# purpose, next to the reason it carries in the code.
EXPECTED_ACKNOWLEDGMENTS = {
    ("Ingestion/QuarantineQueue", "AwsSolutions::AwsSolutions-SQS3"),
    ("Ingestion/RuleDeadLetterQueue", "AwsSolutions::AwsSolutions-SQS3"),
    ("Ingestion/FailedInvocationsQueue", "AwsSolutions::AwsSolutions-SQS3"),
    ("Ingestion/IngestFunctionRole", "AwsSolutions::AwsSolutions-IAM5[Resource::*]"),
    ("Processing/ProcessorFunctionRole", "AwsSolutions::AwsSolutions-IAM5[Resource::*]"),
    ("PipeDlqResolver/PipeDlqFunctionRole", "AwsSolutions::AwsSolutions-IAM5[Resource::*]"),
    (
        "Processing/ProcessorFunctionRole",
        "AwsSolutions::AwsSolutions-IAM5[Resource::<StorageResultsBucketF87BB70E.Arn>/conversations/*]",
    ),
    ("Audit/ScheduleDeadLetterQueue", "AwsSolutions::AwsSolutions-SQS3"),
    ("Audit/AuditFunctionRole", "AwsSolutions::AwsSolutions-IAM5[Resource::*]"),
    *(
        (
            "Audit/AuditFunctionRole",
            f"AwsSolutions::AwsSolutions-IAM5[Resource::<StorageResultsBucketF87BB70E.Arn>/{p}*]",
        )
        for p in (
            "conversations/",
            "audits/",
            "audit-work/",
            "compacted/conversations/",
            "compacted/session_metrics/",
            "compacted/segments/",
            "compacted/markers/",
        )
    ),
    ("Audit/StateMachine/Role", "AwsSolutions::AwsSolutions-IAM5[Resource::*]"),
    # the compaction's UNLOAD, which Athena runs with the state machine's credentials
    *(
        (
            "Audit/StateMachine/Role",
            f"AwsSolutions::AwsSolutions-IAM5[Resource::<StorageResultsBucketF87BB70E.Arn>/{p}*]",
        )
        for p in (
            "conversations/",
            "compacted/conversations/",
            "compacted/session_metrics/",
            "compacted/segments/",
        )
    ),
    (
        "Audit/StateMachine/Role",
        "AwsSolutions::AwsSolutions-IAM5[Resource::<CatalogQueryResultsBucket8F26DD08.Arn>/results/*]",
    ),
    (
        "Audit/StateMachine/Role",
        "AwsSolutions::AwsSolutions-IAM5[Resource::<AuditAuditFunctionB3F5C37F.Arn>:*]",
    ),
    ("Lookups/ScheduleDeadLetterQueue", "AwsSolutions::AwsSolutions-SQS3"),
    ("Lookups/LookupsFunctionRole", "AwsSolutions::AwsSolutions-IAM5[Resource::*]"),
    (
        "Lookups/LookupsFunctionRole",
        "AwsSolutions::AwsSolutions-IAM5[Resource::<StorageResultsBucketF87BB70E.Arn>/lookups/*]",
    ),
    ("Lookups/StateMachine/Role", "AwsSolutions::AwsSolutions-IAM5[Resource::*]"),
    (
        "Lookups/StateMachine/Role",
        "AwsSolutions::AwsSolutions-IAM5[Resource::<LookupsLookupsFunctionB55FCAEC.Arn>:*]",
    ),
    # The CDK's function behind the custom resource that starts the first lookups sync
    (
        "AWS679f53fac002430cb0da5b7982bd2287/ServiceRole",
        "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AWSLambdaBasicExecutionRole]",
    ),
    ("Catalog/ViewsFunctionRole", "AwsSolutions::AwsSolutions-IAM5[Resource::*]"),
    (
        "Catalog/ViewsFunctionRole",
        "AwsSolutions::AwsSolutions-IAM5[Resource::<CatalogQueryResultsBucket8F26DD08.Arn>/results/*]",
    ),
    (
        "Catalog/ViewsProvider/framework-onEvent",
        "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AWSLambdaBasicExecutionRole]",
    ),
    (
        "Catalog/ViewsProvider/framework-onEvent",
        "AwsSolutions::AwsSolutions-IAM5[Resource::<CatalogViewsFunctionA2BC2C34.Arn>:*]",
    ),
}


def test_synthesis_passes_the_aws_solutions_checks(each_environment: SynthesizedEnvironment) -> None:
    # Given the environment synthesized with AwsSolutionsChecks registered, Then synthesis was not stopped
    assert each_environment.validation_error is None
    # And the report the plugin left in the cloud assembly has no violation
    report = each_environment.validation_report
    assert report is not None
    plugin_reports = {plugin["pluginName"]: plugin for plugin in report["pluginReports"]}
    assert plugin_reports["AwsSolutions"]["conclusion"] == "success"
    assert plugin_reports["AwsSolutions"]["violations"] == []


def test_only_reviewed_findings_are_acknowledged_each_with_a_specific_reason(
    each_environment: SynthesizedEnvironment,
) -> None:
    stack_prefix = f"{each_environment.config.stack_name}/"
    acknowledged = {
        (path.removeprefix(stack_prefix), rule): reason
        for path, rules in each_environment.acknowledgments.items()
        for rule, reason in rules.items()
    }
    assert set(acknowledged) == EXPECTED_ACKNOWLEDGMENTS
    for (path, rule), reason in acknowledged.items():
        assert len(reason) >= 80, f"{rule} on {path} needs a reason that says why, got {reason!r}"
