"""Draw simple report-like PDFs (Chinese text via reportlab's built-in CID font STSong-Light).

Generic building blocks for tests and generators: paragraphs and tables (ruled or unruled, with
rowspan/colspan drawn as merged rectangles). Content flows top-down; a table that does not fit is
split across pages at a row boundary (optionally repeating its first `repeat_rows` rows), so
"table continued on the next page" layouts come for free. Nothing here knows the report template.

    from pdfgen import Paragraph, Table, draw_pdf
    pdf = draw_pdf([[Paragraph("一、总体情况"), Table([["a", "1"], ["b", "2"]])], [Paragraph("p2")]])
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Literal

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


@dataclass
class Paragraph:
    text: str
    size: float = 10.5
    indent: int = 2  # first-line indent in characters (Chinese style)
    space_after: float = 4.0


@dataclass
class Table:
    rows: list[list[str]]
    # (row, col) of a merged cell's origin -> (rowspan, colspan); covered positions are ignored
    spans: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    col_widths: list[float] | None = None  # points; default: equal split of the text width
    ruled: bool = True
    size: float = 9.0
    padding: float = 3.0
    min_row_height: float = 0.0
    align: Literal["left", "center"] = "center"
    valign: Literal["top", "middle"] = "middle"
    # "rect": one stroked rectangle per cell; "filled": each edge a thin filled rectangle (Word/WPS style)
    border: Literal["rect", "filled"] = "rect"
    repeat_rows: int = 0  # header rows repeated after an automatic page split
    space_after: float = 6.0


@dataclass
class PageBreak:
    pass


Element = Paragraph | Table | PageBreak

_MARGIN = 56.0


def _safe(line: str) -> str:
    """pdfium drops a text object holding one lone CJK glyph of this non-embedded font; a trailing
    space keeps generated PDFs readable by pdfium (the reader also has a fallback for it)."""
    return line + " " if len(line) == 1 and not line.isascii() else line


def _wrap(text: str, width: float, size: float) -> list[str]:
    """Greedy char-level wrap (CJK has no word boundaries); explicit "\\n" forces a break."""
    lines: list[str] = []
    for part in text.split("\n"):
        cur = ""
        for ch in part:
            if cur and pdfmetrics.stringWidth(cur + ch, FONT, size) > width:
                lines.append(cur)
                cur = ch
            else:
                cur += ch
        lines.append(cur)
    return lines


class _Writer:
    def __init__(self, page_size: tuple[float, float], title: str | None) -> None:
        self.buf = io.BytesIO()
        self.c = canvas.Canvas(self.buf, pagesize=page_size)
        if title:
            self.c.setTitle(title)
        self.w, self.h = page_size
        self.y = self.h - _MARGIN
        self.page_has_content = False

    @property
    def text_width(self) -> float:
        return self.w - 2 * _MARGIN

    def new_page(self) -> None:
        self.c.showPage()
        self.y = self.h - _MARGIN
        self.page_has_content = False

    def paragraph(self, p: Paragraph) -> None:
        lead = p.size * 1.5
        first = "\u3000" * p.indent
        for line in _wrap(first + p.text, self.text_width, p.size):
            if self.y - lead < _MARGIN:
                self.new_page()
            self.c.setFont(FONT, p.size)
            self.c.drawString(_MARGIN, self.y - p.size, _safe(line))
            self.y -= lead
        self.y -= p.space_after
        self.page_has_content = True

    def table(self, t: Table) -> None:
        ncols = max(len(r) for r in t.rows)
        widths = t.col_widths or [self.text_width / ncols] * ncols
        xs = [_MARGIN]
        for wd in widths:
            xs.append(xs[-1] + wd)
        lead = t.size * 1.25
        covered: set[tuple[int, int]] = set()
        spans: dict[tuple[int, int], tuple[int, int]] = {}
        for r, row in enumerate(t.rows):
            for c in range(len(row)):
                if (r, c) in covered:
                    continue
                rs, cs = t.spans.get((r, c), (1, 1))
                spans[(r, c)] = (rs, cs)
                for rr in range(r, r + rs):
                    for cc in range(c, c + cs):
                        if (rr, cc) != (r, c):
                            covered.add((rr, cc))
        # row heights from single-row cells; merged cells get what their rows give them
        heights = [max(t.min_row_height, lead + 2 * t.padding) for _ in t.rows]
        wrapped: dict[tuple[int, int], list[str]] = {}
        for (r, c), (rs, cs) in spans.items():
            text = t.rows[r][c] if c < len(t.rows[r]) else ""
            width = xs[min(c + cs, ncols)] - xs[c] - 2 * t.padding
            wrapped[(r, c)] = _wrap(text, max(width, t.size * 0.6), t.size) if text else []
            if rs == 1:
                heights[r] = max(heights[r], len(wrapped[(r, c)]) * lead + 2 * t.padding)
        # page split points: rows are never cut; header rows repeat
        top = self.y
        r = 0
        part = 0
        parts: list[tuple[list[int], float]] = []  # rows drawn in each part, top y of the part
        cur_rows: list[int] = []
        part_top = top
        y = top
        while r < len(t.rows):
            if y - heights[r] < _MARGIN and (cur_rows or self.page_has_content):
                parts.append((cur_rows, part_top))
                cur_rows = []
                part += 1
                y = part_top = self.h - _MARGIN
                self.page_has_content = False
                if t.repeat_rows:
                    for hr in range(min(t.repeat_rows, r)):
                        cur_rows.append(-1 - hr)  # negative: repeated header row
                        y -= heights[hr]
            cur_rows.append(r)
            y -= heights[r]
            r += 1
            self.page_has_content = True
        parts.append((cur_rows, part_top))
        for i, (rows, ptop) in enumerate(parts):
            if i > 0:
                self.c.showPage()
            self._draw_part(t, rows, ptop, xs, heights, spans, wrapped, lead)
        self.y = y - t.space_after
        self.page_has_content = True

    def _draw_part(
        self,
        t: Table,
        rows: list[int],
        top: float,
        xs: list[float],
        heights: list[float],
        spans: dict[tuple[int, int], tuple[int, int]],
        wrapped: dict[tuple[int, int], list[str]],
        lead: float,
    ) -> None:
        ncols = len(xs) - 1
        real = [(-1 - r if r < 0 else r) for r in rows]
        ytop: dict[int, float] = {}
        y = top
        for r in real:
            ytop[r] = y
            y -= heights[r]
        present = set(real)
        for (r, c), (rs, cs) in spans.items():
            # clip merged cells to the rows of this part; text only where the origin is drawn
            rr = [x for x in range(r, r + rs) if x in present]
            if not rr:
                continue
            y0 = ytop[rr[0]]
            y1 = ytop[rr[-1]] - heights[rr[-1]]
            x0, x1 = xs[c], xs[min(c + cs, ncols)]
            if t.ruled:
                self._rect(t, x0, y1, x1 - x0, y0 - y1)
            if r not in present:
                continue
            lines = wrapped[(r, c)]
            block = len(lines) * lead
            ty = y0 - t.padding if t.valign == "top" else y0 - ((y0 - y1) - block) / 2
            self.c.setFont(FONT, t.size)
            for line in lines:
                base = ty - t.size
                if t.align == "center":
                    self.c.drawCentredString(
                        (x0 + x1) / 2 + (0 if len(line) > 1 or line.isascii() else t.size * 0.25),
                        base,
                        _safe(line),
                    )
                else:
                    self.c.drawString(x0 + t.padding, base, _safe(line))
                ty -= lead

    def _rect(self, t: Table, x: float, y: float, w: float, h: float) -> None:
        if t.border == "rect":
            self.c.setLineWidth(0.5)
            self.c.rect(x, y, w, h, stroke=1, fill=0)
        else:
            lw = 0.5
            for rx, ry, rw, rh in (
                (x, y, w, lw),
                (x, y + h - lw, w, lw),
                (x, y, lw, h),
                (x + w - lw, y, lw, h),
            ):
                self.c.rect(rx, ry, rw, rh, stroke=0, fill=1)


def draw_pdf(
    pages: list[list[Element]],
    *,
    page_size: tuple[float, float] = A4,
    title: str | None = None,
    encrypt_password: str | None = None,
) -> bytes:
    """Render `pages` (each a list of elements started on a fresh page) to PDF bytes."""
    wr = _Writer(page_size, title)
    if encrypt_password:
        wr.c.setEncrypt(encrypt_password)
    for i, elements in enumerate(pages):
        if i > 0:
            wr.new_page()
        for el in elements:
            if isinstance(el, Paragraph):
                wr.paragraph(el)
            elif isinstance(el, Table):
                wr.table(el)
            else:
                wr.new_page()
    wr.c.showPage()
    wr.c.save()
    return wr.buf.getvalue()


def blank_pdf(pages: int = 1) -> bytes:
    """A valid PDF with no text at all (what a scanned report looks like to a text reader)."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for _ in range(pages):
        c.rect(100, 100, 200, 200, stroke=1, fill=0)
        c.showPage()
    c.save()
    return buf.getvalue()
