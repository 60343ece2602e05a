"""The views over landed objects: counts equal the landed data, one row per conversation, flags as defined."""

from __future__ import annotations

import copy
import os
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from catalog import local
from genesys_bridge.layout import result_key
from tests.unit.catalog.conftest import land, land_snapshot, queue_entity, simulator_bodies

QUEUE_SALES = "d8c2e5a1-3b7f-4096-a4e1-6f9b2c0d8e37"  # the fixture's queue
QUEUE_BILLING = "1f0c9b7e-2a4d-4e61-8c3b-5d7a9e0f2b14"


def _counts(bodies: list[dict[str, Any]]) -> dict[str, int]:
    participants = [p for body in bodies for p in body["participants"]]
    sessions = [s for p in participants for s in p["sessions"]]
    return {
        "conversations": len(bodies),
        "participants": len(participants),
        "sessions": len(sessions),
        "segments": sum(len(s["segments"]) for s in sessions),
        "session_metrics": sum(len(s["metrics"]) for s in sessions),
    }


def _scalar(out_dir: Path, sql: str) -> Any:
    result = local.run_query(out_dir, sql)
    assert len(result.rows) == 1
    return result.rows[0][0]


def test_each_view_holds_exactly_the_landed_conversations_segments_and_metrics(tmp_path: Path) -> None:
    # Given 40 settled conversations over several days and 3 still live (no end, open segments)
    bodies = simulator_bodies(40) + simulator_bodies(3, seed=99, ended=False)
    paths = land(tmp_path, bodies)
    expected = _counts(bodies)

    # When each view is counted
    with local.connect(tmp_path) as catalog:
        counted = {
            view: catalog.connection.execute(f"SELECT count(*) FROM {view}").fetchone()[0]  # type: ignore[index]  # noqa: S608
            for view in expected
        }
        days = catalog.connection.execute(
            "SELECT count(DISTINCT conversation_date) FROM conversations"
        ).fetchone()

    # Then one row per object, participant, session, segment and metric, none lost or doubled
    assert counted == expected
    assert counted["conversations"] == len(paths) == 43
    assert days is not None
    assert days[0] > 1


def test_the_conversations_view_totals_equal_the_metrics_in_the_bodies(tmp_path: Path) -> None:
    bodies = simulator_bodies(12)
    land(tmp_path, bodies)

    result = local.run_query(
        tmp_path,
        "SELECT conversation_id, handle_ms, talk_ms, acw_ms, hold_ms, wait_ms, queue_ids, wrap_up_codes,"
        " media_type FROM conversations",
    )

    def total(body: dict[str, Any], name: str) -> int:
        return sum(
            m["value"]
            for p in body["participants"]
            for s in p["sessions"]
            for m in s["metrics"]
            if m["name"] == name
        )

    by_id = {row[0]: row[1:] for row in result.rows}
    for body in bodies:
        segments = [g for p in body["participants"] for s in p["sessions"] for g in s["segments"]]
        # every queue it went through; the codes of every wrap-up (none without after-call work)
        queues = sorted({g["queueId"] for g in segments if "queueId" in g})
        codes = sorted({g["wrapUpCode"] for g in segments if "wrapUpCode" in g})
        customers = [p for p in body["participants"] if p["purpose"] in ("customer", "external")]
        assert by_id[body["conversationId"]] == (
            total(body, "tHandle"),
            total(body, "tTalk"),
            total(body, "tAcw"),
            total(body, "tHeld"),
            total(body, "tAcd"),
            queues,
            codes,
            customers[0]["sessions"][0]["mediaType"],
        )


def test_a_conversation_is_deduplicated_within_its_day_and_a_copy_under_another_day_stays_on_that_day(
    tmp_path: Path, details_fixture: dict[str, Any]
) -> None:
    # Given a conversation landed, then (were its start ever to move across midnight UTC between two
    # fetches) landed again under the next day's key with a longer handle time
    first = details_fixture
    second = copy.deepcopy(first)
    second["conversationStart"] = "2026-11-21T00:00:05.000Z"
    second["participants"][1]["sessions"][0]["metrics"][3]["value"] = 300_000  # tHandle
    now = time.time()
    land(tmp_path, [first], modified_at=now - 60)
    land(tmp_path, [second], modified_at=now)
    # and a second object with the same id in the first day's folder (an upper-case key, written by
    # something else), older than the first
    stray = (
        tmp_path
        / "conversations"
        / "conversation_date=2026-11-20"
        / f"{first['conversationId'].upper()}.json"
    )
    stray.write_bytes((tmp_path / result_key(first)).read_bytes().replace(b"266184", b"1"))
    os.utime(stray, (now - 120, now - 120))

    # When the views are read
    # Then each day holds the conversation once, the copy written last on that day, because the views
    # deduplicate within a day (so that a filter on the day reads only that day's objects)
    assert _scalar(tmp_path, "SELECT count(*) FROM conversation_details") == 3
    rows = local.run_query(tmp_path, "SELECT conversation_date, handle_ms FROM conversations ORDER BY 1").rows
    assert [(row[0].isoformat(), row[1]) for row in rows] == [
        ("2026-11-20", 266_184),
        ("2026-11-21", 300_000),
    ]

    # And with the write times in that day the other way round, the other copy wins there
    os.utime(stray, (now + 60, now + 60))
    rows = local.run_query(tmp_path, "SELECT conversation_date, handle_ms FROM conversations ORDER BY 1").rows
    assert [(row[0].isoformat(), row[1]) for row in rows] == [("2026-11-20", 1), ("2026-11-21", 300_000)]


