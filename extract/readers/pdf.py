"""PDF reader (text layer): pypdfium2 characters + drawn rules -> paragraphs and table grids.

Main path (fast, ~ms per page): pdfium gives every character with its box and every path object
with its segments. Per page:

1. Ruled tables: horizontal/vertical rule segments (stroked lines and thin filled rectangles) are
   merged, grouped into connected components, and each component's distinct x/y positions form a
   grid. A grid position whose right/bottom rule is missing is merged with its neighbour, which
   yields rowspan/colspan; characters are assigned to cells by their centre, so a vertically
   centred label of a tall merged cell lands on the first row of its span.
2. Remaining characters are grouped into lines and split into segments at wide x gaps. Runs of
   lines with >= 2 segments become unruled tables: columns from the x-extent of segments that do
   not straddle two segments of another line, rows from vertical gaps between "full" lines;
   sparse lines (wrapped digits, vertical header text, centred labels) attach to the nearest row.
3. Everything else is running text, merged into paragraphs.

Tables ending page N and starting page N+1 with the same column structure are joined, dropping
repeated header rows.

pdfium drops lone glyphs of non-embedded predefined-CMap CJK fonts (vertical headers written one
character per line, a lone 无 in a cell). Their text objects are still listed: the characters are
decoded from the page's content stream (pdf_content, a few ms per page) and boxed like pdfium's
own; only when that stream and pdfium's objects cannot be matched one to one does pdfplumber
interpret the page (hundreds of ms).
"""

from __future__ import annotations

import ctypes
import math
import re
import threading
import time
from bisect import bisect_right
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from extract.readers.base import Cell, LimitExceeded, Limits, ReaderError, ReadResult, TableBlock, TextBlock
from extract.readers.pdf_content import ContentText

__all__ = ["read_pdf"]

# pdfium is not thread-safe; readers may run in worker threads.
_PDFIUM_LOCK = threading.Lock()

_SNAP = 2.0  # pt: rules closer than this are the same rule (double lines, thin-rect borders)
_MIN_RULE = 4.0  # pt: shorter segments are glyph-like decorations, not table rules
_SPACES = {" ", "\u3000", "\xa0", "\u2002", "\u2003", "\t"}
_NUMERIC = re.compile(r"^[-+]?[\d.,，%\s]+$")
_PAGE_NO = re.compile(
    r"^(?:[-—–]\s*\d+\s*[-—–]|第\s*\d+\s*页(?:\s*[/，,]?\s*共\s*\d+\s*页)?|P\.\s*\d+|\d+\s*/\s*\d+|\d{1,3})$"
)

Char = tuple[float, float, float, float, str]  # x0, top, x1, bottom (top-down page coords), text


# ---------------------------------------------------------------------------------------------
# low-level extraction


def _unchecked(fn):
    """The same pdfium function without ctypes' per-call argument conversion (argtypes), about half
    the cost of a call; for per-character loops. Callers pass ctypes pointers (a handle, byref(...))
    and Python ints only; the result is a C int. Falls back to `fn` itself if it is not a plain
    ctypes function pointer."""
    try:
        f = type(fn)(ctypes.cast(fn, ctypes.c_void_p).value)
        f.restype = ctypes.c_int
        return f
    except (TypeError, ctypes.ArgumentError, AttributeError):
        return fn


_GET_LOOSE_CHAR_BOX = _unchecked(pdfium_c.FPDFText_GetLooseCharBox)
_IS_GENERATED = _unchecked(pdfium_c.FPDFText_IsGenerated)


def _page_chars(textpage: pdfium.PdfTextPage, height: float) -> list[Char]:
    """Characters with loose (font-height) boxes; loose boxes make all glyphs of a line share
    top/bottom, which keeps line clustering simple. Spaces are kept as " " (they tell word gaps
    from column gaps); pdfium's generated characters are dropped."""
    raw = textpage.raw
    n = max(pdfium_c.FPDFText_CountChars(raw), 0)
    rect = pdfium_c.FS_RECTF()
    rect_ref = ctypes.byref(rect)
    get_box = _GET_LOOSE_CHAR_BOX
    is_gen = _IS_GENERATED
    # one call for all code units; per-char calls only if pdfium's text view differs from its
    # char list (it may insert/exclude chars)
    buf = (ctypes.c_ushort * (n + 1))()
    got = pdfium_c.FPDFText_GetText(raw, 0, n, buf) if n else 0
    if got == n + 1:
        units = list(buf[:n])
    else:
        get_uni = pdfium_c.FPDFText_GetUnicode
        units = [get_uni(raw, i) for i in range(n)]
    out: list[Char] = []
    pending_high = 0
    for i, u in enumerate(units):
        if 0xD800 <= u < 0xDC00:  # UTF-16 surrogate pair spread over two char slots
            pending_high = u
            continue
        if 0xDC00 <= u < 0xE000 and pending_high:
            u = 0x10000 + ((pending_high - 0xD800) << 10) + (u - 0xDC00)
        pending_high = 0
        if u < 32 or u in (0xFFFE, 0xFFFF, 0xFFFD):
            continue
        ch = chr(u)
        if ch in _SPACES:
            if is_gen(raw, i) == 1:
                continue
            ch = " "
        if not get_box(raw, i, rect_ref):
            continue
        top, bottom = height - rect.top, height - rect.bottom
        if bottom - top <= 0.1:
            continue
        out.append((rect.left, top, rect.right, bottom, ch))
    return out


Seg = tuple[float, float, float]


