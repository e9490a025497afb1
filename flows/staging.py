"""Parquet staging between the workers that extract and the single process that writes DuckDB.

DuckDB allows one writing process, so extraction tasks (threads locally, processes on a Dask cluster)
never open the warehouse: each writes its document's records to
`DATA_DIR/staging/<run>/extract/<sha256>.parquet` (temp file + rename, so a killed worker leaves nothing
half-written), and `merge_extractions` — the one writer — loads every staged file through
`sql.load.load_extractions`, then deletes what it merged. Files left by a run that died before its load
are merged by the next run, so nothing extracted is lost. Both runners use exactly this path.

Values are stored as text (`12`, `3.5`) so ints and Decimals come back exactly as extracted.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.parquet as pq

from transform.records import CellRecord, CheckRecord, Extraction, NarrativeRecord, ReportMeta

if TYPE_CHECKING:
    from extract.crawl import CrawlConfig, CrawlSummary
    from extract.registry import Portal

STAGING = "staging"
FAILED = "_failed"  # staging/_failed/<extractor version>/<sha256>.json: unreadable, do not retry
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_RUN_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,80}$")

_VAL = pa.string()
CELL_T = pa.struct([("table", pa.string()), ("row", pa.string()), ("col", pa.string()), ("value", _VAL),
                    ("raw", pa.string()), ("status", pa.string()), ("flags", pa.list_(pa.string())),
                    ("raw_row_label", pa.string()), ("raw_col_label", pa.string()), ("section", pa.int16())])
NARR_T = pa.struct([("metric", pa.string()), ("value", _VAL), ("unit", pa.string()), ("raw", pa.string()),
                    ("qualifier", pa.string()), ("approx", pa.bool_()), ("section", pa.int16())])
CHECK_T = pa.struct([("rule", pa.string()), ("scope", pa.string()), ("expected", _VAL), ("actual", _VAL),
                     ("passed", pa.bool_()), ("detail", pa.string())])
SCHEMA = pa.schema([
    ("sha256", pa.string()), ("extractor_version", pa.string()), ("source_url", pa.string()),
    ("portal_id", pa.string()), ("fetched_at", pa.timestamp("us")), ("published_at", pa.timestamp("us")),
    ("meta", pa.string()),  # ReportMeta as JSON: small, and free to grow fields without a schema change
    ("warnings", pa.list_(pa.string())),
    ("cells", pa.list_(CELL_T)), ("narrative", pa.list_(NARR_T)), ("checks", pa.list_(CHECK_T))])


@dataclass(slots=True)
class Provenance:
    """Where a document came from; travels with its records into `reports`."""

    source_url: str | None = None
    portal_id: str | None = None
    fetched_at: datetime | None = None
    published_at: datetime | None = None


def staging_root(data_dir: Path | str) -> Path:
    return Path(data_dir) / STAGING


def run_dir(data_dir: Path | str, run_id: str) -> Path:
    if not _RUN_RE.match(run_id):
        raise ValueError(f"bad run id {run_id!r}")
    return staging_root(data_dir) / run_id


def _check_sha(sha: str) -> str:
    if not _SHA_RE.match(sha):
        raise ValueError(f"not a sha256: {sha!r}")
    return sha


# -- values --------------------------------------------------------------------------------------------

def _v2s(v: int | Decimal | None) -> str | None:
    return None if v is None else str(v)


def _s2v(s: str | None) -> int | Decimal | None:
    if s is None:
        return None
    try:
        return int(s)
    except ValueError:
        return Decimal(s)


# -- write (workers) -------------------------------------------------------------------------------------

def extraction_row(x: Extraction, prov: Provenance) -> dict:
    m = x.meta
    return {
        "sha256": m.sha256, "extractor_version": m.extractor_version,
        "source_url": prov.source_url or m.source, "portal_id": prov.portal_id,
        "fetched_at": prov.fetched_at, "published_at": prov.published_at,
        "meta": json.dumps(asdict(m), ensure_ascii=False), "warnings": list(x.warnings),
        "cells": [{"table": c.table, "row": c.row, "col": c.col, "value": _v2s(c.value), "raw": c.raw,
                   "status": c.status, "flags": list(c.flags), "raw_row_label": c.raw_row_label,
                   "raw_col_label": c.raw_col_label, "section": c.section} for c in x.cells],
        "narrative": [{"metric": n.metric, "value": _v2s(n.value), "unit": n.unit, "raw": n.raw,
                       "qualifier": n.qualifier, "approx": n.approx, "section": n.section} for n in x.narrative],
        "checks": [{"rule": c.rule, "scope": c.scope, "expected": _v2s(c.expected), "actual": _v2s(c.actual),
                    "passed": c.passed, "detail": c.detail} for c in x.checks],
    }


def _atomic_write(dest: Path, write: Callable[[str], object]) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix="." + dest.name[:16], suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_extraction(data_dir: Path | str, run_id: str, x: Extraction, prov: Provenance) -> Path:
    """Stage one document's records; returns the file. Same document twice in a run: last one wins."""
    dest = run_dir(data_dir, run_id) / "extract" / f"{_check_sha(x.meta.sha256)}.parquet"
    table = pa.Table.from_pylist([extraction_row(x, prov)], schema=SCHEMA)
    _atomic_write(dest, lambda tmp: pq.write_table(table, tmp, compression="zstd"))
    return dest


