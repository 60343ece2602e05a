"""Where the project's parts live, and the one place that puts the Lambda layer's package on sys.path.

In Lambda the layer's ``python/`` folder is on ``sys.path``; in this repository that package lives under
``shared/``. Every entry point run from the repository root (``app.py`` for the CDK,
``python -m local_runner``, ``python -m benchmarks``, ``python -m ops``) imports this module first;
importing it is the setup. pytest gets the same folders from ``pythonpath`` in pyproject.toml.
Standard library only, so it costs nothing to import before anything else.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent
SHARED = REPO_ROOT / "shared"
LAMBDAS = REPO_ROOT / "lambdas"

for _folder in (SHARED, REPO_ROOT):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))
