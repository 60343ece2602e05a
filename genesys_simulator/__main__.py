"""``python -m genesys_simulator``: serve simulated conversations on 127.0.0.1 until Ctrl-C.

The first line on stdout is the base URL (login and API), so scripts can read it; the rest goes to
stderr.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from genesys_simulator.config import NAMED_PROFILES, FaultProfile, SimulatorConfig
from genesys_simulator.conversations import synthetic_conversations
from genesys_simulator.simulator import GenesysSimulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m genesys_simulator", description="Genesys Cloud analytics API simulator (loopback)."
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 picks a free one")
    parser.add_argument("--conversations", type=int, default=100, help="synthetic conversations to serve")
    parser.add_argument("--seed", type=int, default=0, help="seed for conversations and faults")
    parser.add_argument("--faults", choices=sorted(NAMED_PROFILES), default="none", help="fault profile")
    parser.add_argument("--client-id", default=SimulatorConfig().client_id)
    parser.add_argument("--client-secret", default=SimulatorConfig().client_secret)
    parser.add_argument("--token-ttl", type=int, default=86_400, help="token lifetime in seconds")
    parser.add_argument(
        "--requests-per-minute", type=int, default=300, help="budget per token; 0 turns it off"
    )
    parser.add_argument("--visible-after", type=float, default=0.0, help="seconds until a conversation shows")
    parser.add_argument("--ended-after", type=float, default=0.0, help="seconds until a conversation ends")
    parser.add_argument("--late-share", type=float, default=0.0, help="share ending only after --late-after")
    parser.add_argument("--late-after", type=float, default=30.0)
    parser.add_argument("--never-share", type=float, default=0.0, help="share that never ends")
    parser.add_argument("--ids-file", type=Path, help="write the conversation ids there, one a line")
    parser.add_argument("--stats-on-exit", action="store_true", help="print stats() as JSON on stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = SimulatorConfig(
        client_id=args.client_id,
        client_secret=args.client_secret,
        token_ttl_seconds=args.token_ttl,
        requests_per_minute=args.requests_per_minute or None,
        faults=FaultProfile.named(args.faults),
        seed=args.seed,
        port=args.port,
    )
    conversations = synthetic_conversations(
        args.conversations,
        seed=args.seed,
        visible_after_s=args.visible_after,
        ended_after_s=args.ended_after,
        late_share=args.late_share,
        late_ended_after_s=args.late_after,
        never_share=args.never_share,
    )
    if args.ids_file:
        args.ids_file.write_text("".join(c.conversation_id + "\n" for c in conversations))
    stopping = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    # Both set explicitly: a shell starting us in the background hands SIGINT down as ignored.
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with GenesysSimulator(config) as simulator:
        simulator.add_conversations(conversations)
        print(simulator.base_url, flush=True)
        print(
            f"Genesys simulator: {len(conversations)} conversations, faults={args.faults}, "
            f"client_id={config.client_id} client_secret={config.client_secret}; Ctrl-C stops it.",
            file=sys.stderr,
            flush=True,
        )
        if conversations:
            print(f"e.g. conversation {conversations[0].conversation_id}", file=sys.stderr, flush=True)
        while not stopping.wait(0.5):
            pass
        if args.stats_on_exit:
            print(json.dumps(simulator.stats(), indent=2, default=str), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
