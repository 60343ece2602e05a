"""The details query (``POST .../details/query``) and what it shares with jobs: intervals and filters.

docs/genesys-api.md, "Query" and "Interval semantics": the body, the 31-day interval limit, paging by
pageNumber up to 100,000 results, a page past the end without a ``conversations`` key, and the
interval semantics, which differ between the query and the jobs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from genesys_simulator.conversation_store import ConversationStore, Observed
from genesys_simulator.responses import ApiResponse, BadRequest, parse_instant

# The default page size of the query (docs/genesys-api.md, "Query").
DEFAULT_QUERY_PAGE_SIZE = 25

# Conversation-level dimensions the simulator can evaluate; anything else is refused with 400 rather
# than silently matched, so a test never passes on a filter the simulator ignored.
_DIMENSIONS = frozenset({"conversationId", "divisionId", "originatingDirection", "conversationEnd"})
_OPERATORS = frozenset({"matches", "exists", "notExists"})
_UNEVALUATED_FILTERS = ("segmentFilters", "evaluationFilters", "surveyFilters", "resolutionFilters")


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime
    end: datetime


def parse_interval(body: dict[str, Any], max_days: int) -> Interval:
    """The body's ``interval`` (``<start>/<end>``, ISO-8601), at most ``max_days`` long."""
    text = body.get("interval")
    if not isinstance(text, str) or text.count("/") != 1:
        raise BadRequest("interval is required as an ISO-8601 interval <start>/<end>")
    first, _, last = text.partition("/")
    try:
        start, end = parse_instant(first), parse_instant(last)
    except ValueError:
        raise BadRequest(f"Invalid interval: {text}") from None
    if end <= start:
        raise BadRequest("The interval end must be after its start")
    if end - start > timedelta(days=max_days):
        raise BadRequest(f"The interval must not exceed {max_days} days")
    return Interval(start, end)