@dataclass(slots=True)
class _Lost:
    """A text object pdfium decodes to nothing (see _page_objects)."""

    ordinal: int  # index among the page's top-level text objects; -1 inside a form XObject
    obj: object  # FPDF_PAGEOBJECT, valid while the page is open
    bounds: tuple[float, float, float, float]  # l, b, r, t in PDF coordinates


def _page_objects(
    page: pdfium.PdfPage, textpage: pdfium.PdfTextPage, height: float
) -> tuple[list[Seg], list[Seg], list[_Lost], int]:
    """Axis-parallel rule segments from path objects: (y, x0, x1) horizontals, (x, y0, y1) verticals,
    in top-down coordinates. Thin filled rectangles become one rule along their long side.
    Also returns the text objects pdfium decodes to nothing and the number of top-level text
    objects: pdfium drops lone CJK glyphs of non-embedded predefined-CMap fonts
    (STSong-Light/UniGB-UCS2-H, as written by reportlab and iText), e.g. one-char-per-line
    vertical headers."""
    hs: list[Seg] = []
    vs: list[Seg] = []
    lost: list[_Lost] = []
    ntext = [0]
    tp_raw = textpage.raw
    bl, bb, br, bt = ctypes.c_float(), ctypes.c_float(), ctypes.c_float(), ctypes.c_float()
    mat = pdfium_c.FS_MATRIX()
    fx, fy = ctypes.c_float(), ctypes.c_float()
    seg_point = pdfium_c.FPDFPathSegment_GetPoint
    seg_type = pdfium_c.FPDFPathSegment_GetType
    seg_close = pdfium_c.FPDFPathSegment_GetClose
    get_seg = pdfium_c.FPDFPath_GetPathSegment
    lineto, moveto = pdfium_c.FPDF_SEGMENT_LINETO, pdfium_c.FPDF_SEGMENT_MOVETO

    def walk(count_fn, get_fn, parent, outer: tuple[float, ...] | None, depth: int) -> None:
        for i in range(count_fn(parent)):
            obj = get_fn(parent, i)
            if not obj:
                continue
            typ = pdfium_c.FPDFPageObj_GetType(obj)
            if typ == pdfium_c.FPDF_PAGEOBJ_TEXT:
                ordinal = -1
                if outer is None:
                    ordinal = ntext[0]
                    ntext[0] += 1
                # undecodable glyphs leave a zero-size object; only those get the costly text check
                if (
                    pdfium_c.FPDFPageObj_GetBounds(obj, bl, bb, br, bt)
                    and br.value - bl.value < 0.01
                    and pdfium_c.FPDFTextObj_GetText(obj, tp_raw, None, 0) <= 2
                ):
                    lost.append(_Lost(ordinal, obj, (bl.value, bb.value, br.value, bt.value)))
                continue
            if typ not in (pdfium_c.FPDF_PAGEOBJ_PATH, pdfium_c.FPDF_PAGEOBJ_FORM):
                continue
            if not pdfium_c.FPDFPageObj_GetMatrix(obj, mat):
                continue
            m = (mat.a, mat.b, mat.c, mat.d, mat.e, mat.f)
            if outer is not None:  # child matrix then the form's matrix
                a, b, c, d, e, f = m
                A, B, C, D, E, F = outer
                m = (
                    a * A + b * C,
                    a * B + b * D,
                    c * A + d * C,
                    c * B + d * D,
                    e * A + f * C + E,
                    e * B + f * D + F,
                )
            if typ == pdfium_c.FPDF_PAGEOBJ_FORM:
                if depth < 6:
                    walk(pdfium_c.FPDFFormObj_CountObjects, pdfium_c.FPDFFormObj_GetObject, obj, m, depth + 1)
                continue
            a, b, c, d, e, f = m
            nseg = pdfium_c.FPDFPath_CountSegments(obj)
            pts: list[tuple[float, float]] = []
            start: tuple[float, float] | None = None
            prev: tuple[float, float] | None = None
            edges: list[tuple[float, float, float, float]] = []
            for k in range(nseg):
                seg = get_seg(obj, k)
                if not seg_point(seg, fx, fy):
                    continue
                x, y = fx.value, fy.value
                p = (a * x + c * y + e, height - (b * x + d * y + f))
                t = seg_type(seg)
                if t == moveto:
                    start = p
                elif t == lineto and prev is not None:
                    edges.append((prev[0], prev[1], p[0], p[1]))
                prev = p
                pts.append(p)
                if seg_close(seg) and start is not None:
                    edges.append((p[0], p[1], start[0], start[1]))
                    prev = start
            if not pts:
                continue
            xs_ = [q[0] for q in pts]
            ys_ = [q[1] for q in pts]
            w, h = max(xs_) - min(xs_), max(ys_) - min(ys_)
            if len(pts) <= 5 and (w <= _SNAP or h <= _SNAP) and max(w, h) >= _MIN_RULE:
                # a thin rectangle (filled border) or a single line: one rule along its axis
                if w <= _SNAP:
                    vs.append(((min(xs_) + max(xs_)) / 2, min(ys_), max(ys_)))
                else:
                    hs.append(((min(ys_) + max(ys_)) / 2, min(xs_), max(xs_)))
                continue
            for x0, y0, x1, y1 in edges:
                if abs(y1 - y0) <= 0.5 and abs(x1 - x0) >= _MIN_RULE:
                    hs.append(((y0 + y1) / 2, min(x0, x1), max(x0, x1)))
                elif abs(x1 - x0) <= 0.5 and abs(y1 - y0) >= _MIN_RULE:
                    vs.append(((x0 + x1) / 2, min(y0, y1), max(y0, y1)))

    walk(pdfium_c.FPDFPage_CountObjects, pdfium_c.FPDFPage_GetObject, page.raw, None, 0)
    return hs, vs, lost, ntext[0]


