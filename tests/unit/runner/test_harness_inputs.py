"""What a local run hands the simulator and the config before anything runs."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from genesys_simulator import GenesysSimulator, SimulatorConfig, timeline
from local_runner.harness import Harness
from local_runner.options import RunOptions, UsageError
from local_runner.workload import WorkloadSpec, synthesize


def test_a_conversation_ends_in_its_details_when_its_first_event_comes() -> None:
    # Given a run's harness, its simulator and a workload whose conversations started minutes ago
    harness = Harness(RunOptions(out_dir=None, progress=False), io.StringIO())
    harness.simulator = GenesysSimulator(SimulatorConfig())
    harness.workload = synthesize(WorkloadSpec(conversations=3, malformed_rate=0.0), "eu-west-1")
    conversation_id, plan = next(iter(harness.workload.conversations.items()))

    # When its first event is ingested
    harness.on_first_event(conversation_id)

    # Then its details end now: conversationEnd, where the agent's wrap-up starts (its segmentStart, from
    # which the processor expects the wrap-up's end), is on the run's clock, the conversation as long as
    # planned; its events keep their own (past) times
    times, planned = (
        harness.simulator.timeline(conversation_id),
        timeline(plan.sim_conversation(), harness.simulator.org),
    )
    assert abs(times.end - harness.simulator.now()) < timedelta(seconds=1)
    assert times.end - times.start == planned.end - planned.start
    assert planned.end < times.end - timedelta(minutes=3)


def test_a_setting_the_config_refuses_is_a_usage_error_naming_it() -> None:
    with pytest.raises(UsageError, match=r"settings: .*not_ready_retry_grid_seconds"):
        Harness(RunOptions(settings=(("not_ready_retry_grid_seconds", -1),)), io.StringIO())
