"""Crawl orchestration: list pages -> report articles -> attachments, incremental and resumable.

Each run re-fetches the list pages (conditional GET) and only the documents that are new, whose list
entry changed (title or date: a re-publication), that failed before, or whose attachments are still
pending. State is written per document, and an article is marked done only together with its
attachment rows, so a killed crawl resumes without fetching a finished document twice or losing one.

Plain functions, no Prefect: `crawl_portals(portals, data_dir, config=...) -> CrawlSummary`.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb
import pyarrow as pa

from extract.archive import ManifestRow, RawArchive, sha256_bytes
from extract.confine import Confined
from extract.families import Family, Link, detect_family, get_family, report_year
from extract.http import FetchConfig, Fetcher, FetchResult, decode_html
from extract.registry import Portal

_S, _I, _T = pa.string(), pa.int32(), pa.timestamp("us")
_STATE_SCHEMA = (("url", _S), ("portal_id", _S), ("kind", _S), ("parent_url", _S), ("title", _S), ("year", _I),
                 ("list_sig", _S), ("status", _S), ("http_status", _I), ("sha256", _S), ("etag", _S),
                 ("last_modified", _S), ("content_type", _S), ("first_seen", _T), ("fetched_at", _T),
                 ("checked_at", _T), ("error", _S), ("attempts", _I), ("method", _S))
_DOC_SCHEMA = (("url", _S), ("sha256", _S), ("portal_id", _S), ("kind", _S), ("content_type", _S),
               ("http_status", _I), ("size", pa.int64()), ("fetched_at", _T), ("last_seen", _T), ("etag", _S),
               ("last_modified", _S), ("final_url", _S), ("parent_url", _S), ("title", _S), ("year", _I),
               ("run_id", _S), ("method", _S))
_LOG_SCHEMA = (("run_id", _S), ("ts", _T), ("portal_id", _S), ("url", _S), ("kind", _S), ("event", _S),
               ("http_status", _I), ("sha256", _S), ("error", _S))

Progress = Callable[[str, str, str], None]  # (event: page|document|error|skip, portal_id, url)


@dataclass(frozen=True)
class CrawlConfig:
    fetch: FetchConfig = field(default_factory=FetchConfig)
    max_list_pages: int = 200  # per portal, a guard against pager traps
    recheck: bool = False  # conditional GET of every known document, not only new/changed ones


@dataclass(frozen=True)
class DocRef:
    """A new or changed document version, for the extraction stages."""

    url: str  # canonical (demo URLs in placeholder form)
    sha256: str
    portal_id: str
    kind: str  # article | attachment
    status: str  # new | changed
    title: str | None
    year: int | None
    content_type: str | None
    parent_url: str | None


@dataclass
class PortalSummary:
    portal_id: str
    pages: int = 0  # list pages read
    reports: int = 0  # report links found on the lists
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: int = 0
    broken: int = 0  # 404/410: dead links on the portal
    skipped: int = 0  # robots.txt, off-site
    errors: list[tuple[str, str]] = field(default_factory=list)  # (url, reason): failed and broken
    skips: list[tuple[str, str]] = field(default_factory=list)

    COUNTS = ("pages", "reports", "new", "changed", "unchanged", "failed", "broken", "skipped")


@dataclass
class CrawlSummary:
    run_id: str
    portals: dict[str, PortalSummary] = field(default_factory=dict)
    documents: list[DocRef] = field(default_factory=list)  # new and changed versions

    def total(self, name: str) -> int:
        return sum(getattr(p, name) for p in self.portals.values())

    @property
    def ok(self) -> bool:
        return self.total("failed") == 0


def _now() -> datetime:
    return datetime.now()


class _ListMethod:
    """How a portal's POST-able list pages are requested (see _Crawler.fetch_list)."""

    def __init__(self, post: bool) -> None:
        self.post = post  # POST them
        self.known = post  # a request has told (or the registry): no more probing
        self.probe = asyncio.Lock()


