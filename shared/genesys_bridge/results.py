"""Lands a conversation's details in the results bucket, where and how genesys_bridge.layout says.

One object per conversation at a key derived only from the conversation itself, so writing the same
conversation again (a redelivered message, a retried batch) overwrites the same object: landing is
idempotent, which is what makes delivery effectively exactly-once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from genesys_bridge import layout

# The key and the bytes are the layout's; imported from here by older callers.
from genesys_bridge.layout import InvalidConversation, result_key, serialize

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["InvalidConversation", "ResultsWriter", "result_key", "serialize"]


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
            ContentType=layout.CONVERSATIONS.content_type,
        )
        return key
