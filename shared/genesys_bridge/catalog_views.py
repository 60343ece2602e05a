"""The catalog's views in Athena, kept in step with the stack by a CloudFormation custom resource.

The stack hands over each view's CREATE OR REPLACE VIEW statement (catalog/sql, in Athena's dialect)
as resource properties; on Create and Update each runs in the catalog's workgroup, in order, and the
deploy fails with Athena's own reason if one does not succeed. Views a newer stack no longer has are
dropped, and Delete drops them all. The Athena client is passed in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})


class AthenaClient(Protocol):
    def start_query_execution(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def get_query_execution(self, **kwargs: Any) -> Mapping[str, Any]: ...


class StatementFailed(RuntimeError):
    """Athena did not run a statement to success; the message carries Athena's reason."""


@dataclass(frozen=True)
class ViewsRequest:
    request_type: str  # Create, Update or Delete
    database: str
    workgroup: str
    views: list[tuple[str, str]]  # (name, CREATE OR REPLACE VIEW statement), in creation order
    old_views: list[str]  # names the previous version of the resource created (Update only)

    @property
    def physical_id(self) -> str:
        # A new database or workgroup is a new resource: CloudFormation then deletes the old one's views.
        return f"{self.workgroup}/{self.database}/views"


def parse_request(event: Mapping[str, Any]) -> ViewsRequest:
    properties = event["ResourceProperties"]
    old = event.get("OldResourceProperties") or {}
    return ViewsRequest(
        request_type=event["RequestType"],
        database=properties["Database"],
        workgroup=properties["WorkGroup"],
        views=[(view["Name"], view["Sql"]) for view in properties["Views"]],
        old_views=[view["Name"] for view in old.get("Views", [])],
    )


class AthenaStatements:
    """Runs statements one at a time in a workgroup and waits for each to finish."""

    def __init__(
        self,
        athena: AthenaClient,
        *,
        database: str,
        workgroup: str,
        deadline: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._athena = athena
        self._database = database
        self._workgroup = workgroup
        self._deadline = deadline
        self._clock = clock
        self._sleep = sleep

    def run(self, statement: str) -> str:
        """Run one statement; return its query execution id, or raise StatementFailed."""
        started = self._athena.start_query_execution(
            QueryString=statement,
            QueryExecutionContext={"Database": self._database},
            WorkGroup=self._workgroup,
        )
        query_id = str(started["QueryExecutionId"])
        pause = 0.5
        while True:
            status = self._athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
            state = status["State"]
            if state == "SUCCEEDED":
                return query_id
            if state in TERMINAL_STATES:
                reason = status.get("StateChangeReason", "no reason given")
                raise StatementFailed(f"{_first_line(statement)} -> {state} ({query_id}): {reason}")
            if self._clock() + pause > self._deadline:
                raise StatementFailed(
                    f"{_first_line(statement)} -> still {state} ({query_id}) at the deadline"
                )
            self._sleep(pause)
            pause = min(pause * 2, 5.0)


def _first_line(statement: str) -> str:
    return statement.strip().splitlines()[0] if statement.strip() else "(empty statement)"


def apply(request: ViewsRequest, statements: AthenaStatements) -> dict[str, Any]:
    """Create, replace or drop the views as the request asks; the custom resource's response data."""
    names = [name for name, _ in request.views]
    if request.request_type == "Delete":
        dropped = _drop(statements, list(reversed(names)))
        return {"PhysicalResourceId": request.physical_id, "Data": {"Dropped": ",".join(dropped)}}
    for _, statement in request.views:
        statements.run(statement)
    # Views that only the previous version had, last created first (a later view may read an earlier).
    gone = [name for name in reversed(request.old_views) if name not in names]
    _drop(statements, gone)
    return {"PhysicalResourceId": request.physical_id, "Data": {"Views": ",".join(names)}}


def _drop(statements: AthenaStatements, names: Sequence[str]) -> list[str]:
    for name in names:
        statements.run(f"DROP VIEW IF EXISTS {name}")
    return list(names)
