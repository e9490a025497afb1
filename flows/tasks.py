"""Prefect tasks: thin wrappers around the plain functions of flows.staging / extract / sql.

Every task returns `Timed(value, start, end)` so the run report can split time by stage and measure the
orchestration overhead (wall time outside any task body). Caching is NOT Prefect's: tasks use
`NO_CACHE` and extraction is skipped by `staging.split_pending` (sha256 + extractor version, checked
against the warehouse), which survives a new Prefect home or runner and never points at deleted files.

Retries only where they help: crawl tasks retry on network-level exceptions (the fetcher already retries
each request; this covers a worker losing its network), the load retries when another process holds
the DuckDB file lock. Extraction is deterministic, so it never retries.

Per-host politeness across tasks: `staging.host_groups` puts every portal sharing a host into one task
(one fetcher paces that host), and each crawl task also holds a Prefect global concurrency slot per host
(`gongkai-host-<host>`, limit 1), so two runs (a nightly one and a manual one on a real server, or Dask
workers of different flows) never crawl one host at the same time.

Tasks carry no tags: Prefect turns every task tag into a concurrency-lease acquisition (API calls and a
lease-renewal service per task run), measured at 2-2.6 s before the first mapped task of a stage on the
demo, and the run lock (staging.run_lock) already keeps runs on one data dir from overlapping.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import staging

T = TypeVar("T")
HOST_LIMIT_PREFIX = "gongkai-host-"
HOST_SLOT_TIMEOUT = 3600.0  # a host busy for an hour means a stuck run: fail this portal, not the run


@dataclass(slots=True)
class Timed(Generic[T]):
    value: T
    stage: str
    start: float
    end: float


def timed(stage: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Timed[T]:
    t0 = time.time()
    value = fn(*args, **kwargs)
    return Timed(value, stage, t0, time.time())


# -- retry conditions ----------------------------------------------------------------------------------------

def _exception(state: Any) -> BaseException | None:
    try:
        state.result(raise_on_failure=True)
    except BaseException as e:  # noqa: BLE001 - we only classify it
        return e
    return None


def is_network_error(exc: BaseException | None) -> bool:
    import httpx

    return isinstance(exc, httpx.TransportError | ConnectionError | TimeoutError)


def is_lock_error(exc: BaseException | None) -> bool:
    """Another process holds the DuckDB file (e.g. someone querying the warehouse during the load)."""
    import duckdb

    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def retry_on_network(task: Any, task_run: Any, state: Any) -> bool:
    return is_network_error(_exception(state))


def retry_on_db_lock(task: Any, task_run: Any, state: Any) -> bool:
    return is_lock_error(_exception(state))


# -- per-host global concurrency ------------------------------------------------------------------------------

def host_limit_name(host: str) -> str:
    return HOST_LIMIT_PREFIX + re.sub(r"[^a-z0-9\-]+", "-", host.lower()).strip("-")


def ensure_host_limits(hosts: list[str], limit: int = 1) -> list[str]:
    """Create (or keep) one global concurrency limit per host; returns the names now usable."""
    from prefect.client.orchestration import get_client

    names = sorted({host_limit_name(h) for h in hosts})
    try:
        with get_client(sync_client=True) as client:
            for n in names:
                client.upsert_global_concurrency_limit_by_name(n, limit)
    except Exception as e:  # an API without the feature must not stop the crawl: the groups still hold
        get_run_logger().warning("per-host concurrency limits unavailable (%s); relying on host groups", e)
        return []
    return names


@contextmanager
def host_slots(names: list[str]) -> Iterator[None]:
    if not names:
        yield
        return
    from prefect.concurrency.sync import concurrency

    with concurrency(names, occupy=1, timeout_seconds=HOST_SLOT_TIMEOUT, strict=False):
        yield


# -- tasks ---------------------------------------------------------------------------------------------------

@task(name="plan-crawl", cache_policy=NO_CACHE)
def plan_crawl_task(data_dir: str, run_id: str, portals: list) -> Timed[list[staging.CrawlJob]]:
    from sql import connect

    def plan() -> list[staging.CrawlJob]:
        con = connect(data_dir)
        try:
            return staging.plan_crawl(con, data_dir, run_id, portals)
        finally:
            con.close()
    return timed("crawl", plan)


@task(name="crawl-hosts", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[10, 60],
      retry_condition_fn=retry_on_network)
def crawl_task(job: staging.CrawlJob, data_dir: str, run_id: str, config: Any, limit_names: list[str]
               ) -> Timed[Any]:
    with host_slots([n for n in limit_names if n in {host_limit_name(h) for h in job.hosts}]):
        return timed("crawl", staging.crawl_to_staging, job.portals, data_dir, run_id, job.key, config)


@task(name="merge-crawl", cache_policy=NO_CACHE, retries=3, retry_delay_seconds=5,
      retry_condition_fn=retry_on_db_lock)
def merge_crawl_task(data_dir: str) -> Timed[int]:
    from sql import connect

    def merge() -> int:
        con = connect(data_dir)
        try:
            return staging.merge_crawls(con, data_dir)
        finally:
            con.close()
    return timed("crawl", merge)


@task(name="plan-extract", cache_policy=NO_CACHE)
def plan_extract_task(data_dir: str, docs: list, portal_ids: list[str], backlog: bool = True
                      ) -> Timed[staging.ExtractPlan]:
    from sql import connect
    from transform import EXTRACTOR_VERSION

    def plan() -> staging.ExtractPlan:
        con = connect(data_dir)
        try:
            return staging.plan_extract(con, data_dir, docs, portal_ids=portal_ids, version=EXTRACTOR_VERSION,
                                        backlog=backlog)
        finally:
            con.close()
    return timed("extract", plan)


@task(name="extract-documents", cache_policy=NO_CACHE)
def extract_task(jobs: list[staging.ExtractJob], data_dir: str, run_id: str
                 ) -> Timed[list[staging.ExtractOutcome]]:
    """A small batch of documents per task: Prefect's ~60 ms per task run would otherwise cost more than
    extracting a page. A document that fails is reported with its own error; the batch goes on."""
    return timed("extract", extract_batch, jobs, data_dir, run_id)


def extract_batch(jobs: list[staging.ExtractJob], data_dir: str, run_id: str) -> list[staging.ExtractOutcome]:
    out = []
    for job in jobs:
        try:
            out.append(staging.extract_to_staging(job, data_dir, run_id))
        except Exception as e:  # a bug on one document fails that document, not its batch
            out.append(staging.ExtractOutcome(job.sha256, job.url, job.portal_id, "failed",
                                              f"extractor error: {type(e).__name__}: {e}"))
    return out


def batches(jobs: list, workers: int = 2, per_worker: int = 2, most: int = 32) -> list[list]:
    """Split jobs into about workers × per_worker batches of at most `most` documents."""
    if not jobs:
        return []
    size = max(1, min(most, -(-len(jobs) // (workers * per_worker))))
    return [jobs[i:i + size] for i in range(0, len(jobs), size)]


@task(name="load", cache_policy=NO_CACHE, retries=3, retry_delay_seconds=10, retry_condition_fn=retry_on_db_lock)
def load_task(data_dir: str, portal_rows: list[dict]) -> Timed[tuple[staging.MergeResult, dict]]:
    return timed("load", staging.load_staged, data_dir, portal_rows)


@task(name="export", cache_policy=NO_CACHE, retries=3, retry_delay_seconds=10, retry_condition_fn=retry_on_db_lock)
def export_task(data_dir: str, to: str) -> Timed[dict]:
    from sql import connect
    from sql.export import export

    def run() -> dict:
        con = connect(data_dir)
        try:
            m = export(con, to)
        finally:
            con.close()
        return {"to": str(to), "files": len(m.get("files", [])), "rows": sum(f.get("rows", 0) for f in m.get("files", []))}
    return timed("export", run)


@task(name="run-report", cache_policy=NO_CACHE)
def report_task(markdown: str, run_id: str) -> Timed[str]:
    """Publish the run report as the run's markdown artifact (key `gongkai-run-report`)."""
    from prefect.artifacts import create_markdown_artifact

    return timed("report", lambda: str(create_markdown_artifact(
        markdown, key="gongkai-run-report", description=f"gongkai run {run_id}")))
