"""Crash safety (issue 6, item 4): a real `gongkai` subprocess is SIGKILLed in the middle of each stage —
download (crawl), extraction, load, export — then the warehouse is reopened and checked, and the stage is
run again to completion without duplicates. A whole `gongkai run --demo` (Prefect) is killed once its
extraction stage is writing staging files, and run again.

Each kill waits for evidence that the stage is under way (a slow download in flight on the test's demo
server, extraction output appearing, the warehouse WAL growing, the export's temp dir appearing).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from test_reaper import _wait_gone

from extract.demo.server import DemoServer
from extract.demo.site import Fault, build_demo

BIN = Path(sys.executable).parent / "gongkai"
pytestmark = pytest.mark.slow


def _start(args: list[str], stdout: object = subprocess.DEVNULL) -> subprocess.Popen:
    # its own process group: the kill takes its children too, as a scheduler killing a job does (the
    # whole-run test kills the run process alone and checks that its watchdog stops the Prefect server)
    return subprocess.Popen([str(BIN), *args], stdout=stdout, stderr=subprocess.PIPE,  # type: ignore[arg-type]
                            env={**os.environ, "PYTHONUNBUFFERED": "0"}, start_new_session=True)


def _kill(proc: subprocess.Popen, group: bool = True) -> None:
    if group:
        os.killpg(proc.pid, signal.SIGKILL)
    else:
        proc.kill()
    proc.wait()


def _kill_when(proc: subprocess.Popen, ready: Callable[[], bool], timeout: float = 60.0, group: bool = True) -> bool:
    """SIGKILL `proc` (its process group unless `group=False`) as soon as `ready()`; False if it exited first."""
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        if proc.poll() is not None:
            return False
        if ready():
            _kill(proc, group)
            return True
        time.sleep(0.002)
    _kill(proc)
    raise AssertionError("stage never reached")


def _children(pid: int, needle: str) -> list[int]:
    """PIDs of `pid`'s child processes whose command line contains `needle` (Linux /proc)."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid and needle in cmd:
            out.append(int(d.name))
    return out


def _run(args: list[str], **kw: object) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=120, **kw)  # type: ignore[call-overload]


def _db(data: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(data / "gongkai.duckdb"), read_only=True)


def _warehouse_consistent(data: Path) -> dict[str, int]:
    """No half-written report (n_cells = stored cells), no orphans, unique keys; returns row counts."""
    con = _db(data)
    try:
        q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
        assert q("""SELECT count(*) FROM reports r LEFT JOIN (SELECT report_id, count(*) n FROM cells
                    GROUP BY report_id) c USING (report_id) WHERE coalesce(c.n, 0) <> r.n_cells""")[0][0] == 0
        for t in ("cells", "checks", "narrative"):
            assert q(f"SELECT count(*) FROM {t} WHERE report_id NOT IN (SELECT report_id FROM reports)")[0][0] == 0
        assert q("""SELECT count(*) FROM (SELECT report_id, table_key, row_key, col_key FROM cells
                    GROUP BY ALL HAVING count(*) > 1)""")[0][0] == 0
        assert q("SELECT count(*) - count(DISTINCT sha256) FROM reports")[0][0] == 0
        assert q("""SELECT count(*) FROM (SELECT unit_key, year FROM reports WHERE is_current AND year IS NOT NULL
                    GROUP BY ALL HAVING count(*) > 1)""")[0][0] == 0
        return {t: q(f"SELECT count(*) FROM {t}")[0][0] for t in ("reports", "cells", "checks", "narrative")}
    finally:
        con.close()


# -- download ------------------------------------------------------------------------------------------------

