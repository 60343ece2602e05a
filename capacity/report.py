"""What `make capacity` prints and writes: the per-stage table, backlog periods, latency, the bottleneck and
the settings that move it, cost, warnings; and the same figures as JSON for scripts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from benchmarks.table import markdown_table
from capacity.advice import Limit
from capacity.deployment import STAGES
from capacity.model import Simulation
from capacity.quotas import Quotas
from stacks.config import EnvironmentConfig
from stacks.config_fixed import INGEST_ASYNC_MAX_EVENT_AGE_HOURS


@dataclass
class Report:
    environment: str
    profile: str
    region: str
    peak_per_hour: float
    events_per_conversation: float
    not_ready_share: float
    config: EnvironmentConfig
    overrides: list[str]
    simulation: Simulation
    limits: list[Limit]
    cost_usd: float
    cost_lines: dict[str, float]
    prices_note: str
    quotas: Quotas
    measurements_note: str
    warnings: list[str] = field(default_factory=list)
    plot_path: str | None = None


def clock(seconds: float | None) -> str:
    """Seconds from the start of the profile as [Nd ]HH:MM:SS."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}d {text}" if days else text


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def warnings_for(report: Report) -> list[str]:
    sim, config = report.simulation, report.config
    out: list[str] = []
    worst = sim.latency_max
    if worst > config.not_ready_max_age_minutes * 60:
        out.append(
            f"the slowest conversations land {worst / 60:.0f} min after their first event, beyond"
            f" not_ready_max_age_minutes ({config.not_ready_max_age_minutes}): one deferred or not ready at"
            " that age is dead-lettered instead of retried"
        )
    if worst - config.settle_delay_seconds > config.work_queue_age_alarm_minutes * 60:
        out.append(
            f"the work queue's oldest message waits up to {worst / 60:.0f} min: the age alarm"
            f" (work_queue_age_alarm_minutes {config.work_queue_age_alarm_minutes}) fires"
        )
    ingest = sim.stages["eventbridge_ingest"]
    if ingest.peak_backlog and ingest.capacity_per_s:
        wait_h = ingest.peak_backlog / ingest.capacity_per_s / 3600
        if wait_h > INGEST_ASYNC_MAX_EVENT_AGE_HOURS:
            out.append(
                f"events wait up to {wait_h:.1f} h for the ingest function, beyond Lambda's"
                f" {INGEST_ASYNC_MAX_EVENT_AGE_HOURS} h for an event: those go to"
                " the failed-invocations queue"
            )
    in_flight_max = report.quotas.value("sqs.in_flight_max")
    if sim.peak_in_flight_messages > in_flight_max:
        out.append(
            f"up to {sim.peak_in_flight_messages:,.0f} work-queue messages in flight, above SQS's"
            f" {in_flight_max:,.0f} per standard queue"
        )
    if worst > config.buffer_ttl_hours * 3600:
        out.append(f"conversations land after the buffer item's TTL ({config.buffer_ttl_hours} h)")
    if sim.totals.landed + 0.5 < sim.totals.conversations:
        out.append(
            f"{sim.totals.conversations - sim.totals.landed:,.0f} conversations had not landed when the model"
            f" stopped ({clock(sim.end_s)}, at most 24 h after the load ends)"
        )
    return out


