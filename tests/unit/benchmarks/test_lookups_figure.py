"""Figure 11 counts a lookups sync's requests against the simulator with a generated org: one request
per page of 100 of each listing, nothing more."""

from __future__ import annotations

from pathlib import Path

from benchmarks.lookups import generated_org, lookup_rows
from genesys_simulator.org import build_org


def test_the_generated_org_has_the_queues_and_users_asked_for(tmp_path: Path) -> None:
    org = build_org(generated_org(tmp_path, queues=150, users=250))

    assert (len(org.queues), len(org.agents)) == (150, 250)
    assert len({queue.name for queue in org.queues}) == 150


def test_a_sync_takes_one_request_per_page_of_each_listing() -> None:
    # 150 queues: 2 pages; 250 users: 3 pages; codes, divisions, skills, languages: 1 page each
    requests, pace, size = lookup_rows(30, queues=150, users=250)

    assert requests.measured.startswith("9 + ")
    assert requests.reference == "floor 9: one request per page of 100"
    assert pace.measured == f"{9 / 30:.1f} min"
    assert size.measured.endswith(" MB")
    assert "users 250" in requests.note
