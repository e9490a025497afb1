"""Synthetic 政府信息公开工作年度报告 with known truth, rendered in the layouts real portals publish.

`random_truth` draws cell values that satisfy the spec's hard rules H1-H6 (or break a named one);
`render` turns a truth into the bytes of one document format; `Noise` adds the label and value
variants seen in the wild without ever changing what a correct extraction must return:
`truth.cells` (values) and `truth_status(truth, noise, fmt)` (value statuses).

Formats: html_spans, html_flat, tab, cellline, markdown, docx, pdf (see FORMATS).
"""

from __future__ import annotations

import html
import io
import json
import random
import re
import zipfile
import zlib
from dataclasses import dataclass, field, fields
from decimal import Decimal
from functools import cache
from pathlib import Path

Key = tuple[str, str, str]
Value = int | Decimal | None

FORMATS = ("html_spans", "html_flat", "tab", "cellline", "markdown", "docx", "pdf")
TEMPLATES = ("gov2021", "gov2019")
APPL = ("natural_person", "commercial_enterprise", "research_institution", "social_welfare_org",
        "legal_service_org", "other_org")
COLS = (*APPL, "total")
S4_GROUPS = ("admin_review", "litigation_direct", "litigation_after_review")
S4_COLS = ("upheld", "corrected", "other_result", "pending", "total")
S3_FIXED = ("new_requests", "carried_over_from_last_year", "total_processed", "carried_forward")
S3 = "s3_applications"
S4 = "s4_review_litigation"

_SCHEMA_PATH = Path(__file__).resolve().parents[2] / "transform" / "schema.json"


@cache
def _schema() -> dict:
    return json.loads(_SCHEMA_PATH.read_text(encoding="utf-8"))


def template_tables(template: str) -> list[dict]:
    """The schema's table definitions of a template, in printed order."""
    return _schema()["templates"][template]["tables"]


@cache
def cell_keys(template: str) -> tuple[Key, ...]:
    return tuple((t["table"], r["key"], c["key"]) for t in template_tables(template)
                 for r in t["rows"] for c in t["cols"])


@cache
def result_rows(template: str) -> tuple[str, ...]:
    s3 = next(t for t in template_tables(template) if t["table"] == S3)
    return tuple(r["key"] for r in s3["rows"] if r["key"] not in S3_FIXED)


# ---------------------------------------------------------------------------------------------
# truth


@dataclass
class ReportTruth:
    unit: str  # e.g. 卫辉市上乐村镇
    unit_title: str  # how the title names it, e.g. 卫辉市上乐村镇人民政府
    year: int
    template: str  # gov2021 | gov2019
    cells: dict[Key, Value]  # exactly the template's cells; None = printed blank/dash
    proactive_total: int = 0  # §一 主动公开政府信息 N 条
    proactive_by_category: dict[str, int] = field(default_factory=dict)  # sums to proactive_total
    applications_received: int = 0  # §一 narrative; = new_requests/total
    fees_collected: Decimal | None = None  # §六 信息处理费 in 元; None = not mentioned
    broken_rules: list[str] = field(default_factory=list)  # rules H1-H6 the printed values fail


def _v(cells: dict[Key, Value], key: Key) -> int | Decimal:
    v = cells.get(key)
    return 0 if v is None else v  # blank reads as 0 for the rules (spec §5.1 worked check)


def check_rules(truth: ReportTruth) -> list[str]:
    """The hard rules H1-H6 that `truth.cells` fail, sorted."""
    c, failed = truth.cells, set()
    res = result_rows(truth.template)
    for col in COLS:
        new, old = _v(c, (S3, "new_requests", col)), _v(c, (S3, "carried_over_from_last_year", col))
        done, fwd = _v(c, (S3, "total_processed", col)), _v(c, (S3, "carried_forward", col))
        if new + old != done + fwd:
            failed.add("H1")
        if done != sum(_v(c, (S3, r, col)) for r in res):
            failed.add("H3")
        if done > new + old:
            failed.add("H6")
    for row in (*S3_FIXED, *res):
        if _v(c, (S3, row, "total")) != sum(_v(c, (S3, row, a)) for a in APPL):
            failed.add("H2")
    for g in S4_GROUPS:
        if _v(c, (S4, g, "total")) != sum(_v(c, (S4, g, k)) for k in S4_COLS[:4]):
            failed.add("H4")
    for (_t, _r, col), v in c.items():
        if v is not None and v < 0 and col != "items_change":
            failed.add("H5")
    return sorted(failed)


