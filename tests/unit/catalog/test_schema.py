"""The schema reads every body the bridge can land: each value the body has comes back, none as null."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from catalog import local, schema
from genesys_bridge.layout import canonical_form
from tests.unit.catalog.conftest import fixture_bodies, land, simulator_bodies


def _read_back(out_dir: Path, body: dict[str, Any]) -> dict[str, Any]:
    """The one landed body as the details table reads it, as plain Python values by JSON key."""
    land(out_dir, [body])
    with local.connect(out_dir) as catalog:
        cursor = catalog.connection.execute("SELECT * FROM conversation_details")
        names = [column[0] for column in cursor.description or []]
        rows = cursor.fetchall()
    assert len(rows) == 1
    return dict(zip(names, rows[0], strict=True))


def _missing(expected: Any, actual: Any, field_type: schema.Type, path: str) -> list[str]:
    """Paths where the body has a value the read row does not hold (absent, null or different)."""
    if expected is None:
        return []
    if actual is None:
        return [path]
    if isinstance(field_type, schema.Struct):
        problems = []
        for key, value in expected.items():
            child = field_type.field(key)
            if child is not None:  # keys the schema lacks are skipped on purpose
                problems += _missing(value, actual.get(key), child, f"{path}.{key}")
        return problems
    if isinstance(field_type, schema.Array):
        if len(expected) != len(actual):
            return [f"{path} (length {len(actual)}, expected {len(expected)})"]
        return [
            problem
            for index, (item, read) in enumerate(zip(expected, actual, strict=True))
            for problem in _missing(item, read, field_type.item, f"{path}[{index}]")
        ]
    return [] if expected == actual else [f"{path} ({actual!r}, expected {expected!r})"]


def _bodies() -> dict[str, dict[str, Any]]:
    bodies = dict(fixture_bodies())
    for index, body in enumerate(simulator_bodies(3, ended=True)):
        bodies[f"simulator ended #{index}"] = body
    for index, body in enumerate(simulator_bodies(2, seed=12, ended=False)):
        bodies[f"simulator live #{index}"] = body
    return bodies


def test_the_fixtures_include_the_real_shapes_the_schema_must_read() -> None:
    names = set(fixture_bodies())
    # a settled call, one whose wrap-up is still open, and one from a details job (with attributes)
    assert {"conversation-details.json", "conversation-details-wrapup-open.json"} <= names
    assert any(name.startswith("details-job-results-page.json#") for name in names)


@pytest.mark.parametrize(("name", "body"), list(_bodies().items()), ids=list(_bodies()))
def test_every_value_of_a_fixture_or_simulator_body_reads_back(
    tmp_path: Path, name: str, body: dict[str, Any]
) -> None:
    # Given a body landed as the processor lands it
    # When the details table reads it
    row = _read_back(tmp_path, body)

    # Then every value the body has is there (its lists in the order they land in), none null, none changed
    assert _missing(canonical_form(body), row, schema.CONVERSATION, "") == [], name
    # And the bridge's bodies carry no field the schema would drop
    assert list(schema.unknown_keys(body)) == []


def test_a_body_with_fields_the_schema_does_not_know_still_reads(
    tmp_path: Path, details_fixture: dict[str, Any]
) -> None:
    # Given a real-shape body with new fields at every level (as a newer Genesys API might send)
    body = details_fixture
    body["evaluations"] = [{"evaluationId": "e-1", "formId": "f-1", "oTotalScore": 87}]
    body["someFutureFlag"] = True
    participant = body["participants"][1]
    participant["teamLeadId"] = "lead-1"
    session = participant["sessions"][0]
    session["journeyFoo"] = {"nested": [1, 2, 3]}
    session["segments"][0]["segmentProperty"] = "new"
    session["metrics"][0]["unit"] = "ms"

    # When the details table reads it
    row = _read_back(tmp_path, body)

    # Then it reads: the known values are all there and the unknown keys are simply absent
    assert _missing(canonical_form(body), row, schema.CONVERSATION, "") == []
    assert sorted(schema.unknown_keys(body)) == [
        "evaluations",
        "participants[].sessions[].journeyFoo",
        "participants[].sessions[].metrics[].unit",
        "participants[].sessions[].segments[].segmentProperty",
        "participants[].teamLeadId",
        "someFutureFlag",
    ]
    assert "evaluations" not in row
    assert all("teamLeadId" not in participant for participant in row["participants"])


def test_glue_columns_are_generated_from_the_schema_in_hive_types() -> None:
    columns = dict(schema.columns())

    assert list(columns)[:3] == ["conferencestart", "conversationend", "conversationid"]
    assert columns["conversationid"] == "string"
    assert columns["divisionids"] == "array<string>"
    assert columns["mediastatsminconversationmos"] == "double"
    assert schema.hive_type(schema.SESSION_METRIC) == "struct<emitdate:string,name:string,value:bigint>"
    participants = columns["participants"]
    assert participants.startswith("array<struct<externalcontactid:string,")
    assert "sessions:array<struct<activeskillids:array<string>,acwskipped:boolean," in participants
    assert "metrics:array<struct<emitdate:string,name:string,value:bigint>>" in participants
    assert participants.endswith(",attributes:map<string,string>>>")
    # Hive type strings are balanced and lower-case: Glue stores them as written
    assert participants.count("<") == participants.count(">")
    assert participants == participants.lower()


def test_a_schema_with_fields_that_collide_case_insensitively_is_refused() -> None:
    with pytest.raises(ValueError, match="queueid"):
        schema.struct(("queueId", schema.STRING), ("queueID", schema.STRING))
