"""`python -m capacity --validate`: does the model predict what a run we can actually do measures?

Runs the local pipeline (local_runner.run_pipeline: the real handlers on moto and the Genesys
simulator, as `make bench` does) small and time-scaled, twice:

- steady:        `make bench`'s steady run, smaller: prod settings, events at a fixed rate; every stage
                 keeps up, the work queue holds the settle delay's worth of messages;
- genesys-bound: the same with the Genesys budget below the arrival rate (one id per request, a low
                 genesys_max_requests_per_minute; changed the way `--set` changes settings) so that
                 Genesys is the bottleneck: a backlog builds in the work queue and drains.

Each run is kept as a Recording (what was measured: when each conversation's first event went out,
its latency, the processor's invocation times, the runner's progress every second). The model is fed
the run's own settings (time-scaled as the runner scales them), the recorded arrivals and the steady
run's invocation times, and predicts latency p50/p95/p99, when the last conversation lands, batch
fill, Genesys requests, the work queue's peak and the landed curve; each is compared with the
recording within a tolerance stated here. Recordings are written beside the report, so a comparison
can be repeated (and is unit-tested) without running the pipeline again.
"""

from __future__ import annotations

import io
import json
import math
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from benchmarks.stats import percentile
from capacity.deployment import Pipeline
from capacity.model import Simulation, simulate
from capacity.report import table
from genesys_bridge.backoff import NOT_READY_RETRY_BASE_SECONDS
from stacks.config_fixed import PIPE_BATCH_SIZE

ENVIRONMENT = "prod"
EVENTS_PER_SECOND = 20.0  # make bench's steady rate
TIME_SCALE = 0.1
STEP_S = 0.05
SEED = 11
# Tolerances: relative, with an absolute floor (local seconds, messages...) for small figures.
LATENCY_TOLERANCE = (0.15, 0.5)
FINISH_TOLERANCE = (0.10, 1.0)
# Batch fill, and with it Genesys requests at low load, is shown but not judged: the runner's pollers
# share one Python process with moto and the ingest threads, so under CPU load their gather cycles
# stretch beyond window + invocation (steady runs gathered 2.8 to 4.2 per batch from run to run);
# the model's AWS figures rest on the event source's own window instead.
BATCH_TOLERANCE = (0.25, 0.5)
REQUESTS_TOLERANCE = (0.25, 2.0)
QUEUE_PEAK_TOLERANCE = (0.20, 5.0)
# The landed curve, averaged over the run: batches land in lumps, a fluid curve cannot.
LANDED_GAP_TOLERANCE = 0.05  # mean |model - measured| landed, as a share of all conversations
# One conversation per request, 18 requests per configured minute (180 a local minute at time scale
# 0.1: 3 conversations a second against about 6 arriving), batches of 10 so an invocation's paced
# requests stay well inside its deadline.
GENESYS_BOUND = {
    "genesys_ids_per_request": 1,
    "genesys_max_requests_per_minute": 18,
    "processor_batch_size": 10,
}

_PROGRESS = re.compile(
    r"landed (\d+)/(\d+)\s+events (\d+)/(\d+)\s+pipe (\d+)\s+queue (\d+)\+(\d+)\+(\d+)\s+([\d.]+)s"
)


class _TtyCapture(io.StringIO):
    """A progress stream that says it is a terminal, so the runner reports every second."""

    def isatty(self) -> bool:
        return True


@dataclass(frozen=True)
class Sample:
    t: float
    landed: int
    events: int
    forwarded: int
    queue: int  # visible + in flight + delayed


@dataclass
class Recording:
    """What one local run measured; JSON in and out."""

    name: str
    overrides: dict[str, Any]
    time_scale: float
    events_per_second: float
    events_per_conversation: float
    first_event_times_s: list[float]  # one per conversation, on the progress clock
    latencies_s: list[float]
    processor_durations_s: list[float]
    samples: list[Sample]
    landed: int
    events: int
    genesys_requests: int
    reconciled: bool
    wall_s: float

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recording:
        return cls(**{**data, "samples": [Sample(**sample) for sample in data["samples"]]})


@dataclass
class Check:
    figure: str
    measured: float
    modelled: float
    tolerance: str
    ok: bool
    judged: bool = True  # False: shown beside the others, not part of the verdict


@dataclass
class Scenario:
    name: str
    setting: dict[str, Any]
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks if check.judged)


def parse_progress(text: str) -> list[Sample]:
    samples = []
    for match in _PROGRESS.finditer(text):
        landed, _expected, events, _total, forwarded, visible, in_flight, delayed, elapsed = match.groups()
        queue = int(visible) + int(in_flight) + int(delayed)
        samples.append(Sample(float(elapsed), int(landed), int(events), int(forwarded), queue))
    return samples


