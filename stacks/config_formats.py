"""What a well-formed value of an environment's settings looks like: the patterns of names and ARNs,
the retention periods CloudWatch Logs accepts, the types of the single-value checks, and an ARN's region
(stacks/config.py applies them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator

from genesys_bridge.regions import REGIONS

# json_schema_extra keys of a setting, for docs/configuration.md (stacks/config_docs.py): what it allows
# when its type and bounds do not say it all (ALLOWED), or what it must also satisfy (ALSO).
ALLOWED, ALSO = "allowed", "also"

# Every pattern below is applied with re.fullmatch (never `$`, which also matches before a final
# newline) and spells digits [0-9] (`\d` also matches other scripts' digits).
PARTNER_BUS_NAME = re.compile(r"aws\.partner/genesys\.com/cloud/[^/\s]+/[^/\s]+")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
SECRET_ARN = re.compile(r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[^:\s]+-[A-Za-z0-9]{6}")
# A KMS key by its ARN (single- or multi-Region key), never an alias: IAM grants kms:Decrypt on keys.
KMS_KEY_ARN = re.compile(
    r"arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|mrk-[0-9a-f]{32})"
)
# A standard SNS topic: CloudWatch alarm actions cannot publish to FIFO topics (names ending .fifo).
SNS_TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}")


def full_match(pattern: str, what: str) -> AfterValidator:
    """A validator that accepts a string only if `pattern` matches all of it."""
    regex = re.compile(pattern)

    def check(value: str) -> str:
        if regex.fullmatch(value) is None:
            raise ValueError(f"{value[:100]!r} is not {what}")
        return value

    return AfterValidator(check)


# The only retention periods CloudWatch Logs accepts.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip


def arn_region(arn: str | None) -> str | None:
    """The region field of an ARN (arn:partition:service:region:account:resource)."""
    return None if arn is None else arn.split(":")[3]


def _checked(is_valid: Callable[[str], bool], problem: Callable[[str], str]) -> AfterValidator:
    """A validator that accepts a value `is_valid` accepts, else says `problem(value)`."""

    def check(value: str) -> str:
        if not is_valid(value):
            raise ValueError(problem(value))
        return value

    return AfterValidator(check)


def _matches(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda value: pattern.fullmatch(value) is not None


def _is_past_day(day: str) -> bool:
    try:
        first = date.fromisoformat(day) if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", day) else None
    except ValueError:
        return False
    return first is not None and date(2000, 1, 1) <= first <= datetime.now(UTC).date()


def _retention_days(days: int) -> int:
    if days not in LOG_RETENTION_DAYS:
        raise ValueError(f"allowed values: {', '.join(map(str, LOG_RETENTION_DAYS))}")
    return days


GenesysRegion = Annotated[
    str,
    _checked(
        lambda region: region in REGIONS,
        lambda region: f"unknown Genesys region {region!r}; allowed: {', '.join(sorted(REGIONS))}",
    ),
]
SecretArn = Annotated[
    str,
    _checked(
        _matches(SECRET_ARN),
        lambda _: "must be the complete ARN of a Secrets Manager secret, ending in its 6-character suffix",
    ),
]
KmsKeyArn = Annotated[
    str,
    _checked(
        _matches(KMS_KEY_ARN),
        lambda arn: (
            f"{arn[:100]!r} is not the ARN of a KMS key "
            "(arn:aws:kms:<region>:<account>:key/<key id>; an alias is not accepted)"
        ),
    ),
]
SnsTopicArn = Annotated[
    str,
    _checked(
        _matches(SNS_TOPIC_ARN),
        lambda arn: (
            f"{arn[:100]!r} is not the ARN of a standard SNS topic (arn:aws:sns:<region>:<account>:<name>)"
        ),
    ),
]
Email = Annotated[str, _checked(_matches(EMAIL), lambda email: f"{email[:100]!r} is not an e-mail address")]


def _emails(emails: list[str]) -> list[str]:
    for email in emails:
        if EMAIL.fullmatch(email) is None:
            raise ValueError(f"{email[:100]!r} is not an e-mail address")
    return emails


# Checked as one list, so an error names the key rather than an index into it.
Emails = Annotated[list[str], AfterValidator(_emails)]
LogRetentionDays = Annotated[int, AfterValidator(_retention_days)]
PastDay = Annotated[
    str,
    _checked(
        _is_past_day,
        lambda day: (
            f"{day!r} is not a YYYY-MM-DD day from 2000-01-01 to today "
            f"({datetime.now(UTC).date().isoformat()})"
        ),
    ),
]
