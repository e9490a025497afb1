"""Offline demo portals: deterministic (seeded) sites of three CMS families plus an unfamiliar one.

Four sites, each its own origin on the demo server (see server.py):

| site    | family  | unit            | charset | list pagination                                  |
|---------|---------|-----------------|---------|--------------------------------------------------|
| hanweb  | Hanweb  | 云溪县 + 7 towns | UTF-8   | data island (page 1) + jpage dataproxy.jsp groups (POST only) |
| trs     | TRS WCM | 青禾县 + 7 towns | UTF-8   | `var countPage = N`, index_N.html                 |
| vsb     | VSB     | 石泉县 + 7 towns | GBK     | xxgknb.htm, xxgknb/N.htm counting down, 下页/尾页  |
| generic | custom  | 柳江镇           | UTF-8   | list.php?page=N, 下一页/尾页/page numbers          |

Every unit has reports for 2021-2023, as an HTML article (report inside the family's content
container) or as a short article with a PDF/DOCX attachment. Lists mix in noise (news, notices,
other units' reports), a broken link, a robots-disallowed item (vsb `/private/`), an off-site link
(generic), and a few transient faults (500 once, 503 once, 429 + Retry-After once).
Bodies are rendered lazily by `extract.demo.render` and cached. `demo_truths()` exposes what each
report says, with URLs in placeholder form (`http://{demo:trs}/…`), exactly as the crawler records
demo URLs in the manifest.
"""

from __future__ import annotations

import hashlib
import html as htmlmod
import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import cache
from types import ModuleType
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

DEFAULT_SEED = 20240601
YEARS = (2021, 2022, 2023)
PER_PAGE = 10
PREFECTURE = "演示市"
PROVINCE = "演示省"


# -- resources and faults ---------------------------------------------------------------------------
@dataclass
class Resource:
    """One servable document; `body` may be a zero-argument callable, rendered once on first use."""

    body: bytes | Callable[[], bytes]
    content_type: str
    modified: datetime
    headers: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def data(self) -> bytes:
        if callable(self.body):
            with self._lock:
                if callable(self.body):
                    self.body = self.body()
        assert isinstance(self.body, bytes)
        return self.body

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.data()).hexdigest()[:20] + '"'

    @property
    def last_modified(self) -> str:
        return format_datetime(self.modified, usegmt=True)


@dataclass
class Fault:
    """A misbehaviour on one path. kind: status (send `status`), retry_after (429 + Retry-After),
    redirect (302 to `location`), slow (sleep `delay` before answering), drip (send the body slowly), truncate (declare more
    bytes than sent, then close), redirect_loop (A -> B -> A), redirect_chain (endless new URLs),
    oversize (`size` bytes, with Content-Length), oversize_nolen (same, no Content-Length),
    wrong_charset (header says UTF-8, bytes are GBK). `times`: how many requests misbehave
    (None = all)."""

    kind: str
    status: int = 500
    times: int | None = 1
    delay: float = 0.0
    retry_after: int = 1
    size: int = 0
    location: str = ""  # kind "redirect": where to send the client
    used: int = 0

    def fire(self) -> bool:
        if self.times is not None and self.used >= self.times:
            return False
        self.used += 1
        return True


