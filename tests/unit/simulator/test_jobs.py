"""The async details jobs: states, interval semantics, availability, limits, expiry, paging, faults."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from genesys_bridge.genesys import GenesysClient
from genesys_simulator import FaultProfile, GenesysSimulator, SimulatorConfig
from genesys_simulator.details_rendering import iso_millis
from tests.unit.simulator.conftest import (
    AVAILABILITY,
    DAY,
    JOBS,
    QUERY,
    Api,
    FakeClock,
    as_sampled,
    conversation,
    load_fixture,
    shape,
)

INTERVAL = "2026-11-20T00:00:00.000Z/2026-11-21T00:00:00.000Z"
# Two days after DAY: a job over DAY is complete unless a test says otherwise.
AVAILABLE = DAY + timedelta(days=2)


@pytest.fixture
def jobs_sim(make_sim: Callable[..., GenesysSimulator]) -> Callable[..., GenesysSimulator]:
    """A simulator whose jobs queue for 1 s and finish after 3 s, with the data of DAY available."""

    def make(**overrides: Any) -> GenesysSimulator:
        settings: dict[str, Any] = {
            "job_queued_s": 1.0,
            "job_fulfilled_after_s": 3.0,
            "data_availability_date": AVAILABLE,
        }
        return make_sim(**(settings | overrides))

    return make


def _submit(api: Api, **body: Any) -> str:
    response = api.post(JOBS, {"interval": INTERVAL} | body)
    assert response.status_code == 202, response.text
    job_id: str = response.json()["jobId"]
    return job_id


def _pages(api: Api, job_id: str, **params: str) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        response = api.get(f"{JOBS}/{job_id}/results", **params, **({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.text
        pages.append(response.json())
        cursor = pages[-1].get("cursor")
        if not cursor:
            return pages


def _ids(pages: list[dict[str, Any]]) -> list[str]:
    return [c["conversationId"] for page in pages for c in page["conversations"]]


def _run(api: Api, clock: FakeClock, **body: Any) -> list[str]:
    job_id = _submit(api, **body)
    clock.advance(3)
    return _ids(_pages(api, job_id))


def test_a_job_runs_then_pages_its_results_by_cursor(
    jobs_sim: Callable[..., GenesysSimulator], clock: FakeClock
) -> None:
    # Given five conversations and jobs that queue for 1 s and complete after 3 s
    sim = jobs_sim()
    sim.add_conversations([conversation(i) for i in range(5)])
    api = Api(sim)

    # When a job is submitted
    job_url = f"{JOBS}/{_submit(api)}"

    # Then its state moves with time, and results wait for FULFILLED
    assert api.get(job_url).json()["state"] == "QUEUED"
    clock.advance(1)
    assert api.get(job_url).json()["state"] == "PENDING"
    early = api.get(f"{job_url}/results")
    assert early.status_code == 400
    clock.advance(2)
    assert api.get(job_url).json()["state"] == "FULFILLED"

    # And its results come two at a time, each page pointing at the next, the last without a cursor,
    # every page carrying the availability date as the sample page does
    pages = _pages(api, job_url.rsplit("/", 1)[1], pageSize="2")
    assert [len(p["conversations"]) for p in pages] == [2, 2, 1]
    assert _ids(pages) == [conversation(i).conversation_id for i in range(5)]
    assert set(pages[0]) == set(load_fixture("details-job-results-page.json"))
    assert {p["dataAvailabilityDate"] for p in pages} == {iso_millis(AVAILABLE)}


def test_job_results_are_analytics_conversations_with_attributes(
    jobs_sim: Callable[..., GenesysSimulator], clock: FakeClock
) -> None:
    # Given one conversation with short attributes and one with a note longer than 1024 characters
    short = conversation(0, attributes={"accountNumber": "IE-0042-7781", "language": "en-IE"})
    long = conversation(1, attributes={"notes": "x" * 1500})
    sim = jobs_sim()
    sim.add_conversations([short, long])
    api = Api(sim)

    # When a job reads them, and the multi-get and the query too
    job_id = _submit(api)
    clock.advance(3)
    results = {c["conversationId"]: c for c in _pages(api, job_id)[0]["conversations"]}
    fetched = api.multi_get([short.conversation_id]).json()["conversations"][0]
    queried = api.post(QUERY, {"interval": INTERVAL}).json()["conversations"]

    # Then the job's participants carry the attributes, shaped like the sample results page, with
    # values cut at 1024 characters; the multi-get and the query carry none
    sample = load_fixture("details-job-results-page.json")["conversations"][0]
    assert shape(as_sampled(results[short.conversation_id])) == shape(as_sampled(sample))
    with_data = [
        p for p in results[long.conversation_id]["participants"] if p["purpose"] in ("customer", "agent")
    ]
    assert {p["attributes"]["notes"] for p in with_data} == {"x" * 1024}
    assert all("attributes" not in p for c in [fetched, *queried] for p in c["participants"])
    # and apart from the attributes the job returns the body the multi-get does
    for participant in results[short.conversation_id]["participants"]:
        participant.pop("attributes", None)
    assert results[short.conversation_id] == fetched
    assert sim.final_details(short.conversation_id, with_attributes=True)["participants"][0][
        "attributes"
    ] == {
        "accountNumber": "IE-0042-7781",
        "language": "en-IE",
    }


def test_jobs_find_activity_in_the_interval_unless_matching_by_start_day(
    jobs_sim: Callable[..., GenesysSimulator], clock: FakeClock
) -> None:
    # Given a conversation that started the evening before DAY and ran past midnight, two on DAY and
    # one on the day after
    overnight = conversation(0, start=DAY - timedelta(minutes=5), duration_s=900, acw_s=0.0)
    on_day = [
        conversation(1, start=DAY + timedelta(hours=9)),
        conversation(2, start=DAY + timedelta(hours=23)),
    ]
    next_day = conversation(3, start=DAY + timedelta(days=1, hours=1))
    sim = jobs_sim()
    sim.add_conversations([overnight, *on_day, next_day])
    api = Api(sim)

    # When DAY is read by a job, with and without startOfDayIntervalMatching
    any_activity = _run(api, clock)
    started_on_day = _run(api, clock, startOfDayIntervalMatching=True)

    # Then without it the job also returns the overnight one (its activity reached into DAY); with it,
    # only the two that started on DAY, as the query would
    day_ids = [c.conversation_id for c in on_day]
    assert any_activity == [overnight.conversation_id, *day_ids]
    assert started_on_day == day_ids
    assert [
        c["conversationId"] for c in api.post(QUERY, {"interval": INTERVAL}).json()["conversations"]
    ] == day_ids


def test_limit_and_order(jobs_sim: Callable[..., GenesysSimulator], clock: FakeClock) -> None:
    sim = jobs_sim()
    sim.add_conversations([conversation(i) for i in range(4)])
    api = Api(sim)

    newest_two = _run(api, clock, order="desc", limit=2)

    assert newest_two == [conversation(3).conversation_id, conversation(2).conversation_id]


def test_availability_lags_the_simulated_clock_and_can_be_pinned(
    make_sim: Callable[..., GenesysSimulator], clock: FakeClock
) -> None:
    # Given a simulator whose data is available up to an hour ago
    sim = make_sim(data_availability_lag_s=3600)
    api = Api(sim)

    # When availability is asked now and a minute later
    first = api.get(AVAILABILITY).json()["dataAvailabilityDate"]
    clock.advance(60)
    second = api.get(AVAILABILITY).json()["dataAvailabilityDate"]

    # Then it is an hour behind the simulated wall clock and moves with it
    assert first == iso_millis(sim.now() - timedelta(seconds=3600 + 60))
    assert second == iso_millis(sim.now() - timedelta(seconds=3600))
    # And a pinned date holds until it is released
    sim.set_data_availability_date(AVAILABLE)
    assert api.get(AVAILABILITY).json() == {"dataAvailabilityDate": iso_millis(AVAILABLE)}
    sim.set_data_availability_date(None)
    assert api.get(AVAILABILITY).json()["dataAvailabilityDate"] == second


@pytest.mark.parametrize(("past_availability", "complete"), [("omit", False), ("include", True)])
def test_a_job_past_the_availability_date_is_fulfilled_but_incomplete(
    jobs_sim: Callable[..., GenesysSimulator], clock: FakeClock, past_availability: str, complete: bool
) -> None:
    # Given data available up to noon of DAY, and conversations long before, across and after noon
    noon = DAY + timedelta(hours=12)
    early = conversation(0, start=DAY + timedelta(hours=1), duration_s=300, acw_s=0.0)
    across = conversation(1, start=noon - timedelta(minutes=5), duration_s=600, acw_s=0.0)
    late = conversation(2, start=noon + timedelta(hours=1), duration_s=300, acw_s=0.0)
    sim = jobs_sim(data_availability_date=noon, job_results_past_availability=past_availability)
    sim.add_conversations([early, across, late])
    api = Api(sim)

    # When DAY is read by a job, and so is its morning alone
    job_id = _submit(api, startOfDayIntervalMatching=True)
    clock.advance(3)
    state = api.get(f"{JOBS}/{job_id}").json()["state"]
    pages = _pages(api, job_id)
    morning = _run(api, clock, interval="2026-11-20T00:00:00Z/2026-11-20T12:00:00Z")

    # Then the day's job is FULFILLED and its pages say how far the data goes; by default it lacks
    # what had activity after that date, as the real API does not guarantee it
    assert state == "FULFILLED"
    assert pages[0]["dataAvailabilityDate"] == iso_millis(noon)
    everything = [early.conversation_id, across.conversation_id, late.conversation_id]
    assert _ids(pages) == (everything if complete else [early.conversation_id])
    # And a job that ends before the date is complete
    assert morning == [early.conversation_id, across.conversation_id]


def test_concurrent_jobs_beyond_the_limit_are_refused_with_retry_after(
    jobs_sim: Callable[..., GenesysSimulator], clock: FakeClock
) -> None:
    # Given at most two running jobs, each finishing 10 s after submission
    sim = jobs_sim(max_concurrent_jobs=2, job_fulfilled_after_s=10.0)
    api = Api(sim)
    first, _second = _submit(api), _submit(api)

    # When a third is submitted 4 s later
    clock.advance(4)
    refused = api.post(JOBS, {"interval": INTERVAL})

    # Then it is refused with 429 and told to come back when the first slot frees
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "6"
    assert refused.json()["code"] == "too.many.requests.retry.after"
    # And a cancelled job frees its slot, as does a finished one
    assert api.delete(f"{JOBS}/{first}").status_code == 204
    third = api.post(JOBS, {"interval": INTERVAL})
    assert third.status_code == 202
    assert api.post(JOBS, {"interval": INTERVAL}).status_code == 429
    clock.advance(6)
    assert api.post(JOBS, {"interval": INTERVAL}).status_code == 202
    stats = sim.stats()
    assert stats["by_fault"]["job_limit"] == 2
    assert stats["jobs"]["refused_429"] == 2
    assert stats["jobs"]["submitted"] == 4


def test_job_results_expire(jobs_sim: Callable[..., GenesysSimulator], clock: FakeClock) -> None:
    # Given job results kept for 60 s after the job is fulfilled
    sim = jobs_sim(job_results_ttl_s=60.0)
    sim.add_conversations([conversation(0)])
    api = Api(sim)
    job_id = _submit(api)
    submitted_at = sim.now()
    status = api.get(f"{JOBS}/{job_id}").json()

    # When 3 + 59 s have passed the results are there; at 3 + 60 s they are gone
    clock.advance(62)
    kept = api.get(f"{JOBS}/{job_id}/results")
    clock.advance(1)
    gone = api.get(f"{JOBS}/{job_id}/results")

    assert kept.status_code == 200
    assert gone.status_code == 404
    assert api.get(f"{JOBS}/{job_id}").json()["state"] == "EXPIRED"
    assert status["submissionDate"] == iso_millis(submitted_at)
    assert status["expirationDate"] == iso_millis(submitted_at + timedelta(seconds=63))


def test_a_cancelled_job_has_no_results(api: Api) -> None:
    job_id = _submit(api)

    deleted = api.delete(f"{JOBS}/{job_id}")

    assert deleted.status_code == 204
    assert api.get(f"{JOBS}/{job_id}").json()["state"] == "CANCELLED"
    assert api.get(f"{JOBS}/{job_id}/results").status_code == 400
    assert api.delete(f"{JOBS}/00000000-0000-4000-8000-000000000000").status_code == 404


def test_results_pages_default_to_1000_and_refuse_larger_pages_and_foreign_cursors(
    jobs_sim: Callable[..., GenesysSimulator], clock: FakeClock
) -> None:
    # Given 1001 conversations on DAY and two jobs over it
    sim = jobs_sim()
    sim.add_conversations([conversation(i) for i in range(1001)])
    api = Api(sim)
    job_id, other_id = _submit(api), _submit(api)
    clock.advance(3)

    # When the first is read without a page size
    first = api.get(f"{JOBS}/{job_id}/results").json()

    # Then it pages at 1000, as public connectors ask
    assert len(first["conversations"]) == 1000
    rest = api.get(f"{JOBS}/{job_id}/results", cursor=first["cursor"]).json()
    assert len(rest["conversations"]) == 1
    assert "cursor" not in rest
    # And a larger page, another job's cursor or a made-up one is a 400
    assert api.get(f"{JOBS}/{job_id}/results", pageSize="1001").status_code == 400
    assert api.get(f"{JOBS}/{other_id}/results", cursor=first["cursor"]).status_code == 400
    assert api.get(f"{JOBS}/{job_id}/results", cursor="bm9wZQ").status_code == 400


def test_a_failed_job_fault(jobs_sim: Callable[..., GenesysSimulator], clock: FakeClock) -> None:
    # Given a profile that fails the first job submitted
    sim = jobs_sim(faults=FaultProfile(fail_jobs=(1,)))
    sim.add_conversations([conversation(0)])
    api = Api(sim)

    # When two jobs run
    failing, healthy = _submit(api), _submit(api)
    pending = api.get(f"{JOBS}/{failing}").json()
    clock.advance(3)
    failed = api.get(f"{JOBS}/{failing}").json()

    # Then the first moves through QUEUED and ends FAILED with a message, and has no results; the
    # second is FULFILLED
    assert pending["state"] == "QUEUED"
    assert failed["state"] == "FAILED"
    assert failed["errorMessage"]
    assert api.get(f"{JOBS}/{failing}/results").status_code == 400
    assert _ids(_pages(api, healthy)) == [conversation(0).conversation_id]
    assert sim.stats()["jobs"]["failed"] == 1
    assert sim.stats()["by_fault"]["job_failed"] == 1
    assert FaultProfile.named("chaos").fails_job_at(1, seed=0)


def test_a_failure_rate_fails_that_share_of_jobs() -> None:
    profile = FaultProfile(job_failure_rate=0.25)

    failed = [n for n in range(1, 41) if profile.fails_job_at(n, seed=3)]

    assert len(failed) == 10


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"interval": "2026-01-01T00:00:00Z/2026-03-01T00:00:00Z"}, "31 days"),
        ({"interval": INTERVAL, "startOfDayIntervalMatching": "yes"}, "startOfDayIntervalMatching"),
        ({"interval": INTERVAL, "limit": 0}, "limit"),
        ({"interval": INTERVAL, "order": "sideways"}, "order"),
    ],
)
def test_refused_job_submissions(api: Api, body: dict[str, Any], fragment: str) -> None:
    response = api.post(JOBS, body)

    assert response.status_code == 400
    assert fragment in response.json()["message"]


def test_an_unknown_job_is_404(api: Api) -> None:
    assert api.get(f"{JOBS}/00000000-0000-4000-8000-000000000000").status_code == 404


def test_the_bridge_client_reads_a_whole_job(
    jobs_sim: Callable[..., GenesysSimulator], clock: FakeClock
) -> None:
    # Given 25 conversations on DAY and results paged 10 at a time
    sim = jobs_sim(job_results_page_size=10)
    sim.add_conversations([conversation(i) for i in range(25)])
    client = GenesysClient(
        region="mypurecloud.ie",
        client_id=sim.config.client_id,
        client_secret=sim.config.client_secret,
        api_base_url=sim.base_url,
        login_base_url=sim.base_url,
        max_requests_per_minute=300,
        clock=clock,
        sleep=clock.advance,
    )

    # When the project's client runs a job over DAY, polling with its backoff
    found = [c["conversationId"] for c in client.iter_details_job({"interval": INTERVAL})]

    # Then it gets every conversation once, through three results pages
    assert found == [conversation(i).conversation_id for i in range(25)]
    assert sim.stats()["by_endpoint"]["job_results"] == 3


def test_job_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="max_concurrent_jobs"):
        SimulatorConfig(max_concurrent_jobs=0)
    with pytest.raises(ValueError, match="job_results_max_page_size"):
        SimulatorConfig(job_results_page_size=2000)
    with pytest.raises(ValueError, match="time zone"):
        SimulatorConfig(data_availability_date=AVAILABLE.replace(tzinfo=None))