def _failed_path(data_dir: Path | str, sha: str, version: str) -> Path:
    safe_version = re.sub(r"[^A-Za-z0-9_.\-]", "_", version) or "unknown"
    return staging_root(data_dir) / FAILED / safe_version / f"{_check_sha(sha)}.json"


def mark_failed(data_dir: Path | str, sha: str, version: str, *, url: str | None, portal_id: str | None,
                error: str) -> None:
    """Remember that these bytes cannot be read by this extractor version (a deterministic failure)."""
    body = json.dumps({"sha256": sha, "extractor_version": version, "url": url, "portal_id": portal_id,
                       "error": error}, ensure_ascii=False)
    dest = _failed_path(data_dir, sha, version)
    _atomic_write(dest, lambda tmp: Path(tmp).write_text(body, encoding="utf-8"))


# -- the extraction cache ---------------------------------------------------------------------------------

def staged_shas(data_dir: Path | str) -> set[str]:
    """Documents staged by any run and not merged yet (e.g. a run that died before its load)."""
    root = staging_root(data_dir)
    if not root.exists():
        return set()
    return {p.stem for p in root.glob("*/extract/*.parquet") if not p.parent.parent.name.startswith("_")}


def known_failures(data_dir: Path | str, shas: Iterable[str], version: str) -> set[str]:
    return {s for s in shas if _failed_path(data_dir, s, version).exists()}


def split_pending(con, data_dir: Path | str, shas: Iterable[str], version: str
                  ) -> tuple[list[str], set[str], set[str]]:
    """(to extract, already extracted, known unreadable) for these documents.

    Already extracted = a report with this sha256 and extractor version in the warehouse, or a staged file
    awaiting its load. This, not Prefect's result cache, is the extraction cache: it lives with the data, so
    it survives a new Prefect home, a different runner and a wiped result store, and it can never point at
    a staging file that was already merged and deleted. `con` may be None (no warehouse yet).
    """
    wanted = list(dict.fromkeys(shas))
    done: set[str] = set()
    if con is not None and wanted:
        rows = con.execute("SELECT sha256 FROM reports WHERE extractor_version = ? AND sha256 IN "
                           "(SELECT unnest(?::VARCHAR[]))", [version, wanted]).fetchall()
        done = {r[0] for r in rows}
    done |= staged_shas(data_dir) & set(wanted)
    failed = known_failures(data_dir, [s for s in wanted if s not in done], version)
    return [s for s in wanted if s not in done and s not in failed], done, failed


# -- read + merge (the single writer) -----------------------------------------------------------------------