class Site:
    """A static site: path (with query) -> Resource, robots.txt text, per-path faults."""

    def __init__(self, name: str, *, charset: str = "utf-8", robots: str = "User-agent: *\nDisallow:\n") -> None:
        self.name = name
        self.charset = charset
        self.robots = robots
        self.resources: dict[str, Resource] = {}
        self.faults: dict[str, Fault] = {}
        # paths (no query) answered only to POST (405 to GET); the form fields join the query
        self.post_only: set[str] = set()

    def put(self, path: str, body: bytes | Callable[[], bytes], content_type: str = "text/html; charset=utf-8",
            modified: datetime | None = None, headers: dict[str, str] | None = None) -> None:
        self.resources[path] = Resource(body, content_type, modified or datetime(2024, 1, 1, tzinfo=UTC),
                                        dict(headers or {}))

    def get(self, path: str) -> Resource | None:
        if path == "/robots.txt":
            return Resource(self.robots.encode(), "text/plain; charset=utf-8", datetime(2024, 1, 1, tzinfo=UTC))
        return self.resources.get(path)

    def republish(self, path: str, body: bytes | None = None) -> None:
        """Replace a document's bytes (a corrected re-publication); lists show the new date."""
        res = self.resources[path]
        if body is None:
            old = res.data()
            note = "<p>（本报告于2024年6月1日更正个别数据表述。）</p>".encode(_py_charset(self.charset),
                                                                       "xmlcharrefreplace")
            body = old.replace(b"</body>", note + b"</body>") if b"</body>" in old else old + note
        self.resources[path] = Resource(body, res.content_type, datetime(2024, 6, 1, tzinfo=UTC), res.headers)


def _py_charset(cs: str) -> str:
    return "gb18030" if cs.lower() in ("gbk", "gb2312") else cs


# -- the family sites ------------------------------------------------------------------------------
@dataclass
class Item:
    title: str
    date: str  # YYYY-MM-DD
    path: str  # absolute path on the site (or a full URL for off-site links)
    kind: str  # report | noise | broken | robots | offsite


class DemoTruth(NamedTuple):
    portal_id: str
    unit: str
    year: int
    template: str
    truth: Any  # extract.demo.render.ReportTruth
    url: str  # placeholder form, e.g. http://{demo:trs}/zwgk/zfxxgknb/202401/t20240115_3001.html
    fmt: str  # html_spans | html_flat | pdf | docx


@dataclass(frozen=True)
class _Spec:
    site: str
    portal_id: str
    family: str
    county: str
    towns: tuple[str, ...]
    charset: str = "utf-8"


SPECS = (
    _Spec("hanweb", "demo-hanweb-yunxi", "hanweb", "云溪县",
          ("青石镇", "白沙镇", "柳河乡", "东坪镇", "桃源街道", "龙泉镇", "西岭乡")),
    _Spec("trs", "demo-trs-qinghe", "trs", "青禾县",
          ("城关镇", "河口镇", "南山乡", "北塘镇", "金桥街道", "石桥镇", "新华乡")),
    _Spec("vsb", "demo-vsb-shiquan", "vsb", "石泉县",
          ("江北街道", "大河镇", "松林乡", "红岩镇", "双溪镇", "花园乡", "高峰镇"), charset="gbk"),
)
GENERIC_TOWN = ("generic", "demo-generic-liujiang", "云溪县", "柳江镇")

_NOISE_TITLES = ("{c}召开{y}年度政务公开工作推进会", "关于做好{y}年政府信息公开工作年度报告编制工作的通知",
                 "{c}{y}年度重点工作进展情况", "一图读懂{c}{y}年政府信息公开工作年度报告",
                 "{c}开展政务公开日活动", "{c}{y}年政府网站工作年度报表")
_OTHER_UNITS = ("演示市人民政府", "邻水县人民政府", "演示省人民政府办公厅")


