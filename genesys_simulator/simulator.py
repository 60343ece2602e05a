"""The Genesys Cloud simulator: state, request handling and the loopback HTTP server."""

from __future__ import annotations

import base64
import binascii
import bisect
import contextlib
import json
import logging
import math
import random
import re
import secrets
import socket
import socketserver
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from genesys_simulator.config import FaultProfile, SimulatorConfig
from genesys_simulator.conversations import SimConversation, iso_millis, render_details

logger = logging.getLogger(__name__)

# Only loopback: the simulator accepts any caller holding the (well-known) demo credentials.
HOST = "127.0.0.1"
_WINDOW_S = 60.0
_API = "/api/v2/analytics/conversations"

# Endpoint names used in records and stats.
TOKEN = "token"
MULTI_GET = "multi_get"
SINGLE_GET = "single_get"
QUERY = "query"
JOB_CREATE = "job_create"
JOB_STATUS = "job_status"
JOB_RESULTS = "job_results"
JOB_DELETE = "job_delete"
JOB_AVAILABILITY = "job_availability"
OTHER = "other"
FETCH_ENDPOINTS = frozenset({MULTI_GET, SINGLE_GET})

_ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("POST", re.compile(r"^/oauth/token$"), TOKEN),
    ("GET", re.compile(rf"^{_API}/details$"), MULTI_GET),
    ("POST", re.compile(rf"^{_API}/details/query$"), QUERY),
    ("POST", re.compile(rf"^{_API}/details/jobs$"), JOB_CREATE),
    ("GET", re.compile(rf"^{_API}/details/jobs/availability$"), JOB_AVAILABILITY),
    ("GET", re.compile(rf"^{_API}/details/jobs/(?P<job>[^/]+)$"), JOB_STATUS),
    ("DELETE", re.compile(rf"^{_API}/details/jobs/(?P<job>[^/]+)$"), JOB_DELETE),
    ("GET", re.compile(rf"^{_API}/details/jobs/(?P<job>[^/]+)/results$"), JOB_RESULTS),
    ("GET", re.compile(rf"^{_API}/(?P<id>[^/]+)/details$"), SINGLE_GET),
)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One answered request: ``at`` on the simulator clock, ``duration_s`` the real time from reading
    the request to the encoded answer (slow faults included, the socket write not)."""

    at: float
    method: str
    path: str
    endpoint: str
    ids: int
    status: int
    duration_s: float
    correlation_id: str
    fault: str | None  # "storm", "budget", "revoked", "5xx", "slow" or None


@dataclass(slots=True)
class _Response:
    status: int
    body: dict[str, Any] | None
    headers: dict[str, str] = field(default_factory=dict)
    # Filled for the records and counters, never sent.
    endpoint: str = OTHER
    ids: int = 0
    fault: str | None = None
    conversations: int = 0
    ended_conversations: int = 0


class _BadRequest(Exception):
    """A request Genesys would refuse with 400; ``ids`` is how many ids it asked for (for the records)."""

    def __init__(self, message: str, ids: int = 0) -> None:
        super().__init__(message)
        self.ids = ids


@dataclass(slots=True)
class _Entry:
    conversation: SimConversation
    visible_at: float
    ended_at: float | None


@dataclass(slots=True)
class _Job:
    job_id: str
    created_at: float
    submitted: datetime
    start: datetime
    end: datetime
    filters: list[dict[str, Any]]
    cancelled: bool = False
    ids: list[str] | None = None  # frozen at the first look after fulfilment


@dataclass(slots=True)
class _Window:
    started: float
    count: int = 0


@dataclass(slots=True)
class _Counters:
    started_at: float
    by_endpoint: Counter[str] = field(default_factory=Counter)
    by_status: Counter[int] = field(default_factory=Counter)
    by_endpoint_status: dict[str, Counter[int]] = field(default_factory=dict)
    by_fault: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    token_requests: int = 0
    tokens_issued: int = 0
    ids_requested: int = 0
    ids_in_successful_fetches: int = 0
    successful_fetch_requests: int = 0
    conversations_returned: int = 0
    ended_conversations_returned: int = 0
    budget_used: int = 0
    revocations: int = 0
    dropped_records: int = 0


def _route(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    for route_method, pattern, endpoint in _ROUTES:
        match = pattern.match(path)
        if match and route_method == method:
            return endpoint, match.groupdict()
    return None


def _error(status: int, code: str, message: str, correlation_id: str) -> dict[str, Any]:
    """Genesys' error body shape."""
    return {
        "message": message,
        "code": code,
        "status": status,
        "messageParams": {},
        "contextId": correlation_id,
        "details": [],
        "errors": [],
    }