class _Crawler:
    def __init__(self, con: duckdb.DuckDBPyConnection, archive: RawArchive, fetcher: Fetcher,
                 config: CrawlConfig, run_id: str, summary: CrawlSummary, progress: Progress | None,
                 db_thread: ThreadPoolExecutor | None = None, archive_pool: ThreadPoolExecutor | None = None) -> None:
        self.con, self.archive, self.fetcher = con, archive, fetcher
        self.config, self.run_id, self.summary = config, run_id, summary
        self.progress = progress or (lambda *_: None)
        self._ops: list[tuple[str, list[Any]]] = []
        self._db_thread = db_thread or ThreadPoolExecutor(1, thread_name_prefix="crawl-db")  # DuckDB: one writer
        # archive files are written here (directories, a temp file, a rename: syscalls the event loop would
        # otherwise wait on), unsynced: each batch syncs its files at once before its rows commit (_commit)
        self._files = archive_pool or ThreadPoolExecutor(1, thread_name_prefix="crawl-archive")
        self._writes: list[asyncio.Future[tuple[str, bool]]] = []  # archive writes of the queued ops
        self._flusher: asyncio.Future[None] | None = None
        self._final = False
        self._done = asyncio.Event()

    # -- state ------------------------------------------------------------------------------
    def load_state(self, portal_id: str) -> dict[str, dict[str, Any]]:
        cur = self.con.execute("SELECT * FROM crawl_state WHERE portal_id = ?", [portal_id])
        cols = [d[0] for d in cur.description]
        return {r[0]: dict(zip(cols, r, strict=True)) for r in cur.fetchall()}

    def put_state(self, row: dict[str, Any]) -> None:
        self._ops.append(("state", row))

    def log(self, portal_id: str, url: str, kind: str, event: str, status: int | None = None,
            sha: str | None = None, error: str | None = None) -> None:
        self._ops.append(("log", (self.run_id, _now(), portal_id, url, kind, event, status, sha, error)))

    # -- one document -----------------------------------------------------------------------
    async def fetch(self, portal: Portal, url: str, prev: dict[str, Any] | None) -> FetchResult:
        cond = prev is not None and prev.get("sha256") and self.archive.has(prev["sha256"])
        r = await self.fetcher.fetch(url, portal.policy(),
                                     etag=prev.get("etag") if cond and prev else None,
                                     last_modified=prev.get("last_modified") if cond and prev else None)
        return r

    async def fetch_list(self, portal: Portal, family: Family | None, url: str, prev: dict[str, Any] | None,
                         how: _ListMethod) -> FetchResult:
        """A list page: GET, or POST where the family has a POST form of it (Hanweb's dataproxy.jsp) and
        the portal answers only POST: told by the registry (`list_method = "post"`), by the page's last
        fetch (crawl_state.method), or learnt from a 405 to a GET (then for all the portal's pages)."""
        request = family.post_form(url) if family is not None else None
        if request is None:
            return await self.fetch(portal, url, prev)
        posted = (prev or {}).get("method") == "POST"
        if not how.known and not posted:
            async with how.probe:  # the first such page finds out how the site answers; the others wait
                if not how.known:
                    return await self._get_or_post(portal, url, prev, request, how)
        if how.post or posted:
            return await self._post(portal, request)
        return await self._get_or_post(portal, url, prev, request, how)

    async def _post(self, portal: Portal, request: tuple[str, dict[str, str]]) -> FetchResult:
        return await self.fetcher.fetch(request[0], portal.policy(), form=request[1])

    async def _get_or_post(self, portal: Portal, url: str, prev: dict[str, Any] | None,
                           request: tuple[str, dict[str, str]], how: _ListMethod) -> FetchResult:
        r = await self.fetch(portal, url, prev)
        how.known = how.known or r.status is not None
        if r.status == 405:
            r2 = await self._post(portal, request)
            if r2.ok:
                how.post = True
                return r2
        return r

    def kick(self) -> None:
        """Commit queued writes in the background (group commit on the DB thread). Fetching goes on
        meanwhile: per-statement autocommits cost ~10 ms each and would dominate a crawl. A kill
        loses at most the batch in flight (and the archive writes it waits for); those documents are
        fetched again on resume."""
        if self._flusher is None or self._flusher.done():
            if self._flusher is not None and self._flusher.exception() is not None:
                raise self._flusher.exception()  # type: ignore[misc]
            self._flusher = asyncio.ensure_future(self._flush_loop())

    async def _flush_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while self._ops:
            if not self._final:  # gather a batch: one fsync'd commit per ~100 ms, not per row
                try:  # ... unless the crawl ends meanwhile: then nothing more is coming
                    await asyncio.wait_for(self._done.wait(), 0.1)
                except TimeoutError:
                    pass
            ops, self._ops = self._ops, []
            writes, self._writes = self._writes, []
            written = await asyncio.gather(*writes)  # every file this batch names is written ...
            await loop.run_in_executor(self._db_thread, self._commit, [sha for sha, _ in written], ops)

    async def flush(self) -> None:
        """Wait until every queued write is committed (the crawl is over: no batching pause)."""
        self._final = True
        self._done.set()
        while self._ops or (self._flusher is not None and not self._flusher.done()):
            self.kick()
            assert self._flusher is not None
            await self._flusher

    def _commit(self, shas: list[str], ops: list[tuple[str, Any]]) -> None:
        """Raw first: the batch's files are made durable (one sync for all of them) before its rows commit."""
        self.archive.sync(shas)
        self._tx(ops)

    def _tx(self, ops: list[tuple[str, Any]]) -> None:
        """Write one batch: bulk Arrow inserts (DuckDB upserts row by row cost ~8 ms each)."""
        state: dict[str, dict[str, Any]] = {}
        manifest: dict[tuple[str, str], ManifestRow] = {}
        logs, touch = [], {}
        for kind, item in ops:
            if kind == "state":
                state[item["url"]] = item  # last write wins
            elif kind == "manifest":
                manifest.setdefault((item.url, item.sha256), item)
            elif kind == "touch":
                touch[(item[1], item[2])] = item[0]
            else:
                logs.append(item)
        self.con.execute("BEGIN TRANSACTION")
        try:
            if state:
                cols = [c for c, _ in _STATE_SCHEMA]
                self._bulk("INSERT INTO crawl_state ({c}) SELECT {c} FROM _batch ON CONFLICT (url) DO UPDATE SET "
                           + ", ".join(f"{x} = EXCLUDED.{x}" for x in cols if x != "url"),
                           _STATE_SCHEMA, [[r.get(c) for c in cols] for r in state.values()])
            if manifest:
                self._bulk("INSERT INTO documents ({c}) SELECT {c} FROM _batch "
                           "ON CONFLICT (url, sha256) DO UPDATE SET last_seen = EXCLUDED.last_seen",
                           _DOC_SCHEMA, [[m.url, m.sha256, m.portal_id, m.kind, m.content_type, m.http_status, m.size,
                                          m.fetched_at, m.fetched_at, m.etag, m.last_modified, m.final_url,
                                          m.parent_url, m.title, m.year, m.run_id, m.method]
                                         for m in manifest.values()])
            if touch:
                self._bulk("UPDATE documents SET last_seen = _batch.ts FROM _batch "
                           "WHERE documents.url = _batch.url AND documents.sha256 = _batch.sha",
                           (("ts", pa.timestamp("us")), ("url", pa.string()), ("sha", pa.string())),
                           [[ts, u, h] for (u, h), ts in touch.items()], fmt=False)
            if logs:
                self._bulk("INSERT INTO crawl_log SELECT * FROM _batch", _LOG_SCHEMA, [list(x) for x in logs],
                           fmt=False)
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def _bulk(self, sql: str, schema: Any, rows: list[list[Any]], *, fmt: bool = True) -> None:
        names = [n for n, _ in schema]
        table = pa.table({n: pa.array([r[i] for r in rows], type=t) for i, (n, t) in enumerate(schema)})
        self.con.register("_batch", table)
        try:
            self.con.execute(sql.format(c=", ".join(names)) if fmt else sql)
        finally:
            self.con.unregister("_batch")

    async def store(self, portal: Portal, ps: PortalSummary, kind: str, url: str, r: FetchResult,
              prev: dict[str, Any] | None, *, parent: str | None = None, title: str | None = None,
              sig: str | None = None) -> tuple[str, bytes | None, dict[str, Any]]:
        """Archive a fetch result; return (event, body, state row). The caller writes the state row
        (articles: together with their attachment rows)."""
        c = portal.canonical(url)
        now = _now()
        year = report_year(title or "")
        row: dict[str, Any] = {"url": c, "portal_id": portal.id, "kind": kind, "parent_url": parent,
                               "title": title, "year": year, "list_sig": sig, "checked_at": now,
                               "first_seen": (prev or {}).get("first_seen") or now,
                               "attempts": int((prev or {}).get("attempts") or 0) + 1}
        if r.not_modified and prev and prev.get("sha256"):
            body = self.archive.get(prev["sha256"])
            row.update(status="ok", http_status=304, sha256=prev["sha256"], error=None, fetched_at=now,
                       etag=r.etag or prev.get("etag"), last_modified=r.last_modified or prev.get("last_modified"),
                       content_type=prev.get("content_type"), method=r.method)
            self._ops.append(("touch", (now, c, prev["sha256"])))
            return "unchanged", body, row
        if r.ok:
            sha = sha256_bytes(r.body)
            # written by the archive thread while parsing and fetching go on; the batch holding the rows
            # below waits for the write and syncs it before committing (see _flush_loop, _commit)
            self._writes.append(asyncio.get_running_loop().run_in_executor(self._files, self._put, r.body, sha))
            self._ops.append(("manifest", ManifestRow(
                url=c, sha256=sha, portal_id=portal.id, kind=kind, content_type=r.content_type or None,
                http_status=r.status, size=len(r.body), fetched_at=now, etag=r.etag, last_modified=r.last_modified,
                final_url=portal.canonical(r.final_url), parent_url=parent, title=title, year=year,
                run_id=self.run_id, method=r.method)))
            old = (prev or {}).get("sha256")
            event = "new" if not old else ("unchanged" if old == sha else "changed")
            row.update(status="ok", http_status=r.status, sha256=sha, etag=r.etag, last_modified=r.last_modified,
                       content_type=r.content_type or None, error=None, fetched_at=now, method=r.method)
            if kind != "list":
                self.log(portal.id, c, kind, event, r.status, sha)
            return event, r.body, row
        err = r.error or f"HTTP {r.status}"
        if r.status in (404, 410):
            event = "broken"
        elif err.startswith(("robots:", "refused:")) or "redirect refused" in err:
            event = "skipped"
        else:
            event = "failed"
        keep = prev or {}
        row.update(status=event, http_status=r.status, error=err, sha256=keep.get("sha256"),
                   etag=keep.get("etag"), last_modified=keep.get("last_modified"),
                   content_type=keep.get("content_type"), fetched_at=keep.get("fetched_at"),
                   method=keep.get("method") or r.method)
        self.log(portal.id, c, kind, event, r.status, None, err)
        self._count_problem(ps, portal, event, c, err)
        return event, None, row

    def _put(self, body: bytes, sha: str) -> tuple[str, bool]:
        return self.archive.write(body, sha)  # the digest store() already took for the manifest row

    def _count_problem(self, ps: PortalSummary, portal: Portal, event: str, url: str, err: str) -> None:
        if (url, err) in ps.errors or (url, err) in ps.skips:
            return  # the same link on two list pages is one problem
        if event == "skipped":
            ps.skipped += 1
            ps.skips.append((url, err))
            self.progress("skip", portal.id, url)
        else:
            setattr(ps, event, getattr(ps, event) + 1)
            ps.errors.append((url, err))
            self.progress("error", portal.id, url)

    def _count_doc(self, ps: PortalSummary, portal: Portal, event: str, row: dict[str, Any], kind: str) -> None:
        if event in ("new", "changed", "unchanged"):
            setattr(ps, event, getattr(ps, event) + 1)
            self.progress("document", portal.id, row["url"])
        if event in ("new", "changed"):
            self.summary.documents.append(DocRef(
                url=row["url"], sha256=row["sha256"], portal_id=portal.id, kind=kind, status=event,
                title=row.get("title"), year=row.get("year"), content_type=row.get("content_type"),
                parent_url=row.get("parent_url")))

    # -- a portal ------------------------------------------------------------------------------
    async def portal(self, portal: Portal) -> PortalSummary:
        ps = PortalSummary(portal.id)
        self.summary.portals[portal.id] = ps
        if portal.unresolved:
            self._count_problem(ps, portal, "failed", portal.id, "demo placeholder not resolved (use --demo)")
            return ps
        if not portal.entry_urls and not portal.report_urls:
            self._count_problem(ps, portal, "failed", portal.id, "registry row has no entry_urls or report_urls")
            return ps
        state = self.load_state(portal.id)
        reports = await self._lists(portal, ps, state)
        for u in portal.report_urls:
            reports.setdefault(u, Link(u, ""))
        ps.reports = len(reports)
        if not reports:
            before = sum(1 for s in state.values() if s["kind"] == "article")
            why = f"portal yielded 0 reports (had {before} before)" if before else "portal yielded 0 reports"
            self._count_problem(ps, portal, "failed", portal.canonical(portal.entry_urls[0] if portal.entry_urls
                                                                       else portal.id), why)
        # which articles need a request
        todo: list[tuple[Link, dict[str, Any] | None]] = []
        for link in reports.values():
            st = state.get(portal.canonical(link.url))
            sig_changed = bool(link.text) and st is not None and st["list_sig"] != link.sig
            if st is not None and st["status"] == "broken" and not sig_changed and not self.config.recheck:
                # a known dead link is reported, not re-requested every night, until its entry changes
                self._count_problem(ps, portal, "broken", st["url"], f"{st['error']} (known dead link)")
            elif st is None or st["status"] != "ok" or self.config.recheck or sig_changed:
                todo.append((link, st))
            else:
                ps.unchanged += 1
        listed = {portal.canonical(u) for u in reports}
        # attachments left pending by a killed run, or failed last time (not 404s: those wait for a change)
        retry_atts = [s for s in state.values() if s["kind"] == "attachment" and s["status"] in ("pending", "failed")
                      and s["parent_url"] in listed
                      and not any(portal.canonical(lk.url) == s["parent_url"] for lk, _ in todo)]
        await asyncio.gather(*(self._article(portal, ps, link, st, state) for link, st in todo),
                             *(self._attachment(portal, ps, s, s) for s in retry_atts))
        return ps

    async def _lists(self, portal: Portal, ps: PortalSummary, state: dict[str, dict[str, Any]]) -> dict[str, Link]:
        family: Family | None = None if portal.family == "auto" else get_family(portal.family)
        policy = portal.policy()
        allow_empty = bool(portal.options.get("allow_empty_pages", False))
        max_pages = int(portal.options.get("max_list_pages", self.config.max_list_pages))
        queue = list(dict.fromkeys(portal.entry_urls))
        how = _ListMethod(str(portal.options.get("list_method", "get")).lower() == "post")
        seen = {_page_key(u) for u in queue}
        reports: dict[str, Link] = {}
        fetched = 0
        while queue and fetched < max_pages:
            batch, queue = queue[: max_pages - fetched], queue[max_pages - fetched:]
            fetched += len(batch)
            results = await asyncio.gather(*(self.fetch_list(portal, family, u, state.get(portal.canonical(u)), how)
                                             for u in batch))
            for url, r in zip(batch, results, strict=True):
                prev = state.get(portal.canonical(url))
                event, body, row = await self.store(portal, ps, "list", url, r, prev)
                self.put_state(row)
                self.kick()
                if body is None:
                    continue
                ps.pages += 1
                self.progress("page", portal.id, url)
                html, _ = decode_html(body, r.content_type or (prev or {}).get("content_type") or "")
                base = r.final_url or url
                if family is None:
                    family = detect_family(base, html)
                lp = family.parse_list(base, html)
                found = 0
                for link in lp.reports():
                    if portal.units and not any(u in link.text for u in portal.units):
                        continue  # another unit's report reposted in this column
                    try:
                        policy.check(link.url)
                    except Confined as e:
                        self._count_problem(ps, portal, "skipped", link.url, f"off-site link: {e}")
                        continue
                    found += 1
                    reports.setdefault(link.url, link)
                for nxt in (*lp.pages, *lp.columns):
                    if _page_key(nxt) not in seen and policy.allows(nxt):
                        seen.add(_page_key(nxt))
                        queue.append(nxt)
                if not found and not lp.columns and not allow_empty:
                    self._count_problem(ps, portal, "failed", portal.canonical(url),
                                        "list page yielded 0 reports (layout changed or column emptied?)")
        if queue:
            self._count_problem(ps, portal, "skipped", portal.canonical(queue[0]),
                                f"max_list_pages={max_pages} reached; {len(queue)} list pages not read")
        return reports

    async def _article(self, portal: Portal, ps: PortalSummary, link: Link, st: dict[str, Any] | None,
                       state: dict[str, dict[str, Any]]) -> None:
        r = await self.fetch(portal, link.url, st)
        title = link.text or (st or {}).get("title")
        event, body, row = await self.store(portal, ps, "article", link.url, r, st, title=title,
                                      sig=link.sig if link.text else None)
        if body is None:
            self.put_state(row)
            self.kick()
            return
        html, _ = decode_html(body, r.content_type or (st or {}).get("content_type") or "")
        family = get_family(portal.family if portal.family != "auto" else None)
        if portal.family == "auto":
            family = detect_family(link.url, html)
        page = family.parse_article(r.final_url or link.url, html)
        if not title and page.title:
            row["title"], row["year"] = page.title, report_year(page.title)
        policy = portal.policy()
        atts: list[dict[str, Any]] = []
        for a in page.attachments:
            try:
                policy.check(a.url)
            except Confined as e:
                self._count_problem(ps, portal, "skipped", a.url, f"off-site attachment: {e}")
                continue
            c = portal.canonical(a.url)
            prev = state.get(c)
            if prev is not None and prev["status"] == "ok" and event == "unchanged":
                continue  # same article bytes, attachment already archived
            if prev is not None and prev["status"] == "broken" and event == "unchanged":
                continue
            arow = {"url": c, "portal_id": portal.id, "kind": "attachment", "parent_url": row["url"],
                    "title": a.text or row["title"], "year": report_year(a.text or "") or row["year"],
                    "status": "pending", "first_seen": (prev or {}).get("first_seen") or _now(),
                    "attempts": (prev or {}).get("attempts") or 0, "method": (prev or {}).get("method") or "GET"}
            if prev:  # keep validators so a re-check can be a 304
                arow.update({k: prev.get(k) for k in ("sha256", "etag", "last_modified", "content_type")})
            self.put_state(arow)
            state[c] = {**(prev or {}), **arow}
            atts.append(state[c])
        self.put_state(row)  # the article is done only together with its attachment rows (one batch)
        self.kick()
        self._count_doc(ps, portal, event, row, "article")
        await asyncio.gather(*(self._attachment(portal, ps, a, a if a.get("sha256") else None) for a in atts))

    async def _attachment(self, portal: Portal, ps: PortalSummary, att: dict[str, Any],
                          prev: dict[str, Any] | None) -> None:
        url = portal.real(att["url"])
        r = await self.fetch(portal, url, prev)
        event, body, row = await self.store(portal, ps, "attachment", url, r, prev, parent=att["parent_url"],
                                      title=att.get("title"))
        row["year"] = row["year"] or att.get("year")
        self.put_state(row)
        self.kick()
        if body is not None:
            self._count_doc(ps, portal, event, row, "attachment")


