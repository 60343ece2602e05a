"""`make query Q="..."`: a table, CSV for scripts, and a clear exit 2 with the views for a bad query."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from catalog.query import main
from tests.unit.catalog.conftest import land, simulator_bodies


@pytest.fixture
def landed(tmp_path: Path) -> Path:
    land(tmp_path, simulator_bodies(5))
    return tmp_path


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_a_query_prints_a_table(landed: Path) -> None:
    code, out, err = _run(
        "--out", str(landed), "SELECT 'all' AS landed, count(*) AS n FROM conversations GROUP BY 1"
    )

    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "| landed | n |",
        "|--------|---|",
        "| all    | 5 |",
        "(1 row)",
    ]


def test_csv_prints_every_row_for_scripts(tmp_path: Path) -> None:
    bodies = simulator_bodies(5)
    land(tmp_path, bodies)
    segments_in_bodies = sum(
        len(session["segments"])
        for body in bodies
        for participant in body["participants"]
        for session in participant["sessions"]
    )

    code, out, _ = _run("--out", str(tmp_path), "--csv", "SELECT conversation_id, segment_type FROM segments")

    rows: list[Any] = list(csv.reader(io.StringIO(out)))
    assert code == 0
    assert rows[0] == ["conversation_id", "segment_type"]
    assert len(rows) == 1 + segments_in_bodies  # one CSV row per segment, after the header


def test_a_named_kpi_query_runs(landed: Path) -> None:
    code, out, _ = _run("--out", str(landed), "--kpi", "daily_summary")

    assert code == 0
    assert out.splitlines()[0].split("|")[1].strip() == "conversation_date"


@pytest.mark.parametrize(
    ("sql", "engine_says"),
    [
        ("SELECT * FROM calls", "calls does not exist"),
        ("SELECT handle_time FROM conversations", '"handle_time" not found'),
    ],
)
def test_a_query_naming_no_known_view_or_column_gets_the_error_and_the_views(
    landed: Path, sql: str, engine_says: str
) -> None:
    code, out, err = _run("--out", str(landed), sql)

    assert code == 2
    assert out == ""
    assert engine_says in err
    assert "  conversations: conversation_id, conversation_date," in err
    assert "  session_metrics: " in err


def test_an_empty_out_folder_says_to_run_the_demo_first(tmp_path: Path) -> None:
    code, out, err = _run("--out", str(tmp_path / "out"), "SELECT 1")

    assert (code, out) == (2, "")
    assert "run `make demo` first" in err


def test_no_query_lists_the_views_and_kpi_queries(landed: Path) -> None:
    code, out, _ = _run("--out", str(landed))

    assert code == 0
    assert "  segments: conversation_id," in out
    assert "  abandon_rate: " in out
