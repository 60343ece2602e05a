"""Figures 1, 2, 6 and 7.

1, 6 and 7 come from local runs of the whole pipeline (local_runner: the real handlers on moto, the
Genesys simulator): a large burst run (requests, latency under load, cost from its counts)
and a small steady run (latency when nothing queues locally). 2 comes from the focused pacing
experiment in goodput.py, where a shared budget is actually reached: the local pipeline never comes
near one at these sizes, so it could not show what pacing changes.
"""

from __future__ import annotations

import importlib
import math
import statistics
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from benchmarks import targets
from benchmarks.cost import FunctionUsage, RunCounts, cost_per_million, load_prices
from benchmarks.goodput import GoodputResult, goodput_run
from benchmarks.paths import bench_dir
from benchmarks.table import Row, Verdict, fmt_pct, fmt_seconds, fmt_usd

# The local event source receives at most this many messages per ReceiveMessage, as SQS does.
SQS_MAX_RECEIVE = 10
DYNAMODB_WRITES = ("PutItem", "UpdateItem", "DeleteItem")
DYNAMODB_READS = ("GetItem", "Query", "Scan", "BatchGetItem")


@dataclass(frozen=True)
class LocalRun:
    """One local_runner run: how many conversations, at which time scale, at which event rate."""

    label: str
    conversations: int
    time_scale: float
    events_per_second: float | None  # None: as fast as the local ingest function takes them
    # what a reader needs to read this run's latency right (printed in the row's note)
    caveat: str = ""


@dataclass(frozen=True)
class PipelinePlan:
    environment: str
    # the large run: events as fast as ingest takes them, so batches can fill (figures 1, 6, 7)
    burst: LocalRun
    # a steady, unhurried stream: the latency of a pipeline that is not queueing inside this one
    # Python process (figure 6)
    steady: LocalRun | None


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


def _requests_rows(report: Any, config: Any, run: LocalRun, environment: str) -> list[Row]:
    landed = int(report.landed)
    requests = int(report.genesys_requests)
    floor = targets.requests_floor(landed, int(config.genesys_ids_per_request))
    per_conversation = requests / landed
    fetch_invocations = len(report.invocation_durations_s.get("processor", []))
    note = (
        f"{landed} conversations landed ({report.events} events incl. {report.duplicate_deliveries}"
        " redeliveries),"
        f" {requests} Genesys API requests + {report.genesys_token_requests} token requests;"
        f" {fetch_invocations} processor invocations, {landed / max(1, fetch_invocations):.1f} conversations"
        f" each (batch size {config.processor_batch_size},"
        f" window {config.processor_batching_window_seconds} s"
        f" x time scale {run.time_scale:g}, {config.processor_max_concurrency} pollers). Every conversation"
        " was ready at its first fetch: not-ready retries are Genesys' data latency, `make chaos` covers them"
    )
    return [
        Row(
            "1",
            f"Genesys requests per conversation ({environment}, {landed} conv.)",
            f"{per_conversation:.4f} (x{per_conversation / floor:.2f} floor)",
            f"floor ceil(N/{config.genesys_ids_per_request})/N = {floor:.4f}",
            f"<= {targets.REQUESTS_OVER_FLOOR_MAX} x floor",
            Verdict.of(targets.requests_met(per_conversation, floor)),
            note,
        )
    ]


def _latency_row(report: Any, config: Any, run: LocalRun) -> Row:
    figure = f"Latency first event -> landed object, {run.label}"
    latencies = list(report.latencies_s.values())
    if not latencies:
        return Row.not_measured("6", figure, "no object landed")
    scale = importlib.import_module("local_runner.aws").TimeScale(run.time_scale)
    settle = scale.whole_seconds(config.settle_delay_seconds)
    window = scale.seconds(config.processor_batching_window_seconds)
    rate = (
        "as fast as ingest runs" if run.events_per_second is None else f"{run.events_per_second:g} events/s"
    )
    return Row(
        "6",
        figure,
        f"median {fmt_seconds(statistics.median(latencies))}, p99 {fmt_seconds(p99(latencies))}",
        f"settle delay {settle} s + batching window {window:g} s",
        note=f"{figure}: {len(latencies)} conversations, {rate}, time scale {run.time_scale:g} (configured:"
        f" settle {config.settle_delay_seconds} s, window {config.processor_batching_window_seconds} s)"
        + (f". {run.caveat}" if run.caveat else ""),
    )


def p99(values: list[float]) -> float:
    """The 99th percentile, interpolated between the closest ranks (numpy's default, "linear")."""
    # quantiles() wants two values at least (before Python 3.13); one value is every percentile of itself
    return statistics.quantiles(values * 2 if len(values) == 1 else values, n=100, method="inclusive")[98]


def _cost_rows(report: Any, config: Any, prices_path: Path) -> list[Row]:
    prices = load_prices(prices_path)
    counts, note = run_counts(report, config)
    breakdown = cost_per_million(counts, prices)
    rows = [
        Row(
            "7",
            "Cost per million conversations",
            fmt_usd(breakdown.total),
            f"AWS list prices, {prices.region} ({prices_path.name})",
            note=f"{note}. Lambda GB-s from the run's measured durations (x86_64, moto in place of AWS)"
            f" at the configured memory (ingest {config.ingest_memory_mb} MB, processor"
            f" {config.processor_memory_mb} MB). Prices: {prices.source}",
        )
    ]
    for line in breakdown.lines:
        rows.append(
            Row(
                "7",
                f"  {line.item}",
                fmt_usd(line.usd_per_million),
                f"{line.quantity_per_million:,.0f} units",
            )
        )
    return rows


