"""GenesysSimulator: the public face of the simulator; it routes each request to the part that answers it.

The parts: http_server (transport), gateway (tokens, budget, faults), org (the contact centre the
conversations route through), conversation_store (what analytics knows and when), details_query and
details_jobs (the query and the jobs), listings (the directory), request_stats (records and counters).
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from genesys_simulator.config import FaultProfile, SimulatorConfig
from genesys_simulator.conversation_store import ConversationStore, Lifecycle
from genesys_simulator.conversations import SimConversation
from genesys_simulator.details_jobs import JobSettings, JobStore
from genesys_simulator.details_query import QueryLimits, run_query
from genesys_simulator.details_rendering import iso_millis
from genesys_simulator.gateway import Gateway
from genesys_simulator.http_server import HOST, LoopbackServer
from genesys_simulator.listings import Directory
from genesys_simulator.org import Org, build_org
from genesys_simulator.request_stats import RecordedRequest, RequestStats
from genesys_simulator.responses import (
    JOB_AVAILABILITY,
    JOB_CREATE,
    JOB_DELETE,
    JOB_RESULTS,
    JOB_STATUS,
    LISTING_PATHS,
    MULTI_GET,
    QUERY,
    SINGLE_GET,
    TOKEN,
    ApiResponse,
    BadRequest,
    error_body,
    json_object,
    not_found,
    parse_uuid,
    route,
)
from genesys_simulator.shapes import Timeline

logger = logging.getLogger(__name__)

__all__ = ["GenesysSimulator", "RecordedRequest"]


class GenesysSimulator:
    """A Genesys Cloud analytics API look-alike on 127.0.0.1 for tests, the local runner and benchmarks.

    Use ``with GenesysSimulator(cfg) as sim:`` or ``start()`` / ``stop()``. All public methods are
    thread-safe and may be called while the server answers requests.

    Example:
        >>> from genesys_simulator import GenesysSimulator, SimulatorConfig, synthetic_conversations
        >>> with GenesysSimulator(SimulatorConfig(seed=1)) as sim:
        ...     sim.add_conversations(synthetic_conversations(3, seed=1))
        ...     # point a client at sim.base_url (login and API) with sim.config.client_id/_secret
        ...     sim.base_url.startswith("http://127.0.0.1:")
        True
    """

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self._clock = self.config.clock
        # The simulated wall clock moves with the simulator clock, so tests that move one move both.
        self._wall_origin = datetime.now(UTC)
        self._clock_origin = self._clock()
        self._availability_date: datetime | None = self.config.data_availability_date
        self._lock = threading.Lock()
        self.org: Org = build_org(self.config.org, self.config.division_id)
        self._directory = Directory(self.org, self.config.forbidden_listings)
        self._stats = RequestStats(
            self._clock, self.config.max_recorded_requests, self.config.requests_per_minute or 0
        )
        self._gateway = Gateway(self.config, self._stats)
        self._store = ConversationStore(self._clock, self.org, self.config.attribute_value_max_chars)
        self._query_limits = QueryLimits(
            self.config.max_interval_days, self.config.max_query_page_size, self.config.max_query_results
        )
        self._jobs = JobStore(
            self._store,
            clock=self._clock,
            wall_clock=self.now,
            availability=self.data_availability_date,
            faults=lambda: (self._gateway.faults, self.config.seed),
            settings=JobSettings(
                queued_s=self.config.job_queued_s,
                fulfilled_after_s=self.config.job_fulfilled_after_s,
                results_ttl_s=self.config.job_results_ttl_s,
                default_page_size=self.config.job_results_page_size,
                max_page_size=self.config.job_results_max_page_size,
                max_concurrent=self.config.max_concurrent_jobs,
                max_interval_days=self.config.max_interval_days,
                past_availability=self.config.job_results_past_availability,
            ),
        )
        self._server: LoopbackServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------------------

    def start(self) -> str:
        """Bind 127.0.0.1:<config.port> (0 = any free port), serve in a thread, return the base URL."""
        if self._server is not None:
            return self.base_url
        server = LoopbackServer(self.config.port, self)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="genesys-simulator", daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving, close the listening socket and any kept-alive connections, join the thread."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: both the login base URL and the API base URL."""
        return f"http://{HOST}:{self.port}"

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the simulator is not running; call start() first")
        return int(self._server.server_address[1])

    # ---- control -------------------------------------------------------------------------------

    def add_conversations(self, conversations: Iterable[SimConversation]) -> None:
        """Register conversations; their delays count from now (simulator clock). Re-adding an id
        replaces it and restarts its delays."""
        self._store.add(conversations)

    @property
    def conversation_count(self) -> int:
        return len(self._store)

    def set_faults(self, faults: FaultProfile | str) -> None:
        """Switch the fault profile (a FaultProfile or a name); its request schedule starts over."""
        self._gateway.set_faults(FaultProfile.named(faults) if isinstance(faults, str) else faults)

    @property
    def faults(self) -> FaultProfile:
        return self._gateway.faults

    def revoke_tokens(self) -> int:
        """Invalidate every issued token (as an admin revoking the client would); returns how many."""
        return self._gateway.revoke_tokens()

    # ---- time, availability and the conversations' final form ------------------------------------

    def now(self) -> datetime:
        """The simulated wall clock (UTC): the real time at creation plus the simulator clock since."""
        return self._wall_origin + timedelta(seconds=self._clock() - self._clock_origin)

    def data_availability_date(self) -> datetime:
        """What ``GET .../details/jobs/availability`` answers: now - config.data_availability_lag_s,
        unless set_data_availability_date() pinned it."""
        with self._lock:
            pinned = self._availability_date
        if pinned is not None:
            return pinned
        return self.now() - timedelta(seconds=self.config.data_availability_lag_s)

    def set_data_availability_date(self, moment: datetime | None) -> None:
        """Pin the availability date (e.g. past the end of today, so a local run can audit today as
        if it were tomorrow); None goes back to the lagging clock."""
        if moment is not None and moment.tzinfo is None:
            raise ValueError("the availability date needs a time zone (UTC)")
        with self._lock:
            self._availability_date = moment

    def final_details(self, conversation_id: str, *, with_attributes: bool = False) -> dict[str, Any]:
        """A conversation's body once its wrap-up has ended, with every reprocess() pass so far: what
        a run reconciles against. ``with_attributes`` gives the jobs' shape (AnalyticsConversation).
        Raises KeyError for an id the simulator does not know."""
        return self._store.final_details(conversation_id, with_attributes)

    def lifecycle(self, conversation_id: str) -> Lifecycle:
        """When the conversation becomes visible, ends and settles on the simulator clock (config.clock),
        and how many reprocessing passes changed it. Raises KeyError for an unknown id."""
        return self._store.lifecycle(conversation_id)

    def timeline(self, conversation_id: str) -> Timeline:
        """Its plan: start, conversationEnd, wrap-up end, ACW, wrap-up code, shape, queues, agents,
        participants (genesys_simulator.shapes)."""
        return self._store.timeline(conversation_id)

    def reopen(
        self,
        conversation_ids: Iterable[str],
        *,
        ended_after_s: float = 60.0,
        settled_after_s: float | None = None,
        rng: random.Random | None = None,
    ) -> list[str]:
        """A new message reopens ended messaging or e-mail conversations, as in Genesys: each is open
        again from now (a new round of segments), ends again ``ended_after_s`` later and settles
        ``settled_after_s`` later (None: as it ends). An unknown id is a KeyError, another media type,
        a conversation not ended or past its threading window a ValueError; either changes nothing."""
        chosen = rng or random.Random(f"reopen:{self.config.seed}")
        return self._store.reopen(list(conversation_ids), self.now(), ended_after_s, settled_after_s, chosen)

    def rename_entity(self, listing: str, entity_id: str, name: str) -> None:
        """Rename a queue, user, wrap-up code, division, skill or language in the listings from now on
        (the conversations' details keep their ids). ``listing``: a key of responses.LISTING_PATHS."""
        self._directory.rename(listing, entity_id, name)

    def delete_entity(self, listing: str, entity_id: str) -> None:
        """Delete an entity from the listings from now on; a deleted user stays listed in state
        deleted, with state=any or state=deleted only. Unknown listing or id: KeyError."""
        self._directory.delete(listing, entity_id)

    def reprocess(self, conversation_ids: Iterable[str], rng: random.Random | None = None) -> list[str]:
        """Change conversations after the fact, as Genesys' nightly reprocessing does
        (https://help.mypurecloud.com/faqs/why-can-my-data-change): each settled body gets a
        corrected wrap-up code (when it has a wrap-up) and a retroactive metric, so it differs from
        what was fetched before. Returns the ids changed; an unknown id raises KeyError and changes
        nothing. ``rng`` (seeded from config.seed when None) makes the changes reproducible.

        The simulator does not check that a conversation is 48 hours old: the caller decides which
        to change and when. A conversation not settled yet shows the change once it settles.
        """
        ids = list(conversation_ids)
        return self._store.reprocess(ids, rng or random.Random(f"reprocess:{self.config.seed}"))

    # ---- records and figures -------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the recorded requests (the newest config.max_recorded_requests)."""
        return self._stats.records

    def stats(self) -> dict[str, Any]:
        """Counters since start (or reset_stats()). Statuses are int keys.

        ``budget_used`` counts API requests admitted by the budget (authenticated, not throttled),
        whatever their outcome; ``successful_fetch_requests`` the multi-get/single-get 200s among
        them, so goodput = successful_fetch_requests / budget_used. ``conversations_returned``,
        ``ended_conversations_returned`` and ``settled_conversations_returned`` count details in those
        200s (ended = with conversationEnd, settled = every segment ended too). ``jobs`` counts the
        details jobs by state, with ``submitted`` and ``refused_429`` (the concurrency limit).
        """
        figures = self._stats.snapshot()
        figures["jobs"] = self._jobs.counts()
        return figures

    def reset_stats(self) -> None:
        """Zero the counters and records (e.g. between two phases of a benchmark); state stays."""
        self._stats.reset()

    def record(
        self, method: str, path: str, response: ApiResponse, duration_s: float, correlation_id: str
    ) -> None:
        """Count one answered request (the transport calls this before the answer leaves)."""
        self._stats.record(method, path, response, duration_s, correlation_id)

    # ---- request handling ------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> ApiResponse:
        """Answer one HTTP request (transport-independent; the HTTP handler calls this).

        Header names are matched case-insensitively, as HTTP wants."""
        correlation_id = str(uuid.uuid4())
        headers = {name.lower(): value for name, value in headers.items()}
        split = urlsplit(target)
        path = split.path.rstrip("/") or "/"
        query = parse_qs(split.query, keep_blank_values=True)
        routed = route(method, path)
        if routed is None:
            response = not_found(f"No resource at {method} {path}", correlation_id)
            response.headers["ININ-Correlation-Id"] = correlation_id
            return response
        endpoint, params = routed
        try:
            if endpoint == TOKEN:
                response = self._gateway.token(headers, body, correlation_id)
            else:
                response = self._api(endpoint, params, query, headers, body, correlation_id)
        except BadRequest as exc:
            response = ApiResponse(400, error_body(400, "bad.request", str(exc), correlation_id), ids=exc.ids)
        except Exception:  # the server must keep answering whatever a handler bug does
            logger.exception("simulator failed on %s %s", method, target)
            response = ApiResponse(
                500, error_body(500, "internal.server.error", "Simulator error", correlation_id)
            )
        response.endpoint = endpoint
        response.headers["ININ-Correlation-Id"] = correlation_id
        return response

    def _api(
        self,
        endpoint: str,
        params: dict[str, str],
        query: dict[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
        correlation_id: str,
    ) -> ApiResponse:
        admission = self._gateway.admit(headers, correlation_id)
        if isinstance(admission, ApiResponse):
            return admission
        fault: str | None = None
        if admission.slow_seconds is not None:
            # Outside any lock: a slow answer must not hold up the other callers.
            self.config.sleep(admission.slow_seconds)
            fault = "slow"
        if admission.failing_status == 503:
            response = ApiResponse(
                503,
                error_body(503, "service.unavailable", "Service unavailable", correlation_id),
                fault="5xx",
            )
        elif admission.failing_status:
            response = ApiResponse(
                504, error_body(504, "gateway.timeout", "The request timed-out.", correlation_id), fault="5xx"
            )
        else:
            response = self._dispatch(endpoint, params, query, body, correlation_id)
            response.fault = response.fault or fault  # a job limit or failure says more than slowness
        response.headers.update(admission.rate_headers)
        return response

    def _dispatch(
        self,
        endpoint: str,
        params: dict[str, str],
        query: dict[str, list[str]],
        body: bytes,
        correlation_id: str,
    ) -> ApiResponse:
        if endpoint == MULTI_GET:
            return self._multi_get(query)
        if endpoint == SINGLE_GET:
            return self._single_get(params["id"], correlation_id)
        if endpoint in LISTING_PATHS:
            return self._directory.page(endpoint, query, correlation_id)
        if endpoint == QUERY:
            return run_query(json_object(body), self._store, self._clock, self._query_limits)
        if endpoint == JOB_CREATE:
            return self._jobs.create(json_object(body), correlation_id)
        if endpoint == JOB_AVAILABILITY:
            return ApiResponse(200, {"dataAvailabilityDate": iso_millis(self.data_availability_date())})
        if endpoint == JOB_STATUS:
            return self._jobs.status(params["job"], correlation_id)
        if endpoint == JOB_DELETE:
            return self._jobs.delete(params["job"], correlation_id)
        if endpoint == JOB_RESULTS:
            return self._jobs.results(params["job"], query, correlation_id)
        raise AssertionError(f"unrouted endpoint {endpoint}")

    # ---- details by id -----------------------------------------------------------------------------

    def _multi_get(self, query: dict[str, list[str]]) -> ApiResponse:
        raw = [part.strip() for value in query.get("id", []) for part in value.split(",")]
        raw = [part for part in raw if part]
        if not raw:
            raise BadRequest("At least one conversation id is required (id=<id1>,<id2>,...)")
        if len(raw) > self.config.max_ids_per_request:
            raise BadRequest(
                f"Too many conversation ids: {len(raw)} requested, at most "
                f"{self.config.max_ids_per_request} allowed per request",
                ids=len(raw),
            )
        ids: list[str] = []
        for value in raw:
            parsed = parse_uuid(value)
            if parsed is None:
                raise BadRequest(f"Invalid conversation id: {value}", ids=len(raw))
            ids.append(parsed)
        visible = self._store.visible(dict.fromkeys(ids), self._clock())
        response = ApiResponse(200, {"conversations": self._store.render(visible)}, ids=len(raw))
        response.conversation_ids = tuple(ids)
        response.conversations = len(visible)
        response.ended_conversations = sum(o.ended for o in visible)
        response.settled_conversations = sum(o.settled for o in visible)
        return response

    def _single_get(self, raw_id: str, correlation_id: str) -> ApiResponse:
        parsed = parse_uuid(raw_id)
        if parsed is None:
            raise BadRequest(f"Invalid conversation id: {raw_id}", ids=1)
        visible = self._store.visible([parsed], self._clock())
        if not visible:
            response = not_found(f"Conversation {parsed} not found", correlation_id)
            response.ids = 1
            return response
        response = ApiResponse(200, self._store.render(visible)[0], ids=1, conversations=1)
        response.ended_conversations = int(visible[0].ended)
        response.settled_conversations = int(visible[0].settled)
        return response