def read_extractions(path: Path | str) -> list[tuple[Extraction, Provenance]]:
    out = []
    for r in pq.read_table(path).to_pylist():
        md = json.loads(r["meta"])
        meta = ReportMeta(**{k: v for k, v in md.items() if k in ReportMeta.__dataclass_fields__})
        x = Extraction(
            meta,
            [CellRecord(c["table"], c["row"], c["col"], _s2v(c["value"]), c["raw"], c["status"],
                        list(c["flags"] or []), c["raw_row_label"], c["raw_col_label"], c["section"])
             for c in r["cells"] or []],
            [NarrativeRecord(n["metric"], _s2v(n["value"]), n["unit"], n["raw"], n["qualifier"], n["approx"],
                             n["section"]) for n in r["narrative"] or []],
            [CheckRecord(c["rule"], c["scope"], _s2v(c["expected"]), _s2v(c["actual"]), c["passed"], c["detail"])
             for c in r["checks"] or []],
            list(r["warnings"] or []))
        out.append((x, Provenance(r["source_url"], r["portal_id"], r["fetched_at"], r["published_at"])))
    return out


def staged_files(data_dir: Path | str) -> list[Path]:
    """Every staged extraction, oldest run first (run ids start with a UTC timestamp), so when a document
    was staged twice the newer staging wins the merge."""
    root = staging_root(data_dir)
    if not root.exists():
        return []
    runs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("_"))
    return [p for d in runs for p in sorted((d / "extract").glob("*.parquet"))]


@dataclass(slots=True)
class MergeResult:
    files: int
    counts: dict[str, int]
    report_ids: list[int]
    sha256s: list[str]


def merge_extractions(con, data_dir: Path | str, *, batch_size: int = 500) -> MergeResult:
    """Load every staged extraction into the warehouse (this process is the only writer), then remove the
    merged files. A failure leaves the files in place for the next run."""
    from sql.load import LoadCounts, LoadItem, load_extractions

    files = staged_files(data_dir)
    items: list[LoadItem] = []
    for f in files:
        for x, p in read_extractions(f):
            items.append(LoadItem(x, source_url=p.source_url, portal_id=p.portal_id, fetched_at=p.fetched_at,
                                  published_at=p.published_at))
    counts = load_extractions(con, items, batch_size=batch_size) if items else LoadCounts()
    shas = list(dict.fromkeys(it.extraction.meta.sha256 for it in items))
    ids = [r[0] for r in con.execute("SELECT report_id FROM reports WHERE sha256 IN (SELECT unnest(?::VARCHAR[])) "
                                     "ORDER BY report_id", [shas]).fetchall()] if shas else []
    for f in files:
        f.unlink(missing_ok=True)
    cleanup(data_dir)
    return MergeResult(len(files), asdict(counts), ids, shas)


def cleanup(data_dir: Path | str) -> None:
    """Remove what holds nothing left to merge: crawl folders of crawls that never finished (their worker
    died; the next crawl starts from the warehouse state again) and empty run folders. Only called under
    `run_lock`, so no other run's folders are in use. The `_failed` cache is kept."""
    root = staging_root(data_dir)
    if not root.exists():
        return
    for d in root.iterdir():
        if not d.is_dir() or d.name.startswith("_"):
            continue
        for c in (d / "crawl").glob("*"):
            if not (c / "done").exists():
                shutil.rmtree(c, ignore_errors=True)
        if not any(d.glob("extract/*.parquet")) and not any(d.glob("crawl/*/done")):
            shutil.rmtree(d, ignore_errors=True)


