"""Recording and stats, start/stop, and the standalone command."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from genesys_simulator import GenesysSimulator, SimulatorConfig
from tests.unit.simulator.conftest import REQUEST_TIMEOUT_S, Api, conversation

REPO = Path(__file__).resolve().parents[3]


def test_stats_count_requests_by_endpoint_status_and_fetch_outcome(sim: GenesysSimulator) -> None:
    # Given two conversations, one of them ended
    ended, open_ = conversation(0), conversation(1, ended_after_s=None)
    sim.add_conversations([ended, open_])
    api = Api(sim)

    # When a client authenticates, fetches 3 ids then 1, sends a bad request and a request without token
    api.fetch_token()
    unknown = str(uuid.uuid4())
    api.multi_get([ended.conversation_id, open_.conversation_id, unknown])
    api.multi_get([ended.conversation_id])
    api.multi_get(["bad-id"])
    api.session.get(
        f"{api.base}/api/v2/analytics/conversations/details", params={"id": "x"}, timeout=REQUEST_TIMEOUT_S
    )

    # Then the counters say so
    stats = sim.stats()
    assert stats["requests_total"] == 5
    assert stats["api_requests"] == 4
    assert stats["token_requests"] == 1
    assert stats["by_endpoint"] == {"token": 1, "multi_get": 4}
    assert stats["by_status"] == {200: 3, 400: 1, 401: 1}
    assert stats["by_endpoint_status"]["multi_get"] == {200: 2, 400: 1, 401: 1}
    assert stats["unauthorized_401"] == 1
    assert stats["bad_requests_400"] == 1
    assert stats["successful_fetch_requests"] == 2
    assert stats["ids_in_successful_fetches"] == 4
    assert stats["conversations_returned"] == 3
    assert stats["ended_conversations_returned"] == 2
    assert stats["budget_used"] == 3  # the 401 never reached the budget
    assert stats["throttled_429"] == 0

    # And each request is recorded with its endpoint, status and ids count
    records = sim.requests
    assert [(r.endpoint, r.status, r.ids) for r in records] == [
        ("token", 200, 0),
        ("multi_get", 200, 3),
        ("multi_get", 200, 1),
        ("multi_get", 400, 1),
        ("multi_get", 401, 0),
    ]
    assert all(r.duration_s >= 0 and r.correlation_id for r in records)
    assert records[1].path == "/api/v2/analytics/conversations/details"
    # and a multi-get with the ids it asked for, in its order (who was fetched with whom)
    assert records[1].conversation_ids == (ended.conversation_id, open_.conversation_id, unknown)
    assert records[0].conversation_ids == records[3].conversation_ids == ()


def test_records_are_capped_but_counters_are_complete(make_sim: Callable[..., GenesysSimulator]) -> None:
    sim = make_sim(max_recorded_requests=2)
    api = Api(sim)

    for _ in range(4):
        api.multi_get([str(uuid.uuid4())])

    stats = sim.stats()
    assert stats["requests_total"] == 5
    assert stats["recorded_requests"] == 2
    assert stats["dropped_records"] == 3
    assert [r.endpoint for r in sim.requests] == ["multi_get", "multi_get"]


def test_reset_stats_keeps_tokens_and_conversations(sim: GenesysSimulator) -> None:
    api = Api(sim)
    api.multi_get([str(uuid.uuid4())])

    sim.reset_stats()

    assert sim.stats()["requests_total"] == 0
    assert api.multi_get([str(uuid.uuid4())]).status_code == 200
    assert sim.stats()["requests_total"] == 1


def test_context_manager_serves_on_loopback_and_stops_cleanly() -> None:
    # Given a simulator used as a context manager, with a kept-alive connection
    with GenesysSimulator(SimulatorConfig()) as sim:
        base = sim.base_url
        assert base.startswith("http://127.0.0.1:")
        session = requests.Session()
        token = session.post(
            f"{base}/oauth/token",
            auth=("simulator-client", "simulator-secret"),
            data={"grant_type": "client_credentials"},
            timeout=REQUEST_TIMEOUT_S,
        )
        assert token.status_code == 200

    # Then after the block nothing answers, not even on the kept-alive connection
    with pytest.raises(requests.ConnectionError):
        session.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"}, timeout=2)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/api/v2/analytics/conversations/details", timeout=2)
    session.close()
    sim.stop()  # a second stop is harmless


def test_standalone_command_prints_its_url_and_serves(tmp_path: Path) -> None:
    # Given the command started with 3 conversations and an ids file
    ids_file = tmp_path / "ids.txt"
    process = subprocess.Popen(  # noqa: S603 - fixed argv, our own module
        [
            sys.executable,
            "-m",
            "genesys_simulator",
            "--port",
            "0",
            "--conversations",
            "3",
            "--ids-file",
            str(ids_file),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base = process.stdout.readline().strip()

        # When a client uses the printed URL with the default credentials
        session = requests.Session()
        token = session.post(
            f"{base}/oauth/token",
            auth=("simulator-client", "simulator-secret"),
            data={"grant_type": "client_credentials"},
            timeout=REQUEST_TIMEOUT_S,
        ).json()["access_token"]
        ids = ids_file.read_text().split()
        body = session.get(
            f"{base}/api/v2/analytics/conversations/details",
            params={"id": ",".join(ids)},
            headers={"Authorization": f"Bearer {token}"},
            timeout=REQUEST_TIMEOUT_S,
        ).json()
        session.close()

        # Then it serves the three conversations, ended
        assert base.startswith("http://127.0.0.1:")
        assert len(ids) == 3
        assert sorted(c["conversationId"] for c in body["conversations"]) == sorted(ids)
        assert all("conversationEnd" in c for c in body["conversations"])
    finally:
        process.terminate()
        assert process.wait(timeout=REQUEST_TIMEOUT_S) == 0


def test_standalone_command_takes_the_jobs_and_wrapup_settings() -> None:
    # Given the command with a pinned availability date, one job at a time and no wrap-up wait
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "genesys_simulator",
            "--conversations",
            "2",
            "--availability-date",
            "2026-11-21T00:00:00Z",
            "--max-concurrent-jobs",
            "1",
            "--acw-time-scale",
            "0.000001",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base = process.stdout.readline().strip()
        session = requests.Session()
        token = session.post(
            f"{base}/oauth/token",
            auth=("simulator-client", "simulator-secret"),
            data={"grant_type": "client_credentials"},
            timeout=REQUEST_TIMEOUT_S,
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        jobs = f"{base}/api/v2/analytics/conversations/details/jobs"

        # When availability is asked and two jobs are submitted at once
        availability = session.get(f"{jobs}/availability", headers=headers, timeout=REQUEST_TIMEOUT_S).json()
        body = {"interval": "2026-11-20T00:00:00Z/2026-11-21T00:00:00Z"}
        first = session.post(jobs, json=body, headers=headers, timeout=REQUEST_TIMEOUT_S)
        second = session.post(jobs, json=body, headers=headers, timeout=REQUEST_TIMEOUT_S)
        session.close()

        # Then the server answers with those settings
        assert availability == {"dataAvailabilityDate": "2026-11-21T00:00:00.000Z"}
        assert first.status_code == 202
        assert second.status_code == 429
    finally:
        process.terminate()
        assert process.wait(timeout=REQUEST_TIMEOUT_S) == 0


def test_standalone_command_refuses_bad_settings_in_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "genesys_simulator", "--acw-zero-share", "2"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "python -m genesys_simulator: error: zero_share must be between 0 and 1, got 2.0"
    )
