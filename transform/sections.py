"""Reader blocks → a flat token stream with line numbers, and the split into report sections.

Every layout (HTML grid, tab grid, one cell per line, one cell per paragraph, PDF) becomes the same
stream of cell tokens; the table parsers then read cells in sequence, using line boundaries only
where they carry meaning (blank vs lost cells, positional rows of a real grid).
Sections are found by their canonical heading text (spec §2.2), never by the `X、` prefix alone,
and a lost heading is recovered from the first cell that only its table has.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache

from extract.readers.base import Block, Cell, TableBlock, TextBlock, shared_cell

from .labels import Label, narrow, norm, split_ordinal
from .values import is_value_text
from .vocab import HEADINGS, S4_STRONG

_MD_HEADING = re.compile(r"^#{1,6}\s*")


@dataclass(slots=True)
class Token:
    raw: str
    norm: str
    label: Label
    is_value: bool
    empty: bool  # printed empty (norm == ""): a field, since the mappers ask it of every token many times
    copy: bool
    line: int
    col: int


@dataclass(slots=True)
class Document:
    lines: list[list[Cell]]
    tokens: list[Token]
    line_text: list[str]  # one normalised-for-regex (but spaced) text per line
    sections: dict[int, tuple[int, int]] = field(default_factory=dict)  # section → [start, end) line
    table_regions: dict[int, tuple[int, int]] = field(default_factory=dict)  # 2/3/4 → [start, end) token
    _body: str | None = None

    @property
    def nfkc_body(self) -> str:
        """The whole text with full-width ASCII narrowed, once (metadata and hints search it)."""
        if self._body is None:
            self._body = narrow("\n".join(self.line_text))
        return self._body

    def section_text(self, n: int) -> str:
        if n not in self.sections:
            return ""
        a, b = self.sections[n]
        return "\n".join(self.line_text[a:b])

    def head_text(self) -> str:
        """Lines before the first section (the title, preamble)."""
        first = min((a for a, _ in self.sections.values()), default=min(len(self.lines), 12))
        return "\n".join(self.line_text[:first])


_PIPE_ROW = re.compile(r"^\|?(?:[^|]*\|){1,}[^|]*$")
_VALUE_WORD = r"(?:[+-]?[\d０-９][\d０-９,，.]*|-{1,3}|—{1,2}|－|/|无)"
_NUMBERS_TAIL = re.compile(r"^(?P<label>\S.*?)(?P<nums>(?:[\s\u3000]+" + _VALUE_WORD + r")+)\s*$")
_NUM_CELL = re.compile(r"^" + _VALUE_WORD + r"$")
_LABEL_SPLIT = re.compile(r"[\s\u3000]+(?=[（(][一二三四五六七八九十][)）]|\d{1,2}[.、．]\D|[一二三四五六七八九十]、)")


def split_flat_row(text: str, *, bordered: bool = True) -> list[str] | None:
    """A table row flattened into one paragraph: "a | b | c |" or "label 0 0 0" → its cells.

    `bordered`: rows are "| a | b |" (a leading pipe is a border); otherwise rows are "a | b |" and a
    leading pipe means the first cell is empty."""
    if "|" in text and _PIPE_ROW.match(text) and not text.rstrip().endswith("。"):
        t = text.strip()
        if t.endswith("|"):
            t = t[:-1]
        if bordered and t.startswith("|"):
            t = t[1:]
        return [c.strip() for c in t.split("|")]
    nums = text.split()
    if len(nums) >= 3 and all(_NUM_CELL.match(x) for x in nums):
        return nums  # a value row printed as space-separated numbers (PDF text layers, flat pages)
    if len(text) <= 120 and not text.rstrip().endswith(("。", "；", "：", ":")):
        m = _NUMBERS_TAIL.match(text.strip())
        if m and len(m.group("label")) <= 70 and not re.search(r"\d", m.group("label")[-1:]):
            labels = [x for x in _LABEL_SPLIT.split(m.group("label")) if x.strip()]
            return labels + m.group("nums").split()
    return None


_EMPTY = Cell("")


_SHORT_LINE = 120  # labels and table rows recur across reports; running text does not (kept out of the cache)


@lru_cache(maxsize=65_536)
def _short_line(part: str, bordered: bool) -> tuple[Cell, ...]:
    """A short text line → its cells (pure)."""
    cells = split_flat_row(part, bordered=bordered)
    return tuple(shared_cell(c) for c in cells) if cells else (shared_cell(part),)


def to_lines(blocks: list[Block]) -> list[list[Cell]]:
    lines: list[list[Cell]] = []
    pipe_rows = [ln.strip() for b in blocks if isinstance(b, TextBlock) for ln in b.text.split("\n")
                 if ln.count("|") >= 2]
    bordered = sum(ln.startswith("|") for ln in pipe_rows) * 2 > len(pipe_rows)
    for b in blocks:
        if isinstance(b, TextBlock):
            if not b.text.strip():
                lines.append([_EMPTY])  # an empty paragraph: a printed-empty cell in a flattened table
                continue
            for part in b.text.split("\n"):
                part = part.strip()
                if part[:1] == "#":
                    part = _MD_HEADING.sub("", part)
                if not part:
                    continue
                if len(part) <= _SHORT_LINE:
                    lines.append(list(_short_line(part, bordered)))
                else:
                    cells = split_flat_row(part, bordered=bordered)
                    lines.append([shared_cell(c) for c in cells] if cells else [shared_cell(part)])
        elif isinstance(b, TableBlock):
            for row in b.rows:
                if len(row) == 1:  # one cell per row (cell-per-line dumps): the common case, no generators
                    if row[0].text.strip():
                        lines.append(list(row))
                # a grid row of printed-empty cells is data (all blank); a lone empty cell is not
                elif any(c.text.strip() for c in row) or sum(1 for c in row if not c.copy) >= 2:
                    lines.append(list(row))
    return lines


@lru_cache(maxsize=200_000)
def classify(text: str) -> tuple[str, Label, bool, bool]:
    """(normalised text, label with ordinal split off, reads as a value, empty): cells repeat across
    reports."""
    n = norm(text)
    return n, split_ordinal(n), is_value_text(text), n == ""


def heading_of(cells: list[Cell]) -> int | None:
    """Section number if this line is a section heading."""
    only: str | None = None
    for c in cells:
        if not c.copy and c.text.strip():
            if only is not None:
                return None  # two cells with text: a table row
            only = c.text
    if only is None or len(only) > 60:
        return None
    return _heading_text(only)


@lru_cache(maxsize=65_536)
def _heading_text(only: str) -> int | None:
    """Section number of a line whose only text is `only` (pure: labels recur across reports)."""
    n, lab, is_value, _ = classify(only)
    if len(n) > 44 or is_value:
        return None
    text = lab.text.rstrip(":：。")
    if lab.ordinal.startswith("("):
        return None  # (一)… is a sub-heading inside a section
    for sec, names in HEADINGS.items():
        if lab.ordinal and lab.ordinal != "一二三四五六"[sec - 1] and lab.ordinal != str(sec):
            continue  # 一、…六、 must agree with the section ("三、本年度办理结果" is a table row)
        for name in names:
            if text == name or (lab.ordinal and text.startswith(name) and len(text) <= len(name) + 6):
                return sec
    return None


def build(blocks: list[Block]) -> Document:
    lines = to_lines(blocks)
    tokens: list[Token] = []
    add = tokens.append
    line_text: list[str] = []
    for i, cells in enumerate(lines):
        if len(cells) == 1:
            c = cells[0]
            text = c.text
            line_text.append(text.strip())
            if len(text) > 80:
                continue  # running text: never a table cell, keep the token stream small
            add(Token(text, *classify(text), c.copy, i, 0))
            continue
        parts = []
        for j, c in enumerate(cells):
            text = c.text
            add(Token(text, *classify(text), c.copy, i, j))
            if not c.copy:
                stripped = text.strip()
                if stripped:
                    parts.append(stripped)
        line_text.append(" ".join(parts))
    doc = Document(lines, tokens, line_text)
    _find_sections(doc)
    _find_table_regions(doc)
    return doc


def _find_sections(doc: Document) -> None:
    starts: dict[int, int] = {}
    last = 0
    for i, cells in enumerate(doc.lines):
        sec = heading_of(cells)
        # sections come in order; a later heading-like line for an earlier section is body text
        if sec and sec > last and sec not in starts:
            starts[sec] = i
            last = sec
    order = sorted(starts.items(), key=lambda kv: kv[1])
    for k, (sec, start) in enumerate(order):
        end = order[k + 1][1] if k + 1 < len(order) else len(doc.lines)
        doc.sections[sec] = (start, end)


def _first_token(doc: Document, lo: int, hi: int, pred) -> int | None:
    """The first token in [lo, hi) satisfying `pred`. Every marker predicate is false for a value token,
    so values (most of a table region) are passed over without a call."""
    tokens = doc.tokens
    for k in range(lo, hi):
        t = tokens[k]
        if not t.is_value and pred(t):
            return k
    return None


def _token_at_line(doc: Document, line: int) -> int:
    """The first token on or after `line` (tokens are in line order)."""
    return bisect_left(doc.tokens, line, key=_line_of)


def _line_of(t: Token) -> int:
    return t.line


# markers are labels: each predicate is false for a value token (_first_token relies on it)
def _is_s2_marker(t: Token) -> bool:
    return not t.is_value and "第二十条" in t.norm


def _is_s3_marker(t: Token) -> bool:
    return not t.is_value and ("本年新收" in t.norm or "勾稽" in t.norm or t.norm == "申请人情况"
                               or "上年结转" in t.norm)


_S4_STRONG = re.compile("|".join(map(re.escape, S4_STRONG)))


def _is_s4_marker(t: Token) -> bool:
    return (not t.is_value and not t.copy and len(t.norm) <= 12
            and _S4_STRONG.search(t.norm) is not None and "申请" not in t.norm)


def _find_table_regions(doc: Document) -> None:
    """Token ranges of the §二/§三/§四 tables; a lost heading is recovered from its table's cells."""
    n = len(doc.tokens)
    sec = doc.sections
    end_line = min((sec[s][0] for s in (5, 6) if s in sec), default=None)
    end = _token_at_line(doc, end_line) if end_line is not None else n
    start_line = sec[1][1] if 1 in sec else 0  # the first table starts after §一 at the earliest
    lo = _token_at_line(doc, sec[2][0]) if 2 in sec else _token_at_line(doc, start_line)
    s2 = _token_at_line(doc, sec[2][0]) if 2 in sec else _first_token(doc, lo, end, _is_s2_marker)
    s3 = _token_at_line(doc, sec[3][0]) if 3 in sec else _first_token(doc, s2 if s2 is not None else lo, end,
                                                                       _is_s3_marker)
    search4 = s3 if s3 is not None else (s2 if s2 is not None else lo)
    s4 = _token_at_line(doc, sec[4][0]) if 4 in sec else _first_token(doc, search4, end, _is_s4_marker)
    if 4 in sec and 5 not in sec and 6 not in sec:
        end = n
    # if the §三 heading exists but the §四 table sits inside it (heading lost, S3), cut at the first
    # cell only §四 has
    if s3 is not None and s4 is not None and s4 < s3:
        s4 = None
    if s3 is not None:
        stop = s4 if s4 is not None else end
        cut = _first_token(doc, s3 + 1, stop, _is_s4_marker)
        if cut is not None and 4 not in sec:
            s4 = cut
    bounds = [(2, s2), (3, s3), (4, s4)]
    present = [(k, v) for k, v in bounds if v is not None]
    for idx, (k, v) in enumerate(present):
        stop = present[idx + 1][1] if idx + 1 < len(present) else end
        if stop > v:
            doc.table_regions[k] = (v, stop)
