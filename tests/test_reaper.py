"""flows.reaper: a helper process is stopped when the process that started it is SIGKILLed, and left
alone when that process disarms the watchdog at a clean exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from flows.reaper import main

_PARENT = """
import subprocess, sys, time
from flows.reaper import Reaper
helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
reaper = Reaper(helper.pid)
print(helper.pid, flush=True)
if sys.argv[1] == "clean":
    reaper.disarm()
    sys.exit(0)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a killed child of the (dead) parent is reaped by init; a zombie counts as gone
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait_gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def _parent(mode: str) -> tuple[subprocess.Popen, int]:
    p = subprocess.Popen([sys.executable, "-c", _PARENT, mode], stdout=subprocess.PIPE, text=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert p.stdout is not None
    return p, int(p.stdout.readline())


def test_helper_is_stopped_when_its_starter_is_sigkilled() -> None:
    parent, helper = _parent("kill")
    try:
        assert _alive(helper)
        parent.send_signal(signal.SIGKILL)  # no atexit, no finally: only the closed pipe tells
        parent.wait()
        assert _wait_gone(helper), "helper outlived its killed starter"
    finally:
        if _alive(helper):
            os.kill(helper, signal.SIGKILL)


def test_a_disarmed_watchdog_leaves_the_helper_alone() -> None:
    parent, helper = _parent("clean")
    try:
        assert parent.wait(timeout=30) == 0
        time.sleep(0.5)
        assert _alive(helper)  # disarmed: stopping helpers at a clean exit is the starter's own job
    finally:
        os.kill(helper, signal.SIGKILL)


def test_usage() -> None:
    assert main([]) == 2 and main(["x"]) == 2
