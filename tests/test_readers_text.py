"""Text/markdown reader: the five seeds and the corpus dumps, layout by layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from extract.readers import read_document
from extract.readers.base import LimitExceeded, Limits, ReaderError, TableBlock, TextBlock
from extract.readers.text import read_text

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = {p.name[:3]: p for p in (FIXTURES / "seeds").glob("*.txt")}
CORPUS = FIXTURES / "corpus"


def read_seed(n: str):
    return read_text(SEEDS[n].read_bytes())


def read_corpus(n: str):
    return read_text((CORPUS / f"{n}.txt").read_bytes())


def tables(result) -> list[list[list[str]]]:
    return [[[c.text for c in row] for row in b.rows] for b in result.blocks if isinstance(b, TableBlock)]


def texts(result) -> list[str]:
    return [b.text for b in result.blocks if isinstance(b, TextBlock)]


def cells(table: list[list[str]]) -> list[str]:
    return [c for row in table for c in row]


def block_after(result, heading: str):
    for i, b in enumerate(result.blocks):
        if isinstance(b, TextBlock) and b.text == heading:
            return result.blocks[i + 1]
    raise AssertionError(f"no heading {heading!r}")


# --- tab grids (seeds 000, 002, 003, 004) ----------------------------------------------------------

def test_seed000_tab_rows_keep_empty_cells():
    r = read_seed("000")
    assert r.fmt == "text" and r.encoding == "utf-8"
    assert r.title == "卫辉市上乐村镇 2023 年政府信息公开工作年度报告"
    s2, s3, s4 = tables(r)
    assert s2[0] == ["第二十条第（一）项", "", "", ""]
    assert s2[2] == ["规章", "0", "0", "0"]
    assert s2[6] == ["行政许可", "0", "", ""]  # trailing blanks of the colspan'd sub-table are kept
    assert s3[0] == ["(本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和)", "", "申请人情况",
                     "", "", "", "", "", "总计", ""]
    assert s3[3] == ["一、本年新收政府信息公开申请数量", "", "0", "0", "0", "0", "0", "0", "0", ""]
    assert s3[7] == ["", "(三) 不予公开", "1. 属于国家秘密", "0", "0", "0", "0", "0", "0", "0"]
    assert s3[-3] == ["3. 其他", "", "0", "0", "0", "0", "0", "0", "0", ""]  # label at column 0 (spec §6.3)
    assert s4[1][:4] == ["结果 维持", "结果 纠正", "其他 结果", "尚未 审结"]
    assert s4[3] == ["0"] * 15
    assert isinstance(block_after(r, "三、收到和处理政府信息公开申请情况"), TableBlock)
    assert texts(r)[-1].startswith("2023 年，本单位依据")


def test_seed002_markdown_headings_and_blank_line_inside_a_grid():
    r = read_seed("002")
    assert r.title == "城关镇人民政府2022年政府信息公开工作年度报告"
    t = texts(r)
    assert t[0] == "城关镇人民政府2022年政府信息公开工作年度报告"  # '#' stripped
    assert "一、总体情况" in t and "四、政府信息公开行政复议、行政诉讼情况" in t and "六、其他需要报告的事项" in t
    s3 = tables(r)[1]
    # the stray blank line after 4.保护第三方合法权益 does not split the table
    i = next(k for k, row in enumerate(s3) if row[0] == "4.保护第三方合法权益")
    assert s3[i] == ["4.保护第三方合法权益"] + [""] * 8
    assert s3[i + 1] == ["", "", "5.属于三类内部事务信息", "0", "0", "0", "0", "0", "0", "0"]
    assert s3[5] == ["三、本年度办理结果", "(一) 予以公开", "", "", "", "", "", "", ""]  # blank data row


def test_seed003_truncated_table_and_split_label():
    r = read_seed("003")
    assert r.title == "洛浦县恰尔巴格镇人民政府 2023 年政府信息公开工作年度报告"
    s3 = tables(r)[1]
    assert ["", "（三）", "1.属于国家秘密", "0", "0", "0", "0", "0", "0"] in s3
    assert ["不予公开", "2.其他法律行政法规禁止公开", "0", "0", "0", "0", "0", "0", "0"] in s3
    assert s3[-1] == ["0"] * 15  # the §四 value row follows the truncated §三 table
    assert s3[-2][:4] == ["维 持", "纠 正", "结 果", "审 结"]


def test_seed004_gov2019_grid():
    r = read_seed("004")
    assert r.title is None  # the seed has no title line
    s2 = tables(r)[0]
    assert ["政府集中采购", "0", "0", ""] in s2
    assert ["信息内容", "上一年项目数量", "本年增/减", "处理决定数量"] in s2
    s3 = tables(r)[1]
    assert ["(六) 其他处理", "0", "0", "0", "0", "0", "0", "0", "0", ""] in s3
    assert len(tables(r)[2][3]) == 16  # §四 value row with 16 numbers (spec §6.3)


# --- one cell per line (seed 001) ------------------------------------------------------------------

def test_seed001_cells_per_line_become_full_rows():
    r = read_seed("001")
    assert r.title == "苏店镇人民政府2024年政府信息公开工作年度报告"
    s2, s3, s4 = tables(r)
    assert s2[0] == ["第二十条第（一）项"]
    assert s2[1] == ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"]
    assert s2[2] == ["规章", "0", "0", "0"]
    assert s2[6] == ["行政许可", "\u3000\n0"]  # the value spilled onto a line without a tab
    assert s2[9] == ["行政处罚", "0\n\u3000"]
    assert s2[-1] == ["行政事业性收费", "\u3000\n0\xa0"]
    assert s3[1] == ["", "自然人", "法人或其他组织", "总计"]
    assert s3[3] == ["一、本年新收政府信息公开申请数量", "\xa00", "0\xa0", "0\xa0", "0\xa0", "0\xa0", "\xa00", "0\xa0"]
    assert s3[5][:2] == ["三、本年度办理结果", "（一）予以公开"]
    assert s3[7][:3] == ["", "（三）不予公开", "1.属于国家秘密"]
    assert s3[14][:3] == ["", "", "8.属于行政查询事项"]  # ordinal labels are not headings
    assert s3[-1][0] == "四、结转下年度继续办理" and len(s3[-1]) == 8
    assert s4[0] == ["行政复议", "行政诉讼"]
    assert s4[2] == [""] * 5 + ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 2
    assert len(s4[3]) == 15
    t = texts(r)
    assert "1、 总体情况" in t and "5、 存在的主要问题及改进情况" in t and t[-1] == "无"
    assert "（二）具体改进措施" in t  # the [bookmark: _GoBack] artefact is removed


# --- pipe dumps -----------------------------------------------------------------------------------

def test_pipe_rows_terminator_style():
    r = read_corpus("002")
    s2, s3 = tables(r)
    assert s2[0] == ["第二十条第(一)项"]
    assert s2[3] == ["行政规范性文件", "5", "1", "25"]
    assert s3[3] == ["一、本年新收政府信息公开申请数量", "58", "7", "0", "0", "1", "0", "66"]
    # 011: a leading '|' is an empty first cell (the rowspan column)
    s3 = tables(read_corpus("011"))[1]
    assert s3[3] == ["企业", "机构"]
    assert s3[7] == ["", "(二)部分公开(区分处理的,只计这一情形,不计其他情形)", "", "", "", "", "", "", "0"]
    assert s3[9][:3] == ["", "", "2.其他法律行政法规禁止公开"]


def test_pipe_rows_markdown_style_with_empty_cells():
    r = read_corpus("003")
    s2 = tables(r)[0]
    assert s2[0] == ["第二十条  第(一)项", "", "", ""]
    assert s2[1] == ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"]
    md = "# 标题\n\n| 项目 | 数量 | 备注 |\n|---|:---:|---|\n| 规章 | 0 | |\n| 行政许可 | 12 | 无 |\n"
    r = read_text(md.encode())
    assert texts(r) == ["标题"] and r.title == "标题"
    assert tables(r) == [[["项目", "数量", "备注"], ["规章", "0", ""], ["行政许可", "12", "无"]]]


def test_pipe_cell_stream_with_bare_terminators():
    r = read_corpus("006")
    s2, s3 = tables(r)
    assert all(len(row) == 1 for row in s2 + s3)  # row structure is lost: one cell per row
    assert cells(s2)[:9] == ["第二十条第(一)项", "信息内容", "本年制发件数", "本年废止件数", "现行有效件数",
                             "规章", "0", "0", "6"]
    assert "商业\n企业" in cells(s3) and "科研\n机构" in cells(s3)  # multi-line cells closed by '|'
    assert cells(s3)[cells(s3).index("一、本年新收政府信息公开申请数量") + 1:][:7] == ["0"] * 7
    assert "该部分以表格形式报告。表格如下:" in texts(r)


def test_pipe_cell_stream_keeps_empty_cells():
    r = read_corpus("010")
    s2, s3 = tables(r)
    c2 = cells(s2)
    assert c2[:5] == ["第二十条第(一)项", "", "", "", "信息内容"]
    assert c2[c2.index("规章") + 1:][:3] == ["/", "/", "/"]  # '/' is a value for the transform
    c3 = cells(s3)
    i = c3.index("一、本年新收政府信息公开申请数量")
    assert c3[i + 1:i + 8] == [""] * 6 + ["0"]  # six blank applicant cells, then the total
    r16 = read_corpus("016")
    c16 = cells(tables(r16)[0])
    assert c16[:6] == ["第二十条第(一)项", "", "", "", "信息内容", "本年制发件数"]


# --- one cell per paragraph -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["005", "007", "008", "014", "019", "020"])
def test_cell_per_paragraph_runs_are_one_table(name):
    r = read_corpus(name)
    first = tables(r)[0]
    assert all(len(row) == 1 for row in first)
    assert first[0] == ["第二十条第(一)项"] and first[1] == ["信息内容"]
    assert isinstance(block_after(r, "二、主动公开政府信息情况"), TableBlock)


def test_cell_per_paragraph_values_in_order():
    c = cells(tables(read_corpus("007"))[0])
    assert c[:9] == ["第二十条第(一)项", "信息内容", "本年制发件数", "本年废止件数", "现行有效件", "规章",
                     "0", "0", "0"]
    assert c[c.index("行政处罚") + 1] == "30"
    c20 = cells(tables(read_corpus("020"))[0])
    assert c20[:6] == ["第二十条第(一)项", "信息内容", "本年新", "制作数量", "本年新", "公开数量"]
    assert c20[c20.index("规范性文件") + 1:][:3] == ["5", "5", "5"]
    c14 = cells(tables(read_corpus("014"))[0])
    assert c14[-3:] == ["政府集中采购", "6", "152790元"]
    # the section heading between tables is text, not a cell
    r = read_corpus("005")
    assert "三、收到和处理政府信息公开申请情况" in texts(r)
    assert len(tables(r)) == 3


def test_space_separated_numbers_from_pdf_text():
    r = read_corpus("012")
    t = tables(r)
    assert t[0] == [["四、结转下年度继续办理", "0", "0", "0", "0", "0", "0", "0"]]
    assert t[1][-1] == ["0"] * 15
    assert t[1][0] == ["行政复议 行政诉讼"]
    assert "Page 9 - 2020年报_审计局" in texts(r)
    assert "2020 年,在区政府及上级主管部门的大力指导支持和我局" in texts(r)
    r13 = read_corpus("013")
    assert r13.title == "威海市文登区信访局2022年政府信息公开工作年度报告"


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.txt")) + sorted((FIXTURES / "seeds").glob("*.txt")),
                         ids=lambda p: p.name[:3])
def test_every_dump_reads_with_headings_as_text(path):
    r = read_text(path.read_bytes())
    assert r.blocks
    for b in r.blocks:
        if isinstance(b, TableBlock):
            assert b.rows and all(row for row in b.rows)
            for cell in (c for row in b.rows for c in row):
                assert not cell.copy
                assert not any(cell.text.startswith(h) for h in ("一、总体情况", "二、主动公开政府信息情况",
                                                                   "五、存在的主要问题"))
        else:
            assert b.text == b.text.strip() and b.text
            assert not b.text.startswith("#")


def test_narrative_short_lines_stay_text():
    text = "一、总体情况\n\n（一）主动公开情况\n\n全年共公开信息33条。\n\n六、其他需要报告的事项\n\n无\n"
    r = read_text(text.encode())
    assert tables(r) == []
    assert texts(r) == ["一、总体情况", "（一）主动公开情况", "全年共公开信息33条。", "六、其他需要报告的事项", "无"]


def test_mixed_layouts_in_one_file():
    text = ("二、主动公开政府信息情况\n规章\t0\t0\t0\n规范性文件\t1\t\t2\n"
            "三、收到和处理政府信息公开申请情况\n| 项目 | 自然人 | 总计 |\n| --- | --- | --- |\n| 新收 | 3 | 3 |\n"
            "四、政府信息公开行政复议、行政诉讼情况\n行政复议\n\n结果维持\n\n0\n\n0\n\n0\n")
    r = read_text(text.encode())
    assert tables(r) == [
        [["规章", "0", "0", "0"], ["规范性文件", "1", "", "2"]],
        [["项目", "自然人", "总计"], ["新收", "3", "3"]],
        [["行政复议"], ["结果维持"], ["0"], ["0"], ["0"]],
    ]
    assert texts(r) == ["二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
                        "四、政府信息公开行政复议、行政诉讼情况"]


# --- decoding, limits, errors ------------------------------------------------------------------------

def test_gb18030_and_bom_decoding():
    raw = SEEDS["000"].read_bytes().decode("utf-8")
    r = read_text(raw.encode("gb18030"))
    assert r.encoding == "gb18030"
    assert tables(r) == tables(read_seed("000"))
    r = read_text(b"\xef\xbb\xbf" + "一、总体情况\n".encode())
    assert r.encoding == "utf-8" and texts(r) == ["一、总体情况"]


def test_crlf_line_endings():
    r = read_text("规章\t0\t0\r\n行政许可\t\t1\r\n".encode())
    assert tables(r) == [[["规章", "0", "0"], ["行政许可", "", "1"]]]


def test_errors_and_limits():
    with pytest.raises(ReaderError, match="empty"):
        read_text(b"")
    with pytest.raises(LimitExceeded, match="max_bytes"):
        read_text(b"x" * 200, limits=Limits(max_bytes=100))
    with pytest.raises(LimitExceeded, match="max_table_cells"):
        read_text(("a\tb\tc\n" * 100).encode(), limits=Limits(max_table_cells=50))
    with pytest.raises(ReaderError, match="NUL"):
        read_text(b"abc\x00def")


def test_dispatch_routes_text():
    data = SEEDS["001"].read_bytes()
    assert read_document(data).fmt == "text"  # no extension: clean text is text
    assert read_document(data, filename="report.md").fmt == "text"
    assert read_document("# 标题\n正文".encode("gb18030"), content_type="text/plain; charset=gbk").fmt == "text"
