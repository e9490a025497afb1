"""Plain-text / markdown reader: flattened report dumps → TextBlocks and TableBlocks.

The dumps come from other converters (docx2txt, Word "save as text", web-page copy, markdown export,
PDF text layers), so one file can mix layouts. The file is cut into regions and each region is read
with its own rule; row boundaries are kept only where the dump still has them.

Line classes: *blank* (only ASCII spaces; a line of U+3000/NBSP is content), *tab* (has a tab, unless
it is an indented sentence), *pipe* (has a ``|``), *heading* (``#`` markdown, or ``一、…情况/事项``,
``（一）…情况``: never a cell), *cell-like* (≤ 60 chars, no sentence punctuation outside brackets)
and *narrative* (the rest).

Regions and their rules:

1. **Tab grid** (seeds 000, 002–004): each tab line is a row, cells split on tabs; empty cells are kept
   (blank data cells and span placeholders are meaningful). Blank lines between tab lines do not end
   the table (a stray newline in a dump); anything else does.
2. **Tab cell per line** (seed 001; chosen when ≥ 70 % of a tab region's lines are ``⇥text`` with one
   leading tab): each ``⇥text`` line is a cell, a blank line ends the row, and a non-blank line with no
   tab right after a cell continues that cell (``⇥行政许可`` / ``⇥　`` / ``0`` → ["行政许可", "　\\n0"]).
3. **Pipe rows**: markdown ``| a | b |`` (all lines start with ``|``: outer pipes dropped, ``|---|``
   separator rows dropped) or terminator style ``a | b | c |`` (corpus 002, 004, 009, 011, 015: every
   cell ends with ``|``, so a leading ``|`` is an empty first cell, ``|||`` is three empty cells).
4. **Pipe cell stream** (corpus 006, 010, 016: fewer than 40 % of the pipe lines carry two non-empty
   cells): the dump lost its rows and ``|`` only terminates cells. Content lines accumulate until a
   pipe: ``text |`` is one cell, each further ``|`` is an empty cell, a bare ``|`` after content lines
   (006) closes that multi-line cell (``商业`` / ``企业`` / ``|`` → "商业\\n企业"). Each cell becomes a
   one-cell row, so the transform parses the cell sequence.
5. **Paragraph cells** (corpus 005, 007, 008, 014, 019, 020: one cell per line or per paragraph): a run
   of ≥ 4 cell-like lines (blank lines ignored) holding ≥ 2 number-only lines or a table marker
   (第二十条 / 信息内容 / 申请人情况 / 勾稽 / 行政复议 …) is a TableBlock of one-cell rows. A line of
   space-separated numbers (PDF text layers, corpus 012/013: ``四、结转… 0 0 0 0``) is split into a
   row of cells and also makes its run a table.
6. Everything else is a TextBlock per line (markdown ``#`` markers and ``[bookmark: …]`` artefacts
   removed).

Values are never interpreted: "/" or "—" stay cell text, and cell text keeps NBSP/U+3000 padding.
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache
from itertools import islice

from .base import (
    Cell,
    Deadline,
    LimitExceeded,
    Limits,
    ReaderError,
    ReadResult,
    TableBlock,
    TextBlock,
    shared_cell,
)

__all__ = ["read_text", "decode_text"]

_DEFAULT_LIMITS = Limits()

_HEADING = re.compile(
    r"^(?:[一二三四五六七八九十]+\s*[、.．]|\d{1,2}\s*、|[（(][一二三四五六七八九十\d]+[)）])\s*\S.{0,40}?"
    r"(?:情况|事项)\s*[。.]?\s*$"
)
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_BOOKMARK = re.compile(r"\[bookmark: [^\]]*\]")
_BRACKETED = re.compile(r"[（(][^（()）]*[)）]")
_SENTENCE = re.compile(r"[，,。；;！？!?]|[：:、]$")
_NUMBER = re.compile(r"[+\-−]?\d+(?:\.\d+)?")
_THOUSANDS = re.compile(r"[+\-]?[\d０-９]{1,3}(?:,[\d０-９]{3})+(?:\.\d+)?")
_MD_SEPARATOR = re.compile(r"^\s*:?-{2,}:?\s*$")
_MARKERS = ("第二十条", "信息内容", "申请人情况", "勾稽", "行政复议", "行政诉讼", "本年新收", "结转下年度")
_MAX_CELL_LEN = 60


def decode_text(data: bytes) -> tuple[str, str, list[str]]:
    """UTF-8 (BOM or not), UTF-16 with a BOM, else GB18030."""
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        return data.decode("utf-16", errors="replace"), "utf-16", []
    try:
        return data.decode("utf-8-sig"), "utf-8", []
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030", []
    except UnicodeDecodeError:
        return (data.decode("utf-8", errors="replace"), "utf-8",
                ["text is neither UTF-8 nor GB18030; undecodable bytes replaced"])


# --- line classes -----------------------------------------------------------------------------------

_BLANK = " \r\x0c"  # a line of only these is blank (a line of U+3000/NBSP is content)


def _clean(line: str) -> str:
    return (_BOOKMARK.sub("", line) if "[bookmark: " in line else line).strip()


def _heading(line: str) -> bool:
    s = line.strip()
    return bool(_MD_HEADING.match(line) or _HEADING.match(s))


@lru_cache(maxsize=65_536)  # pure, and the same labels and small values recur in every report
def _cell_like(line: str, heading_ok: bool = False) -> bool:
    """A short label or value, not a sentence (commas inside brackets are part of labels)."""
    s = _clean(line)
    if not s or len(s) > _MAX_CELL_LEN or (not heading_ok and _heading(line)):
        return False
    if "(" in s or "（" in s:
        s = _BRACKETED.sub("", s)
        s = re.sub(r"[（(][^)）]*$", "", s)  # a bracket left open by a truncated label
    if _THOUSANDS.fullmatch(s.replace("，", ",")):
        return True  # 1,234 is a value, not a sentence
    return not _SENTENCE.search(s)


def _numeric(s: str) -> bool:
    t = "".join(s.split())
    return bool(t) and _NUMBER.fullmatch(t) is not None


def _numeric_row(line: str) -> list[str] | None:
    """`label 0 0 0 …` or `0 0 0 …` (PDF text layers): ≥ 3 trailing number tokens → cells."""
    toks = line.split()
    if len(toks) < 3:
        return None
    k = len(toks)
    while k > 0 and _NUMBER.fullmatch(toks[k - 1]):
        k -= 1
    if len(toks) - k < 3:
        return None
    return ([" ".join(toks[:k])] if k else []) + toks[k:]


@lru_cache(maxsize=65_536)
def _is_tab(line: str) -> bool:
    if "\t" not in line:
        return False
    body = line.lstrip("\t")
    # an indented sentence is text, not a cell
    return "\t" in body or not body.strip() or _cell_like(body, heading_ok=True)


_PAD = " \r"  # ASCII padding is layout; NBSP/U+3000 padding is kept for the transform (seed 001)


def _strip_cell(s: str) -> str:
    return s.strip(_PAD)


class _CellCache(dict[str, Cell]):
    """One Cell per distinct text: a hit is a plain subscript, a miss asks the cross-document cache."""

    def __missing__(self, text: str) -> Cell:
        c = self[text] = shared_cell(text)
        return c


# --- the reader -------------------------------------------------------------------------------------

class _Reader:
    def __init__(self, lines: list[str], limits: Limits) -> None:
        self.lines = lines
        self.limits = limits
        self.blocks: list[TextBlock | TableBlock] = []
        self.cells = 0
        self._cells = _CellCache()
        n = len(lines)
        kind = self.kind = ["blank" if not ln.strip(_BLANK) else "tab" if _is_tab(ln) else "pipe" if "|" in ln
                            else "other" for ln in lines]
        # Lines right above a bare `|` line (006: the cell text, then its terminator) belong to it.
        self.pipe_pending = [False] * n
        for j in [j for j, k in enumerate(kind) if k == "pipe"]:
            if lines[j].lstrip().startswith("|"):
                i = j - 1
                while i >= 0 and j - i <= 4 and kind[i] == "other" and _cell_like(lines[i]):
                    self.pipe_pending[i] = True
                    i -= 1

    # emitting ------------------------------------------------------------------------------------
    def text(self, line: str) -> None:
        s = _clean(line)
        if "#" in s[:4]:  # a markdown heading marker starts within the first four characters
            s = _MD_HEADING.sub("", s)
        if s.strip():
            self.blocks.append(TextBlock(s.strip()))

    def table(self, rows: list[list[str]]) -> None:
        rows = [r for r in rows if r]
        if not rows:
            return
        self.cells += sum(len(r) for r in rows)
        if self.cells > self.limits.max_table_cells:
            raise LimitExceeded(f"max_table_cells: text tables have more than {self.limits.max_table_cells} cells")
        cells = self._cells
        self.blocks.append(TableBlock([[cells[c] for c in r] for r in rows]))

    # regions -------------------------------------------------------------------------------------
    def run(self) -> list[TextBlock | TableBlock]:
        i, n = 0, len(self.lines)
        deadline = Deadline(self.limits, "text")
        while i < n:
            deadline.check()  # once per region: a pathological file cannot outlast max_seconds by much
            k = self.kind[i]
            if k == "blank":
                i += 1
            elif k == "tab":
                i = self.tab_region(i)
            elif k == "pipe" or self.pipe_pending[i]:
                i = self.pipe_region(i)
            else:
                i = self.other_region(i)
        return self.blocks

    def _next_nonblank(self, j: int) -> int:
        while j < len(self.lines) and self.kind[j] == "blank":
            j += 1
        return j

    def tab_region(self, i: int) -> int:
        lines, kind, n = self.lines, self.kind, len(self.lines)
        # extent: tab lines, blank lines followed by more of the region, continuation lines
        end = i
        idx: list[int] = []
        j = i
        while j < n:
            if kind[j] == "tab":
                idx.append(j)
                end = j + 1
                j += 1
            elif kind[j] == "blank":
                nxt = self._next_nonblank(j)
                if nxt < n and kind[nxt] == "tab":
                    j = nxt
                else:
                    break
            elif kind[j - 1] != "blank" and not _heading(lines[j]) \
                    and (not lines[j].strip() or _cell_like(lines[j])):
                idx.append(j)  # continuation of the cell above
                end = j + 1
                j += 1
            else:
                break
        tab_lines = [lines[k] for k in idx if kind[k] == "tab"]
        single = len([ln for ln in tab_lines if ln.startswith("\t") and ln.find("\t", 1) < 0])
        if single >= 0.7 * len(tab_lines):
            self.tab_cells(i, end)
            return end
        # grid: rows are lines; a non-tab line ends the grid
        rows: list[list[str]] = []
        j = i
        while j < end:
            if kind[j] == "tab":
                rows.append([c.strip(_PAD) for c in lines[j].split("\t")])
            elif kind[j] != "blank":
                break
            j += 1
        self.table(rows)
        return j

    def tab_cells(self, i: int, end: int) -> None:
        """Seed 001: one `⇥cell` per line, rows separated by blank lines."""
        rows: list[list[str]] = []
        row: list[str] = []
        lines, kind = self.lines, self.kind
        for j in range(i, end):
            line = lines[j]
            k = kind[j]
            if k == "blank":
                if row:
                    rows.append(row)
                    row = []
            elif k == "tab":
                body = line[1:] if line.startswith("\t") else line
                if "\t" in body:
                    row.extend([c.strip(_PAD) for c in body.split("\t")])
                else:
                    row.append(_strip_cell(body))
            elif row:
                row[-1] = row[-1] + "\n" + _strip_cell(line)
            else:
                row.append(_strip_cell(line))
        if row:
            rows.append(row)
        self.table(rows)

    def pipe_region(self, i: int) -> int:
        lines, kind, n = self.lines, self.kind, len(self.lines)
        idx: list[int] = []
        j = i
        while j < n:
            if kind[j] == "pipe" or self.pipe_pending[j]:
                idx.append(j)
                j += 1
            elif kind[j] == "blank":
                nxt = self._next_nonblank(j)
                if nxt < n and (kind[nxt] == "pipe" or self.pipe_pending[nxt]):
                    j = nxt
                else:
                    break
            else:
                break
        pipe_idx = [k for k in idx if kind[k] == "pipe"]
        pipe_lines = [lines[k] for k in pipe_idx]
        markdown = all(ln.lstrip().startswith("|") for ln in pipe_lines)
        split = [self._split_pipe(ln, markdown) for ln in pipe_lines]  # once: the rows below reuse it
        multi = len([cells for cells in split if len([c for c in cells if c.strip()]) >= 2])
        # markdown tables keep their rows even when most rows are a label and blank cells
        split_md = split if markdown else (self._split_pipe(ln, True) for ln in pipe_lines)
        separator = any(all(_MD_SEPARATOR.match(c) or not c.strip() for c in cells) and "-" in ln
                        for ln, cells in zip(pipe_lines, split_md))
        split_at = dict(zip(pipe_idx, split))
        if multi >= 0.4 * len(pipe_lines) or (markdown and separator):
            rows: list[list[str]] = []
            prev = i - 1
            block_rows = 0  # rows since the table began (a blank line starts a new markdown table)
            for k in idx:
                if k != prev + 1:
                    block_rows = 0
                prev = k
                if kind[k] == "pipe":
                    cells = split_at[k]
                    # |---|---| only under a table's first row: "| -- | -- |" further down is a row of dashes
                    if block_rows == 1 and cells and all(_MD_SEPARATOR.match(c) or not c.strip() for c in cells) \
                            and any(_MD_SEPARATOR.match(c) for c in cells):
                        block_rows += 1  # one separator per table
                        continue
                    rows.append(cells)
                    block_rows += 1
                else:
                    rows.append([_strip_cell(lines[k])])
            self.table(rows)
        else:
            self.table([[c] for c in self._pipe_stream([lines[k] for k in idx], [kind[k] for k in idx])])
        return j

    @staticmethod
    def _split_pipe(line: str, markdown: bool) -> list[str]:
        s = line.strip()
        if markdown and s.startswith("|"):
            s = s[1:]
        if s.endswith("|"):
            s = s[:-1]
        return [c.strip() for c in s.split("|")]

    @staticmethod
    def _pipe_stream(lines: list[str], kinds: list[str]) -> list[str]:
        """Cells of a dump whose `|` only terminates cells (see rule 4)."""
        cells: list[str] = []
        pending: list[str] = []
        for line, k in zip(lines, kinds, strict=True):
            if k != "pipe":
                pending.append(line.strip())
                continue
            body = line.strip()
            body = body[:-1] if body.endswith("|") else body
            parts = [p.strip() for p in body.split("|")]
            if pending:
                parts[0] = "\n".join(pending + ([parts[0]] if parts[0] else []))
                pending = []
            cells.extend(parts)
        cells.extend(pending)
        return cells

    def other_region(self, i: int) -> int:
        lines, kind, n = self.lines, self.kind, len(self.lines)
        if not _cell_like(lines[i]) and _numeric_row(lines[i]) is None:
            self.text(lines[i])
            return i + 1
        # a run of cell-like lines (blank lines inside are ignored)
        idx: list[int] = []
        j = i
        while j < n:
            k = kind[j]
            if k == "blank":
                j += 1
                continue
            if k != "other" or self.pipe_pending[j]:
                break
            if not (_cell_like(lines[j]) or _numeric_row(lines[j]) is not None):
                break
            idx.append(j)
            j += 1
        # trailing blank lines are not part of the run
        end = idx[-1] + 1
        texts = [_clean(lines[k]) for k in idx]
        numeric_rows = [_numeric_row(lines[k]) for k in idx]
        numbers = sum(1 for t in texts if _numeric(t))
        marker = any(m in t for t in texts for m in _MARKERS)
        if len(idx) >= 4 and (numbers >= 2 or marker):
            self.table([r if r is not None else [t] for t, r in zip(texts, numeric_rows, strict=True)])
        else:  # lines of space-separated numbers are still rows; the rest is text
            rows: list[list[str]] = []
            for k, r in zip(idx, numeric_rows, strict=True):
                if r is not None:
                    rows.append(r)
                    continue
                self.table(rows)
                rows = []
                self.text(lines[k])
            self.table(rows)
        return end


_PAGE_PREFIX = re.compile(r"^Page \d+ - ")


def _title(lines: list[str]) -> str | None:
    """A markdown `# ` heading near the top, else an early short line ending in 报告."""
    nonblank = list(islice((s for s in map(str.strip, lines) if s), 8))  # no need to strip the whole file
    for ln in nonblank:
        if ln.startswith("# "):
            return _MD_HEADING.sub("", ln).strip()
    for k, ln in enumerate(nonblank[:6]):
        ln = _PAGE_PREFIX.sub("", ln)  # flip-book page header: "Page 8 - <title>"
        if "|" in ln or "\t" in ln or " > " in ln or len(ln) > 80 or _SENTENCE.search(ln):
            continue
        if ln.endswith("报告") and ("年" in ln or "政府信息" in ln):
            prev = nonblank[k - 1] if k else ""
            if ln[:4].isdigit() and prev and len(prev) <= 30 and _cell_like(prev) and "报告" not in prev:
                return prev + ln  # unit name on the line above (seed 001)
            return ln
        if "政府信息公开" in ln and k + 1 < len(nonblank) and nonblank[k + 1].endswith("报告") \
                and len(nonblank[k + 1]) <= 12:
            return ln + nonblank[k + 1]  # a title wrapped over two lines (seed 003)
    return None


def read_text(data: bytes, *, limits: Limits = _DEFAULT_LIMITS) -> ReadResult:
    """Read a plain-text or markdown dump of a report into blocks (see the module docstring)."""
    if not data:
        raise ReaderError("empty text document")
    if len(data) > limits.max_bytes:
        raise LimitExceeded(f"max_bytes: text is {len(data)} bytes, limit {limits.max_bytes}")
    text, encoding, warnings = decode_text(data)
    if "\x00" in text:
        raise ReaderError("not a text document (NUL characters)")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")  # no "\r" is left in a line
    blocks = _Reader(lines, limits).run()
    return ReadResult(blocks=blocks, fmt="text", title=_title(lines), encoding=encoding, warnings=warnings)
