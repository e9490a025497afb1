"""Crawler confinement (issue 6, item 2): schemes, hosts, private/metadata addresses (direct, by redirect and
by DNS), and file names from URLs/headers never used as paths. No traffic leaves 127.0.0.1: remote hosts
are answered by an in-process httpx.MockTransport, which also records every request the fetcher made."""

from __future__ import annotations

import asyncio
import hashlib
import socket
from pathlib import Path

import httpx
import pytest

from extract.archive import RawArchive
from extract.confine import Confined, UrlPolicy, policy_for_url
from extract.crawl import CrawlConfig, crawl_portals
from extract.demo.server import DemoServer
from extract.demo.site import build_demo
from extract.http import FetchConfig, Fetcher
from extract.registry import adhoc_portal, load_registry

PUBLIC = UrlPolicy(allowed_hosts=frozenset({"www.example.gov.cn", ".example.gov.cn", "10.0.0.1",
                                            "169.254.169.254", "127.0.0.1", "[::1]", "localhost",
                                            "metadata.google.internal", "192.168.1.1", "100.64.0.1",
                                            "[fe80::1]", "[::ffff:127.0.0.1]", "0.0.0.0", "172.16.0.1"}))
FAST = FetchConfig(per_host_delay=0.0, polite=False, retries=0, respect_robots=False)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://www.example.gov.cn/a.pdf", "gopher://www.example.gov.cn/",
                                 "javascript:alert(1)", "data:text/html,<b>x</b>", "//www.example.gov.cn/a",
                                 "mailto:a@example.gov.cn", "jar:http://www.example.gov.cn/a!/b", "", "http://",
                                 "http://www.example.gov.cn:99999/", "http://user:pw@www.example.gov.cn/"])
def test_bad_schemes_and_forms_refused(url: str) -> None:
    with pytest.raises(Confined):
        PUBLIC.check(url)


@pytest.mark.parametrize("url", ["http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://127.0.0.1/",
                                 "http://[::1]/", "http://localhost/", "http://metadata.google.internal/",
                                 "http://192.168.1.1/", "http://100.64.0.1/", "http://[fe80::1]/",
                                 "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://172.16.0.1/",
                                 "HTTP://169.254.169.254:80/x"])
def test_private_targets_refused_even_if_listed(url: str) -> None:
    with pytest.raises(Confined):
        PUBLIC.check(url)
    allowed = UrlPolicy(allowed_hosts=PUBLIC.allowed_hosts, allow_private=True)
    assert allowed.check(url)


@pytest.mark.parametrize("url", ["http://evil.example.com/", "http://www.example.gov.cn.evil.com/",
                                 "http://example.gov.cn.evil.com/", "http://evilexample.gov.cn/",
                                 "http://2130706433/", "http://0x7f000001/"])
def test_other_hosts_refused(url: str) -> None:
    with pytest.raises(Confined):
        PUBLIC.check(url)


def test_allowed_hosts_pass() -> None:
    assert PUBLIC.check("http://www.example.gov.cn/a/b.pdf#frag") == "http://www.example.gov.cn/a/b.pdf"
    assert PUBLIC.allows("https://sub.example.gov.cn/x")


def test_port_pinned_entry() -> None:
    p = UrlPolicy(allowed_hosts=frozenset({"127.0.0.1:8080"}), allow_private=True)
    assert p.allows("http://127.0.0.1:8080/x")
    assert not p.allows("http://127.0.0.1:8081/x") and not p.allows("http://127.0.0.1/x")


def test_explicit_url_host_allowed_but_nothing_else() -> None:
    pol = policy_for_url("http://127.0.0.1:8765/list/")
    assert pol.allows("http://127.0.0.1:8765/a.pdf")
    assert not pol.allows("http://169.254.169.254/") and not pol.allows("http://127.0.0.1:22/")
    portal = adhoc_portal("http://127.0.0.1:8765/list/")
    assert portal.policy().allows("http://127.0.0.1:8765/x") and not portal.policy().allows("http://10.0.0.1/")
    with pytest.raises(Confined):
        policy_for_url("file:///etc/passwd")


def test_registry_rows_do_not_allow_private_except_demo() -> None:
    for p in load_registry():
        assert p.allow_private == p.demo, p.id
        assert not p.policy().allows("http://169.254.169.254/latest/meta-data/")


# -- DNS -------------------------------------------------------------------------------------------------

def _fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, str]) -> None:
    def getaddrinfo(host: str, port: object, *a: object, **k: object) -> list:
        if host not in answers:
            raise socket.gaierror(f"no fake answer for {host}")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port or 0))]
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_dns_name_resolving_private_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dns(monkeypatch, {"intranet.example.gov.cn": "10.1.2.3", "meta.example.gov.cn": "169.254.169.254",
                            "www.example.gov.cn": "202.96.128.86"})
    pol = UrlPolicy(allowed_hosts=PUBLIC.allowed_hosts, resolve_dns=True)
    for host in ("intranet.example.gov.cn", "meta.example.gov.cn"):
        with pytest.raises(Confined, match="resolves"):
            pol.check(f"http://{host}/")
    assert pol.allows("http://www.example.gov.cn/")


