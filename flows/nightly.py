"""Prefect flows: crawl (mapped per host group of portals), extract (mapped per new or changed document),
load, export, and `nightly`, which composes them and publishes the run report. `nightly` runs the stage
bodies in its own flow run (its tasks are all in one run); each stage is also a flow of its own.

Data path (the same for both runners; only where mapped tasks execute changes):

    flow process                      workers (threads, or Dask worker processes)
    plan-crawl: seed staging   ──►    crawl-hosts: fetch → raw archive + staging/<run>/crawl/<group>/*.parquet
    merge-crawl (one writer)   ◄──
    plan-extract: cache check  ──►    extract-document: raw → staging/<run>/extract/<sha256>.parquet
    load (one writer)          ◄──
    export, run-report

Planning, merges and the load are called directly (they run in the flow's own process, the only one that
opens the warehouse); crawls and extractions are mapped onto a task runner per stage (a thread pool sized
for network or CPU work by default, a `DaskTaskRunner` with `runner="dask"`).

A failed portal or document fails its task, never the run: the nightly flow ends `Completed` (named
`Partial` when something failed) with a message that lists what failed, and its result is the summary.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, unmapped
from prefect.states import Completed, State
from prefect.task_runners import ThreadPoolTaskRunner

from flows import report, staging
from flows.tasks import (
    Timed,
    batches,
    crawl_task,
    ensure_host_limits,
    export_task,
    extract_task,
    load_task,
    merge_crawl_task,
    plan_crawl_task,
    plan_extract_task,
    report_task,
)

# fast politeness for our own demo server on 127.0.0.1 (real portals keep the 1 s default)
DEMO_FETCH = {"per_host_delay": 0.02, "backoff_base": 0.2}


@contextmanager
def without_heartbeats() -> Iterator[None]:
    """For runs on Prefect's temporary API: flow-run heartbeats exist to detect crashed runs on a lasting
    server, while here the API dies with the process; and each flow's exit waits up to 1 s for the
    heartbeat thread, which on the demo is a sizeable share of the run (5 flows)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def new_run_id() -> str:
    """Sortable (staging merges oldest first) and unique."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]


def task_runner(runner: str, address: str | None, *, cpu_bound: bool = False) -> Any:
    """The task runner of a stage (its own flow, or a stage inside nightly). Locally, crawl tasks wait on
    the network (one thread per host group), while extraction is CPU-bound Python: more threads than cores
    only add GIL contention to Prefect's per-task bookkeeping (measured on the demo: 2 threads beat 1, 4
    and 16)."""
    if runner == "dask":
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=address)
    if runner != "local":
        raise ValueError(f"unknown runner {runner!r} (local | dask)")
    return ThreadPoolTaskRunner(max_workers=max(2, min(4, os.cpu_count() or 2)) if cpu_bound else 16)


@contextmanager
def local_cluster(workers: int) -> Iterator[str]:
    """A Dask LocalCluster for one run (when no address is given); yields its scheduler address."""
    import logging

    from distributed import LocalCluster

    for name in ("distributed", "distributed.scheduler", "distributed.nanny", "distributed.worker",
                 "distributed.core", "distributed.http.proxy"):
        logging.getLogger(name).setLevel(logging.WARNING)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.WARNING, env=_worker_env()) as cluster, cluster.get_client() as client:
        client.run(_warm_worker)  # imports once per worker, as on a long-lived cluster, not in the first task
        yield cluster.scheduler_address


def _worker_env() -> dict[str, str]:
    """Environment of the local cluster's worker processes. Without an API URL a Prefect process starts
    its own temporary API server: each worker would spend seconds starting one before its first task and
    record its task runs there, beside the flow's. So workers get the flow process's temporary server."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return {}  # a real server (workers inherit PREFECT_API_URL) or none allowed
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the process's one temporary server (what get_client() uses)
    server.start()  # no-op when the flow already started it
    return {"PREFECT_API_URL": server.api_url}


