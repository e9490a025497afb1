"""Table mapping: the §二/§三/§四 token regions → CellRecords keyed by schema.json (spec §3, §4, §6).

Cells are read in sequence: a label token that is followed by value tokens is a data row, a label
followed by another label is context (a group, a header). Rows are identified by their labels, never by
position; values go to columns in header order. A row whose value count differs from its column count
is `layout_suspect`: its values are kept only when the arithmetic forces one alignment (all zero, or
one unique alignment satisfying H2/H4), otherwise nulls with the raw text kept.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from .labels import parse_label
from .records import CellRecord
from .schema import TableDef, tables
from .sections import Document, Token
from .values import _parse_cached, parse_value
from .vocab import (
    CAPTION_ITEMS,
    S3_GROUPS,
    S3_HEADER,
    S4_HEADER_FRAGMENTS,
    S4_ROWS,
    s2_col_vocab,
    s2_row_vocab,
    s3_group_vocab,
    s3_row_vocab,
)

_CAPTION = re.compile(r"第二十条第?\(?([一二三四五六七八九十])\)?项")
_ORDINAL_GROUPS = {"(三)": "不予公开", "(四)": "无法提供", "(五)": "不予处理", "(六)": "其他处理",
                   "三": "本年度办理结果"}
MONEY_COLS = {"fee_amount", "procurement_amount"}
APPL = ("natural_person", "commercial_enterprise", "research_institution", "social_welfare_org",
        "legal_service_org", "other_org")


@dataclass(slots=True)
class RowHit:
    """One data row found in the source: its label token and the value tokens after it."""

    table: str
    row: str
    label: Token
    values: list[Token]
    flags: list[str] = field(default_factory=list)
    cols: list[str] | None = None  # column keys in printed order (None: the template's order)
    col_labels: list[str] | None = None
    header_start: int | None = None  # grid column of the first header label (§二), to settle a blank cell


def _values_after(tokens: list[Token], i: int) -> tuple[list[Token], int]:
    """Value tokens (incl. empty cells, excl. span copies) after token i, up to the next label."""
    out: list[Token] = []
    k = i + 1
    n = len(tokens)
    line = tokens[i].line
    while k < n:
        t = tokens[k]
        if t.copy:
            if not t.is_value and t.line != line:
                break  # a rowspan copy of a label on a later line starts the next row
            k += 1  # colspan copies of the label itself, span copies of values
            continue
        if not t.is_value:
            break
        out.append(t)
        k += 1
    return out, k


def _next_label(tokens: list[Token], i: int) -> Token | None:
    for t in tokens[i + 1:]:
        if t.copy:
            continue
        if t.is_value and t.empty:
            continue
        return None if t.is_value else t
    return None


# -- value alignment -------------------------------------------------------------------------------

def _parsed(tok: Token, col: str) -> tuple[int | Decimal | None, str, list[str]]:
    return parse_value(tok.raw, money=col in MONEY_COLS)


def _emit(hit: RowHit, tdef: TableDef, assigned: list[Token | None], status: str | None,
          extra_flags: list[str], out: dict[tuple[str, str], CellRecord]) -> None:
    cols = hit.cols or tdef.col_keys
    labels = hit.col_labels or tdef.col_labels
    n_labels = len(labels)
    suspect = status == "layout_suspect"
    raw_all = " ".join(t.raw.strip() for t in hit.values if not t.empty) if suspect else ""
    row_flags = hit.flags + extra_flags
    row_label = hit.label.raw.strip()
    n_assigned = len(assigned)
    table, row, section = tdef.key, hit.row, tdef.section
    get = out.get
    parse = _parse_cached
    money = not MONEY_COLS.isdisjoint(cols)  # most tables have no money column: skip the test per cell
    fill_status = status or "missing"
    for j, col in enumerate(cols):
        key = (row, col)
        prev = get(key)
        if prev is not None and prev.status != "missing":
            continue  # first occurrence wins (a repeated header row on a new page, say)
        tok = assigned[j] if j < n_assigned else None
        if tok is None:
            value, st, fl = None, fill_status, ()
            raw = raw_all
        else:
            raw = tok.raw
            value, st, fl = parse(raw, money and col in MONEY_COLS)
            if suspect:
                st = "layout_suspect"
        flags = sorted(set(fl).union(row_flags)) if (fl or row_flags) else []
        out[key] = CellRecord(table, row, col, value, raw, st, flags, row_label,
                              labels[j] if j < n_labels else "", section)


def _zero(t: Token) -> bool:
    v, st, _ = parse_value(t.raw)
    return v == 0 and st == "reported"


def _h2_ok(vals: list[int | Decimal | None]) -> bool:
    return all(v is not None for v in vals) and sum(vals[:6]) == vals[6]  # type: ignore[arg-type]


def _window_starts(label: Token, values: list[Token], nonempty: list[Token],
                   expected: int) -> tuple[list[int], dict[int, Token]]:
    """Columns where `expected` consecutive cells of the label's line could hold every printed value."""
    line = label.line
    if not nonempty or any(t.line != line for t in nonempty):
        return [], {}
    at = {t.col: t for t in values if t.line == line}
    cols = [t.col for t in nonempty]
    starts = [s for s in range(max(cols) - expected + 1, min(cols) + 1)
              if all(c in at for c in range(s, s + expected))]
    return starts, at