def parse_filters(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The body's ``conversationFilters``, checked: only what the simulator can evaluate is accepted.

    Other filter kinds and an ``orderBy`` other than conversationStart are refused with 400 rather
    than ignored, for the same reason as unknown dimensions.
    """
    for kind in _UNEVALUATED_FILTERS:
        if body.get(kind):
            raise BadRequest(f"the simulator does not evaluate {kind}")
    if body.get("orderBy", "conversationStart") != "conversationStart":
        raise BadRequest("the simulator orders by conversationStart only")
    filters = body.get("conversationFilters") or []
    if not isinstance(filters, list) or not all(isinstance(f, dict) for f in filters):
        raise BadRequest("conversationFilters must be a list of filter objects")
    for flt in filters:
        _check_filter(flt)
    return filters


def _check_filter(flt: dict[str, Any]) -> None:
    if flt.get("type", "and") not in ("and", "or"):
        raise BadRequest("filter type must be and or or")
    for predicate in flt.get("predicates") or []:
        if not isinstance(predicate, dict):
            raise BadRequest("predicates must be objects")
        if predicate.get("type", "dimension") != "dimension":
            raise BadRequest("the simulator supports dimension predicates only")
        if predicate.get("dimension") not in _DIMENSIONS:
            raise BadRequest(f"the simulator does not support dimension {predicate.get('dimension')!r}")
        if predicate.get("operator", "matches") not in _OPERATORS:
            raise BadRequest(f"unsupported operator {predicate.get('operator')!r}")
    for clause in flt.get("clauses") or []:
        if not isinstance(clause, dict):
            raise BadRequest("clauses must be objects")
        _check_filter(clause)


def _predicate_matches(predicate: dict[str, Any], observed: Observed) -> bool:
    values: dict[str, tuple[str, ...]] = {
        "conversationId": (observed.conversation_id,),
        "divisionId": observed.times.division_ids,
        "originatingDirection": (observed.times.direction,),
        "conversationEnd": ("set",) if observed.ended else (),
    }
    actual = values[predicate["dimension"]]
    operator = predicate.get("operator", "matches")
    if operator == "exists":
        return bool(actual)
    if operator == "notExists":
        return not actual
    return str(predicate.get("value", "")).lower() in actual


def _filter_matches(flt: dict[str, Any], observed: Observed) -> bool:
    results = [_predicate_matches(p, observed) for p in flt.get("predicates") or []]
    results += [_filter_matches(c, observed) for c in flt.get("clauses") or []]
    if not results:
        return True
    return any(results) if flt.get("type", "and") == "or" else all(results)


def day_start(moment: datetime) -> datetime:
    """Midnight UTC of the moment's day."""
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _day_after(moment: datetime) -> datetime:
    """The first midnight UTC at or after ``moment``: the end of the last UTC day [.., moment) touches."""
    midnight = day_start(moment)
    return midnight if midnight == moment else midnight + timedelta(days=1)


def _active_in(observed: Observed, interval: Interval) -> bool:
    """Its details have activity in the interval: it started before the interval ends and its last
    segment ended after the interval starts (or is still running)."""
    last = observed.activity_end
    return observed.times.start < interval.end and (last is None or last > interval.start)


def _select(candidates: list[Observed], interval: Interval, filters: list[dict[str, Any]]) -> list[Observed]:
    return [
        observed
        for observed in candidates
        if _active_in(observed, interval) and all(_filter_matches(flt, observed) for flt in filters)
    ]


def query_matches(
    store: ConversationStore,
    interval: Interval,
    filters: list[dict[str, Any]],
    now: float,
    descending: bool = False,
) -> list[Observed]:
    """What the query answers, in conversationStart order: conversations that started on a UTC day
    the interval touches AND have activity in the interval (the SDKs' ConversationQuery model:
    https://github.com/MyPureCloud/platform-client-sdk-python, build/docs/ConversationQuery.md).

    Some SDK releases state only the first condition; the simulator takes the wording with both,
    the narrower answer, so code that needs a conversation outside the interval's activity finds
    out locally rather than in production."""
    candidates = store.started_between(day_start(interval.start), _day_after(interval.end), now)
    found = _select(candidates, interval, filters)
    if descending:
        found.reverse()
    return found


def job_matches(
    store: ConversationStore,
    interval: Interval,
    filters: list[dict[str, Any]],
    now: float,
    start_of_day: bool,
) -> list[Observed]:
    """What a details job finds, in conversationStart order: every conversation with activity in the
    interval; with ``startOfDayIntervalMatching`` only those started on or after midnight UTC of the
    interval's first day (the SDKs' AsyncConversationQuery model,
    https://github.com/MyPureCloud/platform-client-sdk-python, build/docs/AsyncConversationQuery.md)."""
    lower = day_start(interval.start) if start_of_day else None
    return _select(store.started_between(lower, interval.end, now), interval, filters)


@dataclass(frozen=True, slots=True)
class QueryLimits:
    max_interval_days: int
    max_page_size: int
    max_results: int


def run_query(
    body: dict[str, Any],
    store: ConversationStore,
    clock: Callable[[], float],
    limits: QueryLimits,
) -> ApiResponse:
    """Answer one query body: a page of details and ``totalHits``."""
    interval = parse_interval(body, limits.max_interval_days)
    filters = parse_filters(body)
    paging = body.get("paging") or {}
    if not isinstance(paging, dict):
        raise BadRequest("paging must be an object")
    page_size = paging.get("pageSize", DEFAULT_QUERY_PAGE_SIZE)
    page_number = paging.get("pageNumber", 1)
    if not isinstance(page_size, int) or not 1 <= page_size <= limits.max_page_size:
        raise BadRequest(f"paging.pageSize must be between 1 and {limits.max_page_size}")
    if not isinstance(page_number, int) or page_number < 1:
        raise BadRequest("paging.pageNumber must be at least 1")
    if page_size * page_number > limits.max_results:
        raise BadRequest(f"Paging beyond {limits.max_results} results is not supported; narrow the interval")
    order = body.get("order", "asc")
    if order not in ("asc", "desc"):
        raise BadRequest("order must be asc or desc")
    found = query_matches(store, interval, filters, clock(), descending=order == "desc")
    page = found[(page_number - 1) * page_size : page_number * page_size]
    result: dict[str, Any] = {"totalHits": len(found)}
    if page:  # Genesys leaves the key out of an empty page
        result["conversations"] = store.render(page)
    return ApiResponse(200, result)
