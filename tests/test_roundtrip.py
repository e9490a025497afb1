"""Generated reports with known truth, rendered in every layout with the spec's label and value noise,
round-tripped through extraction: every cell must come back exactly, as printed, with its status.

Reports whose printed totals are wrong must come out as printed, with the named rule failing.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reportgen import assert_extraction_matches, formats, noises, truths

from extract.demo.render import random_truth, render
from transform.metadata import admin_prefixes
from transform.pipeline import extract_bytes

EXT = {"html_spans": "html", "html_flat": "html", "tab": "txt", "cellline": "txt", "markdown": "md",
       "docx": "docx", "pdf": "pdf"}
FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def roundtrip(truth, noise, fmt: str):
    data = render(truth, fmt, noise=noise)
    ex = extract_bytes(data, source=f"generated.{EXT[fmt]}")
    assert_extraction_matches(truth, ex.records(), noise=noise, fmt=fmt)
    assert ex.meta.template == truth.template
    assert ex.meta.year == truth.year, (ex.meta.year, ex.meta.year_evidence)
    bare = truth.unit[sum(map(len, admin_prefixes(truth.unit))):]  # 洛浦县恰尔巴格镇 → 恰尔巴格镇
    assert ex.meta.unit in {truth.unit, truth.unit_title.removesuffix("人民政府"), bare}, ex.meta.unit
    return ex


@FAST
@given(truths(), noises(), formats(exclude=("pdf", "docx")))
def test_roundtrip_text_and_html(truth, noise, fmt) -> None:
    ex = roundtrip(truth, noise, fmt)
    hard = [c for c in ex.checks if c.rule.startswith("H") and c.passed is False]
    assert not hard, hard  # consistent truths never fail a hard rule


@SLOW
@given(truths(), noises(max_level=0.5), st.sampled_from(["docx", "pdf"]))
def test_roundtrip_docx_and_pdf(truth, noise, fmt) -> None:
    roundtrip(truth, noise, fmt)


@FAST
@given(truths(consistent=False, blank=False), noises(max_level=0.5), formats(exclude=("pdf", "docx")))
def test_wrong_totals_come_out_as_printed(truth, noise, fmt) -> None:
    ex = roundtrip(truth, noise, fmt)
    failed = {c.rule for c in ex.checks if c.passed is False}
    assert set(truth.broken_rules) <= failed, (truth.broken_rules, failed)


def test_every_format_and_template_once() -> None:
    """A deterministic sweep, so a failure here names the format without hypothesis shrinking."""
    for i, fmt in enumerate(EXT):
        for template, year in (("gov2021", 2023), ("gov2019", 2020)):
            truth = random_truth(random.Random(i), unit="卫辉市上乐村镇", unit_title="卫辉市上乐村镇人民政府",
                                 year=year, template=template, zero_share=0.3)
            roundtrip(truth, None, fmt)
