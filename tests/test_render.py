"""Tests of the synthetic report generator (extract.demo.render) itself, not of extraction."""

from __future__ import annotations

import html
import io
import json
import random
import re
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reportgen import UNITS, assert_extraction_matches, formats, noises, truths

from extract.demo.render import FORMATS, Noise, ReportTruth, random_truth, render, truth_status

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "transform" / "schema.json").read_text("utf-8"))
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
APPL = ["natural_person", "commercial_enterprise", "research_institution", "social_welfare_org",
        "legal_service_org", "other_org"]


def schema_keys(template: str) -> set[tuple[str, str, str]]:
    return {(t["table"], r["key"], c["key"]) for t in SCHEMA["templates"][template]["tables"]
            for r in t["rows"] for c in t["cols"]}


def failing_rules(t: ReportTruth) -> set[str]:
    """H1-H6 written out from spec §5.1, independently of render.check_rules. Blank reads as 0."""
    def T(row: str, col: str) -> int:
        return t.cells[("s3_applications", row, col)] or 0

    rows = [r["key"] for tb in SCHEMA["templates"][t.template]["tables"] if tb["table"] == "s3_applications"
            for r in tb["rows"]]
    results = [r for r in rows if r not in
               ("new_requests", "carried_over_from_last_year", "total_processed", "carried_forward")]
    assert len(results) == (21 if t.template == "gov2021" else 19)
    bad = set()
    for c in [*APPL, "total"]:
        if T("new_requests", c) + T("carried_over_from_last_year", c) != T("total_processed", c) + T("carried_forward", c):
            bad.add("H1")
        if T("total_processed", c) != sum(T(r, c) for r in results):
            bad.add("H3")
        if T("total_processed", c) > T("new_requests", c) + T("carried_over_from_last_year", c):
            bad.add("H6")
    for r in rows:
        if T(r, "total") != sum(T(r, c) for c in APPL):
            bad.add("H2")
    for g in ("admin_review", "litigation_direct", "litigation_after_review"):
        vals = [t.cells[("s4_review_litigation", g, c)] or 0 for c in ("upheld", "corrected", "other_result", "pending")]
        if (t.cells[("s4_review_litigation", g, "total")] or 0) != sum(vals):
            bad.add("H4")
    for (_tb, _r, col), v in t.cells.items():
        if v is not None and v < 0 and col != "items_change":
            bad.add("H5")
    return bad


def check_types(t: ReportTruth) -> None:
    for (tb, _r, col), v in t.cells.items():
        if v is None:
            continue
        if col in ("fee_amount", "procurement_amount"):
            assert isinstance(v, Decimal) and v >= 0 and -v.as_tuple().exponent <= 4, v
        else:
            assert isinstance(v, int) and not isinstance(v, bool), (tb, col, v)


@FAST
@given(truths())
def test_random_truth_satisfies_hard_rules(t: ReportTruth) -> None:
    assert set(t.cells) == schema_keys(t.template)
    assert len(t.cells) == {"gov2021": 200, "gov2019": 198}[t.template]
    assert failing_rules(t) == set() and t.broken_rules == []
    check_types(t)
    assert t.applications_received == (t.cells[("s3_applications", "new_requests", "total")] or 0)
    assert sum(t.proactive_by_category.values()) == t.proactive_total
    assert (t.template == "gov2019") == (t.year <= 2020)


@FAST
@given(truths(consistent=False))
def test_broken_truth_fails_exactly_the_named_rules(t: ReportTruth) -> None:
    assert t.broken_rules, "a perturbed truth must name the rule it breaks"
    assert failing_rules(t) == set(t.broken_rules)


@pytest.mark.parametrize("rule", ["H1", "H3", "H4"])
def test_break_rule_targets(rule: str) -> None:
    for seed in range(20):
        t = random_truth(random.Random(seed), unit="苏店镇", unit_title="苏店镇人民政府", year=2024,
                         template="gov2021", consistent=False, break_rule=rule)
        assert rule in t.broken_rules and failing_rules(t) == set(t.broken_rules)
        if rule == "H4":
            assert t.broken_rules == ["H4"]


