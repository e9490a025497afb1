"""`gongkai serve`: the nightly deployment on a cron schedule, served with Prefect's own `serve`.

    gongkai serve                                   # 02:00 Asia/Shanghai, every registry portal
    gongkai serve --cron "30 3 * * *" --timezone UTC --portal demo-trs-qinghe --demo

With PREFECT_API_URL set (env or active profile) the deployment is registered on that server and this
process becomes its runner. Without one, a temporary API cannot schedule anything (Prefect's temporary
server runs no scheduler service), so `serve` starts a local `prefect server start` on 127.0.0.1 with its
state under DATA_DIR/.prefect, points itself at it, and stops it on exit: the UI is then at the printed
address and the schedule survives restarts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flows.reaper import Reaper

DEFAULT_CRON = "0 2 * * *"
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_NAME = "nightly"


def build_deployment(*, name: str = DEFAULT_NAME, cron: str = DEFAULT_CRON, timezone: str = DEFAULT_TIMEZONE,
                     parameters: dict[str, Any] | None = None, paused: bool = False) -> Any:
    """The nightly flow as a deployment with one cron schedule (a RunnerDeployment for `prefect.serve`)."""
    from prefect.schedules import Cron

    from flows.nightly import nightly

    return nightly.to_deployment(
        name=name, schedules=[Cron(cron, timezone=timezone)], parameters=parameters or {}, paused=paused,
        tags=["gongkai"], description=f"crawl → extract → load → export, {cron} ({timezone})")


def serve_nightly(**kwargs: Any) -> None:
    """Register the deployment and run it on schedule until interrupted (blocks)."""
    from prefect import serve

    serve(build_deployment(**kwargs))


def _healthy(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url.rstrip("/") + "/health", timeout=2.0, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def local_server(port: int | None = None, timeout: float = 180.0) -> Iterator[str]:
    """Run `prefect server start` (with its scheduler) on 127.0.0.1 for the duration; yields the API URL.
    Prefect settings (PREFECT_HOME) must already be in the environment."""
    port = port or _free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = dict(os.environ)
    env.pop("PREFECT_API_URL", None)
    cmd = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port),
           "--analytics-off"]
    log = Path(env.get("PREFECT_HOME", ".")) / "server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as fh:
        proc = subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    reaper = Reaper(proc.pid)  # stops the server if `gongkai serve` itself is killed
    try:
        deadline = time.monotonic() + timeout
        while not _healthy(url):
            if proc.poll() is not None:
                raise RuntimeError(f"prefect server exited with {proc.returncode}; see {log}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"prefect server not healthy after {timeout:.0f}s; see {log}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reaper.disarm()
