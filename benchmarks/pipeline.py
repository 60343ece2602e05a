"""Figures 1, 2, 6, 7 (live path) and 11: the ones measured in local runs of the whole pipeline.

Local runs (local_runner: the real handlers on moto, the Genesys simulator with its wrap-up model): two
steady runs (figure 1's budget in a window from when every kind of refetch can be under way to the last
first fetch, so neither warm-up nor drain is in it; figure 6's steady latency; figure 7's live path),
a burst (figure 1's backlog and drain, figure 6) and two small runs before and after the refetch grid
(figure 12). Figures 1 and 12 read the multi-gets the simulator answered: when, and who with whom.
Figure 2 is the focused pacing experiment of goodput.py, where a shared budget is actually reached.
"""

from __future__ import annotations

import importlib
import math
import re
import statistics
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks import targets
from benchmarks.cost import CostBreakdown, FunctionUsage, Prices, RunCounts, cost_per_million
from benchmarks.goodput import GoodputResult, goodput_run
from benchmarks.paths import bench_dir
from benchmarks.table import Row, Verdict, fmt_pct, fmt_seconds
from stacks.config import load_environment_config

# The local event source receives at most this many messages per ReceiveMessage, as SQS does.
SQS_MAX_RECEIVE = 10
DYNAMODB_WRITES = ("PutItem", "UpdateItem", "DeleteItem")
DYNAMODB_READS = ("GetItem", "Query", "Scan", "BatchGetItem")
# Figure 1's rates (conversations an hour: docs/capacity.md's 500 and 5,000 agents), each with its steady
# window (configured minutes) and a time scale that keeps invocations below a fifth of the window here.
TYPICAL, PEAK = (3_000, 10, 0.25), (30_000, 3, 0.5)
# Figure 12: a few hundred conversations at the typical rate whose wrap-ups close over a few minutes:
# every one still in after-call work at the settle time (prod: 120 s), closing 3 to 7 minutes after
# the end, so each is refetched. The default shape leaves ~10% unsettled, a few a minute at 3,000/h.
REFETCH_CONVERSATIONS = 300
REFETCH_ACW = {"zero_share": 0.0, "tail_share": 1.0, "tail_min_s": 180.0, "tail_max_s": 420.0}
# Synthetic workloads deliver a fifth of the events twice (local_runner.options.DEFAULT_DUPLICATE_RATE).
EVENTS_PER_CONVERSATION = 1.2
# (monotonic seconds, the ids asked for); a multi-get answered without fetching (a 429) has none
Fetch = tuple[float, tuple[str, ...]]
# Figure 12's "before": the not-ready schedule alone, as the processor worked until 2026-12.
BEFORE = (("wrapup_estimate_seconds", 0), ("not_ready_retry_grid_seconds", 0))
# A window whose first fetches ran further than this from the configured rate measured a stall, not it.
RATE_TOLERANCE = 0.1


@dataclass(frozen=True)
class LocalRun:
    """One local_runner run: conversations, time scale, event rate and other RunOptions (`settings`...)."""

    label: str
    conversations: int
    time_scale: float
    events_per_second: float | None  # None: as fast as the local ingest function takes them
    options: tuple[tuple[str, object], ...] = ()


# A run's report, its multi-gets, and when each conversation's first event came (monotonic seconds).
RunData = tuple[Any, list[Fetch], dict[str, float]]


def steady_run(label: str, per_hour: float, minutes: float, time_scale: float, config: Any) -> LocalRun:
    """Conversations arriving at `per_hour` (configured) for the warm-up and `minutes` more."""
    conversations = round(per_hour * (minutes * 60 + warm_up_seconds(config)) / 3600)
    return LocalRun(label, conversations, time_scale, per_hour / 3600 / time_scale * EVENTS_PER_CONVERSATION)


def warm_up_seconds(config: Any) -> float:
    """Until every kind of refetch can be under way: settle delay, longest wrap-up, two grid slots."""
    from genesys_simulator import DEFAULT_ACW

    return config.settle_delay_seconds + DEFAULT_ACW.tail_max_s + 2 * config.not_ready_retry_grid_seconds


def _function_calls(
    aws_requests: dict[str, int], actors: tuple[str, ...], service: str, ops: tuple[str, ...]
) -> int:
    """Calls of `service` operations `ops` made by the given actors ("actor:service.Operation" keys)."""
    total = 0
    for name, count in aws_requests.items():
        actor, call = name.split(":", 1)
        call_service, _, operation = call.rpartition(".")
        if actor in actors and call_service == service and (not ops or operation in ops):
            total += count
    return total


