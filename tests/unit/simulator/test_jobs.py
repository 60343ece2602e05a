"""The async details jobs: QUEUED -> PENDING -> FULFILLED, then results pages by cursor."""

from __future__ import annotations

from collections.abc import Callable

from genesys_simulator import GenesysSimulator
from tests.unit.simulator.conftest import JOBS, Api, FakeClock, conversation

INTERVAL = "2026-11-20T00:00:00.000Z/2026-11-21T00:00:00.000Z"


def test_a_job_runs_then_pages_its_results_by_cursor(
    make_sim: Callable[..., GenesysSimulator], clock: FakeClock
) -> None:
    # Given five conversations and jobs that queue for 1 s and complete after 3 s
    sim = make_sim(job_queued_s=1.0, job_fulfilled_after_s=3.0)
    sim.add_conversations([conversation(i) for i in range(5)])
    api = Api(sim)

    # When a job is submitted
    created = api.post(JOBS, {"interval": INTERVAL})
    assert created.status_code == 202
    job_url = f"{JOBS}/{created.json()['jobId']}"

    # Then its state moves with time, and results wait for FULFILLED
    assert api.get(job_url).json()["state"] == "QUEUED"
    clock.advance(1)
    assert api.get(job_url).json()["state"] == "PENDING"
    early = api.get(f"{job_url}/results")
    assert early.status_code == 400
    clock.advance(2)
    assert api.get(job_url).json()["state"] == "FULFILLED"

    # And its results come two at a time, each page pointing at the next, the last without a cursor
    pages = []
    cursor: str | None = None
    while True:
        params = {"pageSize": "2"} | ({"cursor": cursor} if cursor else {})
        page = api.get(f"{job_url}/results", **params).json()
        pages.append(page)
        cursor = page.get("cursor")
        if not cursor:
            break
    assert [len(p["conversations"]) for p in pages] == [2, 2, 1]
    ids = [c["conversationId"] for p in pages for c in p["conversations"]]
    assert ids == [conversation(i).conversation_id for i in range(5)]


def test_job_errors(api: Api) -> None:
    unknown = api.get(f"{JOBS}/00000000-0000-4000-8000-000000000000")
    too_long = api.post(JOBS, {"interval": "2026-01-01T00:00:00Z/2026-03-01T00:00:00Z"})
    job_id = api.post(JOBS, {"interval": INTERVAL}).json()["jobId"]
    deleted = api.session.delete(
        f"{api.base}{JOBS}/{job_id}", headers={"Authorization": f"Bearer {api.token}"}, timeout=5
    )

    assert unknown.status_code == 404
    assert too_long.status_code == 400
    assert deleted.status_code == 204
    assert api.get(f"{JOBS}/{job_id}").json()["state"] == "CANCELLED"
