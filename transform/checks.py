"""The template's own arithmetic (勾稽关系, spec §5) as check records. A check never changes a value.

Hard rules H1-H6 per report; the soft in-report rules SR4 (gov2019 newly_published <= total_published),
SR5 (a county/township reporting 规章), SR6 (narrative applications = table) and SR7 (narrative
categories sum to the narrative total). `passed` is None where a needed cell is null or missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from .records import CellRecord, CheckRecord, NarrativeRecord
from .schema import mapping_template, tables
from .tables import APPL

COLS = (*APPL, "total")
S4_GROUPS = ("admin_review", "litigation_direct", "litigation_after_review")
Num = int | Decimal


def _result_rows(template: str, one_row_other: bool) -> list[str]:
    keys = [r.key for r in tables(template)["s3_applications"].rows]
    start = keys.index("result_granted")
    rows = keys[start: keys.index("total_processed")]
    if template == "gov2021" and one_row_other:
        # a gov2021 report printing (六) as one row (spec §4.2)
        rows = [r for r in rows if not r.startswith("other_")] + ["other_processing"]
    return rows


Key = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class _Rule:
    rule: str
    scope: str
    expected: tuple[Key, ...]  # cells summed on the expected side
    actual: tuple[Key, ...]
    op: str = "=="
    detail: str = ""
    row: str = ""  # H2: checked only when the row was found


def _check(r: _Rule, v: dict[Key, Num | None], blank: set[Key]) -> CheckRecord:
    """A null operand that is a printed-empty cell (`blank`) counts as 0 where the rule then holds, and
    the check passes and says so (spec §5.1, §7); where it would fail, the blanks are unknown and the
    check is not checkable; any other null makes it not checkable."""
    expected = list(map(v.get, r.expected))
    actual = list(map(v.get, r.actual))
    detail = r.detail
    if None in expected or None in actual:
        if not all(k in blank for k in r.expected + r.actual if v.get(k) is None):
            return CheckRecord(r.rule, r.scope, None, None, None, "not checkable: a needed cell is null or lost")
        expected = [0 if x is None else x for x in expected]
        actual = [0 if x is None else x for x in actual]
        detail = (detail + "; " if detail else "") + "blank cells read as 0"
    e = sum(expected)  # type: ignore[arg-type]
    a = sum(actual)  # type: ignore[arg-type]
    passed = a == e if r.op == "==" else a <= e
    if not passed and "blank cells read as 0" in detail:
        # a blank that cannot be 0 (Shanghai's blank 总计 beside non-zero cells) is unknown, not a failure
        return CheckRecord(r.rule, r.scope, e, a, None, "not checkable: blank cells, and reading them as 0 breaks it")
    return CheckRecord(r.rule, r.scope, e, a, passed, detail)


@cache
def _s3_rules(template: str, one_row_other: bool) -> tuple[_Rule, ...]:
    """H1, H2 (per row), H3, H6 of §三, in report order; `one_row_other`: (六) printed as one row."""
    t3 = "s3_applications"
    keys = [r.key for r in tables(template)[t3].rows]
    results = _result_rows(template, one_row_other)

    def k(row: str, col: str) -> Key:
        return (t3, row, col)
    out = [_Rule("H1", f"{t3}:{c}", (k("new_requests", c), k("carried_over_from_last_year", c)),
                 (k("total_processed", c), k("carried_forward", c)),
                 detail="new_requests + carried_over = total_processed + carried_forward") for c in COLS]
    out += [_Rule("H2", f"{t3}:{r}", tuple(k(r, c) for c in APPL), (k(r, "total"),),
                  detail="total column = sum of the six applicant columns", row=r) for r in keys]
    out += [_Rule("H3", f"{t3}:{c}", tuple(k(r, c) for r in results), (k("total_processed", c),),
                  detail="(七)总计 = sum of the result rows") for c in COLS]
    out += [_Rule("H6", f"{t3}:{c}", (k("new_requests", c), k("carried_over_from_last_year", c)),
                  (k("total_processed", c),), op="<=", detail="processed <= new + carried over") for c in COLS]
    return tuple(out)


_S4_RULES = tuple(
    _Rule("H4", f"s4_review_litigation:{g}",
          tuple(("s4_review_litigation", g, c) for c in ("upheld", "corrected", "other_result", "pending")),
          (("s4_review_litigation", g, "total"),), detail="total = upheld + corrected + other + pending")
    for g in S4_GROUPS)


def run_checks(template: str, cells: list[CellRecord], narrative: list[NarrativeRecord],
               unit: str | None) -> list[CheckRecord]:
    v: dict[Key, Num | None] = {}
    blank: set[Key] = set()
    s3_rows: set[str] = set()  # rows of §三 with any cell
    s3_found = s4_found = False
    one_row_other = False  # (六)其他处理 printed as one row with a value
    for c in cells:
        key = (c.table, c.row, c.col)
        v[key] = c.value
        if c.status == "blank" or c.status == "dash":
            blank.add(key)
        if c.table == "s3_applications":
            s3_found = True
            s3_rows.add(c.row)
            if c.row == "other_processing" and c.value is not None:
                one_row_other = True
        elif c.table == "s4_review_litigation":
            s4_found = True
    out: list[CheckRecord] = []
    if s3_found:
        tmpl = mapping_template(template)
        for r in _s3_rules(tmpl, one_row_other):
            if not r.row or r.row in s3_rows:
                out.append(_check(r, v, blank))
    if s4_found:
        out += [_check(r, v, blank) for r in _S4_RULES]
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
