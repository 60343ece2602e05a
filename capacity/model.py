"""A fluid (time-stepped) model of the deployed pipeline: conversations flow through six stages, each with
a capacity per second, a queue in front of it and the delays the stack configures between them.

    first events --> eventbridge_ingest --> buffer_writes --> stream_pipe --(settle delay)-->
    work_queue_processor --> genesys --> s3 --> landed

Each step of `dt` seconds a stage serves min(queue + arrivals, capacity x dt); the rest waits in its
queue. Work is counted in conversations; each stage's figures are reported in its own unit (events,
write units, conversations, Genesys requests, S3 PUTs). Queues are FIFO, so the delay of the k-th
conversation is where the cumulative landed curve reaches k minus where the cumulative arrival curve
did; the batching window adds a uniform 0..window wait on top of its mean, which the curves carry.

What moves over time: Lambda's scaling rate (ingest), the on-demand table's capacity (twice its
previous peak after the scaling time) and with it the stream's shards, the SQS event source's scaling
(initial batches, then more per minute up to maximum concurrency), and batch fill (each gathered batch
takes its share of the waiting messages plus what the window brings, up to the batch size). The work
queue has one queue and two limits, the processors' concurrency and the Genesys budget; its backlog is
reported at whichever of the two is lower, and while the budget binds an invocation lasts as long as
its paced requests.
"""

from __future__ import annotations

import math
from array import array
from collections import defaultdict
from dataclasses import dataclass

from capacity.deployment import STAGES, UNITS, Pipeline
from capacity.latency import latency_histogram, weighted_percentile
from capacity.stages import BACKLOG_UNITS, StageResult, Tracker

# After the load ends the model runs on until every queue is empty, at most this long.
MAX_DRAIN_S = 24 * 3600.0
ARRIVAL_S = 60.0  # a profile gives conversations per minute


@dataclass
class Totals:
    """Counts over the whole run, for cost and for comparison with a local run."""

    conversations: float = 0.0
    events: float = 0.0
    landed: float = 0.0
    ingest_invocations: float = 0.0
    ingest_billed_ms: float = 0.0
    processor_invocations: float = 0.0
    processor_billed_ms: float = 0.0
    dynamodb_writes: float = 0.0
    dynamodb_reads: float = 0.0
    pipe_records: float = 0.0
    pipe_batches: float = 0.0
    messages_delivered: float = 0.0
    visibility_changes: float = 0.0
    genesys_requests: float = 0.0
    s3_puts: float = 0.0


@dataclass
class Simulation:
    pipeline: Pipeline
    dt: float
    record_s: float
    profile_s: float
    end_s: float
    stages: dict[str, StageResult]
    totals: Totals
    latency_p50: float
    latency_p95: float
    latency_p99: float
    latency_max: float
    peak_in_flight_messages: float
    # conversations the latency percentiles leave out: they had not landed when the model stopped
    latency_left_out: float = 0.0

    @property
    def bottleneck(self) -> str | None:
        """The stage that saturates first: the earliest to build a bottleneck-sized backlog."""
        found = [s for s in self.stages.values() if s.is_bottleneck and s.backlog_started_at_s is not None]
        if not found:
            return None
        first = min(found, key=lambda s: (s.backlog_started_at_s, -s.peak_utilization))
        return first.name

    @property
    def mean_batch(self) -> float:
        return (
            self.totals.messages_delivered / self.totals.processor_invocations
            if self.totals.processor_invocations
            else 0.0
        )


class _Delay:
    """Mass scheduled for later steps; a fractional delay is split between the two nearest steps so the
    mean delay is exact."""

    def __init__(self) -> None:
        self.pending: defaultdict[int, float] = defaultdict(float)

    def add(self, step: int, mass: float, delay_steps: float) -> None:
        if mass <= 0:
            return
        whole = math.floor(delay_steps)
        fraction = delay_steps - whole
        self.pending[step + whole] += mass * (1 - fraction)
        if fraction > 0:
            self.pending[step + whole + 1] += mass * fraction

    def take(self, step: int) -> float:
        return self.pending.pop(step, 0.0)

    def __bool__(self) -> bool:
        return any(value > 1e-9 for value in self.pending.values())


