"""The work queue as the processor uses it: the message body contract, pushing a message's visibility
out (the backoff) and dead-lettering with a reason. The SQS client is passed in (moto in tests).

A work message body is `{"conversationId": "<uuid>"}` (contracts.PIPE_INPUT_TEMPLATE writes it); a DLQ
message is `{"reason", "message", "conversationId", "body"}` (docs/design.md, "Contracts").
"""

from __future__ import annotations

import json
import logging
from enum import StrEnum
from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from genesys_bridge.events import is_uuid

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

logger = logging.getLogger(__name__)


class FailureReason(StrEnum):
    """Why a message was dead-lettered (and its item marked FAILED, when there is an item)."""

    INVALID_BODY = "invalid_body"
    NOT_READY_MAX_AGE = "not_ready_max_age"
    GENESYS_REJECTED = "genesys_rejected"
    INVALID_CONVERSATION = "invalid_conversation"
    NOT_FETCHED_MAX_AGE = "not_fetched_max_age"


def work_body(conversation_id: str) -> str:
    """The work-queue body for a conversation, as the pipe's input template renders it."""
    return json.dumps({"conversationId": conversation_id})


def parse_body(body: str) -> str:
    """The conversation id of a work-queue body `{"conversationId": "<uuid>"}` (extra fields allowed).

    Raises ValueError with the reason when the body is not the contract.
    """
    try:
        payload = json.loads(body)
    except (TypeError, ValueError):
        raise ValueError("body is not JSON") from None
    if not isinstance(payload, dict):
        raise ValueError("body is not a JSON object")
    conversation_id = payload.get("conversationId")
    if not isinstance(conversation_id, str):
        raise ValueError("conversationId is missing or not a string")
    if not is_uuid(conversation_id):
        raise ValueError("conversationId is not a UUID")
    return conversation_id.lower()


class WorkQueue:
    """The work queue and its DLQ, for one processor: visibility changes and dead-letter sends."""

    def __init__(self, sqs_client: SQSClient, queue_url: str, dlq_url: str) -> None:
        self._sqs = sqs_client
        self.queue_url = queue_url
        self.dlq_url = dlq_url

    def set_visibility(self, record: SQSRecord, seconds: int) -> bool:
        """When the message comes back; False if SQS refused, which only loses the backoff (the queue's
        own visibility timeout applies), never the message."""
        try:
            self._sqs.change_message_visibility(
                QueueUrl=self.queue_url,
                ReceiptHandle=record.receipt_handle,
                VisibilityTimeout=seconds,
            )
        except Exception:
            logger.warning(
                "could not push visibility out; the queue's own timeout applies",
                extra={"message_id": record.message_id},
                exc_info=True,
            )
            return False
        return True

    def dead_letter(
        self, record: SQSRecord, reason: FailureReason, message: str, conversation_id: str | None
    ) -> None:
        """Send the message to the DLQ with its reason; raises if SQS refuses (the message is retried)."""
        body = {
            "reason": reason.value,
            "message": message,
            "conversationId": conversation_id,
            "body": record.body,
        }
        self._sqs.send_message(
            QueueUrl=self.dlq_url,
            MessageBody=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        )
        logger.warning(
            "message dead-lettered",
            extra={"reason": reason.value, "detail": message, "conversation_id": conversation_id},
        )