def _grid_window(hit: RowHit, nonempty: list[Token], expected: int,
                 hints: LazyHints | dict[int, int] | None) -> list[Token | None] | None:
    """The `expected` consecutive cells of the label's line that hold every printed value. Several
    candidates (a blank last cell, or a label-span placeholder?) are settled by where the rows of the
    same width whose window is unambiguous start their values."""
    starts, at = _window_starts(hit.label, hit.values, nonempty, expected)
    if len(starts) > 1 and hints:
        hinted = hints.get(max(at) + 1)
        starts = [hinted] if hinted in starts else starts
    if len(starts) > 1 and hit.header_start in starts:
        starts = [hit.header_start]
    if len(starts) != 1:
        return None
    return [None if at[c].empty else at[c] for c in range(starts[0], starts[0] + expected)]


class LazyHints:
    """grid_hints, computed on the first ambiguous row only (most reports never need them)."""

    def __init__(self, tokens: list[Token], expected: int) -> None:
        self.tokens, self.expected, self._hints = tokens, expected, None

    def get(self, width: int) -> int | None:
        if self._hints is None:
            self._hints = grid_hints(self.tokens, self.expected)
        return self._hints.get(width)

    def __bool__(self) -> bool:
        return True


def grid_hints(tokens: list[Token], expected: int) -> dict[int, int]:
    """Line width → the column where rows with an unambiguous value window start their values."""
    seen: dict[int, Counter[int]] = {}
    for i, t in enumerate(tokens):
        if t.is_value or t.copy:
            continue
        values, _ = _values_after(tokens, i)
        nonempty = [v for v in values if not v.empty]
        starts, at = _window_starts(t, values, nonempty, expected)
        if len(starts) == 1:
            seen.setdefault(max(at) + 1, Counter())[starts[0]] += 1
    return {w: c.most_common(1)[0][0] for w, c in seen.items()}


def assign(hit: RowHit, tdef: TableDef, out: dict[tuple[str, str], CellRecord],
           hints: LazyHints | dict[int, int] | None = None) -> None:
    cols = hit.cols or tdef.col_keys
    expected = len(cols)
    nonempty = [t for t in hit.values if not t.empty]
    if len(nonempty) == expected:
        _emit(hit, tdef, nonempty, None, [], out)
        return
    if not nonempty:
        # printed empty cells are blank (null, not 0); no cells at all means the source lost them
        _emit(hit, tdef, [], "blank" if hit.values else "missing", [], out)
        return
    # a real grid row: one cell per column on the label's own line, blanks included
    window = _grid_window(hit, nonempty, expected, hints)
    if window is not None:
        _emit(hit, tdef, window, "blank", [], out)
        return
    # one cell per line (cell-per-paragraph pages): printed-empty cells keep their place in the sequence
    seq = list(hit.values)
    while len(seq) > expected and seq[-1].empty:
        seq.pop()
    if len(seq) == expected and len({t.line for t in seq}) == expected:
        _emit(hit, tdef, [None if t.empty else t for t in seq], "blank", [], out)
        return
    # off by one and everything zero: H2 (§三) / H4 (§四) force every cell of the row to 0
    if (tdef.key in ("s3_applications", "s4_review_litigation") and abs(len(nonempty) - expected) == 1
            and all(_zero(t) for t in nonempty)):
        filled = (nonempty + [nonempty[0]] * expected)[:expected]
        _emit(hit, tdef, filled, "layout_suspect", ["realigned"], out)
        return
    if tdef.key == "s3_applications" and expected == 7 and len(nonempty) == 8:
        parsed = [parse_value(t.raw)[0] for t in nonempty]
        fits = {tuple(k for k in range(8) if k != drop) for drop in range(8)
                if _h2_ok([parsed[k] for k in range(8) if k != drop])}
        vectors = {tuple(parsed[k] for k in ks) for ks in fits}
        if len(vectors) == 1:
            ks = sorted(fits)[0]
            _emit(hit, tdef, [nonempty[k] for k in ks], "layout_suspect", ["realigned"], out)
            return
    _emit(hit, tdef, [], "layout_suspect", ["count_mismatch"], out)