def run_counts(report: Any, config: Any) -> tuple[RunCounts, str]:
    """The billable counts of one run, and a note on what was modelled rather than counted."""
    calls: dict[str, int] = report.aws_requests
    durations: dict[str, list[float]] = report.invocation_durations_s
    # each backoff (not ready or deferred) brings its message back once more
    delivered = int(report.pipe.get("forwarded", 0)) + int(report.visibility_changes)
    receives = math.ceil(delivered / SQS_MAX_RECEIVE)
    counted_receives = _function_calls(calls, ("event-source",), "sqs", ("ReceiveMessage",))
    sqs = (
        _function_calls(calls, ("function", "lambda-async", "pipe"), "sqs", ())
        + _function_calls(calls, ("event-source",), "sqs", ("DeleteMessageBatch", "DeleteMessage"))
        + receives
    )
    counts = RunCounts(
        conversations=int(report.landed),
        partner_events=int(report.events),
        ingest=FunctionUsage(
            invocations=len(durations.get("ingest", [])),
            durations_ms=[seconds * 1000 for seconds in durations.get("ingest", [])],
            memory_mb=int(config.ingest_memory_mb),
        ),
        processor=FunctionUsage(
            invocations=len(durations.get("processor", [])),
            durations_ms=[seconds * 1000 for seconds in durations.get("processor", [])],
            memory_mb=int(config.processor_memory_mb),
        ),
        # items are well under 1 KB (writes) and 4 KB (reads): one request unit per call
        dynamodb_write_units=_function_calls(calls, ("function",), "dynamodb", DYNAMODB_WRITES),
        dynamodb_read_units=_function_calls(calls, ("function",), "dynamodb", DYNAMODB_READS),
        pipe_requests=int(report.pipe.get("forwarded", 0)),
        sqs_requests=sqs,
        s3_puts=_function_calls(calls, ("function",), "s3", ("PutObject",)),
        secrets_manager_calls=_function_calls(calls, ("function",), "secretsmanager", ()),
    )
    note = (
        f"SQS ReceiveMessage modelled as one per {SQS_MAX_RECEIVE} delivered messages ({receives}); the local"
        f" poller's {counted_receives} calls include empty polls, which on AWS are a fixed cost per poller,"
        " not per conversation; the pipe's DynamoDB Streams polling is likewise per shard and left out"
    )
    return counts, note


def _latency_row(report: Any, config: Any, run: LocalRun) -> Row:
    figure, latencies = (
        f"Latency first event -> landed object, {run.label}",
        list(report.latencies_s.values()),
    )
    settle, window = config.settle_delay_seconds, config.processor_batching_window_seconds
    return Row(
        "6",
        figure,
        f"median {fmt_seconds(statistics.median(latencies))}, p99 {fmt_seconds(p99(latencies))}",
        f"settle delay {settle * run.time_scale:g} s + batching window {window * run.time_scale:g} s",
        note=f"{figure}: {len(latencies)} conversations, time scale {run.time_scale:g} (configured: settle"
        f" {settle} s, window {window} s)",
    )


def p99(values: list[float]) -> float:
    """The 99th percentile, interpolated between the closest ranks (numpy's default, "linear")."""
    # quantiles() wants two values at least (before Python 3.13); one value is every percentile of itself
    return statistics.quantiles(values * 2 if len(values) == 1 else values, n=100, method="inclusive")[98]