def _font_base_name(font) -> str | None:
    n = pdfium_c.FPDFFont_GetBaseFontName(font, None, 0)
    if n <= 1:
        return None
    buf = ctypes.create_string_buffer(n)
    pdfium_c.FPDFFont_GetBaseFontName(font, buf, n)
    return buf.value.decode("latin-1")


def _recover_lost_fast(
    content: ContentText, index: int, lost: list[_Lost], ntext: int, height: float
) -> list[Char] | None:
    """The lost glyphs' text from the page's content stream (pdf_content), boxed the way pdfium
    boxes the glyphs it keeps (origin, advance, font ascent/descent). None when the content stream
    and pdfium's objects do not match one to one, or a glyph is not a single decodable character:
    the caller then asks pdfplumber."""
    if any(lo.ordinal < 0 for lo in lost):
        return None  # inside a form XObject: not matched by ordinal
    got = content.page_ops(index)
    if got is None:
        return None
    ops, fonts = got
    if len(ops) != ntext:
        return None
    out: list[Char] = []
    mat = pdfium_c.FS_MATRIX()
    size, asc, desc, width = ctypes.c_float(), ctypes.c_float(), ctypes.c_float(), ctypes.c_float()
    for lo in lost:
        dec = content.decode(fonts, ops[lo.ordinal])
        if dec is None:
            return None
        text, names = dec
        font = pdfium_c.FPDFTextObj_GetFont(lo.obj)
        if not font:
            return None
        name = _font_base_name(font)
        if name is not None and name not in names:
            return None  # the ordinal points at another font's text: the two readings disagree
        if not text.strip():
            continue
        if len(text) != 1:
            return None
        if not pdfium_c.FPDFPageObj_GetMatrix(lo.obj, mat) or not pdfium_c.FPDFTextObj_GetFontSize(
            lo.obj, size
        ):
            return None
        sz = size.value
        if sz <= 0:
            return None
        if (
            pdfium_c.FPDFFont_GetAscent(font, sz, asc)
            and pdfium_c.FPDFFont_GetDescent(font, sz, desc)
            and (asc.value > desc.value)
        ):
            a, d = asc.value, desc.value
        else:
            a, d = 0.88 * sz, -0.12 * sz
        w = (
            width.value
            if pdfium_c.FPDFFont_GetGlyphWidth(font, ord(text), sz, width) and width.value > 0
            else sz
        )
        sx, sy = math.hypot(mat.a, mat.b), math.hypot(mat.c, mat.d)
        x, y = mat.e, mat.f
        ch = text if text not in _SPACES else " "
        out.append((x, height - (y + a * sy), x + w * sx, height - (y + d * sy), ch))
    return out


def _recover_lost(plumber_page, lost: list[_Lost], height: float) -> list[Char]:
    """pdfminer decodes what pdfium dropped: take its chars at the lost text objects' positions."""
    out: list[Char] = []
    for ch in plumber_page.chars:
        x0, top, bottom = ch["x0"], ch["top"], ch["bottom"]
        for lo in lost:
            left, b, r, _t = lo.bounds
            if left - 1.5 <= x0 <= max(r, left) + 1.5 and height - bottom - 1 <= b <= height - top + 1:
                text = ch.get("text") or ""
                if text.strip():
                    out.append((x0, top, ch["x1"], bottom, text if text not in _SPACES else " "))
                break
    return out