def test_zero_share_extremes() -> None:
    kw = dict(unit="城关镇", unit_title="城关镇人民政府", year=2022, template="gov2021")
    z = random_truth(random.Random(1), zero_share=1.0, **kw)
    assert all(v == 0 for v in z.cells.values())
    big = [random_truth(random.Random(s), zero_share=0.0, **kw) for s in range(30)]
    assert max(v for t in big for v in t.cells.values()) >= 1000  # some reports have big values
    assert any(t.cells[("s2_fees", "administrative_fees", "fee_amount")] != 0 for t in big)
    g19 = [random_truth(random.Random(s), zero_share=0.0, unit="安乐镇", unit_title="安乐镇人民政府",
                        year=2020, template="gov2019") for s in range(30)]
    assert any(t.cells[(tb, r, "items_change")] < 0 for t in g19 for (tb, r, c) in t.cells if c == "items_change")


# ---------------------------------------------------------------------------------------------
# rendering


def decode(data: bytes, fmt: str) -> str:
    """The visible text of a text/HTML rendering, NFKC-normalized, digit-group commas removed."""
    text = data.decode("utf-8") if fmt not in ("html_spans", "html_flat") else _decode_html(data)
    if fmt.startswith("html"):
        text = html.unescape(re.sub(r"<[^>]+>", "\n", text))
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"(?<=\d),(?=\d{3})", "", text)


def _decode_html(data: bytes) -> str:
    m = re.search(rb'charset=([\w-]+)', data[:500])
    return data.decode(m.group(1).decode() if m else "utf-8")


def value_text(v: int | Decimal) -> str:
    return format(v, "f") if isinstance(v, Decimal) else str(v)


def contains_value(text: str, v: int | Decimal) -> bool:
    s = re.escape(value_text(v).lstrip("-"))
    return re.search(rf"(?<![\d.]){s}(?![\d.])", text) is not None


def assert_values_present(t: ReportTruth, noise: Noise, fmt: str, text: str) -> None:
    status = truth_status(t, noise, fmt)
    missing = [(k, v) for k, v in t.cells.items()
               if v is not None and status[k] == "reported" and not contains_value(text, v)]
    assert not missing, f"{fmt} [{noise.describe()}]: values not found: {missing[:10]}"


TEXT_FORMATS = [f for f in FORMATS if f not in ("docx", "pdf")]


@FAST
@given(truths(), noises(), formats(exclude=("docx", "pdf")), st.sampled_from(["utf-8", "gbk"]), st.booleans())
def test_text_formats_render_and_contain_values(t: ReportTruth, noise: Noise, fmt: str, enc: str,
                                                chrome: bool) -> None:
    data = render(t, fmt, noise=noise, encoding=enc, chrome=chrome)
    text = decode(data, fmt)
    assert_values_present(t, noise, fmt, text)
    flat = re.sub(r"\s+", "", text)
    for heading in ("总体情况", "主动公开政府信息情况", "收到和处理政府信息公开申请情况", "行政复议、行政诉讼情况",
                    "存在的主要问题及改进情况", "其他需要报告的事项", "第二十条第(一)项", "第二十条第(八)项", "信息内容"):
        assert heading in flat, heading
    assert f"{t.year}年1月1日至{t.year}年12月31日" in flat  # statistics period
    assert t.unit in flat
    if noise.title_mode != "none":
        assert t.unit_title in flat
    assert f"主动公开政府信息{t.proactive_total}条" in flat
    assert ("依申请公开的申请" in flat and t.applications_received == 0) or \
        f"申请{t.applications_received}件" in flat
    assert ("第二十条第(九)项" in flat) == (t.template == "gov2019")
    if not noise.s4_tails:
        assert "未经复议直接起诉" in flat and "复议后起诉" in flat