def simulate(
    pipeline: Pipeline,
    per_second: list[float],
    *,
    dt: float = 1.0,
    record_s: float = 60.0,
) -> Simulation:
    """Run `per_second` (conversations per second, one value per minute) through the pipeline; step
    `dt` seconds; keep series at `record_s` resolution."""
    p = pipeline
    epc = p.events_per_conversation
    profile_s = len(per_second) * ARRIVAL_S
    profile_steps = math.ceil(profile_s / dt - 1e-9)
    max_steps = profile_steps + math.ceil(MAX_DRAIN_S / dt)
    record_every = max(1, round(record_s / dt))

    full_batch = float(p.batch_size)
    capacities = {
        "eventbridge_ingest": p.ingest_capacity() * epc,
        "buffer_writes": p.dynamodb_initial_per_s,
        "stream_pipe": p.pipe_capacity(p.shards(p.dynamodb_initial_per_s)),
        "work_queue_processor": p.processor_capacity(p.max_concurrency, full_batch),
        "genesys": p.genesys_requests_per_minute / 60,
        "s3": p.s3_puts_per_s,
    }
    stages = {name: StageResult(name, UNITS[name], capacities[name]) for name in STAGES}
    _peak_demands(p, stages, max(per_second) if per_second else 0.0)
    trackers = {name: Tracker(stages[name], dt, record_every) for name in STAGES}
    totals = Totals()

    q = dict.fromkeys(STAGES, 0.0)  # queues in conversations (buffer_writes in events)
    to_pipe, to_queue, visible, landing, returning = _Delay(), _Delay(), _Delay(), _Delay(), _Delay()
    landing_returns = _Delay()
    returns_waiting = 0.0
    q_s3_returns = 0.0
    ingest_concurrency = 0.0
    esm_level = p.esm_initial
    table_capacity = p.dynamodb_initial_per_s
    served_write_rates = array("d")
    old_peak = 0.0
    scaling_steps = max(1, round(p.dynamodb_scaling_s / dt))
    processor_write_rate = 0.0
    arrived_cum = array("d")  # cumulative first-pass arrivals at the end of each step
    landed_cum = array("d")  # cumulative first-pass landings at the end of each step
    wait_at = array("d")  # the batch wait (max) at each step, for the latency spread
    peak_in_flight = 0.0
    simulation = Simulation(p, dt, record_s, profile_s, 0.0, stages, totals, 0, 0, 0, 0, 0)
    # fill -> invocation s, paced invocation s, requests per conversation, genesys capacity
    by_fill: dict[float, tuple[float, float, float, float]] = {}

    step = 0
    arrived = 0.0
    landed_first = 0.0
    while step < max_steps:
        t = step * dt
        index = int(t / ARRIVAL_S + 1e-9)  # not t // ARRIVAL_S: floating point may fall just short
        rate = per_second[index] if index < len(per_second) else 0.0
        new = rate * dt
        arrived += new
        totals.conversations += new

        # eventbridge_ingest (events): the rule invokes the ingest function, one event per invocation
        events_in = new * epc
        ingest_concurrency = min(p.ingest_concurrency, ingest_concurrency + p.lambda_scaling_per_s * dt)
        ingest_cap = min(p.eventbridge_invocations_per_s, ingest_concurrency / p.ingest_seconds)
        ingest_queue = q["eventbridge_ingest"] * epc
        ingested = min(ingest_queue + events_in, ingest_cap * dt)
        q["eventbridge_ingest"] = (ingest_queue + events_in - ingested) / epc
        ingest_busy = ingested / dt * p.ingest_seconds
        ingest_concurrency = max(ingest_busy, min(ingest_concurrency, p.ingest_concurrency))
        totals.events += ingested
        totals.ingest_invocations += ingested
        totals.ingest_billed_ms += ingested * math.ceil(p.ingest_seconds * 1000 - 1e-6)
        trackers["eventbridge_ingest"].step(
            t, events_in, events_in, ingested, ingest_cap, q["eventbridge_ingest"] * epc, ingest_busy
        )

        # buffer_writes (write units): one UpdateItem per event; the processor's marks share the table
        if step >= scaling_steps:
            old_peak = max(old_peak, served_write_rates[step - scaling_steps])
        table_capacity = min(
            p.dynamodb_table_max_per_s, max(p.dynamodb_initial_per_s, p.dynamodb_peak_multiplier * old_peak)
        )
        writes_in = ingested * p.writes_per_event
        write_queue = q["buffer_writes"] * epc * p.writes_per_event
        write_cap = max(0.0, table_capacity - processor_write_rate)
        written = min(write_queue + writes_in, write_cap * dt)
        q["buffer_writes"] = (write_queue + writes_in - written) / (epc * p.writes_per_event)
        served_write_rates.append(written / dt + processor_write_rate)
        totals.dynamodb_writes += written
        trackers["buffer_writes"].step(
            t,
            events_in * p.writes_per_event,
            writes_in,
            written,
            table_capacity,
            write_queue + writes_in - written,
            written / dt * p.dynamodb_latency_s,
        )
        created = written / (p.writes_per_event * epc)  # first events create the items (INSERTs)
        to_pipe.add(step, created, p.stream_poll_s / 2 / dt)

        # stream_pipe (conversations): one batch per shard at a time x the parallelization factor
        pipe_in = to_pipe.take(step)
        shards = p.shards(table_capacity)
        pipe_cap = p.pipe_capacity(shards)
        forwarded = min(q["stream_pipe"] + pipe_in, pipe_cap * dt)
        q["stream_pipe"] += pipe_in - forwarded
        per_shard_poll = forwarded / dt / shards * p.stream_poll_s
        records_per_batch = min(float(p.pipe_batch_size), max(1.0, per_shard_poll))
        batches = forwarded / records_per_batch if forwarded > 0 else 0.0
        totals.pipe_records += forwarded
        totals.pipe_batches += batches
        trackers["stream_pipe"].step(
            t, new, pipe_in, forwarded, pipe_cap, q["stream_pipe"], batches / dt * p.pipe_batch_s
        )
        to_queue.add(step, forwarded, p.pipe_batch_s / dt)
        sent = to_queue.take(step)
        visible.add(step, sent, p.settle_delay_s / dt)

        # work_queue_processor and genesys share one queue, the work queue: a batch is gathered, then
        # its invocation makes one multi-get per chunk of ids, paced at the deployed budget. Whichever
        # of the two limits is lower holds the queue back, and the queue is reported at that stage.
        visible_in = visible.take(step)
        returns_waiting += returning.take(step)
        waiting = q["work_queue_processor"] + returns_waiting
        fill = round(p.batch_fill(visible_in / dt, waiting), 3)  # rounded: a key of the by_fill cache
        wait = p.batch_wait_s(visible_in / dt, waiting)
        wait_at.append(wait)
        if waiting >= BACKLOG_UNITS:
            esm_level = min(float(p.max_concurrency), esm_level + p.esm_scaling_per_s * dt)
        else:
            esm_level = max(p.esm_initial, min(esm_level, float(p.max_concurrency)))
        if fill not in by_fill:
            by_fill[fill] = (
                p.invocation_seconds(fill),
                p.paced_invocation_seconds(fill),
                p.requests_per_batch(fill) / fill,
                p.genesys_capacity(fill),
            )
        unpaced_s, paced_s, requests_per_conversation, genesys_cap = by_fill[fill]
        processor_cap = esm_level * fill / unpaced_s
        genesys_binds = genesys_cap < processor_cap
        # While the budget holds the queue back, an invocation's requests wait for their slots: the
        # invocation lasts the paced time, and its conversations, fetched over that time, land at its
        # end (0 .. the paced extra after their fetch, half of it on average).
        paced_extra = paced_s - unpaced_s if genesys_binds and waiting >= BACKLOG_UNITS else 0.0
        invocation_s = unpaced_s + paced_extra
        wait_at[-1] += paced_extra
        allowance = min(processor_cap, genesys_cap) * dt
        second_pass = min(returns_waiting, allowance)
        returns_waiting -= second_pass
        fetched = min(q["work_queue_processor"] + visible_in, allowance - second_pass)
        q["work_queue_processor"] += visible_in - fetched
        delivered = fetched + second_pass
        invocations = delivered / fill
        requests = delivered * requests_per_conversation
        totals.processor_invocations += invocations
        totals.processor_billed_ms += invocations * math.ceil(invocation_s * 1000 - 1e-6)
        totals.messages_delivered += delivered
        totals.genesys_requests += requests
        queued = q["work_queue_processor"] + returns_waiting
        trackers["work_queue_processor"].step(
            t,
            new * (1 + p.not_ready_share),
            visible_in,
            delivered,
            processor_cap,
            0.0 if genesys_binds else queued,
            invocations / dt * invocation_s,
        )
        trackers["genesys"].step(
            t,
            new * (1 + p.not_ready_share) * requests_per_conversation,
            visible_in * requests_per_conversation,
            requests,
            p.genesys_requests_per_minute / 60,
            queued * requests_per_conversation if genesys_binds else 0.0,
            requests / dt * p.genesys_latency_s,
        )
        fetched_returns = second_pass

        # not ready at the first fetch: back on the queue after the not-ready backoff
        not_ready = fetched * p.not_ready_share
        returning.add(step, not_ready, (p.not_ready_retry_s + invocation_s) / dt)
        totals.visibility_changes += not_ready
        totals.dynamodb_reads += not_ready * p.processor_reads_per_not_ready

        # s3 (PUTs): one object per conversation, under one prefix per day; second passes first
        ready = fetched - not_ready
        s3_cap = p.s3_capacity()
        q_s3_returns += fetched_returns
        stored_returns = min(q_s3_returns, s3_cap * dt)
        q_s3_returns -= stored_returns
        stored = min(q["s3"] + ready, s3_cap * dt - stored_returns)
        q["s3"] += ready - stored
        puts = (stored + stored_returns) * p.s3_puts_per_conversation
        totals.s3_puts += puts
        totals.dynamodb_writes += (stored + stored_returns) * p.processor_writes_per_conversation
        processor_write_rate = (stored + stored_returns) / dt * p.processor_writes_per_conversation
        trackers["s3"].step(
            t,
            new * p.s3_puts_per_conversation,
            (ready + fetched_returns) * p.s3_puts_per_conversation,
            puts,
            p.s3_puts_per_s,
            (q["s3"] + q_s3_returns) * p.s3_puts_per_conversation,
            puts / dt * p.s3_latency_s,
        )
        # the batch closes after its wait (mean: half the longest), then the invocation runs
        finish = (wait / 2 + p.receive_poll_s / 2 + unpaced_s + paced_extra / 2) / dt
        landing.add(step, stored, finish)
        landing_returns.add(step, stored_returns, finish)
        arriving_landed = landing.take(step)
        arriving_returns = landing_returns.take(step)
        landed_first += arriving_landed
        totals.landed += arriving_landed + arriving_returns
        arrived_cum.append(arrived)
        landed_cum.append(landed_first)

        in_flight = delivered / dt * (wait / 2 + invocation_s) + sum(returning.pending.values())
        peak_in_flight = max(peak_in_flight, in_flight)

        step += 1
        waiting = returns_waiting + q_s3_returns + sum(q.values())
        delays = (to_pipe, to_queue, visible, landing, landing_returns, returning)
        if step >= profile_steps and waiting <= 1e-6 and not any(delays):
            break

    end_s = step * dt
    for name in STAGES:
        queue_units = q[name] * {"eventbridge_ingest": epc, "buffer_writes": epc * p.writes_per_event}.get(
            name, 1.0
        )
        trackers[name].finish(end_s, queue_units)
    simulation.end_s = end_s
    simulation.peak_in_flight_messages = peak_in_flight
    histogram, simulation.latency_left_out = latency_histogram(p, dt, arrived_cum, landed_cum, wait_at)
    simulation.latency_p50 = weighted_percentile(histogram, 0.50)
    simulation.latency_p95 = weighted_percentile(histogram, 0.95)
    simulation.latency_p99 = weighted_percentile(histogram, 0.99)
    simulation.latency_max = max(histogram) if histogram else 0.0
    return simulation


def _peak_demands(p: Pipeline, stages: dict[str, StageResult], peak: float) -> None:
    """What the busiest moment asks of each stage if nothing upstream held it back."""
    epc = p.events_per_conversation
    passes = 1 + p.not_ready_share
    visible = peak * passes
    fill = p.batch_fill(visible, 0.0)
    stages["eventbridge_ingest"].peak_demand_per_s = peak * epc
    stages["buffer_writes"].peak_demand_per_s = peak * (
        epc * p.writes_per_event + p.processor_writes_per_conversation
    )
    stages["stream_pipe"].peak_demand_per_s = peak
    stages["work_queue_processor"].peak_demand_per_s = visible
    stages["genesys"].peak_demand_per_s = visible * p.requests_per_batch(fill) / fill
    stages["s3"].peak_demand_per_s = peak * p.s3_puts_per_conversation
