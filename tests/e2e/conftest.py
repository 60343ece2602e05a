"""Fixtures of the smoke test against a deployed stack (`make e2e ENV=dev`; README, "Verify").

This is the one folder of tests/ that talks to real AWS, so it opts out of the suite's guard on
purpose. tests/conftest.py replaces the AWS credentials with placeholders as soon as it is imported and
blocks every non-loopback socket in every test; `make e2e` therefore runs pytest with
`--confcutdir=tests/e2e`, which keeps pytest from loading that conftest at all. When the guard is
loaded (a plain `pytest`, as `make test` runs it) the tests that need a stack skip and say why; with no
AWS credentials they skip as well. Nothing here is ever a failure for want of credentials.

Settings, from the environment:
  E2E_ENV              the cdk.json environment whose stack is tested (default dev)
  E2E_CONVERSATION_ID  a real, ended conversation of the org, for the full landing check (optional)
  E2E_MARGIN_SECONDS   added to settle delay + batching window for every wait (default 120)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stacks.config import ConfigError, EnvironmentConfig, load_environment_config
from tests.e2e.stack import DeployedStack, StackNotUsable

SUITE_GUARD = Path(__file__).resolve().parents[1] / "conftest.py"
DEFAULT_MARGIN_SECONDS = 120.0


def _suite_guard_loaded(config: pytest.Config) -> bool:
    for plugin in config.pluginmanager.get_plugins():
        module_file = getattr(plugin, "__file__", None)
        if module_file and Path(module_file).resolve() == SUITE_GUARD:
            return True
    return False


def _margin_seconds() -> float:
    raw = os.environ.get("E2E_MARGIN_SECONDS", str(DEFAULT_MARGIN_SECONDS))
    try:
        margin = float(raw)
    except ValueError:
        margin = -1.0
    if not 0 < margin <= 3600:
        pytest.fail(f"E2E_MARGIN_SECONDS must be a number of seconds in 0..3600, got {raw!r}", pytrace=False)
    return margin


@pytest.fixture(scope="session")
def e2e_config() -> EnvironmentConfig:
    name = os.environ.get("E2E_ENV", "dev")
    try:
        return load_environment_config(name)
    except ConfigError as error:
        pytest.fail(f"E2E_ENV={name}: {error}", pytrace=False)


@pytest.fixture(scope="session")
def deployed_stack(request: pytest.FixtureRequest, e2e_config: EnvironmentConfig) -> DeployedStack:
    """The environment's deployed stack, or a skip that says what is missing."""
    if _suite_guard_loaded(request.config):
        pytest.skip(
            "tests/conftest.py (the unit suite's guard) is loaded: it replaces AWS credentials with "
            "placeholders and blocks the network. Run `make e2e ENV=<env>` to smoke-test a deployed stack."
        )
    import boto3

    session = boto3.Session(region_name=e2e_config.region) if e2e_config.region else boto3.Session()
    if session.get_credentials() is None:
        pytest.skip(
            "no AWS credentials: boto3 found none (environment, shared config, SSO or instance role). "
            f"Set them for the account of stack {e2e_config.stack_name} to run the smoke test."
        )
    if not session.region_name:
        pytest.fail(
            f"no AWS region: set AWS_REGION, or `region` in cdk.json's '{e2e_config.environment_name}' block",
            pytrace=False,
        )
    if e2e_config.account is not None:
        account = session.client("sts").get_caller_identity()["Account"]
        if account != e2e_config.account:
            pytest.fail(
                f"these credentials are for account {account}; '{e2e_config.environment_name}' deploys "
                f"to {e2e_config.account}",
                pytrace=False,
            )
    if e2e_config.event_source_prefix.startswith("aws."):
        pytest.skip(
            f"'{e2e_config.environment_name}' listens to '{e2e_config.event_source_prefix}' sources only, "
            'which PutEvents may not send (docs/genesys-api.md, "EventBridge integration"): smoke-test '
            "an environment with its own event_source_prefix, such as dev"
        )
    try:
        return DeployedStack.describe(e2e_config, session, margin_seconds=_margin_seconds())
    except StackNotUsable as error:
        pytest.fail(str(error), pytrace=False)