def _abandoned(fixture: dict[str, Any]) -> dict[str, Any]:
    """The customer hung up after 30 s in the sales queue; no agent ever answered."""
    body = copy.deepcopy(fixture)
    body["conversationId"] = "3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
    body["conversationEnd"] = "2026-11-20T14:00:51.640Z"
    customer = body["participants"][0]
    customer["sessions"][0]["metrics"] = [
        {"name": "nConnected", "value": 1, "emitDate": "2026-11-20T14:00:21.640Z"}
    ]
    acd_session = {
        "sessionId": "7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a",
        "mediaType": "voice",
        "segments": [
            {
                "segmentStart": "2026-11-20T14:00:21.640Z",
                "segmentEnd": "2026-11-20T14:00:51.640Z",
                "segmentType": "interact",
                "queueId": QUEUE_SALES,
                "disconnectType": "peer",
            }
        ],
        "metrics": [
            {"name": "tAcd", "value": 30_000, "emitDate": "2026-11-20T14:00:51.640Z"},
            {"name": "tAbandon", "value": 30_000, "emitDate": "2026-11-20T14:00:51.640Z"},
        ],
    }
    acd = {
        "participantId": "9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b",
        "purpose": "acd",
        "sessions": [acd_session],
    }
    body["participants"] = [customer, acd]
    return body


def _transferred(fixture: dict[str, Any]) -> dict[str, Any]:
    """Answered in the sales queue, then transferred by the agent to billing."""
    body = copy.deepcopy(fixture)
    body["conversationId"] = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"
    agent_session = body["participants"][1]["sessions"][0]
    for metric in agent_session["metrics"]:
        if metric["name"] == "tHandle":
            metric["value"] = 133_816
    agent_session["metrics"].append(
        {"name": "nTransferred", "value": 1, "emitDate": "2026-11-20T14:02:00.000Z"}
    )
    agent_session["segments"][-1]["wrapUpCode"] = "0d9c8b7a-6f5e-4d4c-9b3a-2f1e0d9c8b7a"
    billing = copy.deepcopy(body["participants"][1])
    billing["participantId"] = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e"
    billing_session = billing["sessions"][0]
    billing_session["sessionId"] = "4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a"
    billing_session["metrics"] = [{"name": "tTalk", "value": 20_000, "emitDate": "2026-11-20T14:02:30.000Z"}]
    billing_session["segments"] = [
        {
            "segmentStart": "2026-11-20T14:02:10.000Z",
            "segmentEnd": "2026-11-20T14:02:30.000Z",
            "segmentType": "interact",
            "queueId": QUEUE_BILLING,
        }
    ]
    body["participants"].append(billing)
    return body


@pytest.fixture
def three_calls(tmp_path: Path, details_fixture: dict[str, Any]) -> Path:
    """One day in the sales queue: a handled call, an abandoned one, a handled and transferred one."""
    land(tmp_path, [details_fixture, _abandoned(details_fixture), _transferred(details_fixture)])
    return tmp_path


def test_abandoned_and_transferred_conversations_are_flagged(three_calls: Path) -> None:
    rows = local.run_query(
        three_calls,
        "SELECT abandoned, transferred, queue_ids, wait_ms, handle_ms FROM conversations ORDER BY handle_ms",
    ).rows

    assert rows == [
        (True, False, [QUEUE_SALES], 30_000, 0),
        (False, True, sorted([QUEUE_SALES, QUEUE_BILLING]), 0, 133_816),
        (False, False, [QUEUE_SALES], 0, 266_184),
    ]


def test_the_demo_summary_shows_queue_performance_through_the_views(three_calls: Path) -> None:
    queues = [
        queue_entity(QUEUE_SALES, "Sales", call=(0.9, 30_000)),
        queue_entity(QUEUE_BILLING, "Billing", call=(0.8, 20_000)),
    ]
    land_snapshot(three_calls, "queues", date(2026, 11, 20), queues)

    summary = local.kpi_summary(three_calls)

    lines = summary.splitlines()
    assert "catalog/sql/kpi/queue_performance.sql" in lines[0]
    assert [cell.strip() for cell in lines[1].split("|")[1:-1]] == list(local.SUMMARY_COLUMNS)
    # one row per interval day, queue and media type with a queue metric (billing's talk, sales' calls),
    # by queue id, with each queue's name and its own voice target
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in lines[3:5]]
    assert [row[:3] + row[-2:-1] for row in rows] == [
        ["2026-11-20", "Billing", "voice", "20"],
        ["2026-11-20", "Sales", "voice", "30"],
    ]
    assert lines[-1] == "(2 rows)"


def test_the_demo_summary_names_the_files_it_skipped(three_calls: Path) -> None:
    broken = three_calls / "conversations" / "conversation_date=2026-11-20" / "broken.json"
    broken.write_text('{"conversationId": "5', encoding="utf-8")

    summary = local.kpi_summary(three_calls)

    assert summary.splitlines()[-2:] == [
        "skipped 1 landed file(s) that are not conversation objects:",
        f"  {broken.resolve()}: not JSON (truncated or corrupt)",
    ]


def test_the_demo_summary_of_an_empty_folder_says_to_run_the_demo(tmp_path: Path) -> None:
    assert "run `make demo` first" in local.kpi_summary(tmp_path)
