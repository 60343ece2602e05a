"""Smoke test of a deployed stack: one end event through every box of the flow (docs/design.md).

A synthetic conversation id cannot land: Genesys has no details for it. So the always-on test proves
the path up to and including the processor's Genesys call, and checks the outcome the processor gives
a conversation Genesys does not know once its max age has passed: its buffer item FAILED with
`not_ready_max_age` and a work DLQ message with that reason. To get there within minutes instead of
`not_ready_max_age_minutes`, the test moves the item's `firstEventAt` back past the max age while the
message still waits out the work queue's settle delay.

With E2E_CONVERSATION_ID set to a real, ended conversation of the org, a second test sends an end
event for it and checks the landed object: FETCHED, at the key `layout.result_key` gives it, holding
that conversation.

Both tests clean up after themselves: the buffer item, the work DLQ message, the landed object version.
While the synthetic conversation sits in the work DLQ (seconds), the `WorkDeadLetterQueueNotEmpty`
alarm may fire and clear again.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from genesys_bridge import contracts, layout
from genesys_bridge.events import UUID_RE, parse_event
from stacks.config import EnvironmentConfig
from tests.e2e.stack import DeployedStack, as_received, synthetic_end_event

# How long the work DLQ message of a concluded conversation may take to show up.
DEAD_LETTER_SECONDS = 60


def test_the_smoke_event_is_one_the_rule_and_ingest_accept(e2e_config: EnvironmentConfig) -> None:
    # Given the environment the smoke test targets and a fresh conversation id
    conversation_id = str(uuid.uuid4())

    # When the smoke test builds its event
    entry = synthetic_end_event(conversation_id, e2e_config.event_source_prefix, datetime.now(UTC))
    parsed = parse_event(as_received(entry))

    # Then the rule matches its source, the environment subscribes to its topic, and ingest's own
    # validation reads the fresh id from it
    assert entry["Source"].startswith(e2e_config.event_source_prefix)
    assert parsed.topic in e2e_config.topics, (
        f"'{e2e_config.environment_name}' does not subscribe to {parsed.topic}: the rule would drop the "
        "smoke test's event"
    )
    assert parsed.conversation_id == conversation_id


def test_a_synthetic_conversation_reaches_the_processor_and_is_given_up(
    deployed_stack: DeployedStack,
) -> None:
    stack, config = deployed_stack, deployed_stack.config
    conversation_id = str(uuid.uuid4())
    dead_letters_taken = False
    try:
        # Given an end event for a conversation Genesys has never heard of, on the environment's bus
        sent_at = datetime.now(UTC)
        started = time.monotonic()
        stack.put_end_event(conversation_id, sent_at)

        # When ingest has buffered it and its first event is moved back past the max age
        item = stack.wait_for_item(conversation_id, stack.margin_seconds)
        assert item is not None, (
            f"no buffer item for {conversation_id} {stack.margin_seconds:.0f} s after the event: check the "
            "rule (source prefix, topics), the ingest function's log group, the quarantine queue, the rule "
            "DLQ and the failed-invocations queue"
        )
        assert item.status == contracts.STATUS_PENDING
        long_ago = sent_at - timedelta(minutes=config.not_ready_max_age_minutes, hours=1)
        assert stack.backdate_first_event(conversation_id, long_ago), (
            f"the item concluded before the processor could have seen it: {item}"
        )

        # Then within settle delay + batching window + margin, the pipe has queued it, the processor has
        # asked Genesys, and it is given up as never ready: item FAILED, one work DLQ message
        remaining = stack.settle_sla_seconds - (time.monotonic() - started)
        item = stack.wait_for_conclusion(conversation_id, remaining)
        concluded = item.status if item is not None else "no item"
        assert concluded == contracts.STATUS_FAILED, (
            f"not concluded {stack.settle_sla_seconds:.0f} s after the event (item: {item}): check the "
            "pipe's log group and DLQ, the work queue's depth and the processor's log group"
        )
        assert item is not None
        assert (item.error or "").startswith("not_ready_max_age"), (
            f"given up for another reason: {item.error}. not_fetched_max_age means the processor could not "
            "ask Genesys: check the credentials secret and the OAuth client's "
            'analytics:conversationDetail:view permission (docs/genesys-api.md, "OAuth client credentials")'
        )
        dead_letters = stack.take_dead_letters(conversation_id, DEAD_LETTER_SECONDS)
        dead_letters_taken = True
        assert [body.get("reason") for body in dead_letters] == ["not_ready_max_age"]
    finally:
        if not dead_letters_taken:
            stack.take_dead_letters(conversation_id, 15)
        stack.delete_item(conversation_id)


def test_a_real_conversation_lands_at_its_key(deployed_stack: DeployedStack) -> None:
    requested = os.environ.get("E2E_CONVERSATION_ID", "").strip()
    if not requested:
        pytest.skip("E2E_CONVERSATION_ID is not set: the full landing check needs a real, ended conversation")
    if not UUID_RE.match(requested):
        pytest.fail(f"E2E_CONVERSATION_ID={requested!r} is not a conversation id (a UUID)", pytrace=False)
    stack, conversation_id = deployed_stack, requested.lower()
    existing = stack.buffer.get(conversation_id)
    if existing is not None:
        pytest.fail(
            f"the buffer already holds {conversation_id} ({existing.status}): a new event would only touch "
            "it and nothing would be fetched. Delete the item or choose another conversation.",
            pytrace=False,
        )
    landed: tuple[str, str | None] | None = None
    try:
        # Given an end event for a real conversation that ended a while ago
        started = time.monotonic()
        stack.put_end_event(conversation_id, datetime.now(UTC))

        # When the settle delay, the batching window and the margin have passed
        item = stack.wait_for_conclusion(conversation_id, stack.settle_sla_seconds)
        elapsed = time.monotonic() - started

        # Then it is FETCHED, and its object holds that conversation at the key its details give it
        concluded = item.status if item is not None else "no item"
        assert concluded == contracts.STATUS_FETCHED, (
            f"not landed {elapsed:.0f} s after the event (item: {item}); PENDING means Genesys has no ended "
            "details for it yet (has it ended, in this org and region?)"
        )
        assert item is not None
        assert item.result_key is not None
        body, version_id, content_type = stack.read_object(item.result_key)
        landed = (item.result_key, version_id)
        assert str(body.get("conversationId", "")).lower() == conversation_id
        assert body.get("conversationEnd")
        assert layout.result_key(body) == item.result_key
        assert content_type == layout.CONVERSATIONS.content_type
    finally:
        if landed is not None:
            stack.delete_object_version(*landed)
        stack.delete_item(conversation_id)
