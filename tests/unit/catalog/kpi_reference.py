"""docs/query.md's KPI definitions read a second time, in plain Python over Genesys-shaped bodies.

The catalog's SQL (queue_performance, agent_performance, wrap_up_code_distribution) must give what
this gives. It is written from the definitions, not from the SQL: each session metric counts for the
queue of the segment of its own session during which it was emitted, on the day of its emitDate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

QUEUE_METRICS = frozenset(
    {"nOffered", "tAnswered", "tAbandon", "tShortAbandon", "tFlowOut", "tHandle", "tTalk", "tHeld", "tAcw"}
    | {"nTransferred"}
)
AGENT_METRICS = frozenset({"tAnswered", "tHandle", "tTalk", "tHeld", "tAcw", "nTransferred"})


@dataclass(frozen=True)
class Settings:
    """kpi_settings, with Genesys' defaults (docs/query.md, "KPI settings")."""

    interval_time_zone: str = "UTC"
    default_service_level_target_s: int = 20
    service_level_include_flow_outs: bool = False
    service_level_include_short_abandons: bool = True
    service_level_include_abandons: bool = True

    def as_overrides(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class Metric:
    name: str
    value: int
    day: date
    queue_id: str | None
    media_type: str | None
    user_id: str | None
    session: str | None  # the sessionId: one agent's (or queue's) part of an interaction


def when(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def queue_of(session: Mapping[str, Any], name: str, emitted: datetime) -> str | None:
    """The queue a metric of this session counts for: the queue segment it was emitted during; where
    two meet, the one starting there for nOffered and the one ending there for any other metric;
    outside them all, the last that started before it, else the first after it."""
    spans = [
        (when(g["segmentStart"]), when(g["segmentEnd"]) if g.get("segmentEnd") else None, g["queueId"])
        for g in session.get("segments") or []
        if g.get("queueId") and g.get("segmentStart")
    ]
    if not spans:
        return None
    during = [span for span in spans if span[0] <= emitted and (span[1] is None or emitted <= span[1])]
    if during:
        # the latest start for nOffered, the earliest otherwise; equal starts: the lowest queue id
        latest = max(start for start, _, _ in during)
        earliest = min(start for start, _, _ in during)
        chosen = latest if name == "nOffered" else earliest
        return min(queue for start, _, queue in during if start == chosen)
    before = [span for span in spans if span[0] <= emitted]
    if before:
        latest = max(start for start, _, _ in before)
        return min(queue for start, _, queue in before if start == latest)
    first = min(start for start, _, _ in spans)
    return min(queue for start, _, queue in spans if start == first)


def metrics(bodies: Iterable[Mapping[str, Any]], settings: Settings = Settings()) -> Iterator[Metric]:
    zone = ZoneInfo(settings.interval_time_zone)
    for body in bodies:
        for participant in body.get("participants") or []:
            for session in participant.get("sessions") or []:
                for metric in session.get("metrics") or []:
                    emitted = when(metric["emitDate"])
                    yield Metric(
                        name=metric["name"],
                        value=metric["value"],
                        day=emitted.astimezone(zone).date(),
                        queue_id=queue_of(session, metric["name"], emitted),
                        media_type=session.get("mediaType"),
                        user_id=participant.get("userId"),
                        session=(
                            body["conversationId"],
                            participant.get("participantId"),
                            session.get("sessionId"),
                        ),
                    )


def _mean_s(values: list[int]) -> float | None:
    return sum(values) / len(values) / 1000 if values else None


def _per_interaction_s(group: list[Metric], name: str) -> float | None:
    """The total of a duration metric over the interactions (sessions) that emitted it, in seconds:
    "Total Talk time / Count of interactions with Talk time" and the like."""
    emitted = [metric for metric in group if metric.name == name]
    return sum(m.value for m in emitted) / len({m.session for m in emitted}) / 1000 if emitted else None


def _pct(part: float, whole: float) -> float | None:
    return 100 * part / whole if whole else None


def queue_performance(
    bodies: Iterable[Mapping[str, Any]],
    settings: Settings = Settings(),
    goals: Mapping[tuple[str, str | None], tuple[float, float]] | None = None,
) -> dict[tuple[date, str, str | None], dict[str, Any]]:
    """By (interval day, queue, media type): the queue_performance figures, unrounded. `goals`: a
    queue's own (target seconds, goal %) by (queue, media type), as the queues lookup has them."""
    grouped: dict[tuple[date, str, str | None], list[Metric]] = defaultdict(list)
    for metric in metrics(bodies, settings):
        if metric.queue_id is not None and metric.name in QUEUE_METRICS:
            grouped[(metric.day, metric.queue_id, metric.media_type)].append(metric)
    rows = {}
    for key, group in grouped.items():
        goal = (goals or {}).get(key[1:])
        target_s, pct_goal = goal if goal is not None else (settings.default_service_level_target_s, None)

        def values(name: str, group: list[Metric] = group) -> list[int]:
            return [metric.value for metric in group if metric.name == name]

        offered, answered = sum(values("nOffered")), len(values("tAnswered"))
        abandoned, short_abandoned = len(values("tAbandon")), len(values("tShortAbandon"))
        flowed_out, transferred = len(values("tFlowOut")), sum(values("nTransferred"))
        answered_in_time = sum(1 for value in values("tAnswered") if value <= target_s * 1000)
        # "Configure the service level calculation": abandons (short ones among them) count unless
        # Include Abandons is off; short abandons are taken out when Include Short Abandons is off.
        counted_abandons = 0
        if settings.service_level_include_abandons:
            counted_abandons = abandoned - (
                0 if settings.service_level_include_short_abandons else short_abandoned
            )
        counted_flow_outs = flowed_out if settings.service_level_include_flow_outs else 0
        rows[key] = {
            "offered": offered,
            "answered": answered,
            "abandoned": abandoned,
            "short_abandoned": short_abandoned,
            "flowed_out": flowed_out,
            "abandon_pct": _pct(abandoned, offered),
            "handled": len(values("tHandle")),
            "avg_handle_s": _mean_s(values("tHandle")),
            "avg_talk_s": _per_interaction_s(group, "tTalk"),
            "avg_hold_s": _per_interaction_s(group, "tHeld"),
            "avg_acw_s": _per_interaction_s(group, "tAcw"),
            "avg_speed_of_answer_s": _mean_s(values("tAnswered")),
            "transferred": transferred,
            "transfer_pct": _pct(transferred, answered),
            "service_level_target_s": target_s,
            "service_level_pct_goal": pct_goal,
            "service_level_pct": _pct(answered_in_time, answered + counted_abandons + counted_flow_outs),
        }
    return rows


def agent_performance(
    bodies: Iterable[Mapping[str, Any]], settings: Settings = Settings()
) -> dict[tuple[date, str], dict[str, Any]]:
    """By (interval day, user id): the agent_performance figures, unrounded."""
    grouped: dict[tuple[date, str], list[Metric]] = defaultdict(list)
    for metric in metrics(bodies, settings):
        if metric.user_id is not None and metric.name in AGENT_METRICS:
            grouped[(metric.day, metric.user_id)].append(metric)
    rows = {}
    for key, group in grouped.items():

        def values(name: str, group: list[Metric] = group) -> list[int]:
            return [metric.value for metric in group if metric.name == name]

        rows[key] = {
            "answered": len(values("tAnswered")),
            "handled": len(values("tHandle")),
            "avg_handle_s": _mean_s(values("tHandle")),
            "avg_talk_s": _per_interaction_s(group, "tTalk"),
            "avg_hold_s": _per_interaction_s(group, "tHeld"),
            "avg_acw_s": _per_interaction_s(group, "tAcw"),
            "transferred": sum(values("nTransferred")),
        }
    return rows


def wrap_up_codes(
    bodies: Iterable[Mapping[str, Any]], settings: Settings = Settings()
) -> dict[tuple[date, str | None, str], int]:
    """By (day the wrap-up segment ended, its queue, code): how many wrap-ups chose the code."""
    zone = ZoneInfo(settings.interval_time_zone)
    uses: dict[tuple[date, str | None, str], int] = defaultdict(int)
    for body in bodies:
        for participant in body.get("participants") or []:
            for session in participant.get("sessions") or []:
                for segment in session.get("segments") or []:
                    if (
                        segment.get("segmentType") == "wrapup"
                        and segment.get("wrapUpCode")
                        and segment.get("segmentEnd")
                    ):
                        day = when(segment["segmentEnd"]).astimezone(zone).date()
                        uses[(day, segment.get("queueId"), segment["wrapUpCode"])] += 1
    return dict(uses)


# How many decimals the SQL rounds each figure to; the rest are exact counts or sums.
ROUNDED = {"abandon_pct": 2, "transfer_pct": 2, "service_level_pct": 2, "share_pct": 2} | {
    name: 1 for name in ("avg_handle_s", "avg_talk_s", "avg_hold_s", "avg_acw_s", "avg_speed_of_answer_s")
}


def assert_rows_equal(
    columns: list[str],
    rows: list[tuple[Any, ...]],
    keys: tuple[str, ...],
    expected: Mapping[Any, Mapping[str, Any]],
) -> None:
    """The SQL's rows, keyed by `keys`, hold exactly the expected groups and figures (each rounded
    figure within half a unit of its last decimal)."""
    import pytest

    actual = {}
    for row in rows:
        named = dict(zip(columns, row, strict=True))
        actual[tuple(named[key] for key in keys)] = named
    assert sorted(actual, key=repr) == sorted(expected, key=repr)
    for key, figures in expected.items():
        for name, value in figures.items():
            got = actual[key][name]
            if value is None or name not in ROUNDED:
                assert got == value, f"{key} {name}: {got!r} != {value!r}"
            else:
                tolerance = 0.5 * 10 ** -ROUNDED[name] + 1e-9
                assert got == pytest.approx(value, abs=tolerance), f"{key} {name}: {got!r} != {value!r}"