def _warm_worker() -> None:
    import extract.crawl  # noqa: F401
    import flows.tasks  # noqa: F401
    import transform.pipeline  # noqa: F401


# -- portal selection (plain) ------------------------------------------------------------------------------

def select_portals(ids: list[str] | None, urls: list[str] | None, demo: bool, registry: str | None = None,
                   demo_hosts: dict[str, str] | None = None) -> list:
    """Registry rows by id, ad-hoc portals for URLs, the demo portals with --demo; with nothing named,
    every non-demo registry portal that has an entry or report URL (the nightly default)."""
    from extract.registry import adhoc_portal, load_registry

    reg = load_registry(registry)
    by_id = {p.id: p for p in reg}
    unknown = [i for i in ids or [] if i not in by_id]
    if unknown:
        raise ValueError(f"unknown portal id(s): {', '.join(unknown)}")
    portals = [by_id[i] for i in ids or []]
    portals += [adhoc_portal(u) for u in urls or []]
    if demo and not ids:  # --demo alone: every demo portal; with ids: those ids, served by the demo server
        portals += [p for p in reg if p.demo and p not in portals]
    if not (ids or urls or demo):
        portals = [p for p in reg if not p.demo and (p.entry_urls or p.report_urls)]
    if demo_hosts:
        portals = [p.resolve_demo(demo_hosts) if p.demo else p for p in portals]
    return portals


# -- stage results ---------------------------------------------------------------------------------------

@dataclass
class StageResult:
    timings: list[Timed] = field(default_factory=list)
    value: Any = None


def _failure(fut: Any) -> str | None:
    """The error of a finished task future, or None when it completed."""
    st = fut.state
    if st.is_completed():
        return None
    try:
        fut.result(raise_on_failure=True)
    except BaseException as e:  # noqa: BLE001 - reported, not handled
        return f"{type(e).__name__}: {e}"[:500]
    return st.message or st.name


def portal_results(summary: Any) -> list[report.PortalResult]:
    """extract.crawl.CrawlSummary -> PortalResults; a portal that read nothing at all is a failed portal."""
    out = []
    for ps in summary.portals.values():
        err = None
        if ps.failed and not ps.pages and not (ps.new or ps.changed or ps.unchanged):
            err = "; ".join(f"{u}: {why}" for u, why in ps.errors[:2]) or "nothing could be fetched"
        out.append(report.PortalResult(ps.portal_id, ps.pages, ps.reports, ps.new, ps.changed, ps.unchanged,
                                       ps.failed, err))
    return out


# -- the stages: plain bodies, run by their own flows or inside nightly's flow run ---------------------------

def _mapped(runner: Any, task: Any, params: dict[str, Any]) -> list:
    """Mapped runs of `task` on `runner` (a started TaskRunner), or on the current flow's task runner."""
    return task.map(**params) if runner is None else runner.map(task, params)


def crawl_stage(data_dir: str, run_id: str, portals: list, fetch: dict[str, Any] | None = None,
                host_limits: bool = True, runner: Any = None) -> StageResult:
    """Crawl portals into staging (one task per host group), then merge into the warehouse."""
    from extract.crawl import CrawlConfig
    from extract.http import FetchConfig

    plan = plan_crawl_task(data_dir, run_id, portals)
    jobs: list[staging.CrawlJob] = plan.value
    names = ensure_host_limits([h for j in jobs for h in j.hosts]) if host_limits and jobs else []
    config = CrawlConfig(fetch=FetchConfig().fast(**(fetch or {})))
    futures = _mapped(runner, crawl_task, {"job": jobs, "data_dir": unmapped(data_dir), "run_id": unmapped(run_id),
                                           "config": unmapped(config), "limit_names": unmapped(names)})
    results: list[report.PortalResult] = []
    documents: list = []
    timings = [plan]
    for job, fut in zip(jobs, futures, strict=True):
        fut.wait()
        err = _failure(fut)
        if err:
            results += [report.PortalResult(p.id, error=err) for p in job.portals]
            continue
        t = fut.result()
        timings.append(t)
        results += portal_results(t.value)
        documents += t.value.documents
    timings.append(merge_crawl_task(data_dir))
    return StageResult(timings, (results, documents))


