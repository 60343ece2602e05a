"""The deploy-time custom resource: every view statement runs in Athena in order, and a failure fails it."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import pytest

from catalog import sqlsource
from genesys_bridge import catalog_views


class FakeAthena:
    """Athena as far as the custom resource uses it: each statement runs for `polls` polls, then
    ends in the state `outcome` gives it (SUCCEEDED unless told otherwise)."""

    def __init__(self, polls: int = 2, outcome: Mapping[str, tuple[str, str]] | None = None) -> None:
        self.statements: list[tuple[str, str, str]] = []  # (statement, database, workgroup)
        self._polls = polls
        self._outcome = outcome or {}
        self._remaining: dict[str, int] = {}
        self._ids = itertools.count(1)

    def start_query_execution(self, **kwargs: Any) -> Mapping[str, Any]:
        query_id = f"q-{next(self._ids)}"
        self.statements.append(
            (kwargs["QueryString"], kwargs["QueryExecutionContext"]["Database"], kwargs["WorkGroup"])
        )
        self._remaining[query_id] = self._polls
        return {"QueryExecutionId": query_id}

    def get_query_execution(self, **kwargs: Any) -> Mapping[str, Any]:
        query_id = kwargs["QueryExecutionId"]
        statement = self.statements[int(query_id.removeprefix("q-")) - 1][0]
        self._remaining[query_id] -= 1
        if self._remaining[query_id] > 0:
            return {"QueryExecution": {"Status": {"State": "RUNNING"}}}
        for marker, (state, reason) in self._outcome.items():
            if marker in statement:
                return {"QueryExecution": {"Status": {"State": state, "StateChangeReason": reason}}}
        return {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}}


def _event(request_type: str, views: list[tuple[str, str]], old: list[tuple[str, str]] | None = None) -> dict:
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ResourceProperties": {
            "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:provider",
            "Database": "genesys_analytics_bridge_dev",
            "WorkGroup": "genesys-analytics-bridge-dev",
            "Views": [{"Name": name, "Sql": sql} for name, sql in views],
        },
    }
    if old is not None:
        event["OldResourceProperties"] = {"Views": [{"Name": name, "Sql": sql} for name, sql in old]}
    return event


def _apply(athena: FakeAthena, event: dict, deadline: float = 1e9) -> dict[str, Any]:
    request = catalog_views.parse_request(event)
    clock = itertools.count(0.0, 1.0)
    statements = catalog_views.AthenaStatements(
        athena,
        database=request.database,
        workgroup=request.workgroup,
        deadline=deadline,
        clock=lambda: float(next(clock)),
        sleep=lambda _seconds: None,
    )
    return catalog_views.apply(request, statements)


def test_create_runs_every_view_statement_in_order_in_the_catalogs_workgroup() -> None:
    athena = FakeAthena()

    response = _apply(athena, _event("Create", sqlsource.create_view_statements()))

    assert [statement for statement, _, _ in athena.statements] == [
        sql for _, sql in sqlsource.create_view_statements()
    ]
    assert {(database, workgroup) for _, database, workgroup in athena.statements} == {
        ("genesys_analytics_bridge_dev", "genesys-analytics-bridge-dev")
    }
    assert response["PhysicalResourceId"] == "genesys-analytics-bridge-dev/genesys_analytics_bridge_dev/views"
    assert response["Data"]["Views"] == ",".join(sqlsource.VIEWS)


def test_a_view_athena_refuses_fails_the_deploy_with_athenas_reason() -> None:
    athena = FakeAthena(outcome={"VIEW conversations AS": ("FAILED", "COLUMN_NOT_FOUND: line 3:5")})

    with pytest.raises(catalog_views.StatementFailed, match=r"conversations AS -> FAILED .*COLUMN_NOT_FOUND"):
        _apply(athena, _event("Create", sqlsource.create_view_statements()))

    # and nothing after the failed view was attempted
    assert len(athena.statements) == sqlsource.VIEWS.index("conversations") + 1


def test_a_statement_still_running_at_the_deadline_fails_rather_than_hangs() -> None:
    athena = FakeAthena(polls=1000)

    with pytest.raises(catalog_views.StatementFailed, match="still RUNNING"):
        _apply(athena, _event("Create", [("v", "CREATE OR REPLACE VIEW v AS SELECT 1")]), deadline=30.0)


def test_update_replaces_the_views_and_drops_those_the_stack_no_longer_has() -> None:
    athena = FakeAthena()
    old = [
        ("a", "CREATE OR REPLACE VIEW a AS SELECT 1"),
        ("b", "CREATE OR REPLACE VIEW b AS SELECT * FROM a"),
    ]
    new = [("a", "CREATE OR REPLACE VIEW a AS SELECT 2")]

    _apply(athena, _event("Update", new, old))

    assert [statement for statement, _, _ in athena.statements] == [
        "CREATE OR REPLACE VIEW a AS SELECT 2",
        "DROP VIEW IF EXISTS b",
    ]


def test_delete_drops_the_views_last_created_first() -> None:
    athena = FakeAthena()

    response = _apply(athena, _event("Delete", sqlsource.create_view_statements()))

    assert [statement for statement, _, _ in athena.statements] == [
        f"DROP VIEW IF EXISTS {name}" for name in reversed(sqlsource.VIEWS)
    ]
    assert response["Data"]["Dropped"] == ",".join(reversed(sqlsource.VIEWS))
