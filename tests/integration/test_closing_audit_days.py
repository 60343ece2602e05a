"""What the closing audit of a local run covers, and the parts it is built from."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

from local_runner.closing_audit import ScaledClock, days_to_audit
from local_runner.drops import choose_dropped, delivered_events
from local_runner.workload import WorkloadSpec, synthesize

A = "0a5f8e21-9c43-4d7b-b612-3e8d4c7a9f10"
B = "5e2b9d04-7a61-4c3f-8d15-b0e6a9c7f281"


def test_the_days_audited_are_the_landed_partitions_the_planned_starts_and_the_asked_ones() -> None:
    # Given landed keys of two days (and an object outside the conversations), conversations planned
    # to start just before and after a midnight, and one day asked for explicitly
    landed = [
        f"conversations/conversation_date=2026-11-20/{A}.json",
        f"conversations/conversation_date=2026-11-21/{B}.json",
        "audits/conversation_date=2026-11-01/audit.json",
        f"conversations/conversation_date=not-a-day/{A}.json",
        "conversations/conversation_date=2026-11-02/not-a-conversation.json",
    ]
    starts = [datetime(2026, 11, 21, 23, 59, tzinfo=UTC), datetime(2026, 11, 22, 0, 1, tzinfo=UTC)]

    # When the days are chosen
    days = days_to_audit(landed, starts, [date(2026, 11, 15)])

    # Then every UTC day any of them names is audited once, oldest first
    assert days == [date(2026, 11, 15), date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22)]


def test_the_audits_clock_runs_at_the_runs_pace_from_its_offset() -> None:
    # Given the clock of a run at time scale 0.01 that audits as if a day had passed
    clock = ScaledClock(0.01, timedelta(days=1))
    first = clock.now()
    assert first - datetime.now(UTC) > timedelta(hours=23, minutes=59)

    # When the audit sleeps a 10-second Wait state
    started = time.monotonic()
    clock.sleep(10)
    slept = time.monotonic() - started

    # Then it took about 0.1 real seconds, and the audit's clock moved on by about 10 seconds
    assert 0.09 <= slept < 1.0
    assert timedelta(seconds=9) <= clock.now() - first < timedelta(seconds=100)


def test_drops_take_an_exact_seeded_share_and_every_event_of_those_conversations() -> None:
    # Given 50 conversations, each with several events, and malformed inputs that belong to none
    workload = synthesize(WorkloadSpec(conversations=50, seed=3), "eu-west-1")

    # When 10% are dropped
    dropped = choose_dropped(workload, 0.1, seed=3)
    delivered = delivered_events(workload, dropped)

    # Then exactly 5 conversations are dropped, always the same for the seed, none of their events
    # reaches ingest, and everything else still does
    assert len(dropped) == 5
    assert dropped == choose_dropped(workload, 0.1, seed=3)
    assert not any(planned.conversation_id in dropped for planned in delivered)
    lost = [planned for planned in workload.events if planned.conversation_id in dropped]
    assert len(delivered) + len(lost) == len(workload.events)
    assert len(lost) >= 5
    # and a tiny share of a small run still drops one, none at all drops none
    assert len(choose_dropped(workload, 0.001, seed=3)) == 1
    assert choose_dropped(workload, 0.0, seed=3) == frozenset()