def _goodput_rows(config: Any, quick: bool) -> list[Row]:
    callers = int(config.processor_max_concurrency)
    budget = int(config.genesys_max_requests_per_minute)
    # more than a minute's budget, or no limit is ever reached
    requests = max(budget + budget // 2, 4 * callers) if not quick else budget + budget // 5
    # The clock may only run so fast that the simulator (in this process, on a shared 2-core machine)
    # still serves more than the budget per simulated minute unpaced, or the budget is never reached.
    speedup = 4.0
    results: dict[bool, GoodputResult] = {}
    for paced in (True, False):
        results[paced] = goodput_run(
            paced=paced, requests=requests, callers=callers, budget_per_minute=budget, speedup=speedup
        )
    on, off = results[True], results[False]

    def text(result: GoodputResult) -> str:
        return f"{result.goodput:.3f} (429s {fmt_pct(result.throttled_share)})"

    setup = (
        f"{callers} concurrent callers (max concurrency), each its own GenesysClient, {requests} multi-gets"
        f" of 100 ready conversations against one shared simulator budget of {budget}/min (budget scope"
        f" client); paced = each client at budget/{callers}; unpaced = no client pacing, 429 + Retry-After"
        f" only; simulator and clients on one clock {speedup:g}x real time."
        f" Paced: {on.api_requests} requests, {on.throttled} x 429, {on.handed_back} handed back,"
        f" {on.simulated_minutes:.2f} simulated min. Unpaced: {off.api_requests} requests, {off.throttled}"
        f" x 429, {off.handed_back} handed back, {off.simulated_minutes:.2f} simulated min"
    )
    target = f">= {targets.GOODPUT_MIN:.2f}, 429s <= {fmt_pct(targets.THROTTLED_SHARE_MAX)} (paced)"
    return [
        Row(
            "2",
            "Goodput (successful fetches / API requests), paced",
            text(on),
            f"unpaced: {text(off)}",
            target,
            Verdict.of(targets.goodput_met(on.goodput, on.throttled_share)),
            setup,
        ),
        Row("2", "Goodput, unpaced (same load, same budget)", text(off), f"paced: {text(on)}"),
    ]


def pipeline_rows(
    plan: PipelinePlan, prices_path: Path, *, quick: bool, progress: Callable[[str], None]
) -> list[Row]:
    """Every row of figures 1, 2, 6 and 7; a part that cannot run becomes rows that say why."""
    rows: list[Row] = []
    try:
        from stacks.config import load_environment_config

        config = load_environment_config(plan.environment)
    except Exception as error:  # noqa: BLE001 - reported in the table
        reason = f"environment {plan.environment!r} not readable: {error}"
        return [
            Row.not_measured(n, f, reason)
            for n, f in (("1", "Requests"), ("2", "Goodput"), ("6", "Latency"), ("7", "Cost"))
        ]

    progress("goodput: pacing on and off against a shared simulator budget")
    try:
        rows += _goodput_rows(config, quick)
    except Exception as error:  # noqa: BLE001 - reported in the table
        rows.append(Row.not_measured("2", "Goodput", f"pacing experiment failed: {error!r}"))

    missing = (("1", "Genesys requests per conversation"), ("6", "Latency"), ("7", "Cost"))
    report = _report_or_reason(plan.environment, plan.burst, progress)
    if isinstance(report, str):
        return [*rows, *(Row.not_measured(number, figure, report) for number, figure in missing)]
    requests_rows = _requests_rows(report, config, plan.burst, plan.environment)
    if not report.reconciled:
        # the figures of a run that lost or duplicated something would flatter it: say so beside them
        requests_rows = [replace(row, note=row.note + ". The run did NOT reconcile") for row in requests_rows]
    rows += requests_rows
    rows.append(_latency_row(report, config, plan.burst))
    rows += _cost_rows(report, config, prices_path)
    if plan.steady is not None:
        steady = _report_or_reason(plan.environment, plan.steady, progress)
        if isinstance(steady, str):
            rows.append(Row.not_measured("6", f"Latency, {plan.steady.label}", steady))
        else:
            rows.append(_latency_row(steady, config, plan.steady))
    return rows


def _report_or_reason(environment: str, run: LocalRun, progress: Callable[[str], None]) -> Any:
    """The run's report, or a string saying why there is none."""
    rate = (
        "events as fast as ingest runs"
        if run.events_per_second is None
        else f"{run.events_per_second:g} events/s"
    )
    progress(
        f"local pipeline run ({run.label}): {run.conversations} conversations, {environment},"
        f" {rate}, time scale {run.time_scale:g}"
    )
    try:
        report = _run(environment, run)
    except Exception as error:  # noqa: BLE001 - reported in the table
        return f"local_runner.run_pipeline failed: {error!r}"
    if not report.landed:
        return "the local run landed no conversation"
    return report


def _run(environment: str, run: LocalRun) -> Any:
    # Imported late: moto's botocore hooks must not sit in the figures measured before this run.
    runner = importlib.import_module("local_runner")
    # Powertools warns on every invocation that added no metric (e.g. a batch of duplicates); noise here
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
    options = runner.RunOptions(
        conversations=run.conversations,
        environment=environment,
        time_scale=run.time_scale,
        events_per_second=run.events_per_second,
        out_dir=None,
        progress=False,
        late_rate=0.0,
        never_rate=0.0,
        # generous: at time scale 1 the settle delay alone is minutes
        max_run_s=3600.0,
        # the live path's figures; the audit of a day is measured on its own (benchmarks' audit figure)
        audit=False,
    )
    report = runner.run_pipeline(options)
    # the whole report beside the table, for anyone who wants to check a figure
    out = bench_dir() / f"pipeline-{run.label.split()[0]}.json"
    out.write_text(runner.dumps_report(report), encoding="utf-8")
    return report
