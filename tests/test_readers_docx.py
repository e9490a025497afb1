"""DOCX reader (python-docx documents built here), zip/XML guards, and read_document dispatch."""

from __future__ import annotations

import io
import sys
import types
import zipfile

import docx
import pytest

from extract.readers import read_document, sniff_format
from extract.readers.base import Cell, LimitExceeded, Limits, ReaderError, ReadResult, TableBlock, TextBlock
from extract.readers.docx import read_docx


def build_report(title: str | None = "某镇2023年政府信息公开工作年度报告") -> bytes:
    d = docx.Document()
    if title:
        d.core_properties.title = title
    d.add_paragraph("")  # empty paragraphs are skipped
    d.add_paragraph("某镇2023年政府信息公开工作年度报告（正文标题）")
    d.add_paragraph("三、收到和处理政府信息公开申请情况")
    t = d.add_table(rows=4, cols=4)
    t.cell(0, 0).text = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
    t.cell(0, 0).merge(t.cell(1, 1))  # 2x2 block: gridSpan + vMerge
    t.cell(0, 2).text = "申请人情况"
    t.cell(0, 2).merge(t.cell(0, 3))  # gridSpan
    t.cell(1, 2).text = "自然人"
    t.cell(1, 3).text = "总计"
    t.cell(2, 0).text = "三、本年度办理结果"
    t.cell(2, 0).merge(t.cell(3, 0))  # vMerge
    t.cell(2, 1).text = "（一）予以公开"
    t.cell(2, 2).text = "258"
    t.cell(2, 3).text = ""  # blank data cell
    c = t.cell(3, 1)
    c.text = "结果"
    c.add_paragraph("维持")  # two paragraphs → "结果\n维持"
    t.cell(3, 2).text = "1"
    inner = t.cell(3, 3).add_table(rows=1, cols=2)  # nested table → flattened into the cell
    inner.cell(0, 0).text = "内1"
    inner.cell(0, 1).text = "内2"
    d.add_paragraph("四、政府信息公开行政复议、行政诉讼情况")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def rows(table: TableBlock) -> list[list[tuple[str, bool]]]:
    return [[(c.text, c.copy) for c in row] for row in table.rows]


def test_docx_blocks_merged_cells_and_order():
    r = read_docx(build_report())
    assert r.fmt == "docx"
    assert r.title == "某镇2023年政府信息公开工作年度报告"
    kinds = [type(b).__name__ for b in r.blocks]
    assert kinds == ["TextBlock", "TextBlock", "TableBlock", "TextBlock"]
    assert r.blocks[1].text == "三、收到和处理政府信息公开申请情况"
    note = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
    assert rows(r.blocks[2]) == [
        [(note, False), (note, True), ("申请人情况", False), ("申请人情况", True)],
        [(note, True), (note, True), ("自然人", False), ("总计", False)],
        [("三、本年度办理结果", False), ("（一）予以公开", False), ("258", False), ("", False)],
        [("三、本年度办理结果", True), ("结果\n维持", False), ("1", False), ("内1\n内2", False)],
    ]


def test_docx_title_falls_back_to_first_paragraph():
    r = read_docx(build_report(title=None))
    assert r.title == "某镇2023年政府信息公开工作年度报告（正文标题）"


def rewrite(data: bytes, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None,
            drop: tuple[str, ...] = ()) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            if info.filename in drop:
                continue
            z.writestr(info.filename, (replace or {}).get(info.filename, src.read(info.filename)))
        for name, content in (add or {}).items():
            z.writestr(name, content)
    return out.getvalue()


def test_doctype_and_entities_are_refused():
    data = build_report()
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml")
    head, rest = xml.split(b"?>", 1)
    bomb = head + b'?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>' + rest
    with pytest.raises(ReaderError, match="DTD"):
        read_docx(rewrite(data, {"word/document.xml": bomb}))
    xxe = head + b'?><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + rest
    with pytest.raises(ReaderError, match="DTD"):
        read_docx(rewrite(data, {"word/styles.xml": xxe}))
    # a UTF-16 part cannot hide its DTD from the byte search
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'.encode("utf-16")
    with pytest.raises(ReaderError, match="DTD"):
        read_docx(rewrite(data, {"word/settings.xml": utf16}))


