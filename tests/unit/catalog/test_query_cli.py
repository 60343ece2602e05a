"""`make query Q="..."`: a table, CSV for scripts, a clear exit 2 for a bad query, and a query that can read
nothing but the views over the landed objects."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import duckdb
import pytest

from catalog import local, sqlsource
from catalog.query import main
from tests.unit.catalog import kpi_reference
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


def test_a_named_kpi_query_prints_every_row_as_csv_for_a_users_tooling(tmp_path: Path) -> None:
    bodies = simulator_bodies(5)
    land(tmp_path, bodies)

    # the contract a user's own tooling calls
    code, out, err = _run("--out", str(tmp_path), "--kpi", "queue_performance", "--csv")

    rows = list(csv.reader(io.StringIO(out)))
    assert (code, err) == (0, "")
    assert rows[0][:4] == ["interval_date", "queue_id", "queue_name", "media_type"]
    assert "service_level_pct" in rows[0]
    # one row per interval day, queue and media type the definitions count a metric for
    expected = kpi_reference.queue_performance(bodies)
    assert sorted((row[0], row[1], row[3]) for row in rows[1:]) == sorted(
        (day.isoformat(), queue, media) for day, queue, media in expected
    )


@pytest.mark.parametrize(
    ("sql", "engine_says"),
    [
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
    assert "  queue_performance: " in out
    assert "  agent_performance: " in out


@pytest.mark.parametrize(
    ("sql", "refusal"),
    [
        (
            "SELECT * FROM calls",
            "reads calls, which is not a view (it may read conversation_details_landed, ",
        ),
        ("SELECT * FROM read_text('/etc/shadow')", "reads READ_TEXT('/etc/shadow'), which is not a view"),
        ("SELECT * FROM read_csv('/etc/passwd')", "which is not a view"),
        ("SELECT * FROM '/etc/passwd'", "which is not a view"),
        ("COPY conversations TO '/tmp/stolen.csv'", "only a SELECT (or WITH ... SELECT) runs here, not COPY"),
        ("SELECT 1; SELECT 2", "give one query, not 2 statements"),
        ("INSERT INTO conversations SELECT * FROM conversations", "not INSERT"),
    ],
)
def test_anything_but_one_select_over_the_views_is_refused_in_one_line(
    landed: Path, sql: str, refusal: str
) -> None:
    code, out, err = _run("--out", str(landed), sql)

    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"catalog.query: the query was refused: {err.split('refused: ', 1)[1].strip()}"
    ]
    assert refusal in err


def test_a_select_with_a_cte_over_the_views_runs(landed: Path) -> None:
    code, out, _ = _run(
        "--out",
        str(landed),
        "--csv",
        "WITH q AS (SELECT queue_id FROM session_metrics WHERE queue_id IS NOT NULL) SELECT count(*) FROM q",
    )

    assert code == 0
    assert int(out.splitlines()[1]) > 0


def test_the_engine_is_locked_once_the_objects_are_loaded(landed: Path) -> None:
    # Even a file read that got past the query check finds no file system and no way to re-open it
    with local.connect(landed) as catalog:
        with pytest.raises(duckdb.PermissionException):
            catalog.connection.execute("SELECT * FROM read_text('/etc/hostname')")
        with pytest.raises(duckdb.PermissionException):
            catalog.connection.execute(f"COPY (SELECT 1) TO '{landed / 'copied.csv'}'")
        with pytest.raises(duckdb.InvalidInputException):
            catalog.connection.execute("SET enable_external_access = true")
        # while the views still answer from what was loaded
        assert catalog.connection.execute("SELECT count(*) FROM conversations").fetchone() == (5,)
    assert not (landed / "copied.csv").exists()


def test_a_catalog_for_one_query_creates_only_the_views_that_query_reads(landed: Path) -> None:
    sql = sqlsource.kpi_query("queue_performance").sql
    with local.connect(landed, query=sql) as catalog:
        created = {
            row[0] for row in catalog.connection.execute("SELECT view_name FROM duckdb_views()").fetchall()
        }
        assert created & set(sqlsource.VIEWS) == sqlsource.relations_needed(sqlsource.tables_read(sql)) & set(
            sqlsource.VIEWS
        )
        assert "conversations" not in created
    # and a catalog for no one query has every view
    with local.connect(landed) as catalog:
        created = {
            row[0] for row in catalog.connection.execute("SELECT view_name FROM duckdb_views()").fetchall()
        }
        assert set(sqlsource.VIEWS) <= created


@pytest.mark.parametrize("pattern", ["out*", "ou?", "[o]ut"])
def test_an_out_folder_with_glob_characters_is_refused_in_one_line(tmp_path: Path, pattern: str) -> None:
    # Given two landed folders a glob in --out would both match
    land(tmp_path / "out", simulator_bodies(2))
    land(tmp_path / "out2", simulator_bodies(3, seed=5))

    code, out, err = _run("--out", str(tmp_path / pattern), "SELECT count(*) FROM conversations")

    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1
    assert "has a glob character (*, ?, [) in its path" in err


def test_landed_files_that_are_not_conversation_objects_are_skipped_and_named(tmp_path: Path) -> None:
    # Given five conversations and, beside them, a truncated object, an array, a NaN and a non-UTF-8 file
    bodies = simulator_bodies(5)
    land(tmp_path, bodies)
    folder = tmp_path / "conversations" / "conversation_date=2026-11-20"
    folder.mkdir(parents=True, exist_ok=True)
    bad = {
        "truncated.json": ('{"conversationId": "4d2c', "not JSON (truncated or corrupt)"),
        "array.json": ("[1, 2]", "not a JSON object"),
        "nan.json": ('{"conversationId": "x", "mediaStatsMinConversationMos": NaN}', "NaN or Infinity"),
        "binary.json": ("\udcff", "not UTF-8 text"),
    }
    for name, (text, _) in bad.items():
        (folder / name).write_bytes(text.encode("utf-8", "surrogateescape"))

    code, out, err = _run("--out", str(tmp_path), "--csv", "SELECT count(*) AS n FROM conversations")

    # Then the query answers over the five, and stderr names each skipped file and why
    assert (code, out.splitlines()) == (0, ["n", "5"])
    lines = err.splitlines()
    assert lines[0] == "catalog.query: skipped 4 landed file(s) that are not conversation objects:"
    for name, (_, reason) in bad.items():
        assert any(line.startswith(f"  {(folder / name).resolve()}: {reason}") for line in lines[1:])
    # And the Python API counts them in its result
    result = local.run_query(tmp_path, "SELECT count(*) FROM session_metrics")
    assert sorted(Path(file.path).name for file in result.skipped) == sorted(bad)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            "colour=blue",
            "--setting 'colour=blue': settings are interval_time_zone, default_service_level_target_s, "
            "service_level_include_flow_outs, service_level_include_short_abandons, "
            "service_level_include_abandons, first_interval_day, last_interval_day",
        ),
        (
            "first_interval_day=2026-13-01",
            "--setting 'first_interval_day=2026-13-01': first_interval_day is a day written YYYY-MM-DD "
            "(or nothing)",
        ),
        (
            "service_level_include_flow_outs=yes",
            "--setting 'service_level_include_flow_outs=yes': "
            "service_level_include_flow_outs is true or false",
        ),
        (
            "default_service_level_target_s=twenty",
            "--setting 'default_service_level_target_s=twenty': default_service_level_target_s is a whole "
            "number of seconds",
        ),
    ],
)
def test_a_setting_it_cannot_use_is_a_usage_error(
    landed: Path, setting: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        _run("--out", str(landed), "--kpi", "queue_performance", "--setting", setting)

    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"python -m catalog.query: error: {message}"


def test_an_unknown_time_zone_is_refused_in_one_line(landed: Path) -> None:
    code, out, err = _run(
        "--out", str(landed), "--kpi", "queue_performance", "--setting", "interval_time_zone=Mars/Base"
    )

    assert (code, out) == (2, "")
    assert err == "catalog.query: interval_time_zone: 'Mars/Base' is not a time zone (e.g. Europe/Dublin)\n"


def test_a_setting_changes_the_kpis(landed: Path) -> None:
    _, default, _ = _run("--out", str(landed), "--kpi", "queue_performance", "--csv")
    _, stricter, _ = _run(
        "--out",
        str(landed),
        "--kpi",
        "queue_performance",
        "--csv",
        "--setting",
        "default_service_level_target_s=0",
    )

    def levels(text: str) -> list[str]:
        rows = list(csv.reader(io.StringIO(text)))
        return [row[rows[0].index("service_level_pct")] for row in rows[1:]]

    # every simulated call waits a few seconds before its answer: none is answered within 0 s (a day
    # with no answer, only the handle time of a call answered the day before, has no service level)
    assert set(levels(stricter)) - {""} == {"0"}
    assert set(levels(default)) - {"", "0"}