_INDEX_RE = re.compile(r"/index\.s?html?$")


def _page_key(url: str) -> str:
    """`col/` and `col/index.html` are one list page (breadcrumbs link the former)."""
    return _INDEX_RE.sub("/", url)


async def acrawl_portals(portals: list[Portal], data_dir: Path | str, *, config: CrawlConfig | None = None,
                         progress: Progress | None = None) -> CrawlSummary:
    from sql import DB_NAME, apply_migrations

    config = config or CrawlConfig()
    run_id = datetime.now().strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]
    summary = CrawlSummary(run_id)
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    loop = asyncio.get_running_loop()
    db_thread = ThreadPoolExecutor(1, thread_name_prefix="crawl-db")  # DuckDB: one writer
    archive_pool = ThreadPoolExecutor(1, thread_name_prefix="crawl-archive")

    def open_db() -> duckdb.DuckDBPyConnection:
        # migrations only: the crawler needs its tables, not the warehouse views (rebuilt by `sql.connect`)
        con = duckdb.connect(str(Path(data_dir) / DB_NAME))
        try:
            apply_migrations(con)
            con.execute("INSERT INTO crawl_runs VALUES (?, ?, NULL, 'running', ?, ?)",
                        [run_id, _now(), ",".join(p.id for p in portals),
                         json.dumps(asdict(config), default=str)])
        except BaseException:
            con.close()
            raise
        return con

    con: duckdb.DuckDBPyConnection | None = None
    try:
        async with Fetcher(config.fetch) as fetcher:
            for p in portals:  # a portal may ask for a slower pace than the configured one
                extra = float(p.options.get("delay", 0) or 0)
                if extra > config.fetch.per_host_delay:
                    for u in (*p.entry_urls, *p.report_urls):
                        fetcher._host(urlsplit(u).netloc.lower()).delay = extra
            # opening the database (file creation, migrations: a few hundred ms) overlaps with the
            # robots.txt requests that every portal's first fetch has to wait for anyway
            opening = loop.run_in_executor(db_thread, open_db)
            try:
                await asyncio.gather(*(_robots_first(fetcher, p) for p in portals))
            finally:
                con = await opening
            archive = RawArchive(data_dir)
            crawler = _Crawler(con, archive, fetcher, config, run_id, summary, progress, db_thread, archive_pool)
            await asyncio.gather(*(crawler.portal(p) for p in portals))
            for r in fetcher.robots_fetched:  # keep every byte fetched, robots.txt included
                owner = next((p for p in portals if p.policy().allows(r.url)), None)
                if owner is not None:
                    await crawler.store(owner, PortalSummary(owner.id), "robots", r.url, r, None)
            await crawler.flush()
        finish = con
        finish.execute("BEGIN TRANSACTION")  # one commit (one fsync) for the run's closing rows
        for ps in summary.portals.values():
            finish.execute(f"INSERT INTO crawl_portal_runs VALUES (?, ?, {', '.join('?' * len(PortalSummary.COUNTS))})",
                           [run_id, ps.portal_id, *(getattr(ps, c) for c in PortalSummary.COUNTS)])
        finish.execute("UPDATE crawl_runs SET finished_at = ?, status = ? WHERE run_id = ?",
                       [_now(), "ok" if summary.ok else "failed", run_id])
        finish.execute("COMMIT")
    finally:
        db_thread.shutdown()
        archive_pool.shutdown()
        if con is not None:
            con.close()
    return summary


async def _robots_first(fetcher: Fetcher, portal: Portal) -> None:
    """Fetch robots.txt of a portal's first URL: its first request would do the same."""
    urls = (*portal.entry_urls, *portal.report_urls)
    if portal.unresolved or not urls:
        return
    policy = portal.policy()
    try:
        url = policy.check(urls[0])
    except Confined:
        return
    await fetcher.robots_allows(url, policy)


def crawl_portals(portals: list[Portal], data_dir: Path | str, *, config: CrawlConfig | None = None,
                  progress: Progress | None = None) -> CrawlSummary:
    """Crawl the given registry rows into DATA_DIR (raw archive + manifest + state)."""
    return asyncio.run(acrawl_portals(portals, data_dir, config=config, progress=progress))


def crawl_portal(portal: Portal, data_dir: Path | str, *, config: CrawlConfig | None = None,
                 progress: Progress | None = None) -> tuple[PortalSummary, CrawlSummary]:
    """One portal; returns its summary and the run's (for the list of new/changed documents)."""
    s = crawl_portals([portal], data_dir, config=config, progress=progress)
    return s.portals[portal.id], s
