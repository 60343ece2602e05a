"""How an ops command ends: its exit statuses, the errors it raises, and the one line an AWS failure
becomes (every command of `python -m ops`, backfill included, prints failures the same way)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    SSOError,
    TokenRetrievalError,
)

EXIT_OK = 0
EXIT_FAILED = 1  # the command ran and something needs attention (refused messages, a failed task or day)
EXIT_USAGE = 2  # the command could not run (bad input, no stack, no credentials); nothing was changed
EXIT_INTERRUPTED = 130  # Ctrl-C (backfill: what it started keeps running in AWS)

# ClientError codes that mean the credentials, not the request, are the problem.
_CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "AccessDenied",
        "AccessDeniedException",
        "AuthFailure",
    }
)
# botocore's own errors for credentials it cannot find or refresh (SSOError covers an expired or
# missing `aws sso login` cache).
_NO_CREDENTIALS = (
    NoCredentialsError,
    PartialCredentialsError,
    TokenRetrievalError,
    CredentialRetrievalError,
    SSOError,
)


class OpsError(Exception):
    """Something the operator must fix or know; main() prints the message and exits 2."""


class CommandFailed(OpsError):
    """The command ran and did not fully succeed (refused messages, a failed move task); exit 1."""


def aws_failure(error: BotoCoreError | ClientError) -> tuple[str, int]:
    """The one line that says what went wrong talking to AWS, and the exit status: EXIT_USAGE when the
    credentials or the region are the problem (nothing could run), EXIT_FAILED otherwise."""
    if isinstance(error, _NO_CREDENTIALS):
        return (
            f"no usable AWS credentials ({error}): sign in first (e.g. `aws sso login`, or set "
            "AWS_PROFILE to a profile of the stack's account)",
            EXIT_USAGE,
        )
    if isinstance(error, NoRegionError):
        return (
            "no AWS region: pass --region, set AWS_DEFAULT_REGION (or a profile's region), or set "
            "`region` in the environment's cdk.json block",
            EXIT_USAGE,
        )
    if isinstance(error, ClientError):
        details: dict[str, Any] = dict(error.response.get("Error", {}))
        code = str(details.get("Code", "?"))
        what = f" {details['BucketName']}" if details.get("BucketName") else ""  # S3 names its bucket
        hint = (
            ": check that the credentials are current and allowed to operate this stack"
            if code in _CREDENTIAL_CODES
            else ""
        )
        line = f"AWS refused {error.operation_name} ({code}{what}): {details.get('Message', '')}{hint}"
        return line, EXIT_USAGE if code in _CREDENTIAL_CODES else EXIT_FAILED
    return f"cannot reach AWS: {error}", EXIT_FAILED
