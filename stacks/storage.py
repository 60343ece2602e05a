"""Storage: the results bucket where each conversation's details land, and its access-log bucket."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from genesys_bridge import layout
from stacks.config import ResultsLifecycle


class Storage(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        lifecycle: ResultsLifecycle,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs_bucket = private_bucket(
            self,
            "AccessLogsBucket",
            removal_policy=removal_policy,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=Duration.days(lifecycle.access_logs_expire_after_days),
                )
            ],
        )
        self.results_bucket = private_bucket(
            self,
            "ResultsBucket",
            removal_policy=removal_policy,
            lifecycle_rules=[_results_lifecycle_rule(lifecycle), *_compacted_json_rules(lifecycle)],
            access_logs=(self.access_logs_bucket, "results-bucket/"),
            # A late duplicate rewrites a conversation's object; versions keep the earlier copy a while.
            versioned=True,
        )


def private_bucket(
    scope: Construct,
    construct_id: str,
    *,
    removal_policy: RemovalPolicy,
    lifecycle_rules: list[s3.LifecycleRule],
    access_logs: tuple[s3.IBucket, str] | None = None,
    versioned: bool | None = None,
) -> s3.Bucket:
    """A bucket of the bridge: S3-managed keys, no public access, no ACLs, TLS only; its server access
    logs go to `access_logs` (bucket, prefix) when given."""
    logs_bucket, logs_prefix = access_logs if access_logs is not None else (None, None)
    return s3.Bucket(
        scope,
        construct_id,
        # S3 server access logging delivers only to buckets with S3-managed keys.
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforce_ssl=True,
        versioned=versioned,
        server_access_logs_bucket=logs_bucket,
        server_access_logs_prefix=logs_prefix,
        removal_policy=removal_policy,
        # An environment that is destroyed with its stack (dev) empties its buckets first, so
        # `cdk destroy` alone tears it down; CloudFormation cannot delete a bucket that holds objects.
        auto_delete_objects=removal_policy == RemovalPolicy.DESTROY,
        lifecycle_rules=lifecycle_rules,
    )


def _compacted_json_rules(lifecycle: ResultsLifecycle) -> list[s3.LifecycleRule]:
    """Landed JSON objects deleted once their day is compacted (the config checks the day is by then)."""
    days = lifecycle.expire_compacted_json_after_days
    if days is None:
        return []
    return [
        s3.LifecycleRule(
            id="expire-compacted-json", prefix=layout.CONVERSATIONS.prefix, expiration=Duration.days(days)
        )
    ]


def _results_lifecycle_rule(lifecycle: ResultsLifecycle) -> s3.LifecycleRule:
    transitions = []
    if lifecycle.infrequent_access_after_days is not None:
        transitions.append(
            s3.Transition(
                storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                transition_after=Duration.days(lifecycle.infrequent_access_after_days),
            )
        )
    if lifecycle.glacier_instant_retrieval_after_days is not None:
        transitions.append(
            s3.Transition(
                storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                transition_after=Duration.days(lifecycle.glacier_instant_retrieval_after_days),
            )
        )
    return s3.LifecycleRule(
        id="results-lifecycle",
        transitions=transitions or None,
        expiration=(
            Duration.days(lifecycle.expire_after_days) if lifecycle.expire_after_days is not None else None
        ),
        noncurrent_version_expiration=Duration.days(lifecycle.noncurrent_versions_expire_after_days),
        abort_incomplete_multipart_upload_after=Duration.days(7),
    )
