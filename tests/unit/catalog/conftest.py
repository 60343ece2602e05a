"""Landed objects on disk, laid out as the processor lands them, for the catalog's local views."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from genesys_bridge.layout import lookup_key, serialize_lookup
from genesys_bridge.results import result_key, serialize
from genesys_simulator import render_details, synthetic_conversations

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def land(out_dir: Path, bodies: Iterable[dict[str, Any]], *, modified_at: float | None = None) -> list[Path]:
    """Write each body where the processor would land it under out_dir; return the paths."""
    paths = []
    for body in bodies:
        path = out_dir / result_key(body)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(serialize(body))
        if modified_at is not None:
            os.utime(path, (modified_at, modified_at))
        paths.append(path)
    return paths


def land_snapshot(out_dir: Path, lookup: str, day: date, entities: Iterable[dict[str, Any]]) -> Path:
    """Write a lookup's snapshot of `day` where the lookups sync would land it under out_dir."""
    path = out_dir / lookup_key(lookup, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(serialize_lookup(entities))
    return path


def queue_entity(queue_id: str, name: str, **service_levels: tuple[float, int]) -> dict[str, Any]:
    """A queue as GET /api/v2/routing/queues lists it; service_levels: media (call, chat, ...) ->
    (percentage 0..1, durationMs)."""
    media = {
        medium: {"alertingTimeoutSeconds": 8, "serviceLevel": {"percentage": share, "durationMs": ms}}
        for medium, (share, ms) in service_levels.items()
    }
    return {"id": queue_id, "name": name, "division": {"id": "d1", "name": "Home"}, "mediaSettings": media}


def fixture_bodies() -> dict[str, dict[str, Any]]:
    """Every conversation-details body among the fixtures, by file name (a details-job page counts
    each of its conversations)."""
    bodies: dict[str, dict[str, Any]] = {}
    for path in sorted(FIXTURES.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        if "conversationId" in document and "participants" in document:
            bodies[path.name] = document
        for index, conversation in enumerate(document.get("conversations", [])):
            bodies[f"{path.name}#{index}"] = conversation
    return bodies


def simulator_bodies(count: int, *, seed: int = 11, ended: bool = True) -> list[dict[str, Any]]:
    # Two hours apart: the bodies spread over several UTC days, so several partitions.
    conversations = synthetic_conversations(count, seed=seed, spacing_s=7200.0)
    return [
        render_details(c, ended=ended, division_id="5a1f3c2e-0d4b-4e8a-9c7f-2b6d1e0a9f34")
        for c in conversations
    ]


@pytest.fixture
def details_fixture() -> dict[str, Any]:
    return copy.deepcopy(fixture_bodies()["conversation-details.json"])