# -- §二 ----------------------------------------------------------------------------------------------

def parse_s2(tokens: list[Token], template: str, out: dict[str, dict]) -> list[str]:
    warnings: list[str] = []
    tdefs = tables(template)
    row_vocab = s2_row_vocab(template)
    caption_table: str | None = None
    header: list[str] = []  # normalised header labels since the last caption / 信息内容
    header_cols: list[int] = []
    header_open = False
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.is_value or t.copy:
            i += 1
            continue
        m = _CAPTION.search(t.norm)
        if m:
            caption_table = CAPTION_ITEMS.get(m.group(1))
            header, header_cols, header_open = [], [], True
            i += 1
            continue
        if t.norm.startswith("信息内容"):
            header, header_cols, header_open = [], [], True
            i += 1
            continue
        match = row_vocab.match(t.label.text)
        values, nxt = _values_after(tokens, i)
        if match and (values or _next_label(tokens, i) is None or not header_open):
            table, row = match.key.split("|")
            if table not in tdefs:
                i = nxt
                continue
            hit = RowHit(table, row, t, values, ["fuzzy_label"] if match.fuzzy else [])
            hit.header_start = header_cols[0] if header_cols else None
            if caption_table and caption_table != table:
                hit.flags.append("caption_mismatch")
            cols, labels = _map_header(header, template, table)
            if cols is not None:
                hit.cols, hit.col_labels = cols, labels
                if any(c is None for c in cols):
                    hit.cols = None
                    hit.flags.append("header_unmatched")
            header_open = False
            assign(hit, tdefs[table], out.setdefault(table, {}))
            i = nxt
            continue
        if header_open:
            header.append(t.norm)
            header_cols.append(t.col)
        elif values and caption_table in tdefs:  # (a 第二十条第(九)项 caption in a gov2021 report has no table)
            _extra(t, values, tdefs[caption_table], out.setdefault(caption_table, {}))
        i = nxt if values else i + 1
    return warnings


def _map_header(header: list[str], template: str, table: str) -> tuple[list[str] | None, list[str]]:
    """Header labels → column keys of `table`, or None when no header was printed."""
    if not header:
        return None, []
    # cached for ordinary headers only: a hostile page can pile up thousands of labels
    mapper = _map_header_cached if len(header) <= 24 else _map_header_cached.__wrapped__
    cols, labels = mapper(tuple(header), template, table)
    return (None, []) if cols is None else (list(cols), list(labels))


_HeaderMap = tuple[tuple[str, ...] | None, tuple[str, ...]]  # (column keys or None, printed labels)


@lru_cache(maxsize=4096)
def _map_header_cached(header: tuple[str, ...], template: str, table: str) -> _HeaderMap:
    """_map_header, pure: every row under a header asks again, and headers recur across reports."""
    vocab = s2_col_vocab(template, table)
    cols: list[str] = []
    labels: list[str] = []
    k = 0
    while k < len(header):
        h = header[k]
        m = vocab.match(parse_label(h).text)
        if (m is None or m.how == "prefix") and k + 1 < len(header):
            # a header wrapped over two cells or lines ("本年新" / "制作数量")
            joined = vocab.match(parse_label(h + header[k + 1]).text)
            if joined and not joined.fuzzy:
                m, h = joined, h + header[k + 1]
                k += 1
        if m and m.key not in cols:
            cols.append(m.key)
            labels.append(h)
        k += 1
    if not cols:
        return None, ()
    if len(cols) < len(tables(template)[table].cols):
        # a partial header (a label lost or unreadable): the template order is the safer guess
        return None, ()
    return tuple(cols), tuple(labels)


