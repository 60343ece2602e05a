"""The buffer table: one item per conversation, written so that its stream carries one INSERT each.

The pipe forwards only INSERT records to the work queue, so the table's write pattern *is* the
deduplication: the first event of a conversation creates the item, every later event (EventBridge
redelivery, the other end topics of the same conversation) only modifies it. A conversation that ends
again after the processor concluded its item is queued by ingest itself (`requeue` marks the item for
that new round; docs/design.md, "Buffer item"). Every write here is an UpdateItem: a PutItem would
replace the item with a partial one and lose what others wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from genesys_bridge import contracts
from genesys_bridge.contracts import format_timestamp

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# An item's error text is for people; keep it well inside DynamoDB's 400 KB item limit.
MAX_ERROR_CHARS = 2000

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_timestamp(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class BufferItem:
    conversation_id: str
    status: str
    first_event_at: datetime | None
    last_event_at: datetime | None
    expires_at: int | None
    result_key: str | None
    error: str | None
    concluded_at: datetime | None = None  # when it last became FETCHED or LEFT_OPEN
    requeues: int = 0  # fresh fetches ingest queued because the conversation ended again


def _is_conditional_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class BufferTable:
    """Reads and writes buffer items; the DynamoDB client is passed in (moto in tests)."""

    def __init__(
        self,
        dynamodb_client: DynamoDBClient,
        table_name: str,
        ttl_hours: int | None = None,
        clock: Clock = utc_now,
    ) -> None:
        """`ttl_hours` (the stack's buffer_ttl_hours) is needed only to record events: the processor,
        which only reads and marks items, has none to give."""
        self._client = dynamodb_client
        self._table = table_name
        self._ttl = None if ttl_hours is None else timedelta(hours=ttl_hours)
        self._clock = clock

    @property
    def table_name(self) -> str:
        return self._table

    def record_event(self, conversation_id: str, event_at: datetime | None = None) -> bool:
        """Record one event of the conversation in a single write; True if it created the item."""
        return self.record_event_and_get_previous(conversation_id, event_at) is None

    def record_event_and_get_previous(
        self, conversation_id: str, event_at: datetime | None = None
    ) -> BufferItem | None:
        """Record one event of the conversation in a single write; the item as it was before (None: this
        event created it).

        `event_at` is when the bridge saw the event (default: now). It is not the event's own
        timestamp on purpose: Genesys may redeliver for days, and the not-ready max age must count
        from when the bridge first heard of the conversation.

        if_not_exists keeps the first event's status, firstEventAt and expiresAt, so a later event
        (even one arriving after the item was FETCHED) changes lastEventAt only: a MODIFY, never a
        second INSERT while the item lives.
        """
        if self._ttl is None:
            raise ValueError("this BufferTable was built without ttl_hours, which recording an event needs")
        moment = event_at or self._clock()
        expires_at = int((moment + self._ttl).timestamp())
        response = self._client.update_item(
            TableName=self._table,
            Key={contracts.ATTR_CONVERSATION_ID: {"S": conversation_id}},
            UpdateExpression=(
                "SET #status = if_not_exists(#status, :pending), "
                "#first = if_not_exists(#first, :now), "
                "#expires = if_not_exists(#expires, :expires), "
                "#last = :now"
            ),
            ExpressionAttributeNames={
                "#status": contracts.ATTR_STATUS,
                "#first": contracts.ATTR_FIRST_EVENT_AT,
                "#expires": contracts.ATTR_EXPIRES_AT,
                "#last": contracts.ATTR_LAST_EVENT_AT,
            },
            ExpressionAttributeValues={
                ":pending": {"S": contracts.STATUS_PENDING},
                ":now": {"S": format_timestamp(moment)},
                ":expires": {"N": str(expires_at)},
            },
            # The old image tells, within the same single write, whether the item existed before.
            ReturnValues="ALL_OLD",
        )
        previous = response.get("Attributes")
        return _buffer_item(conversation_id, previous) if previous else None

    def requeue(self, conversation_id: str, concluded_at: datetime, event_at: datetime | None = None) -> bool:
        """Start a new round of work on a concluded item whose conversation ended again: PENDING, with
        firstEventAt (which the processor's max age and LandingLatency count from) and expiresAt starting
        again at `event_at`, and `requeues` counted. False if the item is gone, not concluded, or
        concluded again since `concluded_at` (someone else requeued it, or the processor moved on).

        The caller has sent the work message already: a failed write after it only means that the
        next late event sends another one, which the processor lands idempotently.
        """
        if self._ttl is None:
            raise ValueError("this BufferTable was built without ttl_hours, which requeueing an item needs")
        moment = event_at or self._clock()
        try:
            self._client.update_item(
                TableName=self._table,
                Key={contracts.ATTR_CONVERSATION_ID: {"S": conversation_id}},
                UpdateExpression=(
                    "SET #status = :pending, #first = :now, #expires = :expires ADD #requeues :one"
                ),
                ConditionExpression=(
                    "attribute_exists(#id) AND #status IN (:fetched, :left_open) AND #concluded = :concluded"
                ),
                ExpressionAttributeNames={
                    "#id": contracts.ATTR_CONVERSATION_ID,
                    "#status": contracts.ATTR_STATUS,
                    "#first": contracts.ATTR_FIRST_EVENT_AT,
                    "#expires": contracts.ATTR_EXPIRES_AT,
                    "#requeues": contracts.ATTR_REQUEUES,
                    "#concluded": contracts.ATTR_CONCLUDED_AT,
                },
                ExpressionAttributeValues={
                    ":pending": {"S": contracts.STATUS_PENDING},
                    ":fetched": {"S": contracts.STATUS_FETCHED},
                    ":left_open": {"S": contracts.STATUS_LEFT_OPEN},
                    ":now": {"S": format_timestamp(moment)},
                    ":expires": {"N": str(int((moment + self._ttl).timestamp()))},
                    ":one": {"N": "1"},
                    ":concluded": {"S": format_timestamp(concluded_at)},
                },
            )
        except ClientError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True

    def mark_fetched(self, conversation_id: str, result_key: str) -> BufferItem | None:
        """Mark the item FETCHED with where its details landed; the item as marked, or None if it no
        longer exists.

        The condition matters: an UpdateItem on a missing key (the item's TTL ran out) would create
        a new, partial item, whose stream INSERT the pipe would turn into yet another fetch. The item
        comes back from the same write (ReturnValues ALL_NEW), so the caller learns firstEventAt (for
        the landing latency) without a second read.
        """
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key={contracts.ATTR_CONVERSATION_ID: {"S": conversation_id}},
                UpdateExpression="SET #status = :fetched, #key = :key, #concluded = :now REMOVE #error",
                ConditionExpression="attribute_exists(#id)",
                ExpressionAttributeNames={
                    "#id": contracts.ATTR_CONVERSATION_ID,
                    "#status": contracts.ATTR_STATUS,
                    "#key": contracts.ATTR_RESULT_KEY,
                    "#concluded": contracts.ATTR_CONCLUDED_AT,
                    "#error": contracts.ATTR_ERROR,
                },
                ExpressionAttributeValues={
                    ":fetched": {"S": contracts.STATUS_FETCHED},
                    ":key": {"S": result_key},
                    ":now": {"S": format_timestamp(self._clock())},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _is_conditional_failure(error):
                return None
            raise
        return _buffer_item(conversation_id, response.get("Attributes") or {})

    def mark_failed(self, conversation_id: str, reason: str) -> bool:
        """Mark the item FAILED with the reason; False if it is gone or already FETCHED.

        A FETCHED item keeps its status: its details are in S3, whatever a later message says.
        """
        return self._update_unless_fetched(
            conversation_id,
            "SET #status = :status, #error = :error",
            {"#error": contracts.ATTR_ERROR},
            {":status": {"S": contracts.STATUS_FAILED}, ":error": {"S": reason[:MAX_ERROR_CHARS]}},
        )

    def mark_left_open(self, conversation_id: str) -> bool:
        """Mark the item LEFT_OPEN (known to analytics, still open at the max age); False if it is gone or
        already FETCHED. Its next end event starts a new round (`requeue`); until then the audit and
        finalize find the conversation. The condition keeps a missing item from being recreated."""
        return self._update_unless_fetched(
            conversation_id,
            "SET #status = :status, #concluded = :now REMOVE #error",
            {"#concluded": contracts.ATTR_CONCLUDED_AT, "#error": contracts.ATTR_ERROR},
            {":status": {"S": contracts.STATUS_LEFT_OPEN}, ":now": {"S": format_timestamp(self._clock())}},
        )

    def _update_unless_fetched(
        self, conversation_id: str, update: str, names: dict[str, str], values: dict[str, Any]
    ) -> bool:
        """Apply `update` to an existing item that is not FETCHED; False if it is gone or FETCHED."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key={contracts.ATTR_CONVERSATION_ID: {"S": conversation_id}},
                UpdateExpression=update,
                ConditionExpression="attribute_exists(#id) AND #status <> :fetched",
                ExpressionAttributeNames={
                    "#id": contracts.ATTR_CONVERSATION_ID,
                    "#status": contracts.ATTR_STATUS,
                    **names,
                },
                ExpressionAttributeValues={":fetched": {"S": contracts.STATUS_FETCHED}, **values},
            )
        except ClientError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True

    def get(self, conversation_id: str) -> BufferItem | None:
        response = self._client.get_item(
            TableName=self._table,
            Key={contracts.ATTR_CONVERSATION_ID: {"S": conversation_id}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _buffer_item(conversation_id, item) if item else None


def _buffer_item(conversation_id: str, item: Mapping[str, Any]) -> BufferItem:
    """A BufferItem from DynamoDB's attribute map of the item."""

    def text(name: str) -> str | None:
        value = item.get(name)
        return value.get("S") if value else None

    first, last, concluded, expires, requeues = (
        text(contracts.ATTR_FIRST_EVENT_AT),
        text(contracts.ATTR_LAST_EVENT_AT),
        text(contracts.ATTR_CONCLUDED_AT),
        item.get(contracts.ATTR_EXPIRES_AT),
        item.get(contracts.ATTR_REQUEUES),
    )
    return BufferItem(
        conversation_id=conversation_id,
        status=text(contracts.ATTR_STATUS) or "",
        first_event_at=parse_timestamp(first) if first else None,
        last_event_at=parse_timestamp(last) if last else None,
        expires_at=int(expires["N"]) if expires and "N" in expires else None,
        result_key=text(contracts.ATTR_RESULT_KEY),
        error=text(contracts.ATTR_ERROR),
        concluded_at=parse_timestamp(concluded) if concluded else None,
        requeues=int(requeues["N"]) if requeues and "N" in requeues else 0,
    )
