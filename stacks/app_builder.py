"""Turns a CDK app's context into the chosen environment's stack, checked by cdk-nag at synth."""

from __future__ import annotations

import sys

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from stacks.bridge_stack import GenesysAnalyticsBridgeStack
from stacks.config import ConfigError, parse_environment_config

ENVIRONMENT_CONTEXT_KEY = "env"
DEFAULT_ENVIRONMENT = "dev"


def build_app(app: App) -> GenesysAnalyticsBridgeStack:
    """Build the stack of the environment named by `-c env=<name>` (default dev)."""
    name = app.node.try_get_context(ENVIRONMENT_CONTEXT_KEY) or DEFAULT_ENVIRONMENT
    block = app.node.try_get_context(name)
    if block is None:
        raise ConfigError(f"no environment '{name}' in cdk.json context (choose one with -c env=<name>)")
    config = parse_environment_config(name, block)
    stack = GenesysAnalyticsBridgeStack(app, config)
    if config.unheard_alarms_warning is not None:
        # The stack carries it as a warning annotation too; this line is the one nobody scrolls past.
        print(f"WARNING: {config.unheard_alarms_warning}", file=sys.stderr)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stack