def _extra(label: Token, values: list[Token], tdef: TableDef, out: dict) -> None:
    """A non-template row with values: kept as extra:<label>, outside the canonical set."""
    key = f"extra:{label.norm[:60]}"
    hit = RowHit(tdef.key, key, label, values, ["extra_row"])
    nonempty = [t for t in values if not t.empty]
    for j, (tok, col) in enumerate(zip(nonempty, tdef.cols)):
        v, st, fl = _parsed(tok, col.key)
        out[(key, col.key)] = CellRecord(tdef.key, key, col.key, v, tok.raw, st, sorted(set(fl + hit.flags)),
                                         raw_row_label=label.raw.strip(), raw_col_label=col.label,
                                         section=tdef.section)
        if j + 1 >= len(tdef.cols):
            break


# -- §三 ----------------------------------------------------------------------------------------------

def parse_s3(tokens: list[Token], template: str, out: dict[tuple[str, str], CellRecord]) -> list[str]:
    tdef = tables(template)["s3_applications"]
    vocab = s3_row_vocab(template)
    gvocab = s3_group_vocab()
    data_started = False
    group: str | None = None
    hints = LazyHints(tokens, len(tdef.cols))
    seen_rows: set[str] = set()
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.is_value or t.copy:
            i += 1
            continue
        text = t.label.text
        if not data_started and not t.label.ordinal and (
                text in S3_HEADER or "勾稽" in text or "本列数据" in text):
            i += 1
            continue
        values, nxt = _values_after(tokens, i)
        nonempty = [v for v in values if not v.empty]
        if not text and t.label.ordinal in _ORDINAL_GROUPS:  # "（三）" alone, its text on a later line
            group = _ORDINAL_GROUPS[t.label.ordinal]
            i += 1
            continue
        g = gvocab.match(text)
        if g and not nonempty and g.key in S3_GROUPS and not _is_single_row_group(g.key, tokens, nxt, vocab):
            group = g.key
            i = nxt
            continue
        m = vocab.match(text)
        if m:
            key = m.key
            if key == "other_other" and group != "其他处理" and t.label.ordinal != "3":
                m = None
            elif key == "total_processed" and not data_started and not t.label.ordinal:
                i += 1
                continue
        if m:
            data_started = True
            hit = RowHit(tdef.key, m.key, t, values, ["fuzzy_label"] if m.fuzzy else [])
            if m.key in seen_rows:
                hit.flags.append("duplicate_row")
            seen_rows.add(m.key)
            assign(hit, tdef, out, hints)
            i = nxt
            continue
        if g:  # a group label printed with values: gov2019-style (六)其他处理 handled above; else context
            group = g.key
        elif nonempty and data_started:
            _extra(t, values, tdef, out)
        i = nxt if values else i + 1
    return []


def _is_single_row_group(group: str, tokens: list[Token], k: int, vocab) -> bool:
    """(六)其他处理 printed as one (blank) data row rather than a group over sub-items 1-3."""
    if group != "其他处理":
        return False
    for t in tokens[k:]:
        if t.is_value or t.copy:
            continue
        m = vocab.match(t.label.text)
        return not (m and m.key.startswith("other_") and m.key != "other_processing")
    return True


# -- §四 ----------------------------------------------------------------------------------------------

