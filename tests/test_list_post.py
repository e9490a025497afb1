"""List pages of sites that answer only POST (Hanweb's jpage dataproxy.jsp): the fetcher's POST, the
family's POST form of a proxy URL, and how a portal comes to use it (registry option, a 405, the
method remembered in crawl_state)."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import duckdb
import pytest

from extract.crawl import CrawlConfig, crawl_portals
from extract.demo.server import DemoServer
from extract.demo.site import Fault, Site, build_demo
from extract.families.hanweb import Hanweb
from extract.http import FetchConfig, Fetcher
from extract.registry import Portal, load_registry

FAST = CrawlConfig(fetch=FetchConfig(per_host_delay=0.0, backoff_base=0.01, retries=1))


@pytest.fixture(scope="module")
def world():  # noqa: ANN201
    return build_demo(faults=False)


def _hanweb(srv: DemoServer, **options: object) -> Portal:
    p = next(p for p in load_registry() if p.demo and p.family == "hanweb").resolve_demo(srv.hosts)
    return dataclasses.replace(p, options={**p.options, **options})


def _proxy(srv: DemoServer) -> list[tuple[str, int, str, str]]:
    return [(r.method, r.status, r.path, r.form) for r in srv.requests("hanweb") if "dataproxy" in r.path]


def test_post_form_of_a_proxy_url_is_what_jpage_sends() -> None:
    url = ("http://x.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=16&endrecord=30&perpage=15&col=1&appid=1"
           "&webid=3&path=%2F&columnid=314&unitid=424388&webname=%E5%8F%91%E6%94%B9%E5%A7%94&permissiontype=0")
    assert Hanweb().post_form(url) == (
        "http://x.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=16&endrecord=30&perpage=15",
        {"col": "1", "appid": "1", "webid": "3", "path": "/", "columnid": "314", "unitid": "424388",
         "webname": "发改委", "permissiontype": "0"})
    assert Hanweb().post_form("http://x.gov.cn/col/col314/index.html") is None  # pages of HTML: plain GETs


def test_registry_option_posts_from_the_start(world, tmp_path: Path) -> None:  # noqa: ANN001
    with DemoServer(world) as srv:
        s = crawl_portals([_hanweb(srv, list_method="post")], tmp_path, config=FAST)
        proxy = _proxy(srv)
    ps = s.portals["demo-hanweb-yunxi"]
    assert s.ok and ps.pages == 4 and ps.reports == 24
    assert [(m, st) for m, st, _, _ in proxy] == [("POST", 200)] * 3  # never a GET to learn from
    assert all("unitid=4321" in form and "startrecord" not in form for _, _, _, form in proxy)


def test_a_405_switches_the_portal_and_the_next_run_remembers(world, tmp_path: Path) -> None:  # noqa: ANN001
    with DemoServer(world) as srv:
        s1 = crawl_portals([_hanweb(srv)], tmp_path, config=FAST)
        first = _proxy(srv)
        s2 = crawl_portals([_hanweb(srv)], tmp_path, config=FAST)
        second = _proxy(srv)[len(first):]
    assert s1.ok and s1.portals["demo-hanweb-yunxi"].reports == 24 and s1.portals["demo-hanweb-yunxi"].failed == 0
    # one GET finds out (the other proxy pages wait for it), then every proxy page is POSTed
    assert sorted((m, st) for m, st, _, _ in first) == [("GET", 405)] + [("POST", 200)] * 3
    assert s2.ok and s2.portals["demo-hanweb-yunxi"].unchanged == 24
    assert [(m, st) for m, st, _, _ in second] == [("POST", 200)] * 3  # crawl_state.method: no 405 again
    con = duckdb.connect(str(tmp_path / "gongkai.duckdb"), read_only=True)
    try:
        methods = dict(con.execute("SELECT method, count(*) FROM crawl_state WHERE portal_id = 'demo-hanweb-yunxi' "
                                   "AND kind = 'list' GROUP BY 1").fetchall())
        unset = con.execute("SELECT count(*) FROM crawl_state WHERE method IS NULL").fetchone()
    finally:
        con.close()
    assert methods == {"GET": 1, "POST": 3}  # the column page, the three proxy groups
    assert unset == (0,)  # articles, attachments (pending ones too) and failures say GET


def test_a_proxy_that_answers_get_is_never_posted(world, tmp_path: Path) -> None:  # noqa: ANN001
    with DemoServer(world) as srv:
        srv.sites["hanweb"].post_only.clear()
        try:
            s = crawl_portals([_hanweb(srv)], tmp_path, config=FAST)
            proxy = _proxy(srv)
        finally:
            srv.sites["hanweb"].post_only.add("/module/web/jpage/dataproxy.jsp")
    assert s.ok and s.portals["demo-hanweb-yunxi"].reports == 24
    assert [(m, st) for m, st, _, _ in proxy] == [("GET", 200)] * 3


def test_fetcher_post_sends_the_form_without_validators_and_a_303_turns_it_into_a_get() -> None:
    site = Site("t")
    site.post_only.add("/proxy.jsp")
    site.put("/proxy.jsp?startrecord=1&a=1&b=%E4%B8%AD", b"<datastore>ok</datastore>", "text/xml")
    site.put("/moved.html", b"moved here")
    site.faults["/old.jsp"] = Fault("redirect", location="/moved.html")
    with DemoServer({"t": site}) as srv:
        async def go() -> tuple:
            async with Fetcher(FAST.fetch.fast(respect_robots=False)) as f:
                pol = Portal(id="t", unit="t", level="township", family="hanweb", entry_urls=(srv.url("t"),),
                             allowed_hosts=(srv.hosts["t"],), allow_private=True).policy()
                a = await f.fetch(srv.url("t", "/proxy.jsp?startrecord=1"), pol, etag='"e"', form={"a": "1", "b": "中"})
                b = await f.fetch(srv.url("t", "/old.jsp"), pol, form={"a": "1"})
                c = await f.fetch(srv.url("t", "/proxy.jsp?startrecord=1"), pol)
                return a, b, c
        a, b, c = asyncio.run(go())
        log = [(r.method, r.path, r.status, r.form, r.conditional) for r in srv.requests("t")]
    assert a.ok and a.body == b"<datastore>ok</datastore>" and a.method == "POST"
    assert b.ok and b.body == b"moved here" and b.method == "GET" and b.final_url.endswith("/moved.html")
    assert c.status == 405 and c.method == "GET"
    assert log == [("POST", "/proxy.jsp?startrecord=1", 200, "a=1&b=%E4%B8%AD", False),
                   ("POST", "/old.jsp", 302, "a=1", False), ("GET", "/moved.html", 200, "", False),
                   ("GET", "/proxy.jsp?startrecord=1", 405, "", False)]
