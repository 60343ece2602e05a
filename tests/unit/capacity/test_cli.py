"""`make capacity` from a user's side: the table, the JSON contract, the plot, and usage errors that name
the value and the allowed range (exit status 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from capacity.cli import main
from capacity.deployment import STAGES
from tests.unit.capacity.conftest import MEASURED

# An hour and a half: 20 quiet minutes, an hour at 1,000 a minute, 10 quiet minutes.
PROFILE = "".join(f"{minute},{1000 if 20 <= minute < 80 else 50}\n" for minute in range(90))


@pytest.fixture
def inputs(tmp_path: Path) -> list[str]:
    profile = tmp_path / "load.csv"
    profile.write_text("minute,conversations\n" + PROFILE)
    measurements = tmp_path / "measurements.json"
    measurements.write_text(json.dumps(MEASURED))
    return ["--profile-file", str(profile), "--measurements", str(measurements)]


def test_the_json_report_carries_the_contract_fields(tmp_path: Path, inputs: list[str]) -> None:
    # Given a profile whose busy hour runs at 1,000 conversations a minute, When the model runs
    out = tmp_path / "report.json"
    assert main([*inputs, "--environment", "prod", "--no-plot", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    # Then the JSON has the fields scripts rely on, under the documented names
    assert report["bottleneck"] is None or report["bottleneck"] in STAGES
    assert set(report["latency_seconds"]) >= {"p50", "p95", "p99"}
    assert report["latency_seconds"]["p50"] <= report["latency_seconds"]["p99"]
    assert list(report["stages"]) == list(STAGES)
    for stage in report["stages"].values():
        assert set(stage) >= {"peak_demand_per_s", "capacity_per_s", "peak_backlog", "drained_at_s"}
        assert stage["capacity_per_s"] > 0
    assert report["stages"]["stream_pipe"]["peak_demand_per_s"] == pytest.approx(1000 / 60, rel=1e-4)
    assert report["cost_usd"] > 0
    # 60 x 1,000 + 30 x 50 conversations, every one landed
    assert report["conversations"] == pytest.approx(61_500)


def test_the_table_names_every_stage_the_latency_and_the_cost(
    inputs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*inputs, "--environment", "prod", "--no-plot"]) == 0
    printed = capsys.readouterr().out
    for name in STAGES:
        assert f"| {name}" in printed
    assert "Latency, first event -> landed" in printed
    assert "settle delay 120 s" in printed
    assert "Cost for the period: $" in printed
    assert "genesys_max_requests_per_minute" in printed


def test_a_png_plot_is_written_where_asked(tmp_path: Path, inputs: list[str]) -> None:
    plot = tmp_path / "plots" / "capacity.png"
    assert main([*inputs, "--environment", "dev", "--plot", str(plot)]) == 0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_setting_changed_with_set_reaches_the_model(tmp_path: Path, inputs: list[str]) -> None:
    out = tmp_path / "report.json"
    main([*inputs, "--no-plot", "--json", str(out), "--set", "processor_max_concurrency=8"])
    doubled = json.loads(out.read_text())["stages"]["work_queue_processor"]["capacity_per_s"]
    main([*inputs, "--no-plot", "--json", str(out)])
    assert doubled == pytest.approx(
        2 * json.loads(out.read_text())["stages"]["work_queue_processor"]["capacity_per_s"]
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--peak-conversations-per-hour", "-5"],
            "--peak-conversations-per-hour -5 is out of range: allowed 1..10,000,000",
        ),
        (["--peak-conversations-per-hour", "5e9"], "--peak-conversations-per-hour 5e+09 is out of range"),
        (["--peak-conversations-per-hour", "nan"], "--peak-conversations-per-hour nan is out of range"),
        (["--peak-conversations-per-hour", "100", "--profile", "weekly"], "invalid choice: 'weekly'"),
        (["--peak-conversations-per-hour", "100", "--events-per-conversation", "0"], "allowed 1..100"),
        (["--peak-conversations-per-hour", "100", "--not-ready-share", "1.5"], "allowed 0..0.95"),
        (["--peak-conversations-per-hour", "100", "--environment", "staging"], "no environment 'staging'"),
        (["--peak-conversations-per-hour", "100", "--set", "max_speed=3"], "--set max_speed: not a setting"),
        (
            ["--peak-conversations-per-hour", "100", "--set", "processor_max_concurrency=0"],
            "processor_max_concurrency: Input should be greater than or equal to 2 (allowed range 2..1000)",
        ),
        ([], "--peak-conversations-per-hour is required"),
    ],
)
def test_bad_input_is_a_usage_error_naming_the_value_and_the_range(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([*argv, "--no-plot"])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_a_profile_file_that_is_not_a_series_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "load.csv"
    path.write_text("monday,busy\n")
    with pytest.raises(SystemExit) as stopped:
        main(["--profile-file", str(path), "--no-plot"])
    assert stopped.value.code == 2
    assert "line 1: minute 'monday' is not a whole number" in capsys.readouterr().err