def _manifest_consistent(data: Path) -> list[tuple[str, str]]:
    con = _db(data)
    try:
        rows = con.execute("SELECT url, sha256 FROM documents").fetchall()
        assert len(rows) == len(set(rows))
        state = con.execute("SELECT count(*), count(DISTINCT url) FROM crawl_state").fetchall()[0]
        assert state[0] == state[1]
        ok = con.execute("SELECT url, sha256 FROM crawl_state WHERE status = 'ok'").fetchall()
    finally:
        con.close()
    for _url, sha in rows + ok:  # every manifest/state row points at a complete raw object
        p = data / "raw" / sha[:2] / sha[2:4] / sha
        assert p.exists() and hashlib.sha256(p.read_bytes()).hexdigest() == sha
    return rows


def test_kill_during_download(tmp_path: Path) -> None:
    world = build_demo()
    site = world.sites["generic"]
    slow = [p for p in site.resources if p.endswith((".pdf", ".docx"))]
    assert slow
    faults = {p: Fault("drip", delay=0.25, times=None) for p in slow}
    site.faults.update(faults)
    data = tmp_path / "data"
    with DemoServer(world) as srv:
        url = srv.url("generic", "/news/list.php?cat=gknb")
        args = ["crawl", "--url", url, "--data-dir", str(data), "--no-progress", "--delay", "0.002"]
        proc = _start(args)
        hit = _kill_when(proc, lambda: any(f.used for f in faults.values()) and (data / "raw").exists())
        assert hit, proc.stderr.read().decode() if proc.stderr else ""
        before = _manifest_consistent(data)
        assert not any(u.endswith((".pdf", ".docx")) for u, _ in before)  # the slow body was not kept
        site.faults.clear()
        r = _run(args)
        assert r.returncode in (0, 1), r.stderr
        after = _manifest_consistent(data)
    got = {u for u, _ in after}
    assert {u for u, _ in before} <= got
    assert sum(u.endswith((".pdf", ".docx")) for u in got) == len([p for p in slow if "EVIL" not in p])
    con = _db(data)
    try:  # one state row per URL, all attachments done
        assert con.execute("SELECT count(*) FROM crawl_state WHERE status = 'pending'").fetchall()[0][0] == 0
    finally:
        con.close()


# -- extraction, load, export ----------------------------------------------------------------------------------

def _docs(folder: Path, n: int) -> list[Path]:
    from extract.demo.render import random_truth, render

    folder.mkdir(parents=True, exist_ok=True)
    units = [("苏店镇", "苏店镇人民政府"), ("城关镇", "城关镇人民政府"), ("太平乡", "太平乡人民政府"),
             ("安乐镇", "安乐镇人民政府"), ("龙口镇", "龙口镇人民政府")]
    out = []
    for i in range(n):
        unit, title = units[i % len(units)]
        t = random_truth(random.Random(i), unit=unit, unit_title=title, year=2021 + i // len(units),
                         template="gov2021", zero_share=0.4)
        fmt, ext = (("tab", "txt"), ("html_spans", "html"), ("docx", "docx"))[i % 3]
        p = folder / f"r{i:03d}.{ext}"
        p.write_bytes(render(t, fmt))
        out.append(p)
    return out


