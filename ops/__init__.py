"""The operations CLI: `make ops ENV=prod ARGS="status"` (= `python -m ops --environment prod status`).

It finds the deployed stack's resources through the stack's CloudFormation outputs (by stack name) and
replaces the raw `aws` calls of day-to-day operations: queue depths and dead-letter reasons, redrives,
refetches, quarantine inspection and replay, and where one conversation stands.
"""

from __future__ import annotations

import sys
from pathlib import Path

# genesys_bridge (contract names, the buffer item reader, the results key) lives under shared/, the
# Lambda layer's source, as for the local runner and the CDK app.
_SHARED = str(Path(__file__).resolve().parent.parent / "shared")
if _SHARED not in sys.path:
    sys.path.insert(0, _SHARED)