def event_times(event_indexes: list[int], samples: list[Sample]) -> list[float]:
    """When each event (by its index in the run) went out: the run's event counter, interpolated."""
    times: list[float] = []
    cursor = 0
    for index in sorted(event_indexes):
        target = index + 1
        while cursor < len(samples) and samples[cursor].events < target:
            cursor += 1
        if cursor >= len(samples):
            times.append(samples[-1].t if samples else 0.0)
            continue
        after = samples[cursor]
        before = samples[cursor - 1] if cursor > 0 else Sample(0.0, 0, 0, 0, 0)
        span = after.events - before.events
        share = (target - before.events) / span if span > 0 else 1.0
        times.append(before.t + (after.t - before.t) * share)
    return times


def _environment(overrides: dict[str, Any]) -> Any:
    from stacks.config import load_environment_config, parse_environment_config

    config = load_environment_config(ENVIRONMENT)
    if not overrides:
        return config
    block = config.model_dump(exclude={"environment_name"}, exclude_unset=True)
    return parse_environment_config(ENVIRONMENT, {**block, **overrides})


def record(name: str, conversations: int, overrides: dict[str, Any]) -> Recording:
    """One local pipeline run of the prod environment (with `overrides`), progress captured."""
    import stacks.config as stack_config
    from local_runner import RunOptions, run_pipeline
    from local_runner.aws import DEFAULT_REGION, TimeScale
    from local_runner.workload import WorkloadSpec, synthesize

    config = _environment(overrides)
    scale = TimeScale(TIME_SCALE)
    workload = synthesize(
        WorkloadSpec(
            conversations=conversations,
            seed=SEED,
            settle_delay_s=scale.whole_seconds(config.settle_delay_seconds),
            not_ready_backoff_s=scale.whole_seconds(NOT_READY_RETRY_BASE_SECONDS),
            late_rate=0.0,
            never_rate=0.0,
            malformed_rate=0.0,
            topics=frozenset(config.topics),  # what the rule passes, as the runner synthesizes it
        ),
        DEFAULT_REGION,
    )
    first_seen: dict[str, int] = {}
    for index, planned in enumerate(workload.events):
        if planned.conversation_id is not None:
            first_seen.setdefault(planned.conversation_id, index)
    options = RunOptions(
        conversations=conversations,
        environment=ENVIRONMENT,
        time_scale=TIME_SCALE,
        events_per_second=EVENTS_PER_SECOND,
        workload=workload,
        out_dir=None,
        progress=True,
        late_rate=0.0,
        never_rate=0.0,
        malformed_rate=0.0,
        max_run_s=600.0,
        # the model is of the live path; the closing audit would only add its own time to the run
        audit=False,
    )
    capture = _TtyCapture()
    started = time.monotonic()
    # The runner reads its settings by environment name; the changed settings reach it the way they
    # reach `python -m capacity --set`: validated by stacks.config's own rules.
    with mock.patch.object(stack_config, "load_environment_config", return_value=config):
        report = run_pipeline(options, progress_stream=capture)
    samples = parse_progress(capture.getvalue())
    return Recording(
        name=name,
        overrides=dict(overrides),
        time_scale=TIME_SCALE,
        events_per_second=EVENTS_PER_SECOND,
        events_per_conversation=len(workload.events) / len(workload.conversations),
        first_event_times_s=[round(t, 4) for t in event_times(list(first_seen.values()), samples)],
        latencies_s=sorted(round(value, 4) for value in report.latencies_s.values()),
        processor_durations_s=[
            round(value, 5) for value in report.invocation_durations_s.get("processor", [])
        ],
        samples=samples,
        landed=int(report.landed),
        events=int(report.events),
        genesys_requests=int(report.genesys_requests),
        reconciled=bool(report.reconciled),
        wall_s=round(time.monotonic() - started, 1),
    )


