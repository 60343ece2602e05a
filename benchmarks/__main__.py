"""`python -m benchmarks` (`make bench`): one table of every figure beside its reference."""

from __future__ import annotations

import sys

from benchmarks.cli import main

if __name__ == "__main__":
    sys.exit(main())
