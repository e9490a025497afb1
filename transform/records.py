"""The canonical long-format records that leave `transform`: one per cell, narrative figure, check.

`to_dict()` gives the JSON Lines object of `gongkai extract` and the row the warehouse loads.
Statuses of a cell value:
  reported        a number printed in the cell
  blank           the cell is printed empty (null, never 0)
  dash            '-', '—', '/', '--' printed (null)
  none_text       '无' printed (0)
  layout_suspect  the row had more/fewer values than columns; value kept only where forced
  missing         the table was found but this row/cell was lost in the source (null)
  unparsed        text that is not a number (null; raw kept)
Flags say what was guessed: fuzzy_label, joined_digits, realigned, header_split, unit_converted, ...
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal

Number = int | Decimal


def _num(v: Number | None) -> int | float | None:
    if v is None or isinstance(v, int):
        return v
    return int(v) if v == v.to_integral_value() and v.as_tuple().exponent >= 0 else float(v)


@dataclass(slots=True)
class ReportMeta:
    source: str  # the path or URL as given
    sha256: str
    fmt: str
    unit: str | None
    year: int | None
    template: str  # gov2021 | gov2019 | pre2019 | unknown
    title: str | None = None
    unit_evidence: str | None = None  # where the unit name came from (title, body, filename)
    year_evidence: str | None = None
    extractor_version: str = ""
    county_hint: str | None = None  # county/prefix named in the title (e.g. 洛浦县)
    province_hint: str | None = None  # e.g. 河南省 from 《河南省政府信息公开办法》
    phone_area_codes: list[str] = field(default_factory=list)

    def base(self) -> dict:
        """The document fields every record carries (long format: a JSONL file can be loaded alone, and
        the title and hints place the unit in the hierarchy when the warehouse loads it)."""
        return {"source": self.source, "unit": self.unit, "year": self.year, "template": self.template,
                "fmt": self.fmt, "title": self.title, "county_hint": self.county_hint,
                "province_hint": self.province_hint, "phone_area_codes": list(self.phone_area_codes)}


@dataclass(slots=True)
class CellRecord:
    table: str
    row: str
    col: str
    value: Number | None
    raw: str
    status: str
    flags: list[str] = field(default_factory=list)
    raw_row_label: str = ""
    raw_col_label: str = ""
    section: int = 0

    def to_dict(self, meta: ReportMeta) -> dict:
        d = {"kind": "cell", **meta.base(), "table": self.table, "row": self.row, "col": self.col}
        d.update(value=_num(self.value), raw=self.raw, status=self.status, flags=list(self.flags),
                 raw_row_label=self.raw_row_label, raw_col_label=self.raw_col_label,
                 sha256=meta.sha256, extractor_version=meta.extractor_version)
        return d


@dataclass(slots=True)
class NarrativeRecord:
    metric: str
    value: Number | None
    unit: str
    raw: str  # the sentence fragment the figure came from
    qualifier: str = ""  # e.g. the category of a per-category count
    approx: bool = False  # 余/多/约/近
    section: int = 1

    def to_dict(self, meta: ReportMeta) -> dict:
        d = {"kind": "narrative", **meta.base()}
        d.update(asdict(self))
        d["value"] = _num(self.value)
        d.update(sha256=meta.sha256, extractor_version=meta.extractor_version)
        return d


@dataclass(slots=True)
class CheckRecord:
    rule: str  # H1..H6, SR5, ...
    scope: str  # e.g. "s3_applications/total" or "admin_review"
    expected: Number | None
    actual: Number | None
    passed: bool | None  # None: not checkable (a needed cell is null)
    detail: str = ""

    def to_dict(self, meta: ReportMeta) -> dict:
        d = {"kind": "check", **meta.base(), "rule": self.rule, "scope": self.scope,
             "expected": _num(self.expected), "actual": _num(self.actual), "passed": self.passed,
             "detail": self.detail, "sha256": meta.sha256, "extractor_version": meta.extractor_version}
        return d


@dataclass(slots=True)
class Extraction:
    """Everything one document yields."""

    meta: ReportMeta
    cells: list[CellRecord] = field(default_factory=list)
    narrative: list[NarrativeRecord] = field(default_factory=list)
    checks: list[CheckRecord] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def records(self) -> list[dict]:
        m = self.meta
        return ([c.to_dict(m) for c in self.cells] + [n.to_dict(m) for n in self.narrative]
                + [c.to_dict(m) for c in self.checks])
