"""A Genesys Cloud analytics API simulator on 127.0.0.1 (tests, local runs, benchmarks).

Implements the client-credentials token endpoint, the conversation details multi-get, single get,
query and jobs endpoints (with availability) with Genesys' limits and interval semantics, a
per-token request budget answered with 429s, wrap-up that ends after conversationEnd, nightly
reprocessing on demand, and seeded fault profiles. docs/simulator.md describes what it models and
how to run it.
"""

from genesys_simulator.config import NAMED_PROFILES, BudgetScope, FaultProfile, SimulatorConfig
from genesys_simulator.conversation_store import Lifecycle
from genesys_simulator.conversations import SimConversation, render_details, synthetic_conversations
from genesys_simulator.details_rendering import Phase, Timeline, timeline
from genesys_simulator.simulator import GenesysSimulator, RecordedRequest
from genesys_simulator.wrapup import DEFAULT_ACW, NO_ACW, AcwDistribution

__all__ = [
    "DEFAULT_ACW",
    "NAMED_PROFILES",
    "NO_ACW",
    "AcwDistribution",
    "BudgetScope",
    "FaultProfile",
    "GenesysSimulator",
    "Lifecycle",
    "Phase",
    "RecordedRequest",
    "SimConversation",
    "SimulatorConfig",
    "Timeline",
    "render_details",
    "synthetic_conversations",
    "timeline",
]
