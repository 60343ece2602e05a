"""Where the benchmark reads the project from and keeps what it builds (never inside the layer)."""

from __future__ import annotations

from pathlib import Path

from project_paths import LAMBDAS, REPO_ROOT, SHARED

REPO = REPO_ROOT
__all__ = ["BENCH_DIR", "LAMBDAS", "REPO", "SHARED", "bench_dir", "shipped_files", "tree_size"]
# Scratch space for the benchmark only: the official SDK, the built layer. Ignored by git via its
# own .gitignore (written on first use) so the project's .gitignore stays untouched.
BENCH_DIR = REPO / ".bench"


def bench_dir() -> Path:
    BENCH_DIR.mkdir(exist_ok=True)
    ignore = BENCH_DIR / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# scratch space of `make bench`\n*\n")
    return BENCH_DIR


def shipped_files(root: Path) -> list[Path]:
    """Regular files under root that a package ships: bytecode caches are left out because the import
    benchmark writes them into the SDK's folder, and a pip --target install has none to begin with."""
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file() and not path.is_symlink() and "__pycache__" not in path.parts
    )


def tree_size(root: Path) -> int:
    """Bytes of the shipped files under root (what a zip would hold, not disk blocks)."""
    return sum(path.stat().st_size for path in shipped_files(root))