def render(report: Report) -> str:
    sim = report.simulation
    p = sim.pipeline
    out: list[str] = []
    overrides = f" with {', '.join(report.overrides)}" if report.overrides else ""
    out.append(
        f"Capacity of `{report.environment}` (cdk.json{overrides}), profile {report.profile}: peak"
        f" {report.peak_per_hour:,.0f} conversations/h,"
        f" {report.events_per_conversation:g} events per conversation,"
        f" {report.not_ready_share:.0%} not ready at the first fetch, region {report.region}"
    )
    out.append(
        f"{sim.totals.conversations:,.0f} conversations and {sim.totals.events:,.0f} events over"
        f" {sim.profile_s / 3600:g} h; modelled in {sim.dt:g} s steps until everything landed"
        f" ({clock(sim.end_s)})"
    )
    out.append("")
    rows = []
    for name in STAGES:
        s = sim.stages[name]
        rows.append(
            [
                name,
                s.unit,
                _num(s.peak_demand_per_s),
                _num(s.capacity_per_s),
                f"{s.peak_utilization:.0%}",
                _num(s.peak_concurrency),
                _num(s.peak_backlog),
                clock(s.backlog_started_at_s) if s.periods else "-",
                ("never" if s.still_backlogged else clock(s.drained_at_s)) if s.periods else "-",
            ]
        )
    out += markdown_table(
        [
            "stage",
            "unit",
            "peak demand/s",
            "capacity/s",
            "peak use",
            "peak concurrency",
            "peak backlog",
            "backlog from",
            "drained at",
        ],
        rows,
    )
    out.append("")
    out.append("Backlog over time:")
    any_backlog = False
    for name in STAGES:
        s = sim.stages[name]
        for start, end, peak in s.periods:
            any_backlog = True
            until = "still backlogged when the model stopped" if end is None else f"drained at {clock(end)}"
            out.append(f"- {name}: from {clock(start)}, peak {_num(peak)} {s.unit}, {until}")
    if not any_backlog:
        out.append("- none: every stage kept up with the load")
    out.append("")
    out.append(
        f"Latency, first event -> landed, over the period: p50 {sim.latency_p50:.1f} s, p95"
        f" {sim.latency_p95:.1f} s, p99 {sim.latency_p99:.1f} s (max {sim.latency_max:.1f} s); settle delay"
        f" {p.settle_delay_s:g} s + batching window up to {p.batching_window_s:g} s + invocation"
        f" {p.invocation_seconds(max(1.0, sim.mean_batch)):.2f} s at the mean batch of {sim.mean_batch:.0f}"
    )
    if sim.latency_left_out >= 0.5:
        out.append(
            f"These percentiles leave out {sim.latency_left_out:,.0f} conversations that had not landed when"
            f" the model stopped ({clock(sim.end_s)}): their latency is longer than anything above."
        )
    peak_ids = p.steady_ids_per_request(report.peak_per_hour / 3600)
    out.append(
        f"Ids per multi-get = min({p.ids_per_request}, rate x window / pollers) ({p.gatherers} pollers,"
        f" window {p.batching_window_s:g} s): {peak_ids:.1f} at the peak hour's rate; full from"
        f" {p.batches_fill_per_s() * 3600:,.0f} conversations/h."
    )
    out.append("")
    bottleneck = sim.bottleneck
    if bottleneck is None:
        out.append(
            "Bottleneck: none at this load (no stage built a queue of more than 10 s of its capacity)."
        )
    else:
        started = sim.stages[bottleneck].backlog_started_at_s
        out.append(
            f"Bottleneck: {bottleneck} (the first stage whose queue outgrew 10 s of its capacity;"
            f" from {clock(started)})."
        )
    out.append(
        "What limits each stage, and the setting that moves it (conversations per minute it carries now):"
    )
    limit_rows = []
    for limit in report.limits:
        needed = "-" if limit.needed is None else f"{limit.needed:,.0f}"
        limit_rows.append(
            [
                limit.stage,
                f"{limit.capacity_per_s * 60:,.0f}",
                limit.setting,
                f"{limit.current:,.0f}" if limit.current >= 1 else f"{limit.current:g}",
                limit.per_unit,
                needed,
            ]
        )
    out += markdown_table(
        ["stage", "conv/min now", "setting or quota", "now", "one more unit buys", "this peak needs"],
        limit_rows,
    )
    for limit in report.limits:
        if limit.needed is not None:
            out.append(f"- {limit.stage}: {limit.action}. ({limit.limited_by})")
    out.append("")
    lines = ", ".join(f"{item} ${usd:,.2f}" for item, usd in report.cost_lines.items() if usd >= 0.005)
    out.append(f"Cost for the period: ${report.cost_usd:,.2f} ({report.prices_note}): {lines}")
    out.append("")
    if report.warnings:
        out.append("Warnings:")
        out += [f"- {warning}" for warning in report.warnings]
        out.append("")
    assumed = ", ".join(f"{f.name} = {f.value:g} ({f.unit.split(' (')[0]})" for f in report.quotas.assumed())
    out.append(f"Assumed, not published (benchmarks/quotas.toml, kind = assumed): {assumed}.")
    out.append(f"Measured here: {report.measurements_note}.")
    if report.plot_path:
        out.append(f"Plot: {report.plot_path}")
    return "\n".join(out)


