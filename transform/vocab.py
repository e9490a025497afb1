"""Label vocabularies built from schema.json plus the variants seen in real reports (spec §6.2).

Everything here is normalised with `labels.norm` and keyed without ordinals.
"""

from __future__ import annotations

from functools import cache

from .labels import Vocabulary, parse_label
from .schema import tables

# -- section headings (spec §2.1/2.2), matched on the normalised text without its enumerator --------
HEADINGS: dict[int, tuple[str, ...]] = {
    1: ("总体情况", "概述"),
    2: ("主动公开政府信息情况", "行政机关主动公开政府信息情况", "主动公开政府信息"),
    3: ("收到和处理政府信息公开申请情况", "收到和处理政府信息公开申请", "依申请公开政府信息情况"),
    4: ("政府信息公开行政复议、行政诉讼情况", "政府信息公开行政复议和行政诉讼情况",
        "因政府信息公开工作被申请行政复议、提起行政诉讼情况", "政府信息公开行政复议行政诉讼情况",
        "因政府信息公开申请提起行政复议、行政诉讼的情况"),
    5: ("存在的主要问题及改进情况", "政府信息公开工作存在的主要问题及改进情况", "存在的主要问题及改进措施",
        "主要问题及改进情况"),
    6: ("其他需要报告的事项",),
}

# -- template markers (spec §1) ---------------------------------------------------------------------
GOV2019_MARKERS = ("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "本年增/减",
                   "第二十条第(九)项", "政府集中采购", "其他对外管理服务事项", "采购项目数量")
GOV2021_MARKERS = ("本年制发件数", "本年废止件数", "现行有效件数", "本年收费金额")

# -- §二 captions: 第二十条第(N)项 → table -----------------------------------------------------------
CAPTION_ITEMS = {"一": "s2_regulatory_documents", "五": "s2_licensing", "六": "s2_penalty_coercion",
                 "八": "s2_fees", "九": "s2_procurement"}

# §二 row label → table (row labels are unique across the §二 sub-tables)
S2_ROW_ALIASES = {
    "规范性文件": "normative_documents",  # gov2019 name, also used in gov2021 reports (W8)
    "行政规范性文件": "normative_documents",
    "其他对外管理服务": "other_external_services",
}

S2_COL_ALIASES: dict[str, dict[str, str]] = {
    "gov2021": {"本年度止件数": "repealed", "处理决定数量": "decisions", "本年处理决定数": "decisions",
                "本年收费金额(单位:万元,保留4位小数)": "fee_amount", "本年收费金额(万元)": "fee_amount",
                "本年收费金额": "fee_amount", "制发件数": "issued", "废止件数": "repealed"},
    "gov2019": {"本年增减": "items_change", "本年增/减": "items_change", "本年处理决定数量": "decisions",
                "采购总金额": "procurement_amount", "采购总金额(万元)": "procurement_amount",
                "采购总金额(单位:万元)": "procurement_amount", "采购总金额(单位:元)": "procurement_amount"},
}

S3_ROW_ALIASES = {
    "其他法律法规禁止公开": "denied_prohibited_by_law",
    "部分公开": "result_partially_granted",
    "危及三安全一稳定": "denied_security_stability",
    "总计": "total_processed",
    "结转下年度继续办理": "carried_forward",
}
# §三 group labels: they carry no values (gov2021 (六) has sub-items; gov2019 (六) is a data row)
S3_GROUPS = ("本年度办理结果", "不予公开", "无法提供", "不予处理", "其他处理")
# §三 header texts (column labels, the 勾稽 note) to skip before the first data row
S3_HEADER = ("申请人情况", "自然人", "法人或其他组织", "商业企业", "科研机构", "社会公益组织", "法律服务机构",
             "其他", "总计", "商业", "企业", "科研", "机构", "社会公益", "组织", "法律服务", "信息内容")

S4_ROWS = {"行政复议": "admin_review", "未经复议直接起诉": "litigation_direct", "复议后起诉": "litigation_after_review"}
# anything that only occurs in the §四 header, including the tails of vertically written labels (S3)
S4_HEADER_FRAGMENTS = frozenset((
    "行政复议", "行政诉讼", "结果维持", "结果纠正", "其他结果", "尚未审结", "未经复议直接起诉", "复议后起诉",
    "维持", "纠正", "审结", "果维持", "果纠正", "他结果", "未审结", "尚未", "其他", "结果", "总计", "计",
    "直接起诉", "未经复议", "复议后", "起诉"))
S4_STRONG = ("维持", "纠正", "审结", "行政复议", "行政诉讼", "复议后起诉", "直接起诉")


@cache
def s2_rows(template: str) -> dict[str, tuple[str, str]]:
    """Normalised §二 row label → (table, row)."""
    out: dict[str, tuple[str, str]] = {}
    for t in tables(template).values():
        if t.section == 2:
            for r in t.rows:
                out[parse_label(r.label).text] = (t.key, r.key)
    for alias, row in S2_ROW_ALIASES.items():
        for tk, rk in list(out.values()):
            if rk == row:
                out.setdefault(alias, (tk, rk))
    return out


@cache
def s2_row_vocab(template: str) -> Vocabulary:
    rows = s2_rows(template)
    return Vocabulary({text: f"{tk}|{rk}" for text, (tk, rk) in rows.items()}, min_prefix=3)


@cache
def s2_col_vocab(template: str, table: str) -> Vocabulary:
    t = tables(template)[table]
    entries = {parse_label(c.label).text: c.key for c in t.cols}
    keys = {c.key for c in t.cols}
    aliases = {a: k for a, k in S2_COL_ALIASES[template].items() if k in keys}
    return Vocabulary(entries, aliases)


@cache
def s3_row_vocab(template: str) -> Vocabulary:
    t = tables(template)["s3_applications"]
    entries = {}
    for r in t.rows:
        entries[parse_label(r.label).text] = r.key
    keys = {r.key for r in t.rows}
    aliases = {a: k for a, k in S3_ROW_ALIASES.items() if k in keys}
    if template == "gov2021":
        aliases["其他处理"] = "other_processing"  # some gov2021 reports print (六) as one data row
    return Vocabulary(entries, aliases)


@cache
def s3_group_vocab() -> Vocabulary:
    return Vocabulary({g: g for g in S3_GROUPS}, {"本年度办理结果情况": "本年度办理结果"})
