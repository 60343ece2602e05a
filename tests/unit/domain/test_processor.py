"""The processor service: fetch once per batch, land ended conversations, back off, give up loudly."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses
from botocore.exceptions import ClientError

from genesys_bridge import contracts
from genesys_bridge.buffer import BufferTable
from genesys_bridge.genesys import (
    GenesysApiError,
    GenesysAuthError,
    GenesysClient,
    GenesysStats,
    GenesysUnavailable,
    RateLimited,
)
from genesys_bridge.layout import canonical_form, result_key
from genesys_bridge.metrics import MetricName, RecordingMetrics
from genesys_bridge.processor import ProcessorConfig, ProcessorService, invocation_deadline
from genesys_bridge.results import ResultsWriter
from tests.unit.conftest import DETAILS_URL, TOKEN_URL, serve_details
from tests.unit.domain.builders import (
    BUCKET,
    TABLE,
    Aws,
    capture_calls,
    capture_errors,
    conversation,
    delivered,
    new_ids,
    sqs_event,
    sqs_record,
    work_message,
)

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
# The dev environment's values (stacks/config.py defaults); tests override what they are about.
CONFIG: dict[str, Any] = {
    "ids_per_request": 100,
    "not_ready_max_age": timedelta(minutes=240),
    "settle_max": timedelta(minutes=60),
    "retry_base_seconds": 60,
    "retry_max_seconds": 900,
    "wrapup_estimate": timedelta(seconds=180),
    "retry_grid_seconds": 60,
}


class FakeGenesys:
    """Stands in for GenesysClient: answers from `known`, refuses `rejected` ids with a 400 (as Genesys
    does for the whole request), and raises the queued errors on the given call numbers. With
    `unknown_is_404`, a request naming an id it does not know is answered 404 as a whole (instead of
    leaving the id out)."""

    def __init__(
        self,
        known: Iterable[dict[str, Any]] = (),
        *,
        rejected: Iterable[str] = (),
        errors: dict[int, Exception] | None = None,
        unknown_is_404: bool = False,
    ) -> None:
        self.known = {c["conversationId"]: c for c in known}
        self.rejected = set(rejected)
        self.errors = errors or {}
        self.unknown_is_404 = unknown_is_404
        self.calls: list[list[str]] = []
        self.stats = GenesysStats()

    def get_conversation_details(
        self, ids: Iterable[str], deadline: float | None = None
    ) -> list[dict[str, Any]]:
        chunk = list(ids)
        self.calls.append(chunk)
        self.stats.increment("requests")
        error = self.errors.get(len(self.calls))
        if error is not None:
            raise error
        if self.rejected & set(chunk):
            self.stats.increment("errors")
            raise GenesysApiError(400, "bad.request", "Invalid conversation id", "corr-1")
        if self.unknown_is_404 and not set(chunk) <= set(self.known):
            self.stats.increment("not_found")  # as the client counts a 404: not an error
            raise GenesysApiError(404, "not.found", "Conversations not found", "corr-2")
        return [self.known[i] for i in chunk if i in self.known]


def make_service(
    aws: Aws,
    genesys: Any,
    metrics: RecordingMetrics | None = None,
    *,
    buffer: BufferTable | None = None,
    results: ResultsWriter | None = None,
    now: datetime = NOW,
    **config: Any,
) -> ProcessorService:
    return ProcessorService(
        genesys=genesys,
        buffer=buffer or BufferTable(aws.dynamodb, TABLE, clock=lambda: NOW),
        results=results or ResultsWriter(aws.s3, BUCKET),
        sqs_client=aws.sqs,
        config=ProcessorConfig(
            **{**CONFIG, "work_queue_url": aws.work_url, "dlq_url": aws.dlq_url, **config}
        ),
        metrics=metrics or RecordingMetrics(),
        clock=lambda: now,
        stats=genesys.stats.snapshot,
    )


def buffered(aws: Aws, ids: Iterable[str], first_seen: datetime = NOW - timedelta(minutes=5)) -> None:
    """The items the ingest function would have written for these conversations."""
    buffer = BufferTable(aws.dynamodb, TABLE, ttl_hours=48, clock=lambda: first_seen)
    for conversation_id in ids:
        buffer.record_event(conversation_id)


def failed_ids(response: dict[str, Any]) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def statuses(aws: Aws) -> dict[str, str]:
    return {item[contracts.ATTR_CONVERSATION_ID]: item[contracts.ATTR_STATUS] for item in aws.items()}


def deadline_in(seconds: float) -> float:
    return time.monotonic() + seconds


# -- landing -------------------------------------------------------------------------------------------


def test_ended_conversations_land_in_s3_and_their_items_become_fetched(aws: Aws) -> None:
    # Given three buffered conversations that Genesys reports as ended
    ids = new_ids(3)
    buffered(aws, ids)
    genesys = FakeGenesys([conversation(i) for i in ids])
    metrics = RecordingMetrics()
    records = [work_message(i) for i in ids]

    # When their batch is processed
    response = make_service(aws, genesys, metrics).process_batch(sqs_event(records), deadline=deadline_in(30))

    # Then one request fetched them, each landed under its key, each item is FETCHED with that key
    assert response == {"batchItemFailures": []}
    assert genesys.calls == [ids]
    expected_keys = sorted(result_key(conversation(i)) for i in ids)
    assert aws.object_keys() == expected_keys
    for conversation_id in ids:
        item = aws.item(conversation_id)
        assert item is not None
        assert item[contracts.ATTR_STATUS] == contracts.STATUS_FETCHED
        assert item[contracts.ATTR_RESULT_KEY] == result_key(conversation(conversation_id))
    assert metrics.counts == {MetricName.CONVERSATIONS_FETCHED: 3, MetricName.GENESYS_REQUESTS: 1}


def test_duplicate_ids_in_a_batch_are_fetched_once_and_every_message_is_acknowledged(aws: Aws) -> None:
    # Given a batch with the same conversation three times (and one other)
    first, other = new_ids(2)
    buffered(aws, [first, other])
    genesys = FakeGenesys([conversation(first), conversation(other)])
    records = [work_message(first), work_message(other), work_message(first), work_message(first)]

    # When it is processed
    response = make_service(aws, genesys).process_batch(sqs_event(records), deadline=deadline_in(30))

    # Then the id was asked for once, landed once, and no message is left to retry
    assert genesys.calls == [[first, other]]
    assert failed_ids(response) == []
    assert len(aws.object_keys()) == 2


def test_extra_body_fields_are_allowed(aws: Aws) -> None:
    [conversation_id] = new_ids(1)
    buffered(aws, [conversation_id])
    record = sqs_record({"conversationId": conversation_id, "source": "pipe", "attempt": 2})
    response = make_service(aws, FakeGenesys([conversation(conversation_id)])).process_batch(
        sqs_event([record]), deadline=deadline_in(30)
    )
    assert failed_ids(response) == []
    assert statuses(aws) == {conversation_id: contracts.STATUS_FETCHED}


# -- not ready -----------------------------------------------------------------------------------------


def test_a_conversation_not_yet_in_analytics_is_retried_later_with_backoff(
    aws: Aws,
) -> None:
    # Given a buffered conversation Genesys does not know yet, on its first delivery from the work queue
    [conversation_id] = new_ids(1)
    buffered(aws, [conversation_id])
    visibility_calls = capture_calls(aws.sqs, "ChangeMessageVisibility")
    refused = capture_errors(aws.sqs, "ChangeMessageVisibility")
    metrics = RecordingMetrics()
    [record] = delivered(aws, [{"conversationId": conversation_id}])

    # When it is processed
    response = make_service(aws, FakeGenesys(), metrics).process_batch(
        sqs_event([record]), deadline=deadline_in(30)
    )

    # Then the message is reported failed, comes back after the base backoff, and nothing else changed
    assert failed_ids(response) == [record["messageId"]]
    assert visibility_calls == [
        {"QueueUrl": aws.work_url, "ReceiptHandle": record["receiptHandle"], "VisibilityTimeout": 60}
    ]
    assert refused == []  # SQS accepted the change
    assert statuses(aws) == {conversation_id: contracts.STATUS_PENDING}
    assert aws.object_keys() == []
    assert aws.messages("work-dlq") == []
    assert metrics.counts[MetricName.CONVERSATIONS_NOT_READY] == 1


def test_a_conversation_without_conversation_end_is_not_ready(aws: Aws) -> None:
    # Given a conversation Genesys returns, but still in progress (no conversationEnd)
    [conversation_id] = new_ids(1)
    buffered(aws, [conversation_id])
    record = work_message(conversation_id)

    # When it is processed, then it is retried later and not landed
    response = make_service(aws, FakeGenesys([conversation(conversation_id, ended=False)])).process_batch(
        sqs_event([record]), deadline=deadline_in(30)
    )
    assert failed_ids(response) == [record["messageId"]]
    assert aws.object_keys() == []
    assert statuses(aws) == {conversation_id: contracts.STATUS_PENDING}


@pytest.mark.parametrize(
    ("receive_count", "first_seen_minutes_ago", "expected_visibility"),
    [
        (2, 5, 120),  # doubles per delivery
        (4, 5, 480),
        (9, 5, 900),  # capped at NOT_READY_RETRY_MAX_SECONDS
        (9, 235, 300),  # capped at the 5 minutes left before the max age of 240
    ],
)
def test_backoff_grows_per_delivery_and_is_capped(
    aws: Aws, receive_count: int, first_seen_minutes_ago: int, expected_visibility: int
) -> None:
    [conversation_id] = new_ids(1)
    buffered(aws, [conversation_id], first_seen=NOW - timedelta(minutes=first_seen_minutes_ago))
    visibility_calls = capture_calls(aws.sqs, "ChangeMessageVisibility")
    record = work_message(conversation_id, receive_count=receive_count)

    make_service(aws, FakeGenesys()).process_batch(sqs_event([record]), deadline=deadline_in(30))

    assert [call["VisibilityTimeout"] for call in visibility_calls] == [expected_visibility]


def test_past_the_max_age_the_conversation_fails_and_goes_to_the_dlq(aws: Aws) -> None:
    # Given a conversation first seen 241 minutes ago (max age 240) that still is not in analytics
    [conversation_id] = new_ids(1)
    buffered(aws, [conversation_id], first_seen=NOW - timedelta(minutes=241))
    metrics = RecordingMetrics()
    record = work_message(conversation_id, receive_count=12)

    # When its message comes back once more
    response = make_service(aws, FakeGenesys(), metrics).process_batch(
        sqs_event([record]), deadline=deadline_in(30)
    )

    # Then the item is FAILED with the reason, the DLQ holds the message with the reason, and it is acked
    assert failed_ids(response) == []
    item = aws.item(conversation_id)
    assert item is not None
    assert item[contracts.ATTR_STATUS] == contracts.STATUS_FAILED
    assert item[contracts.ATTR_ERROR].startswith("not_ready_max_age: ")
    [dead] = aws.messages("work-dlq")
    assert dead["reason"] == "not_ready_max_age"
    assert dead["conversationId"] == conversation_id
    assert json.loads(dead["body"]) == {"conversationId": conversation_id}
    assert metrics.counts[MetricName.CONVERSATIONS_FAILED] == 1


def test_a_conversation_analytics_knows_but_still_open_at_the_max_age_is_left_open_not_dead_lettered(
    aws: Aws,
) -> None:
    # Given a conversation first seen 241 minutes ago (max age 240) that analytics returns, still open
    # (a scheduled callback, an open messaging thread)
    [conversation_id] = new_ids(1)
    buffered(aws, [conversation_id], first_seen=NOW - timedelta(minutes=241))
    metrics = RecordingMetrics()
    record = work_message(conversation_id, receive_count=12)

    # When its message comes back once more
    response = make_service(
        aws, FakeGenesys([conversation(conversation_id, ended=False)]), metrics
    ).process_batch(sqs_event([record]), deadline=deadline_in(30))

    # Then it is acknowledged, its item says LEFT_OPEN (when it concluded, no error), nothing reaches the
    # work DLQ (whose alarm is for failures), nothing lands, and it is counted on its own
    assert failed_ids(response) == []
    item = aws.item(conversation_id)
    assert item is not None
    assert item[contracts.ATTR_STATUS] == contracts.STATUS_LEFT_OPEN
    assert item[contracts.ATTR_CONCLUDED_AT] == "2026-11-20T15:00:00.000Z"
    assert contracts.ATTR_ERROR not in item
    assert aws.messages("work-dlq") == []
    assert aws.object_keys() == []
    assert metrics.counts[MetricName.CONVERSATIONS_LEFT_OPEN] == 1
    assert metrics.counts[MetricName.CONVERSATIONS_FAILED] == 0


def test_without_a_buffer_item_the_message_age_decides(aws: Aws) -> None:
    # Given two conversations with no buffer item (TTL ran out): one sent 5 hours ago, one 5 minutes ago
    old, recent = new_ids(2)
    old_record = work_message(old, sent_at=NOW - timedelta(hours=5))
    recent_record = work_message(recent, sent_at=NOW - timedelta(minutes=5))

    # When they are processed
    response = make_service(aws, FakeGenesys()).process_batch(
        sqs_event([old_record, recent_record]), deadline=deadline_in(30)
    )

    # Then the old one is given up (DLQ, acked) and the recent one retried; no item is created for either
    assert failed_ids(response) == [recent_record["messageId"]]
    assert [dead["conversationId"] for dead in aws.messages("work-dlq")] == [old]
    assert aws.items() == []


# -- settlement: ended, but a segment (the agent's wrap-up) still open --------------------------------


def test_an_ended_conversation_whose_wrapup_is_still_open_is_not_landed_yet(aws: Aws) -> None:
    # Given a conversation first seen 5 minutes ago that Genesys returns with conversationEnd but the
    # agent's wrap-up segment still running (no segmentEnd), on its first delivery
    [conversation_id] = new_ids(1)
    buffered(aws, [conversation_id])
    visibility_calls = capture_calls(aws.sqs, "ChangeMessageVisibility")
    metrics = RecordingMetrics()
    [record] = delivered(aws, [{"conversationId": conversation_id}])

    # When it is processed
    response = make_service(
        aws, FakeGenesys([conversation(conversation_id, wrapup_open=True)]), metrics
    ).process_batch(sqs_event([record]), deadline=deadline_in(30))

    # Then nothing lands: the message comes back after the same first backoff as any not-ready one
    assert failed_ids(response) == [record["messageId"]]
    assert [call["VisibilityTimeout"] for call in visibility_calls] == [60]
    assert aws.object_keys() == []
    assert statuses(aws) == {conversation_id: contracts.STATUS_PENDING}
    assert aws.messages("work-dlq") == []
    assert metrics.counts == {MetricName.CONVERSATIONS_NOT_READY: 1, MetricName.GENESYS_REQUESTS: 1}
    assert metrics.values == {}


def _wrapup_started(details: dict[str, Any], at: datetime) -> dict[str, Any]:
    for participant in details["participants"]:
        for session in participant["sessions"]:
            for segment in session["segments"]:
                if segment["segmentType"] == "wrapup":
                    segment["segmentStart"] = at.isoformat().replace("+00:00", "Z")
    return details


@pytest.mark.parametrize(
    ("wrapup_started_seconds_ago", "estimate_seconds", "expected_visibility"),
    [
        (30, 180, 180),  # expected to end in 150 s, later than the schedule's 60: then the next minute
        (30, 0, 60),  # no estimate: the schedule
        (600, 180, 60),  # expected end long past: the schedule
    ],
)
def test_an_open_wrapup_is_fetched_again_once_it_is_expected_to_end(
    aws: Aws, wrapup_started_seconds_ago: int, estimate_seconds: int, expected_visibility: int
) -> None:
    # Given a conversation in wrap-up since `wrapup_started_seconds_ago`, on its first delivery
    [conversation_id] = new_ids(1)
    buffered(aws, [conversation_id])
    visibility_calls = capture_calls(aws.sqs, "ChangeMessageVisibility")
    details = _wrapup_started(
        conversation(conversation_id, wrapup_open=True), NOW - timedelta(seconds=wrapup_started_seconds_ago)
    )

    # When it is processed with that wrap-up estimate
    make_service(
        aws, FakeGenesys([details]), wrapup_estimate=timedelta(seconds=estimate_seconds)
    ).process_batch(sqs_event([work_message(conversation_id)]), deadline=deadline_in(30))

    # Then it comes back at the later of its expected end and the schedule, on the minute grid
    assert [call["VisibilityTimeout"] for call in visibility_calls] == [expected_visibility]


def test_not_ready_conversations_handed_back_apart_come_back_on_the_same_grid_moment(aws: Aws) -> None:
    # Given two conversations not in analytics yet, handed back 25 s apart (at 15:00:05 and 15:00:30)
    ids = new_ids(2)
    buffered(aws, ids)
    visibility_calls = capture_calls(aws.sqs, "ChangeMessageVisibility")
    moments = [NOW + timedelta(seconds=5), NOW + timedelta(seconds=30)]

    # When each is processed (first delivery: the schedule's 60 s)
    for conversation_id, moment in zip(ids, moments, strict=True):
        make_service(aws, FakeGenesys(), now=moment).process_batch(
            sqs_event([work_message(conversation_id)]), deadline=deadline_in(30)
        )

    # Then both come back at 15:02:00, the first grid minute at least 60 s after each: one request
    returns = [
        moment + timedelta(seconds=call["VisibilityTimeout"])
        for moment, call in zip(moments, visibility_calls, strict=True)
    ]
    assert returns == [NOW + timedelta(minutes=2)] * 2
    # and without a grid each would have come back on its own, 60 s after its own delivery
    without = capture_calls(aws.sqs, "ChangeMessageVisibility")
    for conversation_id, moment in zip(ids, moments, strict=True):
        make_service(aws, FakeGenesys(), now=moment, retry_grid_seconds=0).process_batch(
            sqs_event([work_message(conversation_id)]), deadline=deadline_in(30)
        )
    assert [call["VisibilityTimeout"] for call in without] == [60, 60]


def test_a_conversation_lands_once_its_wrapup_has_ended_with_its_landing_latency(aws: Aws) -> None:
    # Given a conversation first seen 5 minutes ago whose wrap-up has ended since the last delivery
    [conversation_id] = new_ids(1)
    buffered(aws, [conversation_id], first_seen=NOW - timedelta(minutes=5))
    metrics = RecordingMetrics()
    settled = conversation(conversation_id)
    record = work_message(conversation_id, receive_count=2)

    # When its message comes back
    response = make_service(aws, FakeGenesys([settled]), metrics).process_batch(
        sqs_event([record]), deadline=deadline_in(30)
    )

    # Then the settled details land (wrap-up segment ended, tAcw present), and the latency from the
    # first event to the landing is recorded: 300 s
    assert failed_ids(response) == []
    [key] = aws.object_keys()
    landed = json.loads(aws.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    assert landed == canonical_form(settled)
    assert statuses(aws) == {conversation_id: contracts.STATUS_FETCHED}
    assert metrics.counts[MetricName.CONVERSATIONS_FETCHED] == 1
    assert MetricName.CONVERSATIONS_LANDED_UNSETTLED not in metrics.counts
    assert metrics.values == {MetricName.LANDING_LATENCY: [300.0]}


def test_the_wrapup_wait_comes_back_exactly_when_the_settle_max_runs_out(aws: Aws) -> None:
    # Given an open wrap-up first seen 58 minutes ago (settle max 60), on a late delivery whose
    # schedule alone would wait 900 s
    [conversation_id] = new_ids(1)
    buffered(aws, [conversation_id], first_seen=NOW - timedelta(minutes=58))
    visibility_calls = capture_calls(aws.sqs, "ChangeMessageVisibility")
    record = work_message(conversation_id, receive_count=9)

    # When it is processed
    make_service(aws, FakeGenesys([conversation(conversation_id, wrapup_open=True)])).process_batch(
        sqs_event([record]), deadline=deadline_in(30)
    )

    # Then it comes back in the 120 s left, not after the schedule's 900 s
    assert [call["VisibilityTimeout"] for call in visibility_calls] == [120]
    assert aws.object_keys() == []


def test_past_the_settle_max_an_open_wrapup_lands_as_it_is_and_is_counted_unsettled(aws: Aws) -> None:
    # Given an open wrap-up first seen 61 minutes ago (settle max 60, max age 240)
    [conversation_id] = new_ids(1)
    buffered(aws, [conversation_id], first_seen=NOW - timedelta(minutes=61))
    metrics = RecordingMetrics()
    unsettled = conversation(conversation_id, wrapup_open=True)
    record = work_message(conversation_id, receive_count=8)

    # When its message comes back once more
    response = make_service(aws, FakeGenesys([unsettled]), metrics).process_batch(
        sqs_event([record]), deadline=deadline_in(30)
    )

    # Then what there is lands (the wrap-up segment still without segmentEnd), the item is FETCHED,
    # nothing is dead-lettered, and it is counted both fetched and landed unsettled
    assert failed_ids(response) == []
    [key] = aws.object_keys()
    landed = json.loads(aws.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    assert landed == canonical_form(unsettled)
    segments = [g for p in landed["participants"] for s in p["sessions"] for g in s["segments"]]
    [wrapup] = [segment for segment in segments if segment["segmentType"] == "wrapup"]
    assert "segmentEnd" not in wrapup
    assert statuses(aws) == {conversation_id: contracts.STATUS_FETCHED}
    assert aws.messages("work-dlq") == []
    assert metrics.counts[MetricName.CONVERSATIONS_FETCHED] == 1
    assert metrics.counts[MetricName.CONVERSATIONS_LANDED_UNSETTLED] == 1
    assert metrics.values == {MetricName.LANDING_LATENCY: [61 * 60.0]}


def test_without_a_buffer_item_the_message_age_decides_the_settle_wait(aws: Aws) -> None:
    # Given two open wrap-ups with no buffer item (TTL ran out): one sent 2 hours ago, one 5 minutes ago
    old, recent = new_ids(2)
    old_record = work_message(old, sent_at=NOW - timedelta(hours=2))
    recent_record = work_message(recent, sent_at=NOW - timedelta(minutes=5))
    genesys = FakeGenesys([conversation(i, wrapup_open=True) for i in (old, recent)])
    metrics = RecordingMetrics()

    # When they are processed
    response = make_service(aws, genesys, metrics).process_batch(
        sqs_event([old_record, recent_record]), deadline=deadline_in(30)
    )

    # Then the old one lands unsettled and the recent one waits; no item is created, and with no
    # firstEventAt no latency is claimed
    assert failed_ids(response) == [recent_record["messageId"]]
    assert aws.object_keys() == [result_key(conversation(old))]
    assert aws.items() == []
    assert metrics.counts[MetricName.CONVERSATIONS_LANDED_UNSETTLED] == 1
    assert metrics.values == {}


# -- Genesys errors ------------------------------------------------------------------------------------


def test_a_400_chunk_is_bisected_to_isolate_the_rejected_id(aws: Aws) -> None:
    # Given ten ended conversations, one of which Genesys rejects (failing any request that includes it)
    ids = new_ids(10)
    bad = ids[6]
    buffered(aws, ids)
    genesys = FakeGenesys([conversation(i) for i in ids], rejected=[bad])
    metrics = RecordingMetrics()
    records = [work_message(i) for i in ids]

    # When the batch is processed
    response = make_service(aws, genesys, metrics).process_batch(sqs_event(records), deadline=deadline_in(30))

    # Then the nine others land, the bad one is FAILED with Genesys's error and dead-lettered, all acked
    assert failed_ids(response) == []
    assert statuses(aws) == {
        i: contracts.STATUS_FAILED if i == bad else contracts.STATUS_FETCHED for i in ids
    }
    item = aws.item(bad)
    assert item is not None
    assert "400" in item[contracts.ATTR_ERROR]
    assert "Invalid conversation id" in item[contracts.ATTR_ERROR]
    [dead] = aws.messages("work-dlq")
    assert (dead["reason"], dead["conversationId"]) == ("genesys_rejected", bad)
    assert len(aws.object_keys()) == 9
    # and bisection stays logarithmic: the whole chunk, then halves down to the single id
    assert [bad] in genesys.calls
    assert len(genesys.calls) <= 1 + 2 * 4
    assert metrics.counts[MetricName.CONVERSATIONS_FAILED] == 1
    assert metrics.counts[MetricName.CONVERSATIONS_FETCHED] == 9
    assert metrics.counts[MetricName.GENESYS_REQUESTS] == len(genesys.calls)
    assert metrics.counts[MetricName.GENESYS_ERRORS] == sum(1 for call in genesys.calls if bad in call)


def test_a_404_chunk_is_bisected_so_known_ids_land_and_unknown_ones_wait_as_not_ready(aws: Aws) -> None:
    # Given ten conversations, two of which analytics does not know yet, and a Genesys that answers 404
    # for any request naming an unknown id (instead of leaving the id out)
    ids = new_ids(10)
    unknown = {ids[2], ids[7]}
    buffered(aws, ids)
    genesys = FakeGenesys([conversation(i) for i in ids if i not in unknown], unknown_is_404=True)
    metrics = RecordingMetrics()
    records = {i: work_message(i) for i in ids}
    visibility_calls = capture_calls(aws.sqs, "ChangeMessageVisibility")

    # When the batch is processed
    response = make_service(aws, genesys, metrics).process_batch(
        sqs_event(list(records.values())), deadline=deadline_in(30)
    )

    # Then the eight known ones land and are acknowledged
    assert len(aws.object_keys()) == 8
    assert {i for i, s in statuses(aws).items() if s == contracts.STATUS_FETCHED} == set(ids) - unknown
    # And the two unknown ones wait as not ready (backoff, item PENDING), neither rejected nor dead-lettered
    assert sorted(failed_ids(response)) == sorted(records[i]["messageId"] for i in unknown)
    assert {statuses(aws)[i] for i in unknown} == {contracts.STATUS_PENDING}
    assert {call["VisibilityTimeout"] for call in visibility_calls} == {CONFIG["retry_base_seconds"]}
    assert aws.messages("work-dlq") == []
    assert metrics.counts[MetricName.CONVERSATIONS_NOT_READY] == 2
    assert metrics.counts[MetricName.CONVERSATIONS_FAILED] == 0
    # And each unknown id was asked about alone in the end
    assert [ids[2]] in genesys.calls
    assert [ids[7]] in genesys.calls


def test_rate_limited_midway_keeps_what_landed_and_fails_the_rest_without_more_requests(aws: Aws) -> None:
    # Given 250 conversations in chunks of 100, and Genesys rate limiting the second request
    ids = new_ids(250)
    buffered(aws, ids)
    genesys = FakeGenesys([conversation(i) for i in ids], errors={2: RateLimited("429", retry_after=400)})
    records = [work_message(i) for i in ids]
    visibility_calls = capture_calls(aws.sqs, "ChangeMessageVisibility")

    # When the batch is processed
    response = make_service(aws, genesys).process_batch(sqs_event(records), deadline=deadline_in(30))

    # Then the first 100 landed and were acked; the other 150 are failures, untouched; no third request
    assert len(genesys.calls) == 2
    assert sorted(failed_ids(response)) == sorted(r["messageId"] for r in records[100:])
    assert len(aws.object_keys()) == 100
    assert {s for i, s in statuses(aws).items() if i in ids[100:]} == {contracts.STATUS_PENDING}
    # and each comes back when Genesys said it may be asked again (Retry-After 400 s is later than the
    # schedule's first 60 s), not at the queue's default
    assert len(visibility_calls) == 150
    assert {call["VisibilityTimeout"] for call in visibility_calls} == {400}
    assert aws.messages("work-dlq") == []


@pytest.mark.parametrize(
    "error",
    [GenesysUnavailable("503 after retries"), GenesysApiError(403, "missing.permissions", "no", "c-9")],
    ids=["unavailable", "forbidden"],
)
def test_errors_not_about_particular_ids_fail_the_messages_and_mark_nothing(
    aws: Aws, error: Exception
) -> None:
    ids = new_ids(3)
    buffered(aws, ids)
    records = [work_message(i) for i in ids]

    response = make_service(aws, FakeGenesys(errors={1: error})).process_batch(
        sqs_event(records), deadline=deadline_in(30)
    )

    assert sorted(failed_ids(response)) == sorted(r["messageId"] for r in records)
    assert set(statuses(aws).values()) == {contracts.STATUS_PENDING}
    assert aws.messages("work-dlq") == []


# -- bad bodies and per-message AWS errors -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("not json", "body is not JSON"),
        ('["a list"]', "body is not a JSON object"),
        ("{}", "conversationId is missing or not a string"),
        ('{"conversationId": 7}', "conversationId is missing or not a string"),
        ('{"conversationId": "abc"}', "conversationId is not a UUID"),
    ],
)
def test_a_body_that_is_not_the_contract_goes_to_the_dlq_with_its_reason(
    aws: Aws, body: str, why: str
) -> None:
    # Given a batch with one contract-violating body next to a good one
    [good] = new_ids(1)
    buffered(aws, [good])
    genesys = FakeGenesys([conversation(good)])
    bad_record = sqs_record(body)

    # When it is processed
    response = make_service(aws, genesys).process_batch(
        sqs_event([bad_record, work_message(good)]), deadline=deadline_in(30)
    )

    # Then the bad message is dead-lettered with its reason and original body, acked, never sent to Genesys
    assert failed_ids(response) == []
    [dead] = aws.messages("work-dlq")
    assert dead == {"reason": "invalid_body", "message": why, "conversationId": None, "body": body}
    assert genesys.calls == [[good]]


class FailingResults(ResultsWriter):
    def __init__(self, inner: ResultsWriter, failing_id: str) -> None:
        super().__init__(inner._s3, inner.bucket)
        self.failing_id = failing_id

    def put(self, conversation: dict[str, Any]) -> str:
        if conversation["conversationId"] == self.failing_id:
            raise ClientError(
                {"Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."}}, "PutObject"
            )
        return super().put(conversation)


class FailingBuffer(BufferTable):
    def __init__(self, inner: BufferTable, failing_id: str) -> None:
        super().__init__(inner._client, inner.table_name)
        self.failing_id = failing_id

    def mark_fetched(self, conversation_id: str, result_key: str) -> bool:
        if conversation_id == self.failing_id:
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                "UpdateItem",
            )
        return super().mark_fetched(conversation_id, result_key)


@pytest.mark.parametrize("failing", ["s3", "dynamodb"])
def test_an_aws_error_for_one_conversation_fails_that_message_only(aws: Aws, failing: str) -> None:
    # Given three ended conversations and S3 (or DynamoDB) failing for the second
    ids = new_ids(3)
    buffered(aws, ids)
    records = [work_message(i) for i in ids]
    results: ResultsWriter | None = None
    buffer: BufferTable | None = None
    if failing == "s3":
        results = FailingResults(ResultsWriter(aws.s3, BUCKET), ids[1])
    else:
        buffer = FailingBuffer(BufferTable(aws.dynamodb, TABLE), ids[1])

    # When the batch is processed
    response = make_service(
        aws, FakeGenesys([conversation(i) for i in ids]), buffer=buffer, results=results
    ).process_batch(sqs_event(records), deadline=deadline_in(30))

    # Then only that message is reported failed (SQS redelivers it); the others are FETCHED
    assert failed_ids(response) == [records[1]["messageId"]]
    assert statuses(aws)[ids[0]] == contracts.STATUS_FETCHED
    assert statuses(aws)[ids[2]] == contracts.STATUS_FETCHED
    assert statuses(aws)[ids[1]] == contracts.STATUS_PENDING


def test_a_batch_redelivered_after_a_crash_writes_the_same_keys_again_and_nothing_else(aws: Aws) -> None:
    # Given a batch that was fully processed, but whose invocation died before SQS heard of it
    ids = new_ids(5)
    buffered(aws, ids)
    genesys = FakeGenesys([conversation(i) for i in ids])
    records = [work_message(i) for i in ids]
    puts = capture_calls(aws.s3, "PutObject")
    make_service(aws, genesys).process_batch(sqs_event(records), deadline=deadline_in(30))
    keys_before, items_before = aws.object_keys(), sorted(aws.items(), key=str)
    first_run_keys = sorted(call["Key"] for call in puts)
    puts.clear()

    # When SQS delivers the same messages again
    redelivered = [{**r, "attributes": {**r["attributes"], "ApproximateReceiveCount": "2"}} for r in records]
    response = make_service(aws, genesys).process_batch(sqs_event(redelivered), deadline=deadline_in(30))

    # Then the same keys are written again, and nothing else changes: no new object, item or DLQ message
    assert failed_ids(response) == []
    assert sorted(call["Key"] for call in puts) == first_run_keys
    assert aws.object_keys() == keys_before
    assert sorted(aws.items(), key=str) == items_before
    assert aws.messages("work-dlq") == []


# -- with the real Genesys client ------------------------------------------------------------------------


def real_client(**kwargs: Any) -> GenesysClient:
    return GenesysClient(
        region="mypurecloud.ie",
        client_id="client",
        client_secret="secret",
        max_requests_per_minute=kwargs.pop("max_requests_per_minute", 6000),
        **kwargs,
    )


def details_requests(mock: responses.RequestsMock) -> list[Any]:
    return [call for call in mock.calls if call.request.url.startswith(DETAILS_URL)]


def test_250_messages_with_240_unique_ids_make_3_requests_and_240_objects(
    aws: Aws, genesys_api: responses.RequestsMock
) -> None:
    # Given 240 ended conversations and 250 messages (10 of them duplicates), with the real client
    ids = new_ids(240)
    buffered(aws, ids)
    serve_details(genesys_api, {i: conversation(i) for i in ids})
    records = [work_message(i) for i in ids] + [work_message(i) for i in ids[:10]]
    metrics = RecordingMetrics()

    # When the batch is processed
    response = make_service(aws, real_client(), metrics).process_batch(
        sqs_event(records), deadline=deadline_in(60)
    )

    # Then ceil(240 / 100) = 3 multi-get requests, 240 objects, every message acknowledged
    assert failed_ids(response) == []
    assert len(details_requests(genesys_api)) == 3
    assert len(aws.object_keys()) == 240
    assert set(statuses(aws).values()) == {contracts.STATUS_FETCHED}
    assert metrics.counts[MetricName.GENESYS_REQUESTS] == 3
    assert metrics.counts[MetricName.CONVERSATIONS_FETCHED] == 240


def test_a_429_beyond_the_deadline_fails_the_batch_and_marks_nothing(
    aws: Aws, genesys_api: responses.RequestsMock
) -> None:
    # Given Genesys answering 429 with a Retry-After longer than the invocation has left
    ids = new_ids(20)
    buffered(aws, ids)
    genesys_api.add(
        responses.GET,
        DETAILS_URL,
        status=429,
        headers={"Retry-After": "30"},
        json={"message": "Rate limit exceeded", "code": "too.many.requests.retry.after", "status": 429},
    )
    records = [work_message(i) for i in ids]
    metrics = RecordingMetrics()
    visibility_calls = capture_calls(aws.sqs, "ChangeMessageVisibility")

    # When the batch is processed with 5 s left
    started = time.monotonic()
    response = make_service(aws, real_client(), metrics).process_batch(
        sqs_event(records), deadline=deadline_in(5)
    )

    # Then every message is a failure (SQS retries them), nothing is marked, landed or dead-lettered,
    # the function did not sit out the Retry-After, and the messages come back on the not-ready
    # schedule (first step 60 s), which is no earlier than the Retry-After of 30 s
    assert sorted(failed_ids(response)) == sorted(r["messageId"] for r in records)
    assert set(statuses(aws).values()) == {contracts.STATUS_PENDING}
    assert aws.object_keys() == []
    assert aws.messages("work-dlq") == []
    assert [call["VisibilityTimeout"] for call in visibility_calls] == [60] * len(records)
    assert time.monotonic() - started < 5
    assert len(details_requests(genesys_api)) == 1
    assert metrics.counts[MetricName.GENESYS_THROTTLED] == 1


# -- pure rules ----------------------------------------------------------------------------------------


def test_the_deadline_leaves_a_margin_for_the_work_after_the_fetch() -> None:
    # 60 s left, 100 records: margin 5 + 0.02 * 100 = 7 s
    assert invocation_deadline(60_000, 100, now=1000.0) == pytest.approx(1053.0)
    # never more than half of what is left
    assert invocation_deadline(4_000, 1000, now=0.0) == pytest.approx(2.0)


def test_refused_credentials_fail_the_invocation_and_blame_no_conversation(aws: Aws) -> None:
    # Given a rotated or wrong client secret: the login endpoint answers 400 invalid_client
    ids = new_ids(8)
    buffered(aws, ids)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, TOKEN_URL, status=400, json={"error": "invalid_client"})
        records = [work_message(i) for i in ids]

        # When the batch is processed, then the invocation fails (the ProcessorErrors alarm)
        with pytest.raises(GenesysAuthError):
            make_service(aws, real_client()).process_batch(sqs_event(records), deadline=deadline_in(30))

        # And the 400 was not taken for one about the ids: one token request, no bisection, nothing
        # marked FAILED, nothing dead-lettered
        assert len(mock.calls) == 1
    assert set(statuses(aws).values()) == {contracts.STATUS_PENDING}
    assert aws.messages("work-dlq") == []


def test_a_conversation_genesys_could_not_be_asked_about_until_its_max_age_fails_with_the_cause(
    aws: Aws,
) -> None:
    # Given a conversation first seen 241 minutes ago (max age 240) and Genesys still unavailable
    [conversation_id] = new_ids(1)
    buffered(aws, [conversation_id], first_seen=NOW - timedelta(minutes=241))
    genesys = FakeGenesys(errors={1: GenesysUnavailable("503 after retries", retry_after=2)})

    # When its message comes back once more
    response = make_service(aws, genesys).process_batch(
        sqs_event([work_message(conversation_id, receive_count=20)]), deadline=deadline_in(30)
    )

    # Then it is given up with the cause, not left PENDING for SQS to dead-letter without a reason
    assert failed_ids(response) == []
    assert statuses(aws) == {conversation_id: contracts.STATUS_FAILED}
    [dead] = aws.messages("work-dlq")
    assert dead["reason"] == "not_fetched_max_age"
    assert "GenesysUnavailable" in dead["message"]
