"""The CMS-family adapter contract and the link heuristics every family shares.

Adapters are pure: they take a page's URL and decoded text and return links. They never fetch; the
crawler decides what to request, confines it and applies politeness.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import unquote, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

ATTACHMENT_EXTS = (".pdf", ".doc", ".docx", ".wps", ".xls", ".xlsx", ".et", ".ofd", ".zip", ".rar")
_ATTACH_QUERY_RE = re.compile(r"\.(pdf|docx?|wps|xlsx?|et|ofd)(?:$|[&#])", re.I)
_DOWNLOAD_RE = re.compile(r"(download\.jsp|downfile\.jsp|DownloadAttachUrl|/download/|downloadfile)", re.I)
_DATE_RE = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_YEAR_RE = re.compile(r"((?:19|20)\d{2})\s*年")
_REPORT_RE = re.compile(r"信息公开.{0,16}(报告|年报)|年度报告|(?:19|20)\d{2}\s*年报|政务公开.{0,8}年度报告")
# items that mention a report but are not one: notices about compiling it, explainers, news
_NOT_REPORT_RE = re.compile(r"通知|解读|图解|一图|读懂|会议|新闻|发布会|转发|征集|培训|部署|督查|评估|考核|工作要点|公告")
_WS_RE = re.compile(r"\s+")
# a menu link to the annual-report column itself (no year): followed like a list page
_COLUMN_RE = re.compile(r"^(政府)?(信息|政务)公开(工作)?(年度)?(报告|年报)(专栏)?$|^(政府)?信息公开(工作)?年度报告$|^年度报告$")
PAGER_WORDS = frozenset({"下一页", "下页", "尾页", "末页", "上一页", "上页", "首页", "后页", "前页", "最后一页",
                         ">", ">>", "»", "<", "<<", "«"})


def clean_text(s: str) -> str:
    return _WS_RE.sub("", s.replace("\xa0", " ")).strip()


def report_year(title: str) -> int | None:
    """Year of a report title (the first 19xx/20xx followed by 年), or None."""
    m = _YEAR_RE.search(clean_text(title))
    return int(m.group(1)) if m else None


def is_report_title(title: str) -> bool:
    """True for titles like `X2023年政府信息公开工作年度报告` and their variants (see NOTES.md §2)."""
    t = clean_text(title)
    if not t or len(t) > 120:
        return False
    return bool(_REPORT_RE.search(t)) and report_year(t) is not None and not _NOT_REPORT_RE.search(t)


def is_attachment_url(url: str, text: str = "") -> bool:
    by_url = _attachment_by_url(url)
    return by_url if by_url is not None else _attachment_by_text(text)


def _attachment_by_url(url: str) -> bool | None:
    """True/False when the URL alone decides; None for a download script (the link text decides)."""
    parts = urlsplit(url)
    if unquote(parts.path).lower().endswith(ATTACHMENT_EXTS) or _ATTACH_QUERY_RE.search(unquote(parts.query)):
        return True
    # download scripts (VSB download.jsp, Hanweb downfile.jsp) hide the extension in the link text
    return None if _DOWNLOAD_RE.search(url) else False


def _attachment_by_text(text: str) -> bool:
    t = clean_text(text).lower()
    return t.endswith(ATTACHMENT_EXTS) or "附件" in t or "下载" in t


def _usable_href(href: str | None) -> bool:
    if not href:
        return False
    h = href.strip().lower()
    return bool(h) and not h.startswith(("javascript:", "mailto:", "tel:", "#", "data:"))


@dataclass(frozen=True)
class Link:
    url: str
    text: str
    date: str | None = None  # yyyy-mm-dd as shown next to the link on a list page

    @property
    def sig(self) -> str:
        """What the list says about an item; a change means the item was re-published."""
        return f"{clean_text(self.text)}|{self.date or ''}"


@dataclass
class ListPage:
    items: list[Link] = field(default_factory=list)  # every item link (reports and noise)
    pages: list[str] = field(default_factory=list)  # further list pages (pagination)
    columns: list[str] = field(default_factory=list)  # links to an annual-report column (menus)

    def reports(self) -> list[Link]:
        seen: set[str] = set()
        out = []
        for link in self.items:
            if link.url not in seen and is_report_title(link.text):
                seen.add(link.url)
                out.append(link)
        return out


@dataclass
class ArticlePage:
    title: str | None
    attachments: list[Link] = field(default_factory=list)
    has_content: bool = False  # the family's content container was found


def _date_near(node) -> str | None:  # noqa: ANN001 - selectolax node
    """Date shown in the list row around a link (its li/tr/dd/div parent)."""
    cur = node
    for _ in range(3):
        cur = cur.parent
        if cur is None:
            return None
        m = _DATE_RE.search(cur.text(deep=True) or "")
        if m:
            return f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
        if cur.tag in ("li", "tr", "dd", "dl"):
            return None
    return None


def anchors(url: str, html: str, tree: LexborHTMLParser | None = None, *,
            attachments_only: bool = False) -> list[tuple[Link, str]]:
    """Every usable <a href> on a page as (Link, raw link text). `tree`: the page already parsed.
    `attachments_only`: only the links `is_attachment_url` accepts (the text and date of the others
    are never computed)."""
    if tree is None:
        tree = LexborHTMLParser(html)
    base = url
    b = tree.css_first("base[href]")
    if b is not None and _usable_href(b.attributes.get("href")):
        base = urljoin(url, b.attributes["href"] or "")
    out = []
    for a in tree.css("a[href]"):
        href = a.attributes.get("href")
        if not _usable_href(href):
            continue
        try:
            absolute = urljoin(base, (href or "").strip())
        except ValueError:
            continue
        link_url = absolute.split("#")[0]
        by_url = _attachment_by_url(link_url) if attachments_only else True
        if by_url is False:
            continue
        text = (a.text(deep=True) or "").strip()
        title = (a.attributes.get("title") or "").strip()
        if title and len(clean_text(title)) > len(clean_text(text)):  # list texts are often cut with …
            text = title
        if by_url is None and not _attachment_by_text(text):
            continue
        out.append((Link(link_url, text, _date_near(a)), clean_text(text)))
    return out


class Family:
    """Generic behaviour; CMS families override what their markup needs."""

    name: ClassVar[str] = "generic"
    content_selectors: ClassVar[tuple[str, ...]] = ()
    article_url_re: ClassVar[re.Pattern[str] | None] = None

    @classmethod
    def detect(cls, url: str, html: str) -> int:
        """Fingerprint score of this family for a page (0 = no evidence)."""
        return 0

    def is_article_url(self, url: str) -> bool:
        return bool(self.article_url_re and self.article_url_re.search(url))

    # -- list pages ----------------------------------------------------------------------------
    def parse_list(self, url: str, html: str) -> ListPage:
        page = ListPage()
        for link, text in anchors(url, html):
            if self._is_pager(text, link.url, url):
                page.pages.append(link.url)
            elif _COLUMN_RE.match(text) and link.url != url:
                page.columns.append(link.url)
            else:
                page.items.append(link)
        page.pages = _dedupe(p for p in page.pages if p != url)
        return page

    def post_form(self, url: str) -> tuple[str, dict[str, str]] | None:
        """(url, form) to POST instead of GETting list page `url`, for servers that answer only POST;
        None: this family's list pages are plain GETs."""
        return None

    def _is_pager(self, text: str, link_url: str, list_url: str) -> bool:
        if text in PAGER_WORDS or re.fullmatch(r"第?\d{1,4}页?", text or "-"):
            return _near(link_url, list_url)
        return False

    # -- article pages -------------------------------------------------------------------------
    def parse_article(self, url: str, html: str) -> ArticlePage:
        tree = LexborHTMLParser(html)
        title_node = tree.css_first("title")
        title = (title_node.text() or "").strip() if title_node is not None else None
        meta = tree.css_first('meta[name="ArticleTitle"]')
        if meta is not None and meta.attributes.get("content"):
            title = meta.attributes["content"]
        has_content = any(tree.css_first(sel) is not None for sel in self.content_selectors)
        atts = [link for link, _ in anchors(url, html, tree, attachments_only=True)]
        return ArticlePage(title=title, attachments=_dedupe_links(atts), has_content=has_content)


def _near(link_url: str, list_url: str) -> bool:
    """Pager links stay in the list's directory (or a sub-directory named after the list page)."""
    a, b = urlsplit(link_url), urlsplit(list_url)
    if a.netloc != b.netloc:
        return False
    base_dir = b.path.rsplit("/", 1)[0] + "/"
    return a.path.startswith(base_dir)


def _dedupe(items) -> list[str]:  # noqa: ANN001
    seen: set[str] = set()
    out = []
    for x in items:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


def _dedupe_links(links: list[Link]) -> list[Link]:
    seen: set[str] = set()
    out = []
    for link in links:
        if link.url not in seen:
            seen.add(link.url)
            out.append(link)
    return out
