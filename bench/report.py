"""Tables and sections, printed as text on a terminal and as Markdown in results.md."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hyperv_emulator.counters import RoundTrips

EMPTY = "-"


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    # one letter per column: "l" left, "r" right (numbers)
    align: str = ""

    def __post_init__(self) -> None:
        width = len(self.headers)
        for row in self.rows:
            if len(row) != width:
                raise ValueError(f"row {row!r} has {len(row)} cells; the table has {width} "
                                 f"columns ({', '.join(self.headers)})")
        if not self.align:
            self.align = "l" + "r" * (width - 1)
        if len(self.align) != width or set(self.align) - {"l", "r"}:
            raise ValueError(f"align {self.align!r} must be one l or r per column ({width})")

    def text(self) -> str:
        widths = [max(len(c) for c in column) for column in zip(self.headers, *self.rows,
                                                                  strict=True)]

        def line(cells: Sequence[str]) -> str:
            return "  ".join(c.ljust(w) if a == "l" else c.rjust(w)
                             for c, w, a in zip(cells, widths, self.align, strict=True)).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([line(self.headers), rule, *(line(r) for r in self.rows)])

    def markdown(self) -> str:
        def line(cells: Sequence[str]) -> str:
            return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

        rule = "|" + "|".join("---:" if a == "r" else "---" for a in self.align) + "|"
        return "\n".join([line(self.headers), rule, *(line(r) for r in self.rows)])


@dataclass
class Section:
    title: str
    intro: str = ""
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    preformatted: str = ""  # another tool's own output, kept as it printed it

    def text(self) -> str:
        parts = [self.title, "=" * len(self.title)]
        if self.intro:
            parts += ["", self.intro]
        for table in self.tables:
            parts += ["", table.text()]
        if self.preformatted:
            parts += ["", self.preformatted.rstrip()]
        if self.notes:
            parts += ["", *(f"* {n}" for n in self.notes)]
        return "\n".join(parts) + "\n"

    def markdown(self, level: int = 2) -> str:
        parts = [f"{'#' * level} {self.title}"]
        if self.intro:
            parts += ["", self.intro]
        for table in self.tables:
            parts += ["", table.markdown()]
        if self.preformatted:
            parts += ["", "```", self.preformatted.rstrip(), "```"]
        if self.notes:
            parts += ["", *(f"- {n}" for n in self.notes)]
        return "\n".join(parts) + "\n"


def publish(section: Section, markdown: Path | None) -> int:
    """Print a command's section, and write it as Markdown too when asked (--markdown)."""
    if markdown is not None:
        markdown.write_text(section.markdown())
    print(section.text())
    return 0


def count(trips: RoundTrips | None) -> str:
    return EMPTY if trips is None else str(trips.total)


def detail(trips: RoundTrips | None) -> str:
    """queries / gets / method calls / job polls."""
    if trips is None:
        return EMPTY
    return f"{trips.queries}/{trips.gets}/{trips.calls}/{trips.job_polls}"


def ratio(ours: float | None, theirs: float | None) -> str:
    """ours / theirs: below 1 means ours needs less."""
    if ours is None or theirs is None or theirs == 0:
        return EMPTY
    return f"{ours / theirs:.2f}"


def seconds(value: float | None) -> str:
    if value is None:
        return EMPTY
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