def local_pipeline(
    config: Any,
    *,
    time_scale: float,
    events_per_conversation: float,
    durations: list[float],
    per_conversation_s: float,
    mean_batch: float,
) -> Pipeline:
    """The local runner's pipeline as the model sees it: the config's timings scaled as the runner
    scales them (local_runner.aws.TimeScale); moto and the loopback simulator in place of AWS limits
    (none binds at these sizes); the measured invocation times (mean, and ten equally likely offsets
    from it); one process's pollers (all of max concurrency gather from the start)."""
    from local_runner.aws import TimeScale
    from local_runner.event_source import SOURCE_IDLE_POLL_S
    from local_runner.pipe import IDLE_POLL_S

    scale = TimeScale(time_scale)
    unlimited = 1e9
    invocation_s = sum(durations) / len(durations)
    spread = tuple(percentile(durations, share) - invocation_s for share in range(5, 100, 10))
    return Pipeline(
        events_per_conversation=events_per_conversation,
        eventbridge_invocations_per_s=unlimited,
        ingest_seconds=0.01,
        ingest_concurrency=unlimited,
        lambda_scaling_per_s=unlimited,
        writes_per_event=1.0,
        processor_writes_per_conversation=1.0,
        processor_reads_per_not_ready=1.0,
        dynamodb_initial_per_s=unlimited,
        dynamodb_peak_multiplier=2.0,
        dynamodb_scaling_s=60.0,
        dynamodb_table_max_per_s=unlimited,
        partition_writes_per_s=unlimited,
        dynamodb_latency_s=0.0,
        shards_per_partition=1.0,
        stream_poll_s=IDLE_POLL_S,
        pipe_batch_size=PIPE_BATCH_SIZE,
        pipe_parallelization=1,
        pipe_batch_s=0.01,
        settle_delay_s=float(scale.whole_seconds(config.settle_delay_seconds)),
        batch_size=config.processor_batch_size,
        batching_window_s=scale.seconds(config.processor_batching_window_seconds),
        max_concurrency=config.processor_max_concurrency,
        gatherers=config.processor_max_concurrency,
        esm_initial=config.processor_max_concurrency,
        esm_scaling_per_s=0.0,
        receive_poll_s=SOURCE_IDLE_POLL_S,
        invocation_fixed_s=max(0.0, invocation_s - per_conversation_s * mean_batch),
        invocation_per_conversation_s=per_conversation_s,
        io_seconds_per_conversation=0.0,
        workers=16,
        genesys_latency_s=0.0,
        genesys_requests_per_minute=float(scale.per_minute(config.genesys_max_requests_per_minute)),
        ids_per_request=config.genesys_ids_per_request,
        s3_puts_per_s=unlimited,
        s3_puts_per_conversation=1.0,
        s3_latency_s=0.0,
        not_ready_share=0.0,
        not_ready_retry_s=float(scale.whole_seconds(NOT_READY_RETRY_BASE_SECONDS)),
        invocation_spread_s=spread,
    )


def predict(recording: Recording, steady: Recording, per_conversation_s: float) -> Simulation:
    """The model's run for `recording`'s settings and arrivals, with the steady run's invocation times
    (a bound run's own include waits for the budget, which the model adds itself)."""
    config = _environment(recording.overrides)
    pipeline = local_pipeline(
        config,
        time_scale=recording.time_scale,
        events_per_conversation=recording.events_per_conversation,
        durations=steady.processor_durations_s,
        per_conversation_s=per_conversation_s,
        mean_batch=steady.landed / len(steady.processor_durations_s),
    )
    bins = [0.0] * (math.ceil(max(recording.first_event_times_s) / STEP_S) + 1)
    for moment in recording.first_event_times_s:
        bins[int(moment / STEP_S)] += 1 / STEP_S
    return simulate(pipeline, bins, dt=STEP_S, record_s=STEP_S * 20, arrival_dt=STEP_S)


def _within(measured: float, modelled: float, tolerance: tuple[float, float]) -> tuple[bool, str]:
    relative, floor = tolerance
    allowed = max(relative * abs(measured), floor)
    return abs(modelled - measured) <= allowed, f"+/- {relative:.0%} or {floor:g}"


def series_at(series: Sequence[float], record_s: float, t: float) -> float:
    """A model series (one value at the end of each record interval) at time t, interpolated."""
    if not series:
        return 0.0
    position = t / record_s - 1  # index of the interval ending at t
    if position <= 0:
        return series[0] * max(0.0, t / record_s)
    low = min(int(position), len(series) - 1)
    high = min(low + 1, len(series) - 1)
    share = position - int(position)
    return series[low] + (series[high] - series[low]) * share


def model_finish(model: Simulation, landed: float) -> float:
    """When the model's landed curve reaches `landed` conversations."""
    for index, value in enumerate(model.landed_cumulative):
        if value >= landed - 0.5:
            return (index + 1) * model.record_s
    return model.end_s