def test_zip_bomb_and_zip_limits():
    data = build_report()
    bomb = rewrite(data, add={"word/media/zeros.bin": b"\0" * (8 << 20)})  # ~8 MiB → a few KiB
    with pytest.raises(LimitExceeded, match="zip bomb"):
        read_docx(bomb)
    with pytest.raises(LimitExceeded, match="max_unzipped_bytes"):
        read_docx(data, limits=Limits(max_unzipped_bytes=10_000))
    with pytest.raises(LimitExceeded, match="max_zip_entries"):
        read_docx(data, limits=Limits(max_zip_entries=3))
    with pytest.raises(LimitExceeded, match="max_table_cells"):
        read_docx(data, limits=Limits(max_table_cells=10))
    with pytest.raises(LimitExceeded, match="max_bytes"):
        read_docx(data, limits=Limits(max_bytes=1000))


def test_not_a_docx():
    with pytest.raises(ReaderError, match="empty"):
        read_docx(b"")
    with pytest.raises(ReaderError, match="not a valid DOCX"):
        read_docx(b"PK\x03\x04 broken zip")
    no_doc = rewrite(build_report(), drop=("word/document.xml",))
    with pytest.raises(ReaderError, match="no word/document.xml"):
        read_docx(no_doc)


# --- read_document dispatch -----------------------------------------------------------------------------

def test_sniffing_beats_extension_and_content_type():
    d = build_report()
    assert sniff_format(d, "report.pdf", "text/html") == "docx"
    assert read_document(d, filename="x.html").fmt == "docx"
    assert sniff_format(b"%PDF-1.7\n...", "a.docx") == "pdf"
    assert sniff_format(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100) == "legacy"
    assert sniff_format(b"<!DOCTYPE html><html></html>", "a.txt") == "html"
    assert sniff_format("纯文本".encode(), "a.htm") == "html"  # no markup: the extension decides
    assert sniff_format("纯文本".encode(), None, "text/html; charset=utf-8") == "html"
    assert sniff_format("纯文本".encode()) == "text"


def test_pdf_goes_to_the_pdf_reader(monkeypatch):
    seen: dict = {}

    def fake_read_pdf(data: bytes, *, limits: Limits) -> ReadResult:
        seen["limits"] = limits
        return ReadResult(blocks=[TextBlock("p", page=1)], fmt="pdf")

    monkeypatch.setitem(sys.modules, "extract.readers.pdf", types.SimpleNamespace(read_pdf=fake_read_pdf))
    limits = Limits(max_pdf_pages=3)
    assert read_document(b"%PDF-1.4\n%...", limits=limits).fmt == "pdf"
    assert seen["limits"] is limits


def test_legacy_doc_without_converters(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512
    with pytest.raises(ReaderError, match=r"legacy \.doc/\.wps needs LibreOffice \(soffice\) or antiword"):
        read_document(ole, filename="report.wps")


def test_empty_garbage_and_oversized_inputs():
    with pytest.raises(ReaderError, match="empty"):
        read_document(b"")
    with pytest.raises(LimitExceeded, match="max_bytes"):
        read_document(b"x" * 2000, limits=Limits(max_bytes=1000))
    with pytest.raises(ReaderError, match="unrecognised binary"):
        read_document(bytes(range(256)) * 4)
    with pytest.raises(ReaderError, match="PNG image"):
        read_document(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    xlsx = io.BytesIO()
    with zipfile.ZipFile(xlsx, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(ReaderError, match="not a DOCX"):
        read_document(xlsx.getvalue(), filename="a.xlsx")


def test_cell_equality_contract():
    # transform relies on Cell equality and the copy flag; merged repeats compare by (text, copy)
    assert Cell("a", copy=True) != Cell("a")
