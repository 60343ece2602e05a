"""`python -m local_runner.chaos` (make chaos): every fault at once, and a strict reconciliation.

Genesys (simulator profile "chaos"): 429 storms, 503/504 on 10% of requests, slow responses, token
revocations (periodic, plus one mid-run); EventBridge: every event delivered up to 3 times, 2% malformed
inputs; Genesys analytics: 10% of conversations ready only after several retries, 1% never ready; AWS:
a processor crash after some S3 writes and before marking them, throttling on a share of the
functions' DynamoDB and S3 calls, pipe batches whose target put always fails (dead-lettered as
pointers, which the pipe DLQ function resolves); the integration: 2% of conversations' events dropped
before ingest; late changes: 5% of the landed conversations changed afterwards (nightly reprocessing).
The closing audit must land the dropped ones and finalize must re-land the changed ones, through the
same faults. Exit 0 only if every check holds (local_runner.reconcile); 2 for a usage error.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from local_runner import cli_options
from local_runner.harness import run_pipeline
from local_runner.options import RunOptions, UsageError
from local_runner.report import RunReport, render_summary
from ops.cli_options import OneLineParser

# Small enough to finish in about a minute here: the never-ready conversations must outlive the
# scaled max age (120 min x 0.004 = 29 s) before they can be FAILED.
CHAOS_CONVERSATIONS = 300
CHAOS_TIME_SCALE = 0.004
CHAOS_OUT = Path("out/chaos")
CHAOS_SEED = 11


def chaos_options(
    *,
    conversations: int = CHAOS_CONVERSATIONS,
    seed: int = CHAOS_SEED,
    time_scale: float = CHAOS_TIME_SCALE,
    out_dir: Path | None = CHAOS_OUT,
    progress: bool = True,
) -> RunOptions:
    return RunOptions(
        conversations=conversations,
        seed=seed,
        time_scale=time_scale,
        faults="chaos",
        out_dir=out_dir,
        # each event delivered 1, 2 or 3 times, equally likely
        duplicate_rate=2 / 3,
        max_copies=3,
        malformed_rate=0.02,
        late_rate=0.10,
        never_rate=0.01,
        # the crash: the processor dies at a "mark FETCHED" once 20 results are in S3
        crash_after_puts=20,
        aws_throttle_rate=0.05,
        # one pipe batch in ten fails its target put on every attempt: its pointer goes to the pipe DLQ
        # and the pipe DLQ function reads the conversations back from the stream
        pipe_failure_rate=0.10,
        revoke_tokens_after_s=5.0,
        # events lost before ingest, found by the audit; late changes, re-landed by finalize
        drop_rate=0.02,
        finalize=True,
        change_rate=0.05,
        progress=progress,
    )


def render_chaos(report: RunReport) -> str:
    lines = [render_summary(report, include_checks=True)]
    lines.append(
        f"  faults applied: Genesys 429 {report.genesys_429}, 5xx {report.genesys_5xx}, "
        f"slow {report.simulator_stats.get('slow_responses', 0)}, "
        f"token revocations {report.simulator_stats.get('revocations', 0)}; processor crashes "
        f"{report.processor_crashes}; pipe batches dead-lettered "
        f"{report.pipe.get('dead_lettered_batches', 0)}; AWS throttles "
        + (", ".join(f"{k} {v}" for k, v in sorted(report.aws_throttles_injected.items())) or "0")
        + f"; conversations whose events were dropped {report.dropped_conversations}, changed after "
        f"landing {report.audit['changed'] if report.audit else 0}"
    )
    if report.failed_reasons:
        sample = next(iter(sorted(report.failed_reasons.items())))
        lines.append(f"  e.g. FAILED {sample[0]}: {sample[1][:140]}")
    lines.append(f"  chaos verdict: {'PASS' if report.verdict else 'FAIL'}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = OneLineParser(prog="python -m local_runner.chaos", description=__doc__.splitlines()[0])
    cli_options.add_conversations(parser, CHAOS_CONVERSATIONS)
    cli_options.add_seed(parser, CHAOS_SEED)
    cli_options.add_time_scale(parser, CHAOS_TIME_SCALE)
    cli_options.add_out(parser, CHAOS_OUT)
    cli_options.add_quiet(parser)
    args = parser.parse_args(argv)
    try:
        report = run_pipeline(
            chaos_options(
                conversations=args.conversations,
                seed=args.seed,
                time_scale=args.time_scale,
                out_dir=args.out,
                progress=not args.quiet,
            )
        )
    except UsageError as error:
        parser.error(str(error))
    print(render_chaos(report))
    sys.stdout.flush()
    return 0 if report.verdict else 1


if __name__ == "__main__":
    raise SystemExit(main())
