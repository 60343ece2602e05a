"""The layer's folder alone is enough to import genesys_bridge and its dependencies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stacks import layer_build
from stacks.layer_build import (
    LAMBDA_ARM64,
    LAMBDA_PYTHON_VERSION,
    PROVIDED_BY_LAMBDA_RUNTIME,
    WheelPlatform,
    build_layer,
    compile_bytecode,
    layer_source_hash,
)

# Runs in a fresh interpreter started with -I -S: no site-packages, no environment, no user site, so
# sys.path is the standard library plus the layer folder only.
_IMPORT_EVERYTHING = r"""
import importlib, json, pkgutil, sys
layer = sys.argv[1]
sys.path.insert(0, layer)
# What the Lambda runtime provides and the layer leaves out on purpose.
runtime_provided = set(sys.argv[2].split(","))
imported, needs_runtime = [], {}
import genesys_bridge
modules = ["genesys_bridge"] + [
    info.name for info in pkgutil.walk_packages(genesys_bridge.__path__, "genesys_bridge.")
]
modules += ["requests", "tenacity", "pydantic", "pydantic_core",
            "aws_lambda_powertools", "aws_lambda_powertools.logging", "aws_lambda_powertools.metrics",
            "aws_lambda_powertools.utilities.batch", "aws_xray_sdk"]
for name in modules:
    try:
        importlib.import_module(name)
        imported.append(name)
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] not in runtime_provided:
            raise
        needs_runtime[name] = error.name
outside = sorted(
    name for name, module in sys.modules.items()
    if getattr(module, "__file__", None) and name.split(".")[0] in {m.split(".")[0] for m in imported}
    and not module.__file__.startswith(layer)
)
print(json.dumps({"imported": imported, "needs_runtime": needs_runtime, "outside": outside}))
"""


@pytest.mark.layer_build
def test_the_built_layer_imports_the_package_and_its_dependencies_in_isolation(tmp_path: Path) -> None:
    # Given the layer built with pip for this machine's platform and Python (Lambda's build differs only
    # in the wheels' platform tags)
    layer = build_layer(tmp_path, wheel_platform=None)

    # When a fresh, isolated interpreter imports everything from that folder alone
    result = subprocess.run(  # noqa: S603 - this interpreter with a fixed script
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            _IMPORT_EVERYTHING,
            str(layer),
            ",".join(PROVIDED_BY_LAMBDA_RUNTIME),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    # Then every module imports, from the layer
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"genesys_bridge", "genesys_bridge.contracts", "requests", "pydantic_core"} <= set(
        report["imported"]
    )
    assert report["outside"] == []
    # And only modules that call AWS lean on the runtime's boto3, which the layer leaves out
    assert set(report["needs_runtime"].values()) <= set(PROVIDED_BY_LAMBDA_RUNTIME)
    for provided in PROVIDED_BY_LAMBDA_RUNTIME:
        assert not (layer / provided).exists()
    # And it is precompiled for its Python (Lambda's /opt is read-only: no cache is written there),
    # with hash-based .pyc files that do not depend on the asset zip's timestamps
    compiled = layer / "genesys_bridge" / "__pycache__" / f"contracts.{sys.implementation.cache_tag}.pyc"
    assert compiled.exists()
    flags = int.from_bytes(compiled.read_bytes()[4:8], "little")
    assert flags == 0b01  # hash-based, check_source off: PEP 552's unchecked-hash


def test_without_an_interpreter_of_the_layer_version_the_layer_ships_sources_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a target Python version this machine has no interpreter for
    monkeypatch.setenv("PATH", str(tmp_path))
    target = WheelPlatform(platform=LAMBDA_ARM64, python_version="3.99")
    (tmp_path / "module.py").write_text("VALUE = 1\n")

    # When the layer folder is compiled, then nothing is compiled and a warning names the fix
    with pytest.warns(UserWarning, match=r"no python3\.99 on PATH"):
        assert compile_bytecode(tmp_path, target) is False
    assert not (tmp_path / "__pycache__").exists()


def test_the_layer_asset_hash_changes_with_the_transitive_pins_and_the_target(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given the hash CDK uses for the layer asset
    target = WheelPlatform(platform=LAMBDA_ARM64, python_version=LAMBDA_PYTHON_VERSION)
    before = layer_source_hash(target)

    # When a transitive pin in constraints.txt changes (a file outside shared/), or the target does
    changed_pins = tmp_path / "constraints.txt"
    changed_pins.write_text(layer_build.CONSTRAINTS.read_text() + "urllib3==0.0.1\n")
    monkeypatch.setattr(layer_build, "CONSTRAINTS", changed_pins)
    after_pin_change = layer_source_hash(target)
    monkeypatch.undo()

    # Then the hash changes, so `cdk deploy` ships a new layer instead of reusing the old one
    assert layer_source_hash(target) == before
    assert after_pin_change != before
    assert layer_source_hash(WheelPlatform(platform=LAMBDA_ARM64, python_version="3.13")) != before
