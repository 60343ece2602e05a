"""The audit and finalization of one day against the Genesys simulator (HTTP on loopback) and moto S3:
what the live path missed is landed, what Genesys changed is re-landed, the reports count exactly."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from benchmarks.audit import VirtualTime
from catalog.compact import BucketCompaction
from genesys_bridge.audit.model import AuditMode, AuditRequest
from genesys_bridge.audit.steps import AuditConfig, AuditSteps
from genesys_bridge.audit.store import AuditStore
from genesys_bridge.audit.workflow import run_workflow
from genesys_bridge.genesys import GenesysClient
from genesys_bridge.layout import canonical_form, result_key
from genesys_bridge.metrics import MetricName, RecordingMetrics
from genesys_bridge.results import ResultsWriter
from genesys_simulator import GenesysSimulator, SimConversation, render_details
from genesys_simulator.config import SimulatorConfig

pytestmark = pytest.mark.integration

BUCKET = "results"


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        yield client


def test_a_day_is_audited_then_finalized_against_the_simulator(s3: Any) -> None:
    # Given yesterday's 40 conversations in the simulator, 36 of them landed by the live path
    clock = VirtualTime(datetime.now(UTC))
    day = clock.now().date() - timedelta(days=1)
    start = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
    conversations = [SimConversation(str(uuid.uuid4()), start + timedelta(minutes=i)) for i in range(40)]
    config = SimulatorConfig(job_queued_s=2, job_fulfilled_after_s=30, clock=clock.monotonic)
    for conversation in conversations[4:]:
        ResultsWriter(s3, BUCKET).put(
            render_details(conversation, ended=True, division_id=config.division_id)
        )
    metrics = RecordingMetrics()

    with GenesysSimulator(config) as sim:
        sim.add_conversations(conversations)

        def run(mode: AuditMode) -> dict[str, Any]:
            client = GenesysClient(
                region="mypurecloud.ie",
                client_id=config.client_id,
                client_secret=config.client_secret,
                api_base_url=sim.base_url,
                login_base_url=sim.base_url,
                max_requests_per_minute=300,
                clock=clock.monotonic,
                sleep=clock.sleep,
            )
            steps = AuditSteps(
                genesys=client,
                genesys_requests=lambda: client.stats.requests,
                store=AuditStore(s3, BUCKET),
                config=AuditConfig(page_size=15, max_requests_per_minute=300),
                metrics=metrics,
                now=clock.now,
                monotonic=clock.monotonic,
            )
            result = run_workflow(
                steps,
                AuditRequest(mode=mode, day=day),
                sleep=clock.sleep,
                queries=BucketCompaction(s3, BUCKET),
            )
            client.close()
            assert result.report is not None
            return result.report

        # When the day is audited
        audit = run(AuditMode.AUDIT)
        # Then the four missing conversations are landed and the report counts the day exactly
        assert {k: audit[k] for k in ("in_genesys", "already_landed", "missing_landed", "unchanged")} == {
            "in_genesys": 40,
            "already_landed": 36,
            "missing_landed": 4,
            "unchanged": 36,
        }
        assert audit["pages"] == 3
        for conversation in conversations[:4]:
            key = result_key(render_details(conversation, ended=True, division_id=config.division_id))
            assert s3.head_object(Bucket=BUCKET, Key=key)["Metadata"]["source"].endswith("/details/jobs")

        # When Genesys reprocesses three of them, and the day is finalized
        changed = [SimConversation(c.conversation_id, c.start, duration_s=901.0) for c in conversations[:3]]
        sim.add_conversations(changed)
        final = run(AuditMode.FINALIZE)

    # Then exactly those three are re-landed, holding the new details
    assert (final["changed_relanded"], final["unchanged"], final["missing_landed"]) == (3, 37, 0)
    for conversation in changed:
        expected = render_details(conversation, ended=True, division_id=config.division_id)
        body = s3.get_object(Bucket=BUCKET, Key=result_key(expected))["Body"].read()
        assert json.loads(body) == canonical_form(expected)
    assert metrics.counts[MetricName.AUDIT_MISSING_CONVERSATIONS] == 4
    assert metrics.counts[MetricName.AUDIT_CHANGED_CONVERSATIONS] == 3
