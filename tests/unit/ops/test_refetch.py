"""`refetch`: conversation ids to the work queue, every id checked before anything is sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.commands import ids_from_file, parse_ids
from ops.errors import OpsError
from tests.unit.ops.conftest import Deployed

A = "0a5f8e21-9c43-4d7b-b612-3e8d4c7a9f10"
B = "1b6f8e21-9c43-4d7b-b612-3e8d4c7a9f11"


def test_ids_go_to_the_work_queue_once_each_in_the_processors_body_shape(deployed: Deployed) -> None:
    # Given two ids, one of them twice and in upper case
    ids = parse_ids([("argument 1", A), ("argument 2", B.upper()), ("argument 3", B)])

    # When they are refetched
    result = deployed.ops.refetch(ids)

    # Then each is one work message {"conversationId": <lower-case id>}
    assert result == {"queue": "work", "sent": 2}
    assert sorted(body["conversationId"] for body in deployed.bodies("work")) == sorted([A, B])


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(A + "\n" + B, id="newline-inside"),
        pytest.param(A + "0", id="too-long"),
        pytest.param(A[:-1], id="too-short"),
        pytest.param(A.replace("-", ""), id="no-hyphens"),
        pytest.param(f"{A},{B}", id="two-in-one"),
        pytest.param("", id="empty"),
    ],
)
def test_anything_but_a_whole_uuid_is_refused_and_nothing_is_sent(deployed: Deployed, bad: str) -> None:
    # Given a good id and a bad one
    # When they are parsed, Then the error names the bad one and where it came from
    with pytest.raises(OpsError, match="argument 2"):
        parse_ids([("argument 1", A), ("argument 2", bad)])
    # and nothing reached the work queue
    assert deployed.bodies("work") == []


def test_a_file_of_ids_skips_blank_lines_and_comments_and_names_bad_lines(tmp_path: Path) -> None:
    # Given a file with comments, blank lines, two ids and a typo on line 5
    path = tmp_path / "ids.txt"
    path.write_text(f"# from the audit\n{A}\n\n  {B}  \nnot-an-id\n", encoding="utf-8")

    # When it is read and parsed, Then the typo is named by file and line
    with pytest.raises(OpsError, match=r"ids\.txt:5: 'not-an-id'"):
        parse_ids(ids_from_file(path))
    # and without the typo the two ids come out in order
    path.write_text(f"# from the audit\n{A}\n\n  {B}  \n", encoding="utf-8")
    assert parse_ids(ids_from_file(path)) == [A, B]


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OpsError, match=r"cannot read .*missing\.txt"):
        ids_from_file(tmp_path / "missing.txt")


def test_a_delay_outside_what_sqs_allows_is_refused(deployed: Deployed) -> None:
    with pytest.raises(OpsError, match="0 to 900"):
        deployed.ops.refetch([A], delay_seconds=901)
    assert deployed.bodies("work") == []
