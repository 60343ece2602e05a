"""The work-queue body contract: `{"conversationId": "<uuid>"}`, the id matched as a whole."""

from __future__ import annotations

import json

import pytest

from genesys_bridge.work_queue import parse_body

CONVERSATION = "0a5f8e21-9c43-4d7b-b612-3e8d4c7a9f10"


def test_a_contract_body_yields_the_lower_case_id() -> None:
    assert parse_body(json.dumps({"conversationId": CONVERSATION.upper(), "extra": 1})) == CONVERSATION


@pytest.mark.parametrize(
    "conversation_id",
    [
        CONVERSATION + "\n",
        CONVERSATION + "\r\n",
        CONVERSATION + " ",
        " " + CONVERSATION,
        "\t" + CONVERSATION,
        CONVERSATION + "0",
        CONVERSATION.translate({ord(d): chr(0xFF10 + int(d)) for d in "0123456789"}),  # full-width digits
        CONVERSATION.replace("-", ""),
        "",
    ],
    ids=[
        "newline",
        "crlf",
        "trailing-space",
        "leading-space",
        "tab",
        "extra-digit",
        "full-width",
        "no-dash",
        "empty",
    ],
)
def test_an_id_with_anything_around_or_in_it_is_not_the_contract(conversation_id: str) -> None:
    # Given a body whose id is a UUID plus something (or other digits)
    body = json.dumps({"conversationId": conversation_id})
    # When it is parsed, then it is refused with the reason (and the processor dead-letters it)
    with pytest.raises(ValueError, match="not a UUID"):
        parse_body(body)
