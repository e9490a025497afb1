"""HTML reader: the Shanghai Word-export report, CMS chrome, encodings, spans and limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from extract.readers import html as html_reader
from extract.readers import read_document
from extract.readers.base import Cell, LimitExceeded, Limits, ReaderError, TableBlock, TextBlock
from extract.readers.html import decode_html, read_html

FIXTURES = Path(__file__).parent / "fixtures"
SHANGHAI = FIXTURES / "corpus" / "001_shanghai-office_2019.html"


def tables(result) -> list[TableBlock]:
    return [b for b in result.blocks if isinstance(b, TableBlock)]


def texts(result) -> list[str]:
    return [b.text for b in result.blocks if isinstance(b, TextBlock)]


def row_texts(row: list[Cell]) -> list[str]:
    return [c.text for c in row]


# --- the Shanghai 2019 report (Word export: rowspan/colspan, &nbsp; blanks, <br> in headers) -----------

@pytest.fixture(scope="module")
def shanghai():
    return read_html(SHANGHAI.read_bytes())


def test_shanghai_title_encoding_and_order(shanghai):
    assert shanghai.fmt == "html"
    assert shanghai.encoding == "utf-8"
    assert shanghai.title == "2019年上海市人民政府办公厅政府信息公开工作年度报告"
    kinds = ["T" if isinstance(b, TableBlock) else "p" for b in shanghai.blocks]
    # headings precede their tables, in reading order
    t = texts(shanghai)
    assert t[0] == shanghai.title
    for heading in ("二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
                    "四、政府信息公开行政复议、行政诉讼情况"):
        i = next(k for k, b in enumerate(shanghai.blocks) if isinstance(b, TextBlock) and b.text == heading)
        assert kinds[i + 1] == "T"
    assert t[-1] == "无。"
    assert len(tables(shanghai)) == 3


def test_shanghai_section3_grid(shanghai):
    s3 = tables(shanghai)[1]
    assert len(s3.rows) == 26
    assert all(len(r) == 10 for r in s3.rows)  # 3 label columns + 7 applicant columns, spans expanded
    new = s3.rows[3]
    assert row_texts(new) == ["一、本年新收政府信息公开申请数量"] * 3 + ["821", "35", "", "", "2", "1", "859"]
    assert [c.copy for c in new] == [False, True, True] + [False] * 7
    carried = s3.rows[4]
    assert row_texts(carried)[3:] == ["18", "", "", "", "", "", "18"]
    # header: the 勾稽 note spans 3 columns x 3 rows; 申请人情况 spans 7 columns
    note = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
    assert row_texts(s3.rows[0]) == [note] * 3 + ["申请人情况"] * 7
    assert row_texts(s3.rows[2])[:4] == [note, note, note, "自然人"]
    assert s3.rows[2][3].copy and s3.rows[2][9].copy and s3.rows[2][9].text == "总计"
    assert row_texts(s3.rows[2])[4:9] == ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
    # rowspan=20 on 三、本年度办理结果, rowspan=8 on （三）不予公开
    granted = s3.rows[5]
    assert row_texts(granted)[:4] == ["三、本年度办理结果", "（一）予以公开", "（一）予以公开", "258"]
    assert row_texts(granted)[9] == ""  # 总计 left blank in the source
    secret = s3.rows[7]
    assert secret[0] == Cell("三、本年度办理结果", copy=True)
    assert row_texts(secret)[1:4] == ["（三）不予公开", "1.属于国家秘密", "14"]
    assert s3.rows[8][1] == Cell("（三）不予公开", copy=True)
    total = s3.rows[24]
    assert row_texts(total)[1:] == ["（七）总计", "（七）总计", "767", "35", "", "", "2", "1", "805"]
    assert total[0].copy
    assert row_texts(s3.rows[25])[3:] == ["72", "", "", "", "", "", "72"]
    assert not s3.rows[25][0].copy  # the rowspan ended


def test_shanghai_section2_and_4(shanghai):
    s2, _, s4 = tables(shanghai)
    assert row_texts(s2.rows[1]) == ["信息内容", "本年新\n制作数量", "本年新\n公开数量", "本年新\n公开数量",
                                     "对外公开总数量"]  # <br/> inside a cell is a line break
    assert row_texts(s2.rows[2]) == ["规章", "13", "13", "13", "524"]
    assert [c.copy for c in s2.rows[2]] == [False, False, False, True, False]
    assert row_texts(s2.rows[-1]) == ["政府集中采购", "6", "6", "251000元", "251000元"]
    assert len(s4.rows) == 4 and all(len(r) == 15 for r in s4.rows)
    assert row_texts(s4.rows[3]) == ["5", "", "", "2", "7", "8", "", "", "1", "9", "", "", "", "", ""]
    assert s4.rows[2][0] == Cell("结果维持", copy=True)  # rowspan=2 header


# --- CMS pages: the body container is found, chrome is dropped ---------------------------------------

REPORT_BODY = """
<p style="text-align:center"><strong>某某镇2023年政府信息公开工作年度报告</strong></p>
<p>一、总体情况</p>
<p>　　2023年，我镇认真贯彻落实《中华人民共和国政府信息公开条例》。</p>
<p>三、收到和处理政府信息公开申请情况</p>
<table border="1"><tbody>
<tr><td rowspan="2"><p>一、本年新收政府信息公开申请数量</p></td><td><p>3</p></td><td>&nbsp;</td></tr>
<tr><td><p>1</p></td><td><span>4</span><span>6</span></td></tr>
</tbody></table>
"""

CHROME_TOP = """<div class="header"><ul class="nav"><li><a href="/">首页</a></li><li>政务公开</li></ul></div>
<nav>网站导航 政府信息公开 总体情况</nav><header>站点头部</header>
<div class="crumb">当前位置：首页 &gt; 政府信息公开 &gt; 年报</div>"""
CHROME_BOTTOM = """<div class="side"><h3>相关链接</h3><p>政府信息公开指南</p></div>
<footer>主办单位：某某县人民政府办公室 版权所有 网站标识码1234</footer>
<script>var countPage = 3; document.write("政府信息公开");</script>"""


def page(container: str, *, charset: str = "utf-8", title: str = "首页-某某县人民政府") -> str:
    return (f'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
            f"<title>{title}</title><style>.a{{color:red}}</style></head><body>{CHROME_TOP}"
            f"{container}{CHROME_BOTTOM}</body></html>")


def assert_report_body(result) -> None:
    t = texts(result)
    assert t[0] == "某某镇2023年政府信息公开工作年度报告"
    assert "一、总体情况" in t and "三、收到和处理政府信息公开申请情况" in t
    assert not any("首页" in x or "主办单位" in x or "countPage" in x or "相关链接" in x or "网站导航" in x
                   for x in t)
    (table,) = tables(result)
    assert [row_texts(r) for r in table.rows] == [
        ["一、本年新收政府信息公开申请数量", "3", ""],
        ["一、本年新收政府信息公开申请数量", "1", "46"],  # inline <span>s join without a break
    ]
    assert table.rows[1][0].copy and not table.rows[0][0].copy


@pytest.mark.parametrize("container", [
    '<div class="article"><div class="TRS_Editor">{}</div></div>',
    '<div class="trs_editor_view TRS_UEDITOR trs_paper_default trs_word">{}</div>',
    '<div class="Custom_UnionStyle">{}</div>',
    '<div id="zoom">{}</div>',
    '<div class="bt-content">{}</div>',
    '<form name="_newscontent_fromname"><div id="vsb_content"><div class="v_news_content">{}</div></div></form>',
    '<div class="pages_content">{}</div>',
    '<div class="xl_main articleBox">{}</div>',
    "<article>{}</article>",
    '<table width="1000"><tr><td class="left">栏目</td><td class="content">{}</td></tr></table>',  # no known class
])
def test_cms_containers(container):
    html = page(container.format(REPORT_BODY))
    result = read_html(html.encode("utf-8"))
    assert_report_body(result)
    assert result.title == "某某镇2023年政府信息公开工作年度报告"


def test_trs_editor_without_text_is_not_the_body():
    # Ordos (P01): a TRS_Editor div holding a flash banner sits in the page chrome
    banner = '<div class="TRS_Editor"><embed src="W020190119606990532110.swf"></div>'
    html = page(banner + f'<div class="main_content">{REPORT_BODY}</div>')
    assert_report_body(read_html(html.encode()))


def test_hanweb_zjeg_markers_and_meta_title():
    body = (f'<div class="main"><div class="info">发布时间：2024-01-31</div>'
            f"<!--ZJEG_RSS.content.begin--><meta name=ContentStart>{REPORT_BODY}<meta name=ContentEnd>"
            f"<!--ZJEG_RSS.content.end--><div>【打印本页】【关闭窗口】</div></div>")
    html = page(body).replace("<title>", '<meta name="ArticleTitle" content="某某镇2023年年报"><title>')
    result = read_html(html.encode())
    assert_report_body(result)
    assert result.title == "某某镇2023年年报"
    assert not any("打印本页" in t or "发布时间" in t for t in texts(result))


def test_title_falls_back_to_title_element():
    html = "<html><head><title>某县2022年政府信息公开工作年度报告_某县人民政府</title></head>" \
           "<body><p>一、总体情况</p><p>正文。</p></body></html>"
    assert read_html(html.encode()).title == "某县2022年政府信息公开工作年度报告_某县人民政府"


# --- encodings --------------------------------------------------------------------------------------

def test_gbk_declared_page_decodes_as_gb18030():
    html = page(f'<div class="TRS_Editor">{REPORT_BODY}</div>', charset="gb2312")
    data = html.encode("gb18030")
    result = read_html(data)
    assert result.encoding == "gb18030"
    assert result.warnings == []
    assert_report_body(result)


def test_gb18030_only_characters_survive_a_gb2312_declaration():
    html = '<meta charset="gb2312"><p>一、总体情况</p><p>㙟镇（GB18030 四字节：\U00020000）</p>'
    result = read_html(html.encode("gb18030"))
    assert "㙟镇（GB18030 四字节：\U00020000）" in texts(result)


def test_declared_utf8_but_gbk_bytes():
    html = page(f'<div id="zoom">{REPORT_BODY}</div>', charset="utf-8")
    result = read_html(html.encode("gbk"))
    assert result.encoding == "gb18030"
    assert any("declared charset utf-8 is wrong" in w for w in result.warnings)
    assert_report_body(result)


def test_declared_gbk_but_utf8_bytes():
    html = page(f'<div id="zoom">{REPORT_BODY}</div>', charset="GBK")
    result = read_html(html.encode("utf-8"))
    assert result.encoding == "utf-8"
    assert any("wrong" in w for w in result.warnings)
    assert_report_body(result)


def test_http_charset_wins_over_missing_meta_and_latin1_default_is_corrected():
    body = f"<html><body>{REPORT_BODY}</body></html>"
    r1 = read_html(body.encode("gb18030"), content_type="text/html; charset=GBK")
    assert r1.encoding == "gb18030"
    assert_report_body_tables(r1)
    # requests' ISO-8859-1 default on a UTF-8 page (crawler code seen for hrss.hangzhou.gov.cn)
    r2 = read_html(body.encode("utf-8"), content_type="text/html; charset=ISO-8859-1")
    assert r2.encoding == "utf-8" and r2.warnings
    assert_report_body_tables(r2)


def assert_report_body_tables(result) -> None:
    (table,) = tables(result)
    assert row_texts(table.rows[1]) == ["一、本年新收政府信息公开申请数量", "1", "46"]


def test_no_declaration_utf8_gbk_and_bom():
    body = f"<p>一、总体情况</p>{REPORT_BODY}"
    assert read_html(body.encode("utf-8")).encoding == "utf-8"
    assert read_html(body.encode("gb18030")).encoding == "gb18030"
    r = read_html(b"\xef\xbb\xbf" + body.encode("utf-8"))
    assert r.encoding == "utf-8" and "一、总体情况" in texts(r)
    r16 = read_html(body.encode("utf-16"))  # with BOM
    assert r16.encoding.startswith("utf-16") and "一、总体情况" in texts(r16)


def test_decode_html_declared_utf8_garbage_is_replaced_with_warning():
    text, enc, warnings = decode_html(b'<meta charset="utf-8"><p>\xff\xfe\x80abc</p>')
    assert enc == "utf-8" and "\ufffd" in text and warnings


# --- structure details --------------------------------------------------------------------------------

def test_cell_lines_nested_table_and_br_paragraphs():
    html = """<body><div>第一段<br>第二段<br/>  第三段</div>
    <table>
      <tr><td><p>结果</p><p>维持</p></td><td><p>1</p><p>46</p></td>
          <td>外<table><tr><td>内1</td><td>内2</td></tr><tr><td>内3</td></tr></table>尾</td></tr>
    </table><p>表后文字</p></body>"""
    result = read_html(html.encode())
    assert texts(result)[:3] == ["第一段", "第二段", "第三段"]
    (table,) = tables(result)
    assert row_texts(table.rows[0]) == ["结果\n维持", "1\n46", "外\n内1\n内2\n内3\n尾"]
    assert texts(result)[-1] == "表后文字"
    assert isinstance(result.blocks[-1], TextBlock)


def test_th_thead_caption_and_short_rows():
    html = """<table><caption>表1 申请情况</caption>
      <thead><tr><th>项目</th><th colspan="2">数量</th></tr></thead>
      <tbody><tr><td>甲</td><td>1</td><td>2</td></tr><tr><td>乙</td></tr></tbody></table>"""
    result = read_html(html.encode())
    assert texts(result) == ["表1 申请情况"]
    (table,) = tables(result)
    assert [row_texts(r) for r in table.rows] == [["项目", "数量", "数量"], ["甲", "1", "2"], ["乙"]]


def test_rowspan_past_row_end_fills_with_copies_and_gaps():
    html = """<table><tr><td>a</td><td>b</td><td rowspan="2">c</td></tr><tr><td>d</td></tr></table>"""
    (table,) = tables(read_html(html.encode()))
    assert table.rows[1] == [Cell("d"), Cell(""), Cell("c", copy=True)]


def test_bogus_spans_are_clamped():
    html = """<table>
      <tr><td rowspan="999">x</td><td colspan="5000">y</td></tr>
      <tr><td rowspan="0">z</td></tr>
      <tr><td colspan="abc">w</td></tr></table>"""
    (table,) = tables(read_html(html.encode()))
    assert len(table.rows) == 3  # rowspan clamped to the rows that exist
    assert len(table.rows[0]) == 1001  # colspan clamped to 1000
    assert table.rows[1][:2] == [Cell("x", copy=True), Cell("z")]
    assert table.rows[2][:3] == [Cell("x", copy=True), Cell("z", copy=True), Cell("w")]


# --- limits and bad input -------------------------------------------------------------------------------

def test_empty_and_oversized():
    with pytest.raises(ReaderError, match="empty"):
        read_html(b"")
    with pytest.raises(LimitExceeded, match="max_html_bytes"):
        read_html(b"<p>x</p>" * 100, limits=Limits(max_html_bytes=100))


def test_depth_limit():
    deep = ("<div>" * 450 + "深" + "</div>" * 450).encode()
    with pytest.raises(LimitExceeded, match="max_html_depth"):
        read_html(deep)
    assert texts(read_html(deep, limits=Limits(max_html_depth=1000))) == ["深"]


def test_table_cell_limit_counts_expanded_spans():
    html = '<table><tr><td colspan="1000">a</td></tr>' + "<tr><td>b</td></tr>" * 300 + "</table>"
    with pytest.raises(LimitExceeded, match="max_table_cells"):
        read_html(html.encode(), limits=Limits(max_table_cells=500))
    big = '<table><tr><td rowspan="300" colspan="1000">a</td></tr>' + "<tr><td>b</td></tr>" * 299 + "</table>"
    with pytest.raises(LimitExceeded, match="max_table_cells"):
        read_html(big.encode())  # 300 x 1000 > 200 000 after expansion


def test_dispatch_routes_html():
    data = SHANGHAI.read_bytes()
    assert read_document(data).fmt == "html"
    assert read_document(b"\n  <P>short fragment</P>").fmt == "html"
    jsp = FIXTURES / "portal" / "P04_handan_hdzfxxgk_detail_shell_trs.jsp"
    result = read_document(jsp.read_bytes(), filename=jsp.name)
    assert result.fmt == "html"
    assert result.title == "邯郸市教育局关于印发《全市教育系统安全专项整治三年行动实施方案》的通知"
    # a page whose first bytes are not markup still goes by its extension / content type
    php = FIXTURES / "portal" / "P06_meijiang_yjx_page_phptemplate.html"
    assert read_document(php.read_bytes(), filename=php.name).fmt == "html"
    assert read_document(b"<?php x ?>\n<div>y</div>", content_type="text/html").fmt == "html"


def test_deep_nesting_is_refused_before_the_quadratic_parse(monkeypatch):
    # lexbor's tree build needs seconds for this page: the raw-tag pre-scan must refuse it unparsed
    doc = ("<html><body>" + "<div>" * 25_000 + "x" + "</div>" * 25_000 + "</body></html>").encode()

    def no_parse(*_a: object) -> None:
        raise AssertionError("the page reached the parser")

    monkeypatch.setattr(html_reader, "LexborHTMLParser", no_parse)
    with pytest.raises(LimitExceeded, match="unclosed tags in a row before parsing"):
        read_html(doc)


def test_big_page_with_unclosed_paragraphs_is_not_refused():
    # old pages leave <p>/<li>/<td> open; the raw-tag pre-scan must not count those as nesting
    doc = ("<html><body><div>" + "<p>第一行文字<br><li>条目<td>格" * 4000 + "</div></body></html>").encode()
    assert len(doc) > 48 * 1024
    result = read_html(doc)
    assert "第一行文字" in texts(result)


def test_printed_empty_paragraph_is_an_empty_textblock():
    # a table flattened into one <p> per cell: <p>&nbsp;</p> is a blank cell, an empty <p></p> is nothing
    html = "<body><p>行政许可</p><p>&nbsp;</p><p>0</p><p></p><div>\n</div></body>"
    assert texts(read_html(html.encode())) == ["行政许可", "", "0"]
