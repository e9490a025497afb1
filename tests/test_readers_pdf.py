"""read_pdf on generated PDFs with known content (tests/pdfgen.py)."""

from __future__ import annotations

import io
import random

import pytest
from pdfgen import FONT, Paragraph, Table, blank_pdf, draw_pdf
from reportlab.pdfgen import canvas

from extract.readers import pdf as pdf_mod
from extract.readers import pdf_content
from extract.readers.base import Cell, LimitExceeded, Limits, ReaderError, TableBlock, TextBlock
from extract.readers.pdf import read_pdf

# ------------------------------------------------------------------------------------------------
# a report-like document (labels of the 2021 template; the reader itself knows nothing about them)

S3_SPANS: dict[tuple[int, int], tuple[int, int]] = {
    (0, 0): (3, 3),
    (0, 3): (1, 7),
    (1, 3): (2, 1),
    (1, 4): (1, 5),
    (1, 9): (2, 1),
    (3, 0): (1, 3),
    (4, 0): (1, 3),
    (5, 0): (22, 1),
    (5, 1): (1, 2),
    (6, 1): (1, 2),
    (7, 1): (8, 1),
    (15, 1): (3, 1),
    (18, 1): (5, 1),
    (23, 1): (3, 1),
    (26, 1): (1, 2),
    (27, 0): (1, 3),
}
S3_LABELS = {
    3: ["一、本年新收政府信息公开申请数量", "", ""],
    4: ["二、上年结转政府信息公开申请数量", "", ""],
    5: ["三、本年度办理结果", "（一）予以公开", ""],
    6: ["", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", ""],
    26: ["", "（七）总计", ""],
    27: ["四、结转下年度继续办理", "", ""],
}
S3_SUB = {
    7: "（三）不予公开",
    15: "（四）无法提供",
    18: "（五）不予处理",
    23: "（六）其他处理",
}
S3_ITEMS = [
    "1.属于国家秘密",
    "2.其他法律行政法规禁止公开",
    "3.危及“三安全一稳定”",
    "4.保护第三方合法权益",
    "5.属于三类内部事务信息",
    "6.属于四类过程性信息",
    "7.属于行政执法案卷",
    "8.属于行政查询事项",
    "1.本机关不掌握相关政府信息",
    "2.没有现成信息需要另行制作",
    "3.补正后申请内容仍不明确",
    "1.信访举报投诉类申请",
    "2.重复申请",
    "3.要求提供公开出版物",
    "4.无正当理由大量反复申请",
    "5.要求行政机关确认或重新出具已获取信息",
    "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    "3.其他",
]


def s3_rows(rng: random.Random) -> list[list[str]]:
    head = [
        [
            "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）",
            "",
            "",
            "申请人情况",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        ["", "", "", "自然人", "法人或其他组织", "", "", "", "", "总计"],
        ["", "", "", "", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", ""],
    ]
    rows = []
    items = iter(S3_ITEMS)
    for r in range(3, 28):
        labels = S3_LABELS.get(r) or ["", S3_SUB.get(r, ""), next(items)]
        rows.append(labels + [str(rng.choice([0, 0, 1, 3, 12, 146])) for _ in range(7)])
    return head + rows


S4_HEAD = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]


def s4_rows(rng: random.Random) -> tuple[list[list[str]], dict[tuple[int, int], tuple[int, int]]]:
    rows = [
        ["行政复议"] + [""] * 4 + ["行政诉讼"] + [""] * 9,
        S4_HEAD + ["未经复议直接起诉"] + [""] * 4 + ["复议后起诉"] + [""] * 4,
        [""] * 5 + S4_HEAD + S4_HEAD,
        [str(rng.randint(0, 9)) for _ in range(15)],
    ]
    spans = {(0, 0): (1, 5), (0, 5): (1, 10), (1, 5): (1, 5), (1, 10): (1, 5)}
    spans.update({(1, c): (2, 1) for c in range(5)})
    return rows, spans


def narrative(rng: random.Random, n: int) -> list[Paragraph]:
    words = "本机关坚持以人民为中心，全面推进政务公开工作，依法依规做好政府信息公开，2023年共发布信息146条。"
    return [Paragraph(words * rng.randint(2, 4)) for _ in range(n)]


def build_report(seed: int = 0, ruled: bool = True) -> tuple[bytes, list[list[str]], list[list[str]]]:
    """A 5-page report: narrative, §二 small tables, §三 split over pages 2-3, §四 with vertical headers."""
    rng = random.Random(seed)
    s3 = s3_rows(rng)
    s4, s4_spans = s4_rows(rng)
    w3 = [34, 50, 135] + [37.0] * 7
    s2 = [
        ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
        ["规章", "0", "0", "2"],
        ["行政规范性文件", "3", "1", "101"],
    ]
    pages = [
        [
            Paragraph("某某镇人民政府2023年政府信息公开工作年度报告", indent=0),
            *narrative(rng, 5),
            Paragraph("二、主动公开政府信息情况", indent=0),
            Table(s2, ruled=ruled),
        ],
        [
            *narrative(rng, 6),
            Paragraph("三、收到和处理政府信息公开申请情况", indent=0),
            Table(s3, spans=S3_SPANS, col_widths=w3, ruled=ruled, repeat_rows=3, size=8),
        ],
        [
            Paragraph("四、政府信息公开行政复议、行政诉讼情况", indent=0),
            Table(s4, spans=s4_spans, col_widths=[20.0] * 15, ruled=ruled),
            *narrative(rng, 8),
        ],
        [Paragraph("五、存在的主要问题及改进情况", indent=0), *narrative(rng, 10)],
    ]
    return draw_pdf(pages, title="年度报告"), s3, s4


def expected(
    rows: list[list[str]], spans: dict[tuple[int, int], tuple[int, int]]
) -> list[list[tuple[str, bool]]]:
    grid: list[list[tuple[str, bool] | None]] = [[None] * len(r) for r in rows]
    for r, row in enumerate(rows):
        for c in range(len(row)):
            if grid[r][c] is not None:
                continue
            rs, cs = spans.get((r, c), (1, 1))
            for rr in range(r, r + rs):
                for cc in range(c, c + cs):
                    grid[rr][cc] = (rows[r][c], (rr, cc) != (r, c))
    return [[g for g in row if g is not None] for row in grid]


def flat(cell: Cell) -> str:
    return cell.text.replace("\n", "").replace(" ", "")


def as_grid(t: TableBlock) -> list[list[tuple[str, bool]]]:
    return [[(flat(c), c.copy) for c in row] for row in t.rows]


def tables(res) -> list[TableBlock]:
    return [b for b in res.blocks if isinstance(b, TableBlock)]


def find_table(res, label: str) -> TableBlock:
    for t in tables(res):
        if any(flat(c) == label for row in t.rows for c in row):
            return t
    raise AssertionError(f"no table with {label!r}")


# ------------------------------------------------------------------------------------------------
# ruled tables


@pytest.fixture(scope="module")
def report():
    data, s3, s4 = build_report(1)
    return data, s3, s4, read_pdf(data)


def test_report_shape(report):
    data, _s3, _s4, res = report
    assert res.fmt == "pdf" and res.title == "年度报告"
    import pypdfium2

    assert len(pypdfium2.PdfDocument(data)) == 5
    texts = [b.text for b in res.blocks if isinstance(b, TextBlock)]
    assert texts[0] == "某某镇人民政府2023年政府信息公开工作年度报告"
    assert "三、收到和处理政府信息公开申请情况" in texts
    assert any("发布信息146条" in t for t in texts)
    assert len(tables(res)) == 3  # §三 continued over two pages is one table


def test_ruled_s3_every_cell_and_cross_page_join(report):
    _data, s3, _s4, res = report
    t = find_table(res, "一、本年新收政府信息公开申请数量")
    want = [[(text.replace(" ", ""), copy) for text, copy in row] for row in expected(s3, S3_SPANS)]
    assert as_grid(t) == want  # repeated header rows of page 3 dropped, rows in order
    assert t.page == 2


def test_ruled_tall_merged_labels_land_on_first_row(report):
    _data, _s3, _s4, res = report
    t = find_table(res, "一、本年新收政府信息公开申请数量")
    col0 = [(flat(r[0]), r[0].copy) for r in t.rows]
    assert col0[5] == ("三、本年度办理结果", False)
    assert all(c == ("三、本年度办理结果", True) for c in col0[6:27])
    col1 = [(flat(r[1]), r[1].copy) for r in t.rows]
    assert col1[7] == ("（三）不予公开", False) and all(c == ("（三）不予公开", True) for c in col1[8:15])


def test_ruled_vertical_headers(report):
    _data, _s3, s4, res = report
    t = find_table(res, "行政复议")
    assert t.rows[1][0].text == "结\n果\n维\n持"  # one char per line, one cell
    assert t.rows[2][0] == Cell("结\n果\n维\n持", copy=True)
    assert [flat(c) for c in t.rows[2][5:10]] == S4_HEAD
    assert [c.text for c in t.rows[3]] == s4[3]


def test_filled_borders_and_wrapped_number():
    rows = [["项目", "数量", "备注"], ["本年新收", "146", "说明"], ["上年结转", "7", ""]]
    for border in ("rect", "filled"):
        res = read_pdf(draw_pdf([[Table(rows, col_widths=[80, 17, 60], border=border)]]))
        (t,) = tables(res)
        assert len(t.rows) == 3 and all(len(r) == 3 for r in t.rows)
        num = t.rows[1][1].text
        assert "\n" in num and num.replace("\n", "") == "146"  # digits broken over lines, one cell
        assert [c.text for c in t.rows[2]] == ["上年结转", "7", ""]


def test_cross_page_join_without_repeated_header_and_no_join_after_text():
    rows = [["名称", "甲", "乙"]] + [[f"第{i}行", str(i), str(i * 2)] for i in range(60)]
    res = read_pdf(draw_pdf([[Table(rows, col_widths=[100, 60, 60])]]))
    (t,) = tables(res)
    assert [[c.text for c in r] for r in t.rows] == rows
    # a paragraph at the top of the next page: two separate tables
    small = [["名称", "值"], ["a", "1"]]
    res = read_pdf(draw_pdf([[Table(small)], [Paragraph("正文"), Table(small)]]))
    assert len(tables(res)) == 2


# ------------------------------------------------------------------------------------------------
# unruled tables


def test_unruled_simple_grid():
    rows = [
        ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
        ["规章", "0", "", "2"],
        ["行政规范性文件", "3", "1", "101"],
        ["合计", "3", "1", "103"],
    ]
    res = read_pdf(
        draw_pdf([[Paragraph("（一）规章", indent=0), Table(rows, ruled=False), Paragraph("以上。")]])
    )
    assert isinstance(res.blocks[0], TextBlock) and isinstance(res.blocks[-1], TextBlock)
    (t,) = tables(res)
    assert [[flat(c) for c in r] for r in t.rows] == rows


def test_unruled_centred_labels_and_wrapped_digits():
    rows = [
        ["类别", "项目", "数量"],
        ["不予公开", "国家秘密", "1"],
        ["", "法律禁止", "2"],
        ["", "三安全", "3"],
        ["", "第三方", "4"],
        ["无法提供", "不掌握", "5"],
        ["", "需另行制作", "6"],
        ["", "不明确", "146"],
        ["总计", "", "167"],
    ]
    spans = {(1, 0): (4, 1), (5, 0): (3, 1), (8, 0): (1, 2)}
    res = read_pdf(draw_pdf([[Table(rows, spans=spans, ruled=False, col_widths=[80, 80, 15], padding=4)]]))
    (t,) = tables(res)
    assert len(t.rows) == 9
    col0 = [(c.text, c.copy) for c in (r[0] for r in t.rows)]
    assert col0[1] == ("不予公开", False) and all(c == ("不予公开", True) for c in col0[2:5])  # even span
    assert col0[5] == ("无法提供", False) and all(c == ("无法提供", True) for c in col0[6:8])  # odd span
    assert [flat(r[1]) for r in t.rows[1:8]] == [r[1] for r in rows[1:8]]
    assert t.rows[7][2].text.replace("\n", "") == "146" and "\n" in t.rows[7][2].text
    assert [flat(r[2]) for r in t.rows] == [r[2] for r in rows]


def test_unruled_vertical_header_and_spanning_header():
    rng = random.Random(3)
    s4, spans = s4_rows(rng)
    res = read_pdf(draw_pdf([[Table(s4, spans=spans, col_widths=[20.0] * 15, ruled=False)]]))
    (t,) = tables(res)
    assert all(len(r) == 15 for r in t.rows)
    assert [c.text for c in t.rows[-1]] == s4[3]
    heads = [flat(c) for r in t.rows[:-1] for c in r if not c.copy and c.text]
    for h in S4_HEAD:
        assert h in heads  # each vertical header is one cell
    assert t.rows[0][0].text == "行政复议" and t.rows[0][1].copy


def test_unruled_report_rows():
    """Without rules the label columns of §三 are ambiguous; every value row must still come back
    whole and in order, across the page break."""
    data, s3, _s4 = build_report(2, ruled=False)
    res = read_pdf(data)
    t = find_table(res, "一、本年新收政府信息公开申请数量")
    values = [[c.text for c in r[-7:]] for r in t.rows if all(c.text.isdigit() for c in r[-7:])]
    assert values == [r[3:] for r in s3[3:]]
    labels = " ".join(flat(c) for r in t.rows for c in r)
    assert "一、本年新收政府信息公开申请数量" in labels and "四、结转下年度继续办理" in labels


# ------------------------------------------------------------------------------------------------
# pdfium quirk fallback, errors and limits


def test_lone_cjk_glyphs_recovered():
    res = read_pdf(_lone_glyphs_pdf())
    text = "\n".join(b.text for b in res.blocks if isinstance(b, TextBlock))
    assert "开头一行文字" in text and all(ch in text for ch in "结果维持")


def _lone_glyphs_pdf() -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont(FONT, 10)
    c.drawString(100, 700, "开头一行文字")
    for i, ch in enumerate("结果维持"):
        c.drawString(100, 680 - 12 * i, ch)  # one text object per glyph
    c.save()
    return buf.getvalue()


def _text_of(res) -> str:
    return "\n".join(b.text for b in res.blocks if isinstance(b, TextBlock))


@pytest.fixture
def plumber_calls(monkeypatch):
    """Pages for which read_pdf asked pdfplumber (the slow fallback)."""
    calls: list[int] = []
    orig = pdf_mod._Plumber.page

    def page(self, index):
        calls.append(index)
        return orig(self, index)

    monkeypatch.setattr(pdf_mod._Plumber, "page", page)
    return calls


def test_lone_cjk_glyphs_recovered_from_content_stream(plumber_calls):
    """The lost glyphs are decoded from the content stream; pdfplumber is not needed."""
    res = read_pdf(_lone_glyphs_pdf())
    text = _text_of(res)
    assert "开头一行文字" in text and all(ch in text for ch in "结果维持")
    assert plumber_calls == []


def test_lone_glyph_boxes_match_pdfium_boxes():
    """A recovered glyph gets the box pdfium gives the same glyph when it does keep it."""
    import pypdfium2

    data = _lone_glyphs_pdf()
    doc = pypdfium2.PdfDocument(data)
    page = doc[0]
    tp = page.get_textpage()
    height = page.get_height()
    kept = pdf_mod._page_chars(tp, height)
    _hs, _vs, lost, ntext = pdf_mod._page_objects(page, tp, height)
    assert len(lost) == 4 and ntext == 5
    got = pdf_mod._recover_lost_fast(pdf_mod.ContentText(data), 0, lost, ntext, height)
    tp.close()
    page.close()
    doc.close()
    assert got is not None and [g[4] for g in got] == list("结果维持")
    first = kept[0]  # 开 of the first line: same font and size
    for x0, top, x1, bottom, _ch in got:
        assert x0 == pytest.approx(100.0)
        assert x1 - x0 == pytest.approx(first[2] - first[0], abs=0.05)
        assert bottom - top == pytest.approx(first[3] - first[1], abs=0.5)
    assert [round(g[1] - got[0][1], 3) for g in got] == [0.0, 12.0, 24.0, 36.0]


def test_lone_glyphs_fall_back_to_pdfplumber(monkeypatch, plumber_calls):
    """When the content stream cannot be matched to pdfium's objects one to one, pdfplumber reads
    the page (same text)."""
    monkeypatch.setattr(pdf_content, "show_ops", lambda data: [])  # no operator: the counts disagree
    text = _text_of(read_pdf(_lone_glyphs_pdf()))
    assert "开头一行文字" in text and all(ch in text for ch in "结果维持")
    assert plumber_calls == [0]


def test_content_stream_recovery_reads_like_pdfplumber(monkeypatch):
    """On a generated report full of dropped glyphs (vertical headers, lone 无), the content-stream
    recovery gives exactly the blocks the pdfplumber fallback gives."""
    from extract.demo.render import Noise, random_truth, render

    truth = random_truth(
        random.Random(7), unit="城关镇", unit_title="城关镇人民政府", year=2022, template="gov2021"
    )
    data = render(truth, "pdf", noise=Noise(seed=7, vertical_headers=True, zero_none_text=0.5))
    recovered: list[int] = []
    fast = pdf_mod._recover_lost_fast

    def counted(*args):
        got = fast(*args)
        recovered.append(-1 if got is None else len(got))
        return got

    monkeypatch.setattr(pdf_mod, "_recover_lost_fast", counted)
    res = read_pdf(data)
    assert recovered and -1 not in recovered and sum(recovered) >= 10
    monkeypatch.setattr(pdf_mod, "_recover_lost_fast", lambda *args: None)
    assert read_pdf(data).blocks == res.blocks


def raw_pdf(content: bytes, *, encoding: bytes = b"UniGB-UCS2-H", form: bytes | None = None) -> bytes:
    """A one-page PDF written by hand: a non-embedded Type0 STSong-Light with a predefined CMap, and
    optionally a form XObject /Fm1 with its own content."""

    def stream(data: bytes, head: bytes = b"") -> bytes:
        return b"<<" + head + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"

    xobj = b" /XObject << /Fm1 6 0 R >>" if form is not None else b""
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >>"
        + xobj
        + b" >> /Contents 4 0 R >>",
        stream(content),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /"
        + encoding
        + b" /DescendantFonts [<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light"
        b" /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 7 0 R"
        b" /DW 1000 >>] >>",
        stream(
            form or b"",
            b" /Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >>",
        ),
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880]"
        b" /ItalicAngle 0 /Ascent 752 /Descent -271 /CapHeight 737 /StemV 58 >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def _gbk(text: str) -> bytes:
    return b"<" + text.encode("gbk").hex().encode() + b">"


def test_lone_glyphs_of_a_gbk_cmap_font(plumber_calls):
    """A non-Unicode predefined CMap (GBK-EUC-H) is decoded through pdfminer's CMap tables; strings
    in q/Q blocks, TJ arrays, nested parentheses and inline images do not shift the count."""
    content = (
        b"q BT /F1 12 Tf 100 700 Td " + _gbk("开头一行文字") + b" Tj ET Q\n"
        b"% a comment with ( and Tj\n"
        b"BI /W 2 /H 1 /BPC 8 /CS /G ID \x28\x54 EI\n"
        b"BT /F1 12 Tf 100 660 Td [" + _gbk("结") + b" 120 ()] TJ 0 -14 Td " + _gbk("果") + b" Tj ET\n"
        b"BT /F1 12 Tf 300 660 Td [" + _gbk("第二") + b" -50 " + _gbk("列") + b"] TJ () Tj [() 5] TJ ET\n"
        b"BT /F1 12 Tf 14 TL 300 500 Td (AB(C)) Tj " + _gbk("第三") + b" ' ET"
    )
    text = _text_of(read_pdf(raw_pdf(content, encoding=b"GBK-EUC-H")))
    assert "开头一行文字" in text and "结" in text and "果" in text and "第二" in text and "第三" in text
    assert plumber_calls == []  # the content stream's operators matched pdfium's objects one to one


def test_lone_glyph_in_form_xobject_uses_pdfplumber(plumber_calls):
    content = b"BT /F1 12 Tf 100 700 Td " + _gbk("开头一行文字") + b" Tj ET /Fm1 Do"
    form = b"BT /F1 12 Tf 100 600 Td " + _gbk("维") + b" Tj ET"
    text = _text_of(read_pdf(raw_pdf(content, encoding=b"GBK-EUC-H", form=form)))
    assert "开头一行文字" in text and "维" in text
    assert plumber_calls == [0]


def test_show_ops_counts_what_pdfium_makes_objects_of():
    ops = pdf_content.show_ops(
        b"/F1 9 Tf (a) Tj () Tj [()] TJ [(b\\) \\(c) 10 (d)] TJ q /F2#20x 8 Tf (e(f)g) ' Q"
        b' 1 2 (h) " <> Tj <41 4> Tj /Tj 1 (\\\n) Tj /P <</ActualText (zz)>> BDC (i)Tj EMC'
    )
    assert ops is not None
    assert [(o.font, o.strings) for o in ops] == [
        ("F1", [b"a"]),
        ("F1", [b"b) (c", b"d"]),  # escaped parentheses; an empty string of a TJ is no segment
        ("F2 x", [b"e(f)g"]),  # nested parentheses; '#20' in a name
        ("F1", [b"h"]),  # Q restores the font
        ("F1", [b"A@"]),  # hex digits with a space, odd count padded with 0
        ("F1", [b"i"]),  # BDC's dictionary string is not shown text
    ]
    assert pdf_content.show_ops(b"(x) Tj") == []  # no font selected: pdfium makes no object
    # an unterminated inline image swallows the rest of the stream (then the ordinal counts disagree)
    assert pdf_content.show_ops(b"/F1 9 Tf BI /W 1 ID \x00\x01 (x) Tj") == []


def test_errors():
    with pytest.raises(ReaderError, match="not a PDF"):
        read_pdf(b"<html>hello</html>")
    with pytest.raises(ReaderError, match="no text layer"):
        read_pdf(blank_pdf(2))
    good = draw_pdf([[Paragraph("正文")]])
    with pytest.raises(ReaderError, match="corrupt"):
        read_pdf(good[:200])
    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt="secret")
    c.setFont(FONT, 10)
    c.drawString(100, 700, "机密")
    c.save()
    with pytest.raises(ReaderError, match="encrypted"):
        read_pdf(buf.getvalue())


def test_limits():
    data = draw_pdf([[Paragraph("第一页")], [Paragraph("第二页")], [Paragraph("第三页")]])
    with pytest.raises(LimitExceeded, match="3 pages"):
        read_pdf(data, limits=Limits(max_pdf_pages=2))
    with pytest.raises(LimitExceeded, match="max_seconds"):
        read_pdf(data, limits=Limits(max_seconds=-1))
    rows = [[str(i), str(i + 1)] for i in range(20)]
    with pytest.raises(LimitExceeded, match="max_table_cells"):
        read_pdf(draw_pdf([[Table(rows)]]), limits=Limits(max_table_cells=10))
    with pytest.raises(LimitExceeded, match="max_bytes"):
        read_pdf(data, limits=Limits(max_bytes=100))
