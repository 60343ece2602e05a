"""Figure 4: the Lambda layer's size, unzipped and zipped, beside the official SDK's installed size."""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.paths import shipped_files, tree_size
from stacks.layer_build import LAMBDA_ARM64, LAMBDA_PYTHON_VERSION, WheelPlatform
from stacks.layer_build import build_layer as stack_build_layer


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
    """The layer's python/ folder exactly as the stack's bundling builds it, and how it was built."""
    shutil.rmtree(out, ignore_errors=True)
    python_dir = stack_build_layer(
        out, WheelPlatform(platform=LAMBDA_ARM64, python_version=LAMBDA_PYTHON_VERSION)
    )
    return python_dir, f"stacks.layer_build.build_layer for {LAMBDA_ARM64}, Python {LAMBDA_PYTHON_VERSION}"
