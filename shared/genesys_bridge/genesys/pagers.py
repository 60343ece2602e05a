"""The three ways Genesys pages, each guarded against loops.

- Details query: no next link; page by `paging.pageNumber` until `totalHits` or a short page. Genesys
  refuses to page past 100,000 results, so we refuse first, before yielding anything, and point at the
  jobs API. The data is live (totals shift while paging), so conversation ids are deduplicated.
- Entity listings: follow `nextUri`, a path relative to the API base (never `nextPageUri`, which exists
  nowhere in the API).
- Analytics job results: follow `cursor` until there is none.

Pagers take the HTTP call as a function, so they know nothing of tokens, retries or pacing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit

from .errors import PagingError, QueryTooLarge

MAX_QUERY_RESULTS: Final = 100_000
DEFAULT_QUERY_PAGE_SIZE: Final = 100
# A listing with more pages than this is far more likely a server bug than data we want.
MAX_PAGES: Final = 10_000

# (absolute URL, query params or None) -> the JSON object returned.
GetJson = Callable[[str, Mapping[str, Any] | None], dict[str, Any]]
# (request body) -> the JSON object returned.
PostJson = Callable[[dict[str, Any]], dict[str, Any]]


def api_url(api_base_url: str, path: str) -> str:
    """`path` under the API base. Only paths are accepted: the bearer token goes wherever this points."""
    if not path.startswith("/") or path.startswith("//"):
        raise ValueError(f"expected a path such as '/api/v2/users', got {path!r}")
    return api_base_url + path


def resolve_next_uri(api_base_url: str, next_uri: str) -> str:
    """An absolute URL for a `nextUri`: relative to the API base, or absolute on the API's own host."""
    if next_uri.startswith("/") and not next_uri.startswith("//"):
        return api_base_url + next_uri
    target, base = urlsplit(next_uri), urlsplit(api_base_url)
    if (target.scheme, target.netloc) == (base.scheme, base.netloc):
        return next_uri
    raise PagingError(f"refusing to follow nextUri off the API host: {next_uri!r}")


def iter_query_pages(post: PostJson, body: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Conversations from a details query, all pages, each conversationId once.

    `body` is never modified: every page is sent as a new dict with its own `paging`.
    """
    paging = dict(body.get("paging") or {})
    page_size = _positive_int(paging.get("pageSize", DEFAULT_QUERY_PAGE_SIZE), "paging.pageSize")
    page_number = _positive_int(paging.get("pageNumber", 1), "paging.pageNumber")
    seen: set[str] = set()
    first = True
    while True:
        if page_number * page_size > MAX_QUERY_RESULTS:
            raise _too_large(f"page {page_number} of size {page_size}")
        page = post({**body, "paging": {**paging, "pageSize": page_size, "pageNumber": page_number}})
        conversations = page.get("conversations") or []
        total = page.get("totalHits")
        if first and isinstance(total, int) and total > MAX_QUERY_RESULTS:
            # Refuse before yielding: a caller must not take a truncated result for the whole.
            raise _too_large(f"totalHits {total}")
        first = False
        for conversation in conversations:
            conversation_id = conversation.get("conversationId")
            if conversation_id is not None:
                if conversation_id in seen:
                    continue
                seen.add(conversation_id)
            yield conversation
        if len(conversations) < page_size or (isinstance(total, int) and page_number * page_size >= total):
            return
        page_number += 1


def iter_next_uri(
    get: GetJson,
    api_base_url: str,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    max_pages: int = MAX_PAGES,
) -> Iterator[dict[str, Any]]:
    """`entities` of a listing, following `nextUri` until there is none."""
    url = api_url(api_base_url, path)
    if params:
        url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
    seen = {_page_key(url)}
    for _ in range(max_pages):
        page = get(url, None)
        yield from page.get("entities") or []
        next_uri = page.get("nextUri")
        if not next_uri:
            return
        url = resolve_next_uri(api_base_url, str(next_uri))
        key = _page_key(url)
        if key in seen:
            raise PagingError(f"nextUri loop: {next_uri!r} was already fetched")
        seen.add(key)
    raise PagingError(f"listing {path!r} still had a nextUri after {max_pages} pages")


def iter_cursor_pages(
    get: GetJson, url: str, *, items_key: str = "conversations", max_pages: int = MAX_PAGES
) -> Iterator[dict[str, Any]]:
    """`items_key` of each page at `url`, following `cursor` until there is none."""
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(max_pages):
        page = get(url, {"cursor": cursor} if cursor else None)
        yield from page.get(items_key) or []
        next_cursor = page.get("cursor")
        if not next_cursor:
            return
        cursor = str(next_cursor)
        if cursor in seen:
            raise PagingError(f"cursor loop at {urlsplit(url).path}: a cursor came back twice")
        seen.add(cursor)
    raise PagingError(f"{urlsplit(url).path} still had a cursor after {max_pages} pages")


def _page_key(url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The same page whatever the order of its query parameters."""
    parts = urlsplit(url)
    return parts.path, tuple(sorted(parse_qsl(parts.query, keep_blank_values=True)))


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def _too_large(what: str) -> QueryTooLarge:
    return QueryTooLarge(
        f"details query refused: {what} would page past Genesys's {MAX_QUERY_RESULTS:,}-result cap; "
        "narrow the interval or use the analytics jobs API (GenesysClient.iter_details_job)"
    )