def _qty(rng: random.Random, zero_share: float, big: float = 0.06) -> int:
    """Mostly zero or small, with a heavy tail of a few thousand (district-size units)."""
    if rng.random() < zero_share:
        return 0
    r = rng.random()
    if r < big:
        return rng.randint(100, 4000)
    if r < big + 0.25:
        return rng.randint(10, 99)
    return rng.randint(1, 9)


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    cuts = sorted(rng.randint(0, total) for _ in range(parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


_CATEGORIES = ("社会保障类", "政策宣传类", "党建工作类", "民政事务类", "灾后扶持类", "工作动态类",
               "财政预决算类", "乡村振兴类", "义务教育类", "重大建设项目类", "机构职能类", "其他类信息")
# result rows that carry most real applications, weighted
_RESULT_WEIGHT = {"result_granted": 8, "result_partially_granted": 2, "unavailable_not_held": 4,
                  "unavailable_needs_creation": 1, "not_processed_petition_complaint": 2,
                  "not_processed_duplicate": 1, "denied_process_information": 1}


def random_truth(rng: random.Random, *, unit: str, unit_title: str, year: int, template: str,
                 zero_share: float = 0.5, consistent: bool = True, blank_share: float = 0.0,
                 break_rule: str | None = None) -> ReportTruth:
    """Random cell values that satisfy H1-H6 exactly.

    zero_share: probability that a quantity is 0 (many township reports are all zeros).
    blank_share: probability that a zero cell is printed blank instead (truth None, as C1 does).
    consistent=False: perturb one printed total; `broken_rules` names every rule that then fails.
    break_rule: with consistent=False, aim at H1, H3 or H4 (H2 always fails with H1/H3).
    """
    if template not in TEMPLATES:
        raise ValueError(f"unknown template {template!r}")
    cells: dict[Key, Value] = {}
    z = zero_share
    if template == "gov2021":
        t = "s2_regulatory_documents"
        for row in ("regulations", "normative_documents"):
            zr = max(z, 0.9) if row == "regulations" else z  # SR5: townships make no 规章
            issued, repealed = _qty(rng, zr), _qty(rng, max(zr, 0.7), big=0)
            cells[(t, row, "issued")], cells[(t, row, "repealed")] = issued, repealed
            cells[(t, row, "in_force")] = issued + _qty(rng, zr)
        cells[("s2_licensing", "administrative_licensing", "decisions")] = _qty(rng, z)
        for row in ("administrative_penalty", "administrative_coercion"):
            cells[("s2_penalty_coercion", row, "decisions")] = _qty(rng, z)
        fee = Decimal(0)
        if rng.random() > max(z, 0.7):
            fee = Decimal(rng.randint(1, 5_000_000)).scaleb(-rng.randint(0, 4))
        cells[("s2_fees", "administrative_fees", "fee_amount")] = fee
    else:
        t = "s2_regulatory_documents"
        for row in ("regulations", "normative_documents"):
            zr = max(z, 0.9) if row == "regulations" else z
            made = _qty(rng, zr)
            published = rng.randint(0, made)
            cells[(t, row, "newly_made")], cells[(t, row, "newly_published")] = made, published
            cells[(t, row, "total_published")] = published + _qty(rng, zr)  # SR4
        for t, rows in (("s2_licensing", ("administrative_licensing", "other_external_services")),
                        ("s2_penalty_coercion", ("administrative_penalty", "administrative_coercion")),
                        ("s2_fees", ("administrative_fees",))):
            for row in rows:
                last = _qty(rng, z)
                change = 0 if rng.random() < max(z, 0.5) else rng.randint(-last, 30)  # SR3: last+change>=0
                cells[(t, row, "items_last_year")], cells[(t, row, "items_change")] = last, change
                if t != "s2_fees":
                    cells[(t, row, "decisions")] = _qty(rng, z)
        projects = _qty(rng, max(z, 0.6), big=0)
        amount = Decimal(rng.randint(1, 10_000_000)).scaleb(-2) if projects else Decimal(0)
        cells[("s2_procurement", "centralized_procurement", "procurement_projects")] = projects
        cells[("s2_procurement", "centralized_procurement", "procurement_amount")] = amount

    res = result_rows(template)
    weights = [_RESULT_WEIGHT.get(r, 0.3) for r in res]
    for col in APPL:
        zc = z if col == "natural_person" else z + (1 - z) * 0.6
        new, old = _qty(rng, zc), _qty(rng, max(zc, 0.7), big=0)
        avail = new + old
        fwd = 0 if rng.random() < 0.6 else rng.randint(0, avail // 3)
        done = avail - fwd
        per = dict.fromkeys(res, 0)
        if done:
            chosen = list(dict.fromkeys(rng.choices(res, weights, k=rng.randint(1, 4))))
            for r, n in zip(chosen, _split(rng, done, len(chosen)), strict=True):
                per[r] = n
        cells[(S3, "new_requests", col)], cells[(S3, "carried_over_from_last_year", col)] = new, old
        for r in res:
            cells[(S3, r, col)] = per[r]
        cells[(S3, "total_processed", col)], cells[(S3, "carried_forward", col)] = done, fwd
    s3_rows = [r["key"] for t in template_tables(template) if t["table"] == S3 for r in t["rows"]]
    for r in s3_rows:
        cells[(S3, r, "total")] = sum(cells[(S3, r, a)] for a in APPL)
    for g in S4_GROUPS:
        vals = [0 if rng.random() < max(z, 0.8) else rng.randint(1, 20) for _ in range(4)]
        for k, v in zip(S4_COLS[:4], vals, strict=True):
            cells[(S4, g, k)] = v
        cells[(S4, g, "total")] = sum(vals)
    if blank_share:
        for k, v in cells.items():
            if v == 0 and rng.random() < blank_share:
                cells[k] = None
    cells = {k: cells[k] for k in cell_keys(template)}  # printed order, exactly the template's cells

    cats = rng.sample(_CATEGORIES, rng.randint(2, 6))
    by_cat = {c: (_qty(rng, 0.1, big=0.05) if rng.random() < 0.9 else 0) for c in cats}
    fees = None if rng.random() < 0.5 else (Decimal(0) if rng.random() < 0.8
                                             else Decimal(rng.randint(1, 2000)))
    truth = ReportTruth(unit=unit, unit_title=unit_title, year=year, template=template, cells=cells,
                        proactive_total=sum(by_cat.values()), proactive_by_category=by_cat,
                        applications_received=int(_v(cells, (S3, "new_requests", "total"))),
                        fees_collected=fees)
    if not consistent:
        _perturb(rng, truth, break_rule)
    return truth


def _perturb(rng: random.Random, truth: ReportTruth, break_rule: str | None) -> None:
    """Raise one printed total so the named rule fails; record every rule that then fails."""
    res = result_rows(truth.template)
    targets = {
        "H4": lambda: (S4, rng.choice(S4_GROUPS), "total"),  # H4 only
        "H3": lambda: (S3, rng.choice(res), "total"),  # H2 + H3
        "H1": lambda: (S3, "carried_forward", rng.choice(COLS)),  # H1 + H2
        "H1H3": lambda: (S3, "total_processed", rng.choice(COLS)),  # H1 + H2 + H3 (+ H6)
        "H1new": lambda: (S3, "new_requests", "total"),  # H1 + H2
    }
    name = break_rule if break_rule in targets else rng.choice(sorted(targets))
    key = targets[name]()
    truth.cells[key] = _v(truth.cells, key) + rng.randint(1, 9)
    if key == (S3, "new_requests", "total"):
        truth.applications_received = int(truth.cells[key])  # the narrative quotes the printed total
    truth.broken_rules = check_rules(truth)


# ---------------------------------------------------------------------------------------------
# noise


@dataclass
class Noise:
    """Label/value/layout variants from spec §6-§7, each independently switchable.

    Per-cell choices are a stable hash of (seed, cell key), so the same Noise gives the same
    choices in every format and `truth_status` can tell them without rendering."""

    seed: int = 0
    punct: str = "full"  # full | half | mixed: （）：， vs ():,
    ordinal_space: bool = False  # "1. 属于国家秘密", "(一) 予以公开"
    label_spaces: bool = False  # "结果 维持", "三、本年 度办 理结 果", "149 条"
    typos: bool = False  # 本年度止件数, 其他法律法规禁止公开
    truncate: bool = False  # "3.要求提供公开出版" (last chars of long §三 labels lost)
    old_names: bool = False  # 规范性文件 / 处理决定数量 in gov2021
    unit_variant: bool = False  # （单位：万元，保留4位小数）, 采购总金额(万元)
    vertical_headers: bool = False  # §三/§四 header text one char per line
    split_groups: bool = False  # （三） in one row, 不予公开 in the next
    s4_tails: bool = False  # §四 header reduced to the tails of vertical labels (S3)
    note_after_header: bool = False  # 勾稽 note below the 3 header rows (S3)
    fullwidth_digits: float = 0.0  # share of values in ０-９
    thousands: bool = False  # 1,234
    padding: float = 0.0  # share of values padded with NBSP / U+3000
    spill: float = 0.0  # cellline: share of values after a U+3000 line (S1)
    none_style: str = "blank"  # how None prints: blank | dash
    dash: str = "-"  # -, —, /, --
    zero_none_text: float = 0.0  # share of 0 printed as 无
    plus_sign: bool = False  # items_change +5
    heading_style: str = "plain"  # plain | arabic (1、 总体情况) | long
    flat_mode: str = "pipe"  # html_flat: pipe | space | cell
    title_mode: str = "one"  # one | two (unit line + title) | split (broken mid-phrase) | none

    @classmethod
    def clean(cls) -> Noise:
        return cls()

    @classmethod
    def random(cls, rng: random.Random, level: float = 0.5) -> Noise:
        """Each variant switched on with probability `level`."""
        def on() -> bool:
            return rng.random() < level

        def share() -> float:
            return rng.choice((0.2, 0.5, 1.0)) if on() else 0.0

        return cls(
            seed=rng.getrandbits(32),
            punct=rng.choice(("half", "mixed")) if on() else "full",
            ordinal_space=on(), label_spaces=on(), typos=on(), truncate=on(), old_names=on(),
            unit_variant=on(), vertical_headers=on(), split_groups=on(), s4_tails=on(),
            note_after_header=on(), fullwidth_digits=share(), thousands=on(), padding=share(),
            spill=share(), none_style="dash" if on() else "blank",
            dash=rng.choice(("-", "—", "/", "--")), zero_none_text=share() * 0.5, plus_sign=on(),
            heading_style=rng.choice(("arabic", "long")) if on() else "plain",
            flat_mode=rng.choice(("pipe", "space", "cell")),
            title_mode=rng.choice(("two", "split", "none")) if on() else "one",
        )

    def pick(self, *parts: object) -> float:
        """A stable pseudo-random number in [0, 1) for one decision."""
        s = "|".join(map(str, (self.seed, *parts)))
        return zlib.crc32(s.encode()) / 2**32

    def describe(self) -> str:
        d = Noise()
        return ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)
                         if f.name != "seed" and getattr(self, f.name) != getattr(d, f.name)) or "clean"


def value_status(truth: ReportTruth, key: Key, noise: Noise | None = None, fmt: str = "") -> str:
    """The status a correct extraction gives this cell: reported | blank | dash | none_text."""
    noise = noise or Noise()
    v = truth.cells[key]
    if v is None:
        # blank cells vanish when a flattened row is joined by spaces, so that layout prints a dash
        if noise.none_style == "dash" or (fmt == "html_flat" and noise.flat_mode == "space"):
            return "dash"
        return "blank"
    if v == 0 and isinstance(v, int) and noise.pick(*key, "none_text") < noise.zero_none_text:
        return "none_text"
    return "reported"


def truth_status(truth: ReportTruth, noise: Noise | None = None, fmt: str = "") -> dict[Key, str]:
    """Parallel to `truth.cells`: the value status of every cell in this rendering."""
    return {k: value_status(truth, k, noise, fmt) for k in truth.cells}


_FW = str.maketrans("0123456789", "０１２３４５６７８９")
_PADS = ("\u00a0{}", "{}\u00a0", "\u3000{}", "{}\u3000", "\u00a0{}\u00a0")


def format_value(truth: ReportTruth, key: Key, noise: Noise, fmt: str = "") -> str:
    status = value_status(truth, key, noise, fmt)
    if status == "blank":
        return ""
    if status == "dash":
        return noise.dash
    if status == "none_text":
        return "无"
    v = truth.cells[key]
    assert v is not None
    body = format(abs(v), "f") if isinstance(v, Decimal) else str(abs(v))
    if noise.thousands and abs(v) >= 1000 and noise.pick(*key, "k") < 0.8:
        ip, _, frac = body.partition(".")
        body = f"{int(ip):,}" + (f".{frac}" if frac else "")
    sign = "-" if v < 0 else ("+" if noise.plus_sign and key[2] == "items_change" and v > 0 else "")
    s = sign + body
    if noise.pick(*key, "fw") < noise.fullwidth_digits:
        s = s.translate(_FW)
    if noise.pick(*key, "pad") < noise.padding:
        s = _PADS[int(noise.pick(*key, "padk") * len(_PADS))].format(s)
    return s


# ---------------------------------------------------------------------------------------------
# document model: blocks of text and tables with explicit spans


@dataclass
class Cell:
    r: int
    c: int
    text: str
    rs: int = 1
    cs: int = 1
    kind: str = "label"  # label | head | value | caption | note
    key: Key | None = None
    cont: str = ""  # printed in the first row under a split group label
    vertical: bool = False  # one character per line
    spill: bool = False  # cellline: value on the line after a U+3000 cell


@dataclass
class Table:
    name: str
    nrows: int
    ncols: int
    cells: list[Cell]


@dataclass
class Block:
    kind: str  # title | heading | para | table
    text: str = ""
    table: Table | None = None


_HALF = str.maketrans("（）：，", "():,")
_ORD = re.compile(r"^(\d+\.|[（(][一二三四五六七八九][）)])(?=\S)")


def _label(text: str, noise: Noise, tag: str) -> str:
    if noise.punct == "half" or (noise.punct == "mixed" and noise.pick(tag, "punct") < 0.5):
        text = text.translate(_HALF)
    if noise.ordinal_space:
        text = _ORD.sub(r"\1 ", text)
    return text


_S4_SPACED = {"结果维持": "结果 维持", "结果纠正": "结果 纠正", "其他结果": "其他 结果", "尚未审结": "尚 未 审 结"}


def _col_label(template: str, table: str, col: dict, noise: Noise) -> str:
    lab = col["label"]
    if noise.typos and col["key"] == "repealed":
        lab = "本年度止件数"
    if noise.old_names and template == "gov2021" and col["key"] == "decisions":
        lab = "处理决定数量"
    if noise.unit_variant and col["key"] == "fee_amount":
        lab = "本年收费金额（单位：万元，保留4位小数）"
    if noise.unit_variant and col["key"] == "procurement_amount":
        lab = "采购总金额(万元)"
    return _label(lab, noise, f"{table}/{col['key']}")


def _row_label(template: str, table: str, row: dict, noise: Noise) -> str:
    lab = row["label"]
    if noise.old_names and template == "gov2021" and row["key"] == "normative_documents":
        lab = "规范性文件"
    if noise.typos and row["key"] == "denied_prohibited_by_law":
        lab = "2.其他法律法规禁止公开"
    # a lost tail keeps at least 6 characters after the ordinal, so the prefix stays unique
    if noise.truncate and table == S3 and len(lab) >= 10 and noise.pick(row["key"], "trunc") < 0.4:
        lab = lab[: -1 - int(noise.pick(row["key"], "truncn") * 2)]
    return _label(lab, noise, f"{table}/{row['key']}")


def _value_cell(truth: ReportTruth, key: Key, noise: Noise, fmt: str, r: int, c: int, cs: int = 1) -> Cell:
    return Cell(r, c, format_value(truth, key, noise, fmt), cs=cs, kind="value", key=key,
                spill=noise.pick(*key, "spill") < noise.spill)


def _s2_table(truth: ReportTruth, noise: Noise, fmt: str) -> Table:
    cells: list[Cell] = []
    r = 0
    for t in template_tables(truth.template):
        if t["table"].startswith("s2_"):
            cells.append(Cell(r, 0, _label(t["caption"], noise, t["table"]), cs=4, kind="caption"))
            cols = t["cols"]
            spans = {1: [3], 2: [1, 2], 3: [1, 1, 1]}[len(cols)]  # sub-tables keep the 4-column width
            cells.append(Cell(r + 1, 0, "信息内容", kind="head"))
            c = 1
            for col, cs in zip(cols, spans, strict=True):
                cells.append(Cell(r + 1, c, _col_label(truth.template, t["table"], col, noise), cs=cs,
                                  kind="head"))
                c += cs
            r += 2
            for row in t["rows"]:
                cells.append(Cell(r, 0, _row_label(truth.template, t["table"], row, noise)))
                c = 1
                for col, cs in zip(cols, spans, strict=True):
                    cells.append(_value_cell(truth, (t["table"], row["key"], col["key"]), noise, fmt, r, c, cs))
                    c += cs
                r += 1
    return Table("s2", r, 4, cells)


_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"


def _head(text: str, noise: Noise, r: int, c: int, rs: int = 1, cs: int = 1) -> Cell:
    vertical = noise.vertical_headers and len(text) <= 6 and rs == 1 and cs == 1
    return Cell(r, c, _label(text, noise, text), rs=rs, cs=cs, kind="head", vertical=vertical)


def _s3_table(truth: ReportTruth, noise: Noise, fmt: str) -> Table:
    s3 = next(t for t in template_tables(truth.template) if t["table"] == S3)
    col_labels = {c["key"]: c["label"] for c in s3["cols"]}
    note = _label(_NOTE, noise, "note")
    cells: list[Cell] = []
    if noise.note_after_header:  # S3: label area of the header empty, the note as its own row
        cells.append(Cell(0, 0, "", rs=3, cs=3, kind="note"))
    else:
        cells.append(Cell(0, 0, note, rs=3, cs=3, kind="note"))
    cells += [_head("申请人情况", noise, 0, 3, cs=7), _head(col_labels["natural_person"], noise, 1, 3, rs=2),
              _head("法人或其他组织", noise, 1, 4, cs=5), _head(col_labels["total"], noise, 1, 9, rs=2)]
    cells += [_head(col_labels[k], noise, 2, 4 + i) for i, k in enumerate(APPL[1:])]
    r = 3
    if noise.note_after_header:
        cells.append(Cell(3, 0, note, cs=10, kind="note"))
        r = 4
    rows = s3["rows"]
    block = [row for row in rows if row.get("group")]
    top = "三、本年度办理结果"
    groups: dict[str, int] = {}
    for row in block:
        if row["group"] != top:
            groups[row["group"]] = groups.get(row["group"], 0) + 1
    seen: set[str] = set()
    for row in rows:
        lab = _row_label(truth.template, S3, row, noise)
        g = row.get("group")
        if g is None:
            cells.append(Cell(r, 0, lab, cs=3))
        else:
            if row is block[0]:
                top_text = "三、本年 度办 理结 果" if noise.label_spaces else top
                cells.append(Cell(r, 0, top_text, rs=len(block)))
            if g == top:
                cells.append(Cell(r, 1, lab, cs=2))
            else:
                if g not in seen:
                    seen.add(g)
                    glab = _label(g, noise, g)
                    cont = ""
                    if noise.split_groups and groups[g] > 1:
                        m = _ORD.match(glab) or re.match(r"^[（(][一二三四五六七][）)]\s*", glab)
                        if m:
                            glab, cont = glab[: m.end()].strip(), glab[m.end():].strip()
                    cells.append(Cell(r, 1, glab, rs=groups[g], cont=cont))
                cells.append(Cell(r, 2, lab))
        for i, col in enumerate(COLS):
            cells.append(_value_cell(truth, (S3, row["key"], col), noise, fmt, r, 3 + i))
        r += 1
    return Table("s3", r, 10, cells)


def _tail(noise: Noise, label: str, i: int) -> str:
    if label == "总计":
        return "计" if i else ""
    n = 2 if i == 0 else 3
    return " ".join(label[-n:])


def _s4_table(truth: ReportTruth, noise: Noise, fmt: str) -> Table:
    labels = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]

    def lab(s: str) -> str:
        return _S4_SPACED.get(s, s) if noise.label_spaces else s

    cells: list[Cell] = []
    if noise.s4_tails:  # only the tails of vertically written labels survive (S3)
        for g in range(3):
            for j, s in enumerate(labels):
                cells.append(Cell(0, g * 5 + j, _tail(noise, s, g), kind="head"))
        r = 1
    else:
        cells += [_head("行政复议", noise, 0, 0, cs=5), _head("行政诉讼", noise, 0, 5, cs=10)]
        for j, s in enumerate(labels):
            c = _head(lab(s), noise, 1, j, rs=2)
            c.vertical = noise.vertical_headers
            cells.append(c)
        cells += [_head("未经复议直接起诉", noise, 1, 5, cs=5), _head("复议后起诉", noise, 1, 10, cs=5)]
        for g in range(2):
            for j, s in enumerate(labels):
                cells.append(_head(lab(s), noise, 2, 5 + g * 5 + j))
        r = 3
    for g, group in enumerate(S4_GROUPS):
        for j, col in enumerate(S4_COLS):
            cells.append(_value_cell(truth, (S4, group, col), noise, fmt, r, g * 5 + j))
    return Table("s4", r + 1, 15, cells)


