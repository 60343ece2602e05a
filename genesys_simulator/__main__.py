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
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from genesys_simulator.config import NAMED_PROFILES, FaultProfile, SimulatorConfig
from genesys_simulator.conversations import synthetic_conversations
from genesys_simulator.listings import PERMISSIONS
from genesys_simulator.org import OrgSpec, build_org
from genesys_simulator.simulator import GenesysSimulator
from genesys_simulator.wrapup import DEFAULT_ACW, AcwDistribution


def _utc_instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 instant: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# Details job settings taken as they are: flag -> (SimulatorConfig field, help).
_JOB_FLAGS = {
    "--job-queued": ("job_queued_s", "QUEUED for (s)"),
    "--job-fulfilled-after": ("job_fulfilled_after_s", "FULFILLED after (s)"),
    "--job-results-ttl": ("job_results_ttl_s", "EXPIRED after (s)"),
    "--job-page-size": ("job_results_page_size", "default pageSize"),
    "--job-max-page-size": ("job_results_max_page_size", "largest pageSize"),
    "--max-concurrent-jobs": ("max_concurrent_jobs", "0 = no limit"),
    "--availability-lag": ("data_availability_lag_s", "dataAvailabilityDate = now - this (s)"),
}


def _parser() -> argparse.ArgumentParser:
    defaults = SimulatorConfig()
    acw = DEFAULT_ACW
    parser = argparse.ArgumentParser(
        prog="python -m genesys_simulator",
        description="Genesys Cloud analytics API simulator (loopback). Times are seconds of the "
        "simulator clock, which runs in real time here.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 picks a free one")
    parser.add_argument("--conversations", type=int, default=100, help="synthetic conversations to serve")
    parser.add_argument("--seed", type=int, default=0, help="seed for conversations and faults")
    parser.add_argument("--faults", choices=sorted(NAMED_PROFILES), default="none", help="fault profile")
    parser.add_argument("--client-id", default=defaults.client_id)
    parser.add_argument("--client-secret", default=defaults.client_secret)
    parser.add_argument(
        "--token-ttl", type=int, default=defaults.token_ttl_seconds, help="token lifetime (s)"
    )
    parser.add_argument(
        "--requests-per-minute", type=int, default=300, help="budget per token; 0 turns it off"
    )
    parser.add_argument("--visible-after", type=float, default=0.0, help="seconds until a conversation shows")
    parser.add_argument("--ended-after", type=float, default=0.0, help="seconds until a conversation ends")
    parser.add_argument("--late-share", type=float, default=0.0, help="share ending only after --late-after")
    parser.add_argument("--late-after", type=float, default=30.0)
    parser.add_argument("--never-share", type=float, default=0.0, help="share that never ends")
    org = parser.add_argument_group("the org (defaults in genesys_simulator/org.toml)")
    org.add_argument("--org-seed", type=int, default=0, help="seed of the org's ids and agents")
    org.add_argument("--queues", type=int, help="how many of the file's queues")
    org.add_argument("--agents", type=int, help="how many agents")
    org.add_argument("--by-hour", action="store_true", help="spread the starts over yesterday by hour")
    org.add_argument(
        "--forbid", action="append", choices=sorted(PERMISSIONS), default=[], help="a listing to 403"
    )
    wrapup = parser.add_argument_group("wrap-up (after-call work after conversationEnd)")
    wrapup.add_argument("--no-acw", action="store_true", help="settle every conversation as it ends")
    wrapup.add_argument("--acw-zero-share", type=float, default=acw.zero_share, help="share without ACW")
    wrapup.add_argument("--acw-median", type=float, default=acw.median_s, help="median ACW (s)")
    wrapup.add_argument("--acw-tail-share", type=float, default=acw.tail_share, help="share in the long tail")
    wrapup.add_argument("--acw-tail-max", type=float, default=acw.tail_max_s, help="longest ACW (s)")
    wrapup.add_argument(
        "--acw-time-scale", type=float, default=1.0, help="wrap-up waits = ACW x this (0.05 = 20x faster)"
    )
    jobs = parser.add_argument_group("details jobs (the delays and limits are unconfirmed for Genesys)")
    for flag, (name, text) in _JOB_FLAGS.items():
        default = getattr(defaults, name)
        jobs.add_argument(flag, dest=name, type=type(default), default=default, help=text)
    jobs.add_argument(
        "--availability-date",
        type=_utc_instant,
        help="a fixed dataAvailabilityDate (ISO-8601, e.g. 2026-11-21T00:00:00Z) instead of the lagging one",
    )
    jobs.add_argument(
        "--past-availability",
        choices=("omit", "include"),
        default=defaults.job_results_past_availability,
        help="what a job past the availability date does with conversations after it",
    )
    jobs.add_argument("--job-failure-rate", type=float, default=0.0, help="share of jobs ending FAILED")
    parser.add_argument("--ids-file", type=Path, help="write the conversation ids there, one a line")
    parser.add_argument("--stats-on-exit", action="store_true", help="print stats() as JSON on stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        faults = FaultProfile.named(args.faults)
        if args.job_failure_rate:
            faults = replace(faults, job_failure_rate=args.job_failure_rate)
        config = SimulatorConfig(
            client_id=args.client_id,
            client_secret=args.client_secret,
            token_ttl_seconds=args.token_ttl,
            requests_per_minute=args.requests_per_minute or None,
            faults=faults,
            seed=args.seed,
            port=args.port,
            **{name: getattr(args, name) for name, _ in _JOB_FLAGS.values()}
            | {"max_concurrent_jobs": args.max_concurrent_jobs or None},
            data_availability_date=args.availability_date,
            job_results_past_availability=args.past_availability,
            org=OrgSpec(seed=args.org_seed, queues=args.queues, agents=args.agents),
            forbidden_listings=frozenset(args.forbid),
        )
        acw = None
        if not args.no_acw:
            acw = AcwDistribution(
                zero_share=args.acw_zero_share,
                median_s=args.acw_median,
                tail_share=args.acw_tail_share,
                tail_min_s=min(DEFAULT_ACW.tail_min_s, args.acw_tail_max),
                tail_max_s=args.acw_tail_max,
            )
        conversations = synthetic_conversations(
            args.conversations,
            seed=args.seed,
            visible_after_s=args.visible_after,
            ended_after_s=args.ended_after,
            late_share=args.late_share,
            late_ended_after_s=args.late_after,
            never_share=args.never_share,
            acw=acw,
            time_scale=args.acw_time_scale,
            org=build_org(config.org, config.division_id),
            spacing_s=None if args.by_hour else 1.0,
        )
    except ValueError as error:
        parser.error(str(error))
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
