"""DOCX reader (python-docx): body paragraphs and tables in document order.

Before python-docx sees the file, the zip is checked: entry count, total uncompressed size and the
compression ratio of each entry (zip-bomb guard), and every XML part is refused if it carries a DTD
(`<!DOCTYPE` / `<!ENTITY`: no entity expansion, no external entities). Parts not in UTF-8 are checked
with defusedxml, which reads any declared encoding.

Tables: python-docx returns the same `_tc` element at every grid position a merged cell covers
(gridSpan and vMerge); the first position keeps the text, the repeats become `Cell(text, copy=True)`.
Cell text = its paragraphs joined with "\\n" (empty lines at either end dropped); a nested table is
flattened into its cell, one line per cell.
"""

from __future__ import annotations

import io
import zipfile
import zlib

from .base import Cell, Deadline, LimitExceeded, Limits, ReaderError, ReadResult, TableBlock, TextBlock

__all__ = ["read_docx", "check_docx_zip"]

_DEFAULT_LIMITS = Limits()
_MAX_RATIO = 200  # deflate tops out near 1000:1 on degenerate input; XML rarely exceeds ~30:1
_RATIO_MIN_SIZE = 1 << 20  # only entries inflating to > 1 MiB are ratio-checked


def check_docx_zip(data: bytes, limits: Limits = _DEFAULT_LIMITS) -> None:
    """Raise ReaderError/LimitExceeded unless `data` is a sane DOCX zip without DTDs."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, NotImplementedError, EOFError, OSError) as e:
        raise ReaderError(f"not a valid DOCX (zip) file: {e}") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_zip_entries:
            raise LimitExceeded(f"max_zip_entries: DOCX has {len(infos)} zip entries, limit {limits.max_zip_entries}")
        total = sum(i.file_size for i in infos)
        if total > limits.max_unzipped_bytes:
            raise LimitExceeded(
                f"max_unzipped_bytes: DOCX inflates to {total} bytes, limit {limits.max_unzipped_bytes}")
        for i in infos:
            if i.file_size > _RATIO_MIN_SIZE and i.file_size > _MAX_RATIO * max(i.compress_size, 1):
                raise LimitExceeded(f"zip bomb: DOCX entry {i.filename!r} compresses {i.file_size}:"
                                    f"{i.compress_size}, more than {_MAX_RATIO}:1")
        names = {i.filename for i in infos}
        if "word/document.xml" not in names:
            raise ReaderError("not a DOCX file: the zip has no word/document.xml")
        budget = limits.max_unzipped_bytes
        for i in infos:
            if not i.filename.endswith((".xml", ".rels")):
                continue
            try:
                with zf.open(i) as f:
                    # Read at most the declared size + 1: a lying header cannot make us inflate more.
                    part = f.read(min(i.file_size, budget) + 1)
            except RuntimeError as e:  # zipfile: "File … is encrypted, password required"
                raise ReaderError(f"DOCX zip entry {i.filename!r} is encrypted: {e}") from None
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as e:
                # includes a CRC mismatch when the stream inflates past the size its header claims
                raise ReaderError(f"corrupt DOCX zip entry {i.filename!r}: {e}") from None
            if len(part) > i.file_size:
                raise LimitExceeded(f"zip bomb: DOCX entry {i.filename!r} is larger than its header says")
            budget -= len(part)
            _check_xml(i.filename, part)


def _check_xml(name: str, part: bytes) -> None:
    head = part.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head or head[:1] == b"<":  # UTF-8 / ASCII: a byte search is exact
        if b"<!DOCTYPE" in part or b"<!ENTITY" in part or b"<!doctype" in part or b"<!entity" in part:
            raise ReaderError(f"DOCX part {name!r} declares a DTD (<!DOCTYPE/<!ENTITY): refused")
        return
    # UTF-16 or another encoding: let defusedxml decode it and refuse any DTD.
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        fromstring(part, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise ReaderError(f"DOCX part {name!r} declares a DTD (<!DOCTYPE/<!ENTITY): refused") from None
    except Exception as e:  # malformed XML: python-docx would fail later with a worse message
        raise ReaderError(f"DOCX part {name!r} is not well-formed XML: {e}") from None


def _cell_text(cell: object) -> str:
    """Paragraph texts joined with "\\n"; nested tables flattened in reading order."""
    from docx.table import Table

    lines: list[str] = []
    for item in cell.iter_inner_content():  # type: ignore[attr-defined]
        if isinstance(item, Table):
            seen: dict[int, object] = {}  # id → element: holding the proxy keeps its id() unique
            for row in item.rows:
                for c in row.cells:
                    if id(c._tc) in seen:
                        continue
                    seen[id(c._tc)] = c._tc
                    text = _cell_text(c)
                    if text:
                        lines.append(text)
        else:
            lines.append(item.text)
    # Word keeps an empty paragraph in every cell (and after a nested table): layout, not content.
    return "\n".join(lines).strip("\n")


def read_docx(data: bytes, *, limits: Limits = _DEFAULT_LIMITS) -> ReadResult:
    """Read a .docx into blocks (see the module docstring)."""
    deadline = Deadline(limits, "DOCX")
    if not data:
        raise ReaderError("empty DOCX document")
    if len(data) > limits.max_bytes:
        raise LimitExceeded(f"max_bytes: DOCX is {len(data)} bytes, limit {limits.max_bytes}")
    check_docx_zip(data, limits)

    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as e:  # python-docx raises assorted errors on broken packages
        raise ReaderError(f"DOCX cannot be parsed: {type(e).__name__}: {e}") from None

    blocks: list[TextBlock | TableBlock] = []
    cells_total = 0
    first_text: str | None = None
    for item in document.iter_inner_content():
        deadline.check()
        if isinstance(item, Table):
            rows: list[list[Cell]] = []
            # Merged cells: python-docx repeats the same <w:tc> at each covered grid position. The
            # dict holds every element so lxml keeps one proxy per element and id() stays unique.
            seen: dict[int, str] = {}
            keep: list[object] = []
            for row in item.rows:
                out: list[Cell] = []
                for c in row.cells:
                    tc = c._tc
                    text = seen.get(id(tc))
                    if text is not None:
                        out.append(Cell(text, copy=True))
                    else:
                        keep.append(tc)
                        text = seen[id(tc)] = _cell_text(c)
                        out.append(Cell(text))
                cells_total += len(out)
                deadline.check()
                if cells_total > limits.max_table_cells:
                    raise LimitExceeded(f"max_table_cells: DOCX tables have more than {limits.max_table_cells} cells")
                rows.append(out)
            if rows:
                blocks.append(TableBlock(rows))
        else:
            text = item.text.strip()
            if text:
                blocks.append(TextBlock(text))
                if first_text is None:
                    first_text = text
    title = (document.core_properties.title or "").strip() or first_text
    return ReadResult(blocks=blocks, fmt="docx", title=title)