# ---------------------------------------------------------------------------------------------
# narrative

_HEADINGS = ["一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
             "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项"]
_LONG = {1: "二、行政机关主动公开政府信息情况", 4: "五、政府信息公开工作存在的主要问题及改进情况"}
_ARABIC = {0: "1、 总体情况", 4: "5、 存在的主要问题及改进情况"}
_FILLER = (
    "坚持以公开为常态、不公开为例外，围绕中心工作和群众关切，不断提升政务公开质量和实效",
    "严格落实政府信息公开保密审查制度，坚持先审查、后公开，确保公开信息准确、规范",
    "对照基层政务公开标准目录，及时梳理公开事项，动态调整公开内容",
    "充分利用政府门户网站、政务公开栏、微信公众号等载体，拓宽信息公开渠道",
    "明确分管领导和专职工作人员，形成主要领导亲自抓、分管领导具体抓、工作人员抓落实的工作格局",
    "定期开展政务公开业务培训，提高工作人员的业务能力和服务水平",
    "将政务公开工作纳入年度目标考核，加强日常督促检查，发现问题及时整改",
    "畅通依申请公开受理渠道，规范办理流程，按时答复申请人",
    "加强政策解读和回应关切，对涉及群众切身利益的政策文件同步开展解读",
    "持续优化政府信息公开平台建设，做到无空白栏目、无长期未更新栏目",
    "建立健全政府信息管理制度，规范信息发布、更新和维护流程",
    "主动接受社会监督，认真听取群众意见建议，不断改进工作",
    "全年未发生因政务公开工作引发的责任追究情况",
    "加强政府信息公开专区建设，为群众查阅信息提供便利",
)
_PROBLEMS = ("信息公开的内容还不够全面，部分栏目更新不够及时", "政务公开工作人员业务能力有待进一步提升",
             "政策解读形式较为单一，解读的针对性和实效性不强", "公众参与渠道有待进一步拓宽")


