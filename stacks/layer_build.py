"""Builds the shared Lambda layer's folder with pip: no Docker, no aws_cdk import.

The CDK layer asset calls `build_layer` from its local bundling hook for the Lambda platform; the
layer test calls it for the host platform so it can import the result.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import warnings
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
# The functions' Python: the newest Lambda runtime aws-cdk-lib offers for which every layer dependency
# publishes cp314 manylinux2014_aarch64 wheels (pydantic-core, charset-normalizer and wrapt are the
# compiled ones). Here, without aws_cdk, so the benchmarks and tools can read it too.
LAMBDA_PYTHON_VERSION = "3.14"


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
        # pip would compile with this interpreter, possibly the wrong Python version for Lambda;
        # compile_bytecode compiles with the layer's own version instead.
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
    compile_bytecode(python_dir, wheel_platform)
    return python_dir


def bytecode_interpreter(wheel_platform: WheelPlatform | None) -> str | None:
    """An interpreter of the layer's Python version, or None when this machine has none.

    Bytecode is version-specific, so only the target version may compile it: the running interpreter
    for a host build, else `python3.X` on PATH.
    """
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if wheel_platform is None or wheel_platform.python_version == running:
        return sys.executable
    return shutil.which(f"python{wheel_platform.python_version}")


def compile_bytecode(python_dir: Path, wheel_platform: WheelPlatform | None) -> bool:
    """Precompile the layer so a cold start does not compile it: Lambda's /opt is read-only, so Python
    cannot cache what it compiles there and would compile every module again in every new container
    (about 250 ms for this layer). `unchecked-hash` .pyc files are used without comparing source
    timestamps, which asset zips do not preserve. Returns False (with a warning) when no interpreter
    of the target version is available: the layer then still works, only its cold starts are slower.
    """
    interpreter = bytecode_interpreter(wheel_platform)
    if interpreter is None:
        version = wheel_platform.python_version if wheel_platform else "?"
        warnings.warn(
            f"no python{version} on PATH: the layer ships without bytecode and every Lambda cold start "
            f"compiles it; install Python {version} on the build machine to precompile it",
            stacklevel=2,
        )
        return False
    result = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
        [
            interpreter,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            str(python_dir),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise LayerBuildError(f"compiling the layer's bytecode failed:\n{result.stdout}\n{result.stderr}")
    return True


def layer_source_hash(wheel_platform: WheelPlatform) -> str:
    """A hash of everything that decides the layer's content, for the CDK asset.

    CDK's default asset hash covers only the files under shared/; the transitive pins in
    constraints.txt, the target platform and this build script decide the layer too. Without them a
    changed pin would leave the hash, and so the deployed layer, unchanged.
    """
    digest = hashlib.sha256()
    files = sorted(
        path
        for path in SHARED_DIR.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )
    labelled = [(str(path.relative_to(SHARED_DIR)), path) for path in files]
    labelled += [("constraints.txt", CONSTRAINTS), ("layer_build.py", Path(__file__))]
    for label, path in labelled:
        digest.update(label.encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    digest.update(f"{wheel_platform.platform}/{wheel_platform.python_version}".encode())
    return digest.hexdigest()
