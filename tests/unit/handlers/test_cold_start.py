"""Importing a handler needs no environment, makes no network call, reads no secret, loads only its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

PROBE = """
import json, socket, sys

attempts = []
def refuse(*args, **kwargs):
    attempts.append(repr(args[1:] if len(args) > 1 else args))
    raise OSError("network is off in this probe")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.getaddrinfo = refuse
socket.create_connection = refuse
sys.path[:0] = [".", "shared"]

import lambdas.ingest.handler
ingest_loaded = sorted(sys.modules)
import lambdas.processor.handler
import lambdas.pipe_dlq.handler
import lambdas.lookups.handler
from genesys_bridge import runtime

def heavy(modules):
    return sorted(
        m for m in modules
        if m.split(".")[0] in ("requests", "tenacity") or m.startswith("genesys_bridge.genesys")
    )

print(json.dumps({
    "attempts": attempts,
    "ingest_heavy": heavy(ingest_loaded),
    "ingest_loaded_processor": "genesys_bridge.processor" in ingest_loaded,
    "cached": sorted(runtime._cache),
    "handlers": [
        callable(lambdas.ingest.handler.handler),
        callable(lambdas.processor.handler.handler),
        callable(lambdas.pipe_dlq.handler.handler),
        callable(lambdas.lookups.handler.handler),
    ],
}))
"""


def test_importing_the_handlers_with_an_empty_environment_touches_nothing() -> None:
    # Given a fresh interpreter with no environment at all (no AWS settings, no handler variables)
    # and every socket refused
    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", PROBE],
        cwd=REPO,
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # When every handler module is imported
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])

    # Then no connection or DNS lookup was attempted and nothing (settings, clients, secret) was created
    assert report["attempts"] == []
    assert report["cached"] == []
    assert report["handlers"] == [True, True, True, True]
    # and the ingest function loads neither the Genesys client nor requests/tenacity nor the processor
    assert report["ingest_heavy"] == []
    assert report["ingest_loaded_processor"] is False