class FamilySite(Site):
    """A county portal of one CMS family, its list pages rendered on request from `items`."""

    def __init__(self, spec: _Spec, items: list[Item]) -> None:
        super().__init__(spec.site, charset=spec.charset)
        self.spec = spec
        self.items = items
        self.per_page = 4 if spec.family == "generic" else PER_PAGE  # the one-town site still pages
        if spec.family == "hanweb":  # as on some real Hanweb sites: jpage's proxy answers only POST
            self.post_only.add("/module/web/jpage/dataproxy.jsp")

    def republish(self, path: str, body: bytes | None = None) -> None:
        super().republish(path, body)
        for it in self.items:
            if it.path == path:
                it.date = "2024-06-01"
        self.items.sort(key=lambda i: i.date, reverse=True)

    def _enc(self, text: str) -> bytes:
        return text.encode(_py_charset(self.charset), "xmlcharrefreplace")

    def _ctype(self, kind: str = "text/html") -> str:
        return f"{kind}; charset={'GBK' if self.charset == 'gbk' else 'UTF-8'}"

    def _list_resource(self, text: str, kind: str = "text/html") -> Resource:
        newest = max((i.date for i in self.items), default="2024-01-01")
        y, m, d = map(int, newest.split("-"))
        return Resource(self._enc(text), self._ctype(kind), datetime(y, m, d, 8, 0, tzinfo=UTC))

    def pages(self) -> list[list[Item]]:
        return [self.items[i:i + self.per_page] for i in range(0, len(self.items), self.per_page)]

    def get(self, path: str) -> Resource | None:
        res = super().get(path)
        if res is not None:
            return res
        fam = self.spec.family
        parts = urlsplit(path)
        pages = self.pages()
        if fam == "trs":
            m = re.fullmatch(r"/zwgk/zfxxgknb/(?:index(?:_(\d+))?\.html)?", parts.path)
            if m:
                n = int(m.group(1) or 0)
                return self._list_resource(_trs_list(self, pages, n)) if n < len(pages) else None
        elif fam == "hanweb":
            if parts.path == "/col/col1229/index.html":
                return self._list_resource(_hanweb_list(self, pages))
            if parts.path == "/module/web/jpage/dataproxy.jsp":
                q = {k: v[0] for k, v in parse_qs(parts.query).items()}
                try:
                    start, end = int(q["startrecord"]), int(q["endrecord"])
                except (KeyError, ValueError):
                    return None
                return self._list_resource(_hanweb_proxy(self, start, end), "text/xml")
        elif fam == "vsb":
            if parts.path == "/xxgk/xxgknb.htm":
                return self._list_resource(_vsb_list(self, pages, 0))
            m = re.fullmatch(r"/xxgk/xxgknb/(\d+)\.htm", parts.path)
            if m:
                k = len(pages) - int(m.group(1))  # N.htm counts down from the last page
                return self._list_resource(_vsb_list(self, pages, k)) if 0 < k < len(pages) else None
        elif fam == "generic":
            if parts.path == "/news/list.php":
                q = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if q.get("cat") != "gknb":
                    return None
                n = int(q.get("page", "1")) if q.get("page", "1").isdigit() else 0
                return self._list_resource(_generic_list(self, pages, n - 1)) if 0 < n <= len(pages) else None
            if parts.path in ("/", "/index.php"):
                return self._list_resource(_generic_home(self))
        return None


def _a(href: str, title: str) -> str:
    return f'<a href="{htmlmod.escape(href)}" title="{htmlmod.escape(title)}" target="_blank">{htmlmod.escape(title)}</a>'


def _page_html(charset: str, title: str, body: str, head: str = "") -> str:
    cs = "GBK" if charset == "gbk" else "UTF-8"
    return (f'<!DOCTYPE html>\n<html><head><meta http-equiv="Content-Type" content="text/html; charset={cs}">'
            f"<title>{htmlmod.escape(title)}</title>{head}</head>\n<body>\n{body}\n</body></html>\n")


def _trs_list(site: FamilySite, pages: list[list[Item]], n: int) -> str:
    rows = "".join(
        f'<tr><td width="20"><img src="../../images/gl_ico.jpg"></td><td align="left">'
        f'{_a(_rel_trs(i.path), i.title)}</td><td width="90">{i.date}</td></tr>\n' for i in pages[n])
    pager = (f"<script>\nvar currentPage = {n};//所在页从0开始\nvar countPage = {len(pages)}//共多少页\n"
             'if(countPage>1&&currentPage!=(countPage-1)){document.write("<a href=\\"index_"+(currentPage+1)+".html\\">下一页</a>");}\n'
             "</script>")
    body = (f'<div class="top">{site.spec.county}人民政府</div>'
            '<div class="CurrChnlCls"><a href="../../">首页</a> &gt; <a href="../">政务公开</a> &gt; '
            '<a href="./">政府信息公开年报</a></div>'
            f'<table width="682" class="gl_list"><tbody>\n{rows}</tbody></table>\n<div class="page">{pager}</div>'
            '<div class="foot">主办：青禾县人民政府办公室 <a href="/wzsm/">网站声明</a></div>')
    return _page_html(site.charset, f"政府信息公开年报_{site.spec.county}人民政府", body)