def _num(n: object, noise: Noise) -> str:
    return f" {n} " if noise.label_spaces else str(n)  # S0 prints "149 条", "2023 年"


def _filler(rng: random.Random, k: int) -> str:
    return "。".join(rng.sample(_FILLER, k)) + "。"


def _short(truth: ReportTruth) -> str:
    return truth.unit[-6:] if len(truth.unit) > 6 and "市" in truth.unit else truth.unit


def _narrative(truth: ReportTruth, noise: Noise, rng: random.Random) -> dict[int, list[str]]:
    y = truth.year
    ny = lambda n: _num(n, noise)  # noqa: E731
    s1 = [
        f"本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）要求编制，全文包括总体情况、主动公开政府信息情况、"
        f"收到和处理政府信息公开申请情况、政府信息公开行政复议和行政诉讼情况、存在的主要问题及改进情况、其他需要报告的事项。"
        f"本报告所列数据的统计期限为{y}年1月1日至{y}年12月31日。"
        + (f"现将{truth.unit}{y}年政府信息公开工作年度报告如下。如对本报告有疑问，请与{truth.unit}党政办联系。"
           if noise.title_mode == "none" else ""),
    ]
    cats = "；".join(f"{c}{ny(n)}条" for c, n in truth.proactive_by_category.items())
    s1 += ["（一）主动公开情况",
           f"{y}年，{_short(truth)}共主动公开政府信息{ny(truth.proactive_total)}条。其中{cats}。" + _filler(rng, 2),
           "（二）依申请公开情况"]
    if truth.applications_received == 0 and rng.random() < 0.5:
        s1.append(f"{y}年，我单位未接收到任何依申请公开的申请。")
    else:
        s1.append(f"{y}年，我镇按要求及时更新依申请公开指南，全年共受理政府信息公开申请"
                  f"{ny(truth.applications_received)}件，均在法定期限内答复。")
    for sub in ("（三）政府信息管理情况", "（四）政府信息公开平台建设情况", "（五）监督保障情况"):
        s1 += [sub] + [_filler(rng, rng.randint(4, 6)) for _ in range(rng.randint(2, 3))]
    s5 = ["（一）存在的主要问题", "一是" + "；二是".join(rng.sample(_PROBLEMS, 2)) + "。",
          "（二）改进情况",
          f"{y + 1}年，我镇将" + _filler(rng, 5), _filler(rng, 5), _filler(rng, 4),
          f"{str(y)[2:]}年度问题整改情况：" + _filler(rng, 4)]
    if truth.fees_collected is None:
        s6 = ["无"]
    elif truth.fees_collected == 0:
        s6 = ["按照《国务院办公厅关于印发〈政府信息公开信息处理费管理办法〉的通知》（国办函〔2020〕109号）规定，"
              "本年度没有产生信息公开处理费。"]
    else:
        s6 = ["按照《政府信息公开信息处理费管理办法》（国办函〔2020〕109号）规定，"
              f"本年度共收取信息公开处理费{format(truth.fees_collected, 'f')}元。"]
    return {1: s1, 5: s5, 6: s6}


