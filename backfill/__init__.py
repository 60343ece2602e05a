"""`make backfill`: run the audit workflow over past days, oldest first, one or two at a time.

    python -m backfill --environment prod --from 2026-01-01 --to 2026-06-30 [--mode auto|audit|finalize]
                       [--dry-run] [--force] [--parallel 1|2]

It starts executions of the deployed state machine with the user's AWS credentials (the state machine
and the results bucket come from the stack's outputs), skips days whose report says complete, shows
progress and, run again after an interruption, picks up what is still running and what is left.
Tests run the same command with an in-process executor (the same step code, moto and a Genesys
stand-in): moto can run a state machine, but not its Lambda tasks. docs/completeness.md, "Backfill".
"""

from __future__ import annotations

import sys
from pathlib import Path

# The Lambda layer's package lives under shared/ (on sys.path in Lambda as the layer's python/).
_SHARED = str(Path(__file__).resolve().parent.parent / "shared")
if _SHARED not in sys.path:
    sys.path.insert(0, _SHARED)
