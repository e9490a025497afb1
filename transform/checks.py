"""The template's own arithmetic (勾稽关系, spec §5) as check records. A check never changes a value.

Hard rules H1-H6 per report; the soft in-report rules SR4 (gov2019 newly_published <= total_published),
SR5 (a county/township reporting 规章), SR6 (narrative applications = table) and SR7 (narrative
categories sum to the narrative total). `passed` is None where a needed cell is null or missing.
"""

from __future__ import annotations

from decimal import Decimal

from .records import CellRecord, CheckRecord, NarrativeRecord
from .schema import tables
from .tables import APPL

COLS = (*APPL, "total")
S4_GROUPS = ("admin_review", "litigation_direct", "litigation_after_review")
Num = int | Decimal


def _result_rows(template: str, present: set[str]) -> list[str]:
    keys = [r.key for r in tables(template)["s3_applications"].rows]
    start = keys.index("result_granted")
    rows = keys[start: keys.index("total_processed")]
    if template == "gov2021" and "other_processing" in present:
        # a gov2021 report printing (六) as one row (spec §4.2)
        rows = [r for r in rows if not r.startswith("other_")] + ["other_processing"]
    return rows


def _check(rule: str, scope: str, expected: list[Num | None], actual: list[Num | None], *,
           op: str = "==", detail: str = "") -> CheckRecord:
    if any(v is None for v in expected + actual):
        return CheckRecord(rule, scope, None, None, None, detail or "not checkable: a needed cell is null")
    e = sum(expected)  # type: ignore[arg-type]
    a = sum(actual)  # type: ignore[arg-type]
    passed = a == e if op == "==" else a <= e
    return CheckRecord(rule, scope, e, a, passed, detail)


def run_checks(template: str, cells: list[CellRecord], narrative: list[NarrativeRecord],
               unit: str | None) -> list[CheckRecord]:
    v: dict[tuple[str, str, str], Num | None] = {(c.table, c.row, c.col): c.value for c in cells}
    out: list[CheckRecord] = []
    s3 = {(r, c): val for (t, r, c), val in v.items() if t == "s3_applications"}
    if s3:
        present = {r for (r, _c), val in s3.items() if val is not None}
        results = _result_rows(template if template in ("gov2021", "gov2019") else "gov2021", present)

        def T(r: str, c: str) -> Num | None:
            return s3.get((r, c))

        for c in COLS:
            out.append(_check("H1", f"s3_applications:{c}",
                              [T("new_requests", c), T("carried_over_from_last_year", c)],
                              [T("total_processed", c), T("carried_forward", c)],
                              detail="new_requests + carried_over = total_processed + carried_forward"))
        tmpl = template if template in ("gov2021", "gov2019") else "gov2021"
        rows = [r.key for r in tables(tmpl)["s3_applications"].rows if any((r.key, c) in s3 for c in COLS)]
        for r in rows:
            out.append(_check("H2", f"s3_applications:{r}", [T(r, c) for c in APPL], [T(r, "total")],
                              detail="total column = sum of the six applicant columns"))
        for c in COLS:
            out.append(_check("H3", f"s3_applications:{c}", [T(r, c) for r in results], [T("total_processed", c)],
                              detail="(七)总计 = sum of the result rows"))
        for c in COLS:
            out.append(_check("H6", f"s3_applications:{c}",
                              [T("new_requests", c), T("carried_over_from_last_year", c)], [T("total_processed", c)],
                              op="<=", detail="processed <= new + carried over"))
    s4 = {(r, c): val for (t, r, c), val in v.items() if t == "s4_review_litigation"}
    if s4:
        for g in S4_GROUPS:
            out.append(_check("H4", f"s4_review_litigation:{g}",
                              [s4.get((g, c)) for c in ("upheld", "corrected", "other_result", "pending")],
                              [s4.get((g, "total"))], detail="total = upheld + corrected + other + pending"))
    negatives = [c for c in cells if c.value is not None and c.value < 0 and c.col != "items_change"]
    for c in negatives:
        out.append(CheckRecord("H5", f"{c.table}:{c.row}:{c.col}", 0, c.value, False, "negative count"))
    if cells:
        out.append(CheckRecord("H5", "all", 0, len(negatives), not negatives, "counts and money are >= 0"))
    # -- soft rules ---------------------------------------------------------------------------------
    if template == "gov2019":
        for r in ("regulations", "normative_documents"):
            a = v.get(("s2_regulatory_documents", r, "newly_published"))
            e = v.get(("s2_regulatory_documents", r, "total_published"))
            if a is not None and e is not None:
                out.append(CheckRecord("SR4", f"s2_regulatory_documents:{r}", e, a, a <= e,
                                       "newly_published <= total_published"))
    if unit and unit.endswith(("镇", "乡", "街道", "办事处", "县", "苏木")):
        for c in cells:
            if c.table == "s2_regulatory_documents" and c.row == "regulations" and c.value:
                out.append(CheckRecord("SR5", f"s2_regulatory_documents:regulations:{c.col}", 0, c.value, False,
                                       "a county or township unit has no power to make 规章"))
    nar = {n.metric: n for n in narrative if not n.qualifier}
    apps = nar.get("applications_received")
    table_new = v.get(("s3_applications", "new_requests", "total"))
    if apps is not None and table_new is not None:
        out.append(CheckRecord("SR6", "applications_received", table_new, apps.value, apps.value == table_new,
                               "narrative applications received = table new_requests total"))
    total = nar.get("proactive_items_total")
    cats = [n for n in narrative if n.metric == "proactive_items_by_category"]
    if total is not None and len(cats) >= 2:
        s = sum(n.value for n in cats if n.value is not None)
        out.append(CheckRecord("SR7", "proactive_items", total.value, s, s == total.value,
                               "narrative categories sum to the narrative total"))
    return out
