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


@pytest.mark.parametrize("option", ["--import-runs", "--conversations", "--time-scale"])
def test_zero_is_refused_not_replaced_by_the_default(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([option, "0"])
    assert "must be positive" in capsys.readouterr().err