def test_registry_policy_checks_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dns(monkeypatch, {"hdzfxxgk.hd.gov.cn": "10.1.2.3"})
    portal = next(p for p in load_registry() if p.id == "handan-hdzfxxgk")
    assert not portal.policy().allows("http://hdzfxxgk.hd.gov.cn/zfxxgknb/")


# -- redirects (through the real Fetcher; remote hosts answered in-process) -------------------------------------

def _mock(routes: dict[str, httpx.Response], seen: list[str]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        seen.append(url)
        return routes.get(url, httpx.Response(404))
    return httpx.MockTransport(handler)


@pytest.mark.parametrize("location", ["http://10.0.0.1/secret", "http://169.254.169.254/latest/meta-data/",
                                      "http://[::1]/", "file:///etc/passwd", "http://user:pw@www.example.gov.cn/x",
                                      "http://localhost/", "http://evil.example.com/", "gopher://www.example.gov.cn/"])
def test_redirect_to_forbidden_target_refused(location: str) -> None:
    seen: list[str] = []
    routes = {"http://www.example.gov.cn/a.pdf": httpx.Response(302, headers={"Location": location})}

    async def go() -> object:
        async with Fetcher(FAST, transport=_mock(routes, seen)) as f:
            return await f.fetch("http://www.example.gov.cn/a.pdf", PUBLIC)
    r = asyncio.run(go())
    assert not r.ok and "redirect refused" in (r.error or ""), r.error  # type: ignore[attr-defined]
    assert seen == ["http://www.example.gov.cn/a.pdf"]  # the forbidden target was never requested


def test_redirect_to_private_followed_when_allowed() -> None:
    seen: list[str] = []
    routes = {"http://www.example.gov.cn/a": httpx.Response(302, headers={"Location": "http://10.0.0.1/b"}),
              "http://10.0.0.1/b": httpx.Response(200, content=b"ok")}
    pol = UrlPolicy(allowed_hosts=PUBLIC.allowed_hosts, allow_private=True)

    async def go() -> object:
        async with Fetcher(FAST, transport=_mock(routes, seen)) as f:
            return await f.fetch("http://www.example.gov.cn/a", pol)
    r = asyncio.run(go())
    assert r.ok and r.body == b"ok" and seen[-1] == "http://10.0.0.1/b"  # type: ignore[attr-defined]


def test_direct_fetch_of_private_target_sends_nothing() -> None:
    seen: list[str] = []

    async def go() -> list:
        async with Fetcher(FAST, transport=_mock({}, seen)) as f:
            return [await f.fetch(u, PUBLIC) for u in ("http://169.254.169.254/", "file:///etc/passwd",
                                                         "http://127.0.0.1:22/")]
    for r in asyncio.run(go()):
        assert (r.error or "").startswith("refused:")
    assert seen == []


# -- file names never become paths ----------------------------------------------------------------------

def test_archive_paths_are_content_addressed(tmp_path: Path) -> None:
    a = RawArchive(tmp_path)
    for bad in ("../../etc/passwd", "a" * 64 + "/../x", "/etc/passwd", "A" * 64, ""):
        with pytest.raises(ValueError):
            a.path_for(bad)
    sha, new = a.put(b"data")
    assert new and a.path_for(sha) == tmp_path.resolve() / "raw" / sha[:2] / sha[2:4] / sha


def test_crawl_ignores_hostile_names(tmp_path: Path) -> None:
    """Attachment URLs with ../ and Content-Disposition file names pointing outside data_dir: the archive
    holds only sha256-named files under data_dir/raw, and nothing is written anywhere else."""
    world = build_demo()
    site = world.sites["generic"]
    evil = 'attachment; filename="../../../../EVIL-CD.sh"; filename*=UTF-8\'\'..%2F..%2FEVIL-CD2.sh'
    for path, res in list(site.resources.items()):
        res.headers["Content-Disposition"] = evil
        if path.endswith((".pdf", ".docx")):  # also serve each attachment under a traversal-looking URL
            site.resources["/files/..%2F..%2F..%2FEVIL-URL" + path.rsplit("/", 1)[-1]] = res
    data = tmp_path / "data"
    outside = set(tmp_path.parent.glob("*EVIL*")) | set(tmp_path.glob("**/*EVIL*"))
    with DemoServer(world) as srv:
        portals = [p.resolve_demo(srv.hosts) for p in load_registry() if p.id == "demo-generic-liujiang"]
        s = crawl_portals(portals, data, config=CrawlConfig(fetch=FetchConfig(per_host_delay=0.002,
                                                                               backoff_base=0.01)))
    assert s.total("new") > 0
    assert set(tmp_path.parent.glob("*EVIL*")) | set(tmp_path.glob("**/*EVIL*")) == outside == set()
    for f in data.rglob("*"):
        if f.is_dir():
            continue
        rel = f.relative_to(data)
        if rel.parts[0] == "raw":
            assert rel.parts[1] != "tmp" or not any((data / "raw" / "tmp").iterdir()), "temp files left"
            assert hashlib.sha256(f.read_bytes()).hexdigest() == f.name and rel.parts[1:3] == (f.name[:2], f.name[2:4])
        else:
            assert rel.name.startswith("gongkai.duckdb"), rel
