"""Unit name, report year and template (spec §1, §10). The year is never max(year in text).

Year priority: the title's `YYYY年(度)` → the statistics period → `YYYY年，我镇…` in §一 → a body phrase
`YYYY年(度)…政府信息公开…报告` → the file name. Unit: the title with the year, 人民政府 and the report
words stripped; failing that, body phrases (与X党政办联系, 现将X20XX年…, 公布20XX年X政府信息公开…).
"""

from __future__ import annotations

import re
import unicodedata

from .labels import norm
from .sections import Document
from .vocab import GOV2019_MARKERS, GOV2021_MARKERS

_YEAR = r"((?:19|20)\d{2})"
_TITLE_WORDS = re.compile(
    r"(政府)?(信息公开|政务公开)(工作)?(年度)?(工作)?(报告|年报)|年度报告|工作年度报|工作告年度报|工作报告")
_TITLE_HINT = re.compile(r"(政府)?信息公开.{0,6}(年度|年报|报告)|年度报告|年报")
_TITLE_YEAR = re.compile(_YEAR + r"\s*年\s*度?")
_PERIOD = re.compile(r"统计期限?(?:为|自|从)?" + _YEAR + r"\s*年\s*1\s*月\s*1\s*日")
_FIRST_PERSON = re.compile(_YEAR + r"\s*年\s*(?:度)?\s*[,，]?\s*(?:我|本)(?:镇|乡|街道|单位|局|委|办|区|县|市|部门|中心)")
_BODY_REPORT = re.compile(_YEAR + r"\s*年\s*度?\s*([^\s，,。；;、“”]{0,20}?)\s*政府信息公开(?:工作)?(?:年度)?(?:工作)?报告")
_AS_OF = re.compile(r"截[止至]\s*" + _YEAR + r"\s*年\s*12\s*月\s*31\s*日")
_YEAR_PROACTIVE = re.compile(_YEAR + r"\s*年\s*[,，][^。；;]{0,24}?主动公开")
_FILE_YEAR = re.compile(_YEAR + r"\s*年?")
_UNIT_BODY = (
    re.compile(r"与([^\s，,。；;、与]{2,20}?)(?:人民政府)?(?:党政办公室|党政办|政府办公室|办公室)联系"),
    re.compile(r"现将([^\s，,。；;、()（）]{2,24}?)(?:[(（]以下简称[^)）]*[)）])?" + _YEAR + r"\s*年"),
    re.compile(_YEAR + r"\s*年\s*[,，]\s*([^\s，,。；;、]{2,20}?)人民政府"),
)
_PROVINCE_REG = re.compile(r"《((?:[^《》]{2,4}?)(?:省|自治区|市))(?:政府信息公开|政务公开)[^《》]{0,8}》")
# "0" first, then the no-digit-before check as a lookbehind over it: the literal start lets the regex
# engine jump from "0" to "0" instead of trying the pattern at every character of the body
_AREA_CODE = re.compile(r"(0(?<!\d0)\d{2,3})[-－—]\d{7,8}(?!\d)")
_COUNTY_IN_TEXT = re.compile(r"(?:在|的|、|，|,|利用|依托|通过|是|由)([\u4e00-\u9fa5]{2,5}?(?:县|区|旗|市))(?:人民)?政府(?:门户)?网站")


def detect_template(doc: Document) -> str:
    text = "".join([t.norm for t in doc.tokens if not t.is_value])
    n19 = sum(1 for m in GOV2019_MARKERS if m in text)
    n21 = sum(1 for m in GOV2021_MARKERS if m in text)
    if n21 or n19:
        return "gov2021" if n21 >= n19 else "gov2019"
    # §三 (六)其他处理 with sub-items only exists in gov2021
    if "无正当理由逾期不补正" in text or "逾期未按收费通知" in text:
        return "gov2021"
    return "unknown"


# precompiled: each of these runs on every report, and re.sub(str, …) looks the pattern up in re's cache
_PAGE_PREFIX = re.compile(r"^Page\s*\d+\s*[-–]\s*")
_REPORT_END = re.compile(r"(报告|年报|报)\s*$")
_UNIT_END = re.compile(r"(人民政府|政府|镇|乡|街道|办事处|局|委员会|办公室)$")
_HASHES = re.compile(r"^#+")
_ABOUT = re.compile(r"^(关于)")
_DISCLOSURE_END = re.compile(r"(政府)?(信息公开|政务公开)(工作)?$")
_REPORT_START = re.compile(r"^报[_\s-]*")
_PAGE_END = re.compile(r"P\.?\d+$")
_GOV_END = re.compile(r"(人民政府|政府)$")
_YEAR_START = re.compile(r"^\d{4}年度?")

_CHROME = (">", "位置", "首页", "来源", "发布时间", "浏览", "访问量", "成文日期", "发布日期", "索引号", "字号",
           "无障碍", "关怀版", "长者版", "Government")


def _is_title(text: str) -> bool:
    n = norm(text)
    return bool(_TITLE_HINT.search(n) and _TITLE_YEAR.search(n) and len(n) < 70)


