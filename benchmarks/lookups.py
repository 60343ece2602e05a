"""Figure 11: one lookups sync of a large org, 1,000 queues and 10,000 users, counted against the
simulator with a generated org (the default org file plus generated queues): the Genesys requests
it takes, the time that is at the audit's pace, and the snapshots' size (docs/benchmarks.md)."""

from __future__ import annotations

import math
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.table import Row, fmt_mb
from genesys_bridge import layout

QUEUES, USERS = 1_000, 10_000


class _SizedBucket:
    """Stands in for S3: keeps each snapshot's size, as the sync's put_object sends it."""

    def __init__(self) -> None:
        self.sizes: dict[str, int] = {}

    def put_object(self, **request: Any) -> None:
        self.sizes[request["Key"]] = len(request["Body"])


def generated_org(folder: Path, queues: int = QUEUES, users: int = USERS) -> Any:
    """The simulator's org file with voice queues appended up to `queues`, and `users` agents."""
    from genesys_simulator.org import DEFAULT_ORG_FILE, OrgSpec

    extra = "".join(
        f'\n[[queue]]\nname = "Queue {n:04d}"\ndivision = "Home"\nmedia = ["voice"]\n' for n in range(queues)
    )
    path = folder / "org.toml"
    path.write_text(DEFAULT_ORG_FILE.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return OrgSpec(path=path, queues=queues, agents=users)


def lookup_rows(requests_per_minute: int, queues: int = QUEUES, users: int = USERS) -> list[Row]:
    figure = f"Lookups sync ({queues:,} queues, {users:,} users): Genesys requests"
    try:
        from genesys_bridge.genesys import GenesysClient
        from genesys_bridge.lookups import sync_lookups
        from genesys_bridge.metrics import NullMetrics
        from genesys_simulator import GenesysSimulator, SimulatorConfig

        with tempfile.TemporaryDirectory() as folder:
            config = SimulatorConfig(org=generated_org(Path(folder), queues, users), requests_per_minute=None)
            with GenesysSimulator(config) as sim:
                bucket, started = _SizedBucket(), time.process_time()
                with GenesysClient(
                    region="mypurecloud.ie",
                    client_id=sim.config.client_id,
                    client_secret=sim.config.client_secret,
                    api_base_url=sim.base_url,
                    login_base_url=sim.base_url,
                    max_requests_per_minute=1_000_000,
                ) as client:
                    day = date.today()
                    s3: Any = bucket
                    results = sync_lookups(day, genesys=client, s3=s3, bucket="b", metrics=NullMetrics())
                compute_s = time.process_time() - started
                stats = sim.stats()
    except Exception as error:  # noqa: BLE001 - reported in the table
        return [Row.not_measured("11", figure, f"the sync could not run: {error!r}")]
    requests = sum(result.genesys_requests for result in results)
    floor = sum(max(1, math.ceil(result.entities / 100)) for result in results)
    entities = ", ".join(f"{result.lookup} {result.entities:,}" for result in results)
    sizes = {lookup: bucket.sizes.get(layout.lookup_key(lookup, day), 0) for lookup in layout.LOOKUPS}
    return [
        Row(
            "11",
            figure,
            f"{requests} + {stats['token_requests']} token",
            f"floor {floor}: one request per page of 100",
            note=f"entities listed: {entities}; the simulator answered {stats['api_requests']} API "
            f"requests; {compute_s:.1f} s of the bench process's CPU (sync and simulator together)",
        ),
        Row(
            "11",
            "Lookups sync: time at the audit's pace",
            f"{requests / requests_per_minute:.1f} min",
            f"{requests_per_minute} req/min (audit_max_requests_per_minute)",
        ),
        Row(
            "11",
            "Lookups snapshots per day",
            f"{fmt_mb(sum(sizes.values()))}",
            f"users {fmt_mb(sizes['users'])}, queues {fmt_mb(sizes['queues'])}; views read every day's",
        ),
    ]