def _title_lines(truth: ReportTruth, noise: Noise) -> list[str]:
    y, ut = truth.year, truth.unit_title
    tail = "政府信息公开工作年度报告"
    if noise.title_mode == "none":
        return []
    if noise.title_mode == "two":
        return [ut, f"{y}年{tail}"]
    if noise.title_mode == "split":
        return [f"{ut} {y} 年政府信息公开", "工作年度报告"]
    return [f"{ut}{_num(y, noise).rstrip()}年{tail}" if noise.label_spaces else f"{ut}{y}年{tail}"]


def build_blocks(truth: ReportTruth, noise: Noise | None = None, fmt: str = "") -> list[Block]:
    """The document as ordered blocks (titles, headings, paragraphs, tables)."""
    noise = noise or Noise()
    rng = random.Random(f"{truth.unit}|{truth.year}|{truth.template}|{noise.seed}")
    narr = _narrative(truth, noise, rng)
    heads = list(_HEADINGS)
    if noise.heading_style == "long":
        heads = [_LONG.get(i, h) for i, h in enumerate(heads)]
    elif noise.heading_style == "arabic":
        heads = [_ARABIC.get(i, h) for i, h in enumerate(heads)]
    blocks = [Block("title", t) for t in _title_lines(truth, noise)]
    blocks.append(Block("heading", heads[0]))
    blocks += [Block("para", p) for p in narr[1]]
    blocks.append(Block("heading", heads[1]))
    blocks.append(Block("table", table=_s2_table(truth, noise, fmt)))
    blocks.append(Block("heading", heads[2]))
    blocks.append(Block("table", table=_s3_table(truth, noise, fmt)))
    blocks.append(Block("heading", heads[3]))
    blocks.append(Block("table", table=_s4_table(truth, noise, fmt)))
    blocks.append(Block("heading", heads[4]))
    blocks += [Block("para", p) for p in narr[5]]
    blocks.append(Block("heading", heads[5]))
    blocks += [Block("para", p) for p in narr[6]]
    return blocks