def _rel_trs(path: str) -> str:
    return "." + path[len("/zwgk/zfxxgknb"):] if path.startswith("/zwgk/zfxxgknb/") else path


def _hanweb_record(i: Item) -> str:
    return f"<record><![CDATA[<li>{_a(i.path, i.title)}<span>{i.date}</span></li>]]></record>"


def _hanweb_list(site: FamilySite, pages: list[list[Item]]) -> str:
    first = "".join(_hanweb_record(i) for i in pages[0])
    total = len(site.items)
    ajax = ("{col:1,appid:'1',webid:1,path:'/',columnid:1229,unitid:'4321',"
            f"webname:'{site.spec.county}人民政府',permissiontype:0}}")
    body = (f'<div class="head">{site.spec.county}人民政府</div>'
            '<div class="bt-position"><a href="/">首页</a> &gt; <a href="/col/col1229/index.html">政府信息公开年报</a></div>'
            '<div id="4321"><script type="text/xml"><datastore><nextgroup><![CDATA[<a href="/module/web/jpage/'
            'dataproxy.jsp?page=1&webid=1&path=/&columnid=1229&unitid=4321&permissiontype=0"></a>]]></nextgroup>'
            f"<recordset>{first}</recordset></datastore></script></div>\n"
            "<script>$(function(){$('#4321').jpage({themeName:'default',showMode:'full',"
            f"totalRecord:{total},openCookies:false,dataBefore:'<ul class=\"list\">',dataAfter:'</ul>',groupSize:1,"
            f"proxyUrl:'/module/web/jpage/dataproxy.jsp',perPage:{PER_PAGE},barPosition:'bottom',ajaxParam:{ajax}}});}});"
            "</script>")
    return _page_html(site.charset, f"政府信息公开年报 {site.spec.county}人民政府", body,
                      '<script src="/module/jslib/jquery/jquery.js"></script>')


def _hanweb_proxy(site: FamilySite, start: int, end: int) -> str:
    recs = "".join(_hanweb_record(i) for i in site.items[max(0, start - 1):end])
    total = len(site.items)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<datastore><nextgroup><![CDATA[]]></nextgroup>'
            f"<recordset>{recs}</recordset><totalrecord>{total}</totalrecord>"
            f"<totalpage>{-(-total // PER_PAGE)}</totalpage></datastore>")


def _vsb_href(k: int, n_pages: int, from_k: int) -> str:
    """Link from list page `from_k` to page `k` (0-based) of a VSB static column."""
    target = "xxgknb.htm" if k == 0 else f"xxgknb/{n_pages - k}.htm"
    if from_k == 0:
        return target
    return "../xxgknb.htm" if k == 0 else f"{n_pages - k}.htm"


def _vsb_list(site: FamilySite, pages: list[list[Item]], k: int) -> str:
    up = "../" if k == 0 else "../../"
    lis = "".join(f'<li id="line_u8_{j}">{_a(up + i.path.lstrip("/"), i.title)}<span>{i.date}</span></li>\n'
                  for j, i in enumerate(pages[k]))
    n = len(pages)
    pager = ['<div class="pb_sys_common pb_sys_normal"><span class="p_pages">']
    if k > 0:
        pager.append(f'<span class="p_first"><a href="{_vsb_href(0, n, k)}">首页</a></span>'
                     f'<span class="p_prev"><a href="{_vsb_href(k - 1, n, k)}">上页</a></span>')
    for j in range(max(0, k - 1), min(n, k + 2)):  # VSB shows a window of neighbours only
        pager.append(f'<span class="p_no_d">{j + 1}</span>' if j == k else
                     f'<span class="p_no"><a href="{_vsb_href(j, n, k)}">{j + 1}</a></span>')
    if k < n - 1:
        pager.append(f'<span class="p_next"><a href="{_vsb_href(k + 1, n, k)}">下页</a></span>'
                     f'<span class="p_last"><a href="{_vsb_href(n - 1, n, k)}">尾页</a></span>')
    pager.append(f"</span> 共{n}页</div>")
    body = ("<!--Announced by Visual SiteBuilder 9-->\n"
            '<script language="javascript" src="/system/resource/js/counter.js"></script>'
            f'<div class="header">{site.spec.county}人民政府</div>'
            f'<div class="list"><ul>\n{lis}</ul></div>{"".join(pager)}')
    return _page_html(site.charset, f"政府信息公开年报-{site.spec.county}人民政府", body,
                      '<script src="/_sitegray/_sitegray.js"></script>')


