"""Builds the shared Lambda layer's folder with pip: no Docker, no aws_cdk import.

The CDK layer asset calls `build_layer` from its local bundling hook for the Lambda platform; the
layer test calls it for the host platform so it can import the result.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT / "shared"
PACKAGE_NAME = "genesys_bridge"
LAYER_REQUIREMENTS = SHARED_DIR / "requirements.txt"
# Every transitive dependency pinned at the version the test suite ran with.
CONSTRAINTS = REPO_ROOT / "constraints.txt"
# Lambda's Python runtime ships boto3 and botocore as a matched pair; a copy in the layer would shadow
# the runtime's botocore and pair it with the runtime's boto3 at another version. aws-xray-sdk pulls
# botocore in, so it is removed after install, as the official Powertools layer does.
PROVIDED_BY_LAMBDA_RUNTIME = ("boto3", "botocore", "s3transfer")


@dataclass(frozen=True)
class WheelPlatform:
    """Which wheels pip must choose when the layer's target is not the machine running pip."""

    platform: str  # e.g. manylinux2014_aarch64
    python_version: str  # e.g. 3.14


LAMBDA_ARM64 = "manylinux2014_aarch64"


class LayerBuildError(RuntimeError):
    """pip could not assemble the layer."""


def pip_install_command(target_dir: Path, wheel_platform: WheelPlatform | None) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
        # .pyc files compiled by this interpreter would be for the wrong Python version on Lambda.
        "--no-compile",
        # Binary wheels only: a source build would compile for this machine, not for Lambda.
        "--only-binary=:all:",
        "--target",
        str(target_dir),
        "--requirement",
        str(LAYER_REQUIREMENTS),
    ]
    if CONSTRAINTS.exists():
        command += ["--constraint", str(CONSTRAINTS)]
    if wheel_platform is not None:
        command += [
            "--platform",
            wheel_platform.platform,
            "--python-version",
            wheel_platform.python_version,
            "--implementation",
            "cp",
        ]
    return command


def build_layer(output_dir: Path, wheel_platform: WheelPlatform | None) -> Path:
    """Fill `output_dir/python` (the folder Lambda puts on sys.path) and return it.

    `wheel_platform` None builds for the running interpreter and machine.
    """
    python_dir = output_dir / "python"
    python_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
        pip_install_command(python_dir, wheel_platform), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise LayerBuildError(f"pip install for the layer failed:\n{result.stdout}\n{result.stderr}")
    for provided in PROVIDED_BY_LAMBDA_RUNTIME:
        for path in [python_dir / provided, *python_dir.glob(f"{provided}-*.dist-info")]:
            shutil.rmtree(path, ignore_errors=True)
    # Console scripts point at this machine's interpreter; nothing on Lambda runs them.
    shutil.rmtree(python_dir / "bin", ignore_errors=True)
    shutil.copytree(
        SHARED_DIR / PACKAGE_NAME,
        python_dir / PACKAGE_NAME,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        dirs_exist_ok=True,
    )
    return python_dir
