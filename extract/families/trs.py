"""TRS WCM (拓尔思): articles `<column>/YYYYMM/tYYYYMMDD_<docid>.html|.shtml`; lists `index.html`,
`index_1.html` … `index_{countPage-1}.html`, page count in inline JS (`var countPage = N`) or a
`createPageHTML(countPage, currentPage, "index", "html")` call; content in `div.TRS_Editor`."""

from __future__ import annotations

import re
from typing import ClassVar
from urllib.parse import urljoin

from extract.families.base import Family, ListPage, _dedupe

_COUNT_RE = re.compile(r"var\s+countPage\s*=\s*(\d+)")
_CREATE_RE = re.compile(r"createPageHTML\(\s*['\"]?(\d+)['\"]?\s*,\s*['\"]?\d+['\"]?\s*,\s*['\"]([\w\-]+)['\"]\s*,\s*['\"](\w+)['\"]")


class Trs(Family):
    name: ClassVar[str] = "trs"
    content_selectors: ClassVar[tuple[str, ...]] = ("div.TRS_Editor", "div.trs_editor_view", "div.TRS_UEDITOR",
                                                     "div.Custom_UnionStyle")
    article_url_re: ClassVar[re.Pattern[str] | None] = re.compile(r"/\d{6}/t\d{8}_\d+\.s?html")

    @classmethod
    def detect(cls, url: str, html: str) -> int:
        score = 0
        if _COUNT_RE.search(html) or "createPageHTML" in html:
            score += 3
        if "TRS_Editor" in html or "trs_editor_view" in html or "CurrChnlCls" in html:
            score += 2
        if cls.article_url_re and cls.article_url_re.search(html):
            score += 2
        return score

    def parse_list(self, url: str, html: str) -> ListPage:
        page = super().parse_list(url, html)
        count = None
        prefix, ext = "index", "html"
        m = _CREATE_RE.search(html)
        if m:
            count, prefix, ext = int(m.group(1)), m.group(2), m.group(3)
        else:
            m2 = _COUNT_RE.search(html)
            if m2:
                count = int(m2.group(1))
        # only the first page enumerates the rest; later pages would just repeat it
        last = url.rsplit("/", 1)[-1]
        if count and (last == "" or re.fullmatch(rf"{re.escape(prefix)}\.{ext}", last)):
            page.pages.extend(urljoin(url, f"{prefix}_{i}.{ext}") for i in range(1, min(count, 2000)))
        page.pages = _dedupe(p for p in page.pages if p != url)
        return page
