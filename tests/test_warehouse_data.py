"""The warehouse demo fixture: a small county with known numbers, built directly as Extraction objects.

卫辉市 (410781): townships 上乐村镇 (A) and 唐庄镇 (B) for 2022-2023, the county's own report (C), and an
unresolvable 城关镇 (D, 2023 only). A's 2023 report was re-published (v2 supersedes v1). B 2023 carries
source errors that must load as printed and show in v_quality: 规章 reported by a township (SR5), a
negative count, a failing printed-total check, and a carried-over figure that disagrees with 2022 (SR1).
D prints an implausibly large review count. Every view test asserts numbers derived by hand from this.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sql.load import LoadItem
from transform.records import CellRecord, CheckRecord, Extraction, NarrativeRecord, ReportMeta

S3_COLS = ["natural_person", "commercial_enterprise", "research_institution", "social_welfare_org",
           "legal_service_org", "other_org", "total"]
S3_ROWS = ["new_requests", "carried_over_from_last_year", "result_granted", "result_partially_granted",
           "denied_state_secret", "denied_prohibited_by_law", "denied_security_stability",
           "denied_third_party_rights", "denied_internal_affairs", "denied_process_information",
           "denied_enforcement_case_file", "denied_administrative_inquiry", "unavailable_not_held",
           "unavailable_needs_creation", "unavailable_unclear_after_correction",
           "not_processed_petition_complaint", "not_processed_duplicate", "not_processed_publication",
           "not_processed_excessive_repeat", "not_processed_confirm_or_reissue", "other_no_correction_overdue",
           "other_fee_unpaid_overdue", "other_other", "total_processed", "carried_forward"]


def s3(**totals: int) -> list[CellRecord]:
    """A gov2021 section 三 table: every applicant is a natural person, so natural_person = total."""
    out = []
    for r in S3_ROWS:
        v = totals.get(r, 0)
        for c in S3_COLS:
            x = v if c in ("natural_person", "total") else 0
            out.append(CellRecord("s3_applications", r, c, x, str(x), "reported", section=3))
    return out


def s4(review: tuple = (0, 0, 0, 0), direct: tuple = (0, 0, 0, 0), after: tuple = (0, 0, 0, 0)) -> list[CellRecord]:
    out = []
    for row, vals in (("admin_review", review), ("litigation_direct", direct), ("litigation_after_review", after)):
        full = [*vals, sum(vals)]
        for c, v in zip(("upheld", "corrected", "other_result", "pending", "total"), full, strict=True):
            out.append(CellRecord("s4_review_litigation", row, c, v, str(v), "reported", section=4))
    return out


def s2(regulations_issued: int = 0, licensing: int = 0, fee: Decimal | None = None) -> list[CellRecord]:
    out = [CellRecord("s2_regulatory_documents", "regulations", "issued", regulations_issued,
                      str(regulations_issued), "reported", section=2),
           CellRecord("s2_regulatory_documents", "normative_documents", "issued", 1, "1", "reported", section=2),
           CellRecord("s2_licensing", "administrative_licensing", "decisions", licensing, str(licensing),
                      "reported", section=2)]
    if fee is not None:
        out.append(CellRecord("s2_fees", "administrative_fees", "fee_amount", fee, str(fee), "reported", section=2))
    return out


def doc(sha: str, unit: str, year: int, cells: list[CellRecord], *, title: str | None = None,
        narrative: list[NarrativeRecord] | None = None, checks: list[CheckRecord] | None = None,
        published: str | None = None, version: str = "test-1") -> LoadItem:
    meta = ReportMeta(source=f"http://demo.gov.cn/{sha}.html", sha256=sha, fmt="html", unit=unit, year=year,
                      template="gov2021", title=title or f"{unit}{year}年政府信息公开工作年度报告",
                      extractor_version=version)
    x = Extraction(meta, cells, narrative or [], checks or [CheckRecord("H1", "s3_applications/total", 0, 0, True)])
    return LoadItem(x, source_url=meta.source, portal_id=None,
                    fetched_at=datetime(year + 1, 4, 1),
                    published_at=datetime.fromisoformat(published) if published else None)


def demo_items() -> list[LoadItem]:
    a22 = s3(new_requests=10, result_granted=5, result_partially_granted=1, denied_state_secret=1,
             unavailable_not_held=2, total_processed=9, carried_forward=1) + s4() + s2()
    a22[4] = CellRecord("s3_applications", "new_requests", "legal_service_org", 0, "0", "layout_suspect",
                        ["realigned"], section=3)
    a23v1 = s3(new_requests=20, result_granted=20, total_processed=20) + s4() + s2()
    a23v2 = (s3(new_requests=12, carried_over_from_last_year=1, result_granted=6, result_partially_granted=2,
                denied_third_party_rights=1, unavailable_needs_creation=1, unavailable_not_held=1,
                not_processed_duplicate=1, total_processed=12, carried_forward=1)
             + s4(review=(1, 1, 0, 1), direct=(1, 0, 0, 0)) + s2(fee=Decimal("0.1234")))
    b22 = s3(new_requests=4, result_granted=4, total_processed=4) + s4() + s2()
    b23 = (s3(new_requests=8, carried_over_from_last_year=2, result_granted=6, total_processed=8,
              carried_forward=2) + s4() + s2(regulations_issued=1, licensing=-3))
    c22 = s3(new_requests=30, result_granted=30, total_processed=30) + s4() + s2()
    c23 = s3(new_requests=25, result_granted=25, total_processed=25) + s4() + s2()
    d23 = s3(new_requests=3, result_granted=3, total_processed=3) + s4(review=(999999, 0, 0, 0)) + s2()
    return [
        doc("a22", "卫辉市上乐村镇", 2022, a22),
        # v2 is loaded before v1 on purpose: the publication date, not the load order, decides
        doc("a23v2", "卫辉市上乐村镇", 2023, a23v2, published="2024-03-01",
            narrative=[NarrativeRecord("proactive_items_total", 149, "条", "共主动公开政府信息 149 条")]),
        doc("a23v1", "卫辉市上乐村镇", 2023, a23v1, published="2024-01-31"),
        doc("b22", "卫辉市唐庄镇", 2022, b22),
        doc("b23", "卫辉市唐庄镇", 2023, b23, checks=[
            CheckRecord("H3", "s3_applications/total", 8, 9, False, "printed total disagrees")]),
        doc("c22", "卫辉市", 2022, c22),
        doc("c23", "卫辉市", 2023, c23),
        doc("d23", "城关镇人民政府", 2023, d23),
    ]


def test_demo_fixture_is_consistent() -> None:
    items = demo_items()
    assert len({i.extraction.meta.sha256 for i in items}) == len(items)
    # H1 holds in the clean reports (A 2023 v2: 12 + 1 = 12 + 1)
    cells = {(c.row, c.col): c.value for c in items[1].extraction.cells}
    assert cells[("new_requests", "total")] + cells[("carried_over_from_last_year", "total")] == \
        cells[("total_processed", "total")] + cells[("carried_forward", "total")]
