"""The SQL docs/query.md shows runs as printed (locally, through the same translation as `make query`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from catalog import local
from tests.unit.catalog.conftest import land, simulator_bodies

DOC = Path(__file__).resolve().parents[3] / "docs" / "query.md"
EXAMPLES = re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def test_the_page_shows_three_example_questions() -> None:
    assert len(EXAMPLES) == 3


@pytest.mark.parametrize("sql", EXAMPLES)
def test_each_example_runs_against_the_views(tmp_path: Path, sql: str) -> None:
    land(tmp_path, simulator_bodies(6))

    result = local.run_query(tmp_path, sql)

    assert result.columns
