"""The official Genesys Python SDK, installed for the benchmark only, as the reference of figures 3 and 4.

It goes into .bench/sdk with `pip --target` at one exact version; it is never part of the
requirements files or the layer.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.paths import bench_dir

SDK_DISTRIBUTION = "PureCloudPlatformClientV2"
SDK_MODULE = "PureCloudPlatformClientV2"
# Newest release on PyPI on 2026-11-27 (`pip index versions PureCloudPlatformClientV2`); pinned so
# two runs compare against the same code.
SDK_VERSION = "269.0.0"


def sdk_dir() -> Path:
    return bench_dir() / "sdk"


def ensure_sdk(target: Path | None = None, version: str = SDK_VERSION) -> Path:
    """Install the SDK (with its own dependencies) into target unless that exact version is there."""
    target = target or sdk_dir()
    marker = target / f".installed-{SDK_DISTRIBUTION}-{version}"
    if marker.exists():
        return target
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",  # imports write their own .pyc, as they would for a user
        "--upgrade",
        "--target",
        str(target),
        f"{SDK_DISTRIBUTION}=={version}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=900)
    # pip may complain that the venv's botocore dislikes the SDK's python-dateutil; that concerns the
    # venv, not the separate target dir, so only a missing package counts as a failure.
    if result.returncode != 0 or not (target / SDK_MODULE).is_dir():
        raise RuntimeError(f"pip could not install {SDK_DISTRIBUTION}=={version}: {result.stderr[-500:]}")
    marker.write_text(version + "\n")
    return target