def compare(recording: Recording, model: Simulation) -> Scenario:
    scenario = Scenario(recording.name, recording.overrides)
    checks = scenario.checks
    for share, modelled in ((50, model.latency_p50), (95, model.latency_p95), (99, model.latency_p99)):
        measured = percentile(recording.latencies_s, share)
        ok, text = _within(measured, modelled, LATENCY_TOLERANCE)
        checks.append(Check(f"latency p{share} (s)", measured, modelled, text + " s", ok))
    samples = recording.samples
    last = next((s.t for s in samples if s.landed >= recording.landed), samples[-1].t)
    finish = model_finish(model, recording.landed)
    ok, text = _within(last, finish, FINISH_TOLERANCE)
    checks.append(Check("all landed by (s)", last, finish, text + " s", ok))
    invocations = len(recording.processor_durations_s)
    batch = recording.landed / max(1, invocations)
    ok, text = _within(batch, model.mean_batch, BATCH_TOLERANCE)
    checks.append(Check("conversations per invocation", batch, model.mean_batch, text, ok, judged=False))
    ok, text = _within(recording.genesys_requests, model.totals.genesys_requests, REQUESTS_TOLERANCE)
    checks.append(
        Check(
            "Genesys requests",
            recording.genesys_requests,
            model.totals.genesys_requests,
            text,
            ok,
            judged=False,
        )
    )
    peak = max((s.queue for s in samples), default=0)
    ok, text = _within(peak, model.peak_work_queue, QUEUE_PEAK_TOLERANCE)
    checks.append(Check("work queue peak (messages)", peak, model.peak_work_queue, text, ok))
    gaps = [abs(series_at(model.landed_cumulative, model.record_s, s.t) - s.landed) for s in samples]
    share_gap = sum(gaps) / max(1, len(gaps)) / max(1, recording.landed)
    checks.append(
        Check(
            "landed curve: mean gap (share of all)",
            0.0,
            share_gap,
            f"<= {LANDED_GAP_TOLERANCE:.0%}",
            share_gap <= LANDED_GAP_TOLERANCE,
        )
    )
    drained = model.stages[model.bottleneck].drained_at_s if model.bottleneck else None
    scenario.notes.append(
        f"model: bottleneck {model.bottleneck or 'none'}"
        + (f", its backlog drained at {drained:.1f} s" if drained is not None else "")
        + f"; peak work queue {model.peak_work_queue:.0f} messages"
    )
    scenario.notes.append(
        f"{recording.landed} conversations landed (reconciled: {recording.reconciled}), {recording.events}"
        f" events, {invocations} processor invocations, {len(samples)} progress samples; run took"
        f" {recording.wall_s:.0f} s"
    )
    return scenario


def per_conversation_wall() -> float:
    """Wall seconds per extra conversation in a local invocation, from the processor probe."""
    from capacity.measurements import load_measurements

    raw = load_measurements().raw.get("processor", {})
    return float(raw.get("wall_seconds_per_conversation_loopback", 0.005))


def compare_all(recordings: list[Recording], per_conversation_s: float) -> list[Scenario]:
    steady = next(r for r in recordings if r.name == "steady")
    if not steady.processor_durations_s:
        raise ValueError("the steady run invoked no processor: nothing to compare")
    return [compare(r, predict(r, steady, per_conversation_s)) for r in recordings]


def render(scenarios: list[Scenario]) -> str:
    out = [
        f"Model vs local runs (local_runner.run_pipeline, time scale {TIME_SCALE:g},"
        f" {EVENTS_PER_SECOND:g} events/s):"
    ]
    for scenario in scenarios:
        setting = (
            f" ({', '.join(f'{k}={v}' for k, v in scenario.setting.items())})" if scenario.setting else ""
        )
        out.append("")
        out.append(f"{scenario.name}{setting}: {'within tolerance' if scenario.ok else 'OUTSIDE tolerance'}")
        rows = [
            [
                c.figure,
                f"{c.measured:.2f}",
                f"{c.modelled:.2f}",
                c.tolerance,
                ("yes" if c.ok else "NO") + ("" if c.judged else " (not judged)"),
            ]
            for c in scenario.checks
        ]
        out += table(["figure", "measured", "model", "tolerance", "within"], rows)
        out += [f"- {note}" for note in scenario.notes]
    return "\n".join(out)


def main(conversations: int, json_path: Path | None, recordings_path: Path) -> int:
    def progress(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    progress(
        f"steady run: {conversations} conversations, {ENVIRONMENT} settings, {EVENTS_PER_SECOND:g} events/s"
    )
    recordings = [record("steady", conversations, {})]
    progress(f"genesys-bound run: the same with {GENESYS_BOUND}")
    recordings.append(record("genesys-bound", conversations, GENESYS_BOUND))
    recordings_path.parent.mkdir(parents=True, exist_ok=True)
    recordings_path.write_text(json.dumps([asdict(r) for r in recordings], indent=1) + "\n", encoding="utf-8")
    scenarios = compare_all(recordings, per_conversation_wall())
    print(render(scenarios))
    print(f"\nRecordings: {recordings_path} (compare again without running: --validate-recordings FILE)")
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        document = [{**asdict(s), "ok": s.ok} for s in scenarios]
        json_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return 0 if all(s.ok for s in scenarios) else 1


def main_recorded(recordings_path: Path) -> int:
    """Compare the model with recordings made earlier (no pipeline run)."""
    data = json.loads(recordings_path.read_text(encoding="utf-8"))
    scenarios = compare_all([Recording.from_dict(item) for item in data], per_conversation_wall())
    print(render(scenarios))
    return 0 if all(s.ok for s in scenarios) else 1
