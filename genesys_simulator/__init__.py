"""A Genesys Cloud analytics API simulator on 127.0.0.1 (tests, local runs, benchmarks).

Implements the client-credentials token endpoint, the conversation details multi-get, single get,
query and jobs endpoints with Genesys' limits, a per-token request budget answered with 429s, and
seeded fault profiles. docs/simulator.md describes what it models and how to run it.
"""

from genesys_simulator.config import NAMED_PROFILES, BudgetScope, FaultProfile, SimulatorConfig
from genesys_simulator.conversations import SimConversation, render_details, synthetic_conversations
from genesys_simulator.simulator import GenesysSimulator, RecordedRequest

__all__ = [
    "NAMED_PROFILES",
    "BudgetScope",
    "FaultProfile",
    "GenesysSimulator",
    "RecordedRequest",
    "SimConversation",
    "SimulatorConfig",
    "render_details",
    "synthetic_conversations",
]