def as_json(report: Report) -> dict[str, Any]:
    sim = report.simulation
    stages: dict[str, Any] = {}
    for name in STAGES:
        s = sim.stages[name]
        stages[name] = {
            "unit": s.unit,
            "peak_demand_per_s": round(s.peak_demand_per_s, 4),
            "capacity_per_s": round(s.capacity_per_s, 4),
            "peak_utilization": round(s.peak_utilization, 4),
            "peak_concurrency": round(s.peak_concurrency, 3),
            "peak_backlog": round(s.peak_backlog, 3),
            "backlog_started_at_s": s.backlog_started_at_s if s.periods else None,
            "drained_at_s": s.drained_at_s if s.periods else None,
            "still_backlogged": s.still_backlogged,
            "backlog_periods": [
                {"start_s": start, "end_s": end, "peak": round(peak, 3)} for start, end, peak in s.periods
            ],
        }
    limits = {
        limit.stage: {
            "capacity_conversations_per_s": round(limit.capacity_per_s, 4),
            "limited_by": limit.limited_by,
            "setting": limit.setting,
            "current": limit.current,
            "per_unit": limit.per_unit,
            "needed": limit.needed,
            "action": limit.action,
        }
        for limit in report.limits
    }
    return {
        "environment": report.environment,
        "overrides": report.overrides,
        "profile": report.profile,
        "region": report.region,
        "peak_conversations_per_hour": report.peak_per_hour,
        "events_per_conversation": report.events_per_conversation,
        "not_ready_share": report.not_ready_share,
        "conversations": round(sim.totals.conversations, 3),
        "events": round(sim.totals.events, 3),
        "bottleneck": sim.bottleneck,
        "latency_seconds": {
            "p50": round(sim.latency_p50, 3),
            "p95": round(sim.latency_p95, 3),
            "p99": round(sim.latency_p99, 3),
            "max": round(sim.latency_max, 3),
        },
        # left out of latency_seconds: not landed when the model stopped
        "conversations_not_landed": round(sim.latency_left_out, 3),
        "settle_delay_seconds": sim.pipeline.settle_delay_s,
        "batching_window_seconds": sim.pipeline.batching_window_s,
        "stages": stages,
        "limits": limits,
        "cost_usd": round(report.cost_usd, 4),
        "cost_breakdown_usd": {item: round(usd, 4) for item, usd in report.cost_lines.items()},
        "genesys_requests": round(sim.totals.genesys_requests, 3),
        "processor_invocations": round(sim.totals.processor_invocations, 3),
        "mean_batch": round(sim.mean_batch, 3),
        # min(ids per request, rate x window / pollers): the rate from which every multi-get is full
        "full_requests_from_conversations_per_hour": round(sim.pipeline.batches_fill_per_s() * 3600, 3),
        "peak_in_flight_messages": round(sim.peak_in_flight_messages, 3),
        "modelled_until_s": sim.end_s,
        "warnings": report.warnings,
        "assumed": {f.name: {"value": f.value, "source": f.source} for f in report.quotas.assumed()},
        "measurements": report.measurements_note,
        "plot": report.plot_path,
    }
