"""The shared layer and the one helper that builds every function of the stack."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import (
    AssetHashType,
    BundlingOptions,
    Duration,
    ILocalBundling,
    RemovalPolicy,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.function_environments import powertools_environment
from stacks.layer_build import (
    LAMBDA_ARM64,
    LAMBDA_PYTHON_VERSION,
    SHARED_DIR,
    WheelPlatform,
    build_layer,
    layer_source_hash,
)
from stacks.log_groups import log_group
from stacks.nag import acknowledge_nag_finding

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDAS_DIR = REPO_ROOT / "lambdas"

LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_14
if LAMBDA_RUNTIME.name != f"python{LAMBDA_PYTHON_VERSION}":
    # The layer's wheels and bytecode are chosen by LAMBDA_PYTHON_VERSION: the two must move together.
    raise RuntimeError(f"{LAMBDA_RUNTIME.name} does not match layer Python {LAMBDA_PYTHON_VERSION}")
LAMBDA_ARCHITECTURE = lambda_.Architecture.ARM_64
HANDLER = "handler.handler"
_ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc"]


@jsii.implements(ILocalBundling)
class _PipLayerBundling:
    """Builds the layer with this machine's pip for Lambda's platform, so synth needs no Docker."""

    def __init__(self, wheel_platform: WheelPlatform) -> None:
        self._wheel_platform = wheel_platform

    def try_bundle(self, output_dir: str, *_options: Any, **_keyword_options: Any) -> bool:
        # The jsii runtime passes BundlingOptions as one positional struct while the generated
        # protocol spells its fields as keywords; accepting both satisfies each. The options only
        # describe the Docker fallback.
        build_layer(Path(output_dir), self._wheel_platform)
        return True


def shared_layer(scope: Construct, construct_id: str) -> lambda_.LayerVersion:
    """The layer with genesys_bridge and shared/requirements.txt, for arm64 and LAMBDA_RUNTIME."""
    wheel_platform = WheelPlatform(LAMBDA_ARM64, LAMBDA_PYTHON_VERSION)
    return lambda_.LayerVersion(
        scope,
        construct_id,
        description="genesys_bridge and its runtime dependencies (boto3 comes from the Lambda runtime)",
        compatible_runtimes=[LAMBDA_RUNTIME],
        compatible_architectures=[LAMBDA_ARCHITECTURE],
        code=lambda_.Code.from_asset(
            str(SHARED_DIR),
            exclude=_ASSET_EXCLUDES,
            asset_hash_type=AssetHashType.CUSTOM,
            asset_hash=layer_source_hash(wheel_platform),
            bundling=BundlingOptions(
                # CDK requires an image, but local bundling never declines: there is one build path
                # (stacks/layer_build.py), and a Docker build that differed from it would be worse
                # than none.
                image=LAMBDA_RUNTIME.bundling_image,
                command=["false"],
                local=_PipLayerBundling(wheel_platform),
            ),
        ),
    )


@dataclass(frozen=True)
class FunctionSpec:
    """What differs between the stack's functions; everything else is decided by PythonFunctionFactory."""

    handler_folder: str  # a folder under lambdas/ holding handler.py
    service_name: str  # Powertools service: log field, metric dimension, trace annotation
    description: str
    memory_mb: int
    timeout: Duration
    environment: Mapping[str, str] = field(default_factory=dict)


class PythonFunctionFactory:
    """Builds every function the same way: runtime, arm64, the shared layer, an own log group with
    retention, active tracing, Powertools settings and an own role that starts with no permissions."""

    def __init__(
        self,
        *,
        layer: lambda_.ILayerVersion,
        log_retention_days: int,
        log_level: str,
        removal_policy: RemovalPolicy,
    ) -> None:
        self._layer = layer
        self._log_retention_days = log_retention_days
        self._log_level = log_level
        self._removal_policy = removal_policy

    def build(self, scope: Construct, construct_id: str, spec: FunctionSpec) -> lambda_.Function:
        logs = log_group(
            scope,
            f"{construct_id}Logs",
            retention_days=self._log_retention_days,
            removal_policy=self._removal_policy,
        )
        # An own role instead of the default one: the default attaches the AWSLambdaBasicExecutionRole
        # managed policy, which may write to every log group of the account.
        role = iam.Role(
            scope,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{spec.service_name} function of the Genesys Analytics Bridge",
        )
        logs.grant_write(role)
        acknowledge_nag_finding(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which "
            "support no resource-level permissions; every other statement of this role names its "
            "resource.",
        )
        return lambda_.Function(
            scope,
            construct_id,
            description=spec.description,
            runtime=LAMBDA_RUNTIME,
            architecture=LAMBDA_ARCHITECTURE,
            handler=HANDLER,
            code=lambda_.Code.from_asset(str(LAMBDAS_DIR / spec.handler_folder), exclude=_ASSET_EXCLUDES),
            layers=[self._layer],
            memory_size=spec.memory_mb,
            timeout=spec.timeout,
            role=role,
            log_group=logs,
            tracing=lambda_.Tracing.ACTIVE,
            environment={**powertools_environment(spec.service_name, self._log_level), **spec.environment},
        )
