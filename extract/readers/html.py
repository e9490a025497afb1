"""HTML reader: decode, find the article body inside the CMS page, walk it into blocks.

Decoding (`decode_html`): BOM > HTTP charset > first `<meta charset>` / http-equiv, then checked against
the bytes: any GB2312/GBK declaration decodes as GB18030; a UTF-8 declaration over invalid UTF-8 falls
back to GB18030; a GB* or Latin-1 declaration over bytes that are valid UTF-8 with CJK decodes as UTF-8
(each such correction adds a warning). Without a declaration: UTF-8, GB18030, then charset-normalizer.

Body (`_find_container`): the Hanweb `<!--ZJEG_RSS.content.begin/end-->` slice; else the known CMS
content container (TRS, Hanweb, VSB, gov.cn-style) with the most text (≥ 30 chars or a table: Ordos
keeps a flash banner in a `.TRS_Editor`); else, on pages with wrappers, the deepest element inside the
largest element holding 总体情况/政府信息公开 that keeps at least half of its text; else `<body>`.
Script/style are detached first; nav/header/footer/form controls inside the body are dropped.

Walk (`_Walker`): an iterative depth-first walk over an explicit stack of child iterators. Any element
whose subtree holds at most one non-blank text node is taken whole with one C call (`text()`), so most
paragraphs and cells never reach Python node by node. Paragraph-like elements (p, div, h1-h6, li, …)
and block-level `<br>` split TextBlocks; each top-level `<table>` becomes a TableBlock: rows from its
`<tr>`s, spans expanded in the same pass (covered positions hold `Cell(text, copy=True)`; colspan
clamped to 1000, a rowspan past the last row ends with the table; expanded cells count toward
`max_table_cells`). Cells are interned by their raw text across documents (labels and small numbers
repeat in every report). Cell text: `<br>`, block elements and the cells of a nested table become "\n",
inline elements join, whitespace runs collapse, `&nbsp;`-only cells are "".

Limits: max_html_bytes up front; max_html_depth twice: a raw-tag nesting estimate before parsing pages
over 48 KB (lexbor's tree builder is quadratic in nesting depth), then the exact depth after parsing:
a top-down `:root:has(>*>…)` probe for 48 levels, and only past it a `*>*>…` selector for the limit.

Title: `<meta name="ArticleTitle">` (TRS), else an h1-h3 / class *title* / centred bold paragraph
among the first paragraphs of the body, else the page's h1/.title, else `<title>`.
"""

from __future__ import annotations

import codecs
import re
import time
from functools import lru_cache
from itertools import accumulate
from operator import sub

from selectolax.lexbor import LexborHTMLParser, LexborNode

from .base import Cell, LimitExceeded, Limits, ReaderError, ReadResult, TableBlock, TextBlock, shared_cell

__all__ = ["read_html", "decode_html"]

# --- decoding ---------------------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
_CT_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
_GB_NAMES = {"gb2312", "gbk", "gb18030", "gb_2312-80", "gb_2312", "x-gbk", "cp936", "ms936", "936",
             "euc-cn", "euccn", "x-euc-cn", "csgb2312", "chinese", "iso-ir-58"}
_LATIN_NAMES = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "windows-1252", "cp1252",
                "us-ascii", "ascii", "iso-8859-15"}
_CJK = re.compile(r"[\u3400-\u9fff]")


def _norm_charset(name: str | None) -> str | None:
    """A declared charset as a Python codec name; GB2312/GBK widen to GB18030 (a superset)."""
    if not name:
        return None
    n = name.strip().strip("\"'").lower()
    if n in _GB_NAMES:
        return "gb18030"
    if n in _LATIN_NAMES:
        return "latin-1"
    if n in ("utf8", "utf-8", "unicode-1-1-utf-8", "x-unicode20utf8"):
        return "utf-8"
    try:
        return codecs.lookup(n).name
    except LookupError:
        return None


