"""Hanweb 大汉 JCMS: `/art/YYYY/M/D/art_<col>_<doc>.html`; list records live in an XML data island
(`<script type="text/xml"><datastore>…<record><![CDATA[<li><a …>]]></record>`) that an HTML parser
does not see, paged by the jpage plugin through `dataproxy.jsp?startrecord=&endrecord=&perpage=`.

A proxy page is identified (crawl state, manifest) by one URL carrying all its parameters and fetched
with GET; sites that answer only POST get what jpage itself sends: the paging parameters in the URL,
the `ajaxParam` fields as a form body (`post_form`)."""

from __future__ import annotations

import re
from typing import ClassVar
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from extract.families.base import Family, ListPage, _dedupe, anchors

_ISLAND_RE = re.compile(r"<script[^>]*type=[\"']text/xml[\"'][^>]*>(.*?)</script>", re.S | re.I)
_RECORD_RE = re.compile(r"<record[^>]*>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)
_JPAGE_RE = re.compile(r"\.jpage\(\s*\{(.*?)\}\s*\)\s*;", re.S)
_KV_RE = re.compile(r"(\w+)\s*:\s*('([^']*)'|\"([^\"]*)\"|([\w.\-]+))")
_AJAX_RE = re.compile(r"ajaxParam\s*:\s*\{(.*?)\}", re.S)
_TOTAL_RE = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.I)
_PAGING = ("startrecord", "endrecord", "perpage")


def _kv(text: str) -> dict[str, str]:
    return {m.group(1): next(g for g in (m.group(3), m.group(4), m.group(5)) if g is not None)
            for m in _KV_RE.finditer(text)}


class Hanweb(Family):
    name: ClassVar[str] = "hanweb"
    content_selectors: ClassVar[tuple[str, ...]] = ("#zoom", "div.zoom", "div.bt-content")
    article_url_re: ClassVar[re.Pattern[str] | None] = re.compile(r"/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html")

    @classmethod
    def detect(cls, url: str, html: str) -> int:
        score = 0
        if "<datastore>" in html and "text/xml" in html:
            score += 3
        if ".jpage(" in html or "jpage/dataproxy.jsp" in html:
            score += 3
        if "ZJEG_RSS" in html or "<$[信息内容]>" in html:
            score += 2
        if cls.article_url_re and cls.article_url_re.search(html):
            score += 2
        if "/col/col" in url or "/module/web/jpage" in url:
            score += 1
        return score

    def parse_list(self, url: str, html: str) -> ListPage:
        page = super().parse_list(url, html)  # ordinary anchors (menus, non-jpage lists)
        records = []
        for island in _ISLAND_RE.findall(html) or ([html] if "<datastore" in html[:2000] else []):
            records.extend(_RECORD_RE.findall(island))
        for rec in records:
            page.items.extend(link for link, _ in anchors(url, rec))
        jp = _JPAGE_RE.search(html)
        if jp:
            page.pages.extend(self._proxy_pages(url, jp.group(1), len(records)))
        page.pages = _dedupe(p for p in page.pages if p != url)
        return page

    def _proxy_pages(self, url: str, cfg_text: str, already: int) -> list[str]:
        """dataproxy.jsp URLs for the records not in the data island, one request per group."""
        ajax = _AJAX_RE.search(cfg_text)
        params = _kv(ajax.group(1)) if ajax else {}
        cfg = _kv(_AJAX_RE.sub("", cfg_text))
        try:
            total = int(cfg.get("totalRecord", "0"))
            per = max(1, int(cfg.get("perPage", "15")))
            group = max(1, int(cfg.get("groupSize", "1")))
        except ValueError:
            return []
        proxy = urljoin(url, cfg.get("proxyUrl", "/module/web/jpage/dataproxy.jsp"))
        step = per * group
        out = []
        start = already + 1 if already else 1
        while start <= total and len(out) < 1000:
            end = min(total, start + step - 1)
            q = {"startrecord": start, "endrecord": end, "perpage": per, **params}
            out.append(f"{proxy}?{urlencode(q)}")
            start = end + 1
        return out

    def post_form(self, url: str) -> tuple[str, dict[str, str]] | None:
        parts = urlsplit(url)
        if not parts.path.endswith("/dataproxy.jsp"):
            return None
        query = parse_qsl(parts.query, keep_blank_values=True)
        paging = [(k, v) for k, v in query if k in _PAGING]
        form = {k: v for k, v in query if k not in _PAGING}
        return parts._replace(query=urlencode(paging), fragment="").geturl(), form