@contextmanager
def run_lock(data_dir: Path | str) -> Iterator[None]:
    """One pipeline run per data dir at a time (a nightly run and a manual one must not interleave their
    staging and merges). Raises RunLocked at once instead of waiting."""
    import fcntl

    root = staging_root(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLocked(f"another gongkai run is using {data_dir}") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class RunLocked(RuntimeError):
    pass


# -- crawl staging ------------------------------------------------------------------------------------------
# A crawl task writes to its own small DuckDB under staging/<run>/crawl/<key>/ (seeded with its portals'
# crawl state, so the crawl stays incremental), with `raw` a symlink to the real archive: raw bytes are
# content-addressed and written atomically, so workers can share the archive. At the end the task exports
# its manifest/state tables to parquet and the flow's single loader merges them into the warehouse.

CRAWL_TABLES = ("crawl_state", "documents", "crawl_runs", "crawl_portal_runs", "crawl_log")
_SEEDED = ("crawl_state", "documents")  # per-portal rows the crawler reads back


def crawl_dir(data_dir: Path | str, run_id: str, key: str) -> Path:
    if not _RUN_RE.match(key):
        raise ValueError(f"bad crawl key {key!r}")
    return run_dir(data_dir, run_id) / "crawl" / key


def seed_crawl(con, data_dir: Path | str, run_id: str, key: str, portal_ids: list[str]) -> Path:
    """Copy the portals' state and manifest rows out of the warehouse for one crawl task (flow process)."""
    d = crawl_dir(data_dir, run_id, key)
    d.mkdir(parents=True, exist_ok=True)
    for t in _SEEDED:
        rel = con.sql(f"SELECT * FROM {t} WHERE portal_id IN (SELECT unnest(?::VARCHAR[]))", params=[portal_ids])
        pq.write_table(rel.to_arrow_table(), d / f"seed_{t}.parquet")
    return d


def crawl_to_staging(portals: list[Portal], data_dir: Path | str, run_id: str, key: str,
                     config: CrawlConfig | None = None) -> CrawlSummary:
    """Crawl `portals` (one host group) into the task's staging folder; returns the CrawlSummary.

    Runs on any worker: it never opens the warehouse. A rerun of the same task starts again from the seed.
    """
    import duckdb

    from extract.crawl import crawl_portals
    from sql import CRAWL_MIGRATIONS, DB_NAME, apply_migrations

    data_dir = Path(data_dir).resolve()
    d = crawl_dir(data_dir, run_id, key)
    d.mkdir(parents=True, exist_ok=True)
    raw = d / "raw"
    if not raw.is_symlink():
        (data_dir / "raw").mkdir(parents=True, exist_ok=True)
        raw.symlink_to(data_dir / "raw", target_is_directory=True)
    db = d / DB_NAME
    db.unlink(missing_ok=True)  # a retried task starts from the seed, not from a half-finished attempt
    con = duckdb.connect(str(db))
    try:
        apply_migrations(con, only=CRAWL_MIGRATIONS)  # only the raw/crawl tables: the crawler needs nothing else
        for t in _SEEDED:
            seed = d / f"seed_{t}.parquet"
            if seed.exists():
                con.execute(f"INSERT INTO {t} BY NAME SELECT * FROM read_parquet(?)", [str(seed)])
    finally:
        con.close()
    summary = crawl_portals(portals, d, config=config)
    con = duckdb.connect(str(db))
    try:
        for t in CRAWL_TABLES:
            out = d / f"{t}.parquet"
            _atomic_write(out, lambda tmp, t=t: con.execute(f"COPY {t} TO '{tmp}' (FORMAT parquet)"))
    finally:
        con.close()
    db.unlink(missing_ok=True)
    (d / "done").write_text(summary.run_id, encoding="utf-8")  # the merge takes only finished crawls
    return summary


def staged_crawls(data_dir: Path | str) -> list[Path]:
    root = staging_root(data_dir)
    if not root.exists():
        return []
    runs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("_"))
    return [c for r in runs for c in sorted((r / "crawl").glob("*")) if (c / "done").exists()]


_CRAWL_MERGE = {
    # state and manifest rows come back whole (seeded + updated), so the staged row replaces the old one;
    # by name: a folder staged before a migration added a column still merges
    "crawl_state": "INSERT OR REPLACE INTO crawl_state BY NAME SELECT * FROM read_parquet(?)",
    "documents": "INSERT OR REPLACE INTO documents BY NAME SELECT * FROM read_parquet(?)",
    "crawl_runs": "INSERT OR IGNORE INTO crawl_runs SELECT * FROM read_parquet(?)",
    "crawl_portal_runs": "INSERT OR IGNORE INTO crawl_portal_runs SELECT * FROM read_parquet(?)",
    "crawl_log": ("INSERT INTO crawl_log SELECT * FROM read_parquet(?) s WHERE NOT EXISTS (SELECT 1 FROM "
                  "crawl_log l WHERE l.run_id = s.run_id AND l.ts = s.ts AND l.url = s.url AND l.event = s.event)"),
}


def merge_crawls(con, data_dir: Path | str) -> int:
    """Merge every finished crawl staging folder into the warehouse, oldest run first, one transaction
    each; returns how many were merged. Unfinished folders (a worker died) are left for cleanup."""
    n = 0
    for d in staged_crawls(data_dir):
        con.execute("BEGIN TRANSACTION")
        try:
            for t in CRAWL_TABLES:
                f = d / f"{t}.parquet"
                if f.exists():
                    con.execute(_CRAWL_MERGE[t], [str(f)])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        shutil.rmtree(d, ignore_errors=True)
        n += 1
    return n


