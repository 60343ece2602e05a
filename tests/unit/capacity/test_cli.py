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


@pytest.mark.parametrize("name", ["capacity.png", "capacity"])
def test_a_png_plot_is_written_where_asked_and_the_report_names_it(
    tmp_path: Path, inputs: list[str], capsys: pytest.CaptureFixture[str], name: str
) -> None:
    # a name without a suffix gets the .png that matplotlib gives it, and the report says so
    assert main([*inputs, "--environment", "dev", "--plot", str(tmp_path / "plots" / name)]) == 0
    plot = tmp_path / "plots" / "capacity.png"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"Plot: {plot}" in capsys.readouterr().out


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


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("monday,busy\n", "line 1: minute 'monday' is not a whole number"),
        ("10\n1e300\n", "line 2: 1e300 conversations in a minute is beyond 10,000,000 an hour"),
        ("0.001\n0\n", "its busiest minute runs at 0.06 conversations an hour: allowed 1..10,000,000"),
    ],
)
def test_a_profile_file_that_is_not_a_series_within_the_rate_bounds_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    path = tmp_path / "load.csv"
    path.write_text(text)
    with pytest.raises(SystemExit) as stopped:
        main(["--profile-file", str(path), "--no-plot"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert len(err.splitlines()) == 1


def test_conversations_left_out_of_the_latency_are_counted_in_the_json_and_the_report(
    tmp_path: Path, inputs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a budget of 2 requests a minute (200 conversations a minute): the profile's 61,500
    # conversations take five hours
    out = tmp_path / "report.json"
    budget = ["--set", "processor_max_concurrency=2", "--set", "genesys_max_requests_per_minute=2"]
    assert main([*inputs, *budget, "--no-plot", "--json", str(out)]) == 0
    # Then everything landed and nothing is left out
    assert json.loads(out.read_text())["conversations_not_landed"] == pytest.approx(0.0, abs=0.5)
    assert "leave out" not in capsys.readouterr().out
    # When 450,000 conversations arrive in three minutes instead (37 hours of fetching; the model runs
    # on for 24 hours after the load)
    burst = tmp_path / "burst.csv"
    burst.write_text("150000\n150000\n150000\n")
    assert main(["--profile-file", str(burst), *inputs[2:], *budget, "--no-plot", "--step", "10",
                 "--json", str(out)]) == 0  # fmt: skip
    report = json.loads(out.read_text())
    # Then the JSON and the report say how many conversations the percentiles leave out
    left_out = report["conversations_not_landed"]
    # (every request fetched a full batch of 100: the rest of the 450,000 had not landed)
    assert report["mean_batch"] == pytest.approx(100)
    assert left_out == pytest.approx(450_000 - 100 * report["genesys_requests"], abs=200)
    assert f"These percentiles leave out {left_out:,.0f} conversations" in capsys.readouterr().out


@pytest.mark.parametrize("flag", ["--json", "--plot"])
@pytest.mark.parametrize("where", ["a-file/report.png", "a-directory.png"])
def test_an_output_path_that_cannot_be_written_is_one_line_not_a_traceback(
    tmp_path: Path, inputs: list[str], capsys: pytest.CaptureFixture[str], flag: str, where: str
) -> None:
    # Given an output path under a regular file, or an existing directory
    (tmp_path / "a-file").write_text("not a directory")
    (tmp_path / "a-directory.png").mkdir()
    target = tmp_path / where
    # When the model is asked to write there
    with pytest.raises(SystemExit) as stopped:
        main([*inputs, flag, str(target)])
    # Then the command stops with one line naming the option and the path
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"{flag} {target}: cannot write" in err
