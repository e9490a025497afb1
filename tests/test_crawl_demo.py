"""End-to-end crawl of the demo portals, incremental re-runs, re-publication, ad-hoc --url."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from extract.archive import RawArchive, sha256_bytes
from extract.crawl import CrawlConfig, crawl_portals
from extract.demo.server import DemoServer
from extract.demo.site import build_demo
from extract.families import detect_family
from extract.http import FetchConfig
from extract.registry import load_registry
from flows.cli import main

CORPUS = Path(__file__).resolve().parent / "fixtures" / "portal"  # copies of shared/corpus/portal
FAST = CrawlConfig(fetch=FetchConfig(per_host_delay=0.002, backoff_base=0.01, retries=3))


@pytest.fixture(scope="module")
def world():  # noqa: ANN201 - rendered once, shared (bodies are cached in the world)
    return build_demo()


def _demo_portals(srv: DemoServer) -> list:  # noqa: ANN001
    return [p.resolve_demo(srv.hosts) for p in load_registry() if p.demo]


def _is_list(path: str) -> bool:
    return any(k in path for k in ("index", "xxgknb", "dataproxy", "list.php", "robots.txt"))


def test_demo_crawl_incremental_and_republish(world, tmp_path: Path) -> None:  # noqa: ANN001
    truths = world.truths
    assert len({(t.portal_id, t.unit) for t in truths}) >= 20 and {t.year for t in truths} == {2021, 2022, 2023}
    assert {t.fmt for t in truths} >= {"pdf", "docx", "html_spans"}
    with DemoServer(world) as srv:
        s1 = crawl_portals(_demo_portals(srv), tmp_path, config=FAST)
        assert s1.ok, [p.errors for p in s1.portals.values()]
        con = duckdb.connect(str(tmp_path / "gongkai.duckdb"), read_only=True)
        manifest = {u: s for u, s in con.execute("SELECT url, sha256 FROM documents").fetchall()}
        con.close()
        archive = RawArchive(tmp_path)
        for t in truths:  # every report of every family, page and format is archived, byte-exact
            assert t.url in manifest, t.url
            res = srv.sites[t.url.split("{demo:")[1].split("}")[0]].get(t.url.split("}", 1)[1])
            assert manifest[t.url] == sha256_bytes(res.data()) and archive.has(manifest[t.url])
        new_urls = {d.url for d in s1.documents}
        assert {t.url for t in truths} <= new_urls
        assert s1.total("broken") == 2 and s1.total("skipped") == 2  # dead links; robots + off-site
        assert s1.portals["demo-trs-qinghe"].pages == 4 and s1.portals["demo-hanweb-yunxi"].pages == 4
        # the Hanweb proxy answers only POST: a 405 to the GET switches the portal to jpage's own POST
        proxy = [r for r in srv.requests("hanweb") if "dataproxy" in r.path]
        assert [r.method for r in proxy if r.status == 405] == ["GET"]  # one probe, the other pages wait
        posts = [r for r in proxy if r.method == "POST"]
        assert len(posts) == 3 and all(r.status == 200 for r in posts)
        assert all(r.path.split("?")[1].startswith("startrecord=") and "columnid=1229" in r.form for r in posts)
        con = duckdb.connect(str(tmp_path / "gongkai.duckdb"), read_only=True)
        assert con.execute("SELECT count(*) FROM documents WHERE method = 'POST' AND url LIKE '%dataproxy.jsp%'"
                           "AND url LIKE '%columnid=1229%'").fetchone() == (3,)
        con.close()

        n_before = len(srv.requests())
        s2 = crawl_portals(_demo_portals(srv), tmp_path, config=FAST)
        second = srv.requests()[n_before:]
        assert s2.ok and s2.total("new") == 0 and s2.total("changed") == 0 and not s2.documents
        assert s2.total("unchanged") == len(truths)
        assert all(_is_list(r.path) for r in second), [r.path for r in second if not _is_list(r.path)]
        assert all(r.status == 304 for r in second if "robots" not in r.path and r.status != 503 and r.method == "GET")
        # POST answers carry no validators: the proxy pages come again (200, same bytes), POSTed at once
        assert sorted((r.method, r.status) for r in second if "dataproxy" in r.path and r.status != 503) == [("POST", 200)] * 3

        target = next(t for t in truths if t.portal_id == "demo-trs-qinghe" and t.fmt.startswith("html"))
        path = target.url.split("}", 1)[1]
        old = manifest[target.url]
        srv.republish("trs", path)
        s3 = crawl_portals(_demo_portals(srv), tmp_path, config=FAST)
        assert s3.total("changed") == 1 and s3.total("new") == 0
        assert [d.url for d in s3.documents] == [target.url] and s3.documents[0].status == "changed"
        con = duckdb.connect(str(tmp_path / "gongkai.duckdb"), read_only=True)
        versions = con.execute("SELECT sha256 FROM documents WHERE url = ?", [target.url]).fetchall()
        con.close()
        assert len(versions) == 2 and archive.has(old)  # the old bytes stay


def test_adhoc_url_on_unfamiliar_site(world, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    with DemoServer(world) as srv:
        rc = main(["crawl", "--url", srv.url("generic", "/"), "--data-dir", str(tmp_path), "--delay", "0.002",
                   "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 0, out
    con = duckdb.connect(str(tmp_path / "gongkai.duckdb"), read_only=True)
    arts = con.execute("SELECT count(*) FROM crawl_state WHERE kind = 'article' AND status = 'ok'").fetchone()
    con.close()
    assert arts == (3,)  # homepage -> 政府信息公开年报 column -> 3 pages -> 3 reports


def test_cli_errors_name_url_and_exit_1(world, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    with DemoServer(world) as srv:
        rc = main(["crawl", "--url", srv.url("generic", "/news/list.php?cat=zwdt"), "--data-dir", str(tmp_path),
                   "--delay", "0.002", "--retries", "0", "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 1 and "list.php?cat=zwdt" in err and "404" in err


def test_families_on_real_pages() -> None:
    p01 = (CORPUS / "P01_ordos_egb_xxgknb_list_trs.html").read_text(encoding="utf-8")
    url = "http://www.ordos.gov.cn/egb/xxgk/xxgknb/index.html"
    fam = detect_family(url, p01)
    lp = fam.parse_list(url, p01)
    assert fam.name == "trs" and lp.pages == ["http://www.ordos.gov.cn/egb/xxgk/xxgknb/index_1.html"]
    assert [r.date for r in lp.reports()] == ["2020-09-03", "2020-03-11", "2019-05-30", "2019-05-30"]
    p02 = (CORPUS / "P02_handan_hdzfxxgk_list_trs.jsp").read_text(encoding="utf-8")
    lp2 = detect_family("http://hdzfxxgk.hd.gov.cn/zfwj/jinqixxgk/index.html", p02).parse_list(
        "http://hdzfxxgk.hd.gov.cn/zfwj/jinqixxgk/index.html", p02)
    assert len(lp2.pages) == 55 and "http://hdzfxxgk.hd.gov.cn/zfwj/jinqixxgk/index_55.html" in lp2.pages
    p05 = (CORPUS / "P05_baqiao_homepage_vsb_first16000chars.html").read_text(encoding="utf-8")
    assert detect_family("http://www.baqiao.gov.cn/index.htm", p05).name == "vsb"
    hw = ("<div id='1'><script type='text/xml'><datastore><recordset><record><![CDATA[<li><a href='/art/2024/1/5/"
          "art_1229_1.html'>某镇2023年政府信息公开工作年度报告</a><span>2024-01-05</span></li>]]></record></recordset>"
          "</datastore></script></div><script>$('#1').jpage({totalRecord:45,perPage:15,groupSize:1,"
          "proxyUrl:'/module/web/jpage/dataproxy.jsp',ajaxParam:{col:1,columnid:1229,unitid:'1'}});</script>")
    f = detect_family("http://x.gov.cn/col/col1229/index.html", hw)
    lp3 = f.parse_list("http://x.gov.cn/col/col1229/index.html", hw)
    assert f.name == "hanweb" and [r.url for r in lp3.reports()] == ["http://x.gov.cn/art/2024/1/5/art_1229_1.html"]
    assert len(lp3.pages) == 3 and "startrecord=2&endrecord=16" in lp3.pages[0]
