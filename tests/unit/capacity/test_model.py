"""The model's properties a capacity planner relies on: a load below every capacity never queues, a load
above the Genesys budget queues at genesys and drains when the arithmetic says it must, and raising the
setting the report names moves the bottleneck."""

from __future__ import annotations

import pytest

from capacity.advice import limits
from capacity.deployment import STAGES, Pipeline
from capacity.measurements import Measurements
from capacity.model import simulate
from capacity.profiles import named_profile
from capacity.quotas import Quotas
from stacks.config import load_environment_config
from tests.unit.capacity.conftest import flat, pipeline_for


def test_a_flat_load_below_every_capacity_never_builds_a_backlog(
    quotas: Quotas, measurements: Measurements
) -> None:
    # Given prod's settings and a flat 36,000 conversations an hour for two hours
    pipeline = pipeline_for(quotas, measurements)
    # When the model runs it
    result = simulate(pipeline, flat(36_000, 2))
    # Then no stage queues, everything lands, and a conversation takes the settle delay plus its batch
    assert result.bottleneck is None
    for name in STAGES:
        assert result.stages[name].peak_backlog <= 1.0, name
        assert result.stages[name].periods == [], name
    assert result.totals.landed == pytest.approx(72_000, rel=1e-6)
    most = (
        pipeline.settle_delay_s
        + pipeline.batching_window_s
        + pipeline.invocation_seconds(pipeline.batch_size)
    )
    assert pipeline.settle_delay_s <= result.latency_p50 <= result.latency_p99 <= most + 1


def test_above_the_genesys_budget_genesys_is_the_bottleneck_and_drains_when_the_arithmetic_says(
    quotas: Quotas, measurements: Measurements
) -> None:
    # Given a budget of 60 requests a minute (100 conversations a second in full batches of 100) and
    # 150 conversations a second for an hour
    pipeline = pipeline_for(quotas, measurements, "genesys_max_requests_per_minute=60")
    capacity = pipeline.genesys_capacity(pipeline.batch_size)
    assert capacity == pytest.approx(100.0)
    per_second = flat(150 * 3600, 1)
    # When the model runs it
    result = simulate(pipeline, per_second)
    # Then genesys is the bottleneck, and its queue empties when the budget has fetched every
    # conversation: work reaches the queue after the stream and pipe delays and the settle delay
    assert result.bottleneck == "genesys"
    genesys = result.stages["genesys"]
    reaches_queue = pipeline.stream_poll_s / 2 + pipeline.pipe_batch_s + pipeline.settle_delay_s
    expected = reaches_queue + 150 * 3600 / capacity
    assert genesys.drained_at_s == pytest.approx(expected, rel=0.005)
    # and the queue peaked when the load stopped: (150 - 100) a second for an hour, in requests
    assert genesys.peak_backlog == pytest.approx(50 * 3600 / pipeline.batch_size, rel=0.01)
    assert result.stages["work_queue_processor"].peak_backlog <= 1.0
    assert result.totals.landed == pytest.approx(150 * 3600, rel=1e-6)


def test_raising_the_budget_moves_the_bottleneck_to_the_next_stage(
    quotas: Quotas, measurements: Measurements
) -> None:
    # Given 190 conversations a second for an hour
    per_second = flat(190 * 3600, 1)
    low = pipeline_for(quotas, measurements, "genesys_max_requests_per_minute=60")
    # When the budget is too small, genesys is the bottleneck and the report names the budget it needs
    before = simulate(low, per_second)
    assert before.bottleneck == "genesys"
    config = load_environment_config("prod")
    advice = {limit.stage: limit for limit in limits(low, config, quotas, 190.0, "us-east-1")}
    needed = advice["genesys"].needed
    assert needed is not None
    assert advice["genesys"].setting == "genesys_max_requests_per_minute"
    # Then with that budget genesys no longer holds the queue back...
    raised = pipeline_for(quotas, measurements, f"genesys_max_requests_per_minute={needed}")
    after = simulate(raised, per_second)
    assert not after.stages["genesys"].is_bottleneck
    # ...and the next limit, the processors (4 x 100 conversations per ~2 s invocation), takes over
    assert raised.processor_capacity(raised.max_concurrency, raised.batch_size) < 190
    assert after.bottleneck == "work_queue_processor"
    # until processor_max_concurrency is raised to what the report asks for
    more = limits(raised, config, quotas, 190.0, "us-east-1")
    concurrency = next(limit for limit in more if limit.stage == "work_queue_processor").needed
    assert concurrency is not None
    final = pipeline_for(
        quotas,
        measurements,
        f"genesys_max_requests_per_minute={needed}",
        f"processor_max_concurrency={concurrency}",
    )
    assert simulate(final, per_second).bottleneck is None