def parse_s4(tokens: list[Token], template: str, out: dict[tuple[str, str], CellRecord]) -> list[str]:
    tdef = tables(template)["s4_review_litigation"]
    cols = list(tdef.col_keys)
    # layout 1: one printed row per group ("行政复议 | 0 | 0 | …")
    rows_found = 0
    for i, t in enumerate(tokens):
        if t.is_value or t.copy or t.label.text not in S4_ROWS:
            continue
        values, _ = _values_after(tokens, i)
        if sum(1 for v in values if not v.empty) >= 3:
            assign(RowHit(tdef.key, S4_ROWS[t.label.text], t, values), tdef, out, LazyHints(tokens, 5))
            rows_found += 1
    if rows_found:
        return []
    # layout 2 (the template): a header, then one row of 15 numbers
    values = [t for t in tokens if t.is_value and not t.copy]
    unknown = [t for t in tokens if not t.is_value and not t.copy and t.label.text not in S4_HEADER_FRAGMENTS
               and len(t.norm) > 12 and "行政复议" not in t.norm]
    if not values:
        return []
    anchor = next((t for t in tokens if not t.is_value), tokens[0])
    by_line: dict[int, list[Token]] = {}
    for t in values:
        by_line.setdefault(t.line, []).append(t)
    grid_lines = [ln for ln, vs in by_line.items() if any(not v.empty for v in vs)]
    flags = ["s4_unknown_labels"] if unknown else []
    nonempty = [t for t in values if not t.empty]
    chosen: list[Token | None] | None = None
    status: str | None = None
    extra: list[str] = []
    if len(nonempty) == 15:
        chosen = list(nonempty)
    elif len(grid_lines) == 1:
        row = list(by_line[grid_lines[0]])
        while len(row) > 15 and row[-1].empty:
            row.pop()
        while len(row) > 15 and row[0].empty:
            row.pop(0)
        if len(row) == 15:
            chosen, status = [None if t.empty else t for t in row], "blank"
    # the cells after the last header label (a value row, or one cell per paragraph): blanks keep their place
    last_label = max((k for k, t in enumerate(tokens) if not t.is_value and not t.copy), default=-1)
    tail = [t for t in tokens[last_label + 1:] if t.is_value and not t.copy]
    while len(tail) > 15 and tail[-1].empty:
        tail.pop()
    if chosen is None and nonempty and len(tail) == 15 and all(t in tail for t in nonempty):
        chosen, status = [None if t.empty else t for t in tail], "blank"
    if not nonempty:
        # every value cell printed empty (a row of 15 blanks), or no value row at all
        empty_lines = [ln for ln in {t.line for t in values}
                       if sum(1 for t in values if t.line == ln) >= 15
                       and not any(x.line == ln and not x.is_value and not x.copy for x in tokens)]
        if not empty_lines and len(tail) < 15:
            return []
        chosen, status = [None] * 15, "blank"
    if chosen is None and abs(len(nonempty) - 15) == 1 and all(_zero(t) for t in nonempty):
        chosen, status, extra = (nonempty * 2)[:15], "layout_suspect", ["realigned"]
    if chosen is None and len(nonempty) == 16:
        parsed = [parse_value(t.raw)[0] for t in nonempty]
        fits = []
        for drop in range(16):
            vec = [parsed[k] for k in range(16) if k != drop]
            if all(v is not None for v in vec) and all(
                    sum(vec[g * 5:g * 5 + 4]) == vec[g * 5 + 4] for g in range(3)):  # type: ignore[arg-type]
                fits.append(drop)
        if len({tuple(parsed[k] for k in range(16) if k != d) for d in fits}) == 1:
            chosen = [nonempty[k] for k in range(16) if k != fits[0]]
            status, extra = "layout_suspect", ["realigned"]
    rows = list(S4_ROWS.values())
    for g, row in enumerate(rows):
        part = chosen[g * 5:(g + 1) * 5] if chosen is not None else []
        hit = RowHit(tdef.key, row, anchor, [t for t in part if t is not None] if chosen else nonempty,
                     list(flags))
        hit.cols = cols
        if chosen is None:
            _emit(hit, tdef, [], "layout_suspect", ["count_mismatch"], out)
        else:
            _emit(hit, tdef, part, status, extra, out)
    return []


def fill_missing(template: str, out: dict[str, dict[tuple[str, str], CellRecord]]) -> None:
    """Cells of a found table that the source lost: null records with status `missing`."""
    for tkey, cells in out.items():
        tdef = tables(template).get(tkey)
        if tdef is None or not any(c.status != "missing" for c in cells.values()):
            continue
        if len(cells) >= len(tdef.rows) * len(tdef.cols) and all(map(cells.__contains__, tdef.cell_keys)):
            continue  # the usual case: every cell was printed
        for r in tdef.rows:
            for c in tdef.cols:
                if (r.key, c.key) not in cells:
                    cells[(r.key, c.key)] = CellRecord(tkey, r.key, c.key, None, "", "missing", [],
                                                       raw_row_label="", raw_col_label=c.label,
                                                       section=tdef.section)


def map_tables(doc: Document, template: str) -> dict[str, dict[tuple[str, str], CellRecord]]:
    out: dict[str, dict[tuple[str, str], CellRecord]] = {}
    regions = doc.table_regions
    if 2 in regions:
        a, b = regions[2]
        parse_s2(doc.tokens[a:b], template, out)
    if 3 in regions:
        a, b = regions[3]
        parse_s3(doc.tokens[a:b], template, out.setdefault("s3_applications", {}))
    if 4 in regions:
        a, b = regions[4]
        parse_s4(doc.tokens[a:b], template, out.setdefault("s4_review_litigation", {}))
    for k in [k for k, v in out.items() if not v]:
        del out[k]
    fill_missing(template, out)
    return out
