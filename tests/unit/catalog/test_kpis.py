"""The KPI queries count as Genesys counts: each session metric for the queue of its own session, on the
day of its emitDate. Expected figures come from kpi_reference (the definitions in plain Python) over
hand-built conversations covering IVR, queue wait, hold, blind and consult transfers, abandons and
short abandons (also in Q2 after a transfer), a flow-out, an agent's outbound call, several agents and
a call across midnight UTC."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from catalog import local, sqlsource
from tests.unit.catalog import kpi_reference
from tests.unit.catalog.conftest import land
from tests.unit.catalog.genesys_conversations import A2, DAY, NEXT_DAY, Q1, Q2, conversations
from tests.unit.catalog.kpi_reference import Settings, assert_rows_equal


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out_dir = tmp_path_factory.mktemp("landed")
    land(out_dir, conversations())
    return out_dir


def _kpi(out_dir: Path, name: str, settings: Settings | None = None) -> local.Result:
    overrides = (settings or Settings()).as_overrides()
    return local.run_query(out_dir, sqlsource.kpi_query(name).sql, settings=overrides)


SETTINGS = [
    Settings(),
    # local days in New York: the call across midnight UTC ends on the same local day
    Settings(interval_time_zone="America/New_York"),
    Settings(service_level_include_flow_outs=True, default_service_level_target_s=30),
    Settings(service_level_include_short_abandons=False),
    Settings(service_level_include_abandons=False, service_level_include_short_abandons=False),
]


@pytest.mark.parametrize("settings", SETTINGS, ids=repr)
def test_queue_performance_is_the_definitions_figures(landed: Path, settings: Settings) -> None:
    result = _kpi(landed, "queue_performance", settings)

    expected = kpi_reference.queue_performance(conversations(), settings)
    assert result.columns == [
        "interval_date",
        "queue_id",
        "queue_name",
        "media_type",
        *next(iter(expected.values())),
    ]
    assert_rows_equal(result.columns, result.rows, ("interval_date", "queue_id", "media_type"), expected)
    assert {row[result.columns.index("queue_name")] for row in result.rows} == {None}  # no lookup yet


@pytest.mark.parametrize("settings", SETTINGS[:2], ids=repr)
def test_agent_performance_is_the_definitions_figures(landed: Path, settings: Settings) -> None:
    result = _kpi(landed, "agent_performance", settings)

    expected = kpi_reference.agent_performance(conversations(), settings)
    assert result.columns == ["interval_date", "user_id", "user_name", *next(iter(expected.values()))]
    assert_rows_equal(result.columns, result.rows, ("interval_date", "user_id"), expected)


def test_wrap_up_codes_count_on_the_day_the_wrap_up_ended_for_its_queue(landed: Path) -> None:
    result = _kpi(landed, "wrap_up_code_distribution")

    uses = kpi_reference.wrap_up_codes(conversations())
    totals: dict[tuple[date, str | None], int] = {}
    for (day, queue, _), count in uses.items():
        totals[(day, queue)] = totals.get((day, queue), 0) + count
    expected = {
        key: {"uses": count, "share_pct": 100 * count / totals[key[:2]]} for key, count in uses.items()
    }
    assert_rows_equal(result.columns, result.rows, ("interval_date", "queue_id", "wrap_up_code"), expected)


def _metric_rows(out_dir: Path, conversation: int) -> list[tuple[Any, ...]]:
    conversation_id = f"c0000000-0000-4000-8000-{conversation:012d}"
    return local.run_query(
        out_dir,
        "SELECT metric_name, queue_id, CAST(interval_date AS VARCHAR) FROM session_metrics"  # noqa: S608
        f" WHERE conversation_id = '{conversation_id}' AND metric_name IN"
        " ('nOffered', 'tAnswered', 'tAbandon', 'tShortAbandon', 'tFlowOut', 'tHandle', 'nTransferred')"
        " ORDER BY emit_date, metric_name, queue_id",
    ).rows


def test_each_metric_counts_for_its_own_sessions_queue_and_the_day_it_was_emitted(landed: Path) -> None:
    # An abandon in Q2 after A2 answered in Q1 and transferred is Q2's, the transfer and handle Q1's
    assert _metric_rows(landed, 7) == [
        ("nOffered", Q1, DAY),
        ("tAnswered", Q1, DAY),
        ("nOffered", Q2, DAY),
        ("nTransferred", Q1, DAY),
        ("tHandle", Q1, DAY),
        ("tAbandon", Q2, DAY),
    ]
    # One ACD session in two queues: the flow-out is Q1's, the offer made as it moves is Q2's
    assert _metric_rows(landed, 9)[:3] == [
        ("nOffered", Q1, DAY),
        ("nOffered", Q2, DAY),
        ("tFlowOut", Q1, DAY),
    ]
    # An agent's own outbound call is offered to no queue and handled for none
    assert _metric_rows(landed, 10) == [("tHandle", None, DAY)]
    # Across midnight UTC: offered and answered on the day, handled on the next
    assert _metric_rows(landed, 11) == [
        ("nOffered", Q1, DAY),
        ("tAnswered", Q1, DAY),
        ("tHandle", Q1, NEXT_DAY),
    ]


def test_an_agents_outbound_call_counts_for_the_agent_and_no_queue(landed: Path) -> None:
    queues = _kpi(landed, "queue_performance")
    agents = _kpi(landed, "agent_performance")

    assert {row[1] for row in queues.rows} == {Q1, Q2}
    handled_by_a2 = {
        row[0].isoformat(): row[agents.columns.index("handled")] for row in agents.rows if row[1] == A2
    }
    # A2 handled conversations 2, 3 (in Q2), 7 and the outbound call 10
    assert handled_by_a2 == {DAY: 4}
