"""The SQL docs/query.md and the README show runs as printed (locally, through the same translation as
`make query`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from catalog import local
from tests.unit.catalog.conftest import land, simulator_bodies

ROOT = Path(__file__).resolve().parents[3]


def _sql_blocks(page: Path) -> list[str]:
    return re.findall(r"```sql\n(.*?)```", page.read_text(encoding="utf-8"), re.DOTALL)


EXAMPLES = _sql_blocks(ROOT / "docs" / "query.md")
README_EXAMPLES = _sql_blocks(ROOT / "README.md")


def test_the_page_shows_three_example_questions() -> None:
    assert len(EXAMPLES) == 3


def test_the_readme_shows_the_pages_first_question() -> None:
    # Given the README's SQL blocks, then they are the page's first (run below), so neither drifts
    readme_sql = list(README_EXAMPLES)
    assert readme_sql == EXAMPLES[:1]


@pytest.mark.parametrize("sql", EXAMPLES)
def test_each_example_runs_against_the_views(tmp_path: Path, sql: str) -> None:
    land(tmp_path, simulator_bodies(6))

    result = local.run_query(tmp_path, sql)

    assert result.columns
