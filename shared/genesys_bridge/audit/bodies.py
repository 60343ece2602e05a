"""Which body a key holds: one documented shape, whichever endpoint it came from (docs/completeness.md,
"One body per key").

The live path's multi-get returns AnalyticsConversationWithoutAttributes; details jobs return
AnalyticsConversation, the same document plus each participant's `attributes` (values truncated at 1,024
characters; docs/genesys-api.md, "Jobs"). The audit lands the job's body without those
attributes, so every key holds the multi-get's shape and identical data serializes to identical bytes:
that is what lets finalization compare by ETag alone.
"""

from __future__ import annotations

from typing import Any

from genesys_bridge.layout import serialize


def landed_form(conversation: dict[str, Any]) -> dict[str, Any]:
    """The conversation as the bridge lands it: participants without `attributes`; nothing else changes.

    A shallow copy per participant, so the caller's dict is never modified.
    """
    participants = conversation.get("participants")
    if not isinstance(participants, list) or not any(
        isinstance(p, dict) and "attributes" in p for p in participants
    ):
        return conversation
    return {
        **conversation,
        "participants": [
            {k: v for k, v in p.items() if k != "attributes"} if isinstance(p, dict) else p
            for p in participants
        ],
    }


def landed_bytes(conversation: dict[str, Any]) -> bytes:
    """The exact bytes a key holds for this conversation (the live path writes the same serialization)."""
    return serialize(landed_form(conversation))


def is_ended(conversation: dict[str, Any]) -> bool:
    return isinstance(conversation.get("conversationEnd"), str)
