"""The lookup views and the KPIs' names over snapshots on disk, as the lookups sync lands them: each view
shows the latest known version of every entity (deleted ones included, marked), the KPIs show the
latest names and count service level against each queue's own target; a snapshot line that is no
entity is skipped and named, and the rest still reads."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from catalog import dialect, local, query, sqlsource
from tests.unit.catalog import kpi_reference
from tests.unit.catalog.conftest import land, land_snapshot, queue_entity
from tests.unit.catalog.genesys_conversations import A1, A2, A3, Q1, Q2, W1, conversations
from tests.unit.catalog.kpi_reference import assert_rows_equal

FIRST, SECOND = date(2026, 11, 20), date(2026, 11, 21)


def user(user_id: str, name: str, state: str = "active") -> dict[str, Any]:
    division = {"id": "d1", "name": "Home"}
    return {
        "id": user_id,
        "name": name,
        "email": f"{name.lower()}@example.com",
        "state": state,
        "division": division,
    }


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The KPI conversations, and two days of snapshots: between them Q1 and A1 were renamed, Q2 was
    deleted (it leaves the listing), A3 was deleted (a user stays, in state deleted), W1 renamed."""
    out_dir = tmp_path_factory.mktemp("lookups")
    land(out_dir, conversations())
    land_snapshot(
        out_dir,
        "queues",
        FIRST,
        [queue_entity(Q1, "Sales", call=(0.8, 20_000)), queue_entity(Q2, "Care", call=(0.8, 20_000))],
    )
    land_snapshot(
        out_dir,
        "queues",
        SECOND,
        [queue_entity(Q1, "Sales and Retention", call=(0.9, 15_000), message=(0.75, 600_000))],
    )
    land_snapshot(out_dir, "users", FIRST, [user(A1, "Aoife"), user(A2, "Liam"), user(A3, "Cian")])
    land_snapshot(
        out_dir, "users", SECOND, [user(A1, "Aoife Byrne"), user(A2, "Liam"), user(A3, "Cian", "deleted")]
    )
    land_snapshot(out_dir, "wrapup_codes", FIRST, [{"id": W1, "name": "Resolved"}])
    land_snapshot(out_dir, "wrapup_codes", SECOND, [{"id": W1, "name": "Resolved (first contact)"}])
    return out_dir


def rows(out_dir: Path, sql: str) -> list[dict[str, Any]]:
    result = local.run_query(out_dir, sql)
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def test_each_view_shows_the_latest_version_of_every_entity_deleted_ones_marked(landed: Path) -> None:
    queues = rows(landed, "SELECT queue_id, queue_name, deleted, snapshot_date FROM queues ORDER BY queue_id")
    assert queues == [
        {"queue_id": Q1, "queue_name": "Sales and Retention", "deleted": False, "snapshot_date": SECOND},
        # gone from the latest listing: its last known name stays, for its old conversations
        {"queue_id": Q2, "queue_name": "Care", "deleted": True, "snapshot_date": FIRST},
    ]
    users = rows(landed, "SELECT user_id, user_name, state, deleted FROM users ORDER BY user_id")
    assert [(u["user_name"], u["state"], u["deleted"]) for u in users] == [
        ("Aoife Byrne", "active", False),
        ("Liam", "active", False),
        ("Cian", "deleted", True),
    ]
    # and each queue carries its voice goal under the plain names, its other media's in their columns
    goals = rows(
        landed,
        "SELECT queue_id, division_id, service_level_target_s, service_level_pct_goal, "
        "message_service_level_target_s FROM queues ORDER BY queue_id",
    )
    assert [tuple(g.values()) for g in goals] == [(Q1, "d1", 15.0, 90.0, 600.0), (Q2, "d1", 20.0, 80.0, None)]
    codes = rows(landed, "SELECT wrapup_code_id, wrapup_code_name FROM wrapup_codes")
    assert codes == [{"wrapup_code_id": W1, "wrapup_code_name": "Resolved (first contact)"}]


