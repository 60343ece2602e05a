"""The run's lookups check: a refused lookup is reported, not a failed run; a failed one fails it."""

from __future__ import annotations

from genesys_bridge.lookups.sync import LookupResult, Outcome
from local_runner.report import check_lookups


def test_landed_and_refused_lookups_pass_and_the_detail_counts_them() -> None:
    results = [
        LookupResult("queues", Outcome.LANDED, entities=10),
        LookupResult("users", Outcome.LANDED, entities=100),
        LookupResult("skills", Outcome.FORBIDDEN, permission="routing:skill:view"),
    ]

    check = check_lookups(results)

    assert check.ok
    assert check.detail == "1 forbidden, 2 landed"


def test_a_failed_lookup_fails_the_check_and_is_named_with_its_error() -> None:
    results = [
        LookupResult("queues", Outcome.LANDED, entities=10),
        LookupResult("users", Outcome.FAILED, error="GenesysApiError: 503"),
    ]

    check = check_lookups(results)

    assert not check.ok
    assert check.detail == "users: failed, GenesysApiError: 503"


def test_no_lookup_at_all_says_so() -> None:
    assert check_lookups([]).detail == "no lookup ran"
