"""The one table `make bench` prints: each figure beside its reference, its target and a verdict.

Rendered as a Markdown pipe table so the very same text reads in a terminal and pastes into README.md.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass


class Verdict(enum.Enum):
    MET = "met"
    NOT_MET = "NOT MET"
    NO_TARGET = "-"
    NOT_MEASURED = "not measured"

    @classmethod
    def of(cls, met: bool) -> Verdict:
        return cls.MET if met else cls.NOT_MET


@dataclass(frozen=True)
class Row:
    number: str
    figure: str
    measured: str
    reference: str = ""
    target: str = ""
    verdict: Verdict = Verdict.NO_TARGET
    # why a figure is missing, or what a reader needs to interpret it; printed below the table
    note: str = ""

    @classmethod
    def not_measured(
        cls, number: str, figure: str, reason: str, *, reference: str = "", target: str = ""
    ) -> Row:
        return cls(number, figure, "-", reference, target, Verdict.NOT_MEASURED, reason)


HEADERS = ("#", "Figure", "Measured", "Reference", "Target", "Result")


def _cells(row: Row) -> tuple[str, ...]:
    # a "|" inside a cell would split the Markdown column
    return tuple(
        cell.replace("|", "/")
        for cell in (row.number, row.figure, row.measured, row.reference, row.target, row.verdict.value)
    )


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A padded Markdown pipe table, one line each (reads in a terminal, pastes into docs)."""
    widths = [max(len(line[col]) for line in (headers, *rows)) for col in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    return [line(headers), "|" + "|".join("-" * (width + 2) for width in widths) + "|", *map(line, rows)]


def render_table(rows: Sequence[Row], *, title: str = "", footer: Sequence[str] = ()) -> str:
    """The figures' table, then one line per row note, then free footer lines."""
    out: list[str] = [title, ""] if title else []
    out += markdown_table(HEADERS, [_cells(row) for row in rows])
    notes = [f"- [{row.number}] {row.note}" for row in rows if row.note]
    if notes:
        out += ["", "Notes:", *notes]
    if footer:
        out += ["", *footer]
    return "\n".join(out)


def summary(rows: Sequence[Row]) -> str:
    """One closing line: how many targets were met, missed or could not be measured."""
    counts = {verdict: sum(1 for row in rows if row.verdict is verdict) for verdict in Verdict}
    return (
        f"targets met: {counts[Verdict.MET]}, not met: {counts[Verdict.NOT_MET]}, "
        f"not measured: {counts[Verdict.NOT_MEASURED]}"
    )


# Formatting shared by the figures, so every row speaks the same units.
def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


def fmt_seconds(seconds: float) -> str:
    return f"{seconds:.2f} s"


def fmt_mb(size_bytes: int) -> str:
    # decimal MB (10^6 bytes): the stricter reading of a "25 MB" target
    return f"{size_bytes / 1_000_000:.1f} MB"


def fmt_pct(share: float) -> str:
    return f"{share * 100:.1f}%"


def fmt_usd(amount: float) -> str:
    return f"${amount:,.2f}"
