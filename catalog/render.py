"""How the local catalog's answers are printed: a result as a table (`make query`, `make demo`'s KPI
summary) and the files and lookup lines it skipped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from catalog.local import Result, SkippedFile

_SKIPPED_HEADERS = {
    "file": "landed file(s) that are not conversation objects",
    "line": "lookup snapshot line(s) or file(s) that are no entity",
}


def skipped_text(skipped: Sequence[SkippedFile], *, shown: int = 10) -> str:
    """Lines naming the skipped files and lookup lines (at most `shown` of each kind) and why; empty when
    none was."""
    lines = []
    for kind, header in _SKIPPED_HEADERS.items():
        of_kind = [file for file in skipped if file.kind == kind]
        if not of_kind:
            continue
        lines.append(f"skipped {len(of_kind)} {header}:")
        lines += [f"  {file.path}: {file.reason}" for file in of_kind[:shown]]
        if len(of_kind) > shown:
            lines.append(f"  ... and {len(of_kind) - shown} more")
    return "\n".join(lines)


def format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}" if abs(value) >= 1e15 else f"{value:.15g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {format_value(item)}" for key, item in value.items()) + "}"
    if isinstance(value, datetime):
        # as Athena prints a timestamp(3) with time zone
        zone = (
            " UTC" if value.utcoffset() == timedelta(0) else (value.strftime(" %z") if value.tzinfo else "")
        )
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}{zone}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def render(result: Result, *, max_rows: int | None = None, max_width: int = 60) -> str:
    """A padded Markdown table; cells past max_width are cut with an ellipsis."""

    def cell(value: Any) -> str:
        text = format_value(value).replace("|", "/").replace("\n", " ")
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    shown: Sequence[tuple[Any, ...]] = result.rows if max_rows is None else result.rows[:max_rows]
    body = [result.columns, *([cell(value) for value in row] for row in shown)]
    widths = [max(len(line[index]) for line in body) for index in range(len(result.columns))]
    lines = [
        "| " + " | ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)) + " |"
        for line in body
    ]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    hidden = len(result.rows) - len(shown)
    if hidden > 0:
        lines.append(f"... {hidden} more row(s) (--csv prints all)")
    lines.append(f"({len(result.rows)} row{'s' if len(result.rows) != 1 else ''})")
    return "\n".join(lines)
