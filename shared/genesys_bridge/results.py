"""Where and how a conversation's details land in the results bucket.

One object per conversation at a key derived only from the conversation itself, so writing the same
conversation again (a redelivered message, a retried batch) overwrites the same object: landing is
idempotent, which is what makes delivery effectively exactly-once.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import TYPE_CHECKING, Any

from genesys_bridge import contracts
from genesys_bridge.buffer import parse_timestamp
from genesys_bridge.events import is_uuid

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class InvalidConversation(ValueError):
    """The details lack what the key is built from; retrying the same data will not help."""


def result_key(conversation: dict[str, Any]) -> str:
    """conversations/conversation_date=<YYYY-MM-DD of conversationStart in UTC>/<conversationId>.json"""
    conversation_id = conversation.get("conversationId")
    if not isinstance(conversation_id, str) or not is_uuid(conversation_id):
        # The id becomes part of an S3 key: anything but a UUID could escape the prefix.
        raise InvalidConversation(f"conversationId {conversation_id!r} is not a UUID")
    start = conversation.get("conversationStart")
    if not isinstance(start, str):
        raise InvalidConversation(f"conversation {conversation_id} has no conversationStart")
    try:
        started = parse_timestamp(start)
    except ValueError:
        raise InvalidConversation(
            f"conversation {conversation_id} has an unreadable conversationStart {start!r}"
        ) from None
    day = started.astimezone(UTC).date().isoformat()
    return f"{contracts.RESULTS_PREFIX}conversation_date={day}/{conversation_id.lower()}.json"


def serialize(conversation: dict[str, Any]) -> bytes:
    """The conversation as one line of compact JSON (JSON Lines, which Athena's JSON SerDe reads).

    Keys are sorted: the same details make the same bytes whichever endpoint returned them (the multi-get
    and a details job need not order keys alike), so finalization can compare an object's ETag with the
    MD5 of these bytes instead of reading it back (docs/completeness.md).
    """
    data = json.dumps(conversation, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return (data + "\n").encode("utf-8")


class ResultsWriter:
    """Puts conversation details into the results bucket; the S3 client is passed in."""

    def __init__(self, s3_client: S3Client, bucket: str) -> None:
        self._s3 = s3_client
        self._bucket = bucket

    @property
    def bucket(self) -> str:
        return self._bucket

    def put(self, conversation: dict[str, Any]) -> str:
        """Write the conversation and return its key."""
        key = result_key(conversation)
        self._s3.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=serialize(conversation),
            ContentType="application/json",
        )
        return key
