"""GenesysClient: the one object the processor, the local runner and the benchmarks talk to Genesys with.

Every API request goes: bearer token -> pacing slot -> HTTP (pooled session, timeout, no redirects) ->
401 refresh-once -> retry policy. The pieces live in their own modules; this one wires them and owns
the endpoint shapes.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Final
from urllib.parse import quote, urlsplit

import requests

from genesys_bridge.regions import resolve_endpoints

from .auth import TokenProvider
from .jobs import (
    AVAILABILITY_PATH,
    JOBS_PATH,
    job_path,
    parse_availability,
    parse_job_id,
    parse_job_state,
    run_details_job,
)
from .pacing import RequestPacer
from .pagers import api_url, iter_next_uri, iter_query_pages
from .retry import RetryPolicy
from .stats import GenesysStats
from .transport import check_response, json_object, new_session, send

DETAILS_PATH: Final = "/api/v2/analytics/conversations/details"
QUERY_PATH: Final = "/api/v2/analytics/conversations/details/query"


class GenesysClient:
    """A thread-safe Genesys Cloud analytics client. Conversations come back as the dicts Genesys sent.

    Example:
        >>> from genesys_bridge.genesys import GenesysClient, RetryLater
        >>> with GenesysClient(
        ...     region="mypurecloud.ie", client_id="...", client_secret="...", max_requests_per_minute=240
        ... ) as client:  # doctest: +SKIP
        ...     try:
        ...         details = client.get_conversation_details(["<conversation id>"], deadline=None)
        ...     except RetryLater as later:  # a 429 or an outage outlasted the retries: come back later
        ...         print(f"retry after {later.retry_after} s")

    Regions, the OAuth flow and the limits it honours: docs/genesys-client.md and docs/genesys-api.md.
    """

    def __init__(
        self,
        region: str,
        client_id: str,
        client_secret: str,
        api_base_url: str | None = None,
        login_base_url: str | None = None,
        *,
        # No default: the deployment's budget is the stack config's genesys_max_requests_per_minute
        # (per caller), and a client without one would pace at a figure nobody chose.
        max_requests_per_minute: int,
        ids_per_request: int = 100,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ids_per_request < 1:
            raise ValueError(f"ids_per_request must be at least 1, got {ids_per_request}")
        self.region = region.strip().lower()
        self.endpoints = resolve_endpoints(region, api_base_url, login_base_url)
        self.ids_per_request = ids_per_request
        self.max_requests_per_minute = max_requests_per_minute
        self.stats = GenesysStats()
        self._owns_session = session is None
        self._session = session if session is not None else new_session()
        self._clock = clock
        self._sleep = sleep
        self._pacer = RequestPacer(max_requests_per_minute, clock=clock, sleep=sleep)
        self._retry = RetryPolicy(clock=clock, sleep=sleep)
        self._auth = TokenProvider(
            token_url=self.endpoints.token_url,
            client_id=client_id,
            client_secret=client_secret,
            session=self._session,
            clock=clock,
            retry=self._retry,
            stats=self.stats,
        )

    # --- public API -------------------------------------------------------------------------------

    def get_conversation_details(
        self, ids: Iterable[str], deadline: float | None = None
    ) -> list[dict[str, Any]]:
        """Details of the given conversations: ids deduplicated (order kept), `ids_per_request` per call.

        Conversations Genesys does not know (yet) are simply absent from the result. `deadline` is an
        absolute value of the injected clock; no wait (pacing or retry) is slept past it.
        """
        if isinstance(ids, str):
            raise TypeError("ids must be an iterable of conversation ids, not a single string")
        unique = list(dict.fromkeys(ids))
        for conversation_id in unique:
            if not conversation_id or "," in conversation_id:
                raise ValueError(f"invalid conversation id {conversation_id!r}")
        base = api_url(self.endpoints.api_base_url, DETAILS_PATH)
        conversations: list[dict[str, Any]] = []
        for start in range(0, len(unique), self.ids_per_request):
            chunk = unique[start : start + self.ids_per_request]
            # Commas stay literal, as Genesys documents `?id=a,b,c`; each id is escaped on its own.
            query = ",".join(quote(conversation_id, safe="") for conversation_id in chunk)
            page = self._request_json("GET", f"{base}?id={query}", deadline=deadline)
            conversations.extend(page.get("conversations") or [])
        return conversations

    def query_conversation_details(self, body: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Conversations matching a details query, all pages, each conversationId once.

        Raises QueryTooLarge (a ValueError) rather than page past 100,000 results: use iter_details_job.
        """
        request = copy.deepcopy(dict(body))  # the caller's dict is theirs: never mutated, never aliased
        url = api_url(self.endpoints.api_base_url, QUERY_PATH)
        return iter_query_pages(lambda page_body: self._request_json("POST", url, json=page_body), request)

    def iter_entities(
        self, path: str, params: Mapping[str, Any] | None = None, *, deadline: float | None = None
    ) -> Iterator[dict[str, Any]]:
        """`entities` of an entity listing (e.g. '/api/v2/users'), following `nextUri`; no wait (pacing
        or retry) is slept past `deadline`, an absolute value of the injected clock."""
        api_url(self.endpoints.api_base_url, path)  # validate now, not at the first next()
        return iter_next_uri(
            lambda url, page_params: self._request_json("GET", url, params=page_params, deadline=deadline),
            self.endpoints.api_base_url,
            path,
            dict(params or {}),
        )

    def iter_details_job(
        self, body: Mapping[str, Any], *, poll_deadline: float | None = None
    ) -> Iterator[dict[str, Any]]:
        """Conversations from an analytics details job: submit, poll until FULFILLED, read by cursor.

        FAILED/CANCELLED/EXPIRED raise JobFailed; still running at `poll_deadline` raises RetryLater.
        """
        request = copy.deepcopy(dict(body))
        jobs_url = api_url(self.endpoints.api_base_url, JOBS_PATH)
        return run_details_job(
            submit=lambda job_body: self._request_json("POST", jobs_url, json=job_body),
            get=self._get_json,
            poll_get=lambda url, params: self._request_json(
                "GET", url, params=params, deadline=poll_deadline
            ),
            jobs_url=jobs_url,
            body=request,
            poll_deadline=poll_deadline,
            clock=self._clock,
            sleep=self._sleep,
        )

    # --- details jobs one request at a time (a workflow keeps the job's state between calls) ---------

    def get_details_job_availability(self, deadline: float | None = None) -> datetime:
        """`dataAvailabilityDate`: jobs over intervals before it see complete data (docs/genesys-api.md,
        "Availability")."""
        url = api_url(self.endpoints.api_base_url, AVAILABILITY_PATH)
        return parse_availability(self._request_json("GET", url, deadline=deadline))

    def submit_details_job(self, body: Mapping[str, Any], deadline: float | None = None) -> str:
        """Submit a details job and return its jobId."""
        url = api_url(self.endpoints.api_base_url, JOBS_PATH)
        return parse_job_id(
            self._request_json("POST", url, json=copy.deepcopy(dict(body)), deadline=deadline)
        )

    def get_details_job(self, job_id: str, deadline: float | None = None) -> dict[str, Any]:
        """The job's status object; its `state` is checked to be there (QUEUED, PENDING, FULFILLED, ...)."""
        status = self._request_json(
            "GET", api_url(self.endpoints.api_base_url, job_path(job_id)), deadline=deadline
        )
        parse_job_state(job_id, status)
        return status

    def get_details_job_results_page(
        self,
        job_id: str,
        *,
        cursor: str | None = None,
        page_size: int | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """One results page of a FULFILLED job: `conversations`, and `cursor` while more pages remain."""
        params: dict[str, Any] = {}
        if cursor:
            params["cursor"] = cursor
        if page_size is not None:
            params["pageSize"] = page_size
        url = api_url(self.endpoints.api_base_url, f"{job_path(job_id)}/results")
        return self._request_json("GET", url, params=params or None, deadline=deadline)

    def cancel_details_job(self, job_id: str, deadline: float | None = None) -> None:
        """DELETE the job (it stops counting against the org's concurrent jobs); the body is ignored."""
        self._request("DELETE", api_url(self.endpoints.api_base_url, job_path(job_id)), deadline=deadline)

    def use_credentials(self, client_id: str, client_secret: str) -> bool:
        """Switch to rotated credentials (True if they changed); the next request fetches a new token."""
        return self._auth.replace_credentials(client_id, client_secret)

    def close(self) -> None:
        """Close the session if this client created it."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> GenesysClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        # Deliberately no secret and no token; the client id identifies the OAuth client in Genesys admin.
        return (
            f"GenesysClient(region={self.region!r}, api_base_url={self.endpoints.api_base_url!r}, "
            f"login_base_url={self.endpoints.login_base_url!r}, client_id={self._auth.client_id!r}, "
            f"max_requests_per_minute={self.max_requests_per_minute}, ids_per_request={self.ids_per_request})"
        )

    # --- one API request ---------------------------------------------------------------------------

    def _get_json(self, url: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
        return self._request_json("GET", url, params=params)

    def _request_json(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """One logical API request with pacing, auth, 401 refresh-once and retries; the JSON object."""
        return json_object(self._request(method, url, params=params, json=json, deadline=deadline))

    def _request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        deadline: float | None = None,
    ) -> requests.Response:
        """One logical API request with pacing, auth, 401 refresh-once and retries; the 2xx response."""
        what = f"{method} {urlsplit(url).path}"  # no query string: it can hold 100 ids
        refreshed = False

        def attempt() -> requests.Response:
            nonlocal refreshed
            response, token = self._send_once(method, url, params, json, deadline)
            if response.status_code == 401 and not refreshed:
                # The token was revoked or expired early: one fresh token, one more try. A second 401
                # means the OAuth client lacks access, and falls through to GenesysApiError below.
                refreshed = True
                self.stats.increment("errors")
                self._auth.invalidate(token)
                response, _ = self._send_once(method, url, params, json, deadline)
            check_response(response, self.stats)
            return response

        return self._retry.call(attempt, deadline=deadline, what=what)

    def _send_once(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        json: Any,
        deadline: float | None,
    ) -> tuple[requests.Response, str]:
        # Token first: a slot taken before a slow token fetch would send its request late, bunching it
        # with the next slot's inside one server-side window.
        token = self._auth.token(deadline)
        self._pacer.acquire(deadline)
        self.stats.increment("requests")
        response = send(
            self._session,
            self.stats,
            method,
            url,
            params=params,
            json=json,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        return response, token
