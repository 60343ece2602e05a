"""The whole template of each environment, so any change to the infrastructure shows up in review."""

from __future__ import annotations

import json
import re
from typing import Any

from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from tests.infrastructure.conftest import SynthesizedEnvironment

# Asset hashes change with every edit of a handler or of the layer's package; the snapshot is about
# the infrastructure, so they are masked.
_ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")


def without_asset_hashes(template: dict[str, Any]) -> Any:
    return json.loads(_ASSET_HASH.sub("<asset-hash>", json.dumps(template)))


def test_the_template_matches_the_reviewed_snapshot(
    each_environment: SynthesizedEnvironment, snapshot: SnapshotAssertion
) -> None:
    masked = without_asset_hashes(each_environment.template_json)
    assert masked == snapshot(extension_class=JSONSnapshotExtension)