# ---------------------------------------------------------------------------------------------
# table views: how each export flattens spans


def _cell_text(c: Cell) -> str:
    return " ".join(c.text) if c.vertical else c.text


def _cell_lines(c: Cell) -> list[str]:
    if c.vertical:
        return list(c.text)
    return [c.text, c.cont] if c.cont else [c.text]


def _covers(t: Table) -> tuple[dict[tuple[int, int], Cell], dict[tuple[int, int], Cell]]:
    """Anchors by position, and the vertical continuations (first column of a rowspan) by position."""
    anchors = {(c.r, c.c): c for c in t.cells}
    vcont = {(r, c.c): c for c in t.cells for r in range(c.r + 1, c.r + c.rs)}
    return anchors, vcont


def _cont(c: Cell, r: int) -> str:
    return c.cont if r == c.r + 1 else ""


def grid_rows(t: Table) -> list[list[Cell | str]]:
    """Every grid position: the anchor Cell or the text a covered position shows ('' mostly)."""
    anchors, vcont = _covers(t)
    out: list[list[Cell | str]] = []
    for r in range(t.nrows):
        row: list[Cell | str] = []
        for c in range(t.ncols):
            if (r, c) in anchors:
                row.append(anchors[(r, c)])
            else:
                v = vcont.get((r, c))
                row.append(_cont(v, r) if v else "")
        out.append(row)
    return out


def word_rows(t: Table) -> list[list[Cell | str]]:
    """Word's cell model: one cell per gridSpan, vMerge continuations are empty cells (S1)."""
    anchors, vcont = _covers(t)
    out: list[list[Cell | str]] = []
    for r in range(t.nrows):
        row: list[Cell | str] = []
        for c in range(t.ncols):
            if (r, c) in anchors:
                row.append(anchors[(r, c)])
            elif (r, c) in vcont:
                row.append(_cont(vcont[(r, c)], r))
        out.append(row)
    return out


def anchor_rows(t: Table) -> list[list[Cell | str]]:
    """Only printed text: anchors, plus a split group label's second half (flattened CMS pages)."""
    anchors, vcont = _covers(t)
    out: list[list[Cell | str]] = []
    for r in range(t.nrows):
        row: list[Cell | str] = []
        for c in range(t.ncols):
            if (r, c) in anchors:
                row.append(anchors[(r, c)])
            elif (r, c) in vcont and _cont(vcont[(r, c)], r):
                row.append(_cont(vcont[(r, c)], r))
        out.append(row)
    return out


def _t(x: Cell | str) -> str:
    return _cell_text(x) if isinstance(x, Cell) else x


# ---------------------------------------------------------------------------------------------
# text formats


def _render_tab(blocks: list[Block], noise: Noise) -> bytes:
    out = ["", ""]
    for b in blocks:
        if b.table:
            out += ["\t".join(_t(x) for x in row) for row in grid_rows(b.table)]
            out.append("")
        else:
            out += [b.text, ""]
    return "\n".join(out).encode("utf-8")


def _render_cellline(blocks: list[Block], noise: Noise) -> bytes:
    out: list[str] = []
    for b in blocks:
        if not b.table:
            out.append(b.text)
            continue
        for row in word_rows(b.table):
            for x in row:
                if isinstance(x, Cell) and x.kind == "value" and x.spill and x.text:
                    out += ["\t\u3000", x.text.strip("\u00a0\u3000")]  # S1: the value lands on the next line
                else:
                    out.append("\t" + _t(x))
            out.append("")
        out.append("")
    out.append(" " * 56)  # S1 ends with a line of spaces
    return "\n".join(out).encode("utf-8")


def _render_markdown(blocks: list[Block], noise: Noise) -> bytes:
    out = ["", ""]
    for b in blocks:
        if b.kind == "title":
            out += [f"# {b.text}", ""]
        elif b.kind == "heading":
            out += [f"## {b.text}", ""]
        elif b.table:
            rows = grid_rows(b.table)
            for i, row in enumerate(rows):
                out.append("| " + " | ".join(_t(x).replace("|", "｜") for x in row) + " |")
                if i == 0:
                    out.append("|" + "---|" * len(row))
            out.append("")
        else:
            out += [b.text, ""]
    return "\n".join(out).encode("utf-8")


# ---------------------------------------------------------------------------------------------
# HTML


def _esc(s: str) -> str:
    return html.escape(s, quote=False).replace("\u00a0", "&nbsp;")