def _title_lines(doc: Document, title: str | None) -> str:
    """The title: a line before §一 naming a year and the report (joining a title broken over two lines,
    or a unit line followed by the year line), else the reader's title; page chrome is skipped."""
    head = [_PAGE_PREFIX.sub("", ln) for ln in doc.head_text().split("\n") if ln.strip()]
    head = [ln for ln in head[:10] if not any(x in ln for x in _CHROME)]
    for i, ln in enumerate(head):
        nxt = head[i + 1] if i + 1 < len(head) else ""
        if _is_title(ln) and _REPORT_END.search(ln.strip()):
            return ln
        if nxt and _is_title(ln + nxt) and not _is_title(nxt) and len(ln) < 60:
            return ln + nxt  # "洛浦县…2023 年政府信息公开" / "工作年度报告"
        if nxt and _is_title(nxt) and not _TITLE_YEAR.search(norm(ln)) and len(norm(ln)) <= 20 \
                and _UNIT_END.search(norm(ln)) and norm(nxt)[:1].isdecimal():
            return ln + nxt  # "苏店镇人民政府" / "2024年政府信息公开工作年度报告"
        if _is_title(ln):
            return ln
    if title:
        title = _PAGE_PREFIX.sub("", title)
        if _is_title(title):
            return title
    return ""


def unit_from_title(title: str) -> str | None:
    t = norm(unicodedata.normalize("NFKC", title))
    t = _HASHES.sub("", t)
    t = _TITLE_YEAR.sub("", t, count=1)
    t = _ABOUT.sub("", t)
    m = _TITLE_WORDS.search(t)
    if m:
        t = t[:m.start()]
    t = _DISCLOSURE_END.sub("", t)  # what a scrambled title leaves behind
    t = _REPORT_START.sub("", t)  # "2020年报_审计局" (flip-book titles)
    t = _PAGE_END.sub("", t)
    t = _GOV_END.sub("", t).strip("_-—:：()（）")
    t = _YEAR_START.sub("", t)
    return t or None


def unit_and_year(doc: Document, *, title: str | None, filename: str | None) -> dict:
    out: dict = {"unit": None, "year": None, "title": None, "unit_evidence": None, "year_evidence": None}
    ttl = _title_lines(doc, title)
    if ttl:
        out["title"] = re.sub(r"\s+", " ", ttl).strip()
        m = _TITLE_YEAR.search(unicodedata.normalize("NFKC", ttl))
        if m:
            out["year"], out["year_evidence"] = int(m.group(1)), "title"
        unit = unit_from_title(ttl)
        if unit and len(unit) >= 2:
            out["unit"], out["unit_evidence"] = unit, "title"
    body = doc.nfkc_body
    if out["year"] is None:
        for rx, ev in ((_PERIOD, "statistics_period"), (_FIRST_PERSON, "body_first_person"),
                       (_BODY_REPORT, "body_report_phrase"), (_AS_OF, "body_as_of_year_end"),
                       (_YEAR_PROACTIVE, "body_year_proactive")):
            m = rx.search(body)
            if m:
                out["year"], out["year_evidence"] = int(m.group(1)), ev
                break
    if out["year"] is None and filename:
        m = _FILE_YEAR.search(filename)
        if m and 2007 <= int(m.group(1)) <= 2035:
            out["year"], out["year_evidence"] = int(m.group(1)), "filename"
    if out["unit"] and out["unit"][0] in "我本该":
        out["unit"] = out["unit_evidence"] = None  # "我局", "本单位": no name
    if out["unit"] is None:
        m = _BODY_REPORT.search(body)
        if m and len(m.group(2)) >= 2 and m.group(2)[0] not in "我本该":
            out["unit"], out["unit_evidence"] = _GOV_END.sub("", m.group(2)), "body"
        else:
            for rx in _UNIT_BODY:
                m = rx.search(body)
                if m:
                    name = m.group(1) if not m.group(1).isdigit() else m.group(2)
                    if name[0] not in "我本该":
                        out["unit"], out["unit_evidence"] = _GOV_END.sub("", name), "body"
                        break
    return out


_ADMIN_PART = re.compile(r"[\u4e00-\u9fa5]+?(?:自治区|自治州|自治县|地区|省|盟|市|州|县|区|旗)")


def admin_prefixes(unit: str) -> list[str]:
    """Admin units named before the unit itself: 洛浦县恰尔巴格镇 → [洛浦县]; 威海市文登区信访局 → [威海市, 文登区]."""
    out: list[str] = []
    rest = unit
    while True:
        m = _ADMIN_PART.match(rest)
        if not m or len(rest) - m.end() < 2 or len(m.group(0)) < 2:
            return out
        out.append(m.group(0))
        rest = rest[m.end():]


def hints(doc: Document, unit: str | None) -> dict:
    """Evidence for placing the unit in the admin hierarchy (resolved in the warehouse)."""
    body = doc.nfkc_body
    county = None
    prefixes = admin_prefixes(unit) if unit else []
    for p in reversed(prefixes):  # the lowest county-level prefix: 威海市文登区信访局 → 文登区
        if p.endswith(("县", "区", "旗")) or (p.endswith("市") and p is prefixes[-1]):
            county = p
            break
    if county is None and "网站" in body:  # the pattern ends in 网站: skip the scan where it cannot match
        m = _COUNTY_IN_TEXT.search(body)
        if m:
            county = re.split(r"通过|利用|依托|[在的于与和我]", m.group(1))[-1] or None  # "我镇在上党区" → 上党区
            if county and len(county) < 3:
                county = None  # "市" alone ("通过市政府网站") names nothing
    m = _PROVINCE_REG.search(body)
    codes = sorted(set(_AREA_CODE.findall(body)))
    return {"county_hint": county, "province_hint": m.group(1) if m else None, "phone_area_codes": codes}
