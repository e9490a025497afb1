"""Document readers: bytes → ReadResult (blocks in reading order). `read_document` picks the reader.

Format choice: the bytes first (`%PDF-`, a zip holding word/document.xml, the OLE2 header of legacy
.doc/.wps, HTML markup), then the file extension, then the HTTP content type; text that decodes
cleanly is read as plain text; anything else is refused with the reason.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
import zipfile

from .base import (
    Block,
    Cell,
    LimitExceeded,
    Limits,
    ReaderError,
    ReadResult,
    TableBlock,
    TextBlock,
)

__all__ = [
    "read_document",
    "sniff_format",
    "Block",
    "Cell",
    "LimitExceeded",
    "Limits",
    "ReaderError",
    "ReadResult",
    "TableBlock",
    "TextBlock",
]

_DEFAULT_LIMITS = Limits()
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HTML_START = re.compile(
    rb"^\s*<(?:!doctype\s+html|html|head|body|meta|title|link|base|p|div|table|span|font|br|center|h[1-6]|"
    rb"script|style|section|article|ul|ol|strong|b|!--)[\s>/]", re.I)
_EXT = {
    ".html": "html", ".htm": "html", ".shtml": "html", ".xhtml": "html", ".jsp": "html", ".asp": "html",
    ".aspx": "html", ".php": "html",
    ".txt": "text", ".md": "text", ".markdown": "text", ".text": "text",
    ".pdf": "pdf", ".docx": "docx", ".doc": "legacy", ".wps": "legacy",
}
_CT = {
    "text/html": "html", "application/xhtml+xml": "html",
    "text/plain": "text", "text/markdown": "text", "text/x-markdown": "text",
    "application/pdf": "pdf", "application/x-pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/msword": "legacy", "application/vnd.ms-word": "legacy", "application/vnd.ms-works": "legacy",
    "application/kswps": "legacy", "application/wps-office.wps": "legacy", "application/vnd.ms-wps": "legacy",
}
_IMAGES = ((b"\x89PNG", "PNG image"), (b"\xff\xd8\xff", "JPEG image"), (b"GIF8", "GIF image"))


def sniff_format(data: bytes, filename: str | None = None, content_type: str | None = None) -> str | None:
    """'html' | 'text' | 'pdf' | 'docx' | 'legacy' (.doc/.wps), or None when nothing fits."""
    head = data[:4096]
    if b"%PDF-" in data[:1024]:  # the header may follow a little junk (PDF spec: first 1 KiB)
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                return "docx" if "word/document.xml" in zf.namelist() else None  # xlsx, odt, …
        except (zipfile.BadZipFile, ValueError, NotImplementedError, EOFError, OSError):
            pass  # a broken zip: go by the name (the DOCX reader then says what is wrong)
    if head.startswith(_OLE2):
        return "legacy"
    body = head.lstrip(b"\xef\xbb\xbf")
    if _HTML_START.match(body):
        return "html"
    if body.lstrip().startswith(b"<%") and re.search(rb"<(?:html|body|head)\b", head, re.I):
        return "html"  # a saved JSP page: the directive, then the HTML
    if filename:
        ext = os.path.splitext(filename.split("?", 1)[0])[1].lower()
        if ext in _EXT:
            return _EXT[ext]
    if content_type:
        ct = content_type.split(";", 1)[0].strip().lower()
        if ct in _CT:
            return _CT[ct]
    if _looks_like_text(data):
        return "text"
    return None


def _looks_like_text(data: bytes) -> bool:
    sample = data[:65536]
    if b"\x00" in sample:
        return False
    for enc in ("utf-8", "gb18030"):
        try:
            text = sample.decode(enc)
        except UnicodeDecodeError as e:
            if enc == "utf-8" and e.start > len(sample) - 4:  # a character cut by the sample
                text = sample[:e.start].decode(enc)
            else:
                continue
        controls = sum(1 for ch in text if ch < " " and ch not in "\t\r\n\x0c")
        return controls <= len(text) // 100
    return False


def _legacy(data: bytes, limits: Limits) -> ReadResult:
    """Legacy .doc/.wps: convert with LibreOffice (→ DOCX) or antiword (→ text)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    antiword = shutil.which("antiword")
    if not soffice and not antiword:
        raise ReaderError("legacy .doc/.wps needs LibreOffice (soffice) or antiword; none found")
    with tempfile.TemporaryDirectory(prefix="gongkai-doc-") as tmp:
        src = os.path.join(tmp, "input.doc")
        with open(src, "wb") as f:
            f.write(data)
        try:
            if soffice:
                # A private profile dir: concurrent conversions must not share LibreOffice's lock.
                cmd = [soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--norestore",
                       "--convert-to", "docx", "--outdir", tmp, src]
                subprocess.run(cmd, capture_output=True, timeout=limits.max_seconds, check=False)
                out = os.path.join(tmp, "input.docx")
                if not os.path.exists(out):
                    raise ReaderError("LibreOffice could not convert the legacy .doc/.wps file")
                with open(out, "rb") as f:
                    converted = f.read()
                from .docx import read_docx

                result = read_docx(converted, limits=limits)
                result.warnings.append("converted from legacy .doc/.wps with LibreOffice")
                return result
            proc = subprocess.run([antiword, "-m", "UTF-8.txt", src], capture_output=True,  # type: ignore[list-item]
                                  timeout=limits.max_seconds, check=False)
        except subprocess.TimeoutExpired:
            raise LimitExceeded(f"max_seconds: legacy .doc/.wps conversion took longer than {limits.max_seconds}s") \
                from None
        if proc.returncode != 0 or not proc.stdout.strip():
            raise ReaderError(f"antiword could not read the legacy .doc file: {proc.stderr[:200]!r}")
        from .text import read_text

        result = read_text(proc.stdout, limits=limits)
        result.warnings.append("converted from legacy .doc with antiword (tables flattened)")
        return result


def read_document(data: bytes, *, filename: str | None = None, content_type: str | None = None,
                  limits: Limits = _DEFAULT_LIMITS) -> ReadResult:
    """Read any supported document (HTML, text/markdown, PDF, DOCX, legacy .doc/.wps) into blocks."""
    if not data:
        raise ReaderError("empty document (0 bytes)")
    if len(data) > limits.max_bytes:
        raise LimitExceeded(f"max_bytes: document is {len(data)} bytes, limit {limits.max_bytes}")
    fmt = sniff_format(data, filename, content_type)
    if fmt == "html":
        from .html import read_html

        return read_html(data, content_type=content_type, limits=limits)
    if fmt == "text":
        from .text import read_text

        return read_text(data, limits=limits)
    if fmt == "pdf":
        from .pdf import read_pdf  # written separately; imported only when needed

        return read_pdf(data, limits=limits)
    if fmt == "docx":
        from .docx import read_docx

        return read_docx(data, limits=limits)
    if fmt == "legacy":
        return _legacy(data, limits)
    if data.startswith(b"PK\x03\x04"):
        raise ReaderError("unsupported zip-based format (no word/document.xml: not a DOCX)")
    for magic, name in _IMAGES:
        if data.startswith(magic):
            raise ReaderError(f"unsupported format: {name}, not a document")
    raise ReaderError("unrecognised binary format (not HTML, text, PDF, DOCX or .doc/.wps)")