def extract_stage(data_dir: str, run_id: str, documents: list, portal_ids: list[str], backlog: bool = True,
                  runner: Any = None) -> StageResult:
    """Extract every new or changed document (plus never-extracted backlog) into staging, in small batches per task;
    documents already extracted with the current extractor version are skipped."""
    plan_t = plan_extract_task(data_dir, documents, portal_ids, backlog)
    plan: staging.ExtractPlan = plan_t.value
    groups = batches(plan.jobs)
    futures = _mapped(runner, extract_task, {"jobs": groups, "data_dir": unmapped(data_dir),
                                             "run_id": unmapped(run_id)})
    outcomes: list[staging.ExtractOutcome] = []
    timings = [plan_t]
    for group, fut in zip(groups, futures, strict=True):
        fut.wait()
        err = _failure(fut)
        if err:
            outcomes += [staging.ExtractOutcome(j.sha256, j.url, j.portal_id, "failed", err) for j in group]
            continue
        t = fut.result()
        timings.append(t)
        outcomes += t.value
    return StageResult(timings, (plan, outcomes))


def load_stage(data_dir: str, portal_ids: list[str], registry: str | None = None) -> StageResult:
    """Merge every staged extraction into DuckDB (this process is the only writer)."""
    rows = staging.registry_rows(portal_ids, registry)
    t = load_task(data_dir, rows)
    return StageResult([t], t.value)


def export_stage(data_dir: str, to: str) -> StageResult:
    """Deterministic parquet export of the warehouse (sql.export)."""
    t = export_task(data_dir, to)
    return StageResult([t], t.value)


# Each stage is also a flow of its own, for running one stage by hand or from a deployment. `nightly` runs
# the same bodies inside its own flow run instead of as subflows: a subflow run costs ~0.4 s of API round
# trips, a sizeable share of a small run (measured on the demo: 4 subflows, ~1.6 s of a ~14 s run).

@flow(name="gongkai-crawl", validate_parameters=False)
def crawl_flow(data_dir: str, run_id: str, portals: list, fetch: dict[str, Any] | None = None,
               host_limits: bool = True) -> StageResult:
    return crawl_stage(data_dir, run_id, portals, fetch, host_limits)


@flow(name="gongkai-extract", validate_parameters=False)
def extract_flow(data_dir: str, run_id: str, documents: list, portal_ids: list[str], backlog: bool = True
                 ) -> StageResult:
    return extract_stage(data_dir, run_id, documents, portal_ids, backlog)


@flow(name="gongkai-load", validate_parameters=False)
def load_flow(data_dir: str, portal_ids: list[str], registry: str | None = None) -> StageResult:
    return load_stage(data_dir, portal_ids, registry)


@flow(name="gongkai-export", validate_parameters=False)
def export_flow(data_dir: str, to: str) -> StageResult:
    return export_stage(data_dir, to)


# -- nightly ---------------------------------------------------------------------------------------------------

@contextmanager
def _demo_hosts(needed: bool, hosts: dict[str, str] | None) -> Iterator[dict[str, str] | None]:
    """Use the given demo server hosts, or start the bundled demo server for this run."""
    if not needed or hosts:
        yield hosts
        return
    from extract.demo.server import DemoServer

    with DemoServer() as srv:
        yield srv.hosts


def _stage(s: report.RunSummary, name: str, fn: Any, *args: Any, **kwargs: Any) -> StageResult:
    """Run a stage body; its failure is recorded, never raised (later stages still run)."""
    t0 = time.time()
    try:
        res: StageResult = fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - reported in the summary
        s.stages[name] = time.time() - t0
        get_run_logger().error("%s stage failed: %s: %s", name, type(e).__name__, e)
        return StageResult(value=f"{type(e).__name__}: {e}")  # value: the error text
    s.stages[name] = time.time() - t0
    s.tasks += [report.TaskTiming(t.stage, t.start, t.end) for t in res.timings]
    return res