def test_html_spans_structure() -> None:
    t = random_truth(random.Random(7), unit="苏店镇", unit_title="苏店镇人民政府", year=2024, template="gov2021")
    doc = render(t, "html_spans", chrome=True).decode("utf-8")
    assert 'class="TRS_Editor"' in doc and "<table border=1" in doc
    for span in ("rowspan=22", "rowspan=8", "rowspan=3", "rowspan=5", "colspan=5", "colspan=10",
                 "colspan=7", "rowspan=3 colspan=3"):
        assert span in doc, span
    assert re.search(r"<td[^>]*><p align=center><span>[^<]*</span></p></td>", doc)
    g19 = random_truth(random.Random(7), unit="安乐镇", unit_title="安乐镇人民政府", year=2020, template="gov2019")
    doc19 = render(g19, "html_spans", encoding="gbk")
    assert b"charset=gbk" in doc19 and b"rowspan=20" in doc19
    doc19.decode("gbk")


def test_blank_cells_print_blank_or_dash() -> None:
    t = random_truth(random.Random(3), unit="苏店镇", unit_title="苏店镇人民政府", year=2024, template="gov2021",
                     zero_share=1.0, blank_share=1.0)
    assert all(v is None for v in t.cells.values())
    assert "&nbsp;" in render(t, "html_spans").decode()
    tab = render(t, "tab").decode()
    assert "行政许可\t\t\t" in tab  # blank value cell then the structural blanks of the colspan
    n = Noise(none_style="dash", dash="—")
    assert set(truth_status(t, n).values()) == {"dash"}
    assert "行政许可\t—\t\t" in render(t, "tab", noise=n).decode()
    # a space-joined flattened row would lose blanks, so that layout prints dashes
    assert set(truth_status(t, Noise(flat_mode="space"), "html_flat").values()) == {"dash"}


def test_cellline_matches_seed_shape() -> None:
    t = random_truth(random.Random(4), unit="苏店镇", unit_title="苏店镇人民政府", year=2024, template="gov2021")
    text = render(t, "cellline", noise=Noise(spill=1.0, padding=1.0, seed=9)).decode()
    assert "\t第二十条第（一）项\n\n\t信息内容\n\t本年制发件数\n" in text
    assert "\t\u3000\n" in text  # value spilled to the next line after a U+3000 cell
    assert "\t三、本年度办理结果\n\t（一）予以公开\n" in text
    assert "\n\t\n\t（二）部分公开" in text  # vMerge continuation of 三、本年度办理结果 is an empty cell


def test_noise_variants_show_up() -> None:
    t = random_truth(random.Random(5), unit="洛浦县恰尔巴格镇", unit_title="洛浦县恰尔巴格镇人民政府", year=2023,
                     template="gov2021", zero_share=0.0)
    n = Noise(seed=1, punct="half", ordinal_space=True, label_spaces=True, typos=True, old_names=True,
              unit_variant=True, split_groups=True, s4_tails=True, fullwidth_digits=1.0, thousands=True,
              title_mode="split")
    text = render(t, "tab", noise=n).decode()
    for s in ("本年度止件数", "2. 其他法律法规禁止公开", "\n规范性文件\t", "处理决定数量", "保留4位小数",
              "(一) 予以公开", "三、本年 度办 理结 果", "\t(三)\t1. 属于国家秘密", "\t不予公开\t2.",
              "维 持\t纠 正", "洛浦县恰尔巴格镇人民政府 2023 年政府信息公开\n\n工作年度报告"):
        assert s in text, s
    assert re.search("[０-９]", text) and "申请人情况" in text
    big = [v for v in t.cells.values() if isinstance(v, int) and v >= 1000]
    if big:
        assert f"{big[0]:,}".translate(str.maketrans("0123456789", "０１２３４５６７８９")) in text
    n19 = Noise(unit_variant=True, plus_sign=True)
    g19 = random_truth(random.Random(8), unit="安乐镇", unit_title="安乐镇人民政府", year=2020, template="gov2019",
                       zero_share=0.0)
    assert "采购总金额(万元)" in render(g19, "tab", noise=n19).decode()
    assert "无" in render(t, "tab", noise=Noise(zero_none_text=1.0)).decode() or 0 not in t.cells.values()