def test_queue_service_levels_has_a_row_per_queue_and_media_type_with_a_goal(landed: Path) -> None:
    levels = rows(landed, "SELECT * FROM queue_service_levels ORDER BY queue_id, media_type")

    assert [
        (r["queue_id"], r["media_type"], r["service_level_target_s"], r["service_level_pct_goal"])
        for r in levels
    ] == [(Q1, "message", 600.0, 75.0), (Q1, "voice", 15.0, 90.0), (Q2, "voice", 20.0, 80.0)]


def test_queue_performance_counts_service_level_against_each_queues_own_target(landed: Path) -> None:
    result = local.run_query(landed, sqlsource.kpi_query("queue_performance").sql)

    goals = {(Q1, "voice"): (15.0, 90.0), (Q1, "message"): (600.0, 75.0), (Q2, "voice"): (20.0, 80.0)}
    expected = kpi_reference.queue_performance(conversations(), goals=goals)
    assert_rows_equal(result.columns, result.rows, ("interval_date", "queue_id", "media_type"), expected)
    named = {(row[1], row[2]) for row in result.rows}
    assert named == {(Q1, "Sales and Retention"), (Q2, "Care")}


def test_agent_performance_and_wrap_up_codes_carry_the_latest_names(landed: Path) -> None:
    agents = local.run_query(landed, sqlsource.kpi_query("agent_performance").sql)
    names = {
        row[agents.columns.index("user_id")]: row[agents.columns.index("user_name")] for row in agents.rows
    }
    assert names[A1] == "Aoife Byrne"
    assert names[A2] == "Liam"

    codes = local.run_query(landed, sqlsource.kpi_query("wrap_up_code_distribution").sql)
    named = [dict(zip(codes.columns, row, strict=True)) for row in codes.rows]
    assert {r["wrap_up_code_name"] for r in named if r["wrap_up_code"] == W1} == {"Resolved (first contact)"}
    assert {r["queue_name"] for r in named if r["queue_id"] == Q1} == {"Sales and Retention"}


def test_a_snapshot_line_that_is_no_entity_is_skipped_and_named_and_the_rest_reads(tmp_path: Path) -> None:
    land(tmp_path, conversations()[:1])
    path = land_snapshot(
        tmp_path, "skills", FIRST, [{"id": "s1", "name": "Billing"}, {"id": "s2", "name": "Sales"}]
    )
    with path.open("a", encoding="utf-8") as snapshot:
        snapshot.write('{"id": "s3", "name": "Mob\n')  # cut off mid-line
        snapshot.write('{"id": "s4", "name": NaN}\n')
        snapshot.write('["s5"]\n')
        snapshot.write('{"name": "no id"}\n')
    out, err = io.StringIO(), io.StringIO()

    status = query.main(
        ["SELECT skill_name FROM skills ORDER BY skill_name", "--out", str(tmp_path), "--csv"], out, err
    )

    assert status == 0
    assert out.getvalue().splitlines() == ["skill_name", "Billing", "Sales"]
    assert err.getvalue().splitlines() == [
        "catalog.query: skipped 4 lookup snapshot line(s) or file(s) that are no entity:",
        f"  {path}:3: not JSON (truncated or corrupt)",
        f"  {path}:4: NaN or Infinity (NaN, which JSON does not allow)",
        f"  {path}:5: not a JSON object",
        f"  {path}:6: no id",
    ]


def test_without_any_snapshot_the_views_are_empty_and_the_kpis_name_nothing(tmp_path: Path) -> None:
    land(tmp_path, conversations())

    assert rows(tmp_path, "SELECT * FROM queues") == []
    assert rows(tmp_path, "SELECT * FROM users") == []
    result = local.run_query(tmp_path, sqlsource.kpi_query("agent_performance").sql)
    assert {row[result.columns.index("user_name")] for row in result.rows} == {None}


def test_a_user_query_may_read_the_snapshot_tables_but_nothing_else(landed: Path) -> None:
    assert rows(landed, "SELECT count(*) AS n FROM users_snapshots") == [{"n": 6}]
    with pytest.raises(dialect.QueryRefused, match="users_snapshots"):
        local.run_query(landed, "SELECT * FROM read_json('x.jsonl')")
