"""A day compacted to Parquet reads as the same rows it did as JSON, in every view; a body landed again
shows once the day is compacted again and never twice; a failure between the steps loses and
duplicates nothing; a filter on conversation_date opens only that day's files; and `catalog.compact`."""

from __future__ import annotations

import copy
import io
import json
import os
import time
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from catalog import compact, local, sqlsource
from genesys_bridge import compaction, layout
from tests.unit.catalog.conftest import fixture_bodies, land, simulator_bodies

DAY = date(2026, 11, 20)
# Every view that holds conversations whether or not their day is compacted (kpi_settings,
# uncompacted_days and the lookups' hold none; conversation_details_uncompacted holds only the days a
# compaction has not reached, by design).
NO_CONVERSATIONS = {
    sqlsource.KPI_SETTINGS_VIEW,
    sqlsource.UNCOMPACTED_DAYS_VIEW,
    sqlsource.UNCOMPACTED_VIEW,
    *sqlsource.LOOKUP_VIEWS,
}
COMPACTED_TABLES = [sqlsource.COMPACTED_TABLE, *(flat.table for flat in sqlsource.FLAT.values())]
DATA_VIEWS = [name for name in sqlsource.VIEWS if name not in NO_CONVERSATIONS]


def rows(folder: Path, sql: str, **settings: Any) -> list[tuple[Any, ...]]:
    """The query's rows, sorted (a view's row order is not defined)."""
    return sorted(local.run_query(folder, sql, settings=settings).rows, key=repr)


