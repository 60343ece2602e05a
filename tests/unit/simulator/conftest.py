"""Fixtures for the simulator tests: an injected clock, simulators on 127.0.0.1 and helpers to call them."""

from __future__ import annotations

import copy
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from genesys_simulator import GenesysSimulator, SimConversation, SimulatorConfig

CLIENT_ID = "test-client"
CLIENT_SECRET = "test-secret"
DETAILS = "/api/v2/analytics/conversations/details"
QUERY = "/api/v2/analytics/conversations/details/query"
JOBS = "/api/v2/analytics/conversations/details/jobs"
AVAILABILITY = "/api/v2/analytics/conversations/details/jobs/availability"
DAY = datetime(2026, 11, 20, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
# A guard against a hung server, not a measurement: a 1,000-conversation results page on a loaded
# 2-core machine under pytest-xdist took over 5 s to render and failed the suite.
REQUEST_TIMEOUT_S = 60


class FakeClock:
    """A monotonic clock the test moves by hand, so expiry and delays need no waiting."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._now = 5_000.0

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


class Api:
    """A requests session bound to one simulator, with the token flow done for the test."""

    def __init__(self, simulator: GenesysSimulator) -> None:
        self.simulator = simulator
        self.base = simulator.base_url
        self.session = requests.Session()
        self.token: str | None = None

    def fetch_token(
        self, client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET, grant: str = "client_credentials"
    ) -> requests.Response:
        response = self.session.post(
            f"{self.base}/oauth/token",
            auth=(client_id, secret),
            data={"grant_type": grant},
            timeout=REQUEST_TIMEOUT_S,
        )
        if response.status_code == 200:
            self.token = response.json()["access_token"]
        return response

    def _headers(self) -> dict[str, str]:
        if self.token is None:
            self.fetch_token()
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(
            f"{self.base}{path}", params=params, headers=self._headers(), timeout=REQUEST_TIMEOUT_S
        )

    def post(self, path: str, body: dict[str, Any]) -> requests.Response:
        return self.session.post(
            f"{self.base}{path}", json=body, headers=self._headers(), timeout=REQUEST_TIMEOUT_S
        )

    def delete(self, path: str) -> requests.Response:
        return self.session.delete(f"{self.base}{path}", headers=self._headers(), timeout=REQUEST_TIMEOUT_S)

    def multi_get(self, ids: list[str]) -> requests.Response:
        return self.get(DETAILS, id=",".join(ids))


def conversation(
    index: int, *, visible_after_s: float = 0.0, ended_after_s: float | None = 0.0, **fields: Any
) -> SimConversation:
    """An answered inbound call unless ``shape``/``media`` say otherwise."""
    return SimConversation(
        conversation_id=str(uuid.UUID(int=index + 1, version=4)),
        start=fields.pop("start", DAY + timedelta(minutes=index)),
        visible_after_s=visible_after_s,
        ended_after_s=ended_after_s,
        shape=fields.pop("shape", "answered"),
        media=fields.pop("media", "voice"),
        **fields,
    )


def agent_session(details: dict[str, Any], index: int = -1) -> dict[str, Any]:
    """The (last, by default) agent's session of a details body."""
    sessions = [s for p in details["participants"] if p["purpose"] == "agent" for s in p["sessions"]]
    found: dict[str, Any] = sessions[index]
    return found


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def shape(value: Any) -> Any:
    """The structure of a details body without its values: keys, segment types and metric names.

    Two bodies with the same shape carry the same fields in the same places, so a simulated body can
    be held against a real-shape sample.
    """
    if isinstance(value, dict):
        if "segmentType" in value:
            return ("segment", value["segmentType"], tuple(sorted(value)))
        if "name" in value and "emitDate" in value:
            return ("metric", value["name"])
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


def as_sampled(details: dict[str, Any]) -> dict[str, Any]:
    """What the fixtures sample of a simulated inbound call: its customer and agent participants
    (the samples leave out the ivr and acd participants and the tTalkComplete metric, and name one
    division)."""
    body = copy.deepcopy(details)
    body["divisionIds"] = body["divisionIds"][:1]
    body["participants"] = [p for p in body["participants"] if p["purpose"] in ("customer", "agent")]
    for participant in body["participants"]:
        for session in participant["sessions"]:
            session["metrics"] = [m for m in session["metrics"] if m["name"] != "tTalkComplete"]
    return body


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_sim(clock: FakeClock) -> Iterator[Callable[..., GenesysSimulator]]:
    """Start a simulator with the test's clock and credentials; every one is stopped at teardown."""
    started: list[GenesysSimulator] = []

    def make(**overrides: Any) -> GenesysSimulator:
        settings: dict[str, Any] = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "clock": clock}
        settings.update(overrides)
        simulator = GenesysSimulator(SimulatorConfig(**settings))
        simulator.start()
        started.append(simulator)
        return simulator

    yield make
    for simulator in started:
        simulator.stop()


@pytest.fixture
def sim(make_sim: Callable[..., GenesysSimulator]) -> GenesysSimulator:
    return make_sim()


@pytest.fixture
def api(sim: GenesysSimulator) -> Iterator[Api]:
    client = Api(sim)
    yield client
    client.session.close()