def _generic_list(site: FamilySite, pages: list[list[Item]], k: int) -> str:
    dls = "".join(f"<dl><dt>{_a(i.path, i.title)}</dt><dd>发布时间：{i.date}</dd></dl>\n" for i in pages[k])
    n = len(pages)
    links = ['<a href="list.php?cat=gknb&amp;page=1">首页</a>']
    if k > 0:
        links.append(f'<a href="list.php?cat=gknb&amp;page={k}">上一页</a>')
    links += [f'<a href="list.php?cat=gknb&amp;page={j + 1}">{j + 1}</a>' for j in range(n) if j != k]
    if k < n - 1:
        links.append(f'<a href="list.php?cat=gknb&amp;page={k + 2}">下一页</a>')
    links.append(f'<a href="list.php?cat=gknb&amp;page={n}">尾页</a>')
    body = ('<div class="nav"><a href="/">网站首页</a> | <a href="/news/list.php?cat=zwdt">政务动态</a> | '
            '<a href="/news/list.php?cat=gknb">政府信息公开年报</a></div>'
            f'<div class="newslist">\n{dls}</div><div class="pagelist">{" ".join(links)}</div>')
    return _page_html(site.charset, "政府信息公开年报 - 柳江镇人民政府", body)


def _generic_home(site: FamilySite) -> str:
    body = ('<div class="nav"><a href="/">网站首页</a> | <a href="/news/list.php?cat=zwdt">政务动态</a> | '
            '<a href="/news/list.php?cat=gknb">政府信息公开年报</a></div><p>欢迎访问柳江镇人民政府网站</p>')
    return _page_html(site.charset, "柳江镇人民政府", body)


# -- article chrome -----------------------------------------------------------------------------------
_BODY_RE = re.compile(rb"<body[^>]*>(.*)</body>", re.S | re.I)


def _report_body(doc: bytes) -> str:
    m = _BODY_RE.search(doc)
    return (m.group(1) if m else doc).decode("utf-8")


