"""Settings: the names from contracts.py, defaults, and refusal of values that would misbehave later."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from genesys_bridge import contracts
from genesys_bridge.settings import IngestSettings, ProcessorSettings
from tests.unit.domain.builders import stack_set_env

PROCESSOR_ENV = {
    contracts.BUFFER_TABLE_NAME: "buffer",
    contracts.RESULTS_BUCKET_NAME: "results",
    contracts.GENESYS_REGION: "mypurecloud.ie",
    contracts.GENESYS_CREDENTIALS_SECRET_ARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:genesys",
    contracts.WORK_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/work",
    contracts.WORK_DLQ_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/work-dlq",
    **stack_set_env(ingest=False),
}


@pytest.fixture
def processor_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in PROCESSOR_ENV.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_ingest_settings_read_the_contract_names(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the variables the stack sets
    monkeypatch.setenv(contracts.BUFFER_TABLE_NAME, "buffer")
    monkeypatch.setenv(contracts.QUARANTINE_QUEUE_URL, "https://sqs/quarantine")
    monkeypatch.setenv(contracts.BUFFER_TTL_HOURS, "72")
    monkeypatch.setenv(contracts.CONVERSATION_TOPICS, "customer.end,acw")
    monkeypatch.setenv(contracts.WORK_QUEUE_URL, "https://sqs/work")

    # When the settings load, then each field holds its variable's value
    settings = IngestSettings.from_environment()
    assert (
        settings.buffer_table_name,
        settings.quarantine_queue_url,
        settings.buffer_ttl_hours,
        settings.conversation_topics,
        settings.work_queue_url,
    ) == ("buffer", "https://sqs/quarantine", 72, frozenset({"customer.end", "acw"}), "https://sqs/work")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "customer.end,",
        "customer.end, acw",
        " customer.end",
        "customer.end\n",
        "customer.end\r\n",
        "Customer.End",
        "customer.end,customer.end",
        "customer.end;acw",
        "customer.\u0435nd",  # a Cyrillic e
    ],
)
def test_a_malformed_topic_list_fails_at_cold_start_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    # Given a topic list that is not comma-separated topic suffixes and nothing else
    monkeypatch.setenv(contracts.BUFFER_TABLE_NAME, "buffer")
    monkeypatch.setenv(contracts.QUARANTINE_QUEUE_URL, "https://sqs/quarantine")
    monkeypatch.setenv(contracts.BUFFER_TTL_HOURS, "48")
    monkeypatch.setenv(contracts.WORK_QUEUE_URL, "https://sqs/work")
    monkeypatch.setenv(contracts.CONVERSATION_TOPICS, value)
    # When the settings load, then the variable is named
    with pytest.raises(ValidationError, match=contracts.CONVERSATION_TOPICS):
        IngestSettings.from_environment()


@pytest.mark.parametrize(
    "name",
    [
        contracts.BUFFER_TTL_HOURS,
        contracts.CONVERSATION_TOPICS,
        contracts.NOT_READY_MAX_AGE_MINUTES,
        contracts.SETTLE_MAX_MINUTES,
        contracts.WRAPUP_ESTIMATE_SECONDS,
        contracts.NOT_READY_RETRY_GRID_SECONDS,
    ],
)
def test_a_value_the_stack_always_sets_is_required_not_defaulted_again(
    processor_env: pytest.MonkeyPatch, name: str
) -> None:
    # Given every variable but one the stack always sets
    processor_env.setenv(contracts.QUARANTINE_QUEUE_URL, "https://sqs/quarantine")
    processor_env.setenv(contracts.BUFFER_TTL_HOURS, "48")
    processor_env.setenv(contracts.CONVERSATION_TOPICS, "customer.end")
    processor_env.delenv(name)

    # When the settings load, then the missing variable is named (its default lives in stacks/config.py)
    ingest_names = (contracts.BUFFER_TTL_HOURS, contracts.CONVERSATION_TOPICS)
    model = IngestSettings if name in ingest_names else ProcessorSettings
    with pytest.raises(ValidationError, match=name):
        model.from_environment()


def test_a_missing_variable_is_named_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(contracts.BUFFER_TABLE_NAME, "buffer")
    monkeypatch.delenv(contracts.QUARANTINE_QUEUE_URL, raising=False)
    with pytest.raises(ValidationError, match=contracts.QUARANTINE_QUEUE_URL):
        IngestSettings.from_environment()


def test_processor_settings_carry_the_stack_values(processor_env: pytest.MonkeyPatch) -> None:
    settings = ProcessorSettings.from_environment()
    assert settings.genesys_ids_per_request == 100
    assert settings.genesys_concurrent_callers == 4  # processor_max_concurrency
    assert settings.not_ready_retry_base_seconds == 60
    assert settings.not_ready_retry_max_seconds == 900
    assert settings.settle_max_minutes == 60
    assert settings.wrapup_estimate_seconds == 180
    assert settings.not_ready_retry_grid_seconds == 60
    assert settings.genesys_api_base_url is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (contracts.GENESYS_IDS_PER_REQUEST, "0"),
        (contracts.GENESYS_IDS_PER_REQUEST, "101"),
        (contracts.GENESYS_MAX_REQUESTS_PER_MINUTE, "0"),
        (contracts.GENESYS_CONCURRENT_CALLERS, "0"),
        (contracts.NOT_READY_MAX_AGE_MINUTES, "0"),
        (contracts.SETTLE_MAX_MINUTES, "0"),
        (contracts.NOT_READY_RETRY_BASE_SECONDS, "1000"),  # above the 900 s default cap
        (contracts.NOT_READY_RETRY_MAX_SECONDS, "50000"),  # above SQS's 12-hour visibility limit
        (contracts.WRAPUP_ESTIMATE_SECONDS, "-1"),
        (contracts.NOT_READY_RETRY_GRID_SECONDS, "43201"),  # a wait past SQS's visibility limit
        (contracts.GENESYS_REGION, "mypurecloud.xx"),
        (contracts.GENESYS_API_BASE_URL, "http://genesys.example.com"),  # plain http off loopback
        (contracts.GENESYS_LOGIN_BASE_URL, "ftp://127.0.0.1"),
    ],
)
def test_values_out_of_range_are_refused_at_load(
    processor_env: pytest.MonkeyPatch, name: str, value: str
) -> None:
    processor_env.setenv(name, value)
    with pytest.raises(ValidationError):
        ProcessorSettings.from_environment()


def test_loopback_http_overrides_are_accepted_for_the_simulator(processor_env: pytest.MonkeyPatch) -> None:
    processor_env.setenv(contracts.GENESYS_API_BASE_URL, "http://127.0.0.1:8080")
    processor_env.setenv(contracts.GENESYS_LOGIN_BASE_URL, "")  # empty means unset (CloudFormation)
    settings = ProcessorSettings.from_environment()
    assert settings.genesys_api_base_url == "http://127.0.0.1:8080"
    assert settings.genesys_login_base_url is None


def test_the_budget_is_split_between_concurrent_callers(processor_env: pytest.MonkeyPatch) -> None:
    # Given a 300/min budget shared by 4 concurrent processors
    processor_env.setenv(contracts.GENESYS_MAX_REQUESTS_PER_MINUTE, "300")
    processor_env.setenv(contracts.GENESYS_CONCURRENT_CALLERS, "4")

    # Then each paces at 75/min, so together they stay within the budget
    assert ProcessorSettings.from_environment().requests_per_minute_per_caller == 75


def test_the_max_age_accepts_fractional_minutes_for_compressed_local_runs(
    processor_env: pytest.MonkeyPatch,
) -> None:
    processor_env.setenv(contracts.NOT_READY_MAX_AGE_MINUTES, "0.25")
    processor_env.setenv(contracts.SETTLE_MAX_MINUTES, "0.0625")
    settings = ProcessorSettings.from_environment()
    assert (settings.not_ready_max_age_minutes, settings.settle_max_minutes) == (0.25, 0.0625)


@pytest.mark.parametrize("settle_max", ["240", "300"])
def test_a_settle_wait_not_below_the_max_age_is_refused_naming_both(
    processor_env: pytest.MonkeyPatch, settle_max: str
) -> None:
    # Given a settle wait as long as, or longer than, the max age (240) after which a message is given up
    processor_env.setenv(contracts.SETTLE_MAX_MINUTES, settle_max)
    # When the settings load, then both variables are named
    with pytest.raises(
        ValidationError,
        match=f"{contracts.SETTLE_MAX_MINUTES} must be below {contracts.NOT_READY_MAX_AGE_MINUTES}",
    ):
        ProcessorSettings.from_environment()


@pytest.mark.parametrize(
    "text", [" 60", "60\n", "60\r\n", "6_0", "60.0", "+60", "\u0666\u0660", "\uff16\uff10", ""]
)
@pytest.mark.parametrize(
    "name",
    [contracts.GENESYS_MAX_REQUESTS_PER_MINUTE, contracts.NOT_READY_RETRY_BASE_SECONDS],
)
def test_a_number_variable_must_be_digits_and_nothing_else(
    processor_env: pytest.MonkeyPatch, name: str, text: str
) -> None:
    # Given a number variable with a space, a newline, an underscore, a fraction or other digits
    processor_env.setenv(name, text)
    # When the settings load, then the variable is named rather than the value read leniently
    with pytest.raises(ValidationError, match=name):
        ProcessorSettings.from_environment()


@pytest.mark.parametrize("text", ["240\n", " 240", "2 40", "0x10"])
def test_the_max_age_must_be_a_plain_decimal(processor_env: pytest.MonkeyPatch, text: str) -> None:
    processor_env.setenv(contracts.NOT_READY_MAX_AGE_MINUTES, text)
    with pytest.raises(ValidationError, match=contracts.NOT_READY_MAX_AGE_MINUTES):
        ProcessorSettings.from_environment()
