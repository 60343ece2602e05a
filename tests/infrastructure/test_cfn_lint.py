"""cfn-lint checks each synthesized template against CloudFormation's resource schemas and rules: what
CloudFormation would refuse at deploy shows up here, at synth."""

from __future__ import annotations

import json

from cfnlint.api import ManualArgs, lint

from tests.infrastructure.conftest import SynthesizedEnvironment

# Rules not applied, each with the reason. Nothing else is ignored: a warning fails the test too.
IGNORED_RULES = {
    # "DependsOn already enforced by a GetAtt": CDK makes a resource that runs as a role depend on the
    # role and its policy together (the function factory's functions, the pipe), so the resource is
    # created only once its permissions exist (https://github.com/aws/aws-cdk/issues/31211); the role
    # half repeats the GetAtt's ordering, which is harmless.
    "W3005": "DependsOn on a role beside its policy, on purpose",
}
# Where environments without a `region` setting are linted: the regions' resource schemas differ.
DEFAULT_REGIONS = ["us-east-1", "eu-west-1"]


def test_cfn_lint_finds_nothing_in_the_template(each_environment: SynthesizedEnvironment) -> None:
    # Given the environment's synthesized template
    config = each_environment.config
    regions = [config.region] if config.region is not None else DEFAULT_REGIONS
    # When cfn-lint checks it (errors and warnings) for the regions it deploys to
    matches = lint(
        json.dumps(each_environment.template_json),
        config=ManualArgs(regions=regions, ignore_checks=list(IGNORED_RULES)),
    )
    # Then there is no finding
    assert [f"{match.rule.id} {match.message} at {'/'.join(map(str, match.path))}" for match in matches] == []


def test_cfn_lint_would_report_a_property_cloudformation_refuses(prod: SynthesizedEnvironment) -> None:
    # Given the prod template with one queue's retention beyond the 14 days SQS allows
    template = json.loads(json.dumps(prod.template_json))
    queue = next(
        resource for resource in template["Resources"].values() if resource["Type"] == "AWS::SQS::Queue"
    )
    queue["Properties"]["MessageRetentionPeriod"] = 15 * 24 * 3600
    # When cfn-lint checks it, Then that property is reported as an error
    matches = lint(
        json.dumps(template), config=ManualArgs(regions=DEFAULT_REGIONS, ignore_checks=list(IGNORED_RULES))
    )
    assert [match.rule.id for match in matches if "MessageRetentionPeriod" in match.path] == ["E3034"]
