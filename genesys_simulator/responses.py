"""What every part of the simulator answers with: routes, endpoint names, responses, Genesys' error body."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

API = "/api/v2/analytics/conversations"

# Endpoint names used in records and stats.
TOKEN = "token"
MULTI_GET = "multi_get"
SINGLE_GET = "single_get"
QUERY = "query"
JOB_CREATE = "job_create"
JOB_STATUS = "job_status"
JOB_RESULTS = "job_results"
JOB_DELETE = "job_delete"
JOB_AVAILABILITY = "job_availability"
OTHER = "other"
FETCH_ENDPOINTS = frozenset({MULTI_GET, SINGLE_GET})
# The directory listings (genesys_simulator.listings): endpoint name -> path.
LISTING_PATHS = {
    "queues": "/api/v2/routing/queues",
    "users": "/api/v2/users",
    "wrapupcodes": "/api/v2/routing/wrapupcodes",
    "divisions": "/api/v2/authorization/divisions",
    "skills": "/api/v2/routing/skills",
    "languages": "/api/v2/routing/languages",
}

# The paths of docs/genesys-api.md, "OAuth client credentials" and "Conversation details".
_ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("POST", re.compile(r"^/oauth/token$"), TOKEN),
    ("GET", re.compile(rf"^{API}/details$"), MULTI_GET),
    ("POST", re.compile(rf"^{API}/details/query$"), QUERY),
    ("POST", re.compile(rf"^{API}/details/jobs$"), JOB_CREATE),
    ("GET", re.compile(rf"^{API}/details/jobs/availability$"), JOB_AVAILABILITY),
    ("GET", re.compile(rf"^{API}/details/jobs/(?P<job>[^/]+)$"), JOB_STATUS),
    ("DELETE", re.compile(rf"^{API}/details/jobs/(?P<job>[^/]+)$"), JOB_DELETE),
    ("GET", re.compile(rf"^{API}/details/jobs/(?P<job>[^/]+)/results$"), JOB_RESULTS),
    ("GET", re.compile(rf"^{API}/(?P<id>[^/]+)/details$"), SINGLE_GET),
    *(("GET", re.compile(f"^{path}$"), name) for name, path in LISTING_PATHS.items()),
)


def route(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """(endpoint name, path parameters) of a request, or None for a path the simulator does not serve."""
    for route_method, pattern, endpoint in _ROUTES:
        match = pattern.match(path)
        if match and route_method == method:
            return endpoint, match.groupdict()
    return None


@dataclass(slots=True)
class ApiResponse:
    """One answer before it is encoded; the fields after ``headers`` feed the statistics, never the wire."""

    status: int
    body: dict[str, Any] | None
    headers: dict[str, str] = field(default_factory=dict)
    endpoint: str = OTHER
    ids: int = 0
    conversation_ids: tuple[str, ...] = ()  # the ids a multi-get asked for, in its order
    fault: str | None = None
    conversations: int = 0
    ended_conversations: int = 0
    settled_conversations: int = 0


class BadRequest(Exception):
    """A request Genesys would refuse with 400; ``ids`` is how many ids it asked for (for the records)."""

    def __init__(self, message: str, ids: int = 0) -> None:
        super().__init__(message)
        self.ids = ids


def error_body(status: int, code: str, message: str, correlation_id: str) -> dict[str, Any]:
    """Genesys' error body (docs/genesys-api.md, "Rate limits and errors")."""
    return {
        "message": message,
        "code": code,
        "status": status,
        "messageParams": {},
        "contextId": correlation_id,
        "details": [],
        "errors": [],
    }


def not_found(message: str, correlation_id: str) -> ApiResponse:
    return ApiResponse(404, error_body(404, "not.found", message, correlation_id))


def json_object(body: bytes) -> dict[str, Any]:
    """A request body that must be a JSON object; anything else is a 400."""
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        raise BadRequest("The request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise BadRequest("The request body must be a JSON object")
    return parsed


def parse_uuid(value: str) -> str | None:
    """The canonical (lowercase) form of a conversation id, or None when it is not one."""
    try:
        return str(uuid.UUID(value)) if len(value) == 36 else None
    except ValueError:
        return None


def parse_instant(text: str) -> datetime:
    """An ISO-8601 instant; one without a zone is taken as UTC."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
