"""Cost per million conversations: checked by hand-computed figures from given counts."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.cost import (
    DEFAULT_PRICES,
    FunctionUsage,
    Prices,
    RunCounts,
    cost_per_million,
    load_prices,
    parse_prices,
)

ROUND_PRICES = Prices(
    region="test-1",
    source="test",
    lambda_request=0.20 / 1e6,
    lambda_gb_second=0.0000133334,
    dynamodb_write_unit=0.625 / 1e6,
    dynamodb_read_unit=0.125 / 1e6,
    partner_event=1.0 / 1e6,
    pipes_request=0.40 / 1e6,
    sqs_request=0.40 / 1e6,
    s3_put=0.005 / 1000,
    secrets_manager_call=0.05 / 10_000,
    s3_get=0.0004 / 1000,
    stepfunctions_transition=0.025 / 1000,
)


def _counts(scale: int = 1) -> RunCounts:
    """1,000 conversations' counts (x scale): three end events each, batches of 100."""
    return RunCounts(
        conversations=1000 * scale,
        partner_events=3000 * scale,  # three end events per conversation
        ingest=FunctionUsage(3000 * scale, [10.0] * 3000 * scale, memory_mb=256),
        processor=FunctionUsage(10 * scale, [1000.0] * 10 * scale, memory_mb=1024),
        dynamodb_write_units=4000 * scale,  # three ingest writes + one "fetched" mark per conversation
        dynamodb_read_units=0,
        pipe_requests=1000 * scale,
        sqs_requests=40 * scale,
        s3_puts=1000 * scale,
        secrets_manager_calls=1 * scale,
    )


def test_each_line_is_the_count_scaled_to_a_million_conversations_times_its_price() -> None:
    # Given 1,000 conversations, When priced per million, Then every count is multiplied by 1,000
    cost = cost_per_million(_counts(), ROUND_PRICES)
    assert cost.usd("EventBridge partner events") == pytest.approx(3.00)  # 3M events x $1/M
    assert cost.usd("Lambda requests") == pytest.approx(0.602)  # 3.01M requests x $0.20/M
    assert cost.usd("DynamoDB write units") == pytest.approx(2.50)  # 4M WRU x $0.625/M
    assert cost.usd("Pipes requests") == pytest.approx(0.40)
    assert cost.usd("SQS requests") == pytest.approx(0.016)
    assert cost.usd("S3 PUTs") == pytest.approx(5.00)  # 1M PUTs x $0.005/1000
    assert cost.usd("Secrets Manager calls") == pytest.approx(0.005)


def test_lambda_compute_is_billed_gb_seconds_from_measured_durations_and_memory() -> None:
    cost = cost_per_million(_counts(), ROUND_PRICES)
    # ingest: 3000 x 10 ms x 0.25 GB = 7.5 GB-s per 1,000 conversations -> 7,500 GB-s per million
    assert cost.usd("Lambda GB-s (ingest)") == pytest.approx(7500 * 0.0000133334)
    # processor: 10 x 1 s x 1 GB = 10 GB-s -> 10,000 GB-s per million
    assert cost.usd("Lambda GB-s (processor)") == pytest.approx(10_000 * 0.0000133334)


def test_each_invocation_is_rounded_up_to_the_next_millisecond() -> None:
    usage = FunctionUsage(invocations=2, durations_ms=[0.2, 1.5], memory_mb=1024)
    assert usage.billed_gb_seconds() == pytest.approx(0.003)  # 1 ms + 2 ms at 1 GB


@pytest.mark.parametrize("scale", [2, 7])
def test_total_is_the_sum_of_the_lines_and_does_not_depend_on_run_size(scale: int) -> None:
    small = cost_per_million(_counts(), ROUND_PRICES)
    assert small.total == pytest.approx(sum(line.usd_per_million for line in small.lines))
    assert cost_per_million(_counts(scale), ROUND_PRICES).total == pytest.approx(small.total)


def test_a_run_that_landed_nothing_cannot_be_priced() -> None:
    empty = RunCounts(0, 0, FunctionUsage(0), FunctionUsage(0), 0, 0, 0, 0, 0, 0)
    with pytest.raises(ValueError, match="nothing to price"):
        cost_per_million(empty, ROUND_PRICES)


def test_the_shipped_price_file_names_its_region_and_source_and_converts_units() -> None:
    prices = load_prices(DEFAULT_PRICES)
    assert prices.region
    assert "editable" in prices.source
    assert prices.s3_put == pytest.approx(0.005 / 1000)
    assert prices.lambda_request == pytest.approx(0.20 / 1e6)
    assert prices.s3_get == pytest.approx(0.0004 / 1000)
    assert prices.stepfunctions_transition == pytest.approx(0.025 / 1000)


