"""A `gongkai crawl` subprocess killed halfway resumes: no document fetched twice, none lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from extract.demo.server import DemoServer
from extract.demo.site import Fault, build_demo


def _registry(tmp: Path, host: str) -> Path:
    p = tmp / "portals.toml"
    p.write_text(f'''[[portal]]
id = "resume-trs"
unit = "青禾县人民政府"
level = "county"
family = "trs"
entry_urls = ["http://{host}/zwgk/zfxxgknb/index.html"]
allowed_hosts = ["{host}"]
units = ["青禾县"]
allow_private = true
''', encoding="utf-8")
    return p


def _run(reg: Path, data: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "flows.cli", "crawl", "--registry", str(reg), "--portal", "resume-trs",
           "--data-dir", str(data), "--delay", "0.01", "--no-progress"]
    return subprocess.Popen(cmd, cwd=Path(__file__).resolve().parents[1], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def test_killed_crawl_resumes(tmp_path: Path) -> None:
    world = build_demo(faults=False)
    site = world.sites["trs"]
    reports = [i for i in site.items if i.kind == "report"]
    hang = Fault("slow", delay=60, times=1)  # the request we kill the crawler in
    site.faults[reports[14].path] = hang
    expected = {t.url.split("}", 1)[1] for t in world.truths if t.portal_id == "demo-trs-qinghe"}
    expected |= {i.path for i in reports}
    with DemoServer(world) as srv:
        reg, data = _registry(tmp_path, srv.hosts["trs"]), tmp_path / "data"
        proc = _run(reg, data)
        deadline = time.monotonic() + 30
        while hang.used == 0 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert hang.used == 1, proc.communicate()
        time.sleep(0.5)  # let the responses already received be committed
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        first = [r for r in srv.requests() if r.status == 200]
        done_first = {r.path for r in first if "zfxxgknb/2" in r.path and r.path.endswith(".html")}
        assert 5 <= len(done_first) < len(reports)  # really killed halfway

        proc = _run(reg, data)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
        ok = [r for r in srv.requests() if r.status == 200]
        docs = [r.path.split("?")[0] for r in ok if "/index" not in r.path and "robots" not in r.path]
        assert len(docs) == len(set(docs)), sorted(p for p in docs if docs.count(p) > 1)  # none twice
        assert set(docs) == expected  # none lost
    con = duckdb.connect(str(data / "gongkai.duckdb"), read_only=True)
    bad = con.execute("SELECT url, status FROM crawl_state WHERE kind <> 'list' AND status NOT IN ('ok', 'broken')").fetchall()
    n = con.execute("SELECT count(DISTINCT url) FROM documents WHERE kind IN ('article', 'attachment')").fetchone()
    con.close()
    assert bad == [] and n == (len(expected),)
