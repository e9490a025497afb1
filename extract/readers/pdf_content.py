"""Text of the glyphs pdfium drops, read from the page's content stream.

pdfium leaves out of its text page every text object whose box has no width: a single glyph of a
non-embedded predefined-CMap CJK font (STSong-Light with UniGB-UCS2-H, as written by reportlab and
iText) has an empty glyph box when no CJK system font is installed, so one-character lines (stacked
vertical headers, a lone 无 in a cell) vanish. The page object is still there, at the right place;
only its character codes are not exposed by pdfium's API.

This module recovers them cheaply: pdfminer gives the page's content stream and font dictionaries
(no interpretation), a small scanner lists the text-showing operators in stream order (each one
that shows a non-empty string is one pdfium text object), and pdfminer's font decodes the strings.
The caller matches operators to pdfium's text objects by their ordinal and must check that both
sides counted the same number of objects; any doubt returns None and the caller falls back to
pdfplumber's full interpretation.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

__all__ = ["ContentText", "ShowOp"]

_WS = rb"\x00\t\n\x0c\r "
_DELIMS = rb"\x00\t\n\x0c\r ()<>\[\]{}/%"
_DELIM_BYTES = frozenset(b"\x00\t\n\x0c\r ()<>[]{}/%")
# Tokens that matter for counting text objects; everything else (numbers, path and colour
# operators, arrays) is skipped by the regex engine itself. Every alternative starts with a literal
# byte, so the engine skips to candidate bytes quickly; the kind of a token is its first byte.
_TOKEN = re.compile(
    rb"\([^()\\]*+(?:\\.[^()\\]*+)*+\)"  # a literal string without nested parentheses
    rb"|\("  # a literal string with nested parentheses: scanned by hand
    rb"|<<|>>"
    rb"|<[^<>]*>"  # a hex string
    rb"|%[^\r\n]*"  # a comment
    rb"|/[^" + _DELIMS + rb"]*"  # a name
    rb"|(?:Tj|TJ|'|\"|Tf|q|Q|BI|BDC|DP)(?![^" + _DELIMS + rb"])",  # an operator (if after a delimiter)
    re.S,
)
_IMAGE_DATA = re.compile(rb"(?<![^" + _DELIMS + rb"])ID[" + _WS + rb"]")
_IMAGE_END = re.compile(rb"[" + _WS + rb"]EI(?![^" + _DELIMS + rb"])")
_ONLY_CONTINUATIONS = re.compile(rb"(?:\\\r\n|\\[\r\n])*")
_ESCAPE = re.compile(rb"\\(?:([0-7]{1,3})|(\r\n|[\r\n])|(.))", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
_NAME_HEX = re.compile(rb"#([0-9A-Fa-f]{2})")
_HEX_JUNK = re.compile(rb"[^0-9A-Fa-f]")


def _unescape(m: re.Match[bytes]) -> bytes:
    if m.group(1) is not None:
        return bytes([int(m.group(1), 8) & 0xFF])
    if m.group(2) is not None:
        return b""  # a backslash before a line break continues the string
    return _ESCAPES.get(m.group(3), m.group(3))


def literal_bytes(token: bytes) -> bytes:
    """The bytes of a literal string token `(...)` (escapes resolved)."""
    inner = token[1:-1]
    return _ESCAPE.sub(_unescape, inner) if b"\\" in inner else inner


def hex_bytes(token: bytes) -> bytes:
    digits = _HEX_JUNK.sub(b"", token[1:-1])
    if len(digits) % 2:
        digits += b"0"
    return bytes.fromhex(digits.decode("ascii"))


def _string_bytes(token: bytes) -> bytes:
    return hex_bytes(token) if token[:1] == b"<" else literal_bytes(token)


def _non_empty(token: bytes) -> bool:
    if token[:1] == b"<":
        return bool(_HEX_JUNK.sub(b"", token[1:-1]))
    inner = token[1:-1]
    if not inner:
        return False
    return _ONLY_CONTINUATIONS.fullmatch(inner) is None


_PAREN_OR_ESCAPE = re.compile(rb"[()\\]")


def _nested_string_end(data: bytes, pos: int) -> int:
    """End (exclusive) of the literal string starting at data[pos] == '(' with balanced parens
    (the end of the data if it is never closed)."""
    depth = 0
    search = _PAREN_OR_ESCAPE.search
    i = pos
    while (m := search(data, i)) is not None:
        j = m.start()
        b = data[j]
        if b == 0x5C:  # backslash: skip the escaped byte
            i = j + 2
            continue
        if b == 0x28:
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return j + 1
        i = j + 1
    return len(data)


@dataclass(slots=True)
class ShowOp:
    """One text-showing operator that makes a pdfium text object: the font resource name in force
    and its string operands (raw tokens, in order)."""

    font: str | None
    strings: list[bytes]


def show_ops(data: bytes) -> list[ShowOp] | None:
    """Text-showing operators of a content stream that show at least one non-empty string, in
    stream order (pdfium makes exactly one text object of each). None if the stream is not
    understood (unterminated inline image)."""
    ops: list[ShowOp] = []
    pending: list[bytes] = []  # string operands since the last operator we track
    font: str | None = None
    font_stack: list[str | None] = []
    last_name: bytes | None = None
    pos = 0
    while True:
        resume = -1
        for m in _TOKEN.finditer(data, pos):
            tok = m.group()
            first = tok[0]
            if first == 0x28:  # (
                if len(tok) > 1:
                    pending.append(tok)
                else:  # nested parentheses
                    start = m.start()
                    resume = _nested_string_end(data, start)
                    pending.append(data[start:resume])
                    break
            elif first == 0x2F:  # /
                last_name = tok
            elif first == 0x3C:  # <
                if tok != b"<<":
                    pending.append(tok)
            elif first == 0x3E or first == 0x25:  # >> or a comment
                continue
            else:
                start = m.start()
                if start and data[start - 1] not in _DELIM_BYTES:
                    continue  # the tail of another token
                if tok == b"Tj" or tok == b"'" or tok == b'"':
                    if pending and font is not None and _non_empty(pending[-1]):
                        ops.append(ShowOp(font, [pending[-1]]))
                elif tok == b"TJ":
                    if font is not None:
                        segs = [p for p in pending if _non_empty(p)]
                        if segs:
                            ops.append(ShowOp(font, segs))
                elif tok == b"Tf":
                    if last_name is not None:
                        font = _decode_name(last_name)
                elif tok == b"q":
                    font_stack.append(font)
                elif tok == b"Q":
                    if font_stack:
                        font = font_stack.pop()
                elif tok == b"BI":  # inline image: skip its binary data
                    d = _IMAGE_DATA.search(data, m.end())
                    e = _IMAGE_END.search(data, d.end()) if d is not None else None
                    if e is None:
                        return None
                    resume = e.end()
                if pending:
                    pending = []
                last_name = None
                if resume >= 0:
                    break
        if resume < 0:
            return ops
        pos = resume


def _decode_name(token: bytes) -> str:
    raw = token[1:]
    if b"#" in raw:
        raw = _NAME_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
    return raw.decode("latin-1")


class ContentText:
    """Per-document access to page content streams and fonts through pdfminer (no interpretation).
    Opened lazily; every failure reads as "unknown" (None), never as an error of the document."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._pages: list | None = None
        self._failed = False
        self._rsrc = None
        self._decoders: dict[tuple[int, str | None], object] = {}
        self._fonts_seen: list[dict] = []

    def _page(self, index: int):
        if self._pages is None and not self._failed:
            try:
                from pdfminer.pdfdocument import PDFDocument
                from pdfminer.pdfinterp import PDFResourceManager
                from pdfminer.pdfpage import PDFPage
                from pdfminer.pdfparser import PDFParser

                doc = PDFDocument(PDFParser(io.BytesIO(self.data)))
                self._pages = list(PDFPage.create_pages(doc))
                self._rsrc = PDFResourceManager(caching=True)
            except Exception:  # pdfium read it; pdfminer's opinion is optional
                self._failed = True
        if self._pages is None or index >= len(self._pages):
            return None
        return self._pages[index]

    def page_ops(self, index: int) -> tuple[list[ShowOp], dict] | None:
        """The page's text-showing operators and its font resources (name -> font spec)."""
        page = self._page(index)
        if page is None:
            return None
        try:
            from pdfminer.pdftypes import resolve1, stream_value

            streams = [stream_value(s).get_data() for s in page.contents]
            ops = show_ops(b"\n".join(streams))
            res = resolve1(page.resources) or {}
            fonts = resolve1(res.get("Font")) or {}
            if ops is None or not isinstance(fonts, dict):
                return None
            return ops, fonts
        except Exception:  # a stream pdfminer cannot decode: unknown
            return None

    def decode(self, fonts: dict, op: ShowOp) -> tuple[str, frozenset[str]] | None:
        """The text of an operator's strings and its font's BaseFont names (the font's own and,
        for a Type0 font, its descendant's), or None when the font or a code is unknown."""
        key = (id(fonts), op.font)
        dec = self._decoders.get(key)
        if dec is None:
            dec = self._decoder(fonts, op.font)
            self._decoders[key] = dec
            self._fonts_seen.append(fonts)  # keeps id(fonts) unique while it is a cache key
        if dec is False:
            return None
        font, names = dec
        try:
            if font is None:  # a predefined Unicode CMap: the codes are UCS-2 / UTF-16BE themselves
                return "".join(_string_bytes(s).decode("utf-16-be") for s in op.strings), names
            out = []
            for s in op.strings:
                for cid in font.decode(_string_bytes(s)):
                    out.append(font.to_unichr(cid))
            return "".join(out), names
        except Exception:  # unknown code (PDFUnicodeNotDefined) or broken font: let pdfplumber say
            return None

    def _decoder(self, fonts: dict, name: str | None):
        """(pdfminer font or None for UCS-2/UTF-16 codes, BaseFont names), or False if unknown."""
        try:
            from pdfminer.pdftypes import PDFObjRef, resolve1

            ref = fonts.get(name)
            spec = resolve1(ref)
            if not isinstance(spec, dict):
                return False
            names = {_name(spec.get("BaseFont")) or ""}
            if _name(spec.get("Subtype")) == "Type0":
                kids = resolve1(spec.get("DescendantFonts"))
                kid = resolve1(kids[0]) if isinstance(kids, list) and kids else None
                if isinstance(kid, dict):
                    names.add(_name(kid.get("BaseFont")) or "")
                enc = _name(spec.get("Encoding"))
                if "ToUnicode" not in spec and enc is not None and _UNICODE_CMAP.fullmatch(enc):
                    return None, frozenset(names)
            objid = ref.objid if isinstance(ref, PDFObjRef) else None
            return self._rsrc.get_font(objid, spec), frozenset(names)  # type: ignore[union-attr]
        except Exception:  # a broken font dictionary: unknown
            return False


_UNICODE_CMAP = re.compile(r"Uni(?:GB|CNS|JIS|KS)-(?:UCS2|UTF16)-[HV]")


def _name(obj) -> str | None:
    """A PDF name (pdfminer PSLiteral, possibly behind a reference) as str."""
    from pdfminer.pdftypes import resolve1

    obj = resolve1(obj)
    name = getattr(obj, "name", obj)
    if isinstance(name, bytes):
        name = name.decode("latin-1")
    return name if isinstance(name, str) else None