_CHROME_HEAD = """<div class="header"><div class="logo">{site}</div><ul class="nav"><li><a href="/">首页</a></li>
<li><a href="/zwgk/">政务公开</a></li><li><a href="/zwgk/xxgknb/">政府信息公开年报</a></li><li><a href="/hdjl/">互动交流</a></li></ul>
<div class="CurrChnlCls">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; 政府信息公开年报</div></div>
<div class="article"><h1 class="title">{title}</h1><div class="info">发布日期：{date}　来源：{site}　浏览次数：<span id="hits">0</span></div>
<div class="TRS_Editor">"""
_CHROME_FOOT = """</div><div class="share">【<a href="javascript:window.print()">打印本页</a>】【<a href="javascript:window.close()">关闭窗口</a>】</div></div>
<div class="footer"><p>主办单位：{site}　地址：{site}便民服务中心</p><p>网站标识码：4107810001　ICP备案号：豫ICP备05001234号</p></div>"""


def _doc_title(truth: ReportTruth, noise: Noise) -> str:
    """Page/metadata title; with title_mode none the unit is named only in the body (S4)."""
    if noise.title_mode == "none":
        return f"{truth.year}年政府信息公开工作年度报告"
    return f"{truth.unit_title}{truth.year}年政府信息公开工作年度报告"


def _html_doc(body: str, truth: ReportTruth, noise: Noise, encoding: str, chrome: bool) -> bytes:
    title = _doc_title(truth, noise)
    if chrome:
        site = "政务公开" if noise.title_mode == "none" else truth.unit_title
        body = (_CHROME_HEAD.format(site=_esc(site), title=_esc(title), date=f"{truth.year + 1}-01-20")
                + body + _CHROME_FOOT.format(site=_esc(site)))
    charset = "gbk" if encoding.lower() in ("gbk", "gb2312", "gb18030") else "utf-8"
    doc = (f'<!DOCTYPE html>\n<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
           f"<title>{_esc(title)}</title></head>\n<body>\n{body}\n</body></html>\n")
    return doc.encode(charset, errors="xmlcharrefreplace")


def _render_html_spans(blocks: list[Block], truth: ReportTruth, noise: Noise, encoding: str, chrome: bool) -> bytes:
    parts: list[str] = []
    for b in blocks:
        if b.kind == "title":
            parts.append(f"<p align=center><b><span>{_esc(b.text)}</span></b></p>")
        elif b.table:
            parts.append("<table border=1 cellspacing=0 cellpadding=0>")
            anchors, _ = _covers(b.table)
            for r in range(b.table.nrows):
                tds = []
                for c in range(b.table.ncols):
                    cell = anchors.get((r, c))
                    if cell is None:
                        continue
                    attrs = (f" rowspan={cell.rs}" if cell.rs > 1 else "") + (f" colspan={cell.cs}" if cell.cs > 1 else "")
                    ps = "".join(f"<p align=center><span>{_esc(line) if line.strip() else '&nbsp;'}</span></p>"
                                 for line in _cell_lines(cell))
                    tds.append(f"<td{attrs} valign=center>{ps}</td>")
                parts.append("<tr>" + "".join(tds) + "</tr>")
            parts.append("</table>")
        else:
            parts.append(f"<p><span>{_esc(b.text)}</span></p>")
    return _html_doc("\n".join(parts), truth, noise, encoding, chrome)


def _render_html_flat(blocks: list[Block], truth: ReportTruth, noise: Noise, encoding: str, chrome: bool) -> bytes:
    parts: list[str] = []
    for b in blocks:
        if not b.table:
            parts.append(f"<p>{_esc(b.text)}</p>")
            continue
        for row in anchor_rows(b.table):
            texts = [_t(x) for x in row]
            if noise.flat_mode == "cell":
                parts += [f"<p>{_esc(t) if t else '&nbsp;'}</p>" for t in texts]
            elif noise.flat_mode == "space":
                parts.append(f"<p>{_esc(' '.join(t for t in texts if t))}</p>")
            else:
                parts.append(f"<p>{_esc(' | '.join(texts))} |</p>")
    return _html_doc("\n".join(parts), truth, noise, encoding, chrome)


# ---------------------------------------------------------------------------------------------
# DOCX

_ZIP_DATE = (2020, 1, 1, 0, 0, 0)
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_BORDERS = "".join(f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
                   for side in ("top", "left", "bottom", "right", "insideH", "insideV"))


def _docx_table_xml(t: Table) -> str:
    """A w:tbl with real merges (gridSpan, vMerge), written directly: python-docx's
    cell()/merge() rescan the whole grid per call and cost ~0.3 s per report."""
    width = {"s2": 9000, "s3": 9000, "s4": 9000}[t.name] // t.ncols
    anchors, vcont = _covers(t)
    rows = []
    for r in range(t.nrows):
        tcs, c = [], 0
        while c < t.ncols:
            cell = anchors.get((r, c))
            if cell is not None:
                span = cell.cs
                merge = '<w:vMerge w:val="restart"/>' if cell.rs > 1 else ""
                lines = _cell_lines(cell)
            elif (r, c) in vcont:
                cell = vcont[(r, c)]
                span, merge, lines = cell.cs, "<w:vMerge/>", [_cont(cell, r)]
            else:  # inside a horizontal span anchored to the left: already covered
                c += 1
                continue
            grid = f'<w:gridSpan w:val="{span}"/>' if span > 1 else ""
            ps = "".join(f'<w:p><w:pPr><w:jc w:val="center"/></w:pPr><w:r><w:t xml:space="preserve">{_esc_xml(x)}</w:t></w:r></w:p>'
                         if x else "<w:p/>" for x in lines)
            tcs.append(f'<w:tc><w:tcPr><w:tcW w:w="{width * span}" w:type="dxa"/>{grid}{merge}'
                       f'<w:vAlign w:val="center"/></w:tcPr>{ps}</w:tc>')
            c += span
        rows.append("<w:tr>" + "".join(tcs) + "</w:tr>")
    cols = "".join(f'<w:gridCol w:w="{width}"/>' for _ in range(t.ncols))
    return (f'<w:tbl xmlns:w="{_W}"><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/>'
            f'<w:jc w:val="center"/><w:tblBorders>{_BORDERS}</w:tblBorders></w:tblPr>'
            f'<w:tblGrid>{cols}</w:tblGrid>{"".join(rows)}</w:tbl>')


