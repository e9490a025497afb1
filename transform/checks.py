"""The template's own arithmetic (勾稽关系, spec §5) as check records. A check never changes a value.

Hard rules H1-H6 per report; the soft in-report rules SR4 (gov2019 newly_published <= total_published),
SR5 (a county/township reporting 规章), SR6 (narrative applications = table) and SR7 (narrative
categories sum to the narrative total). `passed` is None where a needed cell is null or missing.
"""

from __future__ import annotations

from decimal import Decimal

from .records import CellRecord, CheckRecord, NarrativeRecord
from .schema import mapping_template, tables
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
           op: str = "==", detail: str = "", blanks: list[bool] | None = None) -> CheckRecord:
    """`blanks[i]` says operand i (expected + actual, in order) is a printed-empty cell. Where every null
    operand is such a blank and the rule holds reading them as 0, it passes and says so (spec §5.1, §7);
    where it would fail, the blanks are unknown and the check is not checkable."""
    operands = expected + actual
    if any(v is None for v in operands):
        if blanks is None or not all(b for v, b in zip(operands, blanks) if v is None):
            return CheckRecord(rule, scope, None, None, None, "not checkable: a needed cell is null or lost")
        expected = [0 if v is None else v for v in expected]
        actual = [0 if v is None else v for v in actual]
        detail = (detail + "; " if detail else "") + "blank cells read as 0"
    e = sum(expected)  # type: ignore[arg-type]
    a = sum(actual)  # type: ignore[arg-type]
    passed = a == e if op == "==" else a <= e
    if not passed and "blank cells read as 0" in detail:
        # a blank that cannot be 0 (Shanghai's blank 总计 beside non-zero cells) is unknown, not a failure
        return CheckRecord(rule, scope, e, a, None, "not checkable: blank cells, and reading them as 0 breaks it")
    return CheckRecord(rule, scope, e, a, passed, detail)


def run_checks(template: str, cells: list[CellRecord], narrative: list[NarrativeRecord],
               unit: str | None) -> list[CheckRecord]:
    v: dict[tuple[str, str, str], Num | None] = {(c.table, c.row, c.col): c.value for c in cells}
    blank = {(c.table, c.row, c.col) for c in cells if c.status in ("blank", "dash")}
    out: list[CheckRecord] = []

    def chk(rule: str, scope: str, table: str, exp: list[tuple[str, str]], act: list[tuple[str, str]],
            **kw) -> CheckRecord:
        return _check(rule, scope, [v.get((table, *k)) for k in exp], [v.get((table, *k)) for k in act],
                      blanks=[(table, *k) in blank for k in exp + act], **kw)

    s3 = {(r, c): val for (t, r, c), val in v.items() if t == "s3_applications"}
    if s3:
        present = {r for (r, _c), val in s3.items() if val is not None}
        tmpl = mapping_template(template)
        results = _result_rows(tmpl, present)

        t3 = "s3_applications"
        for c in COLS:
            out.append(chk("H1", f"{t3}:{c}", t3, [("new_requests", c), ("carried_over_from_last_year", c)],
                           [("total_processed", c), ("carried_forward", c)],
                           detail="new_requests + carried_over = total_processed + carried_forward"))
        rows = [r.key for r in tables(tmpl)[t3].rows if any((r.key, c) in s3 for c in COLS)]
        for r in rows:
            out.append(chk("H2", f"{t3}:{r}", t3, [(r, c) for c in APPL], [(r, "total")],
                           detail="total column = sum of the six applicant columns"))
        for c in COLS:
            out.append(chk("H3", f"{t3}:{c}", t3, [(r, c) for r in results], [("total_processed", c)],
                           detail="(七)总计 = sum of the result rows"))
        for c in COLS:
            out.append(chk("H6", f"{t3}:{c}", t3, [("new_requests", c), ("carried_over_from_last_year", c)],
                           [("total_processed", c)], op="<=", detail="processed <= new + carried over"))
    s4 = {(r, c): val for (t, r, c), val in v.items() if t == "s4_review_litigation"}
    if s4:
        t4 = "s4_review_litigation"
        for g in S4_GROUPS:
            out.append(chk("H4", f"{t4}:{g}", t4, [(g, c) for c in ("upheld", "corrected", "other_result", "pending")],
                           [(g, "total")], detail="total = upheld + corrected + other + pending"))
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
