"""An audit under test: moto S3 (a versioned results bucket), the scripted Genesys jobs API, a fake clock,
and the real GenesysClient, AuditStore and AuditSteps wired together as the Lambda runtime wires them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import boto3
import pytest
import responses
from moto import mock_aws

from catalog.compact import BucketCompaction
from genesys_bridge.audit.model import AuditMode, AuditRequest
from genesys_bridge.audit.steps import AuditConfig, AuditSteps
from genesys_bridge.audit.store import AuditStore
from genesys_bridge.audit.workflow import WorkflowResult, run_workflow
from genesys_bridge.genesys import GenesysClient
from genesys_bridge.metrics import RecordingMetrics
from genesys_bridge.results import ResultsWriter
from tests.unit.audit.fakes import FakeGenesysJobs, FakeTime

BUCKET = "results"
REGION = "eu-west-1"
DAY = date(2026, 11, 20)


@dataclass
class AuditRig:
    s3: Any
    genesys: FakeGenesysJobs
    time: FakeTime
    metrics: RecordingMetrics
    make_steps: Callable[..., AuditSteps]
    s3_calls: list[tuple[str, str]]  # (operation, key or prefix) of every S3 request, in order

    def land_live(self, body: dict[str, Any]) -> str:
        """Land a body as the live path does (its own writer, its multi-get shape)."""
        return ResultsWriter(self.s3, BUCKET).put(body)

    def run(self, mode: AuditMode = AuditMode.AUDIT, day: date = DAY, **config: Any) -> WorkflowResult:
        steps = self.make_steps(**config)
        return run_workflow(
            steps, AuditRequest(mode=mode, day=day), sleep=self.time.sleep, queries=self.queries
        )

    @property
    def queries(self) -> BucketCompaction:
        """The compaction query as the in-process executor runs it (DuckDB over this bucket), with a
        client of its own: on AWS Athena reads the bucket, not the audit, so s3_calls leaves it out."""
        return BucketCompaction(boto3.client("s3", region_name=REGION), BUCKET)

    def object(self, key: str) -> dict[str, Any]:
        return dict(self.s3.get_object(Bucket=BUCKET, Key=key))

    def versions(self, key: str) -> int:
        listed = self.s3.list_object_versions(Bucket=BUCKET, Prefix=key)
        return len([v for v in listed.get("Versions", []) if v["Key"] == key])

    def keys(self, prefix: str = "") -> list[str]:
        listed = self.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def calls_of(self, operation: str) -> list[str]:
        return [target for name, target in self.s3_calls if name == operation]


@pytest.fixture
def rig() -> Iterator[AuditRig]:
    with mock_aws(), responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        calls: list[tuple[str, str]] = []

        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            calls.append((model.name, str(params.get("Key") or params.get("Prefix") or "")))

        s3.meta.events.register("provide-client-params.s3.*", record)
        genesys = FakeGenesysJobs(conversations=[])
        genesys.install(mock)
        clock = FakeTime()
        metrics = RecordingMetrics()

        def make_steps(**overrides: Any) -> AuditSteps:
            client = GenesysClient(
                region="mypurecloud.ie",
                client_id="audit-client",
                client_secret="audit-secret",
                max_requests_per_minute=6000,
                clock=clock.monotonic,
                sleep=clock.sleep,
            )
            running = overrides.pop("running_executions", None)
            return AuditSteps(
                genesys=client,
                genesys_requests=lambda: client.stats.requests,
                store=AuditStore(s3, BUCKET),
                config=AuditConfig(**{"page_size": 2, "max_requests_per_minute": 6000, **overrides}),
                metrics=metrics,
                running_executions=running,
                now=clock.now,
                monotonic=clock.monotonic,
            )

        yield AuditRig(s3, genesys, clock, metrics, make_steps, calls)
