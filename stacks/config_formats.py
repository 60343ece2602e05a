"""What a well-formed value of an environment's settings looks like: the patterns of names and ARNs,
the retention periods CloudWatch Logs accepts, and an ARN's region (stacks/config.py applies them).
"""

from __future__ import annotations

import re

from pydantic import AfterValidator

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