def _parse_uuid(value: str) -> str | None:
    try:
        return str(uuid.UUID(value)) if len(value) == 36 else None
    except ValueError:
        return None


def _parse_instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class GenesysSimulator:
    """A Genesys Cloud look-alike on 127.0.0.1 for tests, the local runner and benchmarks.

    Use ``with GenesysSimulator(cfg) as sim:`` or ``start()`` / ``stop()``. All public methods are
    thread-safe and may be called while the server answers requests.
    """

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self._clock = self.config.clock
        self._lock = threading.Lock()
        self._rng = random.Random(self.config.seed)
        self._faults = self.config.faults
        self._fault_ordinal = 0
        self._entries: dict[str, _Entry] = {}
        # (start, id) sorted, for interval queries in conversationStart order.
        self._by_start: list[tuple[datetime, str]] = []
        self._tokens: dict[str, float] = {}  # token -> expiry on the simulator clock
        self._windows: dict[str, _Window] = {}
        self._jobs: dict[str, _Job] = {}
        self._counters = _Counters(started_at=self._clock())
        limit = self.config.max_recorded_requests
        self._records: deque[RecordedRequest] = deque(maxlen=limit)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------------------

    def start(self) -> str:
        """Bind 127.0.0.1:<config.port> (0 = any free port), serve in a thread, return the base URL."""
        if self._server is not None:
            return self.base_url
        server = _Server((HOST, self.config.port), _Handler)
        server.simulator = self
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
        if self._server is None:
            raise RuntimeError("the simulator is not running; call start() first")
        return f"http://{HOST}:{self._server.server_address[1]}"

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the simulator is not running; call start() first")
        return int(self._server.server_address[1])

    # ---- control -------------------------------------------------------------------------------

    def add_conversations(self, conversations: Iterable[SimConversation]) -> None:
        """Register conversations; their delays count from now (simulator clock). Re-adding an id
        replaces it and restarts its delays."""
        now = self._clock()
        new = [
            _Entry(
                c,
                now + c.visible_after_s,
                None if c.ended_after_s is None else now + c.ended_after_s,
            )
            for c in conversations
        ]
        with self._lock:
            replaced = False
            for entry in new:
                cid = entry.conversation.conversation_id
                replaced |= cid in self._entries
                self._entries[cid] = entry
            if replaced:
                self._by_start = sorted((e.conversation.start, cid) for cid, e in self._entries.items())
            elif len(new) > 64:
                self._by_start.extend((e.conversation.start, e.conversation.conversation_id) for e in new)
                self._by_start.sort()
            else:
                for e in new:
                    bisect.insort(self._by_start, (e.conversation.start, e.conversation.conversation_id))

    @property
    def conversation_count(self) -> int:
        with self._lock:
            return len(self._entries)

    def set_faults(self, faults: FaultProfile | str) -> None:
        """Switch the fault profile (a FaultProfile or a name); its request schedule starts over."""
        profile = FaultProfile.named(faults) if isinstance(faults, str) else faults
        with self._lock:
            self._faults = profile
            self._fault_ordinal = 0

    @property
    def faults(self) -> FaultProfile:
        with self._lock:
            return self._faults

    def revoke_tokens(self) -> int:
        """Invalidate every issued token (as an admin revoking the client would); returns how many."""
        with self._lock:
            return self._revoke_locked()

    def _revoke_locked(self) -> int:
        revoked = len(self._tokens)
        if self.config.budget_scope == "token":
            self._windows.clear()
        self._tokens.clear()
        self._counters.revocations += 1
        return revoked

    # ---- records and figures -------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the recorded requests (the newest config.max_recorded_requests)."""
        with self._lock:
            return list(self._records)

    def stats(self) -> dict[str, Any]:
        """Counters since start (or reset_stats()). Statuses are int keys.

        ``budget_used`` counts API requests admitted by the budget (authenticated, not throttled),
        whatever their outcome; ``successful_fetch_requests`` the multi-get/single-get 200s among
        them, so goodput = successful_fetch_requests / budget_used. ``conversations_returned`` and
        ``ended_conversations_returned`` count details in those 200s (ended = with conversationEnd).
        """
        with self._lock:
            c = self._counters
            return {
                "requests_total": c.requests,
                "api_requests": c.requests - c.token_requests,
                "token_requests": c.token_requests,
                "tokens_issued": c.tokens_issued,
                "by_endpoint": dict(c.by_endpoint),
                "by_status": dict(c.by_status),
                "by_endpoint_status": {ep: dict(counts) for ep, counts in c.by_endpoint_status.items()},
                "by_fault": dict(c.by_fault),
                "throttled_429": c.by_status.get(429, 0),
                "storm_429": c.by_fault.get("storm", 0),
                "budget_429": c.by_fault.get("budget", 0),
                "unauthorized_401": c.by_status.get(401, 0),
                "server_errors_5xx": sum(n for status, n in c.by_status.items() if status >= 500),
                "bad_requests_400": c.by_status.get(400, 0),
                "slow_responses": c.by_fault.get("slow", 0),
                "revocations": c.revocations,
                "ids_requested": c.ids_requested,
                "ids_in_successful_fetches": c.ids_in_successful_fetches,
                "successful_fetch_requests": c.successful_fetch_requests,
                "conversations_returned": c.conversations_returned,
                "ended_conversations_returned": c.ended_conversations_returned,
                "budget_used": c.budget_used,
                "budget_per_minute": self.config.requests_per_minute or 0,
                "elapsed_s": self._clock() - c.started_at,
                "recorded_requests": len(self._records),
                "dropped_records": c.dropped_records,
            }

    def reset_stats(self) -> None:
        """Zero the counters and records (e.g. between two phases of a benchmark); state stays."""
        with self._lock:
            self._counters = _Counters(started_at=self._clock())
            self._records.clear()

    def _record(self, method: str, path: str, response: _Response, duration_s: float, cid: str) -> None:
        record = RecordedRequest(
            at=self._clock(),
            method=method,
            path=path,
            endpoint=response.endpoint,
            ids=response.ids,
            status=response.status,
            duration_s=duration_s,
            correlation_id=cid,
            fault=response.fault,
        )
        with self._lock:
            c = self._counters
            c.requests += 1
            c.by_endpoint[response.endpoint] += 1
            c.by_status[response.status] += 1
            c.by_endpoint_status.setdefault(response.endpoint, Counter())[response.status] += 1
            if response.fault:
                c.by_fault[response.fault] += 1
            if response.endpoint == TOKEN:
                c.token_requests += 1
                c.tokens_issued += response.status == 200
            c.ids_requested += response.ids
            if response.endpoint in FETCH_ENDPOINTS and response.status == 200:
                c.successful_fetch_requests += 1
                c.ids_in_successful_fetches += response.ids
                c.conversations_returned += response.conversations
                c.ended_conversations_returned += response.ended_conversations
            if self._records.maxlen is not None and len(self._records) == self._records.maxlen:
                c.dropped_records += 1
            if self._records.maxlen != 0:
                self._records.append(record)

    # ---- request handling ------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> _Response:
        """Answer one HTTP request (transport-independent; the HTTP handler calls this).

        Header names are matched case-insensitively, as HTTP wants."""
        cid = str(uuid.uuid4())
        headers = {name.lower(): value for name, value in headers.items()}
        split = urlsplit(target)
        path = split.path.rstrip("/") or "/"
        query = parse_qs(split.query, keep_blank_values=True)
        routed = _route(method, path)
        if routed is None:
            response = _Response(404, _error(404, "not.found", f"No resource at {method} {path}", cid))
            response.headers["ININ-Correlation-Id"] = cid
            return response
        endpoint, params = routed
        try:
            if endpoint == TOKEN:
                response = self._token(headers, body, cid)
            else:
                response = self._api(endpoint, params, query, headers, body, cid)
        except _BadRequest as exc:
            response = _Response(400, _error(400, "bad.request", str(exc), cid), ids=exc.ids)
        except Exception:  # the server must keep answering whatever a handler bug does
            logger.exception("simulator failed on %s %s", method, target)
            response = _Response(500, _error(500, "internal.server.error", "Simulator error", cid))
        response.endpoint = endpoint
        response.headers["ININ-Correlation-Id"] = cid
        return response

    def _token(self, headers: Mapping[str, str], body: bytes, cid: str) -> _Response:
        faults = self.faults
        if faults.token_error_rate_5xx:
            with self._lock:
                failed = self._rng.random() < faults.token_error_rate_5xx
            if failed:
                return _Response(
                    503, _error(503, "service.unavailable", "Service unavailable", cid), fault="5xx"
                )
        if not self._basic_auth_ok(headers.get("authorization", "")):
            return _Response(
                401,
                {
                    "error": "invalid_client",
                    "description": "client not found",
                    "error_description": "client not found",
                },
            )
        form = parse_qs(body.decode("utf-8", "replace"))
        if form.get("grant_type") != ["client_credentials"]:
            return _Response(
                400,
                {
                    "error": "unsupported_grant_type",
                    "description": "grant type must be client_credentials",
                    "error_description": "grant type must be client_credentials",
                },
            )
        token = secrets.token_urlsafe(32)
        ttl = self.config.token_ttl_seconds
        with self._lock:
            now = self._clock()
            # Drop expired tokens here so a long run with short TTLs keeps bounded memory.
            for old in [t for t, expiry in self._tokens.items() if expiry <= now]:
                del self._tokens[old]
                self._windows.pop(old, None)
            self._tokens[token] = now + ttl
        return _Response(200, {"access_token": token, "token_type": "bearer", "expires_in": ttl})

    def _basic_auth_ok(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        client_id, sep, secret = decoded.partition(":")
        return (
            bool(sep)
            and secrets.compare_digest(client_id, self.config.client_id)
            and secrets.compare_digest(secret, self.config.client_secret)
        )

    def _api(
        self,
        endpoint: str,
        params: dict[str, str],
        query: dict[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
        cid: str,
    ) -> _Response:
        # The order of a real gateway: credentials, then throttling, then the backend (which may be
        # slow or fail). So a 401 or 429 costs no budget, while a 503 after admission does.
        scheme, _, token = headers.get("authorization", "").partition(" ")
        token = token.strip()
        limit = self.config.requests_per_minute or 0
        with self._lock:
            now = self._clock()
            faults = self._faults
            self._fault_ordinal += 1
            ordinal = self._fault_ordinal
            revoke_now = ordinal in faults.revoke_at_requests or (
                faults.revoke_every_n > 0 and ordinal % faults.revoke_every_n == 0
            )
            revoked_by_fault = revoke_now and bool(self._tokens)
            if revoke_now:
                self._revoke_locked()
            expiry = self._tokens.get(token) if scheme.lower() == "bearer" else None
            if expiry is None or expiry <= now:
                if not token:
                    code, message = "authentication.required", "No authentication bearer token specified."
                else:
                    code, message = "bad.credentials", "Invalid login credentials."
                return _Response(
                    401, _error(401, code, message, cid), fault="revoked" if revoked_by_fault else None
                )
            storming = (
                faults.storm_every_n > 0
                and ordinal >= faults.storm_every_n
                and ordinal % faults.storm_every_n < faults.storm_length
            )
            if storming:
                retry = faults.storm_retry_after_s
                return self._throttled(retry, limit, limit, retry, cid, "storm")
            rate_headers: dict[str, str] = {}
            if limit:
                key = token if self.config.budget_scope == "token" else self.config.client_id
                window = self._windows.get(key)
                if window is None or now - window.started >= _WINDOW_S:
                    window = self._windows[key] = _Window(started=now)
                # The epsilon keeps float noise from turning a full 60 s window into 61.
                reset = max(1, math.ceil(window.started + _WINDOW_S - now - 1e-6))
                if window.count >= limit:
                    return self._throttled(reset, window.count, limit, reset, cid, "budget")
                window.count += 1
                rate_headers = {
                    "inin-ratelimit-count": str(window.count),
                    "inin-ratelimit-allowed": str(limit),
                    "inin-ratelimit-reset": str(reset),
                }
            self._counters.budget_used += 1
            slow = faults.slow_rate > 0 and self._rng.random() < faults.slow_rate
            failing = faults.error_rate_5xx > 0 and self._rng.random() < faults.error_rate_5xx
            failing_status = (503 if self._rng.random() < 0.5 else 504) if failing else 0
        fault: str | None = None
        if slow:
            # Outside the lock: a slow answer must not hold up the other callers.
            self.config.sleep(faults.slow_seconds)
            fault = "slow"
        if failing:
            if failing_status == 503:
                response = _Response(503, _error(503, "service.unavailable", "Service unavailable", cid))
            else:
                response = _Response(504, _error(504, "gateway.timeout", "The request timed-out.", cid))
            response.fault = "5xx"
        else:
            response = self._dispatch(endpoint, params, query, body, cid)
            response.fault = fault
        response.headers.update(rate_headers)
        return response

    def _throttled(
        self, retry_after: int, count: int, limit: int, reset: int, cid: str, fault: str
    ) -> _Response:
        body = _error(
            429,
            "too.many.requests.retry.after",
            f"Rate limit exceeded the maximum. Retry the request in [{retry_after}] seconds",
            cid,
        )
        del body["messageParams"]  # the 429 body Genesys sends has none (GENESYS_API.md)
        headers = {"Retry-After": str(retry_after)}
        if limit:  # a storm without a configured budget has no limit to report
            headers.update(
                {
                    "inin-ratelimit-count": str(count),
                    "inin-ratelimit-allowed": str(limit),
                    "inin-ratelimit-reset": str(reset),
                }
            )
        return _Response(429, body, headers, fault=fault)

    def _dispatch(
        self, endpoint: str, params: dict[str, str], query: dict[str, list[str]], body: bytes, cid: str
    ) -> _Response:
        if endpoint == MULTI_GET:
            return self._multi_get(query)
        if endpoint == SINGLE_GET:
            return self._single_get(params["id"], cid)
        if endpoint == QUERY:
            return self._query(self._json_body(body))
        if endpoint == JOB_CREATE:
            return self._job_create(self._json_body(body))
        if endpoint == JOB_AVAILABILITY:
            return _Response(200, {"dataAvailabilityDate": iso_millis(datetime.now(UTC))})
        if endpoint == JOB_STATUS:
            return self._job_status(params["job"], cid)
        if endpoint == JOB_DELETE:
            return self._job_delete(params["job"], cid)
        if endpoint == JOB_RESULTS:
            return self._job_results(params["job"], query, cid)
        raise AssertionError(f"unrouted endpoint {endpoint}")

    @staticmethod
    def _json_body(body: bytes) -> dict[str, Any]:
        try:
            parsed = json.loads(body or b"{}")
        except ValueError:
            raise _BadRequest("The request body is not valid JSON") from None
        if not isinstance(parsed, dict):
            raise _BadRequest("The request body must be a JSON object")
        return parsed

    # ---- conversations -----------------------------------------------------------------------------

    def _visible(self, ids: Iterable[str], now: float) -> list[tuple[SimConversation, bool]]:
        """(conversation, ended) for the ids visible at ``now``, in the given order."""
        with self._lock:
            entries = [self._entries.get(cid) for cid in ids]
        return [
            (e.conversation, e.ended_at is not None and now >= e.ended_at)
            for e in entries
            if e is not None and now >= e.visible_at
        ]

    def _render(self, visible: list[tuple[SimConversation, bool]]) -> list[dict[str, Any]]:
        division = self.config.division_id
        return [render_details(conv, ended=ended, division_id=division) for conv, ended in visible]

    def _multi_get(self, query: dict[str, list[str]]) -> _Response:
        raw = [part.strip() for value in query.get("id", []) for part in value.split(",")]
        raw = [part for part in raw if part]
        if not raw:
            raise _BadRequest("At least one conversation id is required (id=<id1>,<id2>,...)")
        if len(raw) > self.config.max_ids_per_request:
            raise _BadRequest(
                f"Too many conversation ids: {len(raw)} requested, at most "
                f"{self.config.max_ids_per_request} allowed per request",
                ids=len(raw),
            )
        ids: list[str] = []
        for value in raw:
            parsed = _parse_uuid(value)
            if parsed is None:
                raise _BadRequest(f"Invalid conversation id: {value}", ids=len(raw))
            ids.append(parsed)
        unique = list(dict.fromkeys(ids))
        visible = self._visible(unique, self._clock())
        conversations = self._render(visible)
        response = _Response(200, {"conversations": conversations}, ids=len(raw))
        response.conversations = len(conversations)
        response.ended_conversations = sum(ended for _, ended in visible)
        return response

    def _single_get(self, raw_id: str, cid: str) -> _Response:
        parsed = _parse_uuid(raw_id)
        if parsed is None:
            raise _BadRequest(f"Invalid conversation id: {raw_id}", ids=1)
        visible = self._visible([parsed], self._clock())
        if not visible:
            return _Response(404, _error(404, "not.found", f"Conversation {parsed} not found", cid), ids=1)
        response = _Response(200, self._render(visible)[0], ids=1, conversations=1)
        response.ended_conversations = int(visible[0][1])
        return response

    # ---- query and jobs ------------------------------------------------------------------------------

    def _interval(self, body: dict[str, Any]) -> tuple[datetime, datetime]:
        text = body.get("interval")
        if not isinstance(text, str) or text.count("/") != 1:
            raise _BadRequest("interval is required as an ISO-8601 interval <start>/<end>")
        first, _, last = text.partition("/")
        try:
            start, end = _parse_instant(first), _parse_instant(last)
        except ValueError:
            raise _BadRequest(f"Invalid interval: {text}") from None
        if end <= start:
            raise _BadRequest("The interval end must be after its start")
        if end - start > timedelta(days=self.config.max_interval_days):
            raise _BadRequest(f"The interval must not exceed {self.config.max_interval_days} days")
        return start, end

    @staticmethod
    def _filters(body: dict[str, Any]) -> list[dict[str, Any]]:
        filters = body.get("conversationFilters") or []
        if not isinstance(filters, list) or not all(isinstance(f, dict) for f in filters):
            raise _BadRequest("conversationFilters must be a list of filter objects")
        for flt in filters:
            _check_filter(flt)
        return filters

    def _matching(
        self, start: datetime, end: datetime, filters: list[dict[str, Any]], descending: bool
    ) -> list[tuple[SimConversation, bool]]:
        now = self._clock()
        with self._lock:
            lo = bisect.bisect_left(self._by_start, (start, ""))
            hi = bisect.bisect_left(self._by_start, (end, ""))
            window = [self._entries[cid] for _, cid in self._by_start[lo:hi]]
        found = []
        for entry in window:
            if now < entry.visible_at:
                continue
            ended = entry.ended_at is not None and now >= entry.ended_at
            if all(
                _filter_matches(flt, entry.conversation, ended, self.config.division_id) for flt in filters
            ):
                found.append((entry.conversation, ended))
        if descending:
            found.reverse()
        return found

    def _query(self, body: dict[str, Any]) -> _Response:
        start, end = self._interval(body)
        filters = self._filters(body)
        paging = body.get("paging") or {}
        if not isinstance(paging, dict):
            raise _BadRequest("paging must be an object")
        page_size, page_number = paging.get("pageSize", 25), paging.get("pageNumber", 1)
        if not isinstance(page_size, int) or not 1 <= page_size <= self.config.max_query_page_size:
            raise _BadRequest(f"paging.pageSize must be between 1 and {self.config.max_query_page_size}")
        if not isinstance(page_number, int) or page_number < 1:
            raise _BadRequest("paging.pageNumber must be at least 1")
        if page_size * page_number > self.config.max_query_results:
            raise _BadRequest(
                f"Paging beyond {self.config.max_query_results} results is not supported; narrow the interval"
            )
        order = body.get("order", "asc")
        if order not in ("asc", "desc"):
            raise _BadRequest("order must be asc or desc")
        found = self._matching(start, end, filters, descending=order == "desc")
        page = found[(page_number - 1) * page_size : page_number * page_size]
        result: dict[str, Any] = {"totalHits": len(found)}
        if page:  # Genesys leaves the key out of an empty page
            result["conversations"] = self._render(page)
        return _Response(200, result)

    def _job_create(self, body: dict[str, Any]) -> _Response:
        start, end = self._interval(body)
        filters = self._filters(body)
        job = _Job(
            job_id=str(uuid.uuid4()),
            created_at=self._clock(),
            submitted=datetime.now(UTC),
            start=start,
            end=end,
            filters=filters,
        )
        with self._lock:
            self._jobs[job.job_id] = job
        return _Response(202, {"jobId": job.job_id})

    def _job(self, job_id: str, cid: str) -> _Job | _Response:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            return _Response(404, _error(404, "not.found", f"Job {job_id} not found", cid))
        return job

    def _job_state(self, job: _Job) -> str:
        if job.cancelled:
            return "CANCELLED"
        age = self._clock() - job.created_at
        if age < self.config.job_queued_s:
            return "QUEUED"
        if age < self.config.job_fulfilled_after_s:
            return "PENDING"
        return "FULFILLED"

    def _job_status(self, job_id: str, cid: str) -> _Response:
        job = self._job(job_id, cid)
        if isinstance(job, _Response):
            return job
        body: dict[str, Any] = {
            "state": self._job_state(job),
            "submissionDate": iso_millis(job.submitted),
            "expirationDate": iso_millis(job.submitted + timedelta(days=1)),
        }
        return _Response(200, body)

    def _job_delete(self, job_id: str, cid: str) -> _Response:
        job = self._job(job_id, cid)
        if isinstance(job, _Response):
            return job
        job.cancelled = True
        return _Response(204, None)

    def _job_results(self, job_id: str, query: dict[str, list[str]], cid: str) -> _Response:
        job = self._job(job_id, cid)
        if isinstance(job, _Response):
            return job
        state = self._job_state(job)
        if state != "FULFILLED":
            raise _BadRequest(f"Job {job_id} is {state}; results are available once it is FULFILLED")
        if job.ids is None:
            # Like Genesys, a job answers from the data as it was when it ran: freeze the ids once.
            ids = [c.conversation_id for c, _ in self._matching(job.start, job.end, job.filters, False)]
            with self._lock:
                if job.ids is None:
                    job.ids = ids
        ids = job.ids or []
        size_text = (query.get("pageSize") or [str(self.config.job_results_page_size)])[0]
        if not size_text.isdigit() or int(size_text) < 1:
            raise _BadRequest("pageSize must be a positive integer")
        size = min(int(size_text), self.config.job_results_page_size)
        offset = _decode_cursor((query.get("cursor") or [""])[0])
        if offset > len(ids):
            raise _BadRequest("Invalid cursor")
        page_ids = ids[offset : offset + size]
        visible = self._visible(page_ids, self._clock())
        result: dict[str, Any] = {"conversations": self._render(visible)}
        if offset + size < len(ids):
            result["cursor"] = _encode_cursor(offset + size)
        return _Response(200, result)


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix == "offset" and number.isdigit():
            return int(number)
    except (binascii.Error, UnicodeDecodeError):
        pass
    raise _BadRequest("Invalid cursor")


# Conversation-level dimensions the simulator can evaluate; anything else is refused with 400 rather
# than silently matched, so a test never passes on a filter the simulator ignored.
_DIMENSIONS = frozenset({"conversationId", "divisionId", "originatingDirection", "conversationEnd"})
_OPERATORS = frozenset({"matches", "exists", "notExists"})


def _check_filter(flt: dict[str, Any]) -> None:
    if flt.get("type", "and") not in ("and", "or"):
        raise _BadRequest("filter type must be and or or")
    for predicate in flt.get("predicates") or []:
        if not isinstance(predicate, dict):
            raise _BadRequest("predicates must be objects")
        if predicate.get("type", "dimension") != "dimension":
            raise _BadRequest("the simulator supports dimension predicates only")
        if predicate.get("dimension") not in _DIMENSIONS:
            raise _BadRequest(f"the simulator does not support dimension {predicate.get('dimension')!r}")
        if predicate.get("operator", "matches") not in _OPERATORS:
            raise _BadRequest(f"unsupported operator {predicate.get('operator')!r}")
    for clause in flt.get("clauses") or []:
        if not isinstance(clause, dict):
            raise _BadRequest("clauses must be objects")
        _check_filter(clause)


def _predicate_matches(predicate: dict[str, Any], conv: SimConversation, ended: bool, division: str) -> bool:
    values: dict[str, str | None] = {
        "conversationId": conv.conversation_id,
        "divisionId": division,
        "originatingDirection": "inbound",
        "conversationEnd": "set" if ended else None,
    }
    actual = values[predicate["dimension"]]
    operator = predicate.get("operator", "matches")
    if operator == "exists":
        return actual is not None
    if operator == "notExists":
        return actual is None
    return actual is not None and actual == str(predicate.get("value", "")).lower()


def _filter_matches(flt: dict[str, Any], conv: SimConversation, ended: bool, division: str) -> bool:
    results = [_predicate_matches(p, conv, ended, division) for p in flt.get("predicates") or []]
    results += [_filter_matches(c, conv, ended, division) for c in flt.get("clauses") or []]
    if not results:
        return True
    return any(results) if flt.get("type", "and") == "or" else all(results)


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a stuck client connection must never keep the process alive
    request_queue_size = 128  # the default 5 refuses connections when many workers start at once
    simulator: GenesysSimulator

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (getfqdn), which can stall without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name = HOST
        self.server_port = int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-answer is normal under chaos runs; anything else deserves a trace.
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)

    def track(self, connection: socket.socket, add: bool) -> None:
        with self._connections_lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        """Keep-alive connections outlive serve_forever; cut them so nothing is answered after stop()."""
        with self._connections_lock:
            connections = list(self._connections)
            self._connections.clear()
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the peer
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 so clients can keep connections alive, as they do with the real API.
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 30  # seconds an idle kept-alive connection may hold a thread
    # Headers and body leave in two writes; with Nagle on, the body waits for the client's delayed
    # ACK (~40 ms a request), which would make the simulator, not the client, the bottleneck.
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        self.server.track(self.connection, add=False)
        super().finish()

    def _serve(self) -> None:
        started = time.perf_counter()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        simulator = self.server.simulator
        response = simulator.handle(self.command, self.path, dict(self.headers.items()), body)
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        # Recorded before the answer leaves: once a client has its response, stats() includes it.
        cid = response.headers.get("ININ-Correlation-Id", "")
        simulator._record(
            self.command, urlsplit(self.path).path, response, time.perf_counter() - started, cid
        )
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _serve
    do_POST = _serve
    do_DELETE = _serve
    do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:
        # The default writes every request to stderr; the records and stats() carry that instead.
        logger.debug("%s - %s", self.address_string(), format % args)