def _goodput_rows(config: Any, quick: bool) -> list[Row]:
    callers, budget = int(config.processor_max_concurrency), int(config.genesys_max_requests_per_minute)
    # more than a minute's budget, or no limit is ever reached
    requests = max(budget + budget // 2, 4 * callers) if not quick else budget + budget // 5
    # The clock may only run so fast that the simulator (in this process, on a shared 2-core machine)
    # still serves more than the budget per simulated minute unpaced, or the budget is never reached.
    speedup = 4.0
    on, off = (goodput_run(paced=paced, requests=requests, callers=callers, budget_per_minute=budget,
                           speedup=speedup) for paced in (True, False))  # fmt: skip

    def text(result: GoodputResult) -> str:
        return f"{result.goodput:.3f} (429s {fmt_pct(result.throttled_share)})"

    def counts(result: GoodputResult) -> str:
        return (f"{result.api_requests} requests, {result.throttled} x 429, {result.handed_back} handed back,"
                f" {result.simulated_minutes:.2f} simulated min")  # fmt: skip

    setup = (
        f"{callers} concurrent callers (max concurrency), each its own GenesysClient, {requests} multi-gets"
        f" of 100 ready conversations against one shared simulator budget of {budget}/min (budget scope"
        f" client); paced = each client at budget/{callers}; unpaced = no client pacing, 429 + Retry-After"
        f" only; simulator and clients on one clock {speedup:g}x real time. Paced: {counts(on)}. Unpaced:"
        f" {counts(off)}"
    )
    target = f">= {targets.GOODPUT_MIN:.2f}, 429s <= {fmt_pct(targets.THROTTLED_SHARE_MAX)} (paced)"
    met = Verdict.of(targets.goodput_met(on.goodput, on.throttled_share))
    return [
        Row("2", "Goodput (successful fetches / API requests), paced", text(on), f"unpaced: {text(off)}",
            target, met, setup),
        Row("2", "Goodput, unpaced (same load, same budget)", text(off), f"paced: {text(on)}"),
    ]  # fmt: skip


def burst_rows(
    environment: str, burst: LocalRun, *, quick: bool, progress: Callable[[str], None]
) -> list[Row]:
    """Figure 2 (goodput) and the burst run: figure 1's backlog and drain, figure 6's burst latency."""
    config = load_environment_config(environment)
    progress("goodput: pacing on and off against a shared simulator budget")
    try:
        rows = _goodput_rows(config, quick)
    except Exception as error:  # noqa: BLE001 - reported in the table
        rows = [Row.not_measured("2", "Goodput", f"pacing experiment failed: {error!r}")]
    data = _run_or_reason(environment, burst, progress)
    if isinstance(data, str):
        return [*rows, Row.not_measured("1", "Burst: backlog and drain", data)]
    (report, fetches, arrivals), landed = data, int(data[0].landed)
    floor, requests = (
        targets.requests_floor(landed, config.genesys_ids_per_request),
        sum(1 for _, ids in fetches if ids),
    )
    last = max(arrivals[cid] + seconds for cid, seconds in report.latencies_s.items() if cid in arrivals)
    invocations = len(report.invocation_durations_s.get("processor", []))
    rows.append(
        Row(
            "1",
            f"Burst of {landed} conv. at once: backlog and drain",
            f"{requests / landed:.4f} req/conv. (x{requests / landed / floor:.2f} floor), last landed"
            f" {(last - max(arrivals.values())) / burst.time_scale:.0f} s after the last event",
            f"floor ceil(N/{config.genesys_ids_per_request})/N = {floor:.4f}: full multi-gets",
            note=f"burst: {report.events} events ({report.duplicate_deliveries} redeliveries), {requests}"
            f" multi-gets, {invocations} processor invocations ({landed / max(1, invocations):.1f}"
            f" conversations each, batches of up to {config.processor_batch_size}): the backlog this one"
            " process builds fills them, so this is how a backlog drains, not what a day costs. Its latency"
            " (figure 6) is mostly that local queueing: every event is pushed through ingest at once, by"
            " threads that share one interpreter (and moto) with the stream reader and the pollers; on AWS"
            " those are separate services" + ("" if report.reconciled else ". NOT reconciled"),
        )
    )
    return [*rows, _latency_row(report, config, burst)]


def budget_figure(
    environment: str,
    prices: Prices,
    costs: dict[str, CostBreakdown],
    *,
    quick: bool,
    progress: Callable[[str], None],
) -> list[Row]:
    """Figure 1's steady rows at the typical and the peak rate; from the typical run, figure 6's steady
    latency and the live path's cost (figure 7, into `costs`)."""
    from capacity import deployment, measurements, quotas

    config = load_environment_config(environment)
    model = deployment.aws_pipeline(config, quotas.load_quotas(), measurements.load_measurements(), region="",
                                    events_per_conversation=1)  # fmt: skip
    rows: list[Row] = []
    for per_hour, minutes, scale in ((TYPICAL[0], 1, 0.05),) if quick else (TYPICAL, PEAK):
        run = steady_run(f"{per_hour:,} conv./h ({environment})", per_hour, minutes, scale, config)
        data = _run_or_reason(environment, run, progress)
        if isinstance(data, str):
            rows.append(Row.not_measured("1", f"Genesys budget used, {run.label}", data))
            continue
        report, fetches, arrivals = data
        start = min(arrivals.values()) + warm_up_seconds(config) * scale
        counts = count_fetches(
            fetches, start, max(arrivals.values()) + config.settle_delay_seconds * scale, scale
        )
        invocation = (statistics.median(report.invocation_durations_s["processor"]),
                      config.processor_batching_window_seconds * scale)  # fmt: skip
        rate = counts.first_fetches / counts.minutes / 60
        rows += budget_rows(per_hour, counts, config, model.steady_ids_per_request(rate), invocation)
        if "live path" not in costs:  # the typical run: figure 6's steady latency, figure 7's live path
            rows.append(_latency_row(report, config, run))
            billed, note = run_counts(report, config)
            costs["live path"] = cost_per_million(billed, prices)
            costs["live path"].notes.append(
                f"live path: the {run.label} run's counts; {note}. Lambda GB-s from its measured durations"
                f" (x86_64, moto in place of AWS) at the configured memory (ingest {config.ingest_memory_mb}"
                f" MB, processor {config.processor_memory_mb} MB)"
            )
    return rows


def refetch_figure(environment: str, *, quick: bool, progress: Callable[[str], None]) -> list[Row]:
    """Figure 12: the same small run before (the schedule alone) and after (wrap-up estimate, grid)."""
    from genesys_simulator import AcwDistribution

    config = load_environment_config(environment)
    conversations, scale = (100, 0.05) if quick else (REFETCH_CONVERSATIONS, TYPICAL[2])
    pace = steady_run("", TYPICAL[0], 0, scale, config).events_per_second
    runs: dict[str, tuple[FetchCounts, float, float]] = {}
    for name, settings in (("before", BEFORE), ("after", ())):
        acw = AcwDistribution(**REFETCH_ACW)
        run = LocalRun(f"refetch {name}", conversations, scale, pace, (("settings", settings), ("acw", acw)))
        data = _run_or_reason(environment, run, progress)
        if isinstance(data, str):
            return [Row.not_measured("12", "Refetch requests per 100 unsettled conversations", data)]
        report, fetches, _ = data
        fetched = Counter(cid for _, ids in fetches for cid in ids)
        waits = [s / scale for cid, s in report.latencies_s.items() if fetched[cid] > 1] or [0.0]
        counts = count_fetches(fetches, -math.inf, math.inf, scale)
        runs[name] = (counts, statistics.median(waits), statistics.quantiles(waits * 2, n=10)[8])
    return refetch_rows(runs)


def _run_or_reason(environment: str, run: LocalRun, progress: Callable[[str], None]) -> RunData | str:
    """The run's data, or a string saying why there is none."""
    pace = "as fast as ingest runs" if run.events_per_second is None else f"{run.events_per_second:.3g}/s"
    progress(f"local run ({run.label}): {run.conversations} conversations, events {pace}, x{run.time_scale}")
    try:
        data = run_local(environment, run)
    except Exception as error:  # noqa: BLE001 - reported in the table
        return f"the local run failed: {error!r}"
    return data if data[0].landed else "the local run landed no conversation"


def run_local(environment: str, run: LocalRun) -> RunData:
    """One local run, its report written to .bench/ beside the table for anyone checking a figure."""
    # Imported late: moto's botocore hooks must not sit in the figures measured before this run.
    runner = importlib.import_module("local_runner")
    from genesys_simulator.responses import MULTI_GET
    from local_runner.harness import Harness

    # Powertools warns on every invocation that added no metric (e.g. a batch of duplicates); noise here
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
    defaults: dict[str, Any] = {"late_rate": 0.0, "never_rate": 0.0, "audit": False, "max_run_s": 3600.0}
    options = runner.RunOptions(
        **{**defaults, **dict(run.options)},
        conversations=run.conversations,
        environment=environment,
        time_scale=run.time_scale,
        events_per_second=run.events_per_second,
        out_dir=None,
        progress=False,
    )
    harness = Harness(options, sys.stderr)
    report = harness.run()
    name = re.sub(r"[^a-z0-9]+", "-", run.label.lower()).strip("-")
    (bench_dir() / f"pipeline-{name}.json").write_text(runner.dumps_report(report), encoding="utf-8")
    fetches = [(r.at, r.conversation_ids) for r in harness.simulator.requests if r.endpoint == MULTI_GET]
    return report, fetches, dict(harness.invoker.tally.first_seen)


@dataclass(frozen=True)
class FetchCounts:
    minutes: float  # configured minutes counted
    ids: tuple[int, ...]  # ids per multi-get
    requests: int  # multi-gets
    with_refetches: int  # ... carrying a conversation an earlier multi-get of the run carried
    refetch_only: int  # ... carrying nothing else
    first_fetches: int  # conversations fetched for the first time
    refetches: int  # ids fetched again
    fetched_again: int  # of the conversations first fetched here, those fetched more than once


def count_fetches(fetches: Sequence[Fetch], start: float, end: float, time_scale: float) -> FetchCounts:
    """What the multi-gets between `start` and `end` (monotonic seconds) asked for."""
    ordered, seen, counts, sizes = sorted(fetches), set[str](), Counter[str](), list[int]()
    total = Counter(cid for _, ids in ordered for cid in ids)
    for at, ids in ordered:
        again = [cid for cid in ids if cid in seen]
        seen.update(ids)
        if start <= at <= end:
            first = [cid for cid in ids if cid not in again]
            sizes += [len(ids)] if ids else []
            counts.update(requests=1, with_refetches=bool(again), refetch_only=bool(again) and not first)
            counts.update(first=len(first), again=len(again), twice=sum(total[cid] > 1 for cid in first))
    names = ("requests", "with_refetches", "refetch_only", "first", "again", "twice")
    return FetchCounts((end - start) / time_scale / 60, tuple(sizes), *(counts[name] for name in names))


def budget_rows(
    per_hour: float, counts: FetchCounts, config: Any, model_ids: float, invocation: tuple[float, float]
) -> list[Row]:
    """Figure 1 at `per_hour` conversations an hour; `invocation`: the processor's median invocation and
    the batching window (local seconds). The model's share is for the measured first-fetch rate."""
    budget, first, (median_s, window_s) = (
        config.genesys_max_requests_per_minute,
        counts.first_fetches,
        invocation,
    )
    per_minute, measured_per_hour = counts.requests / counts.minutes, first / counts.minutes * 60
    figure = f"Genesys budget used, {per_hour:,.0f} conv./h (steady)"
    note = (
        f"{figure}: {counts.minutes:.1f} configured minutes after the warm-up, {measured_per_hour:,.0f} first"
        f" fetches an hour; model: ids per request = min({config.genesys_ids_per_request}, rate x window /"
        f" pollers) (capacity/); processor median invocation {fmt_seconds(median_s)}, batching window"
        f" {fmt_seconds(window_s)}"
    )
    if median_s > window_s / 5:
        why = "the local processor's median invocation exceeds a fifth of the batching window (its backlog"
        return [Row.not_measured("1", figure, f"{why} would fill batches artificially). {note}")]
    if abs(measured_per_hour / per_hour - 1) > RATE_TOLERANCE:
        return [
            Row.not_measured("1", figure, f"the run did not keep its rate (a stall of this machine). {note}")
        ]
    p10 = statistics.quantiles(counts.ids * 2, n=10, method="inclusive")[0]
    return [
        Row("1", figure, f"{fmt_pct(per_minute / budget)} ({per_minute:.1f} of {budget} req/min)",
            f"model {fmt_pct(first / counts.minutes / model_ids / budget)} at {model_ids:.1f} ids per"
            " request", note=note),
        Row("1", "  per conversation, ids per multi-get, refetches",
            f"{counts.requests / max(1, first):.3f} req/conv.; ids median {statistics.median(counts.ids):g},"
            f" p10 {p10:g}; {first} first fetches, {counts.refetches} refetches",
            f"{fmt_pct(counts.fetched_again / max(1, first))} fetched again; {counts.with_refetches} of"
            f" {counts.requests} requests with refetches ({counts.refetch_only} only)"),
    ]  # fmt: skip


def refetch_rows(runs: dict[str, tuple[FetchCounts, float, float]]) -> list[Row]:
    """Figure 12, before and after: requests carrying refetches per 100 unsettled conversations, and the
    unsettled conversations' latency (median, p90; the only ones the change delays)."""
    rows = []
    for name, (counts, median, p90) in runs.items():
        unsettled, shared = max(1, counts.fetched_again), counts.refetches / max(1, counts.with_refetches)
        target = f">= {targets.REFETCHES_PER_REQUEST_MIN:g} refetched per request" if name == "after" else ""
        rows.append(Row(
            "12", f"Refetch requests per 100 unsettled conversations, {name}",
            f"{100 * counts.with_refetches / unsettled:.0f} ({100 * counts.refetch_only / unsettled:.0f}"
            f" nothing else); {shared:.1f} refetched per request",
            f"unsettled landed median {fmt_seconds(median)}, p90 {fmt_seconds(p90)}", target,
            Verdict.of(targets.refetch_sharing_met(shared)) if target else Verdict.NO_TARGET,
            f"refetch {name}: {counts.first_fetches} conversations, {counts.fetched_again} fetched again,"
            f" {counts.refetches} refetched ids in {counts.with_refetches} of {counts.requests} multi-gets;"
            f" every wrap-up open at the settle time, closing {REFETCH_ACW['tail_min_s'] / 60:g} to"
            f" {REFETCH_ACW['tail_max_s'] / 60:g} min after the end; latency: first event to landing,"
            " configured seconds",
        ))  # fmt: skip
    return rows