def every_view(folder: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every data view's rows (sorted) and every KPI query's, through one catalog over every day."""
    with local.connect(folder) as catalog:
        answers = {
            name: sorted(local.run(catalog, f"SELECT * FROM {name}").rows, key=repr)  # noqa: S608
            for name in DATA_VIEWS
        }
        for name in sqlsource.KPI_QUERIES:
            answers[name] = local.run(catalog, sqlsource.kpi_query(name).sql).rows
    return answers


def compacted_copy(source: Path, target: Path) -> Path:
    """source's landed objects copied (with their times) to target, and every day compacted there."""
    for path in source.rglob("*.json"):
        copied = target / path.relative_to(source)
        copied.parent.mkdir(parents=True, exist_ok=True)
        copied.write_bytes(path.read_bytes())
        os.utime(copied, (path.stat().st_mtime, path.stat().st_mtime))
    for day in compact.stale_days(target):
        compact.compact_day(target, day)
    return target


def files_opened(folder: Path, sql: str) -> int:
    """How many files DuckDB opened to answer a query (its profile's Total Files Read)."""
    with local.connect(folder, lock=False, query=sql) as catalog:
        text = catalog.connection.execute("EXPLAIN ANALYZE " + catalog.translate(sql)).fetchall()[0][1]
    return sum(
        int(part.split(":")[1])
        for line in text.splitlines()
        for part in line.split("│")
        if "Total Files Read" in part
    )


@pytest.fixture
def simulated(tmp_path: Path) -> Path:
    """Forty simulator conversations two hours apart (four UTC days), and the fixtures' own bodies."""
    folder = tmp_path / "json"
    land(folder, simulator_bodies(40))
    land(folder, [body for body in fixture_bodies().values() if body.get("conversationEnd")])
    return folder


def test_every_view_and_kpi_query_reads_the_same_rows_compacted_as_landed(
    simulated: Path, tmp_path: Path
) -> None:
    # Given the same landed objects as JSON, and compacted day by day to Parquet
    compacted = compacted_copy(simulated, tmp_path / "parquet")
    found = local.survey(compacted)
    assert sorted(found.compacted) == sorted(found.landed)
    assert len(found.landed) >= 3
    # When every view and named KPI query is read from each
    # Then each answers the same rows, and the compacted folder reads no JSON object to do so
    assert every_view(compacted) == every_view(simulated)
    assert files_opened(compacted, "SELECT count(*) FROM session_metrics") == len(found.compacted)


def test_the_kpi_queries_of_compacted_days_read_the_flat_files_not_the_nested_conversations(
    simulated: Path, tmp_path: Path
) -> None:
    # Given every day compacted, and the KPI queries' answers then
    compacted = compacted_copy(simulated, tmp_path / "parquet")
    with local.connect(compacted) as catalog:
        expected = {
            name: local.run(catalog, sqlsource.kpi_query(name).sql).rows for name in sqlsource.KPI_QUERIES
        }
    # When the days' compacted conversations (the nested Parquet) are made unreadable
    days = sorted(local.survey(compacted).compacted)
    for day in days:
        for path in local.compacted_files(compacted, day, layout.COMPACTED):
            path.write_bytes(b"not parquet")
    # Then every KPI query (its catalog made for it, as `make query` makes one) still answers the same,
    # from the flat session metrics and segments
    for name in sqlsource.KPI_QUERIES:
        assert local.run_query(compacted, sqlsource.kpi_query(name).sql).rows == expected[name], name
    # while a view over the nested conversations does read them (and so fails)
    with pytest.raises(duckdb.Error):
        local.run_query(compacted, "SELECT count(*) FROM conversations")


def test_hand_built_edge_cases_read_the_same_compacted(
    tmp_path: Path, details_fixture: dict[str, Any]
) -> None:
    # Given bodies a Parquet round trip could change: missing lists, empty maps and arrays, nulls, an
    # upper-case id, unknown keys, and a file that is no conversation
    bare = {
        "conversationId": "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9",
        "conversationStart": "2026-11-20T10:00:00.000Z",
    }
    odd = copy.deepcopy(details_fixture)
    odd["conversationId"] = odd["conversationId"].upper()
    odd["divisionIds"] = []
    odd["participants"][0]["attributes"] = {}
    odd["participants"][0]["sessions"][0]["segments"][0]["queueId"] = None
    odd["somethingNew"] = {"nested": [1, 2]}
    folder = tmp_path / "json"
    land(folder, [bare, odd])
    (folder / layout.day_prefix(DAY) / "broken.json").write_text("{not json", encoding="utf-8")
    compacted = compacted_copy(folder, tmp_path / "parquet")
    # Then the views read the same, and the file that is no conversation is named from the marker
    assert every_view(compacted) == every_view(folder)
    marker = local.read_marker(compacted, DAY) or {}
    assert marker["rows"] == 2
    assert marker["skipped"] == [{"name": "broken.json", "reason": "not JSON (truncated or corrupt)"}]
    skipped = local.run_query(compacted, "SELECT count(*) FROM conversations").skipped
    assert [(Path(file.path).name, file.reason) for file in skipped] == [
        ("broken.json", "not JSON (truncated or corrupt)")
    ]


def test_a_body_landed_again_shows_once_its_day_is_compacted_again_and_never_twice(
    tmp_path: Path, details_fixture: dict[str, Any]
) -> None:
    # Given a compacted day
    [path] = land(tmp_path, [details_fixture])
    compact.compact_day(tmp_path, DAY)
    before = rows(tmp_path, "SELECT conversation_id, handle_ms FROM conversations")
    # When its conversation is landed again with a changed handle time (finalization re-lands it)
    changed = copy.deepcopy(details_fixture)
    changed["participants"][1]["sessions"][0]["metrics"][3]["value"] = 300_000  # tHandle
    land(tmp_path, [changed], modified_at=time.time() + 5)
    # Then the views still show the compacted copy, once, until the day is compacted again
    assert rows(tmp_path, "SELECT conversation_id, handle_ms FROM conversations") == before
    assert compact.stale_days(tmp_path) == [DAY]
    compact.compact_day(tmp_path, DAY)
    assert rows(tmp_path, "SELECT conversation_id, handle_ms FROM conversations") == [
        (details_fixture["conversationId"], 300_000)
    ]
    assert compact.stale_days(tmp_path) == []
    assert path.exists()  # the landed object stays: the landing contract


@pytest.mark.parametrize(
    "failed_after", ["marker removed", "files removed", "some files written", "all written"]
)
def test_a_failure_between_compaction_steps_loses_and_duplicates_nothing(
    simulated: Path, tmp_path: Path, failed_after: str
) -> None:
    # Given a folder compacted once, and the views' answers then
    folder = compacted_copy(simulated, tmp_path / "folder")
    expected = every_view(folder)
    day = min(local.survey(folder).landed)
    store = compact.FolderStore(folder)
    # When its first day's next compaction stops after one of its steps (a crash: nothing after runs)
    store.delete_compaction_marker(day)
    if failed_after != "marker removed":
        store.delete_compacted_files(day)
    if failed_after in ("some files written", "all written"):
        target = folder / layout.compacted_key(day)
        compact.write_day(folder, day, folder)
        if failed_after == "some files written":  # half a file, and a second file from another writer
            data = target.read_bytes()
            target.write_bytes(data[: len(data) // 2])
            (folder / layout.compacted_key(day, 1)).write_bytes(data)
    # Then every view reads the day from its JSON objects: nothing lost, nothing twice
    assert day not in local.survey(folder).compacted
    assert every_view(folder) == expected
    # And the next compaction finds the day and puts it right
    assert compact.stale_days(folder) == [day]
    compact.compact_day(folder, day)
    assert every_view(folder) == expected
    assert [item.name for item in store.compacted_files(day)] == [
        layout.compacted_name(dataset, Path(layout.compacted_key(day, dataset=dataset)).name)
        for dataset in layout.COMPACTED_DATASETS
    ]


@pytest.mark.parametrize("view", [*DATA_VIEWS, sqlsource.DETAILS_TABLE, *COMPACTED_TABLES])
def test_a_filter_on_conversation_date_opens_only_that_days_files(
    simulated: Path, tmp_path: Path, view: str
) -> None:
    # Given a folder with some days compacted and one left as JSON, and every other day's Parquet file
    # made unreadable
    folder = compacted_copy(simulated, tmp_path / "folder")
    days = sorted(local.survey(folder).landed)
    wanted, json_day = days[1], days[-1]
    compact.FolderStore(folder).delete_compaction_marker(json_day)
    for day in days:
        if day != wanted:
            for dataset in layout.COMPACTED_DATASETS:
                for path in local.compacted_files(folder, day, dataset):
                    path.write_bytes(b"not parquet")
    column = "CAST(conversation_date AS DATE)" if view in sqlsource.TABLES else "conversation_date"
    sql = f"SELECT * FROM {view} WHERE {column} = DATE '{wanted}'"  # noqa: S608
    # When the view is read for that one day
    # Then it answers, from that day's one Parquet file (the table and the landed view, from that day's
    # landed objects), and another day's JSON files are opened only for it
    assert local.run_query(folder, sql).rows
    reads_json = view in (sqlsource.DETAILS_TABLE, sqlsource.LANDED_VIEW)
    assert files_opened(folder, sql) == (len(local.survey(folder).landed[wanted]) if reads_json else 1)
    json_sql = f"SELECT * FROM {view} WHERE {column} = DATE '{json_day}'"  # noqa: S608
    expected = 0 if view in COMPACTED_TABLES else len(local.survey(folder).landed[json_day])
    assert files_opened(folder, json_sql) == expected


def test_a_kpi_report_period_reads_its_days_and_the_day_before_only(simulated: Path, tmp_path: Path) -> None:
    folder = compacted_copy(simulated, tmp_path / "folder")
    days = sorted(local.survey(folder).compacted)
    first = days[2]
    sql = sqlsource.kpi_query("queue_performance").sql
    period = {"first_interval_day": first.isoformat(), "last_interval_day": first.isoformat()}
    with local.connect(folder, lock=False, query=sql, settings=period) as catalog:
        read = sorted(catalog.survey.compacted) if catalog.survey else []
    assert read == [days[1], first]
    # And the period's rows are the unbounded query's rows of that day
    everything = local.run_query(folder, sql).rows
    assert local.run_query(folder, sql, settings=period).rows == [
        row for row in everything if row[0] == first
    ]


def test_the_catalog_sees_a_day_as_compacted_only_with_a_valid_marker(
    tmp_path: Path, details_fixture: dict[str, Any]
) -> None:
    land(tmp_path, [details_fixture])
    compact.compact_day(tmp_path, DAY)
    marker_path = tmp_path / layout.compaction_marker_key(DAY)
    assert DAY in local.survey(tmp_path).compacted
    for broken in ("{", json.dumps({"conversation_date": "2026-11-21", "compacted_at": "x", "files": []})):
        marker_path.write_text(broken, encoding="utf-8")
        assert DAY not in local.survey(tmp_path).compacted
        assert rows(tmp_path, "SELECT conversation_id FROM conversations") == [
            (details_fixture["conversationId"],)
        ]


# --- the command line ------------------------------------------------------------------------------------


def _cli(*argv: str) -> tuple[int, str, str]:
    out = io.StringIO()
    try:
        code = compact.main(list(argv), stdout=out)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    return code, out.getvalue(), ""


def test_compact_compacts_the_changed_days_once_and_then_nothing(simulated: Path) -> None:
    code, out, _ = _cli("--out", str(simulated))
    days = sorted(local.survey(simulated).landed)
    assert code == 0
    assert [line.split(":")[0] for line in out.splitlines()[:-1]] == [f"compacted {day}" for day in days]
    assert out.splitlines()[-1].startswith(f"{len(days)} day(s) compacted")
    # A second run compacts nothing, and says so
    assert _cli("--out", str(simulated))[:2] == (
        0,
        "nothing to compact: every landed day is compacted and unchanged since\n",
    )
    # --day compacts that day again, changed or not
    code, out, _ = _cli("--out", str(simulated), "--day", days[0].isoformat())
    assert (code, out.splitlines()[0].split(":")[0]) == (0, f"compacted {days[0]}")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--day", "2026-13-01"], "argument --day: '2026-13-01' is not a day in the form YYYY-MM-DD"),
        (["--day", "2020-01-01"], "--day 2020-01-01: no landed conversation objects for that day under"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    simulated: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli("--out", str(simulated), *argv)[0] == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"python -m catalog.compact: error: {message}")
    assert not (simulated / layout.COMPACTED_PREFIX).exists()


def test_a_folder_without_landed_objects_or_with_a_glob_character_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli("--out", str(tmp_path / "empty"))[0] == 2
    assert "no landed conversation objects under" in capsys.readouterr().err
    globbed = tmp_path / "a[1]"
    land(globbed, simulator_bodies(1))
    assert _cli("--out", str(globbed))[0] == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "has a glob character" in err


def test_the_marker_is_written_last_and_whole(tmp_path: Path, details_fixture: dict[str, Any]) -> None:
    land(tmp_path, [details_fixture])
    marker = compact.compact_day(tmp_path, DAY)
    on_disk = json.loads((tmp_path / layout.compaction_marker_key(DAY)).read_text(encoding="utf-8"))
    assert on_disk == marker
    assert compaction.valid_marker(on_disk, DAY) == marker
    assert marker["engine"] == compaction.DUCKDB
    assert marker["files"] == [
        {
            "name": layout.compacted_name(dataset, "part-00000.parquet"),
            "bytes": (tmp_path / layout.compacted_key(DAY, dataset=dataset)).stat().st_size,
        }
        for dataset in layout.COMPACTED_DATASETS
    ]
    assert marker["landed_objects"] == 1
    assert not list((tmp_path / layout.COMPACTION_MARKERS.day_prefix(DAY)).glob(".*"))  # no partial file left
