"""What stands in front of the API: the token endpoint, bearer tokens, the per-token budget and the faults.

The order is a real gateway's: credentials, then throttling, then the backend (which may be slow or
fail). So a 401 or 429 costs no budget, while a 503 after admission does.
docs/genesys-api.md, "OAuth client credentials" and "Rate limits and errors".
"""

from __future__ import annotations

import base64
import binascii
import math
import random
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from genesys_simulator.config import FaultProfile, SimulatorConfig
from genesys_simulator.request_stats import RequestStats
from genesys_simulator.responses import ApiResponse, error_body

_WINDOW_S = 60.0


@dataclass(slots=True)
class _Window:
    started: float
    count: int = 0


@dataclass(frozen=True, slots=True)
class Admission:
    """An API request let through to the backend, with what the faults decided for it."""

    rate_headers: dict[str, str] = field(default_factory=dict)
    slow_seconds: float | None = None  # delay the answer by this much (a slow fault), None for no delay
    failing_status: int = 0  # 503 or 504 when a 5xx fault hits it


class Gateway:
    """Thread-safe; faults follow the profile's schedule (genesys_simulator.faults) and the config's seed."""

    def __init__(self, config: SimulatorConfig, stats: RequestStats) -> None:
        self._config = config
        self._clock = config.clock
        self._stats = stats
        self._lock = threading.Lock()
        self._rng = random.Random(config.seed)
        self._faults = config.faults
        # Request ordinals since the profile was set: every API request, the admitted ones, the
        # admitted ones that do not fail, the token requests.
        self._fault_ordinal = 0
        self._admitted_ordinal = 0
        self._answered_ordinal = 0
        self._token_ordinal = 0
        self._tokens: dict[str, float] = {}  # token -> expiry on the simulator clock
        self._windows: dict[str, _Window] = {}

    # ---- faults and tokens -------------------------------------------------------------------------

    @property
    def faults(self) -> FaultProfile:
        with self._lock:
            return self._faults

    def set_faults(self, profile: FaultProfile) -> None:
        with self._lock:
            self._faults = profile
            self._fault_ordinal = self._admitted_ordinal = self._answered_ordinal = self._token_ordinal = 0

    def revoke_tokens(self) -> int:
        with self._lock:
            return self._revoke_locked()

    def _revoke_locked(self) -> int:
        revoked = len(self._tokens)
        if self._config.budget_scope == "token":
            self._windows.clear()
        self._tokens.clear()
        self._stats.count_revocation()
        return revoked

    # ---- the token endpoint --------------------------------------------------------------------------

    def token(self, headers: Mapping[str, str], body: bytes, correlation_id: str) -> ApiResponse:
        with self._lock:
            self._token_ordinal += 1
            failed = self._faults.fails_token_at(self._token_ordinal, self._config.seed)
        if failed:
            unavailable = error_body(503, "service.unavailable", "Service unavailable", correlation_id)
            return ApiResponse(503, unavailable, fault="5xx")
        if not self._basic_auth_ok(headers.get("authorization", "")):
            return ApiResponse(401, _oauth_error("invalid_client", "client not found"))
        form = parse_qs(body.decode("utf-8", "replace"))
        if form.get("grant_type") != ["client_credentials"]:
            return ApiResponse(
                400, _oauth_error("unsupported_grant_type", "grant type must be client_credentials")
            )
        token = secrets.token_urlsafe(32)
        ttl = self._config.token_ttl_seconds
        with self._lock:
            now = self._clock()
            # Drop expired tokens here so a long run with short TTLs keeps bounded memory.
            for old in [t for t, expiry in self._tokens.items() if expiry <= now]:
                del self._tokens[old]
                self._windows.pop(old, None)
            self._tokens[token] = now + ttl
        return ApiResponse(200, {"access_token": token, "token_type": "bearer", "expires_in": ttl})

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
            and secrets.compare_digest(client_id, self._config.client_id)
            and secrets.compare_digest(secret, self._config.client_secret)
        )

    # ---- API requests ----------------------------------------------------------------------------------

    def admit(self, headers: Mapping[str, str], correlation_id: str) -> Admission | ApiResponse:
        """An Admission for a request the backend should answer, or the 401/429 that refuses it."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        token = token.strip()
        limit = self._config.requests_per_minute or 0
        with self._lock:
            now = self._clock()
            faults = self._faults
            self._fault_ordinal += 1
            ordinal = self._fault_ordinal
            revoke_now = faults.revokes_at(ordinal)
            revoked_by_fault = revoke_now and bool(self._tokens)
            if revoke_now:
                self._revoke_locked()
            expiry = self._tokens.get(token) if scheme.lower() == "bearer" else None
            if expiry is None or expiry <= now:
                if not token:
                    code, message = "authentication.required", "No authentication bearer token specified."
                else:
                    code, message = "bad.credentials", "Invalid login credentials."
                return ApiResponse(
                    401,
                    error_body(401, code, message, correlation_id),
                    fault="revoked" if revoked_by_fault else None,
                )
            if faults.storms_at(ordinal):
                retry = faults.storm_retry_after_s
                return _throttled(retry, limit, limit, retry, correlation_id, "storm")
            rate_headers: dict[str, str] = {}
            if limit:
                key = token if self._config.budget_scope == "token" else self._config.client_id
                window = self._windows.get(key)
                if window is None or now - window.started >= _WINDOW_S:
                    window = self._windows[key] = _Window(started=now)
                # The epsilon keeps float noise from turning a full 60 s window into 61.
                reset = max(1, math.ceil(window.started + _WINDOW_S - now - 1e-6))
                if window.count >= limit:
                    return _throttled(reset, window.count, limit, reset, correlation_id, "budget")
                window.count += 1
                rate_headers = {
                    "inin-ratelimit-count": str(window.count),
                    "inin-ratelimit-allowed": str(limit),
                    "inin-ratelimit-reset": str(reset),
                }
            self._stats.count_admitted()
            self._admitted_ordinal += 1
            failing = faults.fails_at(self._admitted_ordinal, self._config.seed)
            failing_status = (503 if self._rng.random() < 0.5 else 504) if failing else 0
            slow = False
            if not failing:  # counted apart, so a profile with both shows both
                self._answered_ordinal += 1
                slow = faults.slows_at(self._answered_ordinal, self._config.seed)
        return Admission(rate_headers, faults.slow_seconds if slow else None, failing_status)


def _oauth_error(error: str, description: str) -> dict[str, str]:
    return {"error": error, "description": description, "error_description": description}


def _throttled(
    retry_after: int, count: int, limit: int, reset: int, correlation_id: str, fault: str
) -> ApiResponse:
    body = error_body(
        429,
        "too.many.requests.retry.after",
        f"Rate limit exceeded the maximum. Retry the request in [{retry_after}] seconds",
        correlation_id,
    )
    # The 429 body Genesys sends has no messageParams (docs/genesys-api.md, "Rate limits and errors").
    del body["messageParams"]
    headers = {"Retry-After": str(retry_after)}
    if limit:  # a storm without a configured budget has no limit to report
        headers.update(
            {
                "inin-ratelimit-count": str(count),
                "inin-ratelimit-allowed": str(limit),
                "inin-ratelimit-reset": str(reset),
            }
        )
    return ApiResponse(429, body, headers, fault=fault)