def _article(site: FamilySite, title: str, date: str, inner: str, attach: tuple[str, str] | None) -> bytes:
    fam, t = site.spec.family, htmlmod.escape(title)
    att_html = ""
    if attach:
        href, name = attach
        if fam == "vsb":
            att_html = (f'<ul style="list-style-type:none;"><li>附件【<a href="{href}" target="_blank">{name}</a>】'
                        '已下载<span id="nattach">0</span>次</li></ul>')
        else:
            att_html = f'<div class="fujian">附件：<a href="{href}">{name}</a></div>'
    if fam == "trs":
        body = (f'<div class="CurrChnlCls"><a href="../../../">首页</a> &gt; <a href="../">政府信息公开年报</a></div>'
                f'<div class="xl_tit"><h1>{t}</h1><span>发布日期：{date}</span></div>'
                f'<div class="TRS_Editor">{inner}</div>{att_html}')
        y, m, d = date.split("-")
        head = (f'<meta name="ArticleTitle" content="{t}"><meta name="PubDate" content="{y}年{m}月{d}日">'
                f'<meta name="ContentSource" content="{site.spec.county}人民政府办公室">')
    elif fam == "hanweb":
        body = (f'<div class="main-fl-tit">{t}</div><table class="xxgk_table"><tr><td>索引号：</td>'
                f'<td>11330000000000000X/{date[:4]}-00001</td><td>发布日期：</td><td>{date}</td></tr></table>'
                '<div id="zoom"><!--<$[信息内容]>begin--><!--ZJEG_RSS.content.begin--><meta name="ContentStart">'
                f'{inner}<meta name="ContentEnd"><!--ZJEG_RSS.content.end--><!--<$[信息内容]>end--></div>{att_html}')
        head = f'<meta name="ArticleTitle" content="{t}"><meta name="pubdate" content="{date}">'
    elif fam == "vsb":
        body = ("<!--Announced by Visual SiteBuilder 9-->"
                f'<form name="_newscontent_fromname"><div class="content-title"><h3>{t}</h3>'
                f'<span>发布时间：{date}</span></div><div id="vsb_content"><div class="v_news_content">'
                f'<p class="vsbcontent_start"></p>{inner}</div></div>{att_html}</form>')
        head = '<script src="/system/resource/js/counter.js"></script>'
    else:
        body = f'<div class="show"><h1>{t}</h1><div class="info">发布时间：{date}</div><div class="content">{inner}</div>{att_html}</div>'
        head = ""
    return site._enc(_page_html(site.charset, title, body, head))


# -- building the world ---------------------------------------------------------------------------------
@dataclass
class DemoWorld:
    sites: dict[str, Site]
    truths: list[DemoTruth]
    portal_ids: dict[str, str]  # site name -> portal id


def _renderer(renderer: ModuleType | Any | None) -> Any:
    if renderer is not None:
        return renderer
    from extract.demo import render
    return render


