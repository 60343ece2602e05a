"""The routing and directory listings, served from the org (genesys_simulator.org).

``GET /api/v2/routing/queues``, ``/api/v2/users``, ``/api/v2/routing/wrapupcodes``,
``/api/v2/authorization/divisions``, ``/api/v2/routing/skills`` and ``/api/v2/routing/languages`` with
Genesys' entity-listing paging (docs/genesys-api.md, "Paging"): ``pageSize`` (25 by default, at most
100) and ``pageNumber`` in, ``entities, pageSize, pageNumber, total, pageCount`` and the URIs out,
``nextUri`` a path relative to the API base and absent on the last page. Entities can be renamed or
deleted between two syncs (a deleted user stays, in state deleted, listed only with ``state=any`` or
``deleted``); a listing can be forbidden (403) to test a missing permission.
"""

from __future__ import annotations

import math
import threading
from typing import Any

from genesys_simulator.org import MEDIA_TYPES, Agent, Entity, Org, Queue
from genesys_simulator.responses import LISTING_PATHS, ApiResponse, BadRequest, error_body

# The permission a forbidden listing names. The SDKs' docs list routing:queue:view,
# routing:wrapupCode:view and routing:skill:view for theirs and no permission for users, divisions
# and languages: the simulator can still forbid those, naming the permission that governs the entity.
PERMISSIONS = {
    "queues": "routing:queue:view",
    "users": "directory:user:view",
    "wrapupcodes": "routing:wrapupCode:view",
    "divisions": "authorization:division:view",
    "skills": "routing:skill:view",
    "languages": "routing:language:view",
}
USER_STATES = ("active", "inactive", "deleted", "any")
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
# Analytics names media types as conversations carry them; a queue's mediaSettings name voice "call".
MEDIA_SETTINGS_KEY = {media: media for media in MEDIA_TYPES} | {"voice": "call"}

Listed = Queue | Agent | Entity


class Directory:
    """Thread-safe: the org's entities as the listings show them now, with renames and deletions."""

    def __init__(self, org: Org, forbidden: frozenset[str]) -> None:
        self._org = org
        self._forbidden = forbidden
        self._lock = threading.Lock()
        self._names: dict[str, str] = {}  # entity id -> its name now
        self._deleted: set[str] = set()
        self._entities: dict[str, tuple[Listed, ...]] = {
            "queues": org.queues,
            "users": org.agents,
            "wrapupcodes": org.wrapup_codes,
            "divisions": org.divisions,
            "skills": org.skills,
            "languages": org.languages,
        }

    def rename(self, kind: str, entity_id: str, name: str) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ValueError("a name must be a non-empty string")
        self._find(kind, entity_id)
        with self._lock:
            self._names[entity_id] = name

    def delete(self, kind: str, entity_id: str) -> None:
        self._find(kind, entity_id)
        with self._lock:
            self._deleted.add(entity_id)

    def _find(self, kind: str, entity_id: str) -> Listed:
        if kind not in self._entities:
            raise KeyError(f"no listing {kind!r}; known: {', '.join(self._entities)}")
        found = next((e for e in self._entities[kind] if e.id == entity_id), None)
        if found is None:
            raise KeyError(f"the org has no {kind} entity {entity_id}")
        return found

    def page(self, kind: str, query: dict[str, list[str]], correlation_id: str) -> ApiResponse:
        """One page of a listing, or the 403 of a forbidden one."""
        if kind in self._forbidden:
            permission = PERMISSIONS[kind]
            message = (
                "Unable to perform the requested action. You must have at least one of the following "
                f"permissions assigned: [{permission}]"
            )
            return ApiResponse(403, error_body(403, "missing.any.permissions", message, correlation_id))
        size = _number(query, "pageSize", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        number = _number(query, "pageNumber", 1, None)
        state = (query.get("state") or ["active"])[0]
        if kind == "users" and state not in USER_STATES:
            raise BadRequest(f"state must be one of {', '.join(USER_STATES)}")
        with self._lock:
            entities = [self._render(kind, e) for e in self._entities[kind]]
        if kind == "users":
            entities = [e for e in entities if state in (e["state"], "any")]
        else:
            entities = [e for e in entities if e.pop("deleted") is False]
        entities.sort(key=lambda e: (e["name"].lower(), e["id"]))
        total, pages = len(entities), math.ceil(len(entities) / size)
        extra = f"&state={state}" if kind == "users" and "state" in query else ""

        def uri(page_number: int) -> str:
            return f"{LISTING_PATHS[kind]}?pageSize={size}&pageNumber={page_number}{extra}"

        body: dict[str, Any] = {
            "entities": entities[(number - 1) * size : number * size],
            "pageSize": size,
            "pageNumber": number,
            "total": total,
            "pageCount": pages,
            "selfUri": uri(number),
            "firstUri": uri(1),
            "lastUri": uri(max(pages, 1)),
        }
        if number < pages:
            body["nextUri"] = uri(number + 1)
        if number > 1:
            body["previousUri"] = uri(number - 1)
        return ApiResponse(200, body)

    def _render(self, kind: str, entity: Listed) -> dict[str, Any]:
        """One entity as its listing shows it (called with the lock held)."""
        deleted = entity.id in self._deleted
        body: dict[str, Any] = {"id": entity.id, "name": self._names.get(entity.id, entity.name)}
        if isinstance(entity, Queue):
            body["division"] = self._division(entity.division)
            body["mediaSettings"] = {
                MEDIA_SETTINGS_KEY[media]: {
                    "alertingTimeoutSeconds": 8,
                    "serviceLevel": {"percentage": percentage, "durationMs": duration_ms},
                }
                for media, (percentage, duration_ms) in entity.service_levels.items()
            }
            body["memberCount"] = len(self._org.members[entity.id])
        elif isinstance(entity, Agent):
            state = "deleted" if deleted else entity.state
            body |= {"division": self._division(entity.division), "email": entity.email, "state": state}
            body |= {"username": entity.email, "version": 1}
        elif kind == "wrapupcodes":
            body["division"] = self._division(self._org.home)
        elif kind == "divisions":
            body |= {"description": f"{body['name']} division", "homeDivision": entity is self._org.home}
        else:
            body["state"] = "active"
        body["selfUri"] = f"{LISTING_PATHS[kind]}/{entity.id}"
        if kind != "users":
            body["deleted"] = deleted
        return body

    def _division(self, division: Entity) -> dict[str, str]:
        name = self._names.get(division.id, division.name)
        return {"id": division.id, "name": name, "selfUri": f"{LISTING_PATHS['divisions']}/{division.id}"}


def _number(query: dict[str, list[str]], name: str, default: int, most: int | None) -> int:
    text = (query.get(name) or [str(default)])[0]
    if not text.isdigit() or int(text) < 1 or (most is not None and int(text) > most):
        raise BadRequest(f"{name} must be an integer from 1" + (f" to {most}" if most else ""))
    return int(text)
