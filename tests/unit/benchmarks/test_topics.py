"""Figure 10: the topic choice, from two runs' counts."""

from __future__ import annotations

from benchmarks.topics import ONE_TOPIC, TWO_TOPICS, TopicRun, rows_from


def _run(topics: tuple[str, ...], events: int, usd: float, *, reconciled: bool = True) -> TopicRun:
    return TopicRun(topics, conversations=600, events=events, usd_per_million=usd, audit_missing=0,
                    reconciled=reconciled)  # fmt: skip


def test_the_second_topic_is_shown_as_what_it_adds_per_conversation_and_per_million() -> None:
    # Given the same 600 conversations landed from 729 events with one topic and 1,248 with two
    one, two = _run(ONE_TOPIC, 729, 9.54), _run(TWO_TOPICS, 1248, 11.56)

    # When the figure's rows are made
    rows = rows_from(one, two, "prod", 0.05)

    # Then each run shows its cost and events per conversation beside the other's, and the last row
    # what the second topic adds
    assert [row.measured for row in rows] == ["$9.54", "$11.56", "$2.02 per million conversations"]
    assert rows[0].reference.startswith("1.22 events per conversation; customer.end + acw: $11.56")
    assert rows[1].reference.startswith("2.08 events per conversation; customer.end: $9.54")
    assert rows[2].reference.startswith("0.86 more events per conversation")
    assert all(row.number == "10" for row in rows)


def test_a_run_that_did_not_reconcile_says_so_beside_its_cost() -> None:
    rows = rows_from(
        _run(ONE_TOPIC, 729, 9.54, reconciled=False), _run(TWO_TOPICS, 1248, 11.56), "prod", 0.05
    )
    assert "did NOT reconcile" in rows[0].note
    assert rows[1].note.endswith("events, reconciled")