def _jsonl_docs(path: Path) -> dict[str, int]:
    """Records per document (sha256) in complete lines of a JSONL file."""
    counts: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        counts[r["sha256"]] = counts.get(r["sha256"], 0) + 1
    return counts


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A folder of 15 report documents and their full `gongkai extract` output."""
    base = tmp_path_factory.mktemp("docs")
    _docs(base / "in", 15)
    full = base / "full.jsonl"
    with open(full, "wb") as fh:
        r = subprocess.run([str(BIN), "extract", "--quiet", str(base / "in")], stdout=fh, stderr=subprocess.PIPE,
                           timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    return base / "in", full


def test_kill_during_extraction(tmp_path: Path, extracted: tuple[Path, Path]) -> None:
    """`gongkai extract DIR > out.jsonl` killed mid-stream, then its partial output loaded: the load must not
    crash on the cut line, and the warehouse must hold no half-extracted report; the re-run completes."""
    folder, full = extracted
    data = tmp_path / "data"
    part = tmp_path / "part.jsonl"
    complete, full_cells = _jsonl_docs(full), _jsonl_kind_counts(full)
    for _attempt in range(5):  # stdout is block-buffered: the kill leaves a document cut in the middle
        with open(part, "wb") as fh:
            proc = _start(["extract", "--quiet", str(folder)], stdout=fh)
            assert _kill_when(proc, lambda: part.stat().st_size > 0)
        partial = _jsonl_docs(part)
        if any(n != complete[sha] for sha, n in partial.items()):
            break
    else:
        # one write per document makes a cut rare: cut the full output inside a document ourselves
        raw = full.read_bytes()
        part.write_bytes(raw[: len(raw) * 2 // 3])
        partial = _jsonl_docs(part)
    assert len(partial) < len(complete)
    r = _run(["load", str(part), "--data-dir", str(data)])
    assert "Traceback" not in r.stderr, r.stderr[-1500:]  # a cut last line is not a crash
    # whatever was loaded is consistent, and no report is missing cells its document has
    if (data / "gongkai.duckdb").exists():
        _warehouse_consistent(data)
        con = _db(data)
        try:
            loaded = dict(con.execute("SELECT sha256, n_cells FROM reports").fetchall())
        finally:
            con.close()
        for sha, n in loaded.items():
            assert n == full_cells.get(sha, 0), f"half-extracted report {sha[:12]} loaded: {n} cells"
    r = _run(["load", str(full), "--data-dir", str(data)])
    assert r.returncode == 0, r.stderr
    counts = _warehouse_consistent(data)
    assert counts["reports"] == len(complete)


def test_rerun_after_killed_extraction_completes(tmp_path: Path, extracted: tuple[Path, Path]) -> None:
    """Whatever a killed extraction loaded, extracting and loading again converges: every report complete,
    no duplicates (the half report is updated in place: identity is the document's sha256)."""
    folder, full = extracted
    data = tmp_path / "data"
    part = tmp_path / "part.jsonl"
    with open(part, "wb") as fh:
        proc = _start(["extract", "--quiet", str(folder)], stdout=fh)
        assert _kill_when(proc, lambda: part.stat().st_size > 0)
    lines = part.read_bytes().split(b"\n")
    part.write_bytes(b"\n".join(lines[:-1]) + b"\n")  # drop the cut line (it is the load's other gap)
    assert _run(["load", str(part), "--data-dir", str(data)]).returncode in (0, 1)  # 1: a cut document skipped
    assert _run(["load", str(full), "--data-dir", str(data)]).returncode == 0
    counts = _warehouse_consistent(data)
    full_cells = _jsonl_kind_counts(full)
    assert counts["reports"] == len(full_cells) and counts["cells"] == sum(full_cells.values())


def _jsonl_kind_counts(path: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        if r.get("kind") == "cell":
            out[r["sha256"]] = out.get(r["sha256"], 0) + 1
    return out


def _big_jsonl(full: Path, dest: Path, copies: int) -> int:
    """`copies` distinct documents: the real ones with sha256/source renamed per copy."""
    lines = full.read_text(encoding="utf-8").splitlines()
    docs: set[str] = set()
    with open(dest, "w", encoding="utf-8") as out:
        for k in range(copies):
            for line in lines:
                r = json.loads(line)
                r["sha256"] = hashlib.sha256(f"{k}:{r['sha256']}".encode()).hexdigest()
                r["source"] = f"{r['source']}#copy{k}"
                docs.add(r["sha256"])
                out.write(json.dumps(r, ensure_ascii=False) + "\n")
    return len(docs)


def test_kill_during_load(tmp_path: Path, extracted: tuple[Path, Path]) -> None:
    _, full = extracted
    big = tmp_path / "big.jsonl"
    n_docs = _big_jsonl(full, big, 20)
    data = tmp_path / "data"
    wal = data / "gongkai.duckdb.wal"
    args = ["load", str(big), "--data-dir", str(data), "--batch-size", "10"]
    for _attempt in range(3):
        proc = _start(args)
        if _kill_when(proc, lambda: wal.exists() and wal.stat().st_size > 256 * 1024):
            break
    else:
        pytest.fail("load finished before it could be killed")
    mid = _warehouse_consistent(data)
    assert mid["reports"] < n_docs
    r = _run(args)
    assert r.returncode == 0, r.stderr
    done = _warehouse_consistent(data)
    assert done["reports"] == n_docs
    r = _run(args)  # a third run changes nothing
    assert "no change" in r.stdout and _warehouse_consistent(data) == done


def _export_intact(to: Path) -> dict:
    manifest = json.loads((to / "manifest.json").read_text())
    for f in manifest["files"]:
        assert hashlib.sha256((to / f["path"]).read_bytes()).hexdigest() == f["sha256"], f["path"]
    return manifest


def test_kill_during_export(tmp_path: Path, extracted: tuple[Path, Path]) -> None:
    _, full = extracted
    big = tmp_path / "big.jsonl"
    _big_jsonl(full, big, 40)
    data = tmp_path / "data"
    assert _run(["load", str(big), "--data-dir", str(data)]).returncode == 0
    to = tmp_path / "export"
    r = _run(["export", "--to", str(to), "--data-dir", str(data)])
    assert r.returncode == 0, r.stderr
    first = _export_intact(to)
    hit = False
    for _attempt in range(5):
        proc = _start(["export", "--to", str(to), "--data-dir", str(data)])
        if _kill_when(proc, lambda: any(tmp_path.glob(".export.tmp-*/cells"))):
            hit = True
            break
    assert hit, "export finished before it could be killed"
    assert _export_intact(to) == first  # the previous export is untouched
    _warehouse_consistent(data)
    r = _run(["export", "--to", str(to), "--data-dir", str(data)])
    assert r.returncode == 0, r.stderr
    assert _export_intact(to) == first  # deterministic, complete
    assert not list(tmp_path.glob(".export.tmp-*")) and not list(tmp_path.glob(".export.old-*"))


# -- the whole pipeline -------------------------------------------------------------------------------------

@pytest.mark.flow
def test_kill_whole_run_then_rerun_loads_every_report_once(tmp_path: Path) -> None:
    """`gongkai run --demo` SIGKILLed while its extraction stage writes staging files (the crawl has been
    merged, nothing is loaded yet), then run again: the second run finishes the job, every demo report is
    in the warehouse once with its known numbers, and nothing is half-written."""
    from extract.demo.site import demo_truths

    data = tmp_path / "data"
    args = ["run", "--demo", "--data-dir", str(data)]
    proc = _start(args)
    servers: list[int] = []

    def extracting() -> bool:
        if any((data / "staging").glob("*/extract/*.parquet")):
            servers.extend(_children(proc.pid, "uvicorn"))  # the run's temporary Prefect API server
            return True
        return False
    # the run process alone, as the OOM killer would: its watchdog must stop the temporary server
    hit = _kill_when(proc, extracting, timeout=240, group=False)
    assert hit, proc.stderr.read().decode() if proc.stderr else ""
    try:
        assert len(servers) == 1 and _wait_gone(servers[0], 20.0), f"temporary Prefect server {servers} outlived the run"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # whatever else is left of the group
    r = subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=400)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    counts = _warehouse_consistent(data)
    truth = {t.url: (t.year, t.truth.cells[("s3_applications", "new_requests", "total")]) for t in demo_truths()}
    assert counts["reports"] == len(truth) == 75
    con = _db(data)
    try:
        got = {u: (y, n) for u, y, n in con.execute(
            "SELECT source_url, year, applications_received FROM v_unit_year").fetchall()}
    finally:
        con.close()
    assert got == truth
