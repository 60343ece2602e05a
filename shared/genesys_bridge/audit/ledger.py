"""One results page of the day's details job, judged: each conversation's outcome and what to land.

A conversation is judged by its key (layout.conversation_key: its start day and id) and its landed bytes
(bodies.landed_bytes): missing from the day's inventory -> land it; landed with another ETag -> changed
(finalize re-lands it under the same key); landed with the same ETag -> unchanged. Nothing is read back.
The page's ledger (its outcomes) is kept under `ledger_key` until the report step merges the ledgers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import Any

from genesys_bridge import contracts, layout
from genesys_bridge.audit.bodies import is_ended, landed_bytes
from genesys_bridge.audit.model import AuditMode, AuditState, Outcome
from genesys_bridge.audit.store import Landing, content_md5

logger = logging.getLogger(__name__)


def ledger_key(state: AuditState, page: int) -> str:
    return f"{state.work_prefix}attempt-{state.job_attempt}/page-{page:06d}.json"


def judge_page(
    conversations: list[dict[str, Any]],
    etags: Mapping[str, str],
    *,
    day: date,
    mode: AuditMode,
    page: int,
    fetched_at: str,
) -> tuple[dict[str, Any], list[Landing]]:
    """Decide each conversation's outcome; return the page's ledger and the landings it calls for."""
    outcomes: dict[str, str] = {}
    landings: list[Landing] = []
    other_days = 0
    unlandable: list[str] = []
    for conversation in conversations:
        try:
            landing = layout.conversation_key(conversation)
        except layout.InvalidConversation as error:
            logger.warning("details job returned a conversation that cannot be landed: %s", error)
            unlandable.append(str(conversation.get("conversationId")))
            continue
        if landing.day != day:
            other_days += 1  # startOfDayIntervalMatching should prevent it; never land another day
            continue
        conversation_id = landing.conversation_id
        if conversation_id in outcomes:
            continue  # the same conversation twice on a page: judged once
        data = landed_bytes(conversation)
        landed_etag = etags.get(conversation_id)
        if landed_etag is None:
            if mode is AuditMode.AUDIT and not is_ended(conversation):
                outcome = Outcome.OPEN_NOT_LANDED
            else:
                outcome = Outcome.MISSING_LANDED
        elif landed_etag == content_md5(data):
            outcome = Outcome.UNCHANGED
        else:
            outcome = Outcome.CHANGED_RELANDED if mode is AuditMode.FINALIZE else Outcome.DIFFERING
        if outcome in (Outcome.MISSING_LANDED, Outcome.CHANGED_RELANDED):
            landings.append(Landing(landing.key, data, contracts.SOURCE_DETAILS_JOB, fetched_at))
        outcomes[conversation_id] = outcome
    ledger = {"page": page, "outcomes": outcomes, "other_days": other_days, "unlandable": unlandable}
    return ledger, landings