@flow(name="gongkai-nightly")
def nightly(data_dir: str = "data", portals: list[str] | None = None, urls: list[str] | None = None,
            demo: bool = False, registry: str | None = None, fetch: dict[str, Any] | None = None,
            runner: str = "local", dask_address: str | None = None, dask_workers: int = 2,
            export: bool = True, export_to: str | None = None, demo_hosts: dict[str, str] | None = None,
            host_limits: bool = True, backlog: bool = True) -> State:
    """crawl → extract → load → export for the named portals (all registry portals by default), then the
    run report (markdown artifact `gongkai-run-report` + the same text in the log)."""
    data = str(Path(data_dir).resolve())  # workers may run elsewhere: never a relative path
    s = report.RunSummary(new_run_id(), runner=runner + (f"@{dask_address}" if dask_address else ""),
                          data_dir=data_dir)
    log = get_run_logger()
    fetch = dict(fetch or {})
    if demo and not fetch:
        fetch = dict(DEMO_FETCH)
    with ExitStack() as stack:
        stack.enter_context(staging.run_lock(data))
        hosts = stack.enter_context(_demo_hosts(demo, demo_hosts))
        selected = select_portals(portals, urls, demo, registry, hosts)
        if runner == "dask" and not dask_address:
            dask_address = stack.enter_context(local_cluster(dask_workers))
        ids = [p.id for p in selected]

        with task_runner(runner, dask_address) as tr:
            res = _stage(s, "crawl", crawl_stage, data, s.run_id, selected, fetch, host_limits, runner=tr)
        documents: list = []
        if res is not None and isinstance(res.value, tuple):
            s.portals, documents = res.value
        else:
            s.portals = [report.PortalResult(i, error=f"crawl stage failed: {res.value if res else '?'}")
                         for i in ids]

        with task_runner(runner, dask_address, cpu_bound=True) as tr:
            res = _stage(s, "extract", extract_stage, data, s.run_id, documents, ids, backlog, runner=tr)
        if res is not None and isinstance(res.value, tuple):
            plan, outcomes = res.value
            s.extract_cached, s.extract_known_failures = plan.cached, plan.known_failed
            s.extracted = sum(o.status in ("staged", "shell") for o in outcomes)
            s.extract_shells = sum(o.status == "shell" for o in outcomes)
            s.extract_failed = [report.DocFailure(o.sha256, o.url, o.portal_id, o.error or "failed")
                                for o in outcomes if o.status == "failed"]
        elif res is not None:
            s.extract_failed = [report.DocFailure("", "", None, f"extract stage failed: {res.value}")]

        res = _stage(s, "load", load_stage, data, ids, registry)
        if res is not None and isinstance(res.value, tuple):
            merged, quality = res.value
            s.load, s.staged_files = merged.counts, merged.files
            for k, v in quality.items():
                setattr(s, k, v)
        elif res is not None:
            s.load_error = str(res.value)

        if export:
            to = export_to or str(Path(data) / "export")
            res = _stage(s, "export", export_stage, data, to)
            if res is not None and isinstance(res.value, dict):
                s.export = res.value
            elif res is not None:
                s.export_error = str(res.value)

    s.finished_at = time.time()
    md, txt = report.markdown(s), report.text(s)
    t = report_task(md, s.run_id)
    s.tasks.append(report.TaskTiming(t.stage, t.start, t.end))
    log.info("%s", txt)
    result = {"summary": s.to_dict(), "text": txt, "markdown": md}
    if s.ok:
        return Completed(message=s.state_message(), data=result)
    return Completed(name="Partial", message=s.state_message(), data=result)
