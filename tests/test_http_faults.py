"""Fetcher and crawler behaviour against misbehaving servers (all on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import time

import pytest

from extract.confine import Confined, UrlPolicy, policy_for_url
from extract.crawl import CrawlConfig, crawl_portals
from extract.demo.server import DemoServer
from extract.demo.site import Fault, Site
from extract.http import FetchConfig, Fetcher, decode_html
from extract.registry import Portal

FAST = FetchConfig(per_host_delay=0.0, backoff_base=0.01, backoff_max=0.05, retries=3, read_timeout=2.0,
                   total_timeout=5.0, max_body=200_000)
REPORT = "<li><a href='/r/{n}.html'>测试镇{y}年政府信息公开工作年度报告</a><span>2024-01-0{n}</span></li>"


def _site(name: str = "t") -> Site:
    s = Site(name)
    items = "".join(REPORT.format(n=n, y=2020 + n) for n in (1, 2, 3))
    s.put("/list.html", f"<html><body><ul>{items}</ul></body></html>".encode())
    for n in (1, 2, 3):
        s.put(f"/r/{n}.html", f"<html><body><div id='zoom'>报告{n}<a href='/f/{n}.pdf'>附件.pdf</a></div></body></html>".encode())
        s.put(f"/f/{n}.pdf", b"%PDF-1.4 fake " + bytes([n]) * 100, "application/pdf")
    return s


def _policy(srv: DemoServer, *names: str) -> UrlPolicy:
    return UrlPolicy(frozenset(srv.hosts[n] for n in names), allow_private=True)


def _fetch(srv: DemoServer, path: str, config: FetchConfig = FAST, site: str = "t", **kw):  # noqa: ANN202
    async def go():  # noqa: ANN202
        async with Fetcher(config) as f:
            return await f.fetch(srv.url(site, path), _policy(srv, site), **kw)
    return asyncio.run(go())


def _portal(srv: DemoServer, site: str = "t", entry: str = "/list.html", **kw) -> Portal:
    return Portal(id=f"test-{site}", unit="测试镇", level="township", family=kw.pop("family", "generic"),
                  entry_urls=(srv.url(site, entry),), allowed_hosts=(srv.hosts[site],), allow_private=True, **kw)


@pytest.fixture
def srv():  # noqa: ANN201
    with DemoServer({"t": _site("t"), "other": _site("other")}) as s:
        yield s


def test_500_then_success(srv: DemoServer) -> None:
    srv.sites["t"].faults["/r/1.html"] = Fault("status", status=500, times=2)
    r = _fetch(srv, "/r/1.html")
    assert r.ok and r.attempts == 3 and b"\xe6\x8a\xa5\xe5\x91\x8a1" in r.body


def test_500_forever_fails_with_reason(srv: DemoServer) -> None:
    srv.sites["t"].faults["/r/1.html"] = Fault("status", status=502, times=None)
    r = _fetch(srv, "/r/1.html")
    assert not r.ok and "HTTP 502" in (r.error or "") and r.attempts == 4


def test_429_honours_retry_after(srv: DemoServer) -> None:
    srv.sites["t"].faults["/r/2.html"] = Fault("retry_after", status=429, retry_after=1, times=1)
    t0 = time.monotonic()
    r = _fetch(srv, "/r/2.html")
    assert r.ok and r.attempts == 2
    assert time.monotonic() - t0 >= 0.95  # waited Retry-After, not the 10 ms backoff


def test_retry_after_too_long_fails(srv: DemoServer) -> None:
    srv.sites["t"].faults["/r/2.html"] = Fault("retry_after", status=429, retry_after=3600, times=None)
    r = _fetch(srv, "/r/2.html")
    assert not r.ok and "Retry-After" in (r.error or "")


def test_slow_response_times_out(srv: DemoServer) -> None:
    srv.sites["t"].faults["/r/3.html"] = Fault("slow", delay=1.5, times=None)
    cfg = FAST.fast(read_timeout=0.3, retries=1)
    r = _fetch(srv, "/r/3.html", cfg)
    assert not r.ok and "timeout" in (r.error or "")  # the 1.5 s response would otherwise have succeeded


def test_slow_drip_hits_total_timeout(srv: DemoServer) -> None:
    srv.sites["t"].faults["/r/3.html"] = Fault("drip", delay=0.1, times=None)
    r = _fetch(srv, "/r/3.html", FAST.fast(total_timeout=0.5, retries=0))
    assert not r.ok and "timeout" in (r.error or "")


def test_truncated_body_is_an_error(srv: DemoServer) -> None:
    srv.sites["t"].faults["/f/1.pdf"] = Fault("truncate", times=None)
    r = _fetch(srv, "/f/1.pdf", FAST.fast(retries=1))
    assert not r.ok and "truncated" in (r.error or "")


def test_truncated_once_then_ok(srv: DemoServer) -> None:
    srv.sites["t"].faults["/f/1.pdf"] = Fault("truncate", times=1)
    r = _fetch(srv, "/f/1.pdf")
    assert r.ok and r.body.startswith(b"%PDF") and len(r.body) == 114


def test_redirect_loop_and_chain(srv: DemoServer) -> None:
    srv.sites["t"].faults["/loop.html"] = Fault("redirect_loop", times=None)
    r = _fetch(srv, "/loop.html")
    assert not r.ok and "redirect loop" in (r.error or "")
    srv.sites["t"].faults["/chain.html"] = Fault("redirect_chain", times=None)
    r = _fetch(srv, "/chain.html")
    assert not r.ok and "too many redirects" in (r.error or "")


def test_redirect_off_site_refused(srv: DemoServer) -> None:
    srv.sites["t"].faults["/go.html"] = Fault("redirect", location=srv.url("other", "/r/1.html"), times=None)
    r = _fetch(srv, "/go.html")
    assert not r.ok and "redirect refused" in (r.error or "")
    srv.sites["t"].faults["/meta.html"] = Fault("redirect", location="http://169.254.169.254/latest/", times=None)
    assert "redirect refused" in (_fetch(srv, "/meta.html").error or "")
    assert srv.requests("other") == []


def test_oversize_with_and_without_length(srv: DemoServer) -> None:
    srv.sites["t"].faults["/big.pdf"] = Fault("oversize", size=5_000_000, times=None)
    r = _fetch(srv, "/big.pdf")
    assert not r.ok and "oversize" in (r.error or "") and r.attempts == 1
    srv.sites["t"].faults["/big2.pdf"] = Fault("oversize_nolen", size=5_000_000, times=None)
    r = _fetch(srv, "/big2.pdf")
    assert not r.ok and "oversize" in (r.error or "") and r.attempts == 1


def test_robots_disallow(srv: DemoServer) -> None:
    srv.sites["t"].robots = "User-agent: *\nDisallow: /r/\n"
    r = _fetch(srv, "/r/1.html")
    assert not r.ok and "robots" in (r.error or "")
    assert not [q for q in srv.requests("t") if q.path.startswith("/r/")]  # never requested


def test_conditional_get_304(srv: DemoServer) -> None:
    r1 = _fetch(srv, "/r/1.html")
    r2 = _fetch(srv, "/r/1.html", etag=r1.etag)
    r3 = _fetch(srv, "/r/1.html", last_modified=r1.last_modified)
    assert r1.ok and r2.not_modified and r3.not_modified


def test_wrong_declared_charset_still_finds_reports(srv: DemoServer, tmp_path) -> None:  # noqa: ANN001
    s = srv.sites["t"]
    page = "<html><head><meta charset='utf-8'></head><body><ul>" + "".join(
        REPORT.format(n=n, y=2020 + n) for n in (1, 2, 3)) + "</ul></body></html>"
    s.put("/gbk.html", page.encode("gbk"), "text/html; charset=utf-8")  # header and meta lie
    text, cs = decode_html(page.encode("gbk"), "text/html; charset=utf-8")
    assert cs == "gb18030" and "政府信息公开工作年度报告" in text
    summary = crawl_portals([_portal(srv, entry="/gbk.html")], tmp_path, config=CrawlConfig(fetch=FAST))
    ps = summary.portals["test-t"]
    assert ps.reports == 3 and ps.failed == 0 and ps.new == 6


def test_off_site_links_never_followed(srv: DemoServer, tmp_path) -> None:  # noqa: ANN001
    s = srv.sites["t"]
    other = srv.url("other", "/r/1.html")
    page = ("<html><body><ul>" + REPORT.format(n=1, y=2021) +
            f"<li><a href='{other}'>镜像站2022年政府信息公开工作年度报告</a></li>"
            "<li><a href='http://169.254.169.254/latest/meta-data/'>2023年政府信息公开工作年度报告</a></li>"
            "<li><a href='file:///etc/passwd'>2020年政府信息公开工作年度报告</a></li></ul></body></html>")
    s.put("/mixed.html", page.encode())
    summary = crawl_portals([_portal(srv, entry="/mixed.html")], tmp_path, config=CrawlConfig(fetch=FAST))
    ps = summary.portals["test-t"]
    assert ps.reports == 1 and ps.skipped == 3  # other host, metadata IP, file: scheme
    assert srv.requests("other") == []


def test_list_page_with_zero_reports_is_an_error(srv: DemoServer, tmp_path) -> None:  # noqa: ANN001
    cfg = CrawlConfig(fetch=FAST)
    assert crawl_portals([_portal(srv)], tmp_path, config=cfg).ok
    srv.sites["t"].put("/list.html", "<html><body><ul><li>栏目维护中</li></ul></body></html>".encode())
    summary = crawl_portals([_portal(srv)], tmp_path, config=cfg)
    ps = summary.portals["test-t"]
    assert not summary.ok and ps.failed >= 1
    reasons = " ".join(r for _, r in ps.errors)
    assert "0 reports" in reasons and "had 3 before" in reasons


def test_per_host_rate_is_respected(srv: DemoServer) -> None:
    cfg = FAST.fast(per_host_delay=0.2, per_host_concurrency=1, global_concurrency=8)

    async def go():  # noqa: ANN202
        async with Fetcher(cfg) as f:
            pol = _policy(srv, "t")
            return await asyncio.gather(*(f.fetch(srv.url("t", f"/r/{n}.html"), pol) for n in (1, 2, 3, 1, 2)))
    assert all(r.ok for r in asyncio.run(go()))
    starts = sorted(q.start for q in srv.requests("t"))  # robots.txt included
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert min(gaps) >= 0.19


@pytest.mark.parametrize("url", [
    "ftp://example.gov.cn/a.pdf", "http://10.0.0.1/x", "http://127.0.0.1/x", "http://[::1]/x",
    "http://169.254.169.254/latest/", "http://metadata.google.internal/x", "http://localhost/x",
    "http://192.168.1.1/x", "http://user:pw@example.gov.cn/x", "http://evil.com/x"])
def test_confinement_rejects(url: str) -> None:
    pol = UrlPolicy(frozenset({"example.gov.cn", "10.0.0.1", "127.0.0.1", "::1", "169.254.169.254",
                               "metadata.google.internal", "localhost", "192.168.1.1"}))
    with pytest.raises(Confined):
        pol.check(url)


def test_confinement_allows() -> None:
    pol = UrlPolicy(frozenset({"example.gov.cn", ".hd.gov.cn"}))
    assert pol.check("HTTP://Example.gov.cn:80/a#frag") == "http://example.gov.cn/a"
    assert pol.allows("https://hdzfxxgk.hd.gov.cn/zfxxgknb/")
    adhoc = policy_for_url("http://127.0.0.1:8123/list")
    assert adhoc.allows("http://127.0.0.1:8123/x") and not adhoc.allows("http://127.0.0.1:8124/x")