def test_price_file_architecture_selects_the_gb_second_price() -> None:
    document: dict[str, Any] = {
        "region": "eu-west-1",
        "lambda": {"requests_per_million": 0.2, "gb_second_arm64": 1.0, "gb_second_x86_64": 2.0},
        "dynamodb": {"write_request_units_per_million": 1, "read_request_units_per_million": 1},
        "eventbridge": {"partner_events_per_million": 1},
        "pipes": {"requests_per_million": 1},
        "sqs": {"requests_per_million": 1},
        "s3": {"puts_per_thousand": 1, "gets_per_thousand": 1},
        "secrets_manager": {"api_calls_per_ten_thousand": 1},
        "stepfunctions": {"state_transitions_per_thousand": 1},
        "athena": {"per_terabyte_scanned": 5, "minimum_megabytes_per_query": 10},
    }
    assert parse_prices(document).lambda_gb_second == 1.0
    assert (parse_prices(document).athena_byte, parse_prices(document).athena_min_bytes) == (5e-12, 10e6)
    document["lambda"]["architecture"] = "x86_64"
    assert parse_prices(document).lambda_gb_second == 2.0
    document["s3"]["puts_per_thousand"] = -1
    with pytest.raises(ValueError, match="non-negative"):
        parse_prices(document)


def test_the_whole_system_is_summed_per_service_and_a_part_not_measured_is_named() -> None:
    # Given the live path's and an audit's breakdowns (S3 and Lambda in both)
    from benchmarks.cost import CostBreakdown, CostLine, whole_system_rows

    live = cost_per_million(_counts(), ROUND_PRICES)
    audit = CostBreakdown([CostLine("S3 PUT/LIST", 100.0, 0.5), CostLine("Lambda GB-s", 10.0, 0.25)])

    # When figure 7 is made with compaction not measured
    rows = whole_system_rows({"live path": live, "audit": audit}, {"compaction": "not built"}, ROUND_PRICES)

    # Then the total is every part's, each service sums its lines across the parts, and the missing part
    # is named beside the total rather than priced as nothing
    assert rows[0].measured == f"${live.total + 0.75:,.2f}"
    assert "compaction: not measured" in rows[0].reference
    assert "compaction not measured: not built" in rows[0].note
    by_service = {row.figure.strip(): row for row in rows[1:]}
    assert by_service["S3"].measured == f"${5.00 + 0.5:,.2f}"
    assert by_service["S3"].reference == "live path $5.00, audit $0.50"
    assert by_service["Lambda"].reference.endswith("audit $0.25")
    assert set(by_service) == {"EventBridge", "Lambda", "DynamoDB", "Pipes", "SQS", "S3", "Secrets Manager"}


def test_compaction_is_two_unload_passes_of_the_days_json_priced_per_million_conversations() -> None:
    # Given a scan of 2,000 conversations whose JSON took 4 MB (2,000 B each) over 30 days, and whose
    # compacted conversationId and participants (what each flat dataset's UNLOAD reads) took 1.2 MB
    from benchmarks.catalog_scan import CatalogScan, compaction_cost
    from benchmarks.cost import whole_system_rows

    scan = CatalogScan(2000, 30, 4_000_000, 1_000_000, 1000, {}, 1_200_000, 1.0, {})
    prices = ROUND_PRICES.__class__(**{**ROUND_PRICES.__dict__, "athena_byte": 5.0 / 1e12})

    # When the compaction is priced
    cost = compaction_cost(scan, prices, days=30)

    # Then each pass reads a million conversations' JSON (2 GB) and, for each of the two flat datasets,
    # their compacted conversations (600 MB); two passes at $5/TB, each object GET twice, and each pass
    # writes three Parquet files (conversations, session metrics, segments) and a marker a day
    assert cost.usd("Athena bytes scanned") == pytest.approx(2 * (2e9 + 2 * 600e6) * 5 / 1e12)  # $0.032
    assert cost.usd("S3 GETs (compaction)") == pytest.approx(2 * 1e6 * 0.0004 / 1000)  # $0.80
    assert cost.usd("S3 PUTs (compaction)") == pytest.approx(2 * 4 * 30 * 0.005 / 1000)
    # And with Athena's 10 MB minimum a query, a day's flat UNLOAD over 20 MB is billed as read, one
    # over less (60 MB a month per 1M: 2 MB a day) as 10 MB
    minimum = ROUND_PRICES.__class__(**{**prices.__dict__, "athena_min_bytes": 10e6})
    assert compaction_cost(scan, minimum, days=30).usd("Athena bytes scanned") == pytest.approx(0.032)
    small = CatalogScan(2000, 30, 4_000_000, 1_000_000, 1000, {}, 120_000, 1.0, {})
    assert compaction_cost(small, minimum, days=30).usd("Athena bytes scanned") == pytest.approx(
        2 * (2e9 + 2 * 30 * 10e6) * 5 / 1e12
    )
    # and figure 7 sums it under Athena and S3 beside the other parts
    rows = whole_system_rows({"compaction": cost}, {}, prices)
    by_service = {row.figure.strip(): row.reference for row in rows[1:]}
    assert by_service == {"Athena": "compaction $0.03", "S3": "compaction $0.80"}
