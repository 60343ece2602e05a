"""Asking Genesys about a batch of conversation ids: chunks of ids_per_request, and 400s and 404s bisected
down to the ids they are about. No AWS here: the processor decides what each answer means.

Genesys may answer a multi-get that names ids it does not know yet either by leaving them out or with a
404 for the whole request (docs/genesys-api.md, "Multi-get"): both are handled, so that a 404 delays the
unknown ids only, never the known ones asked with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from genesys_bridge.genesys.errors import GenesysApiError, GenesysAuthError, GenesysError, RetryLater

# A 400 for a chunk: some id in it is unacceptable to Genesys (bisected until it stands alone: rejected).
BAD_REQUEST = 400
# A 404 for a chunk: some id in it is not in analytics (yet) (bisected until it stands alone: answered,
# absent, so the processor treats it as not ready).
NOT_FOUND = 404


class ConversationSource(Protocol):
    """The part of genesys_bridge.genesys.GenesysClient the processor uses."""

    def get_conversation_details(
        self, ids: Sequence[str], deadline: float | None = None
    ) -> list[dict[str, Any]]: ...


@dataclass
class FetchResult:
    """What Genesys said about each id of the batch."""

    conversations: dict[str, dict[str, Any]] = field(default_factory=dict)  # returned, ended or not
    # in a chunk Genesys answered, or 404ed alone (absent from `conversations` = not known yet)
    answered: set[str] = field(default_factory=set)
    rejected: dict[str, GenesysApiError] = field(default_factory=dict)  # a 400 isolated to this id
    deferred: dict[str, GenesysError] = field(default_factory=dict)  # not asked successfully this time


def _chunks(ids: Sequence[str], size: int) -> list[list[str]]:
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


class ConversationFetcher:
    """Fetches conversation details for a batch of ids through a ConversationSource."""

    def __init__(self, genesys: ConversationSource, ids_per_request: int) -> None:
        if ids_per_request < 1:
            raise ValueError(f"ids_per_request must be at least 1, got {ids_per_request}")
        self._genesys = genesys
        self._ids_per_request = ids_per_request

    def fetch(self, ids: Sequence[str], deadline: float | None) -> FetchResult:
        """Ask Genesys about `ids`, one chunk of ids_per_request per request.

        A RetryLater stops all further requests (more would meet the same limit or outage): every id
        not yet answered is deferred. A 400 means some id in the chunk is unacceptable to Genesys: the
        chunk is split in halves until the ids it rejects alone are found, so the rest still land. A 404
        is bisected the same way; an id 404ed alone is answered and absent ("not in analytics yet", not
        rejected). GenesysAuthError (refused credentials) propagates: it is about no conversation.
        """
        result = FetchResult()
        try:
            for chunk in _chunks(ids, self._ids_per_request):
                self._fetch_chunk(chunk, deadline, result)
        except RetryLater as retry_later:
            for conversation_id in ids:
                if not (
                    conversation_id in result.answered
                    or conversation_id in result.rejected
                    or conversation_id in result.deferred
                ):
                    result.deferred[conversation_id] = retry_later
        return result

    def _fetch_chunk(self, chunk: list[str], deadline: float | None, result: FetchResult) -> None:
        try:
            conversations = self._genesys.get_conversation_details(chunk, deadline=deadline)
        except (RetryLater, GenesysAuthError):
            # Not about these ids: RetryLater ends this batch's requests; refused credentials fail the
            # invocation, so that an alarm says so instead of every conversation being blamed.
            raise
        except GenesysApiError as error:
            if error.status not in (BAD_REQUEST, NOT_FOUND):
                # Not about particular ids (a permission, a server error): the messages come back later.
                for conversation_id in chunk:
                    result.deferred[conversation_id] = error
                return
            if len(chunk) == 1:
                if error.status == NOT_FOUND:
                    result.answered.add(chunk[0])  # not in analytics yet: absent, not ready
                else:
                    result.rejected[chunk[0]] = error
                return
            middle = len(chunk) // 2
            self._fetch_chunk(chunk[:middle], deadline, result)
            self._fetch_chunk(chunk[middle:], deadline, result)
            return
        except GenesysError as error:
            for conversation_id in chunk:
                result.deferred[conversation_id] = error
            return
        asked = set(chunk)
        result.answered.update(chunk)
        for conversation in conversations:
            returned_id = conversation.get("conversationId")
            if isinstance(returned_id, str) and returned_id.lower() in asked:
                result.conversations[returned_id.lower()] = conversation