# -- extraction (one document, on any worker) ------------------------------------------------------------------

@dataclass(slots=True)
class ExtractJob:
    sha256: str
    url: str  # canonical (demo URLs in placeholder form), as in the manifest
    portal_id: str | None = None
    kind: str = "article"  # article | attachment
    content_type: str | None = None
    fetched_at: datetime | None = None
    has_attachments: bool = False  # an article whose report may be in its attachment


@dataclass(slots=True)
class ExtractOutcome:
    sha256: str
    url: str
    portal_id: str | None
    status: str  # staged | shell | failed
    error: str | None = None
    n_cells: int = 0


def _filename(url: str) -> str | None:
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    return name or None


def extract_to_staging(job: ExtractJob, data_dir: Path | str, run_id: str) -> ExtractOutcome:
    """Read one archived document, extract it and stage its records. Unreadable bytes (ReaderError) and
    article shells whose report is an attachment are remembered per (sha256, extractor version) so they are
    not retried; anything else raises (a bug is a task failure, reported with the document)."""
    from extract.archive import RawArchive
    from extract.readers.base import ReaderError
    from transform import EXTRACTOR_VERSION
    from transform.pipeline import extract_bytes

    data = RawArchive(data_dir).get(job.sha256)
    try:
        x = extract_bytes(data, source=job.url, filename=_filename(job.url), content_type=job.content_type)
    except ReaderError as e:
        mark_failed(data_dir, job.sha256, EXTRACTOR_VERSION, url=job.url, portal_id=job.portal_id, error=str(e))
        return ExtractOutcome(job.sha256, job.url, job.portal_id, "failed", f"unreadable: {e}")
    if job.kind == "article" and job.has_attachments and not x.cells:
        # the page only links the report: loading it would add an empty report for the same unit x year
        mark_failed(data_dir, job.sha256, EXTRACTOR_VERSION, url=job.url, portal_id=job.portal_id,
                    error=SHELL)
        return ExtractOutcome(job.sha256, job.url, job.portal_id, "shell")
    write_extraction(data_dir, run_id, x, Provenance(job.url, job.portal_id, job.fetched_at))
    return ExtractOutcome(job.sha256, job.url, job.portal_id, "staged", n_cells=len(x.cells))


SHELL = "shell: an article page without tables whose report is its attachment"


# -- planning (flow process, reads the warehouse) ----------------------------------------------------------------

@dataclass(slots=True)
class CrawlJob:
    """One crawl task: portals that share no host with any other task's portals."""

    key: str
    portals: list[Portal]
    hosts: list[str]  # canonical host names (demo hosts as placeholders): the concurrency-limit keys


def portal_hosts(p: Portal) -> set[str]:
    """Hosts a portal's crawl will request: its entry/report URL hosts and its exact allowed hosts."""
    hosts = {urlsplit(u).netloc.lower() for u in (*p.entry_urls, *p.report_urls)}
    hosts |= {h.lower() for h in p.allowed_hosts if not h.startswith(".")}
    return {h for h in hosts if h}


