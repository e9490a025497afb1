"""Raw first with background archive writes: no committed row names bytes that are not written and
synced yet."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

import extract.crawl as crawl_mod
from extract.crawl import CrawlConfig, CrawlSummary, crawl_portals
from extract.demo.server import DemoServer
from extract.demo.site import Site
from extract.http import FetchConfig
from extract.registry import Portal

FAST = FetchConfig(per_host_delay=0.0, backoff_base=0.01, retries=1)
REPORT = "<li><a href='/r/{n}.html'>测试镇{y}年政府信息公开工作年度报告</a><span>2024-01-0{n}</span></li>"


def _site() -> Site:
    s = Site("t")
    s.put("/list.html", ("<html><body><ul>" + "".join(REPORT.format(n=n, y=2018 + n) for n in range(1, 6))
                         + "</ul></body></html>").encode())
    for n in range(1, 6):
        s.put(f"/r/{n}.html", f"<html><body><div id='zoom'>报告{n}<a href='/f/{n}.pdf'>附件.pdf</a></div></body></html>".encode())
        s.put(f"/f/{n}.pdf", b"%PDF-1.4 fake " + bytes([n]) * 100, "application/pdf")
    return s


def _crawl(data_dir: Path) -> CrawlSummary:
    with DemoServer({"t": _site()}) as srv:
        portal = Portal(id="test-t", unit="测试镇", level="township", family="generic",
                        entry_urls=(srv.url("t", "/list.html"),), allowed_hosts=(srv.hosts["t"],), allow_private=True)
        return crawl_portals([portal], data_dir, config=CrawlConfig(fetch=FAST))


def test_rows_commit_only_after_their_bytes_are_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Archive writes are made slower than the 100 ms batching pause, so batches are ready before the
    files they name: every committed manifest and state row must still find its bytes on disk."""
    slow_put = crawl_mod._Crawler._put
    orig_tx = crawl_mod._Crawler._tx
    checked: list[str] = []
    lock = threading.Lock()

    def put(self: Any, body: bytes, sha: str) -> tuple[str, bool]:
        time.sleep(0.15)
        return slow_put(self, body, sha)

    def tx(self: Any, ops: list[tuple[str, Any]]) -> None:
        for kind, item in ops:
            sha = item.sha256 if kind == "manifest" else item.get("sha256") if kind == "state" else None
            if sha:
                assert self.archive.has(sha), f"row for {sha} committed before its bytes"
                with lock:
                    checked.append(sha)
        orig_tx(self, ops)

    monkeypatch.setattr(crawl_mod._Crawler, "_put", put)
    monkeypatch.setattr(crawl_mod._Crawler, "_tx", tx)
    summary = _crawl(tmp_path)
    ps = summary.portals["test-t"]
    assert summary.ok and ps.new == 10 and len(set(checked)) >= 11  # 5 articles, 5 attachments, the list page
    con = duckdb.connect(str(tmp_path / "gongkai.duckdb"), read_only=True)
    try:
        shas = [r[0] for r in con.execute("SELECT sha256 FROM documents").fetchall()]
    finally:
        con.close()
    assert len(shas) >= 12 and all((tmp_path / "raw" / s[:2] / s[2:4] / s).is_file() for s in shas)


def test_rows_commit_only_after_their_files_are_synced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Archive files are written unsynced; each batch syncs the files it names before its COMMIT."""
    from extract.archive import RawArchive

    synced: set[str] = set()
    committed: list[str] = []
    orig_sync, orig_tx = RawArchive.sync, crawl_mod._Crawler._tx

    def sync(self: RawArchive, shas: Any) -> None:
        shas = list(shas)
        orig_sync(self, shas)
        synced.update(shas)

    def tx(self: Any, ops: list[tuple[str, Any]]) -> None:
        for kind, item in ops:
            if kind == "manifest":  # a new version: its bytes were written in this run
                assert item.sha256 in synced, f"row for {item.sha256} committed before its file was synced"
                committed.append(item.sha256)
        orig_tx(self, ops)

    monkeypatch.setattr(RawArchive, "sync", sync)
    monkeypatch.setattr(crawl_mod._Crawler, "_tx", tx)
    summary = _crawl(tmp_path)
    assert summary.ok and summary.portals["test-t"].new == 10
    assert len(set(committed)) >= 11  # 5 articles, 5 attachments, the list page (robots.txt: 404 here)
