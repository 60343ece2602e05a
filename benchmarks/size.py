"""Figure 4: the Lambda layer's size, unzipped and zipped, beside the official SDK's installed size."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.paths import REPO, SHARED, shipped_files, tree_size

# The same target the stack deploys: Lambda on Graviton.
PLATFORM = "manylinux2014_aarch64"
FALLBACK_PYTHON_VERSION = "3.13"
_RUNTIME = re.compile(r"Runtime\.PYTHON_(\d+)_(\d+)")


def lambda_python_version() -> str:
    """The Python version of the stack's Lambda runtime, read from its source.

    Read as text because importing stacks.lambda_functions would start aws_cdk (jsii and Node) just to
    learn one constant; 3.13 (the version INTERFACES.md names) if the file is not there yet.
    """
    source = REPO / "stacks" / "lambda_functions.py"
    match = _RUNTIME.search(source.read_text(encoding="utf-8")) if source.exists() else None
    return f"{match.group(1)}.{match.group(2)}" if match else FALLBACK_PYTHON_VERSION


@dataclass(frozen=True)
class Sizes:
    unzipped: int
    zipped: int


def zip_size(root: Path, archive: Path) -> int:
    """Deflate every file under root as Lambda's asset zip would hold it, and return the archive size."""
    archive.unlink(missing_ok=True)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for path in shipped_files(root):
            bundle.write(path, path.relative_to(root.parent))
    return archive.stat().st_size


def measure(root: Path, archive: Path) -> Sizes:
    return Sizes(unzipped=tree_size(root), zipped=zip_size(root, archive))


def build_layer(out: Path) -> tuple[Path, str]:
    """The layer's python/ folder for Lambda arm64 and the stack's Python version, and how it was built.

    The stack's own bundling function (stacks.layer_build, engineer B) is preferred so the figure is
    the size of what `cdk deploy` uploads; the plain pip build is the fallback while it is missing.
    """
    shutil.rmtree(out, ignore_errors=True)
    version = lambda_python_version()
    try:
        from stacks.layer_build import LAMBDA_ARM64, WheelPlatform
        from stacks.layer_build import build_layer as stack_build_layer
    except ImportError as missing:
        return pip_layer_build(
            out, version
        ), f"plain pip build (stacks.layer_build not importable: {missing})"
    python_dir = stack_build_layer(out, WheelPlatform(platform=LAMBDA_ARM64, python_version=version))
    return python_dir, f"stacks.layer_build.build_layer for {LAMBDA_ARM64}, Python {version}"


def pip_layer_build(out: Path, python_version: str) -> Path:
    """The layer as a plain pip build for aarch64 / 3.13: the fallback when the stack's own bundling
    function cannot be imported. Wheels only, so nothing is compiled for the wrong machine."""
    python_dir = out / "python"
    shutil.rmtree(out, ignore_errors=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--platform",
        PLATFORM,
        "--python-version",
        python_version,
        "--implementation",
        "cp",
        "--only-binary=:all:",
        "--target",
        str(python_dir),
        "-r",
        str(SHARED / "requirements.txt"),
        "-c",
        str(REPO / "constraints.txt"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=900)
    if result.returncode != 0:
        raise RuntimeError(f"pip could not build the layer: {result.stderr[-500:]}")
    shutil.copytree(
        SHARED / "genesys_bridge",
        python_dir / "genesys_bridge",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    return python_dir