def host_groups(portals: list[Portal]) -> list[CrawlJob]:
    """Group portals so that no host is crawled by two tasks at once: portals sharing a host (directly or
    through another portal) land in one task, whose single fetcher then paces that host. Unresolved
    portals (demo placeholders) go alone: the crawler reports them as failed without a request."""
    parent = list(range(len(portals)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, p in enumerate(portals):
        for h in portal_hosts(p):
            if h in owner:
                parent[find(i)] = find(owner[h])
            else:
                owner[h] = i
    groups: dict[int, list[Portal]] = {}
    for i, p in enumerate(portals):
        groups.setdefault(find(i), []).append(p)
    jobs = []
    for n, ps in enumerate(groups.values()):
        hosts = sorted({urlsplit(p.canonical(f"http://{h}/")).netloc for p in ps for h in portal_hosts(p)})
        key = re.sub(r"[^A-Za-z0-9_.\-]+", "-", f"{n:03d}-{ps[0].id}")[:60]
        jobs.append(CrawlJob(key, ps, hosts))
    return jobs


def plan_crawl(con, data_dir: Path | str, run_id: str, portals: list[Portal]) -> list[CrawlJob]:
    """Merge crawls a dead run left behind, then seed one staging folder per host group."""
    merge_crawls(con, data_dir)
    jobs = host_groups(portals)
    for j in jobs:
        seed_crawl(con, data_dir, run_id, j.key, [p.id for p in j.portals])
    return jobs


@dataclass(slots=True)
class ExtractPlan:
    jobs: list[ExtractJob]
    cached: int  # new/changed documents already extracted with this extractor version (or staged)
    known_failed: int  # new/changed documents unreadable or shells with this extractor version
    backlog: int  # archived documents never extracted (e.g. crawled by `gongkai crawl` or a dead run)


def plan_extract(con, data_dir: Path | str, docs: Iterable, *, portal_ids: Iterable[str] = (),
                 version: str, backlog: bool = True) -> ExtractPlan:
    """The documents to extract: this crawl's new/changed ones (`docs`, extract.crawl.DocRef-like) plus,
    with `backlog`, archived documents of these portals that no report was ever loaded from, minus the
    extraction cache (`split_pending`)."""
    cand: dict[str, ExtractJob] = {}
    for d in docs:
        cand.setdefault(d.sha256, ExtractJob(d.sha256, d.url, d.portal_id, d.kind, d.content_type))
    fresh = set(cand)
    ids = list(portal_ids)
    if backlog and ids:
        rows = con.execute(
            """SELECT s.sha256, s.url, s.portal_id, s.kind, s.content_type FROM crawl_state s
               WHERE s.status = 'ok' AND s.kind IN ('article', 'attachment') AND s.sha256 IS NOT NULL
                 AND s.portal_id IN (SELECT unnest(?::VARCHAR[]))
                 AND s.sha256 NOT IN (SELECT sha256 FROM reports) ORDER BY s.url""", [ids]).fetchall()
        for sha, url, pid, kind, ctype in rows:
            cand.setdefault(sha, ExtractJob(sha, url, pid, kind, ctype))
    todo, done, failed = split_pending(con, data_dir, cand, version)
    jobs = [cand[s] for s in todo]
    if jobs:  # first fetch time (supersession order) and whether an article has attachments
        urls = [j.url for j in jobs]
        fetched = dict(((u, s), t) for u, s, t in con.execute(
            "SELECT url, sha256, min(fetched_at) FROM documents WHERE url IN (SELECT unnest(?::VARCHAR[])) "
            "GROUP BY url, sha256", [urls]).fetchall())
        parents = {r[0] for r in con.execute(
            "SELECT DISTINCT parent_url FROM crawl_state WHERE kind = 'attachment' "
            "AND parent_url IN (SELECT unnest(?::VARCHAR[]))", [urls]).fetchall()}
        for j in jobs:
            j.fetched_at = fetched.get((j.url, j.sha256))
            j.has_attachments = j.url in parents
    return ExtractPlan(jobs, len(done & fresh), len(failed & fresh), sum(s not in fresh for s in todo))


# -- the single loader -------------------------------------------------------------------------------------------

def registry_rows(portal_ids: Iterable[str], registry: Path | str | None = None) -> list[dict]:
    """The registry TOML rows of these portals, as `sql.load.register_portals` takes them."""
    import tomllib

    from extract.registry import REGISTRY_PATH

    wanted = set(portal_ids)
    rows = tomllib.loads(Path(registry or REGISTRY_PATH).read_text(encoding="utf-8")).get("portal", [])
    return [dict(r) for r in rows if r.get("id") in wanted]


def load_staged(data_dir: Path | str, portal_rows: list[dict]) -> tuple[MergeResult, dict]:
    """Register the crawled portals (their units place the reports), merge every staged extraction, and
    return the merge plus the quality picture of what was loaded. The only writer of reports."""
    from flows.report import quality_picture
    from sql import connect
    from sql.load import register_portals

    con = connect(data_dir)
    try:
        if portal_rows:
            register_portals(con, portal_rows)
        res = merge_extractions(con, data_dir)
        return res, quality_picture(con, res.report_ids)
    finally:
        con.close()
