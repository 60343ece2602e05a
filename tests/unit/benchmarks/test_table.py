"""The printed table is the benchmark's only output: its shape and verdicts are what a reader sees."""

from __future__ import annotations

import pytest

from benchmarks.table import Row, Verdict, fmt_mb, fmt_ms, fmt_pct, fmt_usd, render_table, summary


def _rows() -> list[Row]:
    return [
        Row("1", "Requests per conversation", "0.0102", "floor 0.0100", "<= 1.05 x floor", Verdict.of(True)),
        Row("4", "Layer unzipped", "31.0 MB", "SDK 83.0 MB", "<= 25 MB", Verdict.of(False)),
        Row.not_measured("5", "Ingest CPU per event", "the ingest service is not importable"),
    ]


def test_every_row_is_one_aligned_markdown_line() -> None:
    # Given three figures, When the table is rendered
    lines = render_table(_rows()).splitlines()
    table = [line for line in lines if line.startswith("|")]
    # Then there is a header, a rule and one line per figure, all of the same width
    assert len(table) == 5
    assert len({len(line) for line in table}) == 1
    assert table[0].split("|")[1].strip() == "#"
    assert set(table[1]) <= {"|", "-"}


def test_verdicts_are_spelled_out_and_a_missing_figure_says_why() -> None:
    text = render_table(_rows())
    assert "| met" in text
    assert "NOT MET" in text
    assert "not measured" in text
    assert "- [5] the ingest service is not importable" in text


def test_a_pipe_inside_a_cell_does_not_split_the_column() -> None:
    text = render_table([Row("7", "Cost a|b", "$1.00")])
    header, _rule, row = text.splitlines()
    assert row.count("|") == header.count("|")


def test_title_and_footer_surround_the_table() -> None:
    text = render_table(_rows(), title="Benchmarks", footer=["machine: x86_64"])
    lines = text.splitlines()
    assert lines[0] == "Benchmarks"
    assert lines[-1] == "machine: x86_64"


def test_summary_counts_each_verdict() -> None:
    assert summary(_rows()) == "targets met: 1, not met: 1, not measured: 1"


@pytest.mark.parametrize(
    ("formatted", "expected"),
    [
        (fmt_ms(0.0123), "12.3 ms"),
        (fmt_ms(0.456), "456 ms"),
        (fmt_mb(25_000_000), "25.0 MB"),
        (fmt_pct(0.0234), "2.3%"),
        (fmt_usd(1234.5), "$1,234.50"),
    ],
)
def test_units_are_formatted_consistently(formatted: str, expected: str) -> None:
    assert formatted == expected