def _try(data: bytes, enc: str) -> str | None:
    try:
        return data.decode(enc)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(data: bytes, content_type: str | None = None) -> tuple[str, str, list[str]]:
    """Bytes → (text, encoding used, warnings). See the module docstring for the order."""
    warnings: list[str] = []
    for bom, enc in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                     (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(enc, errors="replace"), enc, warnings

    declared_raw: str | None = None
    if content_type:
        m = _CT_CHARSET.search(content_type)
        if m:
            declared_raw = m.group(1)
    if declared_raw is None:
        m2 = _META_CHARSET.search(data, 0, 32768)
        if m2:
            declared_raw = m2.group(1).decode("ascii", "replace")
    declared = _norm_charset(declared_raw)
    if declared_raw and declared is None:
        warnings.append(f"unknown declared charset {declared_raw!r} ignored")
    if declared and declared.startswith("utf-16"):
        declared = "utf-8"  # a utf-16 label without a BOM on ASCII-compatible bytes means UTF-8 (HTML spec)

    if declared == "utf-8":
        text = _try(data, "utf-8")
        if text is not None:
            return text, "utf-8", warnings
        text = _try(data, "gb18030")
        if text is not None:
            warnings.append("declared charset utf-8 is wrong (invalid UTF-8); decoded as gb18030")
            return text, "gb18030", warnings
        warnings.append("declared charset utf-8 but the bytes are not valid UTF-8; undecodable bytes replaced")
        return data.decode("utf-8", errors="replace"), "utf-8", warnings

    if declared in ("gb18030", "latin-1"):
        if not data.isascii():
            text = _try(data, "utf-8")
            if text is not None and _CJK.search(text):
                warnings.append(f"declared charset {declared_raw} is wrong (bytes are UTF-8); decoded as utf-8")
                return text, "utf-8", warnings
        if declared == "latin-1" and not data.isascii():
            text = _try(data, "gb18030")
            if text is not None and _CJK.search(text):
                warnings.append(f"declared charset {declared_raw} is wrong; decoded as gb18030")
                return text, "gb18030", warnings
            return data.decode("cp1252", errors="replace"), "cp1252", warnings
        text = _try(data, "gb18030")
        if text is None:
            warnings.append(f"bytes invalid in declared charset {declared_raw}; undecodable bytes replaced")
            text = data.decode("gb18030", errors="replace")
        return text, "gb18030", warnings

    if declared:
        text = _try(data, declared)
        if text is not None:
            return text, declared, warnings
        warnings.append(f"bytes invalid in declared charset {declared_raw}; detecting")

    text = _try(data, "utf-8")
    if text is not None:
        return text, "utf-8", warnings
    text = _try(data, "gb18030")
    if text is not None:
        return text, "gb18030", warnings
    from charset_normalizer import from_bytes  # last resort: slow, statistical

    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        warnings.append(f"charset guessed by charset-normalizer: {best.encoding}")
        return data.decode(best.encoding, errors="replace"), best.encoding, warnings
    warnings.append("charset unknown; decoded as utf-8 with replacement characters")
    return data.decode("utf-8", errors="replace"), "utf-8", warnings


# --- tag classes ------------------------------------------------------------------------------------

_INLINE, _BLOCK, _BR, _TABLE, _TR, _CELL, _SKIP, _TEXT, _COMMENT = range(9)
_BLOCK_NAMES = ("p div h1 h2 h3 h4 h5 h6 li ul ol dl dt dd blockquote pre section article main aside "
                "address figure figcaption caption center hr fieldset details summary").split()
_SKIP_NAMES = ("script style noscript template iframe object embed nav header footer head title select "
               "option button textarea input svg math map audio video canvas").split()


def _tag_kinds() -> dict[int, int]:
    """Lexbor's ids of the standard tags → our classes (ids of standard tags are fixed in the build)."""
    names = {**{n: _BLOCK for n in _BLOCK_NAMES}, **{n: _SKIP for n in _SKIP_NAMES},
             "br": _BR, "table": _TABLE, "tr": _TR, "td": _CELL, "th": _CELL}
    doc = LexborHTMLParser("<html><body></body></html>")
    kinds: dict[int, int] = {}
    body = doc.body
    assert body is not None
    for name, kind in names.items():
        kinds[doc.create_node(name).tag_id] = kind
    probe = LexborHTMLParser("<body>x<!--c--></body>").body
    assert probe is not None
    for n in probe.traverse(include_text=True):
        if n.is_text_node:
            kinds[n.tag_id] = _TEXT
        elif n.is_comment_node:
            kinds[n.tag_id] = _COMMENT
    return kinds


_KINDS = _tag_kinds()
_CELL_IDS = frozenset(tid for tid, kind in _KINDS.items() if kind == _CELL)
_HEADING_IDS = frozenset(LexborHTMLParser("").create_node(t).tag_id for t in ("h1", "h2", "h3"))
_BRK = "\x00"  # a line break inside a cell buffer, kept apart from source whitespace until the end

# --- container --------------------------------------------------------------------------------------

_KNOWN_CMS = (".TRS_Editor, .trs_editor_view, .Custom_UnionStyle, #zoom, .zoom, .bt-content, "
              "#vsb_content, .v_news_content")
_KNOWN_GENERIC = ".pages_content, .articleBox, article"
_WRAPPER_TAGS = frozenset((b"div", b"section", b"main", b"article", b"form", b"center"))
_CHROME_TAGS = frozenset((b"nav", b"header", b"footer", b"iframe", b"object", b"embed", b"select", b"button",
                          b"textarea", b"input", b"svg", b"math"))
_SCRIPT_TAGS = frozenset((b"script", b"style", b"noscript", b"template"))
_ZJEG = b"!--zjeg_rss.content.begin"
# One scan of the lower-cased bytes tells which of these tags occur ('<' is never a GBK/UTF-8 trail
# byte, so tag names match in either encoding); the tree queries below only run when they can match.
# The lookahead on the names' first and second letters skips most '<' (</…>, <p, <span, <td) without
# trying 27 names.
_SCAN_NAMES = (b"div", b"section", b"main", b"article", b"form", b"center", b"nav", b"header", b"footer", b"iframe",
               b"object", b"embed", b"select", b"button", b"textarea", b"input", b"svg", b"math", b"script", b"style",
               b"noscript", b"template", b"title", b"meta", b"h1", b"table", _ZJEG)


def _letters(i: int) -> bytes:
    return re.escape(bytes(sorted({name[i] for name in _SCAN_NAMES})))


_TAG_SCAN = re.compile(rb"<(?=[" + _letters(0) + rb"][" + _letters(1) + rb"])("
                       + b"|".join(map(re.escape, _SCAN_NAMES)) + rb")(?=[\s/>-])")
# Encodings that keep ASCII markup as ASCII bytes (UTF-16 is scanned re-encoded), so a tag the scan
# did not see is not in the tree either.
_ASCII_MARKUP = frozenset(("utf-8", "gb18030", "cp1252", "utf-16-le", "utf-16-be"))


class _Page:
    """What the raw bytes tell before the tree queries, so that whole-document queries that cannot
    match are skipped (each costs about a sixth of the parse on a report page): the tags _TAG_SCAN saw
    in the lower-cased bytes and how many <table> tags."""

    __slots__ = ("low", "tags", "tables", "ascii_markup")

    def __init__(self, low: bytes, encoding: str) -> None:
        found = _TAG_SCAN.findall(low)
        self.low = low
        self.tags = set(found)
        self.tables = found.count(b"table")
        self.ascii_markup = encoding in _ASCII_MARKUP

    def may_nest_tables(self) -> bool:
        return self.tables >= 2 or not self.ascii_markup

    def may_have(self, tag: bytes) -> bool:
        """False only when the tree cannot hold such an element."""
        return tag in self.tags or not self.ascii_markup


_ZJEG_BEGIN = "<!--ZJEG_RSS.content.begin-->"
_ZJEG_END = "<!--ZJEG_RSS.content.end-->"
_MARKERS = ("总体情况", "政府信息公开")
_MIN_CONTAINER_TEXT = 30


def _pick_known(doc: LexborHTMLParser) -> LexborNode | None:
    for group in (_KNOWN_CMS, _KNOWN_GENERIC):
        best, best_len = None, 0
        for node in doc.css(group):
            n = len(node.text(strip=True))
            if n > best_len:
                best, best_len = node, n
        # A container with no text (e.g. a TRS_Editor holding a flash banner) is page chrome.
        if best is not None and (best_len >= _MIN_CONTAINER_TEXT or best.css_first("table") is not None):
            return best
    return None


def _find_container(doc: LexborHTMLParser, page: _Page) -> LexborNode:
    body = doc.body
    if body is None:
        raise ReaderError("HTML has no body")
    tags = page.tags
    if b"article" in tags or doc.css_first("[class], [id]") is not None:
        known = _pick_known(doc)
        if known is not None:
            return known
    if not (tags & _WRAPPER_TAGS) and not (page.may_nest_tables() and doc.css_first("table table") is not None):
        return body  # a bare fragment (Word export, CMS body dump): nothing to choose from
    # Deepest element that still holds at least half of the largest marker-bearing text; without
    # report words, an element holding a table and at least half of the page's text.
    marked: list[tuple[int, LexborNode]] = []
    tabled: list[tuple[int, LexborNode]] = []
    for node in doc.css("div, td, section, main, article, center"):
        text = node.text(strip=True)
        if any(m in text for m in _MARKERS):
            marked.append((len(text), node))
        elif node.css_first("table") is not None:
            tabled.append((len(text), node))
    cands = marked
    if not cands:
        body_len = len(body.text(strip=True))
        cands = [(n, node) for n, node in tabled if n * 2 >= body_len]
    if not cands:
        return body
    top_len, top = max(cands, key=lambda c: c[0])
    best_len, best = top_len, top
    for n, node in cands:
        if n * 2 >= top_len and n < best_len and _inside(node, top):
            best_len, best = n, node
    return best


def _inside(node: LexborNode, ancestor: LexborNode) -> bool:
    target = ancestor.mem_id
    p = node.parent
    while p is not None:
        if p.mem_id == target:
            return True
        p = p.parent
    return False


# --- title ------------------------------------------------------------------------------------------

def _clean(s: str | None) -> str:
    return " ".join(s.split()) if s else ""


def _heading_title(node: LexborNode, tag_id: int) -> str | None:
    """The text of an article heading: <h1>-<h3>, class *title*, or a centred bold paragraph."""
    t = _clean(node.text())
    if not (4 <= len(t) <= 150):
        return None
    if tag_id in _HEADING_IDS:
        return t
    attrs = node.attributes
    if "title" in (attrs.get("class") or "").lower():
        return t
    style = (attrs.get("style") or "").replace(" ", "").lower()
    if (attrs.get("align") or "").lower() == "center" or "text-align:center" in style:
        if "bold" in style or "font-weight:7" in style or node.css_first("strong, b") is not None:
            return t
    return None


def _page_title(doc: LexborHTMLParser, page: _Page) -> str | None:
    """Title from outside the article body: h1/.title, then <title>."""
    has_class = b"class" in page.low or not page.ascii_markup
    for sel in ("h1", ".article-title", ".title"):
        if not (page.may_have(b"h1") if sel == "h1" else has_class):
            continue
        node = doc.css_first(sel)
        if node is not None:
            t = _clean(node.text())
            if 4 <= len(t) <= 150:
                return t
    if b"title" in page.tags:
        node = doc.css_first("title")
        t = _clean(node.text()) if node is not None else ""
        return t or None
    return None


def _meta_title(doc: LexborHTMLParser, page: _Page) -> str | None:
    if b"meta" not in page.tags or b"articletitle" not in page.low:
        return None
    for node in doc.css("meta[name]"):
        if (node.attributes.get("name") or "").lower() == "articletitle":
            t = _clean(node.attributes.get("content"))
            if t:
                return t
    return None


# --- walk ---------------------------------------------------------------------------------------------

_NO_SPAN = (1, 1)
_MAX_ROWSPAN = 65534  # the HTML spec's clamp
_ASCII_WS = " \t\n\r\f"  # lexbor's skip_empty whitespace
_DEFAULT_LIMITS = Limits()


def _span(value: str | None) -> int:
    if not value:
        return 1
    digits = value.strip().split(".")[0]
    return int(digits) if digits.isdigit() else 1


def _leaf_text(node: LexborNode) -> str | None:
    """The text of a subtree holding at most one non-blank text node (then no line break can matter and
    the subtree need not be walked), else None. One C call; most <p> and <td> of a report qualify."""
    t = node.text(separator=_BRK, skip_empty=True)
    if _BRK not in t:
        return t
    found: str | None = None
    for piece in t.split(_BRK):
        if piece and not piece.isspace():
            if found is not None:
                return None
            found = piece
    return found or ""


def _lines(raw: str) -> str:
    """Buffer text → cell text: whitespace collapsed per line, _BRK → "\n", blank lines dropped."""
    if _BRK not in raw:
        return " ".join(raw.split())
    return "\n".join(ln for ln in (" ".join(seg.split()) for seg in raw.split(_BRK)) if ln)


def _flow_text(node: LexborNode) -> str:
    """Text of a subtree whose line structure matters (a cell with several text nodes): inline
    elements join, blocks, <br> and the rows/cells of a nested table break lines."""
    kinds = _KINDS
    parts: list[str] = []
    stack = [(node.iter(include_text=True), False)]
    while stack:
        it, breaks = stack[-1]
        child = next(it, None)  # type: ignore[call-overload]
        if child is None:
            stack.pop()
            if breaks:
                parts.append(_BRK)
            continue
        kind = kinds.get(child.tag_id, _INLINE)
        if kind == _TEXT:
            parts.append(child.text_content or "")
        elif kind == _BR:
            parts.append(_BRK)
        elif kind == _COMMENT or kind == _SKIP:
            continue
        else:
            block = kind != _INLINE
            if block:
                parts.append(_BRK)
            leaf = _leaf_text(child)
            if leaf is None:
                stack.append((child.iter(include_text=True), block))
            else:
                parts.append(leaf)
                if block:
                    parts.append(_BRK)
    return _lines("".join(parts))


_RAW_CELLS: dict[str, Cell] = {}  # a one-text-node cell's raw text → its Cell, kept across documents
_RAW_CELLS_MAX = 16_384  # labels and small numbers repeat in every report; cleared when full
_RAW_CELL_LEN = 100  # longer texts are running text, rarely seen twice


def _new_cell(raw: str, td: LexborNode) -> Cell:
    """The Cell of a <td>/<th> whose `text(separator=_BRK, skip_empty=True)` is `raw`, past the cache."""
    if _BRK in raw:
        return shared_cell(_flow_text(td))  # several text nodes: line structure matters
    cell = shared_cell(" ".join(raw.split()))
    if len(raw) <= _RAW_CELL_LEN:
        if len(_RAW_CELLS) >= _RAW_CELLS_MAX:
            _RAW_CELLS.clear()
        _RAW_CELLS[raw] = cell
    return cell


def _plain_row(tr: LexborNode) -> list[Cell]:
    """The cells of a row holding no spanning cell: one Cell per <td>/<th>, no columns to track."""
    cells: list[Cell] = []
    add, cached, cell_ids = cells.append, _RAW_CELLS.get, _CELL_IDS
    for td in tr.iter():
        if td.tag_id in cell_ids:
            raw = td.text(separator=_BRK, skip_empty=True)
            add(cached(raw) or _new_cell(raw, td))
    return cells


@lru_cache(maxsize=1024)
def _span_pair(rowspan: str | None, colspan: str | None) -> tuple[int, int]:
    return _span(rowspan), _span(colspan)


def _read_spans(root: LexborNode) -> tuple[dict[int, tuple[int, int]], set[int]]:
    """The spans of all cells under root in one query (reading every cell's attributes costs more):
    element mem_id → (rowspan, colspan) for elements whose spans are not both 1, and the mem_ids of
    their parents (the rows holding a spanning cell)."""
    spans: dict[int, tuple[int, int]] = {}
    rows: set[int] = set()
    for n in root.css("[rowspan], [colspan]"):
        attrs = n.attributes
        span = _span_pair(attrs.get("rowspan"), attrs.get("colspan"))
        if span != _NO_SPAN:
            spans[n.mem_id] = span
            parent = n.parent
            if parent is not None:
                rows.add(parent.mem_id)
    return spans, rows


def _insert_pending(cells: list[Cell], pending: dict[int, list]) -> None:
    """Rowspan copies from rows above into a row without spanning cells, at their columns (left to
    right, so each insert shifts only the cells after it); columns past the row's end are reached
    through empty cells."""
    for col in sorted(pending):
        p = pending[col]
        if col > len(cells):
            cells.extend([shared_cell("")] * (col - len(cells)))
        cells.insert(col, p[0])
        p[1] -= 1
        if not p[1]:
            del pending[col]


class _Walker:
    def __init__(self, limits: Limits, t0: float) -> None:
        self.limits = limits
        self.t0 = t0
        self.blocks: list[TextBlock | TableBlock] = []
        self.cells_total = 0
        self.spans: dict[int, tuple[int, int]] | None = None  # cell mem_id → (rowspan, colspan)
        self.span_rows: set[int] = set()  # mem_ids of rows holding a spanning cell
        self.root: LexborNode | None = None
        self.title: str | None = None
        self.title_budget = 6  # only the first few paragraphs before any table can be the heading

    def table(self, tbl: LexborNode) -> None:
        """A top-level <table> → TableBlock (text outside any cell, e.g. a caption, → TextBlock first).

        Spans are expanded in the same pass: a row holding a spanning cell goes through `_span_row`,
        any other through `_plain_row` (then `_insert_pending` adds rowspan copies from above). Cells
        are interned by raw text (`_RAW_CELLS`), so a label or number seen before costs a lookup."""
        kinds = _KINDS
        max_cells = self.limits.max_table_cells
        if self.spans is None:
            self.spans, self.span_rows = _read_spans(self.root)  # type: ignore[arg-type]
        spans, span_rows = self.spans, self.span_rows
        pending: dict[int, list] = {}  # column → [copy cell, rows it still covers]
        rows: list[list[Cell]] = []
        loose: list[str] = []
        groups = [tbl]
        k = 0
        while k < len(groups):  # the table, then its thead/tbody/tfoot
            for child in groups[k].iter(include_text=True):
                kind = kinds.get(child.tag_id, _INLINE)
                if kind == _TR:
                    if span_rows and child.mem_id in span_rows:
                        cells = self._span_row(child, spans, pending)
                    else:
                        cells = _plain_row(child)
                        if pending:
                            _insert_pending(cells, pending)
                    self.cells_total += len(cells)
                    if self.cells_total > max_cells:
                        raise LimitExceeded(f"max_table_cells: tables expand to more than {max_cells} cells")
                    if cells:
                        rows.append(cells)
                elif kind == _INLINE:
                    groups.append(child)  # thead/tbody/tfoot (or stray inline markup)
                elif kind == _TEXT:
                    loose.append(child.text_content or "")
                elif kind != _COMMENT and kind != _SKIP:  # caption, colgroup, …
                    loose.append(_BRK + _flow_text(child) + _BRK)
            k += 1
        if loose:
            for line in _lines("".join(loose)).split("\n"):
                if line:
                    self.blocks.append(TextBlock(line))
        if rows:
            self.blocks.append(TableBlock(rows))
        if time.perf_counter() - self.t0 > self.limits.max_seconds:
            raise LimitExceeded(f"max_seconds: HTML took longer than {self.limits.max_seconds}s")

    def _span_row(self, tr: LexborNode, spans: dict[int, tuple[int, int]], pending: dict[int, list]) -> list[Cell]:
        """A row's cells with spans expanded: a colspan appends copies to the row, a rowspan leaves
        `pending` copies that later rows insert at their column. A rowspan reaching past the last row
        simply ends with the table, so bogus spans clamp themselves; colspan is clamped to 1000."""
        max_cells = self.limits.max_table_cells
        cells: list[Cell] = []
        add, cached, spans_get, cell_ids = cells.append, _RAW_CELLS.get, spans.get, _CELL_IDS
        col = 0
        for td in tr.iter():
            if td.tag_id not in cell_ids:
                continue
            raw = td.text(separator=_BRK, skip_empty=True)
            cell = cached(raw) or _new_cell(raw, td)
            while col in pending:
                p = pending[col]
                add(p[0])
                p[1] -= 1
                if not p[1]:
                    del pending[col]
                col += 1
            add(cell)
            span = spans_get(td.mem_id)
            if span is None:
                col += 1
                continue
            rs, cs = span
            cs = 1 if cs <= 0 else min(cs, 1000)
            rs = _MAX_ROWSPAN if rs <= 0 else min(rs, _MAX_ROWSPAN)  # 0: to the end
            copy = shared_cell(cell.text, True)
            for cc in range(col + 1, col + cs):
                add(copy)
                if cc in pending:  # overlapping spans (broken markup): this cell wins
                    p = pending[cc]
                    p[1] -= 1
                    if not p[1]:
                        del pending[cc]
            if rs > 1:
                for cc in range(col, col + cs):
                    pending[cc] = [copy, rs - 1]
            col += cs
            if self.cells_total + len(cells) > max_cells:
                raise LimitExceeded(f"max_table_cells: tables expand to more than {max_cells} cells")
        if pending:  # rowspans reaching past this row's own cells (gaps: empty cells)
            last = max(pending)
            while col <= last:
                p = pending.get(col)  # type: ignore[assignment]
                if p is None:
                    add(shared_cell(""))
                else:
                    add(p[0])
                    p[1] -= 1
                    if not p[1]:
                        del pending[col]
                col += 1
        return cells

    def walk(self, root: LexborNode) -> None:
        """Block-level walk with an explicit stack of child iterators (no recursion limit): paragraphs
        become TextBlocks, top-level tables go to `table`. A for loop runs over the top iterator and
        breaks out only to descend into an element that is not taken whole."""
        kinds = _KINDS
        blocks = self.blocks
        self.root = root
        para: list[str] = []
        stack: list[tuple[object, bool]] = [(root.iter(include_text=True), False)]

        def flush() -> None:
            raw = "".join(para)
            para.clear()
            text = " ".join(raw.split())
            if text or raw.strip(_ASCII_WS):
                blocks.append(TextBlock(text))  # "": a printed-empty (&nbsp;) paragraph

        while stack:
            it, is_block = stack[-1]
            for node in it:  # type: ignore[attr-defined]
                tid = node.tag_id
                kind = kinds.get(tid, _INLINE)
                if kind == _TEXT:
                    t = node.text_content
                    # ASCII whitespace opening a paragraph changes nothing (the usual "\n" between <p>s)
                    if para or (t and t.strip(_ASCII_WS)):
                        para.append(t or "")
                elif kind == _INLINE:
                    leaf = _leaf_text(node)
                    if leaf is None:
                        stack.append((node.iter(include_text=True), False))
                        break
                    para.append(leaf)
                elif kind == _BLOCK or kind == _CELL or kind == _TR:
                    if para:
                        flush()
                    if self.title_budget > 0:
                        self.title_budget -= 1
                        if self.title is None:
                            self.title = _heading_title(node, tid)
                    leaf = _leaf_text(node)
                    if leaf is None:
                        stack.append((node.iter(include_text=True), True))
                        break
                    text = " ".join(leaf.split())
                    if text or leaf.strip(_ASCII_WS):
                        # "" for a printed-empty paragraph (<p>&nbsp;</p>): in a table flattened
                        # into paragraphs it is a blank cell
                        blocks.append(TextBlock(text))
                elif kind == _BR:
                    if para:
                        flush()
                elif kind == _TABLE:
                    if para:
                        flush()
                    self.title_budget = 0
                    self.table(node)
            else:
                stack.pop()
                if is_block and para:
                    flush()
        if para:
            flush()


_CHROME = "nav, header, footer, iframe, object, embed, select, button, textarea, input, svg, math"


def _detach(nodes: list[LexborNode]) -> None:
    # Detach without freeing: a match nested in another match stays a valid (orphan) node.
    for node in nodes:
        node.decompose(recursive=False)


# Start/end tags that nest: void elements and those closed implicitly by a sibling are left out, since
# counting them would overestimate the depth.
_NESTING_TAG = re.compile(rb"<(/?)(?!(?:area|base|br|col|embed|hr|img|input|link|meta|param|source|track|wbr|"
                          rb"p|li|dt|dd|option|tr|td|th|tbody|thead|tfoot)[\s/>])[A-Za-z]", re.I)
_DELTA = {b"": 1, b"/": -1}
_PRESCAN_BYTES = 48 * 1024  # below this, even a quadratic tree build is fast


def _prescan_depth(data: bytes, max_depth: int) -> None:
    """A rough nesting count over the raw tags, run before lexbor: its tree builder is quadratic in the
    nesting depth (25 000 nested <div> take seconds), so such pages are refused unparsed. The count
    ignores implied end tags and markup-like text, hence the 4x slack; the exact check follows the parse.
    Depth = the largest rise of the running open-minus-close count (all C-level iteration)."""
    levels = [0, *accumulate(map(_DELTA.__getitem__, _NESTING_TAG.findall(data)))]
    rise = max(map(sub, levels, accumulate(levels, min)))
    if rise > 4 * max_depth:
        raise LimitExceeded(f"max_html_depth: elements nested deeper than {max_depth} levels "
                            f"({rise} unclosed tags in a row before parsing)")


_DEPTH_PROBE = 48  # a page's real depth is usually 10-30


@lru_cache(maxsize=16)
def _depth_selector(depth: int) -> str:
    return ">".join(["*"] * depth)


# The same question as _depth_selector(_DEPTH_PROBE), asked top-down: does the root element hold a
# chain of _DEPTH_PROBE - 1 children? lexbor answers it in a third of the steps of the bottom-up
# `*>*>…`, which starts a match at every element.
_DEPTH_PROBE_HAS = ":root:has(>" + ">".join(["*"] * (_DEPTH_PROBE - 1)) + ")"


def _check_depth(doc: LexborHTMLParser, max_depth: int) -> None:
    """Element nesting depth via a `*>*>…` selector: lexbor matches it right to left in C, so this costs
    about (elements × real depth) steps, bounded by max_depth. Parsing the 401-level selector costs
    as much as matching it, so a short probe goes first: a page without an element _DEPTH_PROBE deep
    has none deeper."""
    root = doc.root
    if root is None:
        return
    if max_depth >= _DEPTH_PROBE and root.css_first(_DEPTH_PROBE_HAS) is None:
        return
    if root.css_first(_depth_selector(max_depth + 1)) is not None:
        raise LimitExceeded(f"max_html_depth: elements nested deeper than {max_depth} levels")


def read_html(data: bytes, *, content_type: str | None = None, limits: Limits = _DEFAULT_LIMITS) -> ReadResult:
    """Read an HTML page (a whole CMS page or a bare article fragment) into blocks."""
    t0 = time.perf_counter()
    if not data:
        raise ReaderError("empty HTML document")
    if len(data) > limits.max_html_bytes:
        raise LimitExceeded(f"max_html_bytes: HTML is {len(data)} bytes, limit {limits.max_html_bytes}")
    text, encoding, warnings = decode_html(data, content_type)
    if len(data) > _PRESCAN_BYTES and not encoding.startswith("utf-16"):
        _prescan_depth(data, limits.max_html_depth)
    # lexbor parses UTF-8 bytes directly; handing it the original bytes skips a re-encode
    doc = LexborHTMLParser(data if encoding == "utf-8" and not data.startswith(codecs.BOM_UTF8) else text)
    _check_depth(doc, limits.max_html_depth)
    low = data.lower() if not encoding.startswith("utf-16") else text.lower().encode("utf-8", "replace")
    page = _Page(low, encoding)
    tags = page.tags
    if tags & _SCRIPT_TAGS:
        # Script/style text would otherwise count as page text when scoring containers.
        _detach(doc.css("script, style, noscript, template"))
    root: LexborNode
    begin = text.find(_ZJEG_BEGIN) if _ZJEG in tags else -1
    end = text.find(_ZJEG_END, begin + 1) if begin >= 0 else -1
    if begin >= 0 and end > begin:
        frag = LexborHTMLParser(text[begin + len(_ZJEG_BEGIN):end])
        if frag.body is None:
            raise ReaderError("empty Hanweb content section")
        root = frag.body
    else:
        root = _find_container(doc, page)
    page_title: str | None = None
    if tags & _CHROME_TAGS and root.css_first(_CHROME) is not None:
        page_title = _page_title(doc, page)  # first: an <article><header><h1> is about to be dropped
        _detach(root.css(_CHROME))
    walker = _Walker(limits, t0)
    walker.walk(root)
    title = _meta_title(doc, page) or walker.title or page_title or _page_title(doc, page)
    return ReadResult(blocks=walker.blocks, fmt="html", title=title, encoding=encoding, warnings=warnings)
