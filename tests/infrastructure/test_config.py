"""cdk.json environment blocks: what a wrong value tells the user, and what the defaults guarantee."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from genesys_bridge.backoff import (
    NOT_READY_RETRY_BASE_SECONDS,
    NOT_READY_RETRY_MAX_SECONDS,
    not_ready_backoff,
)
from stacks.config import (
    ConfigError,
    EnvironmentConfig,
    load_environment_config,
    parse_environment_config,
)
from stacks.config_fixed import REMOVED_KEYS, THROTTLE_RECEIVE_HEADROOM

REPO = Path(__file__).resolve().parents[2]
MINIMAL_BLOCK: dict[str, Any] = {
    "event_bus_mode": "create",
    "event_bus_name": "test-bus",
    "credentials_secret_name": "test/genesys-credentials",
}


def settings(**overrides: Any) -> dict[str, Any]:
    return {**MINIMAL_BLOCK, **overrides}


@pytest.mark.parametrize(
    ("key", "value", "expected_range"),
    [
        ("processor_max_concurrency", 1, "2..1000"),
        ("processor_max_concurrency", 1001, "2..1000"),
        ("processor_batching_window_seconds", 301, "0..300"),
        ("settle_delay_seconds", 901, "0..900"),
        ("processor_timeout_seconds", 901, "10..900"),
        ("genesys_ids_per_request", 101, "1..100"),
        ("buffer_ttl_hours", 0, "1..8760"),
        ("settle_max_minutes", 0, "1..2879"),
        ("pipe_parallelization_factor", 0, "1..10"),
        ("pipe_parallelization_factor", 11, "1..10"),
    ],
)
def test_an_out_of_range_number_fails_naming_the_key_and_the_allowed_range(
    key: str, value: int, expected_range: str
) -> None:
    # Given a block with one number out of range, When it is validated
    with pytest.raises(ConfigError) as raised:
        parse_environment_config("staging", settings(**{key: value}))
    # Then the message names the environment, the key and the allowed range
    message = str(raised.value)
    assert "'staging'" in message
    assert key in message
    assert f"allowed range {expected_range}" in message


def test_a_misspelt_key_is_refused_rather_than_silently_ignored() -> None:
    with pytest.raises(ConfigError, match="processor_max_concurency: not a setting"):
        parse_environment_config("dev", settings(processor_max_concurency=5))


@pytest.mark.parametrize("key", sorted(REMOVED_KEYS))
def test_a_key_that_is_no_longer_a_setting_is_refused_naming_what_it_became(key: str) -> None:
    # Given an existing cdk.json block that still sets a key the model no longer has
    with pytest.raises(ConfigError) as raised:
        parse_environment_config("prod", settings(**{key: 10}))
    # Then synth stops, naming the key and the constant that replaced it, rather than ignoring it
    message = str(raised.value)
    assert f"{key}: no longer a setting" in message
    assert REMOVED_KEYS[key] in message
    assert key not in EnvironmentConfig.model_fields


def test_a_partner_bus_must_be_named_like_a_genesys_event_source() -> None:
    with pytest.raises(ConfigError, match=r"aws\.partner/genesys\.com/cloud/<orgId>/<suffix>"):
        parse_environment_config(
            "prod", settings(event_bus_mode="partner_event_source", event_bus_name="my-bus")
        )


def test_exactly_one_way_of_naming_the_credentials_secret_is_required() -> None:
    both = settings(
        credentials_secret_arn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:genesys-AbCdEf"
    )
    with pytest.raises(
        ConfigError, match="exactly one of credentials_secret_name and credentials_secret_arn"
    ):
        parse_environment_config("dev", both)
    neither = {key: value for key, value in MINIMAL_BLOCK.items() if key != "credentials_secret_name"}
    with pytest.raises(ConfigError, match="exactly one of"):
        parse_environment_config("dev", neither)


def test_an_unknown_genesys_region_lists_the_known_ones() -> None:
    with pytest.raises(
        ConfigError, match=r"genesys_region: unknown Genesys region 'mypurecloud\.fr'.*mypurecloud\.ie"
    ):
        parse_environment_config("dev", settings(genesys_region="mypurecloud.fr"))


def test_log_retention_must_be_a_period_cloudwatch_accepts() -> None:
    with pytest.raises(ConfigError, match=r"log_retention_days: allowed values: 1, 3, 5, 7, 14, 30"):
        parse_environment_config("dev", settings(log_retention_days=10))


def test_a_batch_above_ten_messages_needs_a_batching_window() -> None:
    with pytest.raises(ConfigError, match="processor_batching_window_seconds must be at least 1"):
        parse_environment_config(
            "dev", settings(processor_batch_size=50, processor_batching_window_seconds=0)
        )


def test_a_genesys_budget_below_the_processor_concurrency_is_refused() -> None:
    # Each concurrent processor paces at budget // concurrency but never below 1 request a minute,
    # so 3 requests a minute across 4 processors would really be 4
    with pytest.raises(ConfigError, match=r"genesys_max_requests_per_minute \(3\) must be at least"):
        parse_environment_config(
            "dev", settings(genesys_max_requests_per_minute=3, processor_max_concurrency=4)
        )


def test_the_buffer_item_must_outlive_the_time_the_processor_keeps_trying() -> None:
    with pytest.raises(ConfigError, match="buffer_ttl_hours must exceed"):
        parse_environment_config(
            "dev",
            settings(buffer_ttl_hours=2, not_ready_max_age_minutes=240, work_queue_max_receive_count=100),
        )


@pytest.mark.parametrize("settle_max", [120, 121])
def test_a_settle_wait_not_below_the_max_age_is_refused_naming_both_keys(settle_max: int) -> None:
    # Given a wrap-up wait as long as, or longer than, the age at which a message is given up
    with pytest.raises(ConfigError) as raised:
        parse_environment_config(
            "dev", settings(settle_max_minutes=settle_max, not_ready_max_age_minutes=120)
        )
    # Then the message names both keys and the values allowed with that max age
    message = str(raised.value)
    assert f"settle_max_minutes ({settle_max}) must be below not_ready_max_age_minutes (120)" in message
    assert "allowed 1..119" in message


def test_a_settle_wait_within_the_first_delivery_delay_is_refused() -> None:
    # Given a 10-minute settle wait while every message waits 15 minutes before its first fetch
    with pytest.raises(
        ConfigError, match=r"settle_max_minutes \(10\) must exceed settle_delay_seconds \(900 s\)"
    ):
        parse_environment_config("dev", settings(settle_max_minutes=10, settle_delay_seconds=900))


def test_results_lifecycle_transitions_must_come_in_an_order_s3_accepts() -> None:
    lifecycle = {"infrequent_access_after_days": 90, "glacier_instant_retrieval_after_days": 100}
    with pytest.raises(ConfigError, match="glacier_instant_retrieval_after_days must be at least"):
        parse_environment_config("dev", settings(results_lifecycle=lifecycle))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"finalize_lag_days": 4, "results_lifecycle": {"expire_compacted_json_after_days": 5}},
            r"expire_compacted_json_after_days \(5\) must exceed finalize_lag_days \+ 1 \(5\)",
        ),
        (
            {"audit_enabled": False, "results_lifecycle": {"expire_compacted_json_after_days": 30}},
            r"expire_compacted_json_after_days needs audit_enabled: true",
        ),
    ],
)
def test_landed_objects_may_expire_only_after_their_day_is_compacted(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_environment_config("dev", settings(**overrides))


def test_landed_objects_are_kept_unless_told_and_then_expire_by_their_own_rule() -> None:
    # Off by default
    assert (
        parse_environment_config("dev", settings()).results_lifecycle.expire_compacted_json_after_days is None
    )
    # And once set, a rule of its own on the landed prefix (not on the compacted days or the reports)
    config = parse_environment_config(
        "dev", settings(results_lifecycle={"expire_compacted_json_after_days": 30})
    )
    from stacks.storage import _compacted_json_rules

    [rule] = _compacted_json_rules(config.results_lifecycle)
    assert (rule.id, rule.prefix, rule.expiration.to_days()) == (
        "expire-compacted-json",
        "conversations/",
        30,
    )


class TestRedriveBudget:
    """SQS moves a message to the DLQ after max receives; the not-ready backoff must fit in that."""

    def test_receives_needed_follow_the_doubling_backoff_up_to_the_max_age(self) -> None:
        # Given settle 60 s, the backoff (60 s doubling to at most 900 s) and a 40-minute max age
        assert (NOT_READY_RETRY_BASE_SECONDS, NOT_READY_RETRY_MAX_SECONDS) == (60, 900)
        config = EnvironmentConfig.model_validate(
            {
                "environment_name": "dev",
                **settings(
                    settle_delay_seconds=60,
                    not_ready_max_age_minutes=40,
                    settle_max_minutes=20,
                    work_queue_age_alarm_minutes=5,
                ),
            }
        )
        # Then receives come at 60, 120, 240, 480, 960, 1860 and 2760 s; the 7th finds it past 2400 s
        assert config.not_ready_receives_needed() == 7
        assert config.minimum_work_queue_receive_count() == 7 + THROTTLE_RECEIVE_HEADROOM

    def test_a_max_receive_count_too_small_for_the_backoff_fails_with_the_minimum(self) -> None:
        with pytest.raises(ConfigError) as raised:
            parse_environment_config("dev", settings(work_queue_max_receive_count=5))
        message = str(raised.value)
        assert "work_queue_max_receive_count must be at least 30" in message
        assert "plus 10 for rate limits" in message

    @pytest.mark.parametrize(
        "config",
        [
            load_environment_config("dev"),
            load_environment_config("prod"),
            EnvironmentConfig.model_validate(
                {"environment_name": "longest", **settings(settle_max_minutes=239)}
            ),
            EnvironmentConfig.model_validate(
                {
                    "environment_name": "odd",
                    **settings(
                        settle_delay_seconds=0,
                        settle_max_minutes=7,
                        not_ready_max_age_minutes=60,
                        work_queue_age_alarm_minutes=5,
                    ),
                }
            ),
        ],
        ids=["dev", "prod", "settle just below the max age", "no settle delay"],
    )
    def test_an_open_wrapup_lands_within_the_receives_the_budget_covers(
        self, config: EnvironmentConfig
    ) -> None:
        # Given a conversation that stays ended with its wrap-up open, and the processor's own backoff,
        # which comes back exactly when the settle wait runs out
        limit = config.settle_max_minutes * 60
        elapsed, receives = config.settle_delay_seconds, 1
        while elapsed < limit:
            elapsed += not_ready_backoff(
                receives,
                NOT_READY_RETRY_BASE_SECONDS,
                NOT_READY_RETRY_MAX_SECONDS,
                limit - elapsed,
            )
            receives += 1
        # Then the receive that lands it unsettled comes no later than the one that would give up a
        # never-ready conversation, which the redrive budget is sized for
        assert receives <= config.not_ready_receives_needed()

    @pytest.mark.parametrize("environment", ["dev", "prod"])
    def test_the_shipped_environments_leave_room_for_rate_limit_hand_backs(self, environment: str) -> None:
        config = load_environment_config(environment)
        assert config.work_queue_max_receive_count >= config.minimum_work_queue_receive_count()


def test_defaults_are_what_the_local_runner_and_the_readme_rely_on() -> None:
    config = parse_environment_config("test", MINIMAL_BLOCK)
    assert config.topics == ["customer.end"]
    assert config.event_source_prefix == "aws.partner/genesys.com"
    assert config.buffer_ttl_hours == 48
    assert config.settle_max_minutes == 60
    assert config.genesys_ids_per_request == 100
    assert config.removal_policy == "retain"
    assert config.work_queue_visibility_timeout_seconds == 6 * 120 + 10
    assert config.stack_name == "GenesysAnalyticsBridge-test"


def test_an_unknown_environment_lists_the_available_ones(tmp_path: Path) -> None:
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": {"env": "dev", "dev": MINIMAL_BLOCK, "@aws-cdk/x:y": True}}))
    with pytest.raises(ConfigError, match=r"no environment 'qa'.*available: dev$"):
        load_environment_config("qa", cdk_json_path=cdk_json)
    assert load_environment_config("dev", cdk_json_path=cdk_json).event_bus_name == "test-bus"


def test_the_config_reads_the_one_region_list_without_loading_the_genesys_client() -> None:
    # Given a fresh interpreter
    # When the stack's config module is imported
    script = (
        "import sys; sys.path.insert(0, 'shared'); import stacks.config, stacks.config_formats as c; "
        "from genesys_bridge.regions import REGIONS; "
        "print(c.REGIONS is REGIONS, 'requests' in sys.modules, 'genesys_bridge.genesys' in sys.modules)"
    )
    result = subprocess.run(  # noqa: S603 - this interpreter with a fixed script
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO
    )
    # Then it validates regions against genesys_bridge.regions itself and never imports requests
    assert result.stdout.split() == ["True", "False", "False"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("genesys_ids_per_request", True),  # would synthesize as "1"
        ("pipe_parallelization_factor", False),
        ("processor_batch_size", "50"),
        ("processor_batch_size", 50.0),
        ("log_retention_days", "30"),
        ("removal_policy", True),
        ("topics", "customer.end"),
    ],
)
def test_a_value_of_the_wrong_json_type_is_refused_naming_the_key(key: str, value: Any) -> None:
    # Given a block whose value has the right meaning but the wrong JSON type
    # When it is validated
    with pytest.raises(ConfigError) as raised:
        parse_environment_config("dev", settings(**{key: value}))
    # Then the message names the key (no coercion: true is not 1, "50" and 50.0 are not 50)
    assert f"{key}:" in str(raised.value)


def test_a_nested_lifecycle_number_is_strict_too() -> None:
    with pytest.raises(ConfigError, match=r"results_lifecycle\.expire_after_days"):
        parse_environment_config("dev", settings(results_lifecycle={"expire_after_days": "30"}))


_GOOD_TEXT = {
    "account": "123456789012",
    "region": "eu-west-1",
    "alarm_email": "ops@example.com",
    "event_bus_name": "genesys-bus",
    "credentials_secret_name": "genesys/credentials",
    "credentials_secret_arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:genesys-AbCdEf",
    "genesys_api_base_url": "https://api.example.com",
    "environment_name": "staging",
}
_SPOILERS = {
    "trailing-newline": lambda good: good + "\n",
    "trailing-crlf": lambda good: good + "\r\n",
    "leading-space": lambda good: " " + good,
    "trailing-space": lambda good: good + " ",
    # every ASCII digit as the same digit of another script (Arabic-Indic)
    "non-ascii-digits": lambda good: good.translate({ord(d): chr(0x0660 + int(d)) for d in "0123456789"}),
}


@pytest.mark.parametrize(
    ("key", "spoiler"),
    [
        (key, spoiler)
        for key, good in _GOOD_TEXT.items()
        for spoiler in _SPOILERS
        if spoiler != "non-ascii-digits" or any(c.isdigit() for c in good)
    ],
)
def test_a_text_value_must_match_as_a_whole(key: str, spoiler: str) -> None:
    good = _GOOD_TEXT[key]
    block = settings() if key == "environment_name" else settings(**{key: good})
    if key == "credentials_secret_arn":
        del block["credentials_secret_name"]
    # Given a valid value, accepted as it is
    name = good if key == "environment_name" else "dev"
    parse_environment_config(name, block)
    # When it carries a trailing newline, a space or digits of another script
    bad = _SPOILERS[spoiler](good)
    # Then it is refused, naming the key (the environment name is the cdk.json context key)
    name, block = (bad, block) if key == "environment_name" else ("dev", {**block, key: bad})
    with pytest.raises(ConfigError, match=key):
        parse_environment_config(name, block)


def test_synth_with_a_bad_config_prints_the_message_alone_and_exits_1(tmp_path: Path) -> None:
    # Given an environment block with a boolean where a count belongs
    context = {"env": "dev", "dev": {**MINIMAL_BLOCK, "genesys_ids_per_request": True}}
    environment = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps(context),
        "CDK_OUTDIR": str(tmp_path),
        "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
    }
    # When the CDK app runs, as `cdk synth` runs it
    result = subprocess.run(
        [sys.executable, "app.py"], capture_output=True, text=True, check=False, cwd=REPO, env=environment
    )
    # Then it exits 1 with the message naming the key, and no traceback
    assert result.returncode == 1
    assert "genesys_ids_per_request" in result.stderr
    assert "Traceback" not in result.stderr


class TestProductionSettings:
    def test_alarm_email_and_alarm_emails_merge_each_address_once(self) -> None:
        config = parse_environment_config(
            "prod",
            settings(
                alarm_emails=["team@example.com", "oncall@example.com"], alarm_email="oncall@example.com"
            ),
        )
        assert config.alarm_recipient_emails == ("team@example.com", "oncall@example.com")
        # the single key alone still works, as it always did
        alone = parse_environment_config("prod", settings(alarm_email="oncall@example.com"))
        assert alone.alarm_recipient_emails == ("oncall@example.com",)

    def test_every_alarm_email_must_be_an_address(self) -> None:
        with pytest.raises(ConfigError, match=r"alarm_emails: 'oncall' is not an e-mail address"):
            parse_environment_config("dev", settings(alarm_emails=["ok@example.com", "oncall"]))

    @pytest.mark.parametrize(
        "arn",
        [
            "arn:aws:sns:eu-west-1:123456789012:alarms.fifo",  # CloudWatch cannot publish to FIFO topics
            "arn:aws:sqs:eu-west-1:123456789012:alarms",
            "alarms",
        ],
    )
    def test_the_alarm_topic_must_be_a_standard_sns_topic_arn(self, arn: str) -> None:
        with pytest.raises(ConfigError, match=r"alarm_topic_arn: .* is not the ARN of a standard SNS topic"):
            parse_environment_config("dev", settings(alarm_topic_arn=arn))

    def test_the_alarm_topic_must_be_in_the_stacks_region(self) -> None:
        with pytest.raises(ConfigError, match="alarm_topic_arn is in us-east-1 but the stack in eu-west-1"):
            parse_environment_config(
                "dev",
                settings(region="eu-west-1", alarm_topic_arn="arn:aws:sns:us-east-1:123456789012:alarms"),
            )

    @pytest.mark.parametrize(
        "arn",
        [
            "arn:aws:kms:eu-west-1:123456789012:alias/genesys",  # IAM grants on keys, not aliases
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:eu-west-1:123456789012:key/not-a-key-id",
        ],
    )
    def test_the_credentials_key_must_be_a_kms_key_arn(self, arn: str) -> None:
        with pytest.raises(ConfigError, match=r"credentials_kms_key_arn: .* is not the ARN of a KMS key"):
            parse_environment_config("dev", settings(credentials_kms_key_arn=arn))

    def test_the_credentials_key_must_be_in_the_secrets_region(self) -> None:
        block = settings(
            credentials_kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab",
            credentials_secret_arn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:genesys-AbCdEf",
        )
        del block["credentials_secret_name"]
        with pytest.raises(
            ConfigError, match="credentials_kms_key_arn is in us-east-1 but the secret is in eu-west-1"
        ):
            parse_environment_config("dev", block)

    def test_a_retain_environment_without_recipients_is_warned_about_and_others_are_not(self) -> None:
        unheard = parse_environment_config("prod", settings(removal_policy="retain"))
        assert unheard.unheard_alarms_warning is not None
        assert "'prod'" in unheard.unheard_alarms_warning
        for heard in (
            settings(removal_policy="retain", alarm_emails=["oncall@example.com"]),
            settings(removal_policy="retain", alarm_topic_arn="arn:aws:sns:eu-west-1:123456789012:pager"),
            settings(removal_policy="destroy"),
        ):
            assert parse_environment_config("prod", heard).unheard_alarms_warning is None

    def test_alarm_thresholds_have_defaults_and_ranges(self) -> None:
        config = parse_environment_config("dev", settings())
        assert (
            config.genesys_error_rate_alarm_percent,
            config.genesys_throttled_rate_alarm_percent,
            config.work_queue_stall_alarm_minutes,
        ) == (5, 10, 30)
        with pytest.raises(ConfigError, match=r"genesys_error_rate_alarm_percent.*allowed range 1\.\.100"):
            parse_environment_config("dev", settings(genesys_error_rate_alarm_percent=0))
        with pytest.raises(ConfigError, match=r"work_queue_stall_alarm_minutes.*multiple of 5"):
            parse_environment_config("dev", settings(work_queue_stall_alarm_minutes=32))

    def test_the_stall_window_must_outlast_two_processor_batches(self) -> None:
        # A 15-minute processor timeout reports its fetches only at the end of the invocation
        with pytest.raises(
            ConfigError, match="work_queue_stall_alarm_minutes must exceed two processor batches"
        ):
            parse_environment_config(
                "dev",
                settings(
                    processor_timeout_seconds=900,
                    processor_batching_window_seconds=0,
                    processor_batch_size=10,
                    work_queue_stall_alarm_minutes=30,
                ),
            )