def _merge_rules(segs: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """Snap rules on (almost) the same line and join overlapping/touching pieces."""
    segs = sorted(segs)
    out: list[tuple[float, float, float]] = []
    groups: list[list[tuple[float, float, float]]] = []
    for s in segs:
        if groups and s[0] - groups[-1][0][0] <= _SNAP:
            groups[-1].append(s)
        else:
            groups.append([s])
    for g in groups:
        pos = sum(s[0] for s in g) / len(g)
        spans = sorted((s[1], s[2]) for s in g)
        cur0, cur1 = spans[0]
        for a, b in spans[1:]:
            if a <= cur1 + _SNAP:
                cur1 = max(cur1, b)
            else:
                out.append((pos, cur0, cur1))
                cur0, cur1 = a, b
        out.append((pos, cur0, cur1))
    return out


# ---------------------------------------------------------------------------------------------
# ruled tables


@dataclass
class _Grid:
    xs: list[float]  # column boundaries, left to right
    ys: list[float]  # row boundaries, top to bottom
    origin: dict[tuple[int, int], tuple[int, int]]  # grid position -> its merged cell's origin

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        return self.xs[0], self.ys[0], self.xs[-1], self.ys[-1]


def _cluster(vals: list[float], tol: float) -> list[float]:
    vals = sorted(vals)
    out: list[list[float]] = []
    for v in vals:
        if out and v - out[-1][-1] <= tol:
            out[-1].append(v)
        else:
            out.append([v])
    return [sum(g) / len(g) for g in out]


def _covered(segs: list[tuple[float, float]], a: float, b: float) -> bool:
    """Does the union of `segs` (intervals on one rule line) cover most of [a, b]?"""
    need = (b - a) * 0.6
    got = 0.0
    for s0, s1 in segs:
        got += max(0.0, min(s1, b) - max(s0, a))
    return got >= need


def _ruled_grids(
    hs: list[tuple[float, float, float]], vs: list[tuple[float, float, float]], max_cells: int
) -> list[_Grid]:
    hs, vs = _merge_rules(hs), _merge_rules(vs)
    if len(hs) < 2 or len(vs) < 2:
        return []
    # connected components of crossing/touching rules
    parent = list(range(len(hs) + len(vs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    t = _SNAP + 1
    for i, (y, x0, x1) in enumerate(hs):
        for j, (x, y0, y1) in enumerate(vs):
            if x0 - t <= x <= x1 + t and y0 - t <= y <= y1 + t:
                ri, rj = find(i), find(len(hs) + j)
                if ri != rj:
                    parent[ri] = rj
    comps: dict[int, tuple[list[tuple[float, float, float]], list[tuple[float, float, float]]]] = {}
    for i, h in enumerate(hs):
        comps.setdefault(find(i), ([], []))[0].append(h)
    for j, v in enumerate(vs):
        comps.setdefault(find(len(hs) + j), ([], []))[1].append(v)
    grids: list[_Grid] = []
    for ch, cv in comps.values():
        if len(ch) < 2 or len(cv) < 2:
            continue
        xs = _cluster([v[0] for v in cv], _SNAP * 1.5)
        ys = _cluster([h[0] for h in ch], _SNAP * 1.5)
        nr, nc = len(ys) - 1, len(xs) - 1
        if nr < 1 or nc < 1 or (nr == 1 and nc == 1):
            continue  # a frame around text is not a table
        if nr * nc > max_cells:
            raise LimitExceeded(f"max_table_cells: a ruled grid of {nr}x{nc} exceeds {max_cells}")
        vline: dict[int, list[tuple[float, float]]] = {}
        for x, y0, y1 in cv:
            vline.setdefault(min(range(len(xs)), key=lambda k, x=x: abs(xs[k] - x)), []).append((y0, y1))
        hline: dict[int, list[tuple[float, float]]] = {}
        for y, x0, x1 in ch:
            hline.setdefault(min(range(len(ys)), key=lambda k, y=y: abs(ys[k] - y)), []).append((x0, x1))
        # merge grid positions across missing rules (union-find over positions)
        up = list(range(nr * nc))

        def f2(i: int, up: list[int] = up) -> int:
            while up[i] != i:
                up[i] = up[up[i]]
                i = up[i]
            return i

        for r in range(nr):
            for c in range(nc):
                if c + 1 < nc and not _covered(vline.get(c + 1, []), ys[r], ys[r + 1]):
                    a, b = f2(r * nc + c), f2(r * nc + c + 1)
                    if a != b:
                        up[b] = a
                if r + 1 < nr and not _covered(hline.get(r + 1, []), xs[c], xs[c + 1]):
                    a, b = f2(r * nc + c), f2((r + 1) * nc + c)
                    if a != b:
                        up[b] = a
        first: dict[int, tuple[int, int]] = {}
        origin: dict[tuple[int, int], tuple[int, int]] = {}
        for r in range(nr):
            for c in range(nc):
                root = f2(r * nc + c)
                origin[(r, c)] = first.setdefault(root, (r, c))
        grids.append(_Grid(xs, ys, origin))
    grids.sort(key=lambda g: g.ys[0])
    return grids


# ---------------------------------------------------------------------------------------------
# lines and text


@dataclass
class _Line:
    chars: list[Char]
    top: float
    bottom: float
    x0: float
    x1: float
    h: float
    segs: list[tuple[float, float, str]] = field(default_factory=list)

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2


def _centre_y(ch: Char) -> float:
    return (ch[1] + ch[3]) / 2


def _x0(ch: Char) -> float:
    return ch[0]


def _group_lines(chars: list[Char]) -> list[_Line]:
    """Cluster characters into lines by vertical centre; each line's chars sorted by x. Lines of
    spaces only are dropped."""
    if not chars:
        return []
    groups: list[list[Char]] = []
    cur: list[Char] = []
    ref = -1e9
    for ch in sorted(chars, key=_centre_y):
        top, bottom = ch[1], ch[3]
        cy = (top + bottom) / 2
        if groups and cy - ref <= 0.35 * (bottom - top):
            cur.append(ch)
        else:
            cur = [ch]
            groups.append(cur)
            ref = cy
    lines: list[_Line] = []
    for g in groups:
        if len(g) == 1:
            c = g[0]
            if c[4] != " ":
                lines.append(_Line(g, c[1], c[3], c[0], c[2], c[3] - c[1]))
            continue
        g.sort(key=_x0)
        real = [c for c in g if c[4] != " "]
        if not real:
            continue
        if len(real) == 1:
            c = real[0]
            lines.append(_Line(g, c[1], c[3], c[0], c[2], c[3] - c[1]))
            continue
        hs = sorted([c[3] - c[1] for c in real])
        lines.append(
            _Line(
                g,
                min([c[1] for c in real]),
                max([c[3] for c in real]),
                real[0][0],
                max([c[2] for c in real]),
                hs[len(hs) // 2],
            )
        )
    return lines


def _text(chars: list[Char], h: float) -> str:
    """Join x-sorted chars; a visible gap without a space char becomes one space."""
    out: list[str] = []
    prev_x1: float | None = None
    for x0, _t, x1, _b, ch in chars:
        if ch == " ":
            if out and out[-1] != " ":
                out.append(" ")
        else:
            if prev_x1 is not None and x0 - prev_x1 > 0.5 * h and out and out[-1] != " ":
                out.append(" ")
            out.append(ch)
        prev_x1 = x1 if ch != " " else prev_x1
    return "".join(out).strip()


def _split_segments(line: _Line) -> None:
    """Split a line at gaps wide enough to be column gaps: >0.6em of empty space, or >2em from the
    last visible char when typed spaces fill the gap (a word space is not a column gap; a trailing
    space of a cell does not glue it to the next cell)."""
    segs: list[tuple[float, float, str]] = []
    cur: list[Char] = []
    first: Char | None = None
    last: Char | None = None
    last_any: Char | None = None
    h = line.h
    narrow, wide = 0.6 * h, 2.0 * h
    for ch in line.chars:
        if ch[4] == " ":
            if cur:
                cur.append(ch)
                last_any = ch
            continue
        if (
            last is not None
            and last_any is not None
            and (ch[0] - last_any[2] > narrow or ch[0] - last[2] > wide)
        ):
            segs.append((first[0], last[2], _text(cur, h)))  # type: ignore[index]
            cur = []
            first = None
        if first is None:
            first = ch
        cur.append(ch)
        last = last_any = ch
    if first is not None and last is not None:
        segs.append((first[0], last[2], _text(cur, h)))
    line.segs = segs


def _cell_text(chars: list[Char]) -> str:
    return "\n".join(t for ln in _group_lines(chars) if (t := _text(ln.chars, ln.h)))


# ---------------------------------------------------------------------------------------------
# page assembly


@dataclass
class _Item:
    top: float
    bottom: float
    block: TextBlock | TableBlock
    cols: list[float] | None = None  # column boundaries of a table, for cross-page joins
    ruled: bool = False
    label_cols: int = 0  # leading non-numeric columns (for a rowspan cut by a page break)


def _grid_table(grid: _Grid, chars: list[Char], page: int) -> _Item:
    nr, nc = len(grid.ys) - 1, len(grid.xs) - 1
    buckets: dict[tuple[int, int], list[Char]] = {}
    for ch in chars:
        cx, cy = (ch[0] + ch[2]) / 2, (ch[1] + ch[3]) / 2
        r = min(max(bisect_right(grid.ys, cy) - 1, 0), nr - 1)
        c = min(max(bisect_right(grid.xs, cx) - 1, 0), nc - 1)
        buckets.setdefault(grid.origin[(r, c)], []).append(ch)
    texts = {pos: _cell_text(chs) for pos, chs in buckets.items()}
    rows = [
        [
            Cell(texts.get(o, ""))
            if (o := grid.origin[(r, c)]) == (r, c)
            else Cell(texts.get(o, ""), copy=True)
            for c in range(nc)
        ]
        for r in range(nr)
    ]
    return _Item(grid.ys[0], grid.ys[-1], TableBlock(rows, page), list(grid.xs), True, _label_cols(rows))


def _label_cols(rows: list[list[Cell]]) -> int:
    """Number of leading columns that hold labels: those left of the first mostly-numeric column."""
    if not rows:
        return 0
    nc = max(len(r) for r in rows)
    for c in range(nc):
        vals = [r[c].text for r in rows if c < len(r) and r[c].text and not r[c].copy]
        nums = sum(1 for v in vals if _NUMERIC.match(v))
        if nums and nums * 2 >= len(vals):
            return c
    return 0


def _table_regions(lines: list[_Line], barriers: list[float]) -> list[tuple[int, int]]:
    """Index ranges [i, j) of lines forming unruled tables: runs of multi-segment lines, with short
    runs of single-segment lines between them (centred labels, wrapped cell text)."""
    n = len(lines)
    multi = [len(ln.segs) >= 2 for ln in lines]

    def near(i: int, j: int, k: float) -> bool:  # lines i < j close, no ruled table between
        gap = lines[j].top - lines[i].bottom
        if gap > k * max(lines[i].h, lines[j].h):
            return False
        return not any(lines[i].bottom <= b <= lines[j].top for b in barriers)

    regions: list[tuple[int, int]] = []
    i = 0
    while i < n:
        if not multi[i]:
            i += 1
            continue
        j = i + 1
        while j < n:
            if multi[j] and near(j - 1, j, 2.5):
                j += 1
                continue
            k = j  # look ahead through close sparse lines to the next multi-segment line
            while k < n and not multi[k] and k - j < 8 and near(k - 1, k, 1.5):
                k += 1
            if k < n and k > j and multi[k] and near(k - 1, k, 1.5):
                j = k + 1
            else:
                break
        if sum(multi[i:j]) >= 2:
            left = min(ln.x0 for ln in lines[i:j])
            # sparse lines hugging the region: wrapped digits / stacked header chars above or below
            while (
                i > 0 and not multi[i - 1] and near(i - 1, i, 1.5) and lines[i - 1].x0 > left + lines[i - 1].h
            ):
                i -= 1
            while j < n and not multi[j] and near(j - 1, j, 0.3) and lines[j].x0 > left + lines[j].h:
                j += 1
            regions.append((i, j))
        i = j
    return regions


def _unruled_table(lines: list[_Line], page: int, max_cells: int) -> _Item:
    segs = [(li, s) for li, ln in enumerate(lines) for s in ln.segs]
    # column bands from segments that do not straddle two segments of another line
    starts = [[s[0] for s in ln.segs] for ln in lines]
    narrow: list[tuple[float, float]] = []
    for li, (x0, x1, _t) in segs:
        spanning = False
        for lj, ln in enumerate(lines):
            if lj == li:
                continue
            k = bisect_right(starts[lj], x1)  # segments starting before our end
            if sum(1 for s in ln.segs[max(0, k - 3) : k] if s[1] > x0) >= 2:
                spanning = True
                break
        if not spanning:
            narrow.append((x0, x1))
    if not narrow:
        narrow = [(s[0], s[1]) for _li, s in segs]
    narrow.sort()
    bands: list[list[float]] = []
    for a, b in narrow:
        if bands and a <= bands[-1][1]:
            bands[-1][1] = max(bands[-1][1], b)
        else:
            bands.append([a, b])
    if len(lines) >= 3 and len(bands) > 2:
        # a band held up by one line only is a centred colspan text sitting between real columns
        support = [set() for _ in bands]
        for li, (x0, x1, _t) in segs:
            for k, (a, b) in enumerate(bands):
                if min(x1, b) - max(x0, a) > 0:
                    support[k].add(li)
        kept = [b for b, sup in zip(bands, support, strict=True) if len(sup) >= 2]
        if len(kept) >= 2:
            bands = kept
    nc = len(bands)

    def cols_of(x0: float, x1: float) -> list[int]:
        hit = [k for k, (a, b) in enumerate(bands) if min(x1, b) - max(x0, a) > 0]
        cx = (x0 + x1) / 2
        for k in range(nc - 1):  # centred over a column gap: spans both neighbours
            if bands[k][1] <= cx <= bands[k + 1][0]:
                hit = sorted(set(hit) | {k, k + 1})
        if hit:
            return hit
        return [min(range(nc), key=lambda k: abs((bands[k][0] + bands[k][1]) / 2 - cx))]

    def span_of(ln: _Line, k: int) -> list[int]:
        """Columns of segment k; a centred colspan text widens symmetrically to the columns
        between its neighbours on the line whose joint middle matches its own."""
        x0, x1, _t = ln.segs[k]
        hit = cols_of(x0, x1)
        if len(hit) < 2:
            return hit
        lo = ln.segs[k - 1][1] if k > 0 else -1e9
        hi = ln.segs[k + 1][0] if k + 1 < len(ln.segs) else 1e9
        cx = (x0 + x1) / 2
        best = hit
        for a in range(hit[0], -1, -1):
            if bands[a][0] < lo:
                break
            for b in range(hit[-1], nc):
                if bands[b][1] > hi:
                    break
                if b - a > best[-1] - best[0] and abs((bands[a][0] + bands[b][1]) / 2 - cx) <= 5.0:
                    best = list(range(a, b + 1))
        return best

    placed = [[(span_of(ln, k), ln.segs[k][2]) for k in range(len(ln.segs))] for ln in lines]
    occupied = [len({c for cs, _t in pl for c in cs}) for pl in placed]
    full_min = max(2, (nc + 1) // 2)
    lh = sorted(ln.h for ln in lines)[len(lines) // 2]
    thr = 0.35 * lh
    # rows from "full" lines; sparse lines join the row they overlap most (ties: the upper one)
    groups: list[list[int]] = []
    boxes: list[list[float]] = []
    for li, ln in enumerate(lines):
        if occupied[li] < full_min:
            continue
        if groups and ln.top - boxes[-1][1] <= thr:
            groups[-1].append(li)
            boxes[-1][1] = max(boxes[-1][1], ln.bottom)
        else:
            groups.append([li])
            boxes.append([ln.top, ln.bottom])
    loose: list[list[int]] = []
    for li, ln in enumerate(lines):
        if occupied[li] >= full_min:
            continue
        best, best_ov = -1, -1e9
        for r, (t, b) in enumerate(boxes):
            ov = min(b, ln.bottom) - max(t, ln.top)
            if ov > best_ov + 0.5:
                best, best_ov = r, ov
        if best >= 0 and best_ov >= -thr:
            groups[best].append(li)
        elif loose and ln.top - lines[loose[-1][-1]].bottom <= thr:
            loose[-1].append(li)
        else:
            loose.append([li])
    groups = sorted(groups + loose, key=lambda g: min(lines[li].top for li in g))
    # a colspan header and its sub-headers below it are separate rows, however close
    split: list[list[int]] = []
    for g in groups:
        g = sorted(g, key=lambda li: lines[li].top)
        while True:
            cut = None
            for li in g:
                for cs, _t in placed[li]:
                    if len(cs) < 2:
                        continue
                    below = [
                        lj
                        for lj in g
                        if lines[lj].top >= lines[li].bottom - 0.5
                        and any(set(cs2) & set(cs) for cs2, _t2 in placed[lj])
                    ]
                    if below:
                        cut = lines[li].bottom - 0.5
                        break
                if cut is not None:
                    break
            if cut is None:
                break
            upper = [li for li in g if lines[li].top < cut]
            lower = [li for li in g if lines[li].top >= cut]
            if not upper or not lower:
                break
            split.append(upper)
            g = lower
        split.append(g)
    groups = split
    if len(groups) * nc > max_cells:
        raise LimitExceeded(f"max_table_cells: an unruled table of {len(groups)}x{nc} exceeds {max_cells}")
    rows: list[list[Cell]] = []
    cell_cy: dict[tuple[int, int], float] = {}
    row_segs: list[list[tuple[int, float, float]]] = []  # (col, top, bottom) of each row's segments
    for r, g in enumerate(groups):
        parts: dict[int, list[tuple[float, float, str]]] = {}
        copies: dict[int, str] = {}
        rs: list[tuple[int, float, float]] = []
        for li in g:
            ln = lines[li]
            for cs, text in placed[li]:
                parts.setdefault(cs[0], []).append((ln.top, ln.bottom, text))
                rs.append((cs[0], ln.top, ln.bottom))
                for c in cs[1:]:
                    copies[c] = text
        row: list[Cell] = []
        for c in range(nc):
            if c in parts:
                ps = sorted(parts[c])
                row.append(Cell("\n".join(p[2] for p in ps)))
                cell_cy[(r, c)] = (ps[0][0] + max(p[1] for p in ps)) / 2
            elif c in copies:
                row.append(Cell(copies[c], copy=True))
            else:
                row.append(Cell(""))
        rows.append(row)
        row_segs.append(rs)
    ncl = _label_cols(rows)
    # row extents from value columns (labels may float between rows), else from everything
    ext: list[tuple[float, float]] = []
    for rs in row_segs:
        vals = [(t, b) for c, t, b in rs if c >= ncl] or [(t, b) for _c, t, b in rs]
        ext.append((min(t for t, _b in vals), max(b for _t, b in vals)))
    tops = [ext[0][0]] + [(ext[r - 1][1] + ext[r][0]) / 2 for r in range(1, len(ext))]
    bottoms = tops[1:] + [ext[-1][1]]
    _fill_centred_labels(rows, ncl, cell_cy, tops, bottoms, max(thr, 2.0))
    cols = [b[0] for b in bands] + [bands[-1][1]]
    return _Item(lines[0].top, max(ln.bottom for ln in lines), TableBlock(rows, page), cols, False, ncl)


def _fill_centred_labels(
    rows: list[list[Cell]],
    ncl: int,
    cell_cy: dict[tuple[int, int], float],
    tops: list[float],
    bottoms: list[float],
    tol: float,
) -> None:
    """Unruled tables have no drawn spans. A label with empty cells above/below it in a label
    column is the vertically centred text of a merged cell: pick the largest run of rows around it
    whose vertical middle matches the label's; the text goes to the first row, copies below."""
    n = len(rows)
    for c in range(ncl):
        r = 0
        while r < n:
            cell = rows[r][c]
            if not cell.text or cell.copy or (r, c) not in cell_cy:
                r += 1
                continue
            up = 0
            while r - up - 1 >= 0 and not rows[r - up - 1][c].text:
                up += 1
            down = 0
            while r + down + 1 < n and not rows[r + down + 1][c].text:
                down += 1
            cy = cell_cy[(r, c)]
            best = (r, r)
            for s in range(r - up, r + 1):
                for e in range(r, r + down + 1):
                    if e - s > best[1] - best[0] and abs((tops[s] + bottoms[e]) / 2 - cy) <= tol:
                        best = (s, e)
            if best != (r, r):
                text = cell.text
                for k in range(best[0], best[1] + 1):
                    rows[k][c] = Cell(text, copy=k != best[0])
                r = best[1] + 1
            else:
                r += 1


def _paragraphs(lines: list[_Line], page: int, left: float, right: float) -> list[_Item]:
    """Merge running-text lines into paragraphs: a line that reaches the right edge continues into
    the next line unless that one is indented (Chinese paragraphs start with a 2-char indent)."""
    items: list[_Item] = []
    cur: list[_Line] = []

    def flush() -> None:
        if cur:
            text = ""
            for ln in cur:
                t = _text(ln.chars, ln.h)
                if text and text[-1].isascii() and text[-1].isalnum() and t[:1].isascii() and t[:1].isalpha():
                    text += " "
                text += t
            items.append(_Item(cur[0].top, cur[-1].bottom, TextBlock(text, page)))
            cur.clear()

    for ln in lines:
        if cur:
            prev = cur[-1]
            cont = (
                prev.x1 >= right - 2.0 * prev.h
                and ln.top - prev.bottom <= 1.0 * ln.h
                and ln.x0 <= left + 0.8 * ln.h
                and abs(ln.h - prev.h) <= 0.2 * ln.h
            )
            if not cont:
                flush()
        cur.append(ln)
    flush()
    return items


def _read_page(
    page: pdfium.PdfPage, pno: int, limits: Limits, plumber: _Plumber, content: ContentText
) -> tuple[list[_Item], int]:
    height = page.get_height()
    textpage = page.get_textpage()
    try:
        chars = _page_chars(textpage, height)
        hs, vs, lost, ntext = _page_objects(page, textpage, height)
    finally:
        textpage.close()
    if lost:
        fast = _recover_lost_fast(content, pno - 1, lost, ntext, height)
        if fast is not None:
            chars.extend(fast)
        elif (pp := plumber.page(pno - 1)) is not None:
            try:
                chars.extend(_recover_lost(pp, lost, height))
            except Exception:  # pdfminer parses lazily and may choke on a page pdfium could read
                pass
    if not chars:
        return [], 0
    items: list[_Item] = []
    grids = _ruled_grids(hs, vs, limits.max_table_cells) if hs and vs else []
    rest = chars
    for g in grids:
        x0, y0, x1, y1 = g.bbox
        inside, outside = [], []
        for ch in rest:
            cx, cy = (ch[0] + ch[2]) / 2, (ch[1] + ch[3]) / 2
            (inside if x0 <= cx <= x1 and y0 <= cy <= y1 else outside).append(ch)
        rest = outside
        items.append(_grid_table(g, inside, pno))
    lines = _group_lines(rest)
    # page furniture: bare page numbers in the top/bottom margin
    lines = [
        ln
        for ln in lines
        if not ((ln.top < height * 0.1 or ln.bottom > height * 0.9) and _PAGE_NO.match(_text(ln.chars, ln.h)))
    ]
    for ln in lines:
        _split_segments(ln)
    barriers = [g.ys[0] for g in grids]
    regions = _table_regions(lines, barriers)
    left = min((ln.x0 for ln in lines), default=0.0)
    right = max((ln.x1 for ln in lines), default=0.0)
    pos = 0
    for i, j in regions:
        items.extend(_paragraphs(lines[pos:i], pno, left, right))
        items.append(_unruled_table(lines[i:j], pno, limits.max_table_cells))
        pos = j
    items.extend(_paragraphs(lines[pos:], pno, left, right))
    items.sort(key=lambda it: it.top)
    return items, len(chars)


# ---------------------------------------------------------------------------------------------
# cross-page joins


def _same_columns(a: _Item, b: _Item) -> bool:
    if a.cols is None or b.cols is None or len(a.cols) != len(b.cols) or a.ruled != b.ruled:
        return False
    tol = 3.0 if a.ruled else 12.0
    if a.ruled:
        return all(abs(x - y) <= tol for x, y in zip(a.cols, b.cols, strict=True))
    # unruled bands depend on the text they hold (labels most); compare the value side loosely
    half = len(a.cols) // 2
    return all(abs(x - y) <= tol for x, y in zip(a.cols[half:-1], b.cols[half:-1], strict=True))


def _join(a: _Item, b: _Item) -> None:
    ta, tb = a.block, b.block
    assert isinstance(ta, TableBlock) and isinstance(tb, TableBlock)
    rows_b = tb.rows

    def key(row: list[Cell]) -> tuple[str, ...]:
        return tuple(c.text for c in row)

    k = 0  # repeated header rows
    while k < min(len(ta.rows), len(rows_b) - 1) and key(ta.rows[k]) == key(rows_b[k]):
        k += 1
    rows_b = rows_b[k:]
    # a rowspan cut by the page break leaves the continuation's label cells empty
    if ta.rows and rows_b:
        last = ta.rows[-1]
        for c in range(min(a.label_cols, len(last), len(rows_b[0]))):
            if last[c].text and not rows_b[0][c].text:
                r = 0
                while r < len(rows_b) and not rows_b[r][c].text:
                    rows_b[r][c] = Cell(last[c].text, copy=True)
                    r += 1
    ta.rows.extend(rows_b)
    a.bottom = b.bottom


def _assemble(pages: list[list[_Item]]) -> list[TextBlock | TableBlock]:
    blocks: list[TextBlock | TableBlock] = []
    carry: _Item | None = None  # table that ended the previous page
    for items in pages:
        if (
            carry is not None
            and items
            and isinstance(items[0].block, TableBlock)
            and _same_columns(carry, items[0])
        ):
            _join(carry, items[0])
            items = items[1:]
            if not items:
                continue  # the joined table also ends this page
        for it in items:
            blocks.append(it.block)
        carry = items[-1] if items and isinstance(items[-1].block, TableBlock) else None
    return blocks


# ---------------------------------------------------------------------------------------------
# entry point


class _Plumber:
    """Lazily opened pdfplumber document: only pages with text pdfium cannot decode pay for it."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.doc = None
        self.failed = False

    def page(self, index: int):  # -> pdfplumber.page.Page | None
        if self.doc is None and not self.failed:
            try:
                import io

                import pdfplumber

                self.doc = pdfplumber.open(io.BytesIO(self.data))
            except Exception:  # fallback only; pdfium's result stands
                self.failed = True
        if self.doc is None:
            return None
        try:  # pdfminer parses pages lazily: a malformed page tree fails here, not at open
            return self.doc.pages[index] if index < len(self.doc.pages) else None
        except Exception:
            return None

    def close(self) -> None:
        if self.doc is not None:
            try:
                self.doc.close()
            except Exception:  # a malformed PDF (bad MediaBox) can fail again on close: nothing to keep
                pass


def _open(data: bytes) -> pdfium.PdfDocument:
    if b"%PDF-" not in data[:1024]:
        raise ReaderError("not a PDF (no %PDF- header)")
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        code = getattr(e, "err_code", None)
        if code == pdfium_c.FPDF_ERR_PASSWORD:
            raise ReaderError("encrypted PDF (password required)") from e
        if code == pdfium_c.FPDF_ERR_SECURITY:
            raise ReaderError("encrypted PDF (unsupported security handler)") from e
        raise ReaderError(f"corrupt PDF ({e})") from e


_DEFAULT_LIMITS = Limits()


def read_pdf(data: bytes, *, limits: Limits = _DEFAULT_LIMITS) -> ReadResult:
    """Read a PDF's text layer into paragraphs and tables, in reading order."""
    if len(data) > limits.max_bytes:
        raise LimitExceeded(f"max_bytes: document is {len(data)} bytes, limit {limits.max_bytes}")
    t0 = time.monotonic()
    plumber = _Plumber(data)
    content = ContentText(data)
    with _PDFIUM_LOCK:
        pdf = _open(data)
        try:
            npages = len(pdf)
            if npages > limits.max_pdf_pages:
                raise LimitExceeded(
                    f"max_pdf_pages: document has {npages} pages, limit {limits.max_pdf_pages}"
                )
            title = None
            try:
                title = (pdf.get_metadata_dict().get("Title") or "").strip() or None
            except Exception:  # broken info dict: the title is optional
                title = None
            pages: list[list[_Item]] = []
            nchars = 0
            for i in range(npages):
                if time.monotonic() - t0 > limits.max_seconds:
                    raise LimitExceeded(
                        f"max_seconds: parse exceeded {limits.max_seconds}s at page {i + 1}/{npages}"
                    )
                try:
                    page = pdf[i]
                except pdfium.PdfiumError as e:
                    raise ReaderError(f"corrupt PDF (page {i + 1} cannot be loaded)") from e
                try:
                    items, n = _read_page(page, i + 1, limits, plumber, content)
                finally:
                    page.close()
                nchars += n
                pages.append(items)
        finally:
            pdf.close()
            plumber.close()
    if nchars == 0:
        raise ReaderError(f"no text layer (scanned image?): {npages} page(s) without extractable text")
    blocks = _assemble(pages)
    cells = sum(len(r) for b in blocks if isinstance(b, TableBlock) for r in b.rows)
    if cells > limits.max_table_cells:
        raise LimitExceeded(f"max_table_cells: {cells} table cells, limit {limits.max_table_cells}")
    return ReadResult(blocks=blocks, fmt="pdf", title=title)
