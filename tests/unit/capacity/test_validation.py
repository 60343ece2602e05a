"""The model against measured local runs: recordings of two `python -m capacity --validate` runs (the
local pipeline, real handlers on moto and the Genesys simulator) and the model's prediction for each,
fed the run's own settings, arrivals and invocation times."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from capacity.validate import Recording, Scenario, compare_all, parse_progress
from tests.unit.capacity.conftest import MEASURED

RECORDINGS = Path(__file__).with_name("fixtures") / "validation-recordings.json"


@pytest.fixture(scope="module")
def scenarios() -> dict[str, Scenario]:
    recordings = [Recording.from_dict(item) for item in json.loads(RECORDINGS.read_text())]
    per_conversation = MEASURED["processor"]["wall_seconds_per_conversation_loopback"]
    return {scenario.name: scenario for scenario in compare_all(recordings, per_conversation)}


@pytest.mark.parametrize("name", ["steady", "genesys-bound"])
def test_the_model_predicts_latency_throughput_and_backlog_of_a_measured_run_within_tolerance(
    scenarios: dict[str, Scenario], name: str
) -> None:
    scenario = scenarios[name]
    failed = [check.figure for check in scenario.checks if check.judged and not check.ok]
    assert failed == []
    figures = {check.figure for check in scenario.checks}
    assert {
        "latency p50 (s)",
        "latency p99 (s)",
        "all landed by (s)",
        "work queue peak (messages)",
    } <= figures


def test_the_progress_line_of_the_local_runner_is_read_into_samples() -> None:
    text = "\r[####----] landed 14/150  events 267/503  pipe 83  queue 60+12+7   15.1s"
    [sample] = parse_progress(text)
    assert (sample.t, sample.landed, sample.events, sample.forwarded, sample.queue) == (15.1, 14, 267, 83, 79)
