"""Text of the glyphs pdfium drops, read from the page's content stream.

pdfium leaves out of its text page every text object whose box has no width: a single glyph of a
non-embedded predefined-CMap CJK font (STSong-Light with UniGB-UCS2-H, as written by reportlab and
iText) has an empty glyph box when no CJK system font is installed, so one-character lines (stacked
vertical headers, a lone 无 in a cell) vanish. The page object is still there, at the right place;
only its character codes are not exposed by pdfium's API.

This module recovers them cheaply: pdfminer gives the page's content stream and font dictionaries
(no interpretation), qpdf's content-stream parser (pikepdf) lists the text-showing operators in stream
order (each one that shows a non-empty string is one pdfium text object), and pdfminer's font decodes
the strings. The caller matches operators to pdfium's text objects by their ordinal and must check
that both sides counted the same number of objects; any doubt returns None and the caller falls back
to pdfplumber's full interpretation.
"""

from __future__ import annotations

import io
import re
import threading
import warnings
from dataclasses import dataclass

import pikepdf

__all__ = ["ContentText", "ShowOp"]

# qpdf reports a broken stream (an unterminated string, say) as a warning and returns what it parsed:
# the ordinal count check of the caller is what catches a mismatch, so the warning is only noise
warnings.filterwarnings("ignore", message="Unexpected end of stream", category=UserWarning)

_OPERATORS = "Tj TJ ' \" Tf q Q"  # the only operators that change which text objects pdfium makes
_scratch = threading.local()  # a stream must belong to a Pdf; one empty Pdf per thread (qpdf is not shared)


@dataclass(slots=True)
class ShowOp:
    """One text-showing operator that makes a pdfium text object: the font resource name in force
    and its non-empty string operands (bytes, in order)."""

    font: str | None
    strings: list[bytes]


def show_ops(data: bytes) -> list[ShowOp] | None:
    """Text-showing operators of a content stream that show at least one non-empty string, in
    stream order (pdfium makes exactly one text object of each). None if qpdf cannot parse it."""
    pdf = getattr(_scratch, "pdf", None)
    if pdf is None:
        pdf = _scratch.pdf = pikepdf.Pdf.new()
    try:
        instructions = pikepdf.parse_content_stream(pikepdf.Stream(pdf, data), _OPERATORS)
    except pikepdf.PdfError:
        return None
    ops: list[ShowOp] = []
    font: str | None = None
    font_stack: list[str | None] = []
    for ins in instructions:
        op = str(ins.operator)
        operands = ins.operands
        if op == "TJ":
            if font is not None and operands and isinstance(operands[-1], pikepdf.Array):
                segs = [b for b in (_bytes(x) for x in operands[-1]) if b]
                if segs:
                    ops.append(ShowOp(font, segs))
        elif op == "Tf":
            if operands and isinstance(operands[0], pikepdf.Name):
                font = str(operands[0])[1:]
        elif op == "q":
            font_stack.append(font)
        elif op == "Q":
            if font_stack:
                font = font_stack.pop()
        elif font is not None and operands:  # Tj, ' and ": the string is the last operand
            b = _bytes(operands[-1])
            if b:
                ops.append(ShowOp(font, [b]))
    return ops


def _bytes(obj: object) -> bytes:
    return bytes(obj) if isinstance(obj, pikepdf.String) else b""


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
                return "".join(s.decode("utf-16-be") for s in op.strings), names
            out = []
            for s in op.strings:
                for cid in font.decode(s):
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
