"""A watchdog that stops a helper process when the process that started it dies, however it dies.

Prefect's temporary API server (`gongkai run` without PREFECT_API_URL) is a child process stopped by an
atexit handler; a SIGKILLed run (OOM killer, a scheduler's timeout) never runs it, and the server keeps
running with no one to use it, night after night. `Reaper(pid)` starts a small watchdog that
blocks reading a pipe from this process: at a clean exit `disarm()` writes a byte and the watchdog leaves;
when this process dies the pipe closes unwritten (EOF) and the watchdog stops `pid` (SIGTERM, then
SIGKILL). No polling, nothing platform-specific beyond POSIX signals.

    python -m flows.reaper PID      (the watchdog side; reads stdin)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time


class Reaper:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        # its own session: a Ctrl-C or a group kill aimed at the run does not stop the watchdog first
        self.proc = subprocess.Popen([sys.executable, "-m", "flows.reaper", str(pid)], stdin=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, start_new_session=True)

    def disarm(self) -> None:
        """The helper was stopped cleanly (or is about to be): let the watchdog leave without a signal."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            try:
                self.proc.stdin.write(b"x")
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop(pid: int, grace: float = 5.0) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].isdigit():
        print("usage: python -m flows.reaper PID", file=sys.stderr)
        return 2
    if sys.stdin.buffer.read(1) == b"":  # EOF: the parent died without disarming
        _stop(int(args[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
