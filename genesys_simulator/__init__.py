"""A Genesys Cloud analytics API simulator on 127.0.0.1 (tests, local runs, benchmarks).

Implements the client-credentials token endpoint, the conversation details multi-get, single get,
query and jobs endpoints (with availability) with Genesys' limits and interval semantics, a
per-token request budget answered with 429s, a contact centre (queues, agents, wrap-up codes) whose
conversations take many shapes (IVR, queue waits, holds, transfers, abandons, voicemail, callbacks,
outbound calls, chat, messages, e-mail), wrap-up that ends after conversationEnd, nightly reprocessing
and reopening on demand, the routing and directory listings, and seeded fault profiles.
docs/simulator.md describes what it models and how to run it.
"""

from genesys_simulator.config import NAMED_PROFILES, BudgetScope, FaultProfile, SimulatorConfig
from genesys_simulator.conversation_store import Lifecycle
from genesys_simulator.conversations import SimConversation, synthetic_conversations
from genesys_simulator.details_rendering import Phase, render_details
from genesys_simulator.org import Org, OrgSpec, build_org
from genesys_simulator.shapes import Timeline, timeline
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
    "Org",
    "OrgSpec",
    "Phase",
    "RecordedRequest",
    "SimConversation",
    "SimulatorConfig",
    "Timeline",
    "build_org",
    "render_details",
    "synthetic_conversations",
    "timeline",
]
