"""One results page of the day's details job, judged: each conversation's outcome and what to land.

A conversation is judged by its key (layout.conversation_key: its start day and id) and its landed bytes
(bodies.landed_bytes): missing from the day's inventory -> land it; landed with another ETag -> changed
(finalize re-lands it under the same key), unless Genesys shows it open again (reopened: the landed
body is kept, since an unended body never replaces a landed one); landed with the same ETag ->
unchanged. Nothing is read back. An entry that is not a JSON object is counted and named, never landed.
The page's ledger (its outcomes) is kept under `ledger_key` until the report step merges the ledgers.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import date
from typing import Any

from genesys_bridge import contracts, layout
from genesys_bridge.audit.bodies import is_ended, landed_bytes
from genesys_bridge.audit.model import NOT_IN_GENESYS_SAMPLE, AuditMode, AuditState, Outcome, capped
from genesys_bridge.audit.store import Landing, content_md5

logger = logging.getLogger(__name__)

_JSON_TYPES = {
    type(None): "null",
    bool: "boolean",
    int: "number",
    float: "number",
    str: "string",
    list: "array",
}


def ledger_key(state: AuditState, page: int) -> str:
    return f"{state.work_prefix}attempt-{state.job_attempt}/page-{page:06d}.json"


def cursor_key(state: AuditState, cursor: str) -> str:
    """Where the job attempt records which page gave it `cursor` (beside the ledgers, not among them)."""
    digest = hashlib.sha256(cursor.encode("utf-8")).hexdigest()
    return f"{state.work_prefix}cursors/attempt-{state.job_attempt}/{digest}.json"


def describe_entry(position: str, value: Any) -> str:
    """A name for something that is not a conversation, e.g. `conversations[3]: string "abc"`, capped."""
    kind = _JSON_TYPES.get(type(value), type(value).__name__)
    try:
        text = json.dumps(value, ensure_ascii=False)[: 2 * NOT_IN_GENESYS_SAMPLE]
    except (TypeError, ValueError):  # pragma: no cover - a parsed JSON page holds JSON values only
        text = "?"
    return capped(f"{position}: {kind} {text}")


def page_entries(body: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The page's conversations, and the names of its entries that are not JSON objects (a string or
    null among them, or `conversations` itself not a list)."""
    entries = body.get("conversations")
    if entries is None:
        return [], []
    if not isinstance(entries, list):
        return [], [describe_entry("conversations", entries)]
    conversations = [entry for entry in entries if isinstance(entry, dict)]
    strays = [
        describe_entry(f"conversations[{index}]", entry)
        for index, entry in enumerate(entries)
        if not isinstance(entry, dict)
    ]
    return conversations, strays


def judge_page(
    body: Mapping[str, Any],
    etags: Mapping[str, str],
    *,
    day: date,
    mode: AuditMode,
    page: int,
    fetched_at: str,
) -> tuple[dict[str, Any], list[Landing]]:
    """Decide each conversation's outcome; return the page's ledger and the landings it calls for."""
    conversations, not_objects = page_entries(body)
    if not_objects:
        logger.warning("results page %d: %d entries are not objects, skipped: %s", page, len(not_objects),
                       not_objects[:3])  # fmt: skip
    outcomes: dict[str, str] = {}
    landings: list[Landing] = []
    other_days = 0
    unlandable: list[str] = []
    for conversation in conversations:
        try:
            landing = layout.conversation_key(conversation)
        except layout.InvalidConversation as error:
            logger.warning("details job returned a conversation that cannot be landed: %s", capped(error))
            unlandable.append(capped(conversation.get("conversationId")))
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
        elif not is_ended(conversation):
            outcome = Outcome.REOPENED_KEPT
        else:
            outcome = Outcome.CHANGED_RELANDED if mode is AuditMode.FINALIZE else Outcome.DIFFERING
        if outcome in (Outcome.MISSING_LANDED, Outcome.CHANGED_RELANDED):
            landings.append(Landing(landing.key, data, contracts.SOURCE_DETAILS_JOB, fetched_at))
        outcomes[conversation_id] = outcome
    ledger = {
        "page": page,
        "outcomes": outcomes,
        "other_days": other_days,
        # counted whole, named up to the report's sample size: a page full of them stays a small object
        "unlandable": unlandable[:NOT_IN_GENESYS_SAMPLE],
        "unlandable_count": len(unlandable),
        "not_objects": not_objects[:NOT_IN_GENESYS_SAMPLE],
        "not_objects_count": len(not_objects),
    }
    return ledger, landings