def test_the_pipe_saturates_first_when_shards_are_the_limit_and_its_factor_lifts_it(
    quotas: Quotas, measurements: Measurements
) -> None:
    # Given processors and budget far above the load, and 600 conversations a second for 20 minutes
    # (a new table's 4 shards x 10 records / 0.1 s per batch = 400 a second through the pipe)
    roomy = ("genesys_max_requests_per_minute=6000", "processor_max_concurrency=100")
    per_second = flat(600 * 3600, 1 / 3)
    before = simulate(pipeline_for(quotas, measurements, *roomy), per_second)
    assert before.bottleneck == "stream_pipe"
    # When the pipe reads two batches per shard at once, nothing queues
    after = simulate(pipeline_for(quotas, measurements, *roomy, "pipe_parallelization_factor=2"), per_second)
    assert after.bottleneck is None


def test_every_conversation_of_the_profile_is_counted_once_through_every_stage(
    quotas: Quotas, measurements: Measurements
) -> None:
    # Given the morning of the day profile (08:00-11:00) at a peak of 120,000 an hour
    profile = named_profile("day", 120_000)
    per_second = [value / 60 for value in profile.per_minute[8 * 60 : 11 * 60]]
    pipeline = pipeline_for(quotas, measurements)
    # When the model runs it
    result = simulate(pipeline, per_second)
    # Then each stage counts exactly the profile's conversations in its own unit
    total = sum(per_second) * 60
    totals = result.totals
    assert totals.conversations == pytest.approx(total, rel=1e-9)
    assert totals.events == pytest.approx(total * 3.5, rel=1e-6)
    assert totals.pipe_records == pytest.approx(total, rel=1e-6)
    assert totals.s3_puts == pytest.approx(total, rel=1e-6)
    assert totals.landed == pytest.approx(total, rel=1e-6)
    # and a batch never holds more than the configured batch size
    assert 1 <= result.mean_batch <= pipeline.batch_size


def test_conversations_not_ready_at_the_first_fetch_land_one_retry_later_not_hours_later(
    quotas: Quotas, measurements: Measurements
) -> None:
    # Given a steady 36,000 conversations an hour for two hours, a tenth of them not ready at first
    pipeline = pipeline_for(quotas, measurements, not_ready=0.1)
    # When the model runs it
    result = simulate(pipeline, flat(36_000, 2))
    # Then the ready nine tenths land as they would with nothing not ready (the median), and the rest
    # one not-ready backoff and one invocation after that, however late in the period they arrive
    assert result.stages["work_queue_processor"].periods == []
    on_time = pipeline.settle_delay_s + pipeline.batching_window_s + pipeline.invocation_seconds(100)
    assert pipeline.settle_delay_s <= result.latency_p50 <= on_time + 1
    retried = on_time + pipeline.not_ready_retry_s + pipeline.invocation_seconds(pipeline.batch_size)
    assert result.latency_p99 <= retried + 1
    assert result.latency_left_out == pytest.approx(0.0, abs=1.0)


def test_conversations_that_never_landed_are_counted_not_silently_left_out_of_the_latency(
    quotas: Quotas, measurements: Measurements
) -> None:
    # Given a budget of 2 requests a minute (200 conversations a minute) and a million conversations in
    # an hour: 83 hours of fetching, more than the 24 h the model runs on after the load
    pipeline = pipeline_for(
        quotas, measurements, "processor_max_concurrency=2", "genesys_max_requests_per_minute=2"
    )
    result = simulate(pipeline, flat(1_000_000, 1), dt=10.0)
    # When the model stops with conversations still queued
    not_landed = result.totals.conversations - result.totals.landed
    assert not_landed > 700_000
    # Then the latency percentiles say how many they leave out
    assert result.latency_left_out == pytest.approx(not_landed, rel=0.001)


@pytest.mark.parametrize(
    ("per_hour", "ids"),
    [
        (3_000, 3_000 / 3600 * 10 / 4),  # prod: 4 pollers (max concurrency 4 < the 5 AWS starts with)
        (36_000, 25.0),
        (144_000, 100.0),  # the rate from which they are full
        (1_000_000, 100.0),  # never above the ids per request
        (60, 1.0),  # never below one
    ],
)
def test_ids_per_request_at_a_steady_rate_is_rate_times_window_over_pollers(
    prod_pipeline: Pipeline, per_hour: float, ids: float
) -> None:
    assert prod_pipeline.steady_ids_per_request(per_hour / 3600) == pytest.approx(ids)
    assert prod_pipeline.batches_fill_per_s() * 3600 == pytest.approx(144_000)
