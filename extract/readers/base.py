"""The reader contract: every reader takes bytes and returns blocks in reading order.

A block is either a paragraph of text or a table (a grid of cells). Readers know nothing about
report templates; `transform` maps blocks to schema keys.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache


class ReaderError(Exception):
    """A document that cannot be read. The message names the reason; callers add the source."""


class LimitExceeded(ReaderError):
    """A configured resource limit was hit (size, pages, cells, nesting, time)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits applied by every reader; a hit raises LimitExceeded with the limit's name."""

    max_bytes: int = 50 * 1024 * 1024  # raw document size
    max_html_bytes: int = 20 * 1024 * 1024
    max_html_depth: int = 400  # element nesting depth
    max_table_cells: int = 200_000  # cells of one document's tables, after span expansion
    max_pdf_pages: int = 200
    max_seconds: float = 60.0  # wall time for one document's parse
    max_zip_entries: int = 2_000  # DOCX
    max_unzipped_bytes: int = 200 * 1024 * 1024  # DOCX, sum of entry sizes


class Deadline:
    """`limits.max_seconds` for one document: `check()` at loop points raises LimitExceeded once past it."""

    __slots__ = ("end", "limit", "what")

    def __init__(self, limits: Limits, what: str) -> None:
        self.limit = limits.max_seconds
        self.end = time.monotonic() + limits.max_seconds
        self.what = what

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise LimitExceeded(f"max_seconds: {self.what} took longer than {self.limit}s")


@dataclass(frozen=True, slots=True)
class Cell:
    """One table cell. `copy` marks a cell filled from another cell's rowspan/colspan (or a merged
    DOCX cell), so its text is a label's context, never a second value."""

    text: str
    copy: bool = False


_SHARED_CELL_LEN = 100  # longer texts (running text, hostile input) are not worth keeping


def shared_cell(text: str, copy: bool = False) -> Cell:
    """The Cell for (text, copy), one object across documents for short texts: Cells are immutable, the
    same labels and small numbers fill every report, and a frozen dataclass is slow to build."""
    return _cached_cell(text, copy) if len(text) <= _SHARED_CELL_LEN else Cell(text, copy)


_cached_cell = lru_cache(maxsize=65_536)(Cell)


@dataclass(slots=True)
class TextBlock:
    text: str
    page: int | None = None


@dataclass(slots=True)
class TableBlock:
    rows: list[list[Cell]]
    page: int | None = None  # first page (PDF); tables continued across pages are joined


Block = TextBlock | TableBlock


@dataclass(slots=True)
class ReadResult:
    blocks: list[Block]
    fmt: str  # html | text | pdf | docx
    title: str | None = None  # <title>, DOCX core title, PDF metadata title
    encoding: str | None = None  # the charset used to decode (html/text)
    warnings: list[str] = field(default_factory=list)
