"""The runner's stand-in for EventBridge Pipes: the stack's filter and template, and moto's double INSERT."""

from __future__ import annotations

import json
from typing import Any

import pytest

from genesys_bridge import contracts
from local_runner.pipe import (
    InsertCollapser,
    UnsupportedPipeSyntax,
    matches_filter,
    render_input_template,
    transform,
)

CONVERSATION_ID = "0a5f8e21-9c43-4d7b-b612-3e8d4c7a9f10"


def _record(event_name: str, conversation_id: str = CONVERSATION_ID, **image: str) -> dict[str, Any]:
    keys = {"conversationId": {"S": conversation_id}}
    new_image = {**keys, **{name: {"S": value} for name, value in image.items()}}
    return {
        "eventName": event_name,
        "eventSource": "aws:dynamodb",
        "dynamodb": {"Keys": keys, "NewImage": new_image, "StreamViewType": "NEW_IMAGE"},
    }


@pytest.mark.parametrize(("event_name", "passes"), [("INSERT", True), ("MODIFY", False), ("REMOVE", False)])
def test_the_stacks_filter_passes_inserts_only(event_name: str, passes: bool) -> None:
    assert matches_filter(contracts.PIPE_FILTER_PATTERN, _record(event_name, status="PENDING")) is passes


def test_filter_compares_exact_strings_and_an_absent_key_does_not_match() -> None:
    assert not matches_filter({"eventName": ["INSERT"]}, {"eventName": "insert"})
    assert not matches_filter({"eventName": ["INSERT"]}, {"eventName": ["INSERT"]})
    assert not matches_filter({"eventName": ["INSERT"]}, {"eventSource": "aws:dynamodb"})


@pytest.mark.parametrize(
    "pattern",
    [
        {"eventName": [{"prefix": "INS"}]},  # a content filter
        {"dynamodb": {"NewImage": {"status": {"S": ["PENDING"]}}}},  # a nested pattern
        {"n": [1]},  # a number
    ],
)
def test_filter_refuses_pattern_forms_the_stack_does_not_use(pattern: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedPipeSyntax):
        matches_filter(pattern, _record("INSERT"))


def test_the_stacks_template_gives_the_work_queue_contract() -> None:
    # When the stack's input template is applied to an INSERT
    body = render_input_template(contracts.PIPE_INPUT_TEMPLATE, _record("INSERT", status="PENDING"))
    # Then the body is the work message of docs/design.md
    assert json.loads(body) == {"conversationId": CONVERSATION_ID}


def test_template_escapes_the_string_it_inserts() -> None:
    rendered = render_input_template('{"t": "<$.a.text>"}', {"a": {"text": 'say "hi"\\'}})
    assert json.loads(rendered) == {"t": 'say "hi"\\'}


@pytest.mark.parametrize(
    ("record", "error"),
    [
        ({"eventName": "INSERT", "dynamodb": {}}, KeyError),  # no NewImage
        ({"dynamodb": {"NewImage": {"conversationId": {"N": "1"}}}}, KeyError),  # not a string attribute
        ({"dynamodb": {"NewImage": {"conversationId": {"S": 7}}}}, ValueError),
    ],
)
def test_a_record_the_template_cannot_render_fails_like_a_pipe_target_error(
    record: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        render_input_template(contracts.PIPE_INPUT_TEMPLATE, record)


@pytest.mark.parametrize("template", ['{"x": "<$.a[0]>"}', '{"n": <$.a.n>}'])
def test_template_refuses_placeholder_forms_the_stack_does_not_use(template: str) -> None:
    with pytest.raises(UnsupportedPipeSyntax):
        render_input_template(template, {"a": {"n": 1}})


def test_transform_drops_filtered_records_and_renders_inserts() -> None:
    assert transform(_record("MODIFY")) is None
    assert transform(_record("INSERT", status="PENDING")) == f'{{"conversationId": "{CONVERSATION_ID}"}}'


def test_moto_double_insert_of_an_update_that_creates_is_collapsed() -> None:
    # Given moto's two INSERTs for one UpdateItem that creates the item (key only, then full image)
    collapser = InsertCollapser()
    key_only = _record("INSERT")
    full = _record("INSERT", status="PENDING")
    # When both arrive in one GetRecords batch, followed by a MODIFY from a later event
    out = collapser.feed([key_only, full, _record("MODIFY", status="PENDING")])
    # Then the pipe sees one INSERT, the full one, as real DynamoDB Streams would emit
    assert [r["eventName"] for r in out] == ["INSERT", "MODIFY"]
    assert out[0] is full
    assert collapser.collapsed == 1


def test_collapse_works_when_the_poll_falls_between_motos_two_appends() -> None:
    collapser = InsertCollapser()
    # the first poll sees only the key-only INSERT: it is held back, not forwarded
    assert collapser.feed([_record("INSERT")]) == []
    full = _record("INSERT", status="PENDING")
    assert collapser.feed([full]) == [full]
    assert collapser.collapsed == 1


def test_a_genuine_key_only_insert_is_released_after_one_more_poll() -> None:
    collapser = InsertCollapser()
    lone = _record("INSERT")  # e.g. a PutItem of just the key
    assert collapser.feed([lone]) == []
    assert collapser.feed([]) == [lone]
    assert collapser.collapsed == 0


def test_a_second_insert_for_a_live_key_is_dropped_but_one_after_remove_is_kept() -> None:
    collapser = InsertCollapser()
    first = _record("INSERT", status="PENDING")
    assert collapser.feed([first]) == [first]
    assert collapser.feed([_record("INSERT", status="PENDING")]) == []  # impossible on AWS
    removed = _record("REMOVE")
    again = _record("INSERT", status="PENDING")
    assert collapser.feed([removed, again]) == [removed, again]  # TTL expiry, then a new item


def test_other_keys_are_independent_and_flush_releases_held_records() -> None:
    collapser = InsertCollapser()
    other = "1b2c3d4e-0000-4000-8000-000000000001"
    key_only_other = _record("INSERT", other)
    out = collapser.feed([_record("INSERT"), key_only_other, _record("INSERT", status="PENDING")])
    assert [r["dynamodb"]["Keys"]["conversationId"]["S"] for r in out] == [CONVERSATION_ID]
    assert collapser.flush() == [key_only_other]


def test_the_stream_collapse_against_real_moto() -> None:
    """moto still emits the artefact the collapser exists for (if this fails, moto changed)."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
        table = dynamodb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "conversationId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "conversationId", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
        dynamodb.update_item(
            TableName="t",
            Key={"conversationId": {"S": CONVERSATION_ID}},
            UpdateExpression="SET #s = if_not_exists(#s, :p)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":p": {"S": "PENDING"}},
        )
        streams = boto3.client("dynamodbstreams", region_name="eu-west-1")
        arn = table["TableDescription"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]

    assert [r["eventName"] for r in records] == ["INSERT", "INSERT"]
    out = InsertCollapser().feed(records)
    assert len(out) == 1
    assert out[0]["dynamodb"]["NewImage"]["status"] == {"S": "PENDING"}
