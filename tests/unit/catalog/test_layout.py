"""The table's location, partition template and local glob are read off result_key, not restated."""

from __future__ import annotations

from pathlib import PurePosixPath

from catalog.layout import layout
from genesys_bridge.results import result_key


def test_the_partition_projection_template_names_the_folder_result_key_writes_to() -> None:
    conversation = {
        "conversationId": "0A5F8E21-9C43-4D7B-B612-3E8D4C7A9F10",
        "conversationStart": "2026-11-20T23:59:59.999-02:00",  # 2026-11-21 in UTC
    }
    key = result_key(conversation)

    template = layout().location_template("results-bucket")
    folder = template.replace("${" + layout().partition_column + "}", "2026-11-21")

    assert f"s3://results-bucket/{key}".startswith(folder)
    assert "/" not in f"s3://results-bucket/{key}".removeprefix(folder)
    assert layout().partition_column == "conversation_date"
    assert layout().location("results-bucket") == "s3://results-bucket/conversations/"
    assert PurePosixPath(key).match(layout().local_glob())
