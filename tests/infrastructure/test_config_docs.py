"""docs/configuration.md is generated from the config model (stacks/config_docs.py) and kept up to date."""

from __future__ import annotations

from pathlib import Path

from stacks.config import EnvironmentConfig
from stacks.config_docs import NOT_KEYS, render
from stacks.config_lifecycle import ResultsLifecycle

PAGE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_the_committed_configuration_page_is_what_the_model_generates() -> None:
    # Regenerate with: python -m stacks.config_docs > docs/configuration.md
    assert PAGE.read_text(encoding="utf-8") == render()


def test_every_key_is_described_and_has_a_row() -> None:
    page = render()
    for model, prefix in ((EnvironmentConfig, ""), (ResultsLifecycle, "results_lifecycle.")):
        for name, field in model.model_fields.items():
            if name in NOT_KEYS:
                continue
            assert field.description, name
            assert f"| `{prefix}{name}` | {field.description} |" in page, name