def _esc_xml(s: str) -> str:
    return html.escape(s, quote=False)


def _render_docx(blocks: list[Block], truth: ReportTruth, noise: Noise) -> bytes:
    import datetime

    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import parse_xml

    d = docx.Document()
    for b in blocks:
        if b.kind == "title":
            p = d.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.add_run(b.text).bold = True
        elif b.table:
            d.add_paragraph()._p.addprevious(parse_xml(_docx_table_xml(b.table)))
        else:
            d.add_paragraph(b.text)
    stamp = datetime.datetime(truth.year + 1, 1, 15, 9, 0, 0)
    cp = d.core_properties
    cp.created = cp.modified = cp.last_printed = stamp
    cp.title = _doc_title(truth, noise)
    cp.author = cp.last_modified_by = "" if noise.title_mode == "none" else truth.unit_title
    buf = io.BytesIO()
    d.save(buf)
    # python-docx stamps zip entries with the current time; rewrite them for byte-stable output
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(zipfile.ZipInfo(info.filename, _ZIP_DATE), zin.read(info.filename),
                          compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# PDF

_FONT = "STSong-Light"


@cache
def _pdf_setup() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(_FONT))


@cache
def _char_w(ch: str, size: float) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return stringWidth(ch, _FONT, size)


def _wrap(text: str, width: float, size: float) -> str:
    """Break a cell's text into lines that fit `width` (CJK wraps anywhere, digits too)."""
    lines, cur, w = [], "", 0.0
    for ch in text:
        cw = _char_w(ch, size)
        if cur and w + cw > width:
            lines.append(cur)
            cur, w = "", 0.0
        cur += ch
        w += cw
    lines.append(cur)
    return "\n".join(lines)


_PAD = 2.0


def _pdf_table(t: Table, widths: list[float], size: float, noise: Noise):
    from reportlab.platypus import Table as RLTable
    from reportlab.platypus import TableStyle

    data = [[""] * t.ncols for _ in range(t.nrows)]
    style = [("FONT", (0, 0), (-1, -1), _FONT, size), ("GRID", (0, 0), (-1, -1), 0.5, (0, 0, 0)),
             ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("ALIGN", (0, 0), (-1, -1), "CENTER"),
             ("LEFTPADDING", (0, 0), (-1, -1), _PAD), ("RIGHTPADDING", (0, 0), (-1, -1), _PAD),
             ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
             ("LEADING", (0, 0), (-1, -1), size * 1.2)]
    for c in t.cells:
        w = sum(widths[c.c:c.c + c.cs]) - 2 * _PAD - 0.01
        data[c.r][c.c] = "\n".join(_wrap(line, w, size) for line in _cell_lines(c))
        if c.rs > 1 or c.cs > 1:
            style.append(("SPAN", (c.c, c.r), (c.c + c.cs - 1, c.r + c.rs - 1)))
        if c.kind == "label" and c.cs == 1 and c.c == 2 or (c.kind == "label" and c.c == 0 and t.name == "s2"):
            style.append(("ALIGN", (c.c, c.r), (c.c, c.r), "LEFT"))
    return RLTable(data, colWidths=widths, style=TableStyle(style), splitByRow=1, repeatRows=0)


def _render_pdf(blocks: list[Block], truth: ReportTruth, noise: Noise) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    _pdf_setup()
    rng = random.Random(f"pdf|{noise.seed}|{truth.unit}|{truth.year}")
    margin = 56.0
    avail = A4[0] - 2 * margin
    body = ParagraphStyle("b", fontName=_FONT, fontSize=11, leading=19, firstLineIndent=22, wordWrap="CJK",
                          spaceAfter=4)
    head = ParagraphStyle("h", parent=body, firstLineIndent=0, fontSize=12, spaceBefore=6)
    title = ParagraphStyle("t", parent=body, fontSize=16, leading=24, alignment=1, firstLineIndent=0)
    size = 8.0
    # §三 value columns fit 2 (or 3) digits, so longer numbers wrap inside their cell
    vw = _char_w("0", size) * rng.choice((2, 3)) + 2 * _PAD + 0.5
    s3w = [52.0, 58.0, 0.0] + [vw] * 7
    s3w[2] = avail - sum(s3w)
    widths = {"s2": [avail * 0.34] + [avail * 0.22] * 3, "s3": s3w, "s4": [avail / 15] * 15}
    story: list = []
    for b in blocks:
        if b.kind == "title":
            story.append(Paragraph(_esc(b.text), title))
        elif b.kind == "heading":
            story.append(Paragraph(_esc(b.text), head))
        elif b.table:
            story.append(_pdf_table(b.table, widths[b.table.name], size, noise))
            story.append(Spacer(1, 8))
        else:
            story.append(Paragraph(_esc(b.text), body))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=margin, rightMargin=margin, topMargin=margin,
                            bottomMargin=margin, invariant=1,
                            title=_doc_title(truth, noise),
                            author="" if noise.title_mode == "none" else truth.unit_title,
                            creator="Microsoft Word")
    from reportlab import rl_config

    a85 = rl_config.useA85
    rl_config.useA85 = 0  # ASCII85 of the streams is pure-Python and ~15% of the time; binary is fine
    try:
        doc.build(story)
    finally:
        rl_config.useA85 = a85
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------


def render(truth: ReportTruth, fmt: str, *, noise: Noise | None = None, encoding: str = "utf-8",
           chrome: bool = False) -> bytes:
    """The document bytes of `truth` in `fmt` (one of FORMATS).

    encoding/chrome apply to the HTML formats: "utf-8" or "gbk" (declared in a meta tag), and
    CMS page chrome (header, nav, breadcrumb, a TRS_Editor div, footer) around the report."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    noise = noise or Noise()
    blocks = build_blocks(truth, noise, fmt)
    if fmt == "tab":
        return _render_tab(blocks, noise)
    if fmt == "cellline":
        return _render_cellline(blocks, noise)
    if fmt == "markdown":
        return _render_markdown(blocks, noise)
    if fmt == "html_spans":
        return _render_html_spans(blocks, truth, noise, encoding, chrome)
    if fmt == "html_flat":
        return _render_html_flat(blocks, truth, noise, encoding, chrome)
    if fmt == "docx":
        return _render_docx(blocks, truth, noise)
    return _render_pdf(blocks, truth, noise)
