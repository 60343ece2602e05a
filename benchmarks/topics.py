"""Figure 10: what the topic choice costs, measured: the same local run with `customer.end` alone and
with `customer.end` and `acw` subscribed.

Both runs are one seeded workload (local_runner: the real handlers on moto, the Genesys simulator,
agents' wrap-up after conversationEnd and each `acw` event once it ends), ending with the closing audit,
so both are checked complete; the second topic only adds events. The cost per million conversations
comes from each run's own counts with figure 7's model (benchmarks.cost, benchmarks.pipeline.run_counts:
the live path's calls; the audit's are figure 8).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.cost import cost_per_million, load_prices
from benchmarks.pipeline import LocalRun, run_counts, run_local
from benchmarks.table import Row, fmt_usd
from stacks.config import load_environment_config

ONE_TOPIC = ("customer.end",)
TWO_TOPICS = ("customer.end", "acw")
# Small enough for `make bench`, large enough that batches fill: the same workload twice.
TOPIC_RUN_CONVERSATIONS = 600
TOPIC_RUN_TIME_SCALE = 0.05


@dataclass(frozen=True)
class TopicRun:
    topics: tuple[str, ...]
    conversations: int  # landed
    events: int  # partner events delivered (redeliveries included)
    usd_per_million: float
    audit_missing: int  # conversations the closing audit had to land (0: the live path landed all)
    reconciled: bool


def measure(
    environment: str, topics: tuple[str, ...], conversations: int, time_scale: float, prices_path: Path
) -> TopicRun:
    options = (("topics", topics), ("malformed_rate", 0.0), ("audit", True))
    report, _, _ = run_local(
        environment, LocalRun(" + ".join(topics), conversations, time_scale, None, options)
    )
    counts, _ = run_counts(report, load_environment_config(environment))
    return TopicRun(
        topics=topics,
        conversations=int(report.landed),
        events=int(report.events),
        usd_per_million=cost_per_million(counts, load_prices(prices_path)).total,
        audit_missing=int((report.audit or {}).get("missing_landed", 0)),
        reconciled=bool(report.verdict),
    )


def topic_rows(
    environment: str,
    prices_path: Path,
    *,
    conversations: int = TOPIC_RUN_CONVERSATIONS,
    time_scale: float = TOPIC_RUN_TIME_SCALE,
    progress: Callable[[str], None] = lambda _: None,
) -> list[Row]:
    runs: list[TopicRun] = []
    for topics in (ONE_TOPIC, TWO_TOPICS):
        progress(f"topic choice: {conversations} conversations with {' + '.join(topics)}")
        try:
            runs.append(measure(environment, topics, conversations, time_scale, prices_path))
        except Exception as error:  # noqa: BLE001 - reported in the table
            return [Row.not_measured("10", "Topic choice", f"the run with {topics} failed: {error!r}")]
    return rows_from(runs[0], runs[1], environment, time_scale)


def rows_from(one: TopicRun, two: TopicRun, environment: str, time_scale: float) -> list[Row]:
    """The figure's rows from the run with one topic and the run with two."""
    rows = [_row(run, other) for run, other in ((one, two), (two, one))]
    extra = two.usd_per_million - one.usd_per_million
    rows.append(
        Row(
            "10",
            "Topic choice: what the second topic adds",
            f"{fmt_usd(extra)} per million conversations",
            f"{_per(two) - _per(one):.2f} more events per conversation, same conversations landed",
            note="topic choice: the same seeded workload (duplicate deliveries 20%, every conversation"
            f" ending with a customer), {environment} settings at time scale {time_scale:g}, each run ending"
            " with the closing audit (which had to land "
            f"{one.audit_missing} and {two.audit_missing} conversations); cost from the runs' own counts with"
            " figure 7's model (the live path's requests and measured Lambda durations)",
        )
    )
    return rows


def _per(run: TopicRun) -> float:
    return run.events / run.conversations if run.conversations else 0.0


def _row(run: TopicRun, other: TopicRun) -> Row:
    return Row(
        "10",
        f"Topics {' + '.join(run.topics)}: cost per million conversations",
        fmt_usd(run.usd_per_million),
        f"{_per(run):.2f} events per conversation; "
        f"{' + '.join(other.topics)}: {fmt_usd(other.usd_per_million)}",
        note=f"{' + '.join(run.topics)}: {run.conversations} landed from {run.events} events, "
        f"{'reconciled' if run.reconciled else 'did NOT reconcile'}",
    )
