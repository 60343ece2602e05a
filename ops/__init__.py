"""The operations CLI: `make ops ENV=prod ARGS="status"` (= `python -m ops --environment prod status`).

It finds the deployed stack's resources through the stack's CloudFormation outputs (by stack name) and
replaces the raw `aws` calls of day-to-day operations: queue depths and dead-letter reasons, redrives,
refetches, quarantine inspection and replay, where one conversation stands, and `backfill`: the audit
workflow over past days (`make backfill`).
"""

from __future__ import annotations

import project_paths  # noqa: F401 - puts shared/ (the layer's genesys_bridge) on sys.path
