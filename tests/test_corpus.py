"""Real reports from the corpus: the complete Shanghai 2019 HTML report cell by cell, and excerpts.

Shanghai prints blank cells (`&nbsp;`) where zeros are meant, including the 总计 of rows whose
applicant cells are non-zero: those stay null (status blank), and checks read them as 0 only where
every null operand is such a printed blank.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from transform.pipeline import extract_path
from transform.schema import tables

CORPUS = Path(__file__).parent / "fixtures" / "corpus"
_ = None  # a printed blank cell

SHANGHAI_S3 = {
    "new_requests": (821, 35, _, _, 2, 1, 859),
    "carried_over_from_last_year": (18, _, _, _, _, _, 18),
    "result_granted": (258, 12, _, _, 1, 1, _),
    "result_partially_granted": (3, _, _, _, _, _, _),
    "denied_state_secret": (14, _, _, _, _, _, _),
    "denied_prohibited_by_law": (_,) * 7,
    "denied_security_stability": (_,) * 7,
    "denied_third_party_rights": (_,) * 7,
    "denied_internal_affairs": (5, _, _, _, _, _, _),
    "denied_process_information": (3, 1, _, _, _, _, _),
    "denied_enforcement_case_file": (_,) * 7,
    "denied_administrative_inquiry": (10, 2, _, _, _, _, _),
    "unavailable_not_held": (252, 12, _, _, 1, _, _),
    "unavailable_needs_creation": (44, 3, _, _, _, _, _),
    "unavailable_unclear_after_correction": (25, _, _, _, _, _, _),
    "not_processed_petition_complaint": (148, 1, _, _, _, _, _),
    "not_processed_duplicate": (5, 4, _, _, _, _, _),
    "not_processed_publication": (_,) * 7,
    "not_processed_excessive_repeat": (_,) * 7,
    "not_processed_confirm_or_reissue": (_,) * 7,
    "other_processing": (_,) * 7,
    "total_processed": (767, 35, _, _, 2, 1, 805),
    "carried_forward": (72, _, _, _, _, _, 72),
}
SHANGHAI_S2 = {
    ("s2_regulatory_documents", "regulations"): (13, 13, 524),
    ("s2_regulatory_documents", "normative_documents"): (60, 60, 368),
    ("s2_licensing", "administrative_licensing"): (0, 0, 0),
    ("s2_licensing", "other_external_services"): (0, 0, 0),
    ("s2_penalty_coercion", "administrative_penalty"): (0, 0, 0),
    ("s2_penalty_coercion", "administrative_coercion"): (0, 0, 0),
    ("s2_fees", "administrative_fees"): (0, 0),
    ("s2_procurement", "centralized_procurement"): (6, Decimal("25.1")),
}
SHANGHAI_S4 = {"admin_review": (5, _, _, 2, 7), "litigation_direct": (8, _, _, 1, 9),
               "litigation_after_review": (_,) * 5}


def test_shanghai_2019_every_cell() -> None:
    ex = extract_path(CORPUS / "001_shanghai-office_2019.html")
    assert (ex.meta.unit, ex.meta.year, ex.meta.template, ex.meta.fmt) == (
        "上海市人民政府办公厅", 2019, "gov2019", "html")
    got = {(c.table, c.row, c.col): c for c in ex.cells}
    t = tables("gov2019")
    expected: dict[tuple[str, str, str], object] = {}
    for (table, row), vals in SHANGHAI_S2.items():
        for col, v in zip([c.key for c in t[table].cols], vals, strict=True):
            expected[(table, row, col)] = v
    for row, vals in SHANGHAI_S3.items():
        for col, v in zip([c.key for c in t["s3_applications"].cols], vals, strict=True):
            expected[("s3_applications", row, col)] = v
    for row, vals in SHANGHAI_S4.items():
        for col, v in zip([c.key for c in t["s4_review_litigation"].cols], vals, strict=True):
            expected[("s4_review_litigation", row, col)] = v
    assert len(expected) == 198
    assert set(got) == set(expected)
    for key, v in expected.items():
        c = got[key]
        assert c.value == v, (key, c)
        assert c.status == ("blank" if v is None else "reported"), (key, c)
    amount = got[("s2_procurement", "centralized_procurement", "procurement_amount")]
    assert amount.raw == "251000元" and "unit_converted" in amount.flags
    checks = {(c.rule, c.scope): c for c in ex.checks}
    # the worked example of spec §5.1: H1 holds for 自然人 and 总计, H4 for both groups
    assert checks[("H1", "s3_applications:natural_person")].passed is True
    assert (checks[("H1", "s3_applications:total")].expected, checks[("H1", "s3_applications:total")].actual) == (
        877, 877)
    assert checks[("H4", "s4_review_litigation:admin_review")].passed is True
    assert checks[("H4", "s4_review_litigation:litigation_direct")].passed is True
    # a blank 总计 beside non-zero applicant cells is unknown, not 0: H2 not checkable, value stays null
    h2 = checks[("H2", "s3_applications:result_granted")]
    assert h2.passed is None and "not checkable" in h2.detail
    assert checks[("H2", "s3_applications:new_requests")].passed is True  # 821+35+2+1 = 859, blanks as 0
    assert got[("s3_applications", "result_granted", "total")].value is None


def test_corpus_excerpts_values() -> None:
    """Excerpts cut after ~1,000 characters: what is there is right, what is cut is missing."""
    ex = extract_path(CORPUS / "004.txt")  # 文登区住建局 2019, pipes, a negative 本年增/减
    got = {(c.table, c.row, c.col): c.value for c in ex.cells}
    assert ex.meta.template == "gov2019" and ex.meta.year == 2019
    assert [got[("s2_licensing", "administrative_licensing", k)] for k in ("items_last_year", "items_change",
                                                                          "decisions")] == [716, -417, 298]
    assert [got[("s2_penalty_coercion", "administrative_penalty", k)] for k in ("items_last_year", "items_change",
                                                                               "decisions")] == [3, 6, 9]
    assert [got[("s3_applications", "new_requests", c.key)] for c in tables("gov2019")["s3_applications"].cols] == [
        2, 0, 0, 0, 0, 0, 2]
    assert not [c for c in ex.checks if c.rule == "H5" and c.passed is False]  # -417 is a legal change

    ex = extract_path(CORPUS / "014.txt")  # 上湾乡 2019: one cell per paragraph, 采购 152790元
    got = {(c.table, c.row, c.col): c for c in ex.cells}
    amount = got[("s2_procurement", "centralized_procurement", "procurement_amount")]
    assert amount.value == Decimal("15.279") and amount.raw == "152790元"
    assert got[("s2_procurement", "centralized_procurement", "procurement_projects")].value == 6
    assert ex.meta.unit == "上湾乡" and ex.meta.year == 2019

    ex = extract_path(CORPUS / "002.txt")  # 龙岗区 2024, pipes, §三 cut inside row 7
    got = {(c.table, c.row, c.col): c for c in ex.cells}
    s3cols = [c.key for c in tables("gov2021")["s3_applications"].cols]
    assert [got[("s3_applications", "new_requests", c)].value for c in s3cols] == [58, 7, 0, 0, 1, 0, 66]
    assert [got[("s3_applications", "result_partially_granted", c)].value for c in s3cols] == [16, 1, 0, 0, 0, 0, 17]
    assert got[("s2_regulatory_documents", "normative_documents", "in_force")].value == 25
    assert got[("s3_applications", "total_processed", "total")].status == "missing"
    assert ex.meta.year == 2024

    ex = extract_path(CORPUS / "020.txt")  # 中村乡 2020: header split over lines, 采购 1 / 8040
    got = {(c.table, c.row, c.col): c.value for c in ex.cells}
    assert [got[("s2_regulatory_documents", "normative_documents", k)] for k in (
        "newly_made", "newly_published", "total_published")] == [5, 5, 5]
    assert got[("s2_procurement", "centralized_procurement", "procurement_amount")] == 8040
    assert (ex.meta.unit, ex.meta.year) == ("中村乡", 2020)