@SLOW
@given(truths(), noises())
def test_docx_opens_with_merged_cells(t: ReportTruth, noise: Noise) -> None:
    import docx

    d = docx.Document(io.BytesIO(render(t, "docx", noise=noise)))
    assert len(d.tables) == 3
    s3 = d.tables[1]
    assert len(s3.columns) == 10 and len(s3.rows) == len({r for (tb, r, _c) in t.cells if tb == "s3_applications"}) \
        + (4 if noise.note_after_header else 3)
    xml = s3._tbl.xml
    assert "w:gridSpan" in xml and "w:vMerge" in xml
    seen, texts = set(), []
    for table in d.tables:
        for row in table.rows:
            for cell in row.cells:
                if cell._tc not in seen:  # merged cells repeat per grid position; lxml elements hash by node
                    seen.add(cell._tc)
                    texts.append(cell.text)
    text = decode(("\n".join(texts + [p.text for p in d.paragraphs])).encode(), "docx")
    assert_values_present(t, noise, "docx", text)


@SLOW
@given(truths(), noises())
def test_pdf_opens_with_3_to_6_pages(t: ReportTruth, noise: Noise) -> None:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(render(t, "pdf", noise=noise))) as pdf:
        assert 3 <= len(pdf.pages) <= 6  # short reports (truncated labels, no title) fit in 3
        cells = [c for page in pdf.pages for table in page.extract_tables() for row in table for c in row if c]
        text = "\n".join(page.extract_text() for page in pdf.pages)
    # a number wrapped inside its narrow cell is one cell's text with newlines
    joined = decode("\n".join(c.replace("\n", "") for c in cells).encode(), "pdf")
    assert_values_present(t, noise, "pdf", joined)
    flat = re.sub(r"\s+", "", text)
    assert "三、收到和处理政府信息公开申请情况" in flat and t.unit in flat


def test_pdf_wraps_long_numbers_in_s3() -> None:
    import pdfplumber

    t = random_truth(random.Random(2), unit="苏店镇", unit_title="苏店镇人民政府", year=2024, template="gov2021")
    t.cells[("s3_applications", "new_requests", "natural_person")] = 12345  # printed value; rules not needed here
    with pdfplumber.open(io.BytesIO(render(t, "pdf"))) as pdf:
        cells = [c for p in pdf.pages for tb in p.extract_tables() for row in tb for c in row if c]
    assert any("\n" in c and c.replace("\n", "") == "12345" for c in cells)


@pytest.mark.parametrize("fmt", FORMATS)
def test_render_is_deterministic(fmt: str) -> None:
    def make(seed: int) -> bytes:
        rng = random.Random(seed)
        unit, title = UNITS[seed]
        t = random_truth(rng, unit=unit, unit_title=title, year=2023, template="gov2021", blank_share=0.3)
        return render(t, fmt, noise=Noise.random(rng, level=0.7))

    for seed in (1, 2):
        assert make(seed) == make(seed)
    assert make(1) != make(2)


def test_unknown_format_and_template() -> None:
    t = random_truth(random.Random(0), unit="苏店镇", unit_title="苏店镇人民政府", year=2024, template="gov2021")
    with pytest.raises(ValueError):
        render(t, "xlsx")
    with pytest.raises(ValueError):
        random_truth(random.Random(0), unit="x", unit_title="x", year=2010, template="pre2019")


def test_assert_helper_reports_every_mismatch() -> None:
    t = random_truth(random.Random(0), unit="苏店镇", unit_title="苏店镇人民政府", year=2024, template="gov2021",
                     zero_share=0.0)
    status = truth_status(t)
    recs = [{"kind": "cell", "table": k[0], "row": k[1], "col": k[2],
             "value": float(v) if isinstance(v, Decimal) else v, "status": status[k], "raw": str(v)}
            for k, v in t.cells.items()]
    assert_extraction_matches(t, recs + [{"kind": "check", "rule": "H1"}], noise=Noise())
    recs[0] = {**recs[0], "value": 999999}
    recs[1] = {**recs[1], "status": "blank"}
    del recs[2]
    recs.append({"kind": "cell", "table": "s3_applications", "row": "bogus", "col": "total", "value": 1,
                 "status": "reported", "raw": "1"})
    with pytest.raises(AssertionError) as e:
        assert_extraction_matches(t, recs)
    msg = str(e.value)
    assert "4 mismatch" in msg and "value" in msg and "status" in msg and "missing" in msg and "extra" in msg
