"""The files the model reads: quotas with their sources, measurements, and the cost of a modelled day
priced by benchmarks/prices.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.cost import DEFAULT_PRICES, load_prices
from capacity.costs import day_cost
from capacity.measurements import MeasurementError, Measurements, parse_measurements
from capacity.model import simulate
from capacity.quotas import DEFAULT_QUOTAS, REQUIRED, QuotaError, Quotas, load_quotas
from tests.unit.capacity.conftest import MEASURED, flat, pipeline_for


def test_every_quota_the_model_reads_has_a_public_source_and_says_if_it_is_assumed() -> None:
    quotas = load_quotas()
    for name in REQUIRED:
        fact = quotas.fact(name)
        assert fact.source.startswith("https://"), name
        assert fact.kind in ("published", "assumed", "derived"), name
    assert quotas.fact("pipes.batch_seconds").kind == "assumed"
    assert quotas.fact("lambda.concurrent_executions").value == 1000


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (  # an entry missing
            "[genesys.request_latency_seconds]",
            "[genesys.request_latency_typo]",
            "genesys.request_latency_seconds",
        ),
        (  # an entry without a public source
            'source = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"',
            'source = "my notes"',
            "lambda.concurrent_executions: source must be the https:// address",
        ),
    ],
)
def test_a_quota_file_missing_an_entry_or_a_source_is_refused_naming_it(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = tmp_path / "quotas.toml"
    path.write_text(DEFAULT_QUOTAS.read_text().replace(old, new, 1))
    with pytest.raises(QuotaError) as refused:
        load_quotas(path)
    assert message in str(refused.value)


def test_measurements_missing_a_figure_are_refused_naming_it() -> None:
    broken = {**MEASURED, "ingest": {"dynamodb_requests_per_event": 1.0}}
    with pytest.raises(MeasurementError) as refused:
        parse_measurements(broken)
    assert "ingest.cpu_us_per_event" in str(refused.value)


def test_the_days_cost_prices_the_models_counts_at_the_price_file(
    quotas: Quotas, measurements: Measurements
) -> None:
    # Given two hours at 36,000 conversations an hour (72,000 conversations)
    pipeline = pipeline_for(quotas, measurements)
    result = simulate(pipeline, flat(36_000, 2))
    # When the period is priced
    total, breakdown, prices = day_cost(result, DEFAULT_PRICES, 256, 512)
    lines = {line.item: line.usd_per_million * 72_000 / 1e6 for line in breakdown.lines}
    # Then every conversation is one S3 PUT and 3.5 partner events, at the file's prices
    assert prices == load_prices(DEFAULT_PRICES)
    assert lines["S3 PUTs"] == pytest.approx(72_000 * prices.s3_put)
    assert lines["EventBridge partner events"] == pytest.approx(72_000 * 3.5 * prices.partner_event)
    assert total == pytest.approx(sum(lines.values()))
