"""The speed-ups of the extraction path give exactly what the plain forms they replaced gave.

Each fast form (a regex rewritten for a literal start, a cache of a pure function, a pre-check that
skips a scan) is compared with the straightforward form on random and edge-case input.
"""

from __future__ import annotations

import random
import re

import pytest
from selectolax.lexbor import LexborHTMLParser

from extract.readers.base import Cell, LimitExceeded, Limits, TableBlock, TextBlock
from extract.readers.html import _check_depth, read_html
from extract.readers.text import read_text
from transform import metadata
from transform.labels import _NARROW, _WIDE, narrow
from transform.sections import heading_of, to_lines
from transform.tables import _map_header, fill_missing


def _narrow_plain(text: str) -> str:
    return _WIDE.sub(lambda m: _NARROW[m.group()], text)


def test_narrow_equals_a_substitution_per_wide_character() -> None:
    rng = random.Random(7)
    alphabet = "主动公开（）：，；０１９ＡＺａｚ\u3000\u00a0\u2002\u2003 年1-—－\n" + "".join(map(chr, range(0xFF01, 0xFF5F, 7)))
    for _ in range(3000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randrange(40)))
        assert narrow(s) == _narrow_plain(s)
    assert narrow("") == ""
    assert narrow("（一）　２０２３年") == "(一) 2023年"


_AREA_CODE_PLAIN = re.compile(r"(?<!\d)(0\d{2,3})[-－—]\d{7,8}(?!\d)")


def test_area_code_pattern_equals_the_lookbehind_first_form() -> None:
    rng = random.Random(11)
    for _ in range(20000):
        s = "".join(rng.choice("00123-—－9电话：٣") for _ in range(rng.randrange(30)))
        assert metadata._AREA_CODE.findall(s) == _AREA_CODE_PLAIN.findall(s), s
    assert metadata._AREA_CODE.findall("电话0373-1234567，10371-1234567") == ["0373"]


@pytest.mark.parametrize("depth", [1, 30, 47, 48, 49, 60, 399, 400, 401, 450])
def test_depth_check_with_the_short_probe_is_exact(depth: int) -> None:
    doc = LexborHTMLParser("<div>" * depth + "x" + "</div>" * depth)
    real = 1
    while doc.root.css_first(">".join(["*"] * (real + 1))) is not None:
        real += 1
    for max_depth in (10, 47, 48, 49, 100, 400):
        if real > max_depth:
            with pytest.raises(LimitExceeded, match="max_html_depth"):
                _check_depth(doc, max_depth)
        else:
            _check_depth(doc, max_depth)


def test_depth_limit_still_refuses_and_reads() -> None:
    deep = ("<div>" * 60 + "深" + "</div>" * 60).encode()
    with pytest.raises(LimitExceeded, match="max_html_depth"):
        read_html(deep, limits=Limits(max_html_depth=50))
    assert [b.text for b in read_html(deep, limits=Limits(max_html_depth=100)).blocks] == ["深"]


def test_heading_of_is_unchanged_by_the_text_cache() -> None:
    lines = [[Cell("三、收到和处理政府信息公开申请情况")], [Cell("三、本年度办理结果")], [Cell("（一）主动公开情况")],
             [Cell("一、总体情况")], [Cell(""), Cell("二、主动公开政府信息情况", copy=True)],
             [Cell("行政复议"), Cell("0")], [Cell("6、其他需要报告的事项")]]
    assert [heading_of(c) for c in lines] * 2 == [3, None, None, 1, None, None, 6] * 2


def test_short_text_lines_are_split_the_same_when_cached() -> None:
    blocks = [TextBlock("| 规章 | 0 | 0 | 3 |\n| 规章 | 0 | 0 | 3 |\n# 二、主动公开政府信息情况"),
              TextBlock("行政复议 0 0 0 0 0"), TextBlock(""), TableBlock([[Cell("a")], [Cell(" ")], [Cell("b"), Cell("")]])]
    lines = to_lines(blocks)
    assert [[c.text for c in ln] for ln in lines] == [
        ["规章", "0", "0", "3"], ["规章", "0", "0", "3"], ["二、主动公开政府信息情况"],
        ["行政复议", "0", "0", "0", "0", "0"], [""], ["a"], ["b", ""]]
    lines[0].append(Cell("x"))  # a caller's list is its own, not the cache's
    assert [c.text for c in to_lines(blocks)[0]] == ["规章", "0", "0", "3"]


