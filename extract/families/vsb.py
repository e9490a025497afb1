"""VSB 博达 Visual SiteBuilder: articles `info/<treeid>/<docid>.htm`; static lists `<col>.htm` then
`<col>/N.htm` (N counts down), pager links 下页/尾页 and `共N页`; dynamic `lm_list.jsp?…&PAGENUM=n`;
content in `#vsb_content` / `.v_news_content`; attachments via `download.jsp?urltype=news.DownloadAttachUrl`."""

from __future__ import annotations

import re
from typing import ClassVar
from urllib.parse import urljoin

from extract.families.base import Family, ListPage, _dedupe

_TOTAL_RE = re.compile(r"共\s*(\d+)\s*页")


class Vsb(Family):
    name: ClassVar[str] = "vsb"
    content_selectors: ClassVar[tuple[str, ...]] = ("#vsb_content", ".v_news_content", "#vsb_content_2")
    article_url_re: ClassVar[re.Pattern[str] | None] = re.compile(r"/info/\d+/\d+\.htm")

    @classmethod
    def detect(cls, url: str, html: str) -> int:
        score = 0
        if "Visual SiteBuilder" in html:
            score += 4
        if "vsb_content" in html or "v_news_content" in html or "_sitegray" in html:
            score += 2
        if "/system/resource/js/" in html or "_showDynClick" in html:
            score += 2
        if cls.article_url_re and cls.article_url_re.search(html):
            score += 1
        return score

    def parse_list(self, url: str, html: str) -> ListPage:
        page = super().parse_list(url, html)
        # a static column `col.htm` has pages `col/1.htm` … `col/{N-1}.htm`; enumerate them from the
        # first page when the pager shows 共N页, so a pager that only links neighbours still covers all
        m = _TOTAL_RE.search(html)
        last = url.rsplit("/", 1)[-1]
        if m and last.endswith(".htm") and not last[:-4].isdigit():
            total, stem = int(m.group(1)), last[:-4]
            if any(f"/{stem}/" in p for p in page.pages):
                page.pages.extend(urljoin(url, f"{stem}/{n}.htm") for n in range(1, min(total, 2000)))
        page.pages = _dedupe(p for p in page.pages if p != url)
        return page
