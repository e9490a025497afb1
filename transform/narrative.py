"""Key figures of 一、总体情况 and 六、其他需要报告的事项 as their own records (spec §9).

Metrics: proactive_items_total, proactive_items_by_category (qualifier = category),
applications_received (incl. zero stated in words), public_inquiries (approx for 余/多/约/近),
info_processing_fee_collected (元). Digits split by spaces ("149 条") are joined first.
"""

from __future__ import annotations

import re
from decimal import Decimal

from .labels import narrow
from .records import NarrativeRecord

_N = r"(\d+(?:\.\d+)?)"
_SPACES = re.compile(r"[ \u00a0\u3000]+")
# Leading words such as (?:共|累计|全年)? are left out of the first patterns: they never change the figure
# or the sentence it is quoted from (none of them can start the rest, or is 。/newline), and a pattern that
# starts with an optional group is tried at every character of §一 instead of only where the rest can start.
_PROACTIVE_TOTAL = (
    re.compile(r"主动公开(?:政府|政务)?信息(?:总数|数量)?(?:共计|共|达)?" + _N + r"条"),
    re.compile(r"主动公开[^。；;]{0,30}?(?:信息|文件)(?:共计|共|总计)" + _N + r"条"),
    re.compile(r"(?:共计|总计|合计)" + _N + r"条"),
)
_LIST_START = re.compile(r"(其中|包括|分别为|主要为|含)")
_CAT_LEAD = re.compile(r"^(为|是|有|其中|包括|及|和|以及)")
_CATEGORY = re.compile(r"([\u4e00-\u9fa5A-Za-z]{2,14}?)(?:类)?(?:信息)?" + _N + r"条")
_APPS = (
    re.compile(r"(?:受理|收到|接收|接到|新收)[^。；;，,]{0,16}?(?:政府信息公开|依申请公开)?(?:的)?申请(?:共计|共)?" + _N + r"件"),
    re.compile(r"依申请公开(?:政府信息)?(?:申请)?(?:共计|共)?" + _N + r"件"),
)
_APPS_ZERO = re.compile(r"未(?:接收到|收到|接到|产生|发生)(?:任何)?(?:的)?依申请公开|无依申请公开|未收到(?:任何)?(?:政府信息公开)?申请")
_INQUIRIES = re.compile(r"(?:查询|咨询)[^。；;]{0,10}?" + _N + r"(余|多)?(?:次|人次)")
_INQ_APPROX = re.compile(r"(约|近)" + _N + r"(?:次|人次)")
_FEE_ZERO = re.compile(r"(?:没有|未)(?:产生|收取)(?:任何)?(?:政府)?信息(?:公开)?处理费")
_FEE = re.compile(r"(?:收取|收缴)(?:政府)?信息(?:公开)?处理费(?:共计|共)?" + _N + r"(万元|元)")


def _join(m: re.Match[str]) -> str:
    """Spaces between digits, or between a digit and a hanzi, go ("1 49 条" → "149条"); others stay.
    (A callback on space runs: a lookbehind-first pattern is tried at every character of the text.)"""
    s, e = m.span()
    t = m.string
    if s == 0 or e == len(t):
        return m.group()
    a, b = t[s - 1], t[e]
    if a.isdecimal():
        return "" if b.isdecimal() or "\u4e00" <= b <= "\u9fa5" else m.group()
    return "" if b.isdecimal() and "\u4e00" <= a <= "\u9fa5" else m.group()


def _clean(text: str) -> str:
    return _SPACES.sub(_join, narrow(text))


def _num(s: str) -> int | Decimal:
    d = Decimal(s)
    return int(d) if d == d.to_integral_value() and "." not in s else d


def _sentence(text: str, start: int, end: int) -> str:
    a = max(text.rfind("。", 0, start), text.rfind("\n", 0, start)) + 1
    b_candidates = [i for i in (text.find("。", end), text.find("\n", end)) if i != -1]
    b = min(b_candidates) if b_candidates else len(text)
    return text[a:b + 1].strip()[:300]


def extract_narrative(s1: str, s6: str) -> list[NarrativeRecord]:
    out: list[NarrativeRecord] = []
    t1 = _clean(s1)
    total_at = None
    for rx in _PROACTIVE_TOTAL:
        m = rx.search(t1)
        if m:
            out.append(NarrativeRecord("proactive_items_total", _num(m.group(1)), "条", _sentence(t1, m.start(), m.end())))
            total_at = m
            break
    if total_at is not None:
        # a "其中…N条；…M条" list right after the total
        rest = t1[total_at.end(): total_at.end() + 400]
        q = _LIST_START.search(rest[:40])
        if q:
            seg = rest[q.end():]
            seg = seg[: seg.find("。")] if "。" in seg else seg
            for m in _CATEGORY.finditer(seg):
                cat = _CAT_LEAD.sub("", m.group(1))
                if cat:
                    out.append(NarrativeRecord("proactive_items_by_category", _num(m.group(2)), "条",
                                               m.group(0), qualifier=cat))
    for rx in _APPS:
        m = rx.search(t1)
        if m:
            out.append(NarrativeRecord("applications_received", _num(m.group(1)), "件", _sentence(t1, m.start(), m.end())))
            break
    else:
        m = _APPS_ZERO.search(t1)
        if m:
            out.append(NarrativeRecord("applications_received", 0, "件", _sentence(t1, m.start(), m.end())))
    # both patterns need 查询/咨询: a substring test spares two regex scans of §一 when it is absent
    inquiry_words = "查询" in t1 or "咨询" in t1
    m = _INQUIRIES.search(t1) if inquiry_words else None
    if m:
        out.append(NarrativeRecord("public_inquiries", _num(m.group(1)), "次", _sentence(t1, m.start(), m.end()),
                                   approx=bool(m.group(2))))
    elif inquiry_words:
        m = _INQ_APPROX.search(t1)
        if m:
            out.append(NarrativeRecord("public_inquiries", _num(m.group(2)), "次", _sentence(t1, m.start(), m.end()),
                                       approx=True))
    t6 = _clean(s6)
    # every fee pattern needs 处理费 (most reports say nothing about fees: skip four regex scans)
    if "处理费" not in t6 and "处理费" not in t1:
        return out
    m = _FEE.search(t6) or _FEE.search(t1)
    if m:
        v = _num(m.group(1))
        unit = m.group(2)
        out.append(NarrativeRecord("info_processing_fee_collected", v, unit, _sentence(t6 if _FEE.search(t6) else t1,
                                                                                       m.start(), m.end()), section=6))
    else:
        m = _FEE_ZERO.search(t6) or _FEE_ZERO.search(t1)
        if m:
            out.append(NarrativeRecord("info_processing_fee_collected", 0, "元", m.group(0), section=6))
    return out