def build_demo(seed: int = DEFAULT_SEED, *, renderer: Any | None = None, faults: bool = True,
               years: tuple[int, ...] = YEARS) -> DemoWorld:
    """The demo world. Same seed, same sites, same bytes, same truths. `years` widens it (benchmarks)."""
    R = _renderer(renderer)
    rng = random.Random(seed)
    sites: dict[str, Site] = {}
    truths: list[DemoTruth] = []
    portal_ids = {}
    specs: list[tuple[_Spec, list[tuple[str, str]]]] = []
    for spec in SPECS:
        units = [(spec.county, f"{spec.county}人民政府")]
        units += [(f"{spec.county}{t}", f"{spec.county}{t}{'办事处' if t.endswith('街道') else '人民政府'}")
                  for t in spec.towns]
        specs.append((spec, units))
    g_site, g_pid, g_county, g_town = GENERIC_TOWN
    specs.append((_Spec(g_site, g_pid, "generic", g_county, (g_town,)), [(f"{g_county}{g_town}", f"{g_town}人民政府")]))

    doc_no = 3000
    for spec, units in specs:
        items: list[Item] = []
        site = FamilySite(spec, items)
        portal_ids[spec.site] = spec.portal_id
        for unit, unit_title in units:
            for year in years:
                doc_no += 1
                urng = random.Random(f"{seed}:{spec.site}:{unit}:{year}")
                truth = R.random_truth(urng, unit=unit, unit_title=unit_title, year=year, template="gov2021",
                                       zero_share=0.5 if "镇" in unit or "乡" in unit or "街道" in unit else 0.3)
                fmt = urng.choices(("html_spans", "html_flat", "pdf", "docx"), weights=(35, 25, 20, 20))[0]
                month, day = urng.randint(1, 3), urng.randint(1, 28)
                date = f"{year + 1}-{month:02d}-{day:02d}"
                title = f"{unit_title}{year}年政府信息公开工作年度报告"
                path, att_path, att_name = _doc_paths(spec, year + 1, month, day, doc_no, fmt)
                items.append(Item(title, date, path, "report"))
                modified = datetime(year + 1, month, day, 9, 0, tzinfo=UTC)
                ctype = site._ctype()
                if fmt.startswith("html"):
                    site.put(path, _lazy_html(site, R, truth, fmt, title, date), ctype, modified)
                    url = path
                else:
                    inner = f"<p>{htmlmod.escape(title)}详见附件。</p>"
                    site.put(path, _lazy_article(site, title, date, inner, (_att_href(spec, path, att_path), att_name)),
                             ctype, modified)
                    mime = ("application/pdf" if fmt == "pdf" else
                            "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
                    site.put(att_path, _lazy_doc(R, truth, fmt), mime, modified,
                             {"Content-Disposition": f'attachment; filename="{doc_no}.{fmt}"'})
                    url = att_path
                truths.append(DemoTruth(spec.portal_id, unit, year, "gov2021", truth,
                                        f"http://{{demo:{spec.site}}}{url}", fmt))
        _add_noise(site, spec, rng, doc_no)
        doc_no += 1000
        items.sort(key=lambda i: (i.date, i.path), reverse=True)
        _spread_noise(items, site.per_page)
        if faults:
            _default_faults(site)
        sites[spec.site] = site
    return DemoWorld(sites, truths, portal_ids)


def _doc_paths(spec: _Spec, y: int, m: int, d: int, doc_no: int, fmt: str) -> tuple[str, str, str]:
    ext = "pdf" if fmt == "pdf" else "docx"
    if spec.family == "trs":
        path = f"/zwgk/zfxxgknb/{y}{m:02d}/t{y}{m:02d}{d:02d}_{doc_no}.html"
        att = f"/zwgk/zfxxgknb/{y}{m:02d}/P0{y}{m:02d}{d:02d}{doc_no}{doc_no % 97:02d}.{ext}"
    elif spec.family == "hanweb":
        path = f"/art/{y}/{m}/{d}/art_1229_{doc_no}.html"
        att = f"/module/download/downfile.jsp?classid=0&filename={hashlib.md5(str(doc_no).encode()).hexdigest()[:16]}.{ext}"
    elif spec.family == "vsb":
        path = f"/info/1051/{doc_no}.htm"
        att = f"/system/_content/download.jsp?urltype=news.DownloadAttachUrl&owner=1348056928&wbfileid={doc_no}"
    else:
        path = f"/show.php?id={doc_no}"
        att = f"/uploads/file/{y}{m:02d}/{hashlib.md5(str(doc_no).encode()).hexdigest()[:20]}.{ext}"
    return path, att, f"{spec.county}{doc_no}号年报.{ext}"


def _att_href(spec: _Spec, article_path: str, att_path: str) -> str:
    if spec.family == "trs":  # TRS writes attachment links relative to the article
        return "./" + att_path.rsplit("/", 1)[-1]
    return att_path


def _lazy_html(site: FamilySite, R: Any, truth: Any, fmt: str, title: str, date: str) -> Callable[[], bytes]:
    return lambda: _article(site, title, date, _report_body(R.render(truth, fmt)), None)


def _lazy_article(site: FamilySite, title: str, date: str, inner: str, att: tuple[str, str]) -> Callable[[], bytes]:
    return lambda: _article(site, title, date, inner, att)


def _lazy_doc(R: Any, truth: Any, fmt: str) -> Callable[[], bytes]:
    return lambda: R.render(truth, fmt)


def _add_noise(site: FamilySite, spec: _Spec, rng: random.Random, base_no: int) -> None:
    items = site.items
    n = base_no + 50
    for k, tmpl in enumerate(_NOISE_TITLES):
        y = YEARS[k % len(YEARS)]
        n += 1
        path = _doc_paths(spec, y + 1, 1 + k % 3, 10 + k, n, "html")[0]
        title = tmpl.format(c=spec.county, y=y)
        site.put(path, _article(site, title, f"{y + 1}-0{1 + k % 3}-{10 + k}", "<p>新闻内容。</p>", None),
                 site._ctype())
        items.append(Item(title, f"{y + 1}-0{1 + k % 3}-{10 + k}", path, "noise"))
    if spec.family != "generic":  # other units' reports reposted on this portal: filtered by `units`
        for k, other in enumerate(_OTHER_UNITS):
            n += 1
            y = YEARS[k % len(YEARS)]
            path = _doc_paths(spec, y + 1, 2, 5 + k, n, "html")[0]
            title = f"{other}{y}年政府信息公开工作年度报告"
            site.put(path, _article(site, title, f"{y + 1}-02-0{5 + k}", "<p>其他单位报告。</p>", None),
                     site._ctype())
            items.append(Item(title, f"{y + 1}-02-0{5 + k}", path, "noise"))
    n += 1
    if spec.family == "trs":  # a report link whose page was deleted
        items.append(Item(f"{spec.county}2020年政府信息公开工作年度报告", "2021-01-20",
                          _doc_paths(spec, 2021, 1, 20, n, "html")[0], "broken"))
    if spec.family == "vsb":  # robots.txt disallows /private/
        site.robots = "User-agent: *\nDisallow: /private/\nDisallow: /system/resource/\n"
        items.append(Item(f"{spec.county}2023年政府信息公开工作年度报告（内部征求意见稿）", "2024-01-05",
                          "/private/info/1051/9999.htm", "robots"))
        site.put("/private/info/1051/9999.htm", b"<html><body>internal</body></html>", site._ctype())
    if spec.family == "generic":  # a mirror site copying the report: off-site, never followed
        items.append(Item("柳江镇2023年政府信息公开工作年度报告（转载）", "2024-02-02",
                          "http://mirror.example.com/show.php?id=1", "offsite"))
    if spec.family == "hanweb":  # an article whose second attachment is a dead link
        first = next(i for i in items if i.kind == "report")
        res = site.resources[first.path]
        inner_fn = res.body

        def with_dead_link(fn: Any = inner_fn) -> bytes:
            doc = fn() if callable(fn) else fn
            dead = site._enc('<div class="fujian">附件2：<a href="/module/download/downfile.jsp?classid=0&'
                             'filename=deadbeef00000000.xls">政府信息公开统计表.xls</a></div>')
            return doc.replace(b"</body>", dead + b"</body>")
        res.body = with_dead_link


def _spread_noise(items: list[Item], per_page: int) -> None:
    """Every list page must carry at least one report (else the crawler rightly flags it)."""
    def reports_on(k: int) -> int:
        first = (k // per_page) * per_page
        return sum(x.kind == "report" for x in items[first:first + per_page])
    for start in range(0, len(items), per_page):
        if not any(i.kind == "report" for i in items[start:start + per_page]):
            j = next(k for k in range(len(items)) if items[k].kind == "report" and reports_on(k) > 1)
            items[start], items[j] = items[j], items[start]


def _default_faults(site: FamilySite) -> None:
    reports = [i for i in site.items if i.kind == "report"]
    fam = site.spec.family
    if fam == "trs":
        site.faults[reports[3].path] = Fault("status", status=500, times=1)
    elif fam == "hanweb":
        # matched on the path without query: the first dataproxy request fails once
        site.faults["/module/web/jpage/dataproxy.jsp"] = Fault("status", status=503, times=1)
    elif fam == "vsb":
        site.faults[reports[5].path] = Fault("retry_after", status=429, retry_after=1, times=1)


@cache
def _default_world() -> DemoWorld:
    return build_demo(DEFAULT_SEED)


def demo_truths(seed: int = DEFAULT_SEED) -> list[DemoTruth]:
    """Every report on the demo portals with its known content: (portal_id, unit, year, template,
    ReportTruth, url, fmt); url in placeholder form `http://{demo:SITE}/…` as in the manifest."""
    return list(_default_world().truths if seed == DEFAULT_SEED else build_demo(seed).truths)


def placeholder_url(url: str, hosts: dict[str, str]) -> str:
    """Map a real demo URL (127.0.0.1:port) back to its placeholder form."""
    inv = {v: k for k, v in hosts.items()}
    parts = urlsplit(url)
    if parts.netloc in inv:
        return url.replace(parts.netloc, "{demo:" + inv[parts.netloc] + "}", 1)
    return url