def test_header_mapping_returns_fresh_lists() -> None:
    header = ["本年制发件数", "本年废止件数", "现行有效件数"]
    cols, labels = _map_header(header, "gov2021", "s2_regulatory_documents")
    assert cols == ["issued", "repealed", "in_force"] and labels == header
    cols.append("x")
    assert _map_header(header, "gov2021", "s2_regulatory_documents")[0] == ["issued", "repealed", "in_force"]
    assert _map_header([], "gov2021", "s2_regulatory_documents") == (None, [])
    assert _map_header(["本年制发件数"], "gov2021", "s2_regulatory_documents") == (None, [])


def test_fill_missing_adds_only_lost_cells() -> None:
    from transform.records import CellRecord
    from transform.schema import tables

    tdef = tables("gov2021")["s2_regulatory_documents"]
    full = {k: CellRecord(tdef.key, k[0], k[1], 0, "0", "reported") for k in tdef.cells()}
    out = {tdef.key: dict(full)}
    fill_missing("gov2021", out)
    assert out[tdef.key] == full
    partial = dict(list(full.items())[1:])
    out = {tdef.key: partial}
    fill_missing("gov2021", out)
    first = tdef.cells()[0]
    assert out[tdef.key][first].status == "missing" and len(out[tdef.key]) == len(full)


def test_markdown_pipe_rows_split_once_read_the_same() -> None:
    md = ("| 信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 |\n|---|---|---|---|\n| 规章 | 0 | 0 | 0 |\n"
          "| -- | -- | -- | -- |\n\n| 行政许可 | 3 |\n").encode()
    rows = [[c.text for c in r] for b in read_text(md).blocks if isinstance(b, TableBlock) for r in b.rows]
    assert rows == [["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"], ["规章", "0", "0", "0"],
                    ["--", "--", "--", "--"], ["行政许可", "3"]]


def test_narrative_patterns_without_leading_words_find_the_same_figure_and_sentence() -> None:
    from transform import narrative

    _n = r"(\d+(?:\.\d+)?)"
    plain = {
        "total": re.compile(r"(?:共|累计|全年)?主动公开(?:政府|政务)?信息(?:总数|数量)?(?:共计|共|达)?" + _n + r"条"),
        "apps": re.compile(r"(?:共|全年|本年度?)?(?:受理|收到|接收|接到|新收)[^。；;，,]{0,16}?(?:政府信息公开|依申请公开)?"
                           r"(?:的)?申请(?:共计|共)?" + _n + r"件"),
    }
    fast = {"total": narrative._PROACTIVE_TOTAL[0], "apps": narrative._APPS[0]}
    parts = ["共", "累计", "全年", "本年", "本年度", "主动公开", "政府", "信息", "总数", "共计", "达", "12", "3", "条",
             "受理", "收到", "新收", "依申请公开", "的", "申请", "件", "。", "\n", "，", "我镇"]
    rng = random.Random(5)
    for _ in range(30000):
        s = "".join(rng.choice(parts) for _ in range(rng.randrange(14)))
        for k in plain:
            a, b = plain[k].search(s), fast[k].search(s)
            assert (a is None) == (b is None), (k, s)
            if a and b:
                assert a.group(1) == b.group(1) and a.end() == b.end(), (k, s)
                assert narrative._sentence(s, a.start(), a.end()) == narrative._sentence(s, b.start(), b.end())


def test_tag_scan_with_first_letter_lookahead_finds_the_same_tags() -> None:
    from extract.readers.html import _TAG_SCAN

    names = (rb"div|section|main|article|form|center|nav|header|footer|iframe|object|embed|select|button|"
             rb"textarea|input|svg|math|script|style|noscript|template|title|meta|!--zjeg_rss\.content\.begin")
    plain = re.compile(rb"<(" + names + rb")(?=[\s/>-])")
    rng = random.Random(9)
    pieces = [b"<", b"</", b"div", b"span", b"p", b"td", b" ", b">", b"-", b"/", b"meta", b"title", b"<!--zjeg_rss",
              b".content.begin", b"script", b"x", b"<<", b"section", b"svg"]
    for _ in range(30000):
        s = b"".join(rng.choice(pieces) for _ in range(rng.randrange(12)))
        assert _TAG_SCAN.findall(s) == plain.findall(s), s
