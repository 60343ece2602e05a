"""Bad options stop `make bench` at once, before minutes of measuring, with a usage error."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.cli import main


def test_an_unknown_figure_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--only", "imports,speed"])
    assert stopped.value.code == 2
    assert "unknown figure(s) speed" in capsys.readouterr().err


def test_a_price_file_missing_a_service_is_refused_up_front(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text('region = "eu-west-1"\n')
    with pytest.raises(SystemExit) as stopped:
        main(["--prices", str(prices), "--only", "ingest"])
    assert stopped.value.code == 2
    assert "lambda" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--import-runs", "0"),
        ("--import-runs", "-5"),
        ("--conversations", "0"),
        ("--conversations", "-5"),
        ("--conversations", "2.5"),
        ("--time-scale", "0"),
        ("--time-scale", "-1"),
        ("--time-scale", "inf"),
        ("--time-scale", "nan"),
    ],
)
def test_a_value_out_of_range_is_refused_not_replaced_by_the_default(
    option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a count or time scale that is zero, negative, fractional or not finite
    # When `make bench` is started with it
    with pytest.raises(SystemExit) as stopped:
        main([option, value])
    # Then it stops at once with a one-line usage error naming the option
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert option in err
