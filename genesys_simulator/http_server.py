"""The simulator's transport: a threading HTTP/1.1 server on 127.0.0.1 handing each request to a Responder."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

from genesys_simulator.responses import ApiResponse

logger = logging.getLogger(__name__)

# Only loopback: the simulator accepts any caller holding the (well-known) demo credentials.
HOST = "127.0.0.1"


class Responder(Protocol):
    """What answers the requests (GenesysSimulator): transport-independent handling and recording."""

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> ApiResponse: ...

    def record(
        self, method: str, path: str, response: ApiResponse, duration_s: float, correlation_id: str
    ) -> None: ...


class LoopbackServer(ThreadingHTTPServer):
    """Serves one Responder on 127.0.0.1 and can cut kept-alive connections when it stops."""

    daemon_threads = True  # a stuck client connection must never keep the process alive
    request_queue_size = 128  # the default 5 refuses connections when many workers start at once

    def __init__(self, port: int, responder: Responder) -> None:
        self.responder = responder
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((HOST, port), _RequestHandler)

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


class _RequestHandler(BaseHTTPRequestHandler):
    # HTTP/1.1 so clients can keep connections alive, as they do with the real API.
    protocol_version = "HTTP/1.1"
    server: LoopbackServer
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
        responder = self.server.responder
        response = responder.handle(self.command, self.path, dict(self.headers.items()), body)
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        # Recorded before the answer leaves: once a client has its response, stats() includes it.
        correlation_id = response.headers.get("ININ-Correlation-Id", "")
        responder.record(
            self.command, urlsplit(self.path).path, response, time.perf_counter() - started, correlation_id
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
