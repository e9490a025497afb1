"""End-to-end pipeline benchmark on the demo portals, through the Prefect flows.

    .venv/bin/python bench/pipeline.py [--workers 2] [--skip-dask] [--json bench/out/pipeline.json]

Scenarios (each on a fresh demo server, so each sees the same transient faults):
  local        a fresh data dir, thread-pool task runner (what `gongkai demo` does)
  incremental  the same data dir again: nothing new, nothing re-extracted
  dask         a fresh data dir on a Dask LocalCluster of --workers workers (started before timing)
Per scenario: the flow's wall time (nightly body, start to end) split by stage, documents/s, and the
orchestration overhead = share of the wall time not covered by any task body (target < 20% on the
demo). The demo server runs in a child process with every document pre-rendered, as a remote server
would be, so the figures measure the pipeline, not the generation of the demo PDFs.
The one-off start of Prefect's temporary API is reported separately (a real server has none).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _serve(conn) -> None:  # child process: demo server with warm caches
    from extract.demo.server import DemoServer

    srv = DemoServer()
    for site in srv.sites.values():
        for res in list(site.resources.values()):
            res.data()
    with srv:
        conn.send(srv.hosts)
        conn.recv()  # until told to stop


@contextmanager
def demo_server():
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    p = ctx.Process(target=_serve, args=(child,), daemon=True)
    p.start()
    try:
        if not parent.poll(300):
            raise TimeoutError("demo server did not start")
        yield parent.recv()
    finally:
        try:
            parent.send("stop")
        except OSError:
            pass
        p.join(10)
        if p.is_alive():
            p.terminate()


def run(data_dir: Path, hosts: dict, runner: str = "local", address: str | None = None) -> dict:
    from flows.nightly import DEMO_FETCH, nightly

    t0 = time.time()
    state = nightly(data_dir=str(data_dir), demo=True, demo_hosts=hosts, fetch=dict(DEMO_FETCH), runner=runner,
                    dask_address=address, export=True, host_limits=False, return_state=True)
    call = time.time() - t0
    res = state.result()
    s = res["summary"]
    s["call_seconds"] = call
    return s


def figures(name: str, s: dict) -> dict:
    from flows.report import TaskTiming, covered

    tasks = [TaskTiming(**t) for t in s["tasks"]]
    wall = s["elapsed"]
    docs = sum(p["new"] + p["changed"] for p in s["portals"])
    out = {"scenario": name, "runner": s["runner"], "wall": wall, "call": s["call_seconds"], "documents": docs, "extracted": s["extracted"],
           "reports_loaded": s["load"].get("reports_inserted", 0) + s["load"].get("reports_updated", 0),
           "docs_per_s": docs / wall if wall else 0.0, "overhead": s["overhead"], "ok": s["ok"],
           "started_at": s["started_at"], "tasks": s["tasks"]}  # the timeline, for a look at the gaps
    for stage, secs in s["stages"].items():
        body = covered([t for t in tasks if t.stage == stage])
        out[f"{stage}_s"] = secs
        out[f"{stage}_body_s"] = body
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "out" / "pipeline.json")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="gongkai-bench-"))
    os.environ["PREFECT_HOME"] = str(work / "prefect")
    (work / "prefect").mkdir()
    from flows.cmd_run import prefect_env

    prefect_env(work)  # temporary API, quiet logs; must precede the first Prefect import
    from flows.nightly import local_cluster, without_heartbeats

    rows = []
    try:
        with without_heartbeats():
            t0 = time.time()
            from prefect import flow

            @flow
            def warm() -> int:  # starts the temporary API once, outside every scenario's timing
                return 1

            warm()
            startup = time.time() - t0
            print(f"Prefect temporary API start + first flow: {startup:.1f}s (once per process; none on a "
                  "real server)", flush=True)
            with demo_server() as hosts:
                rows.append(figures("local", run(work / "local", hosts)))
            with demo_server() as hosts:
                rows.append(figures("incremental", run(work / "local", hosts)))
            if not args.skip_dask:
                with local_cluster(args.workers) as address, demo_server() as hosts:
                    rows.append(figures(f"dask x{args.workers}", run(work / "dask", hosts, "dask", address)))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    head = (f"{'scenario':<12} {'wall s':>7} {'crawl':>13} {'extract':>13} {'load':>11} {'export':>11} "
            f"{'docs':>5} {'docs/s':>7} {'overhead':>9}")
    print("\n" + head + "\n" + "-" * len(head))
    def st(r: dict, k: str) -> str:
        return f"{r.get(k + '_s', 0):5.1f} ({r.get(k + '_body_s', 0):4.1f})"

    for r in rows:
        print(f"{r['scenario']:<12} {r['wall']:7.1f} {st(r, 'crawl'):>13} {st(r, 'extract'):>13} {st(r, 'load'):>11} "
              f"{st(r, 'export'):>11} {r['documents']:5d} {r['docs_per_s']:7.2f} {r['overhead']:9.0%}")
    print("stage columns: wall s (task-body s); overhead = share of wall time outside every task body; "
          "target < 20% on the demo")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"startup_s": startup, "rows": rows}, indent=1), encoding="utf-8")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
