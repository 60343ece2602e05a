"""The lookups sync against the Genesys simulator (HTTP on loopback) and moto S3: every page of every
listing lands, deleted users included; a forbidden listing is reported with its permission and the
others still land; a failing listing lands nothing and fails the sync's report, naming it; after a
rename and a second sync, the views and the KPIs show the new names."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from catalog import local, sqlsource
from genesys_bridge import layout
from genesys_bridge.genesys import GenesysClient
from genesys_bridge.lookups import LISTINGS, LookupsFailed, Outcome, report, snapshot_day, sync_lookups
from genesys_bridge.metrics import MetricName, RecordingMetrics
from genesys_simulator import GenesysSimulator, render_details, synthetic_conversations
from genesys_simulator.config import SimulatorConfig
from genesys_simulator.org import HOME_DIVISION_ID, OrgSpec
from tests.unit.catalog.conftest import land

BUCKET = "results"
DAY, NEXT_DAY = date(2026, 12, 6), date(2026, 12, 7)
# The simulator's names of the listings, by lookup.
SIMULATOR_LISTING = {lookup: lookup.replace("_", "") for lookup in layout.LOOKUPS}


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield client


def client_of(sim: GenesysSimulator) -> GenesysClient:
    return GenesysClient(
        region="mypurecloud.ie",
        client_id=sim.config.client_id,
        client_secret=sim.config.client_secret,
        api_base_url=sim.base_url,
        login_base_url=sim.base_url,
        max_requests_per_minute=100_000,
    )


def snapshot(s3: Any, lookup: str, day: date = DAY) -> list[dict[str, Any]]:
    obj = s3.get_object(Bucket=BUCKET, Key=layout.lookup_key(lookup, day))
    assert obj["ContentType"] == "application/x-ndjson"
    return [json.loads(line) for line in obj["Body"].read().decode("utf-8").splitlines()]


def sync(sim: GenesysSimulator, s3: Any, metrics: RecordingMetrics | None = None, day: date = DAY) -> Any:
    with client_of(sim) as genesys:
        return sync_lookups(day, genesys=genesys, s3=s3, bucket=BUCKET, metrics=metrics or RecordingMetrics())


def test_the_listings_are_the_layouts_lookups_in_its_order() -> None:
    assert tuple(LISTINGS) == layout.LOOKUPS


def test_every_page_of_every_listing_lands_deleted_users_included(s3: Any) -> None:
    # Given an org of 250 agents (3 pages of 100), 4 of them deleted
    metrics = RecordingMetrics()
    with GenesysSimulator(SimulatorConfig(org=OrgSpec(agents=250), requests_per_minute=None)) as sim:
        results = sync(sim, s3, metrics)
        org, by_endpoint = sim.org, sim.stats()["by_endpoint"]
    requests = {listing: by_endpoint.get(listing, 0) for listing in SIMULATOR_LISTING.values()}

    assert [(r.lookup, r.outcome) for r in results] == [(lookup, Outcome.LANDED) for lookup in layout.LOOKUPS]
    users = snapshot(s3, "users")
    assert {u["id"] for u in users} == {agent.id for agent in org.agents}
    assert sum(u["state"] == "deleted" for u in users) == sum(a.state == "deleted" for a in org.agents) > 0
    assert [u["id"] for u in users] == sorted(u["id"] for u in users)  # one line per entity, by id
    assert requests["users"] == 3  # pageSize 100: no page read twice, none left out
    queues = {q["id"]: q for q in snapshot(s3, "queues")}
    assert set(queues) == {queue.id for queue in org.queues}
    assert all("serviceLevel" in media for q in queues.values() for media in q["mediaSettings"].values())
    for lookup, entities in (
        ("wrapup_codes", org.wrapup_codes),
        ("divisions", org.divisions),
        ("skills", org.skills),
        ("languages", org.languages),
    ):
        assert {e["name"] for e in snapshot(s3, lookup)} == {e.name for e in entities}
    assert metrics.counts[MetricName.LOOKUP_ENTITIES] == sum(r.entities for r in results)
    assert metrics.counts[MetricName.GENESYS_REQUESTS] == sum(requests.values()) == 8
    assert results[1].key == layout.lookup_key("users", DAY)


def test_a_forbidden_listing_is_reported_with_its_permission_and_the_others_land(
    s3: Any, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = RecordingMetrics()
    config = SimulatorConfig(forbidden_listings=frozenset({"queues"}), requests_per_minute=None)
    with caplog.at_level(logging.WARNING), GenesysSimulator(config) as sim:
        results = sync(sim, s3, metrics)

    by_lookup = {r.lookup: r for r in results}
    forbidden = by_lookup.pop("queues")
    assert (forbidden.outcome, forbidden.permission) == (Outcome.FORBIDDEN, "routing:queue:view")
    assert all(r.outcome is Outcome.LANDED and r.entities > 0 for r in by_lookup.values())
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert sorted(keys) == sorted(layout.lookup_key(lookup, DAY) for lookup in by_lookup)
    assert any("queues" in r.message and "routing:queue:view" in r.message for r in caplog.records)
    assert metrics.counts[MetricName.LOOKUPS_FORBIDDEN] == 1
    # the sync as a whole succeeds, and says which lookup needs which permission
    summary = report([r.to_dict() for r in results])
    assert summary["forbidden"] == {"queues": "routing:queue:view"}
    assert set(summary["landed"]) == set(by_lookup)


def test_a_rename_or_a_deletion_shows_in_the_next_days_snapshot_and_the_old_one_keeps_the_old(
    s3: Any,
) -> None:
    with GenesysSimulator(SimulatorConfig(requests_per_minute=None)) as sim:
        queue, code = sim.org.queues[0], sim.org.wrapup_codes[0]
        sync(sim, s3, day=DAY)
        sim.rename_entity("queues", queue.id, "Renamed queue")
        sim.delete_entity("wrapupcodes", code.id)
        sync(sim, s3, day=NEXT_DAY)

    before, after = ({q["id"]: q["name"] for q in snapshot(s3, "queues", d)} for d in (DAY, NEXT_DAY))
    assert before[queue.id] == queue.name
    assert after[queue.id] == "Renamed queue"
    assert code.id in {c["id"] for c in snapshot(s3, "wrapup_codes", DAY)}
    assert code.id not in {c["id"] for c in snapshot(s3, "wrapup_codes", NEXT_DAY)}


def test_a_listing_that_fails_lands_nothing_and_the_report_fails_naming_it(s3: Any) -> None:
    class FailingOnUsers(GenesysClient):
        def iter_entities(self, path: str, params: Any = None, *, deadline: float | None = None) -> Any:
            if path == LISTINGS["users"].path:
                yield from super().iter_entities(path, params, deadline=deadline)
                raise RuntimeError("page 2 never came")
            yield from super().iter_entities(path, params, deadline=deadline)

    with GenesysSimulator(SimulatorConfig(requests_per_minute=None)) as sim:
        genesys = FailingOnUsers(
            region="mypurecloud.ie",
            client_id=sim.config.client_id,
            client_secret=sim.config.client_secret,
            api_base_url=sim.base_url,
            login_base_url=sim.base_url,
            max_requests_per_minute=100_000,
        )
        with genesys:
            results = sync_lookups(DAY, genesys=genesys, s3=s3, bucket=BUCKET, metrics=RecordingMetrics())

    failed = [r for r in results if r.outcome is Outcome.FAILED]
    assert [(r.lookup, r.error) for r in failed] == [("users", "RuntimeError: page 2 never came")]
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert layout.lookup_key("users", DAY) not in keys
    assert len(keys) == len(layout.LOOKUPS) - 1  # the lookups after it still landed
    with pytest.raises(LookupsFailed, match="users: failed, RuntimeError: page 2 never came"):
        report([r.to_dict() for r in results])


def test_the_report_reads_what_the_workflows_catch_records_for_a_failed_lookup() -> None:
    caught = {
        "lookup": "skills",
        "outcome": "failed",
        "error": {
            "Error": "GenesysApiError",
            "Cause": json.dumps({"errorMessage": "Genesys API error 404", "errorType": "GenesysApiError"}),
        },
    }
    landed = {"lookup": "queues", "outcome": "landed", "entities": 3, "snapshot_date": "2026-12-06"}
    with pytest.raises(LookupsFailed) as failure:
        report([landed, caught])
    assert str(failure.value) == "skills: failed, GenesysApiError: Genesys API error 404"
    assert report([landed]) == {"landed": {"queues": 3}, "forbidden": {}}


@pytest.mark.parametrize(
    ("started_at", "day"),
    [("2026-12-06T23:59:59.999Z", date(2026, 12, 6)), ("2026-12-07T01:30:00+02:00", date(2026, 12, 6))],
)
def test_a_sync_lands_on_the_utc_day_its_execution_started(started_at: str, day: date) -> None:
    assert snapshot_day(started_at) == day


def test_a_start_time_that_is_not_iso_8601_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match=r"started_at must be an ISO 8601 time.*'yesterday'"):
        snapshot_day("yesterday")


def test_after_a_rename_and_a_second_sync_the_views_and_the_kpis_show_the_new_names(
    s3: Any, tmp_path: Path
) -> None:
    # Given conversations of the simulator's org landed, and a sync on each side of a queue's and an
    # agent's rename
    bodies = [
        render_details(c, ended=True, division_id=HOME_DIVISION_ID)
        for c in synthetic_conversations(40, seed=3)
    ]
    land(tmp_path, bodies)
    with GenesysSimulator(SimulatorConfig(requests_per_minute=None)) as sim:
        sync(sim, s3, day=DAY)
        segments = [
            g for b in bodies for p in b["participants"] for x in p["sessions"] for g in x["segments"]
        ]
        queue_id = next(g["queueId"] for g in segments if g.get("queueId"))
        agent_id = next(p["userId"] for b in bodies for p in b["participants"] if p.get("userId"))
        sim.rename_entity("queues", queue_id, "Renamed queue")
        sim.rename_entity("users", agent_id, "Renamed Agent")
        sync(sim, s3, day=NEXT_DAY)
    for entry in s3.list_objects_v2(Bucket=BUCKET)["Contents"]:  # the bucket exported, as the demo does
        path = tmp_path / entry["Key"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(s3.get_object(Bucket=BUCKET, Key=entry["Key"])["Body"].read())

    # When the views and the KPIs are read over both snapshots
    with local.connect(tmp_path) as catalog:
        queue = local.run(catalog, f"SELECT queue_name FROM queues WHERE queue_id = '{queue_id}'").rows  # noqa: S608
        user = local.run(catalog, f"SELECT user_name FROM users WHERE user_id = '{agent_id}'").rows  # noqa: S608
        queues = local.run(catalog, sqlsource.kpi_query("queue_performance").sql)
        agents = local.run(catalog, sqlsource.kpi_query("agent_performance").sql)

    # Then each shows the latest name
    assert queue == [("Renamed queue",)]
    assert user == [("Renamed Agent",)]
    assert {r[2] for r in queues.rows if r[1] == queue_id} == {"Renamed queue"}
    assert {r[2] for r in agents.rows if r[1] == agent_id} == {"Renamed Agent"}
