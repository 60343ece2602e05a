"""Latency, first event -> landed, from a model run's cumulative curves.

Queues are FIFO, so the k-th conversation to arrive is the k-th to land: its delay is where the landed
curve reaches k minus where the arrival curve did. The curves carry every mean delay; what they cannot
carry is each conversation's own place in its batch window (uniform 0 .. the longest wait), which is
spread over each point here.
"""

from __future__ import annotations

from array import array
from collections import defaultdict

from capacity.deployment import Pipeline

QUANTILE_POINTS = (0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95)


def weighted_percentile(histogram: dict[float, float], share: float) -> float:
    total = sum(histogram.values())
    if total <= 0:
        return 0.0
    running = 0.0
    for value in sorted(histogram):
        running += histogram[value]
        if running >= share * total - 1e-9:
            return value
    return max(histogram)


def _time_reaching(curve: array[float], dt: float, level: float, start: int) -> tuple[float, int]:
    """When the cumulative curve (end-of-step values) reaches `level`, interpolated; from index `start`."""
    index = start
    n = len(curve)
    while index < n and curve[index] < level - 1e-9:
        index += 1
    if index >= n:
        return n * dt, n
    before = curve[index - 1] if index > 0 else 0.0
    step_mass = curve[index] - before
    fraction = (level - before) / step_mass if step_mass > 0 else 1.0
    return (index + fraction) * dt, index


def latency_histogram(
    p: Pipeline, dt: float, arrived: array[float], landed: array[float], wait_at: array[float]
) -> tuple[dict[float, float], float]:
    """Latency (first event -> landed) of every arriving conversation that landed, weighted by its mass;
    and the conversations left out because they had not landed when the model stopped.

    `landed` counts first-pass landings only, i.e. the ready share of the arrivals: the k-th ready
    arrival is the k-th to land, so an arrival is placed on the landed curve at its ready share.
    """
    histogram: defaultdict[float, float] = defaultdict(float)
    if not arrived or landed[-1] <= 0:
        return histogram, arrived[-1] if arrived else 0.0
    resolution = max(0.01, min(0.25, dt / 4))
    settle_steps = round(p.settle_delay_s / dt)
    # (FIFO delay, longest batch wait) -> mass; steady stretches of the day collapse into few keys
    grouped: defaultdict[tuple[float, float], float] = defaultdict(float)
    cursor = 0
    previous = 0.0
    last_landed = landed[-1]
    ready = 1 - p.not_ready_share
    included = 0.0
    for index, total in enumerate(arrived):
        start, previous = previous, total
        if start * ready >= last_landed - 1e-9:
            break  # the rest had not landed when the model stopped: counted as left out below
        # this step's arrivals, all but at the end, where only those that landed count
        mass = min(total, last_landed / ready) - start
        if mass <= 1e-12:
            continue
        included += mass
        landed_at, cursor = _time_reaching(landed, dt, (start + mass / 2) * ready, cursor)
        base = round((landed_at - (index + 0.5) * dt) / resolution) * resolution
        wait = wait_at[min(len(wait_at) - 1, index + settle_steps)]
        grouped[(base, wait)] += mass
    second_pass = p.not_ready_retry_s + p.invocation_seconds(p.batch_size)
    # The landed curve carries the mean batch wait; what it cannot carry (FIFO pairs the k-th arrival
    # with the k-th landing) is each conversation's own place in its batch window (0 .. the longest
    # wait, uniformly).
    for (base, wait), mass in grouped.items():
        weight = mass / len(QUANTILE_POINTS)
        for quantile in QUANTILE_POINTS:
            first = max(0.0, base + (quantile - 0.5) * wait)
            histogram[round(first / resolution) * resolution] += weight * ready
            if p.not_ready_share:
                later = first + second_pass
                histogram[round(later / resolution) * resolution] += weight * p.not_ready_share
    return histogram, max(0.0, arrived[-1] - included)
