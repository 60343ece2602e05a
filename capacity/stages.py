"""Per-stage results of a model run, and the tracker that keeps a stage's peaks, backlog periods and
per-interval series while the model steps."""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field

# A stage counts as backlogged while its queue holds more than this many units.
BACKLOG_UNITS = 1.0
# ... and it is a bottleneck when that queue at its peak holds more than this many seconds of its
# capacity: shorter queues are the normal jitter of batches.
BOTTLENECK_QUEUE_SECONDS = 10.0
# Backlog periods closer than this are one period in the report.
MERGE_GAP_S = 60.0


@dataclass
class StageResult:
    name: str
    unit: str
    capacity_per_s: float  # the stage's steady capacity (full batches, full concurrency)
    peak_demand_per_s: float = 0.0  # what the load asks of the stage at its busiest (unthrottled)
    peak_inflow_per_s: float = 0.0
    peak_throughput_per_s: float = 0.0
    peak_backlog: float = 0.0
    peak_backlog_at_s: float | None = None
    peak_concurrency: float = 0.0
    backlog_started_at_s: float | None = None
    drained_at_s: float | None = None
    still_backlogged: bool = False
    periods: list[tuple[float, float | None, float]] = field(default_factory=list)  # start, end, peak
    # per record interval (for the plot): mean demand, throughput, capacity per second, backlog at end
    demand: array[float] = field(default_factory=lambda: array("d"))
    throughput: array[float] = field(default_factory=lambda: array("d"))
    capacity: array[float] = field(default_factory=lambda: array("d"))
    backlog: array[float] = field(default_factory=lambda: array("d"))

    @property
    def peak_utilization(self) -> float:
        return self.peak_demand_per_s / self.capacity_per_s if self.capacity_per_s > 0 else math.inf

    @property
    def is_bottleneck(self) -> bool:
        return self.peak_backlog > max(BACKLOG_UNITS, self.capacity_per_s * BOTTLENECK_QUEUE_SECONDS)


class Tracker:
    """A stage's peaks, backlog periods and per-interval series."""

    def __init__(self, result: StageResult, dt: float, record_every: int) -> None:
        self.result = result
        self.dt = dt
        self.record_every = record_every
        self.sums = [0.0, 0.0, 0.0]  # demand, throughput, capacity (units per step, summed)
        self.count = 0
        self.in_backlog = False
        self.period_start = 0.0
        self.period_peak = 0.0
        self.peak_inflow = 0.0  # units per step
        self.peak_served = 0.0

    def step(
        self,
        t: float,
        demand: float,
        inflow: float,
        served: float,
        capacity: float,
        queue: float,
        busy: float,
    ) -> None:
        r = self.result
        if inflow > self.peak_inflow:
            self.peak_inflow = inflow
        if served > self.peak_served:
            self.peak_served = served
        if busy > r.peak_concurrency:
            r.peak_concurrency = busy
        if queue > r.peak_backlog:
            r.peak_backlog = queue
            r.peak_backlog_at_s = t
        if queue > BACKLOG_UNITS:
            if not self.in_backlog:
                self._open(t)
            if queue > self.period_peak:
                self.period_peak = queue
        elif self.in_backlog:
            self.in_backlog = False
            r.periods.append((self.period_start, t, self.period_peak))
            r.drained_at_s = t
        sums = self.sums
        sums[0] += demand
        sums[1] += served
        sums[2] += capacity
        self.count += 1
        if self.count == self.record_every:
            self.flush(queue)

    def _open(self, t: float) -> None:
        r = self.result
        self.in_backlog = True
        if r.periods and r.periods[-1][1] is not None and t - r.periods[-1][1] <= MERGE_GAP_S:
            start, _end, peak = r.periods.pop()
            self.period_start, self.period_peak = start, peak
        else:
            self.period_start, self.period_peak = t, 0.0
        if r.backlog_started_at_s is None:
            r.backlog_started_at_s = t

    def flush(self, queue: float) -> None:
        if not self.count:
            return
        span = self.count * self.dt
        self.result.demand.append(self.sums[0] / span)
        self.result.throughput.append(self.sums[1] / span)
        self.result.capacity.append(self.sums[2] / self.count)
        self.result.backlog.append(queue)
        self.sums = [0.0, 0.0, 0.0]
        self.count = 0

    def finish(self, t: float, queue: float) -> None:
        self.flush(queue)
        self.result.peak_inflow_per_s = self.peak_inflow / self.dt
        self.result.peak_throughput_per_s = self.peak_served / self.dt
        if self.in_backlog:
            self.result.periods.append((self.period_start, None, self.period_peak))
            self.result.still_backlogged = True
            self.result.drained_at_s = None
